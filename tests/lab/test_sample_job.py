"""A lab sample end to end: the estimate, the queued job, the worker against a real vLLM
server behind the fault proxy, the job row's progress and result; no key anywhere."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lab import recipes as lab_recipes
from app.lab import samples as lab_samples
from app.models import Job, LabAnswer, LabFault
from app.schemas.lab import RecipeCreate
from app.specs.lab import LabSampleCreate
from tests.lab.fault_proxy import FaultProxy
from tests.lab.project import KEY, make_lab_project
from tests.vllm_server import VllmServer

pytestmark = pytest.mark.slow


def _add_rule_recipe(session: Session, project_id: int) -> None:
    rule = lab_recipes.preset("rule_answer_first")
    data = RecipeCreate(name="rule", **rule.model_dump())
    lab_recipes.save_recipe(session, project_id=project_id, data=data)
    session.commit()


def test_a_sample_job_generates_counts_spends_and_never_shows_the_key(
    session: Session, vllm_server: VllmServer, caplog: pytest.LogCaptureFixture
) -> None:
    from workers.tasks import run_job

    caplog.set_level(logging.DEBUG)
    with FaultProxy(vllm_server.base_url) as proxy:
        lab = make_lab_project(
            session,
            base_url=proxy.base_url,
            model=vllm_server.model,
            tokenizer=str(vllm_server.model_dir),
        )
        _add_rule_recipe(session, lab.project_id)
        ask = LabSampleCreate(recipes=["direct", "step_by_step", "rule"], n_questions=4, seed=7)
        estimate = lab_samples.estimate_sample(session, project_id=lab.project_id, data=ask)
        assert estimate["questions"] == 4 and estimate["seed"] == 7
        by_recipe = {r["recipe"]: r for r in estimate["recipes"]}
        assert by_recipe["direct v1"]["requests"] == 4 and by_recipe["rule v1"]["worst_cost"] == 0
        assert by_recipe["direct v1"]["prompt_tokens"] > 4 * 20
        job = lab_samples.start_sample(session, project_id=lab.project_id, data=ask)
        session.commit()
        proxy.load("500", "refusal")
        run_job(job.id)
    session.expire_all()
    row = session.get(Job, job.id)
    assert row is not None and row.status == "succeeded", row.error if row else None
    result = row.result or {}
    assert (result["answered"], result["rule_answers"], result["missing"]) == (8, 4, 0)
    assert result["faults"] == {"server_error": 1}
    assert result["spent"] > 0
    assert row.progress_extra["spent"] == pytest.approx(result["spent"], abs=1e-6)
    recipes = {r["recipe"]: r for r in result["recipes"]}
    assert recipes["direct v1"]["answered"] + recipes["step_by_step v1"]["answered"] == 8
    assert sum(r.get("refused", 0) for r in recipes.values()) == 1
    answers = session.scalars(select(LabAnswer).where(LabAnswer.job_id == job.id)).all()
    assert len(answers) == 12
    assert session.scalars(select(LabFault.kind)).all() == ["server_error"]
    # the key: not in the job row, its spec, result, log or error, nor in any log line
    text = json.dumps([row.spec, row.result, row.log, row.error, row.progress_extra])
    assert KEY[:16] not in text
    assert all(KEY[:16] not in r.getMessage() for r in caplog.records)


def test_estimate_approximates_without_a_tokenizer_and_refuses_foreign_questions(
    session: Session,
) -> None:
    from app.services.errors import BadInput

    lab = make_lab_project(session, base_url="http://127.0.0.1:9/v1", model="m")
    ask = LabSampleCreate(recipes=["direct"], n_questions=2)
    out = lab_samples.estimate_sample(session, project_id=lab.project_id, data=ask)
    assert out["recipes"][0]["counted_with"] == "approximation: characters / 4"
    with pytest.raises(BadInput, match="not in this project"):
        bad = LabSampleCreate(recipes=["direct"], question_ids=[999_999])
        lab_samples.start_sample(session, project_id=lab.project_id, data=bad)
