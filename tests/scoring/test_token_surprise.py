"""Per-token surprise: the same items and values as the scan, one pass per response."""

from __future__ import annotations

import json
import math

import pytest

from tests.paths import GSM8K_DIR
from workers.scoring.batched import score_items
from workers.scoring.items import ScoreItem
from workers.scoring.prompts import PromptBuilder
from workers.scoring.reference import reference_score
from workers.scoring.token_surprise import (
    ResponseSurprise,
    compute_token_surprise,
    context_prompts,
    piece_texts,
    response_surprise,
    token_logprobs,
)

# --- tiny model: fast ---------------------------------------------------------------------


def test_logprobs_match_the_reference(tiny_model) -> None:
    for item in (ScoreItem((5, 6, 7), (8, 9, 10, 11)), ScoreItem((), (8, 9, 10))):
        got, truncated = token_logprobs(tiny_model, item)
        ref = reference_score(tiny_model, item, token_logprobs=True)
        assert not truncated and len(got) == ref.n_tokens
        assert got == pytest.approx(ref.token_logprobs, rel=1e-5, abs=1e-6)


def test_truncation_keeps_the_scored_tokens(tiny_model, tiny_tok) -> None:
    builder = PromptBuilder(tiny_tok, "chat")
    prompt = builder.ppl_prompt("What is 1 plus 1?")
    limit = len(builder.prompt_ids(prompt)) + 5
    got = response_surprise(tiny_model, builder, prompt, "It is 2, of course.", max_length=limit)
    assert got.truncated and [p for p, _ in got.tokens] == list("It is")
    item = ScoreItem(builder.prompt_ids(prompt), builder.response_ids("It is 2, of course."))
    ref = reference_score(tiny_model, item, max_length=limit)
    assert ref.truncated and ref.n_tokens == 5
    assert got.ppl == pytest.approx(ref.ppl, rel=1e-5)


def test_contexts_progress_and_json(tiny_model, tiny_tok) -> None:
    builder = PromptBuilder(tiny_tok, "inst")
    prompts = context_prompts(builder, "Q?", ["Final Answer: 1"])
    assert set(prompts) == {"ppl", "sppl"} and set(context_prompts(builder, "Q?", None)) == {"ppl"}
    seen: list[tuple[int, int]] = []
    out = compute_token_surprise(
        tiny_model,
        builder,
        prompts,
        {"1": "A <b>", "2": ""},
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    first = out["ppl"]["1"]
    full = out["sppl"]["1"]  # the SPPL prompt fills the tiny model's 256 positions
    assert full.truncated and full.tokens == [] and full.to_json()["truncated"] is True
    assert "".join(p for p, _ in first.tokens) == " A <b>"  # inst mode: " " + response
    assert out["ppl"]["2"] == ResponseSurprise([], False) and math.isnan(out["ppl"]["2"].ppl)
    data = first.to_json()
    assert data["truncated"] is False and [p for p, _ in data["tokens"]] == list(" A <b>")
    assert all(lp == round(lp, 4) for _, lp in data["tokens"])


def test_pieces_of_split_characters() -> None:
    class Bytes:
        """Decodes ids as UTF-8 bytes, like a byte-level BPE."""

        def decode(self, ids, **_):  # type: ignore[no-untyped-def]
            return bytes(ids).decode("utf-8", errors="replace")

    text = "5 € café"
    pieces = piece_texts(Bytes(), list(text.encode()))
    assert "".join(pieces) == text and pieces[2:5] == ["", "", "€"]


def test_pieces_fall_back_to_whole_prefixes() -> None:
    class Contextual:
        """'a' reads 'A' in a text that starts with 'x': beyond any decoding window."""

        def decode(self, ids, **_):  # type: ignore[no-untyped-def]
            text = "".join(ids)
            return text.replace("a", "A") if text.startswith("x") else text

    assert piece_texts(Contextual(), ["x"] + ["a"] * 12) == ["x"] + ["A"] * 12


# --- the packaged target on real GSM8K responses: slow ------------------------------------


def _answers(index: int) -> tuple[str, dict[str, str]]:
    data = {
        n: json.loads((GSM8K_DIR / f"{n}.json").read_text()) for n in ("gpt4", "simple_response")
    }
    return data["gpt4"][index]["question"], {n: rows[index]["answer"] for n, rows in data.items()}


@pytest.mark.slow
def test_packaged_matches_scan_values(packaged_target) -> None:
    model, builder = packaged_target.model, PromptBuilder(packaged_target.tokenizer, "chat")
    question, responses = _answers(0)
    examples = [json.loads((GSM8K_DIR / "simple_response.json").read_text())[5]["answer"]]
    prompts = context_prompts(builder, question, examples)
    out = compute_token_surprise(model, builder, prompts, responses)
    for context, prompt in prompts.items():
        items = [
            ScoreItem(builder.prompt_ids(prompt), builder.response_ids(text))
            for text in responses.values()
        ]
        scanned = score_items(model, items)  # the scan's own scorer
        for (name, text), item, fast in zip(responses.items(), items, scanned, strict=True):
            got = out[context][name]
            ref = reference_score(model, item)
            assert len(got.tokens) == ref.n_tokens > 20 and not got.truncated
            assert got.ppl == pytest.approx(ref.ppl, rel=1e-4), (context, name)
            assert got.ppl == pytest.approx(fast.ppl, rel=1e-4), (context, name)
            rounded = [lp for _, lp in got.to_json()["tokens"]]
            assert math.exp(-sum(rounded) / len(rounded)) == pytest.approx(ref.ppl, rel=1e-4)
            assert "".join(piece for piece, _ in got.tokens) == text
