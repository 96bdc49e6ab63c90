"""Errors the harness reports to users.

Every user-facing failure is a `HarnessError`: one paragraph that names the thing that is wrong,
the expected and the actual value where there are such, and maps to exit status 2 in the CLI.
"""

from __future__ import annotations


class HarnessError(Exception):
    """A clear, user-facing error (bad input, configuration, network). CLI exit status 2."""

    exit_status = 2


class CaseFileError(HarnessError):
    """A `case.toml` that cannot be parsed or does not validate."""


class IndexError_(HarnessError):
    """The package index could not answer (network, HTTP status, missing file)."""


class IntegrityError(HarnessError):
    """A downloaded or cached file whose sha256 or size is not the pinned one."""


class OfflineError(HarnessError):
    """Offline mode was asked for and some files are not in the cache."""


class WheelError(HarnessError):
    """A wheel that is corrupt, hostile or disagrees with its own RECORD."""


class InterpreterError(HarnessError):
    """An interpreter that cannot be found or queried."""


class PlanError(HarnessError):
    """A hard planning error that no collision policy downgrades."""


class PolicyError(HarnessError):
    """The `error` collision policy met a recorded collision."""


class MaterializeError(HarnessError):
    """The venv could not be written as planned."""
