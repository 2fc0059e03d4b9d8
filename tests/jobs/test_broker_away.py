"""Jobs created while the queue broker (a real Redis, behind a TCP proxy that closes and
opens) is away: they wait, say so, and are sent once it answers; a second send is harmless.

The app is created while the proxy is closed, so the web process starts against a dead
Redis, as in the report.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from kombu import Queue
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import get_engine
from app.jobs import enqueue, lifecycle
from app.models import Job
from app.queue import make_celery, queue_name
from tests.conftest import _clear_caches
from tests.jobs.handlers import FINISHED
from tests.tcp_proxy import TcpProxy
from tests.workers.conftest import REDIS_URL

SPEC = {"steps": 3, "step_s": 0.01}


@pytest.fixture
def redis_proxy(settings_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    """REDIS_URL through a proxy to the real Redis, closed to start with (Redis is down),
    with queue keys of this test's own; SEND_GRACE_S 0, so a sweep takes every unsent job."""
    real = urlsplit(REDIS_URL)
    proxy = TcpProxy((real.hostname or "127.0.0.1", real.port or 6379))
    prefix = f"familiar-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{proxy.port}{real.path}")
    monkeypatch.setenv("QUEUE_PREFIX", prefix)
    monkeypatch.setattr(enqueue, "SEND_GRACE_S", 0.0)
    _clear_caches()
    yield proxy
    proxy.close()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _queued(session: Session, kind: str) -> Job:
    job = lifecycle.create_job(session, kind=kind, project_id=None, spec=SPEC)
    session.commit()  # the send after the commit fails: the broker is away
    return job


def _messages(n: int) -> list[int]:
    """Take ``n`` messages off the cpu queue, as a worker would; their job ids."""
    app = make_celery("test-consumer", get_settings())
    got: list[int] = []

    def take(body: list, message) -> None:  # type: ignore[no-untyped-def]
        got.append(body[0][0])  # Celery's message body: [args, kwargs, embed]
        message.ack()

    with (
        app.connection_for_read() as conn,
        conn.Consumer(Queue(queue_name("cpu")), callbacks=[take], accept=["json"]),
    ):
        while len(got) < n:
            conn.drain_events(timeout=10)
    return got


def _depth() -> int:
    prefix = get_settings().queue_prefix
    return int(redis.Redis.from_url(REDIS_URL).llen(f"{prefix}:{prefix}.cpu"))


def test_a_job_waits_for_the_queue_and_healthz_sends_it(  # type: ignore[no-untyped-def]
    redis_proxy, client, session: Session, count_kind: str
) -> None:
    job = _queued(session, count_kind)
    row = client.get(f"/api/v1/jobs/{job.id}").json()
    assert row["status"] == "queued" and row["sent_at"] is None and row["waiting_for_queue"]
    assert "waiting for the queue" in client.get(f"/jobs/{job.id}").text
    health = client.get("/healthz")
    where = f"127.0.0.1:{redis_proxy.port}{urlsplit(REDIS_URL).path}"
    assert health.status_code == 503 and health.headers["retry-after"]
    assert health.text.startswith(f"the queue broker at {where} is unavailable: ")
    assert health.text.endswith("; jobs wait for it") and "\n" not in health.text
    redis_proxy.open()  # Redis is back: the next health check sends what waited
    assert client.get("/healthz").text == "ok"
    row = client.get(f"/api/v1/jobs/{job.id}").json()
    assert row["status"] == "queued" and row["sent_at"] and not row["waiting_for_queue"]
    html = client.get(f"/jobs/{job.id}").text
    assert "waiting for the queue" not in html and ">queued<" in html
    assert client.get("/healthz").text == "ok" and _depth() == 1  # sent once, not per check


def test_the_next_send_and_the_workers_sweep_send_what_waited(  # type: ignore[no-untyped-def]
    redis_proxy, session: Session, count_kind: str
) -> None:
    first, second = _queued(session, count_kind), _queued(session, count_kind)
    redis_proxy.open()
    third = _queued(session, count_kind)  # its send works, and takes the others along
    assert sorted(_messages(3)) == [first.id, second.id, third.id]
    redis_proxy.close()
    fourth = _queued(session, count_kind)
    redis_proxy.open()
    assert lifecycle.resend_dead(session, stale_after_s=60) == 1  # the worker's watchdog
    assert _messages(1) == [fourth.id]
    session.expire_all()
    assert all(session.get(Job, j.id).sent_at for j in (first, second, third, fourth))  # type: ignore[union-attr]


def test_a_job_sent_twice_runs_once(  # type: ignore[no-untyped-def]
    redis_proxy, session: Session, count_kind: str
) -> None:
    from workers.tasks import run_job

    job = _queued(session, count_kind)
    redis_proxy.open()
    assert enqueue.send_unsent(get_engine()) == 1
    # the sweep of another process that read the row before it was marked sent
    session.execute(update(Job).where(Job.id == job.id).values(sent_at=None))
    session.commit()
    assert enqueue.send_unsent(get_engine()) == 1
    assert _depth() == 2
    for job_id in _messages(2):  # what a worker does with each message
        run_job(job_id)
    session.expire_all()
    row = session.get(Job, job.id)
    assert row is not None and row.status == "succeeded" and row.attempts == 1
    assert FINISHED[job.id] == [0, 1, 2]  # counted once
