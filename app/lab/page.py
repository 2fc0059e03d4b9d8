"""The lab page's data (and its JSON twin): teachers, recipes with every version, the
presets with their sources, the project's lab samples with their progress, its price table
and budget."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab.budget import get_budget, job_spent, list_prices
from app.lab.full_set import lab_strategies
from app.lab.presets import PRESETS
from app.lab.recipes import version_read
from app.lab.story import lab_story
from app.lab.teachers import list_teachers
from app.models import Job, LabFault, LabRecipe, LabRecipeVersion, LabTeacher
from app.schemas.lab import LabPage, LabRunRead, PresetRead, RecipeWithVersions
from app.services.jobs import with_context

RUNS_SHOWN = 10


def _recipes(session: Session, project_id: int) -> list[RecipeWithVersions]:
    teachers = {
        t.id: t
        for t in session.scalars(select(LabTeacher).where(LabTeacher.project_id == project_id))
    }
    out = []
    for recipe in session.scalars(
        select(LabRecipe).where(LabRecipe.project_id == project_id).order_by(LabRecipe.name)
    ):
        rows = session.scalars(
            select(LabRecipeVersion)
            .where(LabRecipeVersion.recipe_id == recipe.id)
            .order_by(LabRecipeVersion.version.desc())
        )
        versions = [version_read(v, teachers.get(v.teacher_id or 0)) for v in rows]
        out.append(RecipeWithVersions(id=recipe.id, name=recipe.name, versions=versions))
    return out


def _run(session: Session, job: Job) -> LabRunRead:
    """Spend and faults read from the rows written so far (a running job shows them too)."""
    spent = job_spent(session, job_id=job.id)
    faults = dict(
        session.execute(
            select(LabFault.kind, func.count())
            .where(LabFault.job_id == job.id)
            .group_by(LabFault.kind)
        ).all()
    )
    recipes = list((job.result or {}).get("recipes") or [])
    return LabRunRead(
        job=with_context(session, job),
        spent=spent,
        faults=faults,
        recipes=recipes,
        promoted=(job.result or {}).get("promoted"),
    )


def lab_page(session: Session, *, project_id: int) -> LabPage:
    teachers = list_teachers(session, project_id=project_id).teachers
    jobs = session.scalars(
        select(Job)
        .where(Job.project_id == project_id, Job.kind == "lab_sample")
        .order_by(Job.id.desc())
        .limit(RUNS_SHOWN)
    )
    return LabPage(
        project_id=project_id,
        teachers=teachers,
        recipes=_recipes(session, project_id),
        presets=[PresetRead(name=n, kind=p.kind, source=p.source) for n, p in PRESETS.items()],
        runs=[_run(session, j) for j in jobs],
        prices=list_prices(session, project_id=project_id),
        budget=get_budget(session, project_id=project_id),
        strategies=lab_strategies(session, project_id=project_id),
        story=lab_story(session, project_id=project_id),
    )
