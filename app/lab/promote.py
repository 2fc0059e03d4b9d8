"""A finished lab sample becomes strategies of the project, then their scan starts.

One strategy per recipe version (origin "lab"; named like the recipe, "direct v2"), holding
every answer the lab has for that version on the project's questions, whichever run paid
for it; its provenance (recipe version, teacher, model, sampling, tokens and cost) is kept
in ``Strategy.lab``. Called by the "lab sample" pipeline (``app.pipelines.lab``) in the
transaction that ends the job; idempotent: a version's strategy is found again and only
gains the answers it lacks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.models import (
    LabAnswer,
    LabRecipe,
    LabRecipeVersion,
    LabTeacher,
    Question,
    Response,
    Scan,
    Strategy,
)
from app.services.errors import BadInput
from app.specs.scan import ScanSpec

SCAN_SAMPLE = 50  # the research: about 50 questions tell strategies apart
UNUSABLE = ("empty", "refused")  # flags of answers a strategy leaves out


def _provenance(session: Session, version: LabRecipeVersion) -> dict[str, Any]:
    recipe = session.get(LabRecipe, version.recipe_id)
    teacher = session.get(LabTeacher, version.teacher_id) if version.teacher_id else None
    spent = session.execute(
        select(
            func.count(LabAnswer.id),
            func.coalesce(func.sum(LabAnswer.cost), 0.0),
            func.coalesce(func.sum(LabAnswer.prompt_tokens), 0),
            func.coalesce(func.sum(LabAnswer.completion_tokens), 0),
        ).where(LabAnswer.recipe_version_id == version.id)
    ).one()
    return {
        "recipe": recipe.name if recipe else "?",
        "recipe_version_id": version.id,
        "version": version.version,
        "kind": version.kind,
        "preset": version.preset,
        "teacher": teacher.name if teacher else None,
        "model": teacher.model if teacher else None,
        "temperature": version.temperature,
        "top_p": version.top_p,
        "max_tokens": version.max_tokens,
        "answers": int(spent[0]),
        "cost": float(spent[1]),
        "prompt_tokens": int(spent[2]),
        "completion_tokens": int(spent[3]),
    }


def _strategy_for(session: Session, project_id: int, version: LabRecipeVersion) -> Strategy:
    rows = session.scalars(
        select(Strategy).where(Strategy.project_id == project_id, Strategy.origin == "lab")
    ).all()
    for row in rows:
        if (row.lab or {}).get("recipe_version_id") == version.id:
            return row
    recipe = session.get(LabRecipe, version.recipe_id)
    base = f"{recipe.name if recipe else 'recipe'} v{version.version}"
    taken = set(session.scalars(select(Strategy.name).where(Strategy.project_id == project_id)))
    name = base if base not in taken else f"{base} (lab)"
    n = 2
    while name in taken:
        name, n = f"{base} (lab {n})", n + 1
    row = Strategy(project_id=project_id, name=name, origin="lab", source_filename="strategy lab")
    session.add(row)
    session.flush()
    return row


def promote_version(session: Session, *, project_id: int, version_id: int) -> Strategy | None:
    """The version's strategy with every usable answer the lab has for it (refusals and
    empty answers stay out: nothing to learn from); None when it has none."""
    version = session.get(LabRecipeVersion, version_id)
    if version is None:
        return None
    answers = session.scalars(
        select(LabAnswer)
        .where(LabAnswer.project_id == project_id, LabAnswer.recipe_version_id == version_id)
        .order_by(LabAnswer.id)
    ).all()
    latest = {a.question_id: a for a in answers if not set(a.flags or ()) & set(UNUSABLE)}
    if not latest:
        return None
    strategy = _strategy_for(session, project_id, version)
    have = set(
        session.scalars(select(Response.question_id).where(Response.strategy_id == strategy.id))
    )
    for qid, answer in sorted(latest.items()):
        if qid not in have:
            session.add(Response(strategy_id=strategy.id, question_id=qid, text=answer.text))
    strategy.lab = _provenance(session, version)
    session.flush()
    return strategy


def rivals(session: Session, project_id: int, lab_ids: list[int]) -> list[int]:
    """The project's other strategies (uploads, the target's own answers; not mixes) that
    answer every question the lab strategies share: the scan compares the recipes with
    them, so a sample of one recipe still has something to lose to, and an upload that the
    target learns better from is the pick (nothing to pay for)."""
    from app.services.scans import shared_question_ids

    shared = set(shared_question_ids(session, strategy_ids=lab_ids))
    out = []
    for row in session.scalars(
        select(Strategy)
        .where(Strategy.project_id == project_id, Strategy.origin.not_in(("lab", "mix")))
        .order_by(Strategy.id)
    ):
        answered = set(
            session.scalars(select(Response.question_id).where(Response.strategy_id == row.id))
        )
        if shared and shared <= answered:
            out.append(row.id)
    return out


def scan_spec(session: Session, project_id: int, strategy_ids: list[int]) -> ScanSpec:
    """PPL, SPPL, IFD on up to 50 questions every scanned strategy answered; SPPL's
    correctness filter only where the project has gold answers."""
    from app.services.scans import shared_question_ids

    shared = shared_question_ids(session, strategy_ids=strategy_ids)
    if not shared:
        raise BadInput("the recipes' answers share no question, so they cannot be compared")
    has_gold = session.scalar(
        select(Question.id)
        .where(Question.project_id == project_id, Question.gold.is_not(None))
        .limit(1)
    )
    return ScanSpec(
        strategy_ids=strategy_ids,
        sample=min(SCAN_SAMPLE, len(shared)),
        filter_correct=has_gold is not None,
        allow_unfiltered_fallback=True,
    )


def promote_and_scan(
    session: Session, *, project_id: int, version_ids: list[int], scan: bool = True
) -> dict[str, Any]:
    """Promote each version, then start one scan of them (sent when the caller commits).
    What happened, for the job's result: strategies made, the scan, or why none started."""
    from app.services.scans import start_scan

    made = [promote_version(session, project_id=project_id, version_id=v) for v in version_ids]
    strategies = [s for s in made if s is not None]
    out: dict[str, Any] = {
        "strategies": [{"id": s.id, "name": s.name} for s in strategies],
        "scan_id": None,
    }
    if strategies:  # token counts and answer checks: a known-wrong recipe is never the pick
        out["analyze_job_id"] = create_job(session, kind="analyze", project_id=project_id).id
    if not scan:
        return out
    if not strategies:
        out["scan_note"] = "no recipe has a usable answer: nothing to scan"
        return out
    lab_ids = [s.id for s in strategies]
    try:
        ids = lab_ids + rivals(session, project_id, lab_ids)
        started: Scan = start_scan(
            session, project_id=project_id, data=scan_spec(session, project_id, ids)
        )
    except BadInput as exc:
        out["scan_note"] = f"the scan did not start: {exc}"
        return out
    out["scan_id"] = started.id
    return out
