"""`familiar serve`, `worker` and `migrate`: the web process and its workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from typing import Annotated

import typer

from app.cli.core import (
    STARTUP_RETRY_S,
    _migrate,
    _prepare,
    check_artifact_root,
    cli,
)
from app.config import get_settings


def _worker_cmd(queues: str, concurrency: int) -> list[str]:
    """The Celery worker command for logical queues ("cpu,gpu"), with QUEUE_PREFIX."""
    from app.queue import queue_name

    names = ",".join(queue_name(q.strip()) for q in queues.split(",") if q.strip())
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app:celery",
        "worker",
        "-Q",
        names,
        "-c",
        str(concurrency),
        "-P",
        "solo" if concurrency == 1 else "threads",
        "--loglevel",
        "INFO",
        "-n",
        f"{queues.replace(',', '-')}.{os.getpid()}@%h",
    ]


def _die_with_parent() -> None:
    """In a worker child: get SIGKILL when `familiar serve` dies, however it dies."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


NETWORK_JOBS = 4  # lab samples that wait on teacher endpoints, side by side


def _start_workers() -> list[subprocess.Popen[bytes]]:
    """One model job at a time (gpu queue), light jobs beside it (cpu queue), and jobs that
    mostly wait on the network (teacher calls of the strategy lab) in threads of their own."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    plan = (("gpu", 1), ("cpu", 1), ("network", NETWORK_JOBS))
    return [subprocess.Popen(_worker_cmd(q, n), preexec_fn=preexec) for q, n in plan]


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
    check_artifact_root()
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
            "app.main:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
        )
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
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues: gpu (model work), cpu, network")
    ] = "cpu,gpu,network",
    concurrency: Annotated[int, typer.Option(help="Parallel jobs (1 for a GPU worker)")] = 1,
) -> None:
    """Run a Celery worker (with REDIS_URL for a real broker)."""
    _prepare()
    os.execv(sys.executable, _worker_cmd(queues, concurrency))


@cli.command()
def migrate() -> None:
    """Apply database migrations."""
    _prepare()
    typer.echo("database is up to date")
