"""The two-step LLM judge with a scripted model, and with a tiny random model end to end."""

from __future__ import annotations

import pytest

from workers.judging.llm import LlmItem, judge_with_llm, parse_yes_no


def test_two_steps_with_replies_kept_as_reason() -> None:
    calls: list[list[str]] = []

    def scripted(texts: list[str]) -> list[str]:
        calls.append(texts)
        if "What is the final answer predicted" in texts[0]:
            return ["Paris", "Lyon"]
        return ["Yes, it matches.", "No."]

    items = [
        LlmItem("Capital of France?", "It is Paris.", "Paris"),
        LlmItem("Capital of France?", "Lyon, surely.", "Paris"),
        LlmItem("Anything?", "whatever", None),
    ]
    out = judge_with_llm(items, scripted, model="tiny")
    assert [j.verdict for j in out] == [True, False, None]
    assert out[0].extracted == "Paris" and out[0].rule == "llm"
    assert "judged: 'Yes, it matches.'" in out[0].reason
    assert out[1].details == {"model": "tiny", "step1": "Lyon", "step2": "No."}
    assert len(calls) == 2 and len(calls[0]) == 2  # no model call for the item without gold
    assert "Gold answer: Paris" in calls[1][0] and "Predicted answer: Lyon" in calls[1][1]


def test_reply_without_yes_or_no_is_wrong_and_says_so() -> None:
    out = judge_with_llm([LlmItem("q", "a", "b")], lambda texts: ["maybe"] * len(texts), model="m")
    assert out[0].verdict is False and "neither Yes nor No" in out[0].reason


def test_parse_yes_no() -> None:
    assert parse_yes_no("Yes.") is True
    assert parse_yes_no("no, it is not") is False
    assert parse_yes_no("The answer: yes") is True
    assert parse_yes_no("unclear") is None


def test_tiny_random_model_end_to_end() -> None:
    """Real generation through the chat template; a random model's verdict is just parsed."""
    from types import SimpleNamespace

    from tests.scoring.tiny import tiny_llama, tiny_tokenizer
    from workers.judging.llm import model_generate

    target = SimpleNamespace(model=tiny_llama(max_positions=1024), tokenizer=tiny_tokenizer())
    generate = model_generate(target, max_new_tokens=3)
    out = judge_with_llm([LlmItem("2+2?", "4", "4")], generate, model="tiny")
    assert out[0].rule == "llm" and out[0].verdict in (True, False)
    assert out[0].details["step1"] is not None


@pytest.mark.slow
def test_packaged_smollm2_judges_two_answers() -> None:
    """The real two-step procedure with the packaged SmolLM2-135M-Instruct on the CPU."""
    from tests.scoring.tiny import PACKAGED, TEST_MODELS
    from workers.judging.llm import model_generate
    from workers.modeling import load_target

    target = load_target(PACKAGED, cache_dir=TEST_MODELS, dtype="float32", device="cpu")
    items = [
        LlmItem("What is 2 + 3?", "2 + 3 = 5. Final Answer: 5", "5"),
        LlmItem("What is the capital of France?", "The capital is Berlin.", "Paris"),
    ]
    out = judge_with_llm(items, model_generate(target, max_new_tokens=16), model=PACKAGED)
    assert all(j.rule == "llm" and j.details["step1"] for j in out)
    assert all(j.verdict in (True, False) for j in out)
