"""Pipelines as data (``app.pipelines``) and the validation's written states (issue 19).

What follows a job is looked up in one table and run in the transaction that ends the job:
a validation whose training job fails, or whose queued job is cancelled on its own, is
written ``failed`` with the reason (the page once derived it); the own answers are followed
by their token counts and, in the demo project, by its first scan; states move only along
their transitions, fenced.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs import lifecycle
from app.jobs.states import JobState
from app.models import Job, Project, Scan, Validation, ValidationRun
from app.pipelines import PIPELINES, _function, follow
from app.services.validations.states import RunState, ValidationState, move_run, move_validation
from tests.app.test_validations import _project, _set_test, _start
from workers.tasks import _end


def _validation(client) -> dict:  # type: ignore[no-untyped-def]
    pid = _project(client, n=12)
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(3)])
    return _start(client, pid, seeds=1, train_examples=4, val_examples=2)


def test_every_step_of_every_pipeline_resolves() -> None:
    steps = [s for p in PIPELINES for s in p.steps]
    assert {p.name for p in PIPELINES} >= {"own answers", "validation"}
    for step in steps:
        assert callable(_function(step.then)), step.then


def test_a_failed_training_job_ends_the_validation_failed(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    v = _validation(client)
    run = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).first()
    lease = lifecycle.claim(session, job_id=run.job_id, owner="test-worker")  # type: ignore[union-attr]
    assert lease is not None
    _end(lease, JobState.FAILED, error="CUDA out of memory")  # as workers.tasks ends a job
    session.expire_all()
    row = session.get(Validation, v["id"])
    assert row is not None and row.status == "failed" and "training job" in (row.error or "")
    assert session.get(ValidationRun, run.id).status == "failed"  # type: ignore[union-attr]
    page = client.get(f"/api/v1/projects/{row.project_id}/validations/{v['id']}").json()
    assert page["validation"]["status"] == "failed" and page["validation"]["error"]


def test_a_queued_job_cancelled_alone_ends_it_failed(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    v = _validation(client)
    run = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).first()
    client.cookies.clear()
    assert client.post(f"/api/v1/jobs/{run.job_id}/cancel").status_code == 200  # type: ignore[union-attr]
    session.expire_all()
    row = session.get(Validation, v["id"])
    assert row is not None and row.status == "failed" and "cancelled alone" in (row.error or "")


def test_the_validations_own_cancel_stays_cancelled(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    v = _validation(client)
    pid = session.get(Validation, v["id"]).project_id  # type: ignore[union-attr]
    client.cookies.clear()
    assert client.post(f"/api/v1/projects/{pid}/validations/{v['id']}/cancel").status_code == 200
    session.expire_all()
    row = session.get(Validation, v["id"])
    assert row is not None and row.status == "cancelled" and row.error is None
    assert row.cancelled_jobs and row.summary["cancelled_jobs"] == row.cancelled_jobs


def test_own_answers_are_followed_by_their_counts_and_the_demo_scan(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=6, names=("alpha", "beta"))
    project = session.get(Project, pid)
    project.is_demo = True
    job = lifecycle.create_job(session, kind="generate_own_answers", project_id=pid)
    session.flush()
    follow(session, job, JobState.SUCCEEDED)
    session.flush()
    kinds = [j.kind for j in session.scalars(select(Job).where(Job.id > job.id))]
    assert "analyze" in kinds and "scan" in kinds
    assert session.scalar(select(Scan.id).where(Scan.project_id == pid)) is not None
    follow(session, job, JobState.FAILED)  # nothing follows a failure
    assert len(list(session.scalars(select(Job).where(Job.id > job.id)))) == len(kinds)


def test_states_move_only_along_their_transitions_once(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    v = _validation(client)
    row = session.get(Validation, v["id"])
    run = session.scalars(select(ValidationRun)).first()
    assert row is not None and run is not None
    assert move_validation(session, row, ValidationState.DONE)
    assert not move_validation(session, row, ValidationState.FAILED)  # it had ended
    assert not move_run(session, run, RunState.STOPPED)  # training -> stopped: not a move
    assert move_run(session, run, RunState.WAITING) and move_run(session, run, RunState.STOPPED)
    assert not move_run(session, run, RunState.TRAINING)
