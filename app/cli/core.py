"""The `familiar` command's app and what every command shares (exit codes, migrations).

Exit codes (every command): 0 done; 1 the request could not be carried out (a name that
exists already, a project or user not found); 2 bad input or usage: a one-line error that
names the file, line and field where it can, never a traceback.
"""

from __future__ import annotations

import typer

from app.config import get_settings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
STARTUP_RETRY_S = 2.0

cli = typer.Typer(
    help="Familiar: which response strategy will your model learn best from? "
    "Exit codes: 0 done, 1 could not be carried out, 2 bad input (file, line, field).",
    pretty_exceptions_enable=False,
)


def _fail(exc: Exception | str, code: int) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code)


def _migrate() -> None:
    from app.db import get_engine
    from app.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(get_engine())


def check_artifact_root() -> None:
    """ARTIFACT_ROOT names a store this process can open (a known URL scheme, its library
    installed), or the command ends with one line naming it (exit 2)."""
    from app.artifacts import ArtifactError, artifact_store

    try:
        artifact_store()
    except ArtifactError as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None


def _prepare() -> None:
    """Data folder and migrations: every command that touches the database starts here.
    A database that does not answer ends the command with one line (exit 1)."""
    from app.dbhealth import DATABASE_DOWN, describe

    check_artifact_root()
    try:
        _migrate()
    except DATABASE_DOWN as exc:
        raise _fail(describe(exc), EXIT_FAILED) from None
