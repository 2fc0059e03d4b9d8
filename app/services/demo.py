"""The demo project: generated problems, styled strategies, and the target's own answers."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.jobs.lifecycle import create_job
from app.models import Project, Scan, Strategy
from app.schemas.projects import ProjectCreate
from app.services.projects import create_project
from app.services.uploads import ingest_files
from app.specs.scan import ScanSpec

DEMO_NAME = "Demo: grade-school arithmetic"
DEMO_DESCRIPTION = (
    "Generated word problems with gold answers, answered in several clearly different styles, "
    "plus the target model's own answers (written by a job when the demo is created). "
    "Scan it to see which style the target model finds most familiar."
)
OWN_STRATEGY = "target_own_answers"


def ensure_demo_project(session: Session) -> Project | None:
    """Create the demo project on a first start, when there is no project at all. A user who
    deleted the demo but keeps projects of their own does not get it back."""
    if session.scalar(select(Project.id).limit(1)) is not None:
        return None
    return create_demo_project(session, n_questions=get_settings().demo_questions)


def create_demo_project(session: Session, *, n_questions: int, seed: int = 0) -> Project:
    from app.demo.problems import generate_problems
    from app.demo.styles import STYLES, render_strategy

    project = create_project(
        session, data=ProjectCreate(name=DEMO_NAME, description=DEMO_DESCRIPTION), is_demo=True
    )
    problems = generate_problems(n_questions, seed=seed)
    files = [
        (f"{name}.json", json.dumps(render_strategy(name, problems), indent=1).encode())
        for name in STYLES
    ]
    ingest_files(session, project_id=project.id, files=files, origin="demo")
    from app.services.validations.presets import add_demo_test_set

    add_demo_test_set(session, project_id=project.id)  # held-out problems for validation
    create_job(
        session, kind="generate_own_answers", project_id=project.id, spec={"strategy": OWN_STRATEGY}
    )
    session.flush()
    return project


DEMO_SCAN_SAMPLE = 30  # sized so the first result comes within minutes on a 2-core CPU


def demo_scan_spec(n_shared: int) -> ScanSpec:
    """The demo's first scan. The unfiltered fallback is allowed so a target that answers
    too few problems right still gives a result (labelled as unfiltered on the page)."""
    return ScanSpec(sample=max(1, min(DEMO_SCAN_SAMPLE, n_shared)), allow_unfiltered_fallback=True)


def start_demo_scan(session: Session, *, project_id: int) -> Scan | None:
    """Queue the demo project's first scan once its own answers are in (nothing if it is not
    the demo or already has a scan). Sent when the caller commits."""
    from app.services.scans import shared_question_ids, start_scan

    project = session.get(Project, project_id)
    if project is None or not project.is_demo:
        return None
    if session.scalar(select(Scan.id).where(Scan.project_id == project_id).limit(1)):
        return None
    session.flush()
    ids = list(session.scalars(select(Strategy.id).where(Strategy.project_id == project_id)))
    shared = shared_question_ids(session, strategy_ids=ids)
    if not shared:
        return None
    return start_scan(session, project_id=project_id, data=demo_scan_spec(len(shared)))
