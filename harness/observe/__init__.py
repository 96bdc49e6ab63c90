"""Observe: reduce a venv, built by anything, to plain values (checks.md §4).

- `venv`         observe_venv: the concrete view, the probe, sys.path, metadata, scripts,
                 bytecode and resolved conflicts of one venv, and the wheels' facts (`Facts`)
- `observation`  what observing records (`Observation` and its parts), plain data
- `ownership`    who owns a file or directory, by RECORD content
- `concrete`     what a static tool walking site-packages sees
- `runtime`      the host side of the probe; `probe` runs inside the target interpreter
"""
