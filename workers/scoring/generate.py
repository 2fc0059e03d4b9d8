"""Batched greedy generation (own answers for the SPPL pool; the "own answers" strategy).

``model.generate`` with the KV cache, greedy decoding, left padding (prompts are built as
ids and left-padded here, so the tokenizer's padding side is never touched). Prompts are
sorted by length and batched so that ``rows x (longest prompt + max_new_tokens)`` stays
under ``token_budget`` (and at most ``max_batch`` rows). Generation stops at the model's
EOS / end-of-turn ids (generation config plus tokenizer EOS). Texts are decoded without
special tokens and stripped; results come back in input order.

Each answer is handed to ``on_answer(index, text)`` the step it ends (a stopping criterion
watches every row), not when its whole batch ends: progress is per answer, and a caller
that stores each answer as it comes keeps it when the job is killed mid-batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

GenProgressFn = Callable[[int, int], None]  # (done prompts, total prompts)
AnswerFn = Callable[[int, str], None]  # (prompt index, answer text)
EtaFn = Callable[[float], None]  # seconds left, at most: every row running to max_new_tokens
TokensFn = Callable[[int, int], None]  # (prompt index, new tokens generated, stop excluded)


def stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every id that ends generation: the generation config's EOS ids and the tokenizer's."""
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)


def _batches(
    order: Sequence[int], lengths: Sequence[int], max_new: int, budget: int, max_batch: int
) -> Iterator[list[int]]:
    batch: list[int] = []
    for i in order:
        longest = max([lengths[j] for j in batch] + [lengths[i]])
        if batch and ((len(batch) + 1) * (longest + max_new) > budget or len(batch) == max_batch):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def _left_padded(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row) :] = 1
    return ids, mask


def generate_greedy(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int = 512,
    token_budget: int = 32768,
    max_batch: int = 64,
    on_progress: GenProgressFn | None = None,
    on_answer: AnswerFn | None = None,
    on_eta: EtaFn | None = None,
    on_tokens: TokensFn | None = None,
) -> list[str]:
    """Greedy continuations of ``prompts`` (token ids), as stripped texts in input order.

    ``on_tokens(index, n)`` gets each answer's number of new tokens (its stop token not
    counted) just before ``on_answer``."""
    texts: list[str] = [""] * len(prompts)
    lengths = [len(p) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: lengths[i])
    stops = stop_ids(model, tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    finished: set[int] = set()

    def done(index: int, tokens: list[int]) -> None:
        if index in finished:
            return
        finished.add(index)
        if on_tokens is not None:
            on_tokens(index, len(tokens))
        texts[index] = tokenizer.decode(tokens, skip_special_tokens=True).strip()
        if on_answer is not None:
            on_answer(index, texts[index])
        if on_progress is not None:
            on_progress(len(finished), len(prompts))

    batches = list(_batches(order, lengths, max_new_tokens, token_budget, max_batch))
    for n, batch in enumerate(batches):
        rows = [prompts[i] for i in batch]
        clock = _Clock(max_new_tokens, len(batches) - n - 1, on_eta)
        outputs = _generate_batch(model, rows, pad, stops, max_new_tokens,
                                  lambda row, tokens, b=batch: done(b[row], tokens),
                                  clock.step)  # fmt: skip
        for i, out in zip(batch, outputs, strict=True):
            done(i, out)  # the rows that ran to max_new_tokens
    return texts


class _Clock:
    """An honest upper bound of the time left, from the measured time per decoding step: this
    batch's remaining steps, then each later batch at full length."""

    def __init__(self, max_new: int, later_batches: int, on_eta: EtaFn | None) -> None:
        self.max_new, self.later, self.on_eta = max_new, later_batches, on_eta
        self.started = time.perf_counter()

    def step(self, step: int) -> None:
        if self.on_eta is None or step < 1:
            return
        per_step = (time.perf_counter() - self.started) / step
        self.on_eta(per_step * ((self.max_new - step) + self.later * self.max_new))


def _generate_batch(
    model: Any, rows: Sequence[Sequence[int]], pad: int, stops: list[int], max_new: int,
    on_row: Callable[[int, list[int]], None] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[list[int]]:  # fmt: skip
    """New token ids per row (stop token and anything after it removed); ``on_row(row,
    tokens)`` as soon as a row emits its stop token."""
    from transformers import GenerationConfig, StoppingCriteriaList

    ids, mask = _left_padded(rows, pad)
    device = next(model.parameters()).device
    config = GenerationConfig(
        do_sample=False, max_new_tokens=max_new, pad_token_id=pad, eos_token_id=stops
    )
    watch = _RowsEnding(ids.shape[1], stops, on_row, on_step) if on_row is not None else None
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config,
            stopping_criteria=StoppingCriteriaList([watch]) if watch else None,
        )  # fmt: skip
    new = out[:, ids.shape[1] :].tolist()
    return [_until_stop(row, set(stops)) for row in new]


class _RowsEnding:
    """A stopping criterion that stops nothing: it reports each row the step it ends."""

    def __init__(self, prompt_width: int, stops: list[int], on_row: Callable,
                 on_step: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.width, self.on_row, self.on_step, self.seen = prompt_width, on_row, on_step, set()
        self.stops = torch.tensor(stops, dtype=torch.long)

    def __call__(self, input_ids: torch.Tensor, scores: Any, **_: Any) -> torch.Tensor:
        if self.on_step is not None:
            self.on_step(input_ids.shape[1] - self.width)
        ended = torch.isin(input_ids[:, -1], self.stops.to(input_ids.device))
        for row in ended.nonzero().flatten().tolist():
            if row not in self.seen:
                self.seen.add(row)
                self.on_row(row, input_ids[row, self.width : -1].tolist())
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def _until_stop(row: list[int], stops: set[int]) -> list[int]:
    for i, token in enumerate(row):
        if token in stops:
            return row[:i]
    return row
