"""The worker's Celery app: queues cpu and gpu, late acks, prefetch 1."""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from celery.signals import worker_ready
from kombu import Queue

from app.config import get_settings
from app.queue import QUEUES, make_celery


def create_celery() -> Celery:
    app = make_celery("familiar-worker", get_settings())
    app.conf.task_queues = [Queue(q) for q in QUEUES]
    app.conf.include = ["workers.tasks"]
    return app


celery = create_celery()
log = logging.getLogger(__name__)


@worker_ready.connect
def _resume_unfinished(**_: object) -> None:
    """On start, send again the jobs a dead worker left behind (they resume from the cache)."""
    from app.db import session_scope
    from app.services.jobs import resend_waiting

    with session_scope() as session:
        resend_waiting(session, stale_after_s=get_settings().job_stale_after_s)
    threading.Thread(target=_watch_for_dead_jobs, name="familiar-watchdog", daemon=True).start()


def _watch_for_dead_jobs() -> None:
    """Every half stale period, resume jobs whose worker died (another worker, another
    machine) while this one kept running; without it they would wait for a worker restart."""
    from app.db import session_scope
    from app.services.jobs import resend_dead

    stale_after_s = get_settings().job_stale_after_s
    while True:
        time.sleep(stale_after_s / 2)
        try:
            with session_scope() as session:
                resend_dead(session, stale_after_s=stale_after_s)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the watchdog
            log.exception("watchdog: could not check for dead jobs")
