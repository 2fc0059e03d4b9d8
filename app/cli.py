"""The `familiar` command: serve, worker, import, scan, migrate.

Exit codes (every command): 0 done; 1 the request could not be carried out (a name that
exists already, a project or user not found); 2 bad input or usage: a one-line error that
names the file, line and field where it can, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

cli = typer.Typer(
    help="Familiar: which response strategy will your model learn best from? "
    "Exit codes: 0 done, 1 could not be carried out, 2 bad input (file, line, field).",
    pretty_exceptions_enable=False,
)


def _fail(exc: Exception, code: int) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code)


def _prepare() -> None:
    """Data folder and migrations: every command that touches the database starts here."""
    from app.db import get_engine
    from app.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(get_engine())


def _worker_cmd(queues: str, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app:celery", "worker",
        "-Q", queues, "-c", str(concurrency), "-P", "solo" if concurrency == 1 else "threads",
        "--loglevel", "INFO", "-n", f"{queues.replace(',', '-')}@%h",
    ]  # fmt: skip


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORT)")] = None,
    workers: Annotated[
        bool, typer.Option(help="Start embedded workers (default: when REDIS_URL is unset)")
    ] = True,
) -> None:
    """Run the web app; in the embedded default also the job workers."""
    import uvicorn

    from app.db import session_scope
    from app.security.modes import check_serve_host
    from app.services.demo import ensure_demo_project
    from app.services.jobs import requeue_dead

    settings = get_settings()
    check_serve_host(host or settings.host)  # no password-less single mode off loopback
    _prepare()
    if settings.demo:
        with session_scope() as session:
            ensure_demo_project(session)
    procs: list[subprocess.Popen[bytes]] = []
    if workers and settings.embedded_broker:
        # The only workers of the embedded broker are ours: jobs left "running" by the last
        # run are dead, and the new workers resume them (from the score cache) on start.
        with session_scope() as session:
            requeue_dead(session, stale_after_s=0)
        # One model job at a time (gpu queue), light jobs beside it (cpu queue).
        procs = [subprocess.Popen(_worker_cmd(q, 1)) for q in ("gpu", "cpu")]
    try:
        uvicorn.run(
            "app.main:create_app", factory=True, host=host or settings.host,
            port=port or settings.port, log_level="info",
        )  # fmt: skip
    finally:
        _stop_workers(procs)


def _stop_workers(procs: list[subprocess.Popen[bytes]], grace_s: float = 10.0) -> None:
    """Ask the embedded workers to stop; kill those still busy after the grace period.

    A job cut off this way is resumed from the score cache on the next start.
    """
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@cli.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues")] = "cpu,gpu",
    concurrency: Annotated[int, typer.Option(help="Parallel jobs (1 for a GPU worker)")] = 1,
) -> None:
    """Run a Celery worker (with REDIS_URL for a real broker)."""
    _prepare()
    os.execv(sys.executable, _worker_cmd(queues, concurrency))


@cli.command("import")
def import_files(
    project: Annotated[str, typer.Argument(help="Project id or exact name")],
    files: Annotated[list[Path], typer.Argument(help="Strategy files", exists=True)],
    strategy: Annotated[str | None, typer.Option(help="Strategy name (single file)")] = None,
    replace: Annotated[bool, typer.Option(help="Replace strategies of the same name")] = False,
) -> None:
    """Import strategy files into a project (all or nothing)."""
    from app.db import session_scope
    from app.ingest.records import UploadError
    from app.services.errors import BadInput, Conflict, NotFound
    from app.services.projects import find_project
    from app.services.uploads import ingest_files

    _prepare()
    try:
        with session_scope() as session:
            project_id = find_project(session, ref=project).id
            result = ingest_files(
                session, project_id=project_id,
                files=[(f.name, f.read_bytes()) for f in files],
                strategy_name=strategy, replace=replace,
            )  # fmt: skip
    except (UploadError, BadInput) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc
    except (Conflict, NotFound) as exc:
        raise _fail(exc, EXIT_FAILED) from exc
    for s in result.strategies:
        typer.echo(f"{s.name}: {s.n_responses} responses ({s.n_new_questions} new questions)")


@cli.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Administrator (default: first user)")
    ] = None,
) -> None:
    """Create an account (for AUTH=accounts); the password is stored as an Argon2 hash."""
    from app.db import session_scope
    from app.security.accounts import count_users
    from app.security.accounts import create_user as make_user
    from app.services.errors import BadInput, Conflict

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _prepare()
    try:
        with session_scope() as session:
            is_admin = admin if admin is not None else count_users(session) == 0
            user = make_user(session, username=username, password=password, is_admin=is_admin)
    except BadInput as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc
    except Conflict as exc:
        raise _fail(exc, EXIT_FAILED) from exc
    typer.echo(f"created user '{user.username}'{' (admin)' if user.is_admin else ''}")


@cli.command("create-token")
def create_token(
    username: Annotated[str, typer.Argument(help="The account the token acts as")],
    label: Annotated[str, typer.Option(help="A note: what the token is for")] = "",
) -> None:
    """Print a new personal API token (`Authorization: Bearer ...`); it is shown only once."""
    from app.db import session_scope
    from app.security.accounts import create_api_token
    from app.services.errors import NotFound

    _prepare()
    try:
        with session_scope() as session:
            token = create_api_token(session, username=username, label=label)
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from exc
    typer.echo(token)


@cli.command()
def scan(
    files: Annotated[list[Path], typer.Argument(help="One file per strategy", exists=True)],
    out: Annotated[Path, typer.Option(help="Where to write results.json")],
    model: Annotated[str | None, typer.Option(help="Target model (default DEFAULT_MODEL)")] = None,
    metrics: Annotated[str, typer.Option(help="Comma-separated: ppl,sppl,ifd")] = "ppl,sppl,ifd",
    sample: Annotated[int, typer.Option(help="Questions scored, the same for all")] = 50,
    examples: Annotated[int, typer.Option(help="SPPL style examples (1-5)")] = 3,
    pool: Annotated[
        int, typer.Option(help="Questions the target answers itself (capped by what exists)")
    ] = 500,
    dtype: Annotated[str, typer.Option(help="auto, bfloat16 or float32")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the sample and bootstrap")] = 0,
    template: Annotated[str, typer.Option(help="chat or inst")] = "chat",
    max_new_tokens: Annotated[int, typer.Option(help="Longest own answer")] = 320,
) -> None:
    """Headless familiarity scan of strategy files; writes results.json."""
    from app.ingest.records import UploadError
    from workers.modeling import ModelLoadError
    from workers.modeling.threads import configure_torch_threads
    from workers.scan_cli import scan_files
    from workers.scoring.spec import ScanInputError

    settings = get_settings()
    configure_torch_threads()
    try:
        scan_files(
            list(files), model=model or settings.default_model,
            metrics=[m.strip() for m in metrics.split(",") if m.strip()], sample=sample,
            examples=examples, pool=pool, dtype=dtype, seed=seed, template=template, out=out,
            cache_dir=settings.data_dir, max_new_tokens=max_new_tokens,
        )  # fmt: skip
    except (ScanInputError, ModelLoadError, UploadError) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc


@cli.command()
def migrate() -> None:
    """Apply database migrations."""
    _prepare()
    typer.echo("database is up to date")


def main() -> None:
    cli()
