"""Job rows: claiming, progress, failure, resume of a dead worker's job, the status page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.models import Job
from app.services import jobs as svc


def _job(session: Session, kind: str = "analyze") -> Job:
    job = svc.create_job(session, kind=kind, project_id=None, spec={"x": 1})
    session.commit()
    return job


def test_claim_is_atomic(session: Session) -> None:
    job = _job(session)
    assert svc.claim_job(session, job_id=job.id) is True
    assert svc.claim_job(session, job_id=job.id) is False  # a redelivered message is a no-op
    read = svc.get_job(session, job_id=job.id)
    assert read.status == "running" and read.attempts == 1 and read.started_at is not None


def test_gpu_kinds_go_to_gpu_queue(session: Session) -> None:
    assert _job(session, "scan").queue == "gpu"
    assert _job(session, "analyze").queue == "cpu"


def test_progress_and_finish(session: Session) -> None:
    job = _job(session)
    svc.claim_job(session, job_id=job.id)
    svc.report_progress(session, job_id=job.id, phase="scoring", done=5, total=20,
                        extra={"tokens_per_s": 123.0})  # fmt: skip
    read = svc.get_job(session, job_id=job.id)
    assert read.percent == 25.0 and read.phase == "scoring"
    assert read.progress_extra["tokens_per_s"] == 123.0
    svc.finish_job(session, job_id=job.id, result={"summary": "ok"})
    read = svc.get_job(session, job_id=job.id)
    assert read.status == "succeeded" and read.finished and read.result == {"summary": "ok"}


def test_fail_keeps_error(session: Session) -> None:
    job = _job(session)
    svc.fail_job(session, job_id=job.id, error="model 'x' cannot be loaded")
    assert svc.get_job(session, job_id=job.id).error == "model 'x' cannot be loaded"


def test_stale_running_job_is_requeued(session: Session) -> None:
    job = _job(session)
    svc.claim_job(session, job_id=job.id)
    fresh = _job(session)
    svc.claim_job(session, job_id=fresh.id)
    row = session.get(Job, job.id)
    row.heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    session.commit()
    waiting = svc.requeue_stale(session, stale_after_s=120)
    assert [j.id for j in waiting] == [job.id]
    assert svc.claim_job(session, job_id=job.id) is True
    assert svc.get_job(session, job_id=job.id).attempts == 2


def test_embedded_start_requeues_every_running_job(session: Session) -> None:
    running, finished = _job(session), _job(session)
    svc.claim_job(session, job_id=running.id)
    svc.claim_job(session, job_id=finished.id)
    svc.finish_job(session, job_id=finished.id)
    assert svc.requeue_dead(session, stale_after_s=120) == []  # heartbeat still fresh
    dead = svc.requeue_dead(session, stale_after_s=0)  # serve restarted: its workers are gone
    assert [j.id for j in dead] == [running.id]
    assert svc.get_job(session, job_id=running.id).status == "queued"
    assert svc.get_job(session, job_id=finished.id).status == "succeeded"
    assert "worker lost; resuming" in session.get(Job, running.id).log


def test_job_page_polls_until_done(client, session: Session) -> None:
    job = _job(session)
    html = client.get(f"/jobs/{job.id}").text
    assert 'hx-trigger="every 1s"' in html
    fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "every 1s" in fragment
    svc.fail_job(session, job_id=job.id, error="<b>boom</b>")
    fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert "every 1s" not in fragment  # the fragment without its trigger stops the polling
    assert "&lt;b&gt;boom&lt;/b&gt;" in fragment
    assert client.get(f"/api/v1/jobs/{job.id}").json()["status"] == "failed"
    assert client.get("/api/v1/jobs/9999").status_code == 404
