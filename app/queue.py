"""Celery configuration shared by web (producer only) and workers, and the send call.

The web process builds a producer-only Celery app from the same settings; it never imports
`workers` (and so never torch). Celery carries only a job id. Queue names carry
``QUEUE_PREFIX`` (``familiar.gpu``), and on Redis every key the broker writes starts with
``<QUEUE_PREFIX>:`` (kombu's ``global_keyprefix``), so deployments sharing one Redis stay
apart, bookkeeping included.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from app.config import Settings, get_settings
from app.jobs.kinds import QUEUES

RUN_JOB_TASK = "familiar.run_job"
# Above the longest job, so Redis never redelivers a job that is still running.
VISIBILITY_TIMEOUT_S = 48 * 3600
BROKER_CONNECT_TIMEOUT_S = 5


def queue_name(queue: str, settings: Settings | None = None) -> str:
    """The broker's name of a logical queue ("gpu" -> "familiar.gpu")."""
    return f"{(settings or get_settings()).queue_prefix}.{queue}"


def redis_key_prefix(settings: Settings | None = None) -> str:
    """What every Redis key of this deployment starts with ("familiar:"): its queues, and
    the broker's own bookkeeping (``unacked``, ``_kombu.binding.*``) that would otherwise be
    shared by every deployment on the same Redis."""
    return f"{(settings or get_settings()).queue_prefix}:"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Broker settings: Redis when REDIS_URL is set, else the embedded file broker."""
    config: dict[str, Any] = {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": queue_name("cpu", settings),
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "worker_enable_remote_control": False,  # no shared pidbox across deployments
    }
    if settings.redis_url:
        config["broker_url"] = settings.redis_url
        config["broker_transport_options"] = {
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "global_keyprefix": redis_key_prefix(settings),
            "socket_connect_timeout": BROKER_CONNECT_TIMEOUT_S,  # a silent host is reported
        }
    else:
        folder = (settings.data_dir / "broker").resolve()
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        config["broker_url"] = "filesystem://"
        config["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
            "control_folder": str(folder / "control"),
        }
    return config


def make_celery(name: str, settings: Settings) -> Celery:
    app = Celery(name)
    app.conf.update(celery_config(settings))
    return app


@lru_cache
def producer() -> Celery:
    return make_celery("familiar-web", get_settings())


def send_job(job_id: int, queue: str) -> None:
    """Put a job id on its queue. Only app.jobs.enqueue calls it, after the commit."""
    producer().send_task(RUN_JOB_TASK, args=[job_id], queue=queue_name(queue))


def broker_where(settings: Settings | None = None) -> str:
    """The broker as a user may see it: host:port/db of REDIS_URL (no password), or the
    embedded file broker's folder."""
    settings = settings or get_settings()
    if not settings.redis_url:
        return str((settings.data_dir / "broker").resolve())
    url = urlsplit(settings.redis_url)
    return f"{url.hostname or 'localhost'}:{url.port or 6379}{url.path or '/0'}"


def check_broker() -> str | None:
    """None when the broker takes messages, else one line saying why not. The embedded
    file broker is a folder of this machine: it always does."""
    if not get_settings().redis_url:
        return None
    try:
        with producer().connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)  # one try, no waiting between tries
    except Exception as exc:  # noqa: BLE001 - any failure means jobs wait
        said = " ".join(str(exc).split()) or type(exc).__name__
        return f"the queue broker at {broker_where()} is unavailable: {said}; jobs wait for it"
    return None


__all__ = ["QUEUES", "RUN_JOB_TASK", "check_broker", "make_celery", "queue_name", "send_job"]
