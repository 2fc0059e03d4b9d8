"""Celery configuration shared by web (producer only) and workers, and the send call.

The web process builds a producer-only Celery app from the same settings; it never imports
`workers` (and so never torch). Celery carries only a job id. Queue names carry
``QUEUE_PREFIX`` (``familiar.gpu``), so deployments sharing one Redis stay apart.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery

from app.config import Settings, get_settings
from app.jobs.kinds import QUEUES

RUN_JOB_TASK = "familiar.run_job"
# Above the longest job, so Redis never redelivers a job that is still running.
VISIBILITY_TIMEOUT_S = 48 * 3600


def queue_name(queue: str, settings: Settings | None = None) -> str:
    """The broker's name of a logical queue ("gpu" -> "familiar.gpu")."""
    return f"{(settings or get_settings()).queue_prefix}.{queue}"


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
        config["broker_transport_options"] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
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


__all__ = ["QUEUES", "RUN_JOB_TASK", "make_celery", "queue_name", "send_job"]
