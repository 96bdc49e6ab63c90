"""venv-merge-harness: prove a venv merge engine right with real wheels and real interpreters."""

__version__ = "0.1.0"
