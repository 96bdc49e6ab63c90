"""After the e2e tests: `harness cache verify` over the configured cache.

Every e2e test builds real venvs over the shared install trees and runs their interpreters, so a
session that ran any e2e test ends by proving none of that wrote into a tree or a cached wheel:
every tree re-hashed against its RECORD and its bytecode manifests, every wheel file against its
sha256 (`harness.supply.treeverify`). A difference fails the session (exit status 1) and is listed in
the terminal summary.

It lives here, not in tests/e2e/, because the pytest-xdist controller never collects and so
never loads a conftest below the paths it was given; this one is loaded in every process. The
check runs once, in the controller (a worker has `workerinput`), after every worker has finished,
and only when an e2e test ran: the controller sees each worker's reports through
`pytest_runtest_logreport`.
"""

from __future__ import annotations

import pytest

_STATE: dict[str, object] = {"e2e_ran": False, "report": None}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.nodeid.replace("\\", "/").startswith("tests/e2e/"):
        _STATE["e2e_ran"] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not _STATE["e2e_ran"]:
        return
    from harness import config
    from harness.supply.treeverify import verify_trees

    report = verify_trees(config.trees_dir(), config.cache_dir())
    _STATE["report"] = report
    if not report.ok and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    report = _STATE["report"]
    if report is None:
        return
    terminalreporter.section("harness cache verify")
    for difference in report.differences:  # type: ignore[attr-defined]
        terminalreporter.write_line(difference.render())
    verdict = (
        "everything matches"
        if report.ok  # type: ignore[attr-defined]
        else f"{len(report.differences)} difference(s): something wrote into the cache"  # type: ignore[attr-defined]
    )
    terminalreporter.write_line(
        f"{report.trees} tree(s), {report.wheels} wheel file(s) under "  # type: ignore[attr-defined]
        f"{report.trees_root}: {verdict}"  # type: ignore[attr-defined]
    )
