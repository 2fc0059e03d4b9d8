"""The demo's first scan starts by itself once the target's own answers are stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Project, Question, Scan, Strategy
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


@pytest.mark.slow
def test_after_its_first_scan_the_demo_runs_a_lab_sample_with_the_target_as_teacher(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's lab run: queued once after a scan of the demo (four presets, the target
    answering in the worker), run for real with the packaged model, its recipes then
    strategies of the demo and their scan queued; no lab run for another project."""
    from app.config import get_settings
    from app.jobs.states import JobState
    from app.lab.demo import DEMO_PRESETS
    from app.pipelines import follow
    from workers.tasks import run_job

    monkeypatch.setenv("DEMO_LAB_QUESTIONS", "2")
    get_settings.cache_clear()
    demo = create_demo_project(session, n_questions=12)
    _own_answers(session, demo)
    scan = start_demo_scan(session, project_id=demo.id)
    session.commit()
    assert scan is not None
    scan_job = session.get(Job, scan.job_id)
    follow(session, scan_job, JobState.SUCCEEDED)
    follow(session, scan_job, JobState.SUCCEEDED)  # once
    session.commit()
    labs = session.scalars(select(Job).where(Job.kind == "lab_sample")).all()
    assert [(j.project_id, j.queue) for j in labs] == [(demo.id, "gpu")]
    assert len(labs[0].spec["recipe_version_ids"]) == len(DEMO_PRESETS)
    assert len(labs[0].spec["question_ids"]) == 2
    run_job(labs[0].id)
    session.expire_all()
    lab = session.get(Job, labs[0].id)
    assert lab is not None and lab.status == "succeeded", lab.error
    assert (lab.result["answered"], lab.result["rule_answers"]) == (6, 2)
    names = set(
        session.scalars(
            select(Strategy.name).where(Strategy.project_id == demo.id, Strategy.origin == "lab")
        )
    )
    assert names == {f"{p} v1" for p in DEMO_PRESETS}, lab.result["promoted"]
    assert lab.result["promoted"]["scan_id"] is not None
    scans = session.scalars(select(Job).where(Job.kind == "scan", Job.id != scan_job.id)).all()
    assert len(scans) == 1 and scans[0].status == "queued"
    other = Project(name="mine", target_model="packaged:SmolLM2-135M-Instruct")
    session.add(other)
    session.flush()
    from app.lab.demo import start_demo_lab

    assert start_demo_lab(session, project_id=other.id) is None


def test_a_demo_lab_run_that_cannot_start_leaves_the_scan_ending_alone(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab run starts in the transaction that ends the demo's scan: when it cannot
    start (here the demo's questions lost their gold, which the rule preset needs), nothing
    of it is written and the step does not raise."""
    from app.jobs.states import JobState
    from app.models import LabRecipe
    from app.pipelines import follow

    demo = create_demo_project(session, n_questions=12)
    _own_answers(session, demo)
    scan = start_demo_scan(session, project_id=demo.id)
    for q in session.scalars(select(Question).where(Question.project_id == demo.id)):
        q.gold = None
    session.commit()
    follow(session, session.get(Job, scan.job_id), JobState.SUCCEEDED)
    session.commit()
    assert session.scalars(select(Job).where(Job.kind == "lab_sample")).first() is None
    assert session.scalars(select(LabRecipe).where(LabRecipe.project_id == demo.id)).all() == []
