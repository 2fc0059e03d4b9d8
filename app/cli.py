"""The `familiar` command: serve, worker, import, scan, validate, migrate.

Exit codes (every command): 0 done; 1 the request could not be carried out (a name that
exists already, a project or user not found); 2 bad input or usage: a one-line error that
names the file, line and field where it can, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

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


def _prepare() -> None:
    """Data folder and migrations: every command that touches the database starts here.
    A database that does not answer ends the command with one line (exit 1)."""
    from app.dbhealth import DATABASE_DOWN, describe

    try:
        _migrate()
    except DATABASE_DOWN as exc:
        raise _fail(describe(exc), EXIT_FAILED) from None


def _worker_cmd(queues: str, concurrency: int) -> list[str]:
    """The Celery worker command for logical queues ("cpu,gpu"), with QUEUE_PREFIX."""
    from app.queue import queue_name

    names = ",".join(queue_name(q.strip()) for q in queues.split(",") if q.strip())
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app:celery", "worker",
        "-Q", names, "-c", str(concurrency), "-P", "solo" if concurrency == 1 else "threads",
        "--loglevel", "INFO", "-n", f"{queues.replace(',', '-')}.{os.getpid()}@%h",
    ]  # fmt: skip


def _die_with_parent() -> None:
    """In a worker child: get SIGKILL when `familiar serve` dies, however it dies."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _start_workers() -> list[subprocess.Popen[bytes]]:
    """One model job at a time (gpu queue), light jobs beside it (cpu queue)."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return [subprocess.Popen(_worker_cmd(q, 1), preexec_fn=preexec) for q in ("gpu", "cpu")]


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORT)")] = None,
    workers: Annotated[
        bool, typer.Option(help="Start embedded workers (default: when REDIS_URL is unset)")
    ] = True,
) -> None:
    """Run the web app; in the embedded default also the job workers.

    SIGTERM and SIGINT stop the web app and then the workers (a busy worker is killed after
    a grace period; its job resumes on the next start).
    """
    import signal

    import uvicorn

    from app import dbhealth
    from app.security.modes import check_serve_host

    settings = get_settings()
    check_serve_host(host or settings.host)  # no password-less single mode off loopback
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs += _start_up(workers)
    except dbhealth.DATABASE_DOWN as exc:
        # One line, then serve 503 (health check included) until the database answers.
        typer.echo(f"error: {dbhealth.describe(exc)}; answering 503 until it does", err=True)
        dbhealth.hold(dbhealth.describe(exc))
        threading.Thread(target=_start_up_later, args=(workers, procs), daemon=True).start()
    # uvicorn stops on SIGTERM/SIGINT and then raises the signal again with the handler it
    # found: ours turns it into SystemExit, so the finally below stops the workers.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)
    try:
        uvicorn.run(
            "app.main:create_app", factory=True, host=host or settings.host,
            port=port or settings.port, log_level="info",
        )  # fmt: skip
    finally:
        _stop_workers(procs)


def _start_up(workers: bool) -> list[subprocess.Popen[bytes]]:
    """Migrations, the demo, re-judging, and the embedded workers (when they apply)."""
    from app.db import session_scope
    from app.jobs.lifecycle import requeue_expired
    from app.services.demo import ensure_demo_project
    from app.services.judgements import queue_rejudging

    settings = get_settings()
    _migrate()
    with session_scope() as session:
        if settings.demo:
            ensure_demo_project(session)
        queue_rejudging(session)  # responses stored before per-question judging
    if not (workers and settings.embedded_broker):
        return []
    # Jobs whose worker process is gone (a previous serve) lose their lease now; a job
    # whose worker still lives keeps it, so no second worker runs it beside the first.
    with session_scope() as session:
        requeue_expired(session, stale_after_s=settings.job_stale_after_s)
    return _start_workers()


def _start_up_later(workers: bool, procs: list[subprocess.Popen[bytes]]) -> None:
    """Retry the start-up steps every few seconds until the database answers, then serve."""
    from app import dbhealth

    while True:
        time.sleep(STARTUP_RETRY_S)
        try:
            procs += _start_up(workers)
        except dbhealth.DATABASE_DOWN as exc:
            dbhealth.hold(dbhealth.describe(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - say it on the pages, not only in the log
            dbhealth.hold(f"start-up failed: {type(exc).__name__}: {dbhealth.reason(exc)}")
            raise
        dbhealth.release()
        typer.echo(f"database at {dbhealth.where()} answers; serving", err=True)
        return


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop_workers(procs: list[subprocess.Popen[bytes]], grace_s: float = 10.0) -> None:
    """Ask the embedded workers to stop; kill those still busy after the grace period.

    A job cut off this way is resumed from the score cache on the next start.
    """
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
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


def _spec_help(name: str) -> str:
    from app.specs.scan import ScanSpec

    return ScanSpec.help()[name]


def _default(name: str):  # type: ignore[no-untyped-def]
    from app.specs.scan import ScanSpec

    return ScanSpec.default(name)


@cli.command()
def scan(
    files: Annotated[list[Path], typer.Argument(help="One file per strategy", exists=True)],
    out: Annotated[Path, typer.Option(help="Where to write results.json")],
    model: Annotated[str | None, typer.Option(help="Target model (default DEFAULT_MODEL)")] = None,
    metrics: Annotated[str, typer.Option(help="Comma-separated: ppl,sppl,ifd")] = ",".join(
        _default("metrics")
    ),
    sample: Annotated[int, typer.Option(help=_spec_help("sample"))] = _default("sample"),
    samples: Annotated[int, typer.Option(help=_spec_help("samples"))] = _default("samples"),
    examples: Annotated[int, typer.Option(help=_spec_help("examples"))] = _default("examples"),
    pool: Annotated[int, typer.Option(help=_spec_help("pool"))] = _default("pool"),
    dtype: Annotated[str, typer.Option(help=_spec_help("dtype"))] = _default("dtype"),
    seed: Annotated[int, typer.Option(help=_spec_help("seed"))] = _default("seed"),
    template: Annotated[str, typer.Option(help=_spec_help("template"))] = _default("template"),
    max_new_tokens: Annotated[int, typer.Option(help=_spec_help("max_new_tokens"))] = _default(
        "max_new_tokens"
    ),
    filter_correct: Annotated[
        bool,
        typer.Option("--filter-correct/--no-filter-correct", help=_spec_help("filter_correct")),
    ] = _default("filter_correct"),
    allow_unfiltered_fallback: Annotated[
        bool,
        typer.Option(
            "--allow-unfiltered-fallback/--no-unfiltered-fallback",
            help=_spec_help("allow_unfiltered_fallback"),
        ),
    ] = _default("allow_unfiltered_fallback"),
    judge: Annotated[str, typer.Option(help=_spec_help("judge"))] = _default("judge"),
    max_length: Annotated[int | None, typer.Option(help=_spec_help("max_length"))] = _default(
        "max_length"
    ),
    token_budget: Annotated[int | None, typer.Option(help=_spec_help("token_budget"))] = _default(
        "token_budget"
    ),
) -> None:
    """Headless familiarity scan of strategy files; writes results.json.

    Defaults are the web form's (one ScanSpec). Exit codes: 0 done, 2 bad input (settings,
    files, model), 1 anything else.
    """
    from app.ingest.records import UploadError
    from app.specs.scan import ScanInputError, ScanSpec
    from workers.modeling import ModelLoadError
    from workers.modeling.memory import reusing_freed_memory
    from workers.modeling.threads import configure_torch_threads
    from workers.scan_cli import scan_files

    settings = get_settings()
    configure_torch_threads()
    try:
        spec = ScanSpec(
            metrics=[m.strip() for m in metrics.split(",") if m.strip()], sample=sample,
            samples=samples, examples=examples, pool=pool, dtype=dtype, seed=seed,
            template=template,
            max_new_tokens=max_new_tokens, filter_correct=filter_correct,
            allow_unfiltered_fallback=allow_unfiltered_fallback, judge=judge,
            max_length=max_length, token_budget=token_budget,
            model=model or settings.default_model,
        )  # fmt: skip
        with reusing_freed_memory():
            scan_files(list(files), spec, out=out, cache_dir=settings.data_dir,
                       models_dir=settings.models_dir)  # fmt: skip
    except (ScanInputError, ModelLoadError, UploadError) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc


def _vhelp(name: str) -> str:
    from app.specs.validation import ValidationSpec

    return ValidationSpec.help()[name]


@cli.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="One file per strategy", exists=True)],
    test: Annotated[Path, typer.Option(help="Test set: questions with gold answers", exists=True)],
    out: Annotated[Path, typer.Option(help="Where to write results.json")],
    model: Annotated[str | None, typer.Option(help="Target model (default DEFAULT_MODEL)")] = None,
    seeds: Annotated[int, typer.Option(help="Runs per strategy (seeds 0..n-1)")] = 3,
    train_examples: Annotated[int | None, typer.Option(help="Training questions per strategy "
                                                       "(default 1000 or all)")] = None,
    val_examples: Annotated[int | None, typer.Option(help="Validation split (default 300 "
                                                     "or what remains)")] = None,
    test_limit: Annotated[int | None, typer.Option(help="At most this many test questions")] = 1000,
    extractor: Annotated[str | None, typer.Option(help="Answer extractor (default: suggested "
                                                  "from the golds)")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Longest test answer, in tokens")] = 320,
    halving: Annotated[bool, typer.Option(help="Successive halving")] = False,
    scan_sample: Annotated[int, typer.Option(help="Run a familiarity scan of this many "
                                             "questions first (0: none)")] = 0,
    train: Annotated[str, typer.Option(help="TrainSettings as JSON, e.g. "
                                       "'{\"lora_r\": 8, \"learning_rate\": 2e-5}'")] = "{}",
) -> None:  # fmt: skip
    """Headless validation: fine-tune on each file, evaluate on the test set; results.json.

    The run is stored in the configured database, so the web app shows it too. Exit codes:
    0 done, 2 bad input (settings, files), 1 a job failed or anything else.
    """
    import json as _json

    from app.ingest.records import UploadError
    from app.services.errors import BadInput
    from app.specs.validation import ValidationInputError, ValidationSpec
    from workers.modeling.threads import configure_torch_threads
    from workers.validate_cli import validate_files

    settings = get_settings()
    configure_torch_threads()
    _prepare()
    try:
        spec = ValidationSpec(
            seeds=seeds, train_examples=train_examples, val_examples=val_examples,
            test_limit=test_limit, extractor=extractor, max_new_tokens=max_new_tokens,
            halving=halving, train=_json.loads(train),
        )  # fmt: skip
        result = validate_files(list(files), test, spec, out=out, scan_sample=scan_sample,
                                model=model or settings.default_model)  # fmt: skip
    except (ValidationInputError, UploadError, BadInput, ValueError) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc
    if result["validation"]["status"] != "done":
        raise typer.Exit(EXIT_FAILED)


@cli.command()
def migrate() -> None:
    """Apply database migrations."""
    _prepare()
    typer.echo("database is up to date")


def main() -> None:
    cli()
