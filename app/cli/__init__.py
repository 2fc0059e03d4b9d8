"""The `familiar` command: serve, worker, import, scan, validate, migrate, accounts.

Exit codes (every command): 0 done; 1 the request could not be carried out (a name that
exists already, a project or user not found); 2 bad input or usage: a one-line error that
names the file, line and field where it can, never a traceback.
"""

from __future__ import annotations

from app.cli import (  # noqa: F401 - each registers its commands
    accounts,
    headless,
    lab,
    lab_costs,
    lab_full_set,
    serve,
)
from app.cli.core import EXIT_BAD_INPUT, EXIT_FAILED, _fail, _migrate, _prepare, cli
from app.cli.serve import _stop_workers, _worker_cmd

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "_fail",
    "_migrate",
    "_prepare",
    "_stop_workers",
    "_worker_cmd",
    "cli",
    "main",
]


def main() -> None:
    cli()
