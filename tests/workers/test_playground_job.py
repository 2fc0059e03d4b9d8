"""The playground job with the packaged model: the untuned target and a really trained adapter
answer one question, each exactly as a validation's evaluation answers it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.jobs import lifecycle
from app.models import Question, ValidationRun
from app.specs.training import TrainSettings
from tests.app.test_results import IFD, PPL, SPPL
from tests.app.test_validations import _validated
from workers.tasks import execute

pytestmark = pytest.mark.slow
MAX_NEW_TOKENS = 16


@pytest.fixture
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: see tests/scoring/conftest.py
    yield
    torch.set_num_threads(before)


def _target():  # type: ignore[no-untyped-def]
    from workers.backends import load_backend

    settings = get_settings()
    return load_backend(
        "transformers", "packaged:SmolLM2-135M-Instruct", cache_dir=settings.models_dir
    )


def _train_adapter(out: Path) -> Path:
    """One optimizer step of LoRA on four short answers: a real adapter, quickly."""
    from workers.training import Example

    answer = "{i} + {i} = {s}\nFinal Answer: {s}"
    train = [Example(f"What is {i} plus {i}?", answer.format(i=i, s=2 * i)) for i in range(4)]
    settings = TrainSettings(epochs=1, batch_size=4, learning_rate=5e-3, max_length=96)
    result = _target().train_adapter(train, [], settings, out, score=lambda o, g: False)
    return Path(result.best.path)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_answers_are_the_evaluations_answers(client, session, _one_thread, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workers.evaluation.run import EvalQuestion, evaluate_model

    right = {"alpha": [True] * 4, "beta": [False] * 4, "gamma": [False] * 4}
    pid, _, _ = _validated(client, session, right, values={"sppl": SPPL, "ppl": PPL, "ifd": IFD})
    run = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).first()
    adapter = _train_adapter(tmp_path / "run")
    run.adapter_dir = str(adapter)
    session.commit()
    question = session.scalars(
        select(Question).where(Question.project_id == pid).order_by(Question.position.desc())
    ).first()

    client.cookies.clear()
    body = {"question_id": question.id, "run_ids": [run.id], "max_new_tokens": MAX_NEW_TOKENS}
    job = client.post(f"/api/v1/projects/{pid}/playground", json=body).json()
    with session_scope() as s:
        lease = lifecycle.claim(s, job_id=job["id"], owner="test-worker")
    execute(lease, job["kind"], job["spec"], job["project_id"])
    done = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done["error"]
    answers = done["result"]["answers"]
    assert [a["label"] for a in answers] == ["target (untuned)", "alpha, seed 0"]
    assert done["result"]["gold"] == question.gold and done["result"]["extractor"] == "last_number"
    assert all(0 < a["new_tokens"] <= MAX_NEW_TOKENS and a["output"] for a in answers)
    assert all(isinstance(a["correct"], bool) for a in answers)  # judged: the question has a gold

    # the same question through the validation's evaluation: the same texts and verdicts
    target = _target()
    q = [EvalQuestion("q", question.text, question.gold)]
    for answer, through in zip(answers, (None, adapter), strict=True):
        ev = evaluate_model(
            target,
            None,
            q,
            extractor="last_number",
            adapter=through,
            max_new_tokens=MAX_NEW_TOKENS,
        ).predictions[0]
        assert (answer["output"], answer["extracted"], answer["correct"]) == (
            ev.output,
            ev.extracted,
            ev.correct,
        )
    assert answers[0]["output"] != answers[1]["output"]  # the adapter did answer

    page = client.get(f"/projects/{pid}/playground").text
    assert "alpha, seed 0" in page and 'class="side-by-side" style="--cols: 2"' in page
