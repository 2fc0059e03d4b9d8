"""The target as its own teacher without a server: the packaged model answers a sample in
the worker, with its own token counts, cached like any teacher's answers, and a cancel
keeps what was finished."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.lab import recipes as lab_recipes
from app.lab.plan import plan_sample
from app.models import LabAnswer, Project, Question
from app.schemas.lab import RecipeCreate
from app.specs.lab import LabSampleCreate
from tests.lab.project import run_sample
from workers.lab.engine import LOCAL_CHUNK, EngineConfig, generate
from workers.lab.local import LocalTeacher
from workers.lab.store import DbStore

pytestmark = pytest.mark.slow

PACKAGED = "packaged:SmolLM2-135M-Instruct"


def _project(session: Session, n: int, max_tokens: int) -> tuple[int, list[int]]:
    project = Project(name="own teacher", target_model=PACKAGED)
    session.add(project)
    session.flush()
    for i in range(n):
        text = f"Tom has {i + 2} apples and buys 3 more. How many apples does he have?"
        session.add(
            Question(
                project_id=project.id,
                text_key=f"q{i}",
                text=text,
                gold=f"{i + 2} + 3 = {i + 5}\n#### {i + 5}",
                position=i,
            )
        )
    direct = lab_recipes.preset("direct").model_dump() | {"max_tokens": max_tokens}
    version = lab_recipes.save_recipe(
        session, project_id=project.id, data=RecipeCreate(name="direct", **direct)
    )
    session.commit()
    return project.id, [version.latest.id]


def test_the_target_answers_a_sample_itself_and_a_second_run_reuses_it(
    session: Session,
) -> None:
    project_id, _ = _project(session, 3, max_tokens=24)
    ask = LabSampleCreate(recipes=["direct"], n_questions=3)
    row = run_sample(session, project_id, ask)
    assert row.queue == "gpu"
    assert (row.result["answered"], row.result["missing"], row.result["spent"]) == (3, 0, 0)
    answers = session.scalars(select(LabAnswer).where(LabAnswer.job_id == row.id)).all()
    assert len(answers) == 3
    for answer in answers:
        assert answer.text.strip(), "an answer of the packaged model is empty"
        assert answer.prompt_tokens > 20  # the chat template's system turn and the question
        assert 0 < answer.completion_tokens <= 24
        assert answer.finish_reason == ("length" if answer.completion_tokens == 24 else "stop")
        assert ("truncated" in answer.flags) == (answer.finish_reason == "length")
    # the same sample again: every answer from the cache, the model not asked
    second = run_sample(session, project_id, ask)
    assert (second.result["answered"], second.result["cached"]) == (0, 3)


def test_a_cancel_stops_the_local_teacher_and_keeps_the_finished_answers(
    session: Session,
) -> None:
    project_id, versions = _project(session, LOCAL_CHUNK + 4, max_tokens=4)
    qids = list(session.scalars(select(Question.id).where(Question.project_id == project_id)))
    plan = plan_sample(
        session, project_id=project_id, version_ids=versions, question_ids=qids, decrypt=True
    )
    assert all(r.endpoint.local for r in plan.requests)

    class Cancelled(Exception):
        pass

    def on_progress(report) -> None:  # type: ignore[no-untyped-def]
        if report.answered:
            raise Cancelled

    store = DbStore(project_id=project_id, job_id=None)
    local = LocalTeacher(cache_dir=get_settings().models_dir)
    report = asyncio.run(generate(plan.requests, store, EngineConfig(), on_progress, local))
    assert isinstance(report.error, Cancelled) and report.stopped == "cancelled"
    # the answers in hand are kept; the next chunk never started
    assert 0 < report.answered <= LOCAL_CHUNK < len(plan.requests)
    assert len(store.cached_keys([r.cache_key for r in plan.requests])) == report.answered
