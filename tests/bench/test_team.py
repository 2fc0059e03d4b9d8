"""bench/team.py's stop removes every Redis key its deployment wrote, including the broker's
bookkeeping of a message a killed worker never acknowledged, and no one else's keys."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from app.queue import send_job
from bench.team import Team
from tests.conftest import _clear_caches
from tests.paths import ROOT
from tests.workers.conftest import REDIS_URL

# A worker that takes a message and dies before acknowledging it (as a SIGKILL would).
KILLED_CONSUMER = """
import os
from kombu import Queue
from app.config import get_settings
from app.queue import make_celery, queue_name
app = make_celery("killed", get_settings())
conn = app.connection_for_read()
got = []
with conn.Consumer(Queue(queue_name("gpu")), callbacks=[lambda b, m: got.append(m)],
                   accept=["json"]):
    conn.drain_events(timeout=10)
assert got
os._exit(0)
"""


def _ours(client: redis.Redis, prefix: str) -> list[bytes]:
    """Keys whose name or any value names this deployment (``<prefix>:`` or ``<prefix>.``)."""
    needles = (f"{prefix}:".encode(), f"{prefix}.".encode())
    return [
        k for k in client.scan_iter(count=1000) if any(_mentions(client, k, n) for n in needles)
    ]


def _mentions(client: redis.Redis, key: bytes, needle: bytes) -> bool:
    """Whether the key's name or any of its values holds ``needle``."""
    kind = client.type(key)
    values: list[bytes] = {
        b"hash": lambda: list(client.hvals(key)),
        b"zset": lambda: list(client.zrange(key, 0, -1)),
        b"set": lambda: list(client.smembers(key)),
        b"list": lambda: list(client.lrange(key, 0, -1)),
        b"string": lambda: [client.get(key) or b""],
    }.get(kind, list)()
    return needle in key or any(needle in v for v in values)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the database plays no part
def test_stop_removes_every_key_of_the_deployment(
    settings_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = Team(redis_url=REDIS_URL)
    prefix = team.queue_prefix
    client = redis.Redis.from_url(REDIS_URL)
    neighbour = f"{prefix}x:queue"  # a deployment whose prefix starts like this one's
    client.set(neighbour, "kept")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("QUEUE_PREFIX", prefix)
    _clear_caches()
    try:
        send_job(1, "gpu")
        send_job(2, "cpu")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, "-c", KILLED_CONSUMER], cwd=ROOT, env=env, check=True, timeout=60
        )
        ours = _ours(client, prefix)
        names = {k.decode().removeprefix(f"{prefix}:") for k in ours}
        assert {"unacked", "unacked_index", f"{prefix}.cpu"} <= names, names
        assert any(n.startswith("_kombu.binding") for n in names), names
        assert all(k.startswith(f"{prefix}:".encode()) for k in ours), ours  # nothing global
        assert team.remove_queue_keys() == len(ours)
        assert _ours(client, prefix) == [] and client.get(neighbour) == b"kept"
    finally:
        client.delete(neighbour)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
