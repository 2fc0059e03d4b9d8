"""The demo project: generated problems, styled strategies, and the target's own answers."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.jobs.lifecycle import create_job
from app.models import Project
from app.schemas.projects import ProjectCreate
from app.services.projects import create_project
from app.services.uploads import ingest_files

DEMO_NAME = "Demo: grade-school arithmetic"
DEMO_DESCRIPTION = (
    "Generated word problems with gold answers, answered in several clearly different styles, "
    "plus the target model's own answers (written by a job when the demo is created). "
    "Scan it to see which style the target model finds most familiar."
)
OWN_STRATEGY = "target_own_answers"


def ensure_demo_project(session: Session) -> Project | None:
    """Create the demo project once; later starts leave it alone."""
    existing = session.scalars(select(Project).where(Project.is_demo.is_(True))).first()
    if existing is not None:
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
    create_job(session, kind="generate_own_answers", project_id=project.id,
               spec={"strategy": OWN_STRATEGY})  # fmt: skip
    session.flush()
    return project
