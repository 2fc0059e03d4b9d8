"""The training and evaluation parts of the backend contract (``workers.backends.base``).

Evaluation is ``generate`` (through an adapter or none) plus Familiar's judge
(``workers.evaluation.run.evaluate_model``): two backends that generate the same greedy
texts give the same predictions and accuracy. Training: the transformers backend trains a
tiny LoRA adapter, reports every step, lowers the loss and stops on a cancel (a progress
callback that raises, or ``should_stop``); a backend whose registry entry does not train
raises ``BackendCapabilityError``. All on the tiny random float32 model of test_contract.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from app.backends import backend_names, get_backend_kind, registered_backend
from tests.backends.reference_backend import ReferenceBackend
from tests.backends.test_contract import REFERENCE, Cancelled
from tests.scoring.test_scan import QUESTIONS, tiny_target
from tests.training.conftest import contains, examples, settings, val_examples
from workers.backends.base import BackendCapabilityError, ModelBackend
from workers.backends.transformers import TransformersBackend
from workers.evaluation.run import EvalQuestion, evaluate_model
from workers.training import TrainingCancelled


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine (tests/scoring/conftest.py)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", autouse=True)
def _reference_registered() -> Iterator[None]:
    with registered_backend(REFERENCE):
        yield


@pytest.fixture
def target():  # type: ignore[no-untyped-def]
    return tiny_target()  # fresh: training may cast or wrap the model


def _backends(target) -> list[ModelBackend]:  # type: ignore[no-untyped-def]
    return [TransformersBackend(target), ReferenceBackend(target)]


MAX_NEW = 24


def _questions(target) -> tuple[list[EvalQuestion], float]:  # type: ignore[no-untyped-def]
    """Six questions, the first three with the model's own greedy answer as their gold (so
    the accuracy is not a trivial 0), and the accuracy a judge of those texts must give."""
    plain = [EvalQuestion(k, q, "no such answer") for k, q, _ in QUESTIONS[:6]]
    first = evaluate_model(
        ReferenceBackend(target), None, plain, extractor="exact_match", max_new_tokens=MAX_NEW
    )
    outputs = [p.output for p in first.predictions[:3] if p.output.strip()]
    questions = [
        EvalQuestion(q.question_id, q.question, outputs[i] if i < len(outputs) else q.gold)
        for i, q in enumerate(plain)
    ]
    return questions, len(outputs) / len(questions)


def test_evaluation_through_either_backend_gives_the_same_answers_and_accuracy(target) -> None:  # type: ignore[no-untyped-def]
    questions, accuracy = _questions(target)
    assert accuracy > 0  # the tiny model answers something
    results = []
    for backend in _backends(target):
        seen: list[int] = []
        result = evaluate_model(
            backend,
            None,
            questions,
            extractor="exact_match",
            max_new_tokens=MAX_NEW,
            on_progress=lambda done, _total, seen=seen: seen.append(done),
        )
        assert seen[-1] == len(questions) and result.accuracy == accuracy, backend.kind
        results.append(
            [(p.question_id, p.output, p.extracted, p.correct) for p in result.predictions]
        )
    assert results[0] == results[1]


def test_a_backend_without_adapters_refuses_to_evaluate_through_one(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    questions = [EvalQuestion("k1", QUESTIONS[1][1], "2")]
    with pytest.raises(BackendCapabilityError):
        evaluate_model(
            ReferenceBackend(target), None, questions, extractor="exact_match", adapter=tmp_path
        )


def test_the_transformers_backend_trains_reports_and_lowers_the_loss(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = TransformersBackend(target)
    assert get_backend_kind(backend.kind).trains
    steps, checkpoints = [], []
    result = backend.train_adapter(
        examples(8),
        val_examples(2),
        settings(epochs=4, eval_every=0),  # 8 examples / 4 = 2 steps an epoch, 8 in all
        tmp_path,
        score=contains,
        on_step=steps.append,
        on_checkpoint=checkpoints.append,
    )
    assert [s.step for s in steps] == list(range(1, 9)) and steps[-1].total_steps == 8
    assert [c.step for c in checkpoints] == [2, 4, 6, 8] and result.total_steps == 8
    assert steps[-1].loss < steps[0].loss
    assert result.best.path.is_dir() and not result.stopped_early


def test_a_cancel_from_progress_or_should_stop_ends_training(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = TransformersBackend(target)

    def on_step(log) -> None:  # type: ignore[no-untyped-def]
        if log.step == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        backend.train_adapter(
            examples(8), [], settings(epochs=4), tmp_path / "a", score=contains, on_step=on_step
        )
    seen: list = []
    with pytest.raises(TrainingCancelled) as stopped:
        backend.train_adapter(
            examples(8),
            [],
            settings(epochs=4),
            tmp_path / "b",
            score=contains,
            on_step=seen.append,
            should_stop=lambda: len(seen) >= 3,
        )
    assert stopped.value.step == 3 and len(seen) == 3
    assert not any("lora" in name for name, _ in target.model.named_modules())


def test_a_backend_that_does_not_train_refuses(target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "reference" in backend_names() and not get_backend_kind("reference").trains
    with pytest.raises(BackendCapabilityError):
        ReferenceBackend(target).train_adapter(
            examples(4), [], settings(), tmp_path, score=contains
        )
    assert not any(tmp_path.iterdir())  # refused before any work
