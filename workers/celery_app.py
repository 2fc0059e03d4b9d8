"""The worker's Celery app: queues cpu and gpu (with QUEUE_PREFIX), late acks, prefetch 1."""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from celery.signals import worker_ready
from kombu import Queue

from app.config import get_settings
from app.queue import QUEUES, make_celery, queue_name

log = logging.getLogger(__name__)


def create_celery() -> Celery:
    settings = get_settings()
    app = make_celery("familiar-worker", settings)
    app.conf.task_queues = [Queue(queue_name(q, settings)) for q in QUEUES]
    app.conf.include = ["workers.tasks"]
    return app


celery = create_celery()


@worker_ready.connect
def _resume_unfinished(**_: object) -> None:
    """On start, send again the jobs a dead worker left behind (they resume from the cache)."""
    from app.db import session_scope
    from app.jobs.lifecycle import resend_waiting

    try:
        with session_scope() as session:
            resend_waiting(session, stale_after_s=get_settings().job_stale_after_s)
    except Exception:  # noqa: BLE001 - the watchdog tries again
        log.exception("could not resend waiting jobs on start")
    threading.Thread(target=_watch_for_dead_jobs, name="familiar-watchdog", daemon=True).start()


def _watch_for_dead_jobs() -> None:
    """Every half stale period (at most every 30 s), resume jobs whose worker died (another
    worker, another machine) while this one kept running, and send the jobs created while
    the broker was away (app.jobs.enqueue.send_unsent)."""
    from app.db import session_scope
    from app.jobs.lifecycle import resend_dead

    stale_after_s = get_settings().job_stale_after_s
    while True:
        time.sleep(min(stale_after_s / 2, 30.0))
        try:
            with session_scope() as session:
                resend_dead(session, stale_after_s=stale_after_s)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the watchdog
            log.exception("watchdog: could not check for dead jobs")
