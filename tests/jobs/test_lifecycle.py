"""The fenced job lifecycle on real SQLite and Postgres rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.jobs import lifecycle
from app.jobs.kinds import UnknownJobKindError, get_kind
from app.jobs.lease import holder_is_gone
from app.jobs.lifecycle import LeaseLost
from app.jobs.states import JobState, can_move
from app.models import Job
from app.services import jobs as svc


def _job(session: Session, kind: str = "analyze", spec: dict | None = None) -> Job:
    job = lifecycle.create_job(session, kind=kind, project_id=None, spec=spec)
    session.commit()
    return job


def test_registry_names_queue_spec_and_handler() -> None:
    assert get_kind("scan").queue == "gpu" and get_kind("analyze").queue == "cpu"
    assert get_kind("token_surprise").handler == "workers.jobs.token_surprise:token_surprise"
    with pytest.raises(UnknownJobKindError, match="did you mean 'scan'"):
        get_kind("scna")


def test_a_job_goes_only_to_a_queue_its_kind_allows(session: Session) -> None:
    """Lab samples wait on the network by default; one that runs the target in the worker
    is model work; no kind can be sent to a queue it does not name."""
    assert get_kind("lab_sample").queue == "network"
    spec = {"recipe_version_ids": [1], "question_ids": [1]}
    job = lifecycle.create_job(session, kind="lab_sample", project_id=None, spec=spec, queue="gpu")
    assert job.queue == "gpu"
    with pytest.raises(UnknownJobKindError, match="lab_sample jobs do not run on the 'cpu'"):
        lifecycle.create_job(session, kind="lab_sample", project_id=None, spec=spec, queue="cpu")
    with pytest.raises(UnknownJobKindError, match="scan jobs do not run on the 'network'"):
        lifecycle.create_job(session, kind="scan", project_id=None, spec={}, queue="network")


def test_spec_is_checked_against_its_kind(session: Session) -> None:
    with pytest.raises(UnknownJobKindError, match="question_id"):
        lifecycle.create_job(session, kind="token_surprise", project_id=None, spec={"scan_id": 1})
    job = _job(session, "generate_own_answers", {"strategy": "mine"})
    assert job.spec == {"strategy": "mine", "max_new_tokens": 320, "limit": None}


def test_claim_is_atomic_and_a_redelivery_is_a_no_op(session: Session) -> None:
    job = _job(session)
    lease = lifecycle.claim(session, job_id=job.id, owner="w1")
    assert lease is not None and lease.attempt == 1
    assert lifecycle.claim(session, job_id=job.id, owner="w2") is None
    read = svc.get_job(session, job_id=job.id)
    assert read.status == "running" and read.owner == "w1" and read.started_at is not None


def test_progress_then_success(session: Session) -> None:
    job = _job(session)
    lease = lifecycle.claim(session, job_id=job.id, owner="w1")
    status = lifecycle.report_progress(
        session, lease, phase="scoring", done=5, total=20, extra={"tokens_per_s": 123.0}
    )
    assert status == "running"
    read = svc.get_job(session, job_id=job.id)
    assert read.percent == 25.0 and read.progress_extra["tokens_per_s"] == 123.0
    assert lifecycle.end(session, lease, JobState.SUCCEEDED, result={"summary": "ok"})
    assert svc.get_job(session, job_id=job.id).result == {"summary": "ok"}


def test_a_late_failure_cannot_overwrite_a_success(session: Session) -> None:
    job = _job(session)
    lease = lifecycle.claim(session, job_id=job.id, owner="w1")
    assert lifecycle.end(session, lease, JobState.SUCCEEDED, result={"summary": "done"})
    assert not lifecycle.end(session, lease, JobState.FAILED, error="IntegrityError: late")
    read = svc.get_job(session, job_id=job.id)
    assert read.status == "succeeded" and read.error is None


def test_a_requeued_job_fences_out_its_old_worker(session: Session) -> None:
    job = _job(session)
    old = lifecycle.claim(session, job_id=job.id, owner="w1")
    session.get(Job, job.id).heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    session.commit()
    assert [j.id for j in lifecycle.requeue_expired(session, stale_after_s=120)] == [job.id]
    new = lifecycle.claim(session, job_id=job.id, owner="w2")
    assert new is not None and new.attempt == 2
    with pytest.raises(LeaseLost):
        lifecycle.renew(session, old)
    with pytest.raises(LeaseLost):
        lifecycle.report_progress(session, old, phase="x", done=1, total=2)
    assert not lifecycle.end(session, old, JobState.SUCCEEDED, result={"summary": "stale"})
    assert lifecycle.renew(session, new) == "running"
    assert lifecycle.end(session, new, JobState.SUCCEEDED, result={"summary": "fresh"})
    read = svc.get_job(session, job_id=job.id)
    assert read.result == {"summary": "fresh"} and "worker lost; resuming" in read.log


def test_a_fresh_lease_is_kept(session: Session) -> None:
    """A restarted serve must not take a job whose worker still runs (the orphan case)."""
    job = _job(session)
    lifecycle.claim(session, job_id=job.id, owner=f"{socket.gethostname()}:{os.getpid()}")
    assert lifecycle.requeue_expired(session, stale_after_s=120) == []
    assert svc.get_job(session, job_id=job.id).status == "running"


def test_a_dead_local_holder_loses_its_lease_at_once(session: Session) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    job = _job(session)
    lifecycle.claim(session, job_id=job.id, owner=f"{socket.gethostname()}:{gone.pid}")
    assert [j.id for j in lifecycle.requeue_expired(session, stale_after_s=3600)] == [job.id]
    assert svc.get_job(session, job_id=job.id).status == "queued"


def test_holder_checks() -> None:
    started = datetime.now(UTC)
    assert not holder_is_gone(f"{socket.gethostname()}:{os.getpid()}", started)
    assert not holder_is_gone("another-host:1", started)  # only its heartbeat can tell
    assert not holder_is_gone(None, started)


def test_cancel_a_queued_job_ends_it_at_once(session: Session) -> None:
    job = _job(session)
    assert svc.cancel_job(session, job_id=job.id).status == "cancelled"
    session.commit()
    assert lifecycle.claim(session, job_id=job.id, owner="w1") is None


def test_cancel_a_running_job_asks_it_to_stop(session: Session) -> None:
    job = _job(session)
    lease = lifecycle.claim(session, job_id=job.id, owner="w1")
    assert svc.cancel_job(session, job_id=job.id).status == "cancelling"
    session.commit()
    assert lifecycle.renew(session, lease) == "cancelling"  # the heartbeat carries it
    assert lifecycle.end(session, lease, JobState.CANCELLED, error="cancelled")
    with pytest.raises(Exception, match="already ended"):
        svc.cancel_job(session, job_id=job.id)


def test_a_cancelling_job_whose_worker_died_ends_cancelled(session: Session) -> None:
    job = _job(session)
    lifecycle.claim(session, job_id=job.id, owner="w1")
    svc.cancel_job(session, job_id=job.id)
    session.get(Job, job.id).heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    session.commit()
    assert lifecycle.requeue_expired(session, stale_after_s=120) == []
    assert svc.get_job(session, job_id=job.id).status == "cancelled"


def test_state_machine() -> None:
    assert can_move("queued", "running") and can_move("running", "cancelling")
    assert not can_move("succeeded", "failed") and not can_move("cancelled", "running")


def test_enqueue_waits_for_the_commit(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr("app.queue.send_job", lambda job_id, queue: sent.append((job_id, queue)))
    lifecycle.create_job(session, kind="analyze", project_id=None)
    session.flush()
    assert sent == []
    session.rollback()
    assert sent == []  # a rolled-back job is never sent
    job = lifecycle.create_job(session, kind="analyze", project_id=None)
    session.commit()
    assert sent == [(job.id, "cpu")]
