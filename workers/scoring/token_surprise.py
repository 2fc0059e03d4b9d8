"""Per-token surprise: the log-probability of every response token, with its readable text.

The drill-down shows WHY a response is unfamiliar. The items are exactly the scan's: prompt
text and ids, response ids and their boundary come from ``PromptBuilder`` (the PPL prompt of
the question; the SPPL prompt with the scan's stored examples), truncation and the first-token
rule from ``items``, the float32 log-softmax over the model's LM head from
``batched.token_nll``. The difference is only in the method: one plain forward pass per
response (no batching, no shared prefix cache), so ``exp(-mean(logprobs))`` is the scan's
PPL / SPPL value of that response.

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

import torch

from workers.scoring.batched import DEFAULT_LOGIT_BUDGET, token_nll
from workers.scoring.items import ScoreItem, clip_response, effective_max_length, n_scored
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
    """Log-probability of each scored response token (one forward pass), and truncation.

    Float32 log-softmax whatever the model's dtype; the LM head runs only on the states that
    predict response tokens, in slices of ``logit_budget`` logits.
    """
    response, truncated = clip_response(item, effective_max_length(model, max_length))
    prefix_len = len(item.prefix_ids)
    if n_scored(prefix_len, len(response)) == 0:
        return [], truncated
    device = next(model.parameters()).device
    ids = torch.tensor([[*item.prefix_ids, *response]], device=device)
    first = max(prefix_len, 1)  # first scored position in the sequence
    with torch.inference_mode():
        hidden = model.base_model(input_ids=ids).last_hidden_state[0]
        nll = token_nll(model, hidden[first - 1 : -1], ids[0, first:], logit_budget)
    return (-nll.float()).cpu().tolist(), truncated


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
    logprobs, truncated = token_logprobs(model, item, max_length=max_length)
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
    """context -> response key -> surprise, for every response under every context prompt."""
    total = len(prompts) * len(responses)
    done = 0
    out: dict[str, dict[str, ResponseSurprise]] = {}
    for context, prompt_text in prompts.items():
        out[context] = {}
        for key, text in responses.items():
            out[context][key] = response_surprise(
                model, builder, prompt_text, text, max_length=max_length
            )
            done += 1
            if on_progress is not None:
                on_progress(done, total)
    return out
