"""Run: put the stages together for cases, interpreters and engines, and report.

- `pipeline`       the one observe-and-judge pipeline (the flat reference, then each venv)
- `runner`         cases x interpreters x engines in a process pool, results
- `report`         text, JSON, JUnit and markdown reports of results
- `newcase`        draft a case from what a wheel set does
- `pytest_plugin`  fixtures for engine authors' own tests
"""
