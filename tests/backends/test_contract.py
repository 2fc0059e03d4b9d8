"""The contract every model backend passes (``workers.backends.base.ModelBackend``).

Run here for the in-process transformers backend and for a second backend written outside
Familiar's code (tests/backends/reference_backend.py: one item at a time, plain
``generate``), on a tiny random float32 model: the same numbers on the same items (scores
within 1e-4 relative of the independent float32 reference, identical greedy texts),
progress that reaches the total, a cancel raised from a progress report that stops the
work and keeps what was delivered, and a scan whose values agree across backends.
"""

from __future__ import annotations

import math

import pytest

from app.backends import BackendKind, get_backend_kind, registered_backend
from app.specs.scan import ScanSpec
from tests.backends.reference_backend import LOADED, ReferenceBackend
from tests.scoring.test_scan import QUESTIONS, RESPONSES, tiny_target
from workers.backends import load_backend
from workers.backends.base import BackendCapabilityError, ModelBackend
from workers.backends.transformers import TransformersBackend
from workers.scoring.items import ScoreItem
from workers.scoring.prompts import PromptBuilder
from workers.scoring.reference import reference_score
from workers.scoring.scan import run_scan

TOLERANCE = 1e-4  # relative, on summed NLL (float32 on both sides)
REFERENCE = BackendKind(
    "reference", "1", "tests.backends.reference_backend:load_reference", "tests only"
)


class Cancelled(Exception):
    pass


@pytest.fixture(scope="module")
def target():  # type: ignore[no-untyped-def]
    return tiny_target()


@pytest.fixture(params=["transformers", "reference"])
def backend(request, target):  # type: ignore[no-untyped-def]
    return (
        TransformersBackend(target) if request.param == "transformers" else ReferenceBackend(target)
    )


def _items(target) -> list[ScoreItem]:  # type: ignore[no-untyped-def]
    b = PromptBuilder(target.tokenizer)
    prompts = [b.prompt_ids(b.ppl_prompt(q)) for _, q, _ in QUESTIONS[:4]]
    answers = ["4", "It is 6, of course.", "", "x" * 300]  # short, long, empty, truncated
    return [ScoreItem(p, b.response_ids(a)) for p in prompts for a in answers]


def test_it_is_a_model_backend(backend) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(backend, ModelBackend)
    assert (
        backend.tag.startswith(backend.kind + "@") and backend.describe()["backend"] == backend.tag
    )


def test_scores_equal_the_independent_reference(backend, target) -> None:  # type: ignore[no-untyped-def]
    items, limit = _items(target), 120
    got = backend.score(items, max_length=limit)
    for item, result in zip(items, got, strict=True):
        want = reference_score(target.model, item, max_length=limit)
        assert (result.n_tokens, result.truncated, result.empty) == (
            want.n_tokens,
            want.truncated,
            want.empty,
        )
        if want.n_tokens:
            assert result.sum_nll == pytest.approx(want.sum_nll, rel=TOLERANCE)
        else:
            assert math.isnan(result.ppl)


def test_score_progress_reaches_the_total_and_batches_cover_every_item(backend, target) -> None:  # type: ignore[no-untyped-def]
    items, seen, delivered = _items(target), [], {}
    backend.score(items, on_progress=lambda d, t, _: seen.append((d, t)), on_batch=delivered.update)
    assert seen[-1] == (len(items), len(items)) and [d for d, _ in seen] == sorted(
        d for d, _ in seen
    )
    assert set(delivered) >= {i for i, it in enumerate(items) if it.response_ids}


def test_a_cancel_stops_scoring_and_keeps_what_was_delivered(backend, target) -> None:  # type: ignore[no-untyped-def]
    items, delivered = _items(target), {}

    def progress(done: int, total: int, _tokens: int) -> None:
        if done >= 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        backend.score(items, token_budget=64, on_progress=progress, on_batch=delivered.update)
    assert 2 <= len(delivered) < len(items)


def test_greedy_generation_agrees_and_reports(backend, target) -> None:  # type: ignore[no-untyped-def]
    b = PromptBuilder(target.tokenizer)
    prompts = [b.prompt_ids(b.generation_prompt(q)) for _, q, _ in QUESTIONS[:3]]
    other = (
        ReferenceBackend(target) if backend.kind == "transformers" else TransformersBackend(target)
    )
    seen, answered = [], {}
    texts = backend.generate(
        prompts,
        max_new_tokens=6,
        on_progress=lambda d, t: seen.append(d),
        on_answer=answered.__setitem__,
    )
    assert texts == other.generate(prompts, max_new_tokens=6)
    assert seen[-1] == 3 and answered == dict(enumerate(texts))

    def stop(done: int, _total: int) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        backend.generate(prompts, max_new_tokens=6, on_progress=stop)


def test_a_scan_through_either_backend_gives_the_same_values(target) -> None:  # type: ignore[no-untyped-def]
    spec = ScanSpec(metrics=["ppl", "ifd"], sample=4, seed=1)
    fast = run_scan(spec, TransformersBackend(target), QUESTIONS, RESPONSES)
    plain = run_scan(spec, ReferenceBackend(target), QUESTIONS, RESPONSES)
    for strategy, metrics in fast.values.items():
        for metric, rows in metrics.items():
            other = [r["value"] for r in plain.values[strategy][metric]]
            assert [r["value"] for r in rows] == pytest.approx(other, rel=TOLERANCE, nan_ok=True), (
                metric
            )
    assert fast.model["backend"] == "transformers@1" and plain.model["backend"] == "reference@1"


def test_a_registered_backend_is_loaded_by_name_and_refused_where_it_cannot(target) -> None:  # type: ignore[no-untyped-def]
    LOADED["tiny"] = target
    with registered_backend(REFERENCE):
        loaded = load_backend("reference", "tiny", cache_dir=None)  # type: ignore[arg-type]
        assert (
            isinstance(loaded, ReferenceBackend)
            and get_backend_kind("reference").tag == "reference@1"
        )
        assert ScanSpec(backend="reference").backend == "reference"
        with pytest.raises(BackendCapabilityError):
            loaded.train_adapter()
        from app.specs.validation import ValidationInputError, ValidationSpec

        with pytest.raises(ValidationInputError, match="cannot train"):
            ValidationSpec(backend="reference")
    with pytest.raises(ValueError, match="did you mean 'transformers'"):
        get_backend_kind("transformer")
