"""Two deployments (or test runs) on one Redis: each sees only its own queue's messages."""

from __future__ import annotations

import uuid

import pytest
import redis

from app.config import get_settings
from app.queue import queue_name, redis_key_prefix, send_job
from tests.conftest import _clear_caches
from tests.workers.conftest import REDIS_URL


def test_prefixed_queues_keep_deployments_apart(
    settings_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    a, b = (f"familiar-test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    try:
        for prefix, job_id in ((a, 101), (b, 202)):
            monkeypatch.setenv("QUEUE_PREFIX", prefix)
            _clear_caches()
            send_job(job_id, "gpu")
            assert queue_name("gpu") == f"{prefix}.gpu" == f"{get_settings().queue_prefix}.gpu"
            assert redis_key_prefix() == f"{prefix}:"
        assert client.llen(f"{a}:{a}.gpu") == 1 and client.llen(f"{b}:{b}.gpu") == 1
        assert b"101" in client.lindex(f"{a}:{a}.gpu", 0)
        assert b"202" in client.lindex(f"{b}:{b}.gpu", 0)
    finally:
        for prefix in (a, b):
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
