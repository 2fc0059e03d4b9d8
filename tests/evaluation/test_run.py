"""evaluate_model: batched greedy answers equal one-by-one generation, each judged and handed
over as it ends (tiny random model; the packaged model in the slow test)."""

from __future__ import annotations

import json
import time
from fractions import Fraction

import pytest
import torch

from tests.paths import GSM8K_DIR
from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from workers.evaluation.run import EvalInputError, EvalQuestion, evaluate_model, prompt_ids
from workers.scoring.generate import stop_ids

QUESTIONS = [f"What is {i} + {i * 3}?" + " Think." * (i % 3) for i in range(7)]


def _one_by_one(model, tok, question: str, max_new: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """The reference: one plain ``model.generate`` per question, no padding, no batching."""
    ids = torch.tensor([list(prompt_ids(tok, question))])
    stops = stop_ids(model, tok)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=max_new,
            eos_token_id=stops,
            pad_token_id=stops[0],
        )[0, ids.shape[1] :].tolist()
    new = next((out[:i] for i, t in enumerate(out) if t in stops), out)
    return tok.decode(new, skip_special_tokens=True).strip(), len(new)


class CountingPrefill:
    """Wraps ``forward``: the rows of each prefill (a call with more than one position)."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model, self.rows = model, []
        self.inner = model.forward

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["input_ids"].shape[1] > 1:
            self.rows.append(kwargs["input_ids"].shape[0])
        return self.inner(*args, **kwargs)


@pytest.fixture()
def tiny():  # type: ignore[no-untyped-def]
    """The tiny model with a stop token that ends some answers early and not others."""
    model, tok = tiny_llama(seed=5), tiny_tokenizer()
    free = [list(prompt_ids(tok, q)) for q in QUESTIONS[:1]]
    with torch.inference_mode():
        out = model.generate(input_ids=torch.tensor(free), do_sample=False, max_new_tokens=6)
    model.generation_config.eos_token_id = [int(out[0, len(free[0]) + 4])]
    return model, tok


def test_batched_predictions_equal_one_by_one_generation(tiny, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    refs = [_one_by_one(model, tok, q, 16) for q in QUESTIONS]
    right = [i % 2 == 0 and bool(refs[i][0].strip()) for i in range(len(QUESTIONS))]
    golds = [refs[i][0] if right[i] else "not this" for i in range(len(QUESTIONS))]
    questions = [
        EvalQuestion(f"q{i}", q, g) for i, (q, g) in enumerate(zip(QUESTIONS, golds, strict=True))
    ]
    counter = CountingPrefill(model)
    monkeypatch.setattr(model, "forward", counter)
    seen, progress = [], []
    result = evaluate_model(
        model,
        tok,
        questions,
        extractor="exact_match",
        max_new_tokens=16,
        on_prediction=seen.append,
        on_progress=lambda d, t: progress.append((d, t)),
    )
    assert len(counter.rows) < len(QUESTIONS) and sum(counter.rows) == len(QUESTIONS)  # batched
    assert [p.question_id for p in result.predictions] == [q.question_id for q in questions]
    assert [(p.output, p.new_tokens) for p in result.predictions] == refs
    assert len({n for _, n in refs}) > 1 and min(n for _, n in refs) < 16  # some stopped early
    assert [p.correct for p in result.predictions] == right and sum(right) >= 2
    assert result.accuracy == pytest.approx(sum(right) / 7)
    assert sorted(p.question_id for p in seen) == sorted(q.question_id for q in questions)
    assert progress[-1] == (7, 7)
    assert result.extractor == "exact_match" and result.seconds > 0
    assert result.tokens_per_s == pytest.approx(sum(n for _, n in refs) / result.seconds)


def test_a_small_token_budget_generates_one_question_at_a_time_with_the_same_answers(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    questions = [EvalQuestion(f"q{i}", q, "1") for i, q in enumerate(QUESTIONS[:4])]
    wide = evaluate_model(model, tok, questions, extractor="last_number", max_new_tokens=12)
    narrow = evaluate_model(
        model, tok, questions, extractor="last_number", max_new_tokens=12, token_budget=1
    )
    assert [p.output for p in narrow.predictions] == [p.output for p in wide.predictions]


def test_predictions_arrive_before_a_cancelled_evaluation_stops(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    questions = [EvalQuestion(f"q{i}", q, "1") for i, q in enumerate(QUESTIONS)]
    kept = []

    def cancel(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        evaluate_model(
            model,
            tok,
            questions,
            extractor="last_number",
            max_new_tokens=8,
            on_progress=cancel,
            on_prediction=kept.append,
        )
    assert len(kept) == 3


def test_bad_input_fails_before_the_model_runs(tiny, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    monkeypatch.setattr(model, "forward", lambda *a, **k: pytest.fail("the model ran"))
    good = [EvalQuestion("q1", "1+1?", "2")]
    with pytest.raises(ValueError, match="did you mean 'last_number'"):
        evaluate_model(model, tok, good, extractor="lastnumber")
    with pytest.raises(EvalInputError, match="'q2' has no gold answer"):
        evaluate_model(
            model, tok, [*good, EvalQuestion("q2", "2+2?", " ")], extractor="exact_match"
        )
    with pytest.raises(EvalInputError, match="'q1' appears twice"):
        evaluate_model(model, tok, good * 2, extractor="exact_match")
    with pytest.raises(EvalInputError, match="no test questions"):
        evaluate_model(model, tok, [], extractor="exact_match")


@pytest.mark.slow
@pytest.mark.skipif(not GSM8K_DIR.is_dir(), reason=f"no research data at {GSM8K_DIR}")
def test_the_packaged_model_on_gsm8k_test_questions(packaged_target) -> None:  # type: ignore[no-untyped-def]
    """Batched answers equal one-by-one ``generate`` calls; verdicts by the research rule."""
    rows = json.loads((GSM8K_DIR / "test_filtered.json").read_text(encoding="utf-8"))[:4]
    questions = [
        EvalQuestion(f"t{i}", r["question"], r["numerical_final_answer"])
        for i, r in enumerate(rows)
    ]
    model, tok = packaged_target.model, packaged_target.tokenizer
    started = time.perf_counter()
    result = evaluate_model(model, tok, questions, extractor="last_number", max_new_tokens=96)
    print(f"packaged eval: {result.tokens_per_s:.1f} new tokens/s over {result.seconds:.1f} s")
    refs = [_one_by_one(model, tok, q.question, 96) for q in questions]
    assert [(p.output, p.new_tokens) for p in result.predictions] == refs
    for p in result.predictions:
        assert p.output and p.new_tokens > 0 and p.gold == p.gold.strip()
        same = p.extracted is not None and round(float(Fraction(p.extracted)), 2) == round(
            float(p.gold), 2
        )
        assert p.correct == same, p
    assert time.perf_counter() - started < 600
