"""Samples: which questions (drawn with a recorded seed, the same for every recipe), which
recipe versions (each recipe's latest), the estimate before starting, and the job."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.lab.budget import run_limit
from app.lab.plan import estimate, plan_sample
from app.models import LabRecipe, LabRecipeVersion, Project, Question
from app.schemas.jobs import JobRead
from app.services.errors import BadInput, NotFound
from app.services.jobs import with_context
from app.specs.lab import LabSampleCreate, LabSampleSpec

KIND = "lab_sample"


def draw_questions(session: Session, *, project_id: int, n: int, seed: int) -> list[int]:
    """``n`` of the project's question ids, drawn with ``seed`` (in upload order)."""
    ids = list(
        session.scalars(
            select(Question.id).where(Question.project_id == project_id).order_by(Question.id)
        )
    )
    if not ids:
        raise BadInput("the project has no questions yet: upload some first")
    picked = random.Random(seed).sample(ids, min(n, len(ids)))
    return sorted(picked)


def latest_versions(session: Session, *, project_id: int, names: list[str]) -> list[int]:
    out = []
    for name in names:
        recipe = session.scalars(
            select(LabRecipe).where(LabRecipe.project_id == project_id, LabRecipe.name == name)
        ).first()
        if recipe is None:
            raise NotFound(f"no recipe named '{name}' in project {project_id}")
        version = session.scalars(
            select(LabRecipeVersion.id)
            .where(LabRecipeVersion.recipe_id == recipe.id)
            .order_by(LabRecipeVersion.version.desc())
        ).first()
        out.append(version)
    return out  # type: ignore[return-value]


def sample_spec(session: Session, *, project_id: int, data: LabSampleCreate) -> LabSampleSpec:
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} not found")
    questions = list(data.question_ids or []) or draw_questions(
        session, project_id=project_id, n=data.n_questions, seed=data.seed
    )
    return LabSampleSpec(
        recipe_version_ids=latest_versions(session, project_id=project_id, names=data.recipes),
        question_ids=questions,
        seed=None if data.question_ids else data.seed,
        budget=data.budget,
        concurrency=data.concurrency,
    )


def estimate_spec(session: Session, *, project_id: int, spec: LabSampleSpec) -> dict[str, Any]:
    """What the run would send and cost at most, per recipe, and the budget that binds;
    nothing is sent."""
    plan = plan_sample(
        session,
        project_id=project_id,
        version_ids=spec.recipe_version_ids,
        question_ids=spec.question_ids,
    )
    out = estimate(plan)
    out |= {"questions": len(spec.question_ids), "seed": spec.seed, "budget": spec.budget}
    limit = run_limit(session, project_id=project_id, job_id=None, run_budget=spec.budget)
    out |= {"cap": limit.cap, "cap_named": limit.named}
    out["within_budget"] = limit.cap is None or out["worst_cost"] <= limit.cap
    return out


def start_spec(session: Session, *, project_id: int, spec: LabSampleSpec) -> JobRead:
    plan = plan_sample(  # refuses now what the worker would refuse later (templates, questions)
        session,
        project_id=project_id,
        version_ids=spec.recipe_version_ids,
        question_ids=spec.question_ids,
    )
    if unserved := sorted(
        {plan.labels[r.recipe_version_id] for r in plan.requests if not r.endpoint.base_url}
    ):
        raise BadInput(  # the worker would fail on it: say so before the job exists
            f"{', '.join(unserved)}: the teacher has no base URL; give it one",
            field="recipes",
        )
    # the target answering in the worker is model work; teachers behind URLs only wait
    local = any(r.endpoint.local for r in plan.requests)
    queue = "gpu" if local else "network"
    job = create_job(session, kind=KIND, project_id=project_id, spec=spec, queue=queue)
    session.flush()
    return with_context(session, job)


def estimate_sample(session: Session, *, project_id: int, data: LabSampleCreate) -> dict[str, Any]:
    """What the sample would send and cost at most, per recipe, before anything is sent."""
    spec = sample_spec(session, project_id=project_id, data=data)
    return estimate_spec(session, project_id=project_id, spec=spec)


def start_sample(session: Session, *, project_id: int, data: LabSampleCreate) -> JobRead:
    spec = sample_spec(session, project_id=project_id, data=data)
    return start_spec(session, project_id=project_id, spec=spec)
