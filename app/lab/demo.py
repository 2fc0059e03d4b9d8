"""The demo project's strategy lab run: the target as its own teacher under several of the
research's presets, so a newcomer sees a finished sample -> scan -> pick without a key or a
server. It starts after the demo's first scan (``app.pipelines.demo``), so the first result
comes as fast as before; the sample's own scan then starts as for any sample."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.lab.presets import preset
from app.lab.recipes import save_recipe
from app.lab.samples import KIND, start_sample
from app.models import Job, Project
from app.schemas.jobs import JobRead
from app.schemas.lab import RecipeCreate
from app.specs.lab import LabSampleCreate

# three teacher presets the 135M target can follow (it answers one-step problems) and a
# rule preset; every teacher answer is capped short: the demo's answers are a few lines
DEMO_PRESETS = ("direct", "step_by_step", "simple_response", "rule_answer_first")
DEMO_MAX_TOKENS = 128
DEMO_SEED = 0


def start_demo_lab(session: Session, *, project_id: int) -> JobRead | None:
    """Queue the demo's lab sample once (nothing for another project, when it already has a
    lab run, or when ``demo_lab_questions`` is 0). Sent when the caller commits."""
    n = get_settings().demo_lab_questions
    project = session.get(Project, project_id)
    if project is None or not project.is_demo or n == 0:
        return None
    if session.scalar(
        select(Job.id).where(Job.project_id == project_id, Job.kind == KIND).limit(1)
    ):
        return None
    for name in DEMO_PRESETS:
        content = preset(name).model_copy(update={"max_tokens": DEMO_MAX_TOKENS})
        save_recipe(
            session, project_id=project_id, data=RecipeCreate(name=name, **content.model_dump())
        )
    data = LabSampleCreate(recipes=list(DEMO_PRESETS), n_questions=n, seed=DEMO_SEED)
    return start_sample(session, project_id=project_id, data=data)
