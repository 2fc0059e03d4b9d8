"""run_scan on a tiny random model: validation before heavy work, structure, cache, resume."""

from __future__ import annotations

import json
import math

import pytest

from app.scans.output import ScanOutput
from app.specs.scan import ScanInputError, ScanSpec
from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from workers.modeling.loader import Target
from workers.scoring.cache import MemoryCache
from workers.scoring.scan import run_scan, sample_questions, sample_sets

QUESTIONS = [(f"k{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(10)]
RESPONSES = {
    "short": {f"k{i}": f"{2 * i}" for i in range(10)},
    "long": {f"k{i}": f"{i} plus {i} is {2 * i}.\nFinal Answer: {2 * i}" for i in range(8)},
}


def tiny_target(*, chat: bool = True) -> Target:
    tok = tiny_tokenizer(chat_template=chat)
    return Target(tiny_llama(), tok, "tiny", "tiny-key", "float32", "cpu", chat)


SPEC = ScanSpec(
    sample=4, examples=2, pool=6, max_new_tokens=4, seed=1, allow_unfiltered_fallback=True
)


class NoForward:
    """Fails the test if the model runs (validation must come before heavy work)."""

    def __init__(self, target: Target) -> None:
        self.hook = target.model.register_forward_pre_hook(self.fail)

    @staticmethod
    def fail(*_args) -> None:
        raise AssertionError("the model ran before validation finished")


@pytest.mark.parametrize(
    ("spec", "questions", "responses", "message"),
    [
        (ScanSpec(sample=9), QUESTIONS, RESPONSES, "only 8 are answered by all 2"),
        (SPEC, QUESTIONS, {"a": {"k1": "x"}, "b": {"k2": "y"}}, "no question is answered"),
        (SPEC, QUESTIONS, {}, "no strategy"),
        (SPEC, QUESTIONS + [QUESTIONS[0]], RESPONSES, "appears twice"),
        (ScanSpec(sample=2, dtype="bfloat16"), QUESTIONS, RESPONSES, "dtype"),
        (ScanSpec(sample=2, judge="numerc"), QUESTIONS, RESPONSES, "did you mean 'numeric'"),
    ],
)
def test_input_errors_come_before_heavy_work(spec, questions, responses, message) -> None:
    target = tiny_target()
    NoForward(target)
    with pytest.raises(ScanInputError, match=message):
        run_scan(spec, target, questions, responses)


def test_chat_template_missing_is_an_input_error() -> None:
    target = tiny_target(chat=False)
    NoForward(target)
    with pytest.raises(ScanInputError, match="no chat template"):
        run_scan(SPEC, target, QUESTIONS, RESPONSES)


def test_sample_is_seeded_shared_and_ordered() -> None:
    keys = [f"k{i}" for i in range(20)]
    a = sample_questions(keys, 5, seed=3)
    assert a == sample_questions(keys, 5, seed=3)
    assert a == sorted(a, key=keys.index)
    assert a != sample_questions(keys, 5, seed=4)


def test_disjoint_samples_are_seeded_and_the_first_is_the_single_sample() -> None:
    keys = [f"k{i}" for i in range(20)]
    sets = sample_sets(keys, 5, 3, seed=3)
    assert len(sets) == 3 and all(len(s) == 5 for s in sets)
    assert len({k for s in sets for k in s}) == 15  # disjoint
    assert all(s == sorted(s, key=keys.index) for s in sets)
    assert sets[0] == sample_questions(keys, 5, seed=3) and sets == sample_sets(keys, 5, 3, 3)


def test_scan_with_repeated_samples_scores_their_union() -> None:
    spec = ScanSpec(metrics=("ppl",), sample=2, samples=3, seed=0)
    result = run_scan(spec, tiny_target(), QUESTIONS, RESPONSES)
    assert len(result.samples) == 3 and sorted(k for s in result.samples for k in s) == sorted(
        result.sample
    )
    assert len(result.sample) == 6 and len(result.values["short"]["ppl"]) == 6
    with pytest.raises(ScanInputError, match="3 x 3 questions requested but only 8"):
        run_scan(
            ScanSpec(metrics=("ppl",), sample=3, samples=3), tiny_target(), QUESTIONS, RESPONSES
        )


def test_scan_structure_cache_and_resume() -> None:
    target, cache = tiny_target(), MemoryCache()
    phases: list[str] = []
    first = run_scan(
        SPEC,
        target,
        QUESTIONS,
        RESPONSES,
        cache=cache,
        on_progress=lambda p, d, t, e: phases.append(p),
    )
    assert {"generating", "scoring ppl", "scoring sppl", "scoring ifd"} <= set(phases)
    assert len(first.sample) == 4 and set(first.sample) <= set(RESPONSES["long"])
    assert set(first.exemplars) == set(first.sample)
    assert first.counts["scored_items"] == 3 * 2 * 4 and first.counts["generated"] == 6
    for strategy in RESPONSES:
        assert {"ppl", "sppl", "ifd", "logprob", "length"} <= set(first.values[strategy])
        assert [r["question_key"] for r in first.values[strategy]["ppl"]] == first.sample
        assert first.aggregates[strategy]["ppl"]["rank"] in (1, 2)
    json.dumps(first.to_dict(), allow_nan=False)  # strict JSON
    # The format the worker stores and tests build finished scans from (app.scans.output).
    output = ScanOutput.model_validate(first.to_dict())
    assert set(output.values) == set(first.values) and output.sample == first.sample

    again = run_scan(SPEC, target, QUESTIONS, RESPONSES, cache=cache)
    assert again.counts["scored_items"] == 0 and again.counts["generated"] == 0
    assert again.values == first.values
    # per phase, how many items it had and how many came from the cache (a selector's cost)
    assert first.counts["scoring ppl items"] == 2 * 4 and first.counts["scoring ppl cached"] == 0
    assert again.counts["scoring ppl cached"] == again.counts["scoring ppl items"] == 2 * 4
    assert first.counts["generating cached"] == 0 and again.counts["generating cached"] == 6

    half = MemoryCache()
    half.texts = dict(cache.texts)
    half.scores = dict(list(cache.scores.items())[: len(cache.scores) // 2])
    resumed = run_scan(SPEC, target, QUESTIONS, RESPONSES, cache=half)
    assert resumed.counts["scored_items"] == len(cache.scores) - len(cache.scores) // 2
    assert _values(resumed) == pytest.approx(_values(first), rel=1e-5)


def _values(result) -> list[float]:
    return [
        row["value"]
        for metrics in result.values.values()
        for rows in metrics.values()
        for row in rows
        if row["value"] is not None and not math.isnan(row["value"])
    ]


def test_subset_of_metrics_scores_only_what_is_needed() -> None:
    spec = ScanSpec(metrics=("ppl",), sample=3, seed=0)
    result = run_scan(spec, tiny_target(), QUESTIONS, RESPONSES)
    assert result.counts["scored_items"] == 3 * 2 and "generated" not in result.counts
    assert set(result.values["short"]) == {"ppl", "logprob", "length"}
    assert result.exemplars == {}


def test_inst_mode_scores_without_chat_template() -> None:
    spec = ScanSpec(metrics=("ppl", "ifd"), sample=2, template="inst")
    result = run_scan(spec, tiny_target(chat=False), QUESTIONS, RESPONSES)
    assert all(r["value"] > 0 for r in result.values["long"]["ppl"])
