"""The demo's first scan starts by itself once the target's own answers are stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Project, Question, Scan
from app.services.demo import DEMO_SCAN_SAMPLE, create_demo_project, start_demo_scan
from app.services.own_answers import store_as_strategy


def _own_answers(session: Session, project: Project) -> None:
    qids = session.scalars(select(Question.id).where(Question.project_id == project.id)).all()
    store_as_strategy(
        session,
        project_id=project.id,
        name="target_own_answers",
        answers={q: ("The answer is 4.", False) for q in qids},
        model_name="packaged:SmolLM2-135M-Instruct",
    )


def test_first_scan_is_queued_once_for_the_demo_only(session: Session) -> None:
    demo = create_demo_project(session, n_questions=40)
    _own_answers(session, demo)
    scan = start_demo_scan(session, project_id=demo.id)
    session.commit()
    assert scan is not None
    assert scan.spec["sample"] == DEMO_SCAN_SAMPLE and "sppl" in scan.spec["metrics"]
    assert len(scan.spec["strategy_ids"]) == 6  # five styles and the own answers
    job = session.get(Job, scan.job_id)
    assert (job.kind, job.queue, job.status) == ("scan", "gpu", "queued")
    assert start_demo_scan(session, project_id=demo.id) is None  # once
    other = Project(name="mine", target_model="m")
    session.add(other)
    session.flush()
    assert start_demo_scan(session, project_id=other.id) is None
    assert session.scalar(select(Scan.id).where(Scan.project_id == other.id)) is None


def test_a_deleted_demo_does_not_come_back_beside_the_users_projects(session: Session) -> None:
    from app.services.demo import ensure_demo_project

    demo = ensure_demo_project(session)
    assert demo is not None and ensure_demo_project(session) is None
    session.add(Project(name="mine", target_model="m"))
    session.delete(demo)
    session.flush()
    assert ensure_demo_project(session) is None  # the next start
