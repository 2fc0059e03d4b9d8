"""A sample's plan: every (recipe version, question) as a teacher request or a rule answer,
with its prompt rendered, its tokens counted and its worst-case cost; and the estimate a
user sees before starting. The worker runs the same plan (``workers.jobs.lab``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lab.budget import price_of
from app.lab.prompts import PromptInput, TemplateProblem, messages, render, variables_used
from app.lab.teachers import TARGET, Endpoint, endpoint_for
from app.lab.tokens import counter_for
from app.lab.types import LabRequest, Params
from app.models import LabRecipe, LabRecipeVersion, LabTeacher, OwnAnswer, Question
from app.services.errors import BadInput


@dataclass(frozen=True)
class RuleAnswer:
    """An answer a rule recipe writes itself (no teacher, no cost)."""

    recipe_version_id: int
    question_id: int
    text: str
    cache_key: str


@dataclass
class Plan:
    requests: list[LabRequest] = field(default_factory=list)
    rules: list[RuleAnswer] = field(default_factory=list)
    counting: dict[int, str] = field(default_factory=dict)  # version id -> how tokens count
    labels: dict[int, str] = field(default_factory=dict)  # version id -> "name v2"


def _inputs(session: Session, question_ids: list[int], project_id: int) -> list[PromptInput]:
    rows = session.scalars(
        select(Question).where(Question.project_id == project_id, Question.id.in_(question_ids))
    ).all()
    by_id = {q.id: q for q in rows}
    missing = [q for q in question_ids if q not in by_id]
    if missing:
        raise BadInput(f"questions not in this project: {missing[:10]}", field="question_ids")
    own = {
        a.question_id: a.text
        for a in session.scalars(
            select(OwnAnswer)
            .where(OwnAnswer.question_id.in_(question_ids))
            .order_by(OwnAnswer.created_at)
        )
    }
    return [PromptInput(by_id[q].text, by_id[q].gold or None, own.get(q)) for q in question_ids]


def _endpoint(teacher: LabTeacher, decrypt: bool) -> Endpoint:
    if decrypt or (teacher.kind == TARGET and not teacher.base_url):
        return endpoint_for(teacher)
    return Endpoint(teacher.base_url or "", teacher.model, "", teacher.max_concurrency)


def _versions(session: Session, project_id: int, ids: list[int]) -> list[LabRecipeVersion]:
    rows = session.scalars(
        select(LabRecipeVersion)
        .join(LabRecipe, LabRecipe.id == LabRecipeVersion.recipe_id)
        .where(LabRecipe.project_id == project_id, LabRecipeVersion.id.in_(ids))
    ).all()
    found = {r.id: r for r in rows}
    if missing := [i for i in ids if i not in found]:
        raise BadInput(f"recipe versions not in this project: {missing}", field="recipes")
    return [found[i] for i in ids]


def rule_key(version_id: int, question: str) -> str:
    return hashlib.sha256(json.dumps(["rule", version_id, question]).encode()).hexdigest()


def plan_sample(
    session: Session,
    *,
    project_id: int,
    version_ids: list[int],
    question_ids: list[int],
    decrypt: bool = False,
) -> Plan:
    """Every request of the sample; ``decrypt`` (the worker only) puts the real keys in."""
    inputs = _inputs(session, question_ids, project_id)
    plan = Plan()
    for version in _versions(session, project_id, version_ids):
        recipe = session.get(LabRecipe, version.recipe_id)
        plan.labels[version.id] = f"{recipe.name if recipe else '?'} v{version.version}"
        try:
            _plan_version(session, plan, version, question_ids, inputs, decrypt)
        except TemplateProblem as exc:
            raise BadInput(f"{plan.labels[version.id]}: {exc}", field="recipes") from None
    return plan


def _plan_version(
    session: Session,
    plan: Plan,
    version: LabRecipeVersion,
    question_ids: list[int],
    inputs: list[PromptInput],
    decrypt: bool,
) -> None:
    examples = list(version.examples or [])
    _check_inputs(version, question_ids, inputs)
    if version.kind == "rule":
        plan.counting[version.id] = "rule: no teacher call"
        for qid, data in zip(question_ids, inputs, strict=True):
            text = render(version.user_template, _with(data, examples), "rule")
            plan.rules.append(
                RuleAnswer(version.id, qid, text, rule_key(version.id, data.question))
            )
        return
    teacher = session.get(LabTeacher, version.teacher_id)
    assert teacher is not None  # teacher versions always name one (RESTRICT on delete)
    endpoint = _endpoint(teacher, decrypt)
    if endpoint.local and version.temperature > 0:
        raise TemplateProblem(
            f"temperature {version.temperature:g}: the target teacher without a server answers "
            "in the worker, greedily; set temperature 0, or give the target teacher the URL "
            "of a server that serves the target"
        )
    count, how = counter_for(teacher)
    plan.counting[version.id] = how
    price = price_of(session, project_id=teacher.project_id, model=teacher.model)
    params = Params(version.temperature, version.top_p, version.max_tokens)
    for qid, data in zip(question_ids, inputs, strict=True):
        msgs = messages(version.system_template, version.user_template, _with(data, examples))
        plan.requests.append(
            LabRequest(
                recipe_version_id=version.id,
                question_id=qid,
                question=data.question,
                endpoint=endpoint,
                messages=msgs,
                params=params,
                price=price,
                prompt_tokens_estimate=count(msgs),
                strip_prefix=version.strip_prefix,
                stop_marker=version.stop_marker,
            )
        )


NEEDS = {
    "gold": "gold answer",
    "own_answer": "own answer of the target (run the own-answers job first)",
}


def _check_inputs(
    version: LabRecipeVersion, question_ids: list[int], inputs: list[PromptInput]
) -> None:
    """A recipe that uses ``gold`` or ``own_answer`` needs it for every question."""
    used = variables_used(version.system_template, version.user_template)
    for name, what in NEEDS.items():
        if name not in used:
            continue
        lacking = [q for q, d in zip(question_ids, inputs, strict=True) if not getattr(d, name)]
        if lacking:
            raise TemplateProblem(
                f"uses {name}: {len(lacking)} question(s) have no {what}, e.g. question "
                f"{lacking[0]}"
            )


def _with(data: PromptInput, examples: list[str]) -> PromptInput:
    return PromptInput(data.question, data.gold, data.own_answer, examples)


def estimate(plan: Plan) -> dict[str, Any]:
    """Per recipe version: requests, prompt tokens, worst-case completion tokens and cost
    (every answer as long as max_tokens), and how the tokens were counted."""
    per: dict[int, dict[str, Any]] = {}
    for vid, label in plan.labels.items():
        per[vid] = {"recipe": label, "requests": 0, "prompt_tokens": 0, "max_completion_tokens": 0}
        per[vid] |= {"worst_cost": 0.0, "counted_with": plan.counting.get(vid, "")}
    for req in plan.requests:
        row = per[req.recipe_version_id]
        row["requests"] += 1
        row["prompt_tokens"] += req.prompt_tokens_estimate
        row["max_completion_tokens"] += req.params.max_tokens
        row["worst_cost"] += req.worst_cost()
    for rule in plan.rules:
        per[rule.recipe_version_id]["requests"] += 1
    total = sum(r["worst_cost"] for r in per.values())
    return {"recipes": list(per.values()), "worst_cost": total}
