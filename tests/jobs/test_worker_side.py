"""The worker's side of a job: heartbeat through database errors, cancel, a lost lease."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import session_scope
from app.jobs import lifecycle
from app.jobs.states import JobState
from app.models import Job
from app.services import jobs as svc
from tests.jobs.handlers import FINISHED
from workers.jobs.context import JobContext
from workers.tasks import execute


def _claimed(session: Session, kind: str, spec: dict | None = None):  # type: ignore[no-untyped-def]
    job = lifecycle.create_job(session, kind=kind, project_id=None, spec=spec)
    session.commit()
    return lifecycle.claim(session, job_id=job.id, owner="test-worker")


def _counting(session: Session, kind: str):  # type: ignore[no-untyped-def]
    """A claimed 200-step counter job running in a thread, as a worker runs it."""
    spec = {"steps": 200, "step_s": 0.02}
    lease = _claimed(session, kind, spec)
    thread = threading.Thread(target=execute, args=(lease, kind, spec, None))
    thread.start()
    return lease, thread


def _wait(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_heartbeat_survives_database_errors(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two failed beats (database away) must not end the heartbeat: the job stays owned and
    running once, and the next beats renew the lease."""
    lease = _claimed(session, "analyze")
    real, calls = lifecycle.renew, []

    def flaky(s, lease_, **values):  # type: ignore[no-untyped-def]
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise OperationalError("UPDATE jobs", {}, Exception("server closed the connection"))
        return real(s, lease_, **values)

    monkeypatch.setattr(lifecycle, "renew", flaky)
    before = svc.get_job(session, job_id=lease.job_id)
    ctx = JobContext(lease=lease, project_id=None, spec=None)
    with ctx.heartbeat(interval=0.05):
        _wait(lambda: len(calls) >= 5)
    after = svc.get_job(session, job_id=lease.job_id)
    assert after.status == "running" and after.attempts == 1
    assert session.get(Job, lease.job_id, populate_existing=True).heartbeat_at > (before.started_at)
    ctx.check()  # neither cancelled nor lost


def test_cancel_stops_within_one_progress_step_and_keeps_what_finished(
    session: Session, count_kind: str
) -> None:
    lease, thread = _counting(session, count_kind)
    _wait(lambda: svc.get_job(session, job_id=lease.job_id).done >= 3)
    with session_scope() as s:
        svc.cancel_job(s, job_id=lease.job_id)
    asked_at = len(FINISHED[lease.job_id])
    thread.join(timeout=10)
    assert not thread.is_alive()
    job = svc.get_job(session, job_id=lease.job_id)
    kept = FINISHED[lease.job_id]
    assert job.status == "cancelled"
    assert len(kept) <= asked_at + 1  # stopped at its next progress report
    assert f"at {len(kept)}/200" in job.error and "kept" in job.error
    assert job.finished and not job.cancellable


def test_a_worker_that_lost_its_lease_stops_and_writes_nothing(
    session: Session, count_kind: str
) -> None:
    lease, thread = _counting(session, count_kind)
    _wait(lambda: svc.get_job(session, job_id=lease.job_id).done >= 2)
    with session_scope() as s:  # the watchdog gave the job to another worker
        row = s.get(Job, lease.job_id)
        row.status, row.attempts = JobState.QUEUED.value, 1
    with session_scope() as s:
        other = lifecycle.claim(s, job_id=lease.job_id, owner="other-worker")
    thread.join(timeout=10)
    assert not thread.is_alive()
    job = svc.get_job(session, job_id=lease.job_id)
    assert other is not None and job.status == "running" and job.owner == "other-worker"
    assert job.result is None and job.error is None


def test_a_handler_failure_after_success_is_not_recorded(session: Session, count_kind: str) -> None:
    lease = _claimed(session, count_kind, {"steps": 1, "step_s": 0.0})
    execute(lease, count_kind, {"steps": 1, "step_s": 0.0}, None)
    assert svc.get_job(session, job_id=lease.job_id).status == "succeeded"
    execute(lease, count_kind, {"steps": 1, "step_s": 0.0}, None)  # a duplicate run
    job = svc.get_job(session, job_id=lease.job_id)
    assert job.status == "succeeded" and job.error is None


@pytest.mark.parametrize("bad", [{"steps": "many"}, {"nope": 1}])
def test_a_spec_the_kind_refuses_fails_the_job(session: Session, count_kind: str, bad) -> None:  # type: ignore[no-untyped-def]
    lease = _claimed(session, count_kind)
    execute(lease, count_kind, bad, None)
    job = svc.get_job(session, job_id=lease.job_id)
    assert job.status == "failed" and "test_count spec" in job.error
