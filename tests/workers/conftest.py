"""A real Celery worker on the real Redis at 127.0.0.1:6379, against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.config import get_settings
from tests.conftest import _clear_caches

REDIS_URL = os.environ.get("FAMILIAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_env(settings_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings with a real Redis broker and queue names of this test's own: two test runs
    (or a deployment) on the same Redis never consume each other's job ids."""
    prefix = f"familiar-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("QUEUE_PREFIX", prefix)
    _clear_caches()
    yield REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def celery_worker(redis_env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`familiar worker`'s Celery command as a subprocess, with this test's environment."""
    from app.cli import _worker_cmd

    settings = get_settings()
    log = open(settings.data_dir.parent / "worker.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        _worker_cmd("cpu,gpu,network", 1),
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def wait_for_job(client, job_id: int, *, timeout: float = 240.0) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def worker_log(settings_dir: Path) -> str:
    path = settings_dir.parent / "worker.log"
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


__all__ = ["wait_for_job", "worker_log", "sys"]
