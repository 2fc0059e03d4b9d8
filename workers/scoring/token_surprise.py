"""Per-token surprise: the log-probability of every response token, with its readable text.

The drill-down shows WHY a response is unfamiliar. The items are exactly the scan's: prompt
text and ids, response ids and their boundary come from ``PromptBuilder`` (the PPL prompt of
the question; the SPPL prompt with the scan's stored examples), and they are scored by the
scan's own ``batched.score_items`` with per-token log-probabilities kept, so
``exp(-mean(logprobs))`` is the scan's PPL / SPPL value of that response.

Pieces: byte-level BPE tokens are not readable one by one (``convert_ids_to_tokens`` gives
``Ġ``-style symbols), so each token's text is the difference between the decoded response
prefixes ending after it and before it; the pieces concatenate to the decoded response. A
token that ends inside a multi-byte character gets an empty piece, and the token that
completes the character carries it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workers.backends.transformers import as_backend
from workers.scoring.batched import DEFAULT_LOGIT_BUDGET
from workers.scoring.items import ScoreItem
from workers.scoring.prompts import PromptBuilder

DIGITS = 4  # log-probabilities are stored rounded to this many decimals
WINDOW = 8  # tokens of context when decoding a piece
ProgressFn = Callable[[int, int], None]  # (responses done, total)


@dataclass(frozen=True)
class ResponseSurprise:
    """The scored tokens of one response: (piece text, log-probability in nats)."""

    tokens: list[tuple[str, float]]
    truncated: bool

    @property
    def ppl(self) -> float:
        """``exp(-mean log-probability)``: the response's PPL / SPPL value."""
        if not self.tokens:
            return math.nan
        return math.exp(-sum(lp for _, lp in self.tokens) / len(self.tokens))

    def to_json(self) -> dict[str, Any]:
        """Compact JSON: ``{"tokens": [[piece, logprob rounded], ...], "truncated": bool}``."""
        return {
            "tokens": [[piece, round(lp, DIGITS)] for piece, lp in self.tokens],
            "truncated": self.truncated,
        }


def context_prompts(
    builder: PromptBuilder, question: str, examples: Sequence[str] | None
) -> dict[str, str]:
    """Prompt text per context, as the scan built it: PPL always, SPPL with its examples."""
    prompts = {"ppl": builder.ppl_prompt(question)}
    if examples is not None:
        prompts["sppl"] = builder.sppl_prompt(question, examples)
    return prompts


def token_logprobs(
    model: Any,
    item: ScoreItem,
    *,
    max_length: int | None = None,
    logit_budget: int = DEFAULT_LOGIT_BUDGET,
) -> tuple[list[float], bool]:
    """Log-probability of each scored response token, and truncation (the scan's scorer)."""
    result = as_backend(model).score(
        [item], max_length=max_length, logit_budget=logit_budget, token_logprobs=True
    )[0]
    return list(result.token_logprobs or []), result.truncated


def _decode(tokenizer: Any, ids: Sequence[int]) -> str:
    return str(
        tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)
    )


def piece_texts(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """The text each token adds to the decoded sequence (see the module docstring).

    Decoded through a window of the ``WINDOW`` tokens before (linear time); when the pieces
    do not join up to the whole decoded text (a tokenizer whose decoding depends on more
    context), through whole prefixes instead (exact, quadratic).
    """
    ids = list(ids)
    pieces = _pieces(tokenizer, ids, WINDOW)
    if "".join(pieces) != _decode(tokenizer, ids):
        pieces = _pieces(tokenizer, ids, None)
    return pieces


def _pieces(tokenizer: Any, ids: list[int], window: int | None) -> list[str]:
    pieces: list[str] = []
    pending = 0  # the first token whose text is not out yet
    for k in range(len(ids)):
        start = 0 if window is None else max(0, pending - window)
        before = _decode(tokenizer, ids[start:pending])
        text = _decode(tokenizer, ids[start : k + 1])
        if k < len(ids) - 1 and (text.endswith("\ufffd") or not text.startswith(before)):
            pieces.append("")  # an incomplete character: a later token completes it
            continue
        pieces.append(text[len(os.path.commonprefix([before, text])) :])
        pending = k + 1
    return pieces


def response_surprise(
    model: Any,
    builder: PromptBuilder,
    prompt_text: str,
    response: str,
    *,
    max_length: int | None = None,
) -> ResponseSurprise:
    """Per-token surprise of ``response`` after ``prompt_text`` (a wrapped prompt)."""
    item = ScoreItem(builder.prompt_ids(prompt_text), builder.response_ids(response))
    return _surprise(builder, item, *token_logprobs(model, item, max_length=max_length))


def _surprise(
    builder: PromptBuilder, item: ScoreItem, logprobs: list[float], truncated: bool
) -> ResponseSurprise:
    # The response tokens kept (all but a truncated tail); with an empty prefix the first of
    # them is context only and has no log-probability.
    kept = len(logprobs) + (1 if logprobs and not item.prefix_ids else 0)
    pieces = piece_texts(builder.tokenizer, item.response_ids[:kept])[kept - len(logprobs) :]
    return ResponseSurprise(list(zip(pieces, logprobs, strict=True)), truncated)


def compute_token_surprise(
    model: Any,
    builder: PromptBuilder,
    prompts: Mapping[str, str],
    responses: Mapping[str, str],
    *,
    max_length: int | None = None,
    on_progress: ProgressFn | None = None,
) -> dict[str, dict[str, ResponseSurprise]]:
    """context -> response key -> surprise, for every response under every context prompt.

    One ``score_items`` call, as in the scan: each context prompt runs once and every
    response is scored against its cache.
    """
    keys = [(c, k) for c in prompts for k in responses]
    prompt_ids = {c: builder.prompt_ids(text) for c, text in prompts.items()}
    response_ids = {k: builder.response_ids(text) for k, text in responses.items()}
    items = [ScoreItem(prompt_ids[c], response_ids[k]) for c, k in keys]
    reported = 0

    def progress(done: int, total: int, _tokens: int) -> None:
        nonlocal reported  # a batch finishes several responses: count each of them
        while on_progress is not None and reported < done:
            reported += 1
            on_progress(reported, total)

    results = as_backend(model).score(
        items, max_length=max_length, token_logprobs=True, on_progress=progress
    )
    out: dict[str, dict[str, ResponseSurprise]] = {c: {} for c in prompts}
    for (context, key), item, result in zip(keys, items, results, strict=True):
        logprobs = list(result.token_logprobs or [])
        out[context][key] = _surprise(builder, item, logprobs, result.truncated)
    return out
