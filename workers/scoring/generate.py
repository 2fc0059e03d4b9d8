"""Batched greedy generation (own answers for the SPPL pool; the "own answers" strategy).

Greedy decoding with the KV cache, left padding (prompts are built as ids and left-padded
here, so the tokenizer's padding side is never touched); a row leaves its batch the step it
stops (why this is not ``model.generate``: below). Prompts are
sorted by length and batched so that ``rows x (longest prompt + max_new_tokens)`` stays
under ``token_budget`` (and at most ``max_batch`` rows). Generation stops at the model's
EOS / end-of-turn ids (generation config plus tokenizer EOS). Texts are decoded without
special tokens and stripped; results come back in input order.

Each answer is handed to ``on_answer(index, text)`` the step it ends (the decoding loop
watches every row), not when its whole batch ends: progress is per answer, and a caller
that stores each answer as it comes keeps it when the job is killed mid-batch.

Why not ``model.generate``: greedy decoding with the model's KV cache (``DynamicCache``) is
written out rather than ``model.generate``, which keeps every finished row in the batch until the
longest one ends: on a CPU a decoding step reads all weights whatever the rows, so that costs
less than it seems per row, but the LM head and attention still scale with them. Here a row
leaves the batch (and its cache rows) the step it stops. Measured on the demo's 100 test
questions (2-core EPYC, float32, answers ~40 tokens against a 160-token cap): ``generate``
19-25 new tokens/s in the validation jobs; on 64 of them alone, ``generate`` 30 and this loop
53 new tokens/s, with identical answers. The answers are those of one plain ``generate``
call per prompt (``tests/evaluation/test_run.py``).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from workers.scoring.batched import cache_kwarg_of
from workers.scoring.decoding_eta import RUNAWAY_PRIOR, expected_seconds_left, runaway_share

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
    on_expected: EtaFn | None = None,
) -> list[str]:
    """Greedy continuations of ``prompts`` (token ids), as stripped texts in input order.

    ``on_tokens(index, n)`` gets each answer's number of new tokens (its stop token not
    counted) just before ``on_answer``. ``on_eta`` gets the upper bound of the time left at
    every decoding step, ``on_expected`` the expected time left
    (``workers.scoring.decoding_eta``)."""
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
        clock.ended(len(tokens))
        if on_tokens is not None:
            on_tokens(index, len(tokens))
        texts[index] = tokenizer.decode(tokens, skip_special_tokens=True).strip()
        if on_answer is not None:
            on_answer(index, texts[index])
        if on_progress is not None:
            on_progress(len(finished), len(prompts))

    batches = list(_batches(order, lengths, max_new_tokens, token_budget, max_batch))
    ended = capped = 0
    for n, batch in enumerate(batches):
        rows = [prompts[i] for i in batch]
        clock = _Clock(max_new_tokens, len(batches) - n - 1, on_eta, on_expected, len(batch))
        clock.runaway = runaway_share(capped, ended)
        outputs = _generate_batch(
            model,
            rows,
            pad,
            stops,
            max_new_tokens,
            lambda row, tokens, b=batch: done(b[row], tokens),
            clock.step,
        )
        for i, out in zip(batch, outputs, strict=True):
            done(i, out)  # the rows that ran to max_new_tokens
        ended += len(batch)
        capped += sum(len(out) >= max_new_tokens for out in outputs)
    return texts


RATE_WINDOW = 16  # decoding steps


class _Clock:
    """The time left from the measured time per decoding step: an honest upper bound (this
    batch's remaining steps, then each later batch at full length) and the expected time
    (``workers.scoring.decoding_eta``, from the lengths of the answers that ended)."""

    def __init__(
        self,
        max_new: int,
        later_batches: int,
        on_eta: EtaFn | None,
        on_expected: EtaFn | None = None,
        rows: int = 0,
    ) -> None:
        self.max_new, self.later, self.on_eta = max_new, later_batches, on_eta
        self.on_expected, self.rows = on_expected, rows
        self.ends: list[int] = []
        self.runaway = RUNAWAY_PRIOR
        self.started = time.perf_counter()
        self.guess: float | None = None
        # the last RATE_WINDOW steps' times: the rate of the rows still in the batch (steps
        # get faster as rows leave) on the machine as busy as it is now
        self.marks: deque[tuple[int, float]] = deque(maxlen=RATE_WINDOW + 1)

    def ended(self, length: int) -> None:
        self.ends.append(length)

    def step(self, step: int) -> None:
        if step < 1 or (self.on_eta is None and self.on_expected is None):
            return
        now = time.perf_counter()
        if step == 1:  # the prompts' prefill and the first step: not a decoding step's time
            self.guess = (now - self.started) / 4  # until a step rate exists
        self.marks.append((step, now))
        (s0, t0), (s1, t1) = self.marks[0], self.marks[-1]
        per_step = (t1 - t0) / (s1 - s0) if s1 > s0 else self.guess or now - self.started
        if self.on_eta is not None:
            self.on_eta(per_step * ((self.max_new - step) + self.later * self.max_new))
        if self.on_expected is not None:
            self.on_expected(
                expected_seconds_left(
                    self.ends, self.rows, step, self.max_new, per_step, self.later, self.runaway
                )
            )


def _generate_batch(
    model: Any,
    rows: Sequence[Sequence[int]],
    pad: int,
    stops: list[int],
    max_new: int,
    on_row: Callable[[int, list[int]], None] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[list[int]]:
    """New token ids per row (stop token excluded); ``on_row(row, tokens)`` the step a row
    emits its stop token. Greedy decoding with the KV cache, each row leaving the batch the
    step it stops (the module docstring says why)."""
    from transformers import DynamicCache

    device = next(model.parameters()).device
    ids, mask = _left_padded(rows, pad)
    ids, mask = ids.to(device), mask.to(device)
    stop_set = torch.tensor(stops, dtype=torch.long, device=device)
    alive = list(range(len(rows)))  # the prompt index of each batch row
    out: list[list[int]] = [[] for _ in rows]
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    cache = DynamicCache()
    with_cache = {cache_kwarg_of(type(base)): cache, "use_cache": True}
    keep_last = {"logits_to_keep": 1} if _takes_logits_to_keep(type(base)) else {}
    with torch.inference_mode():
        logits = model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=_positions(mask),
            **with_cache,
            **keep_last,
        ).logits[:, -1]
        for step in range(1, max_new + 1):
            nxt = logits.argmax(-1)
            ended = torch.isin(nxt, stop_set)
            _emit(nxt.tolist(), ended.tolist(), alive, out, on_row)
            if on_step is not None:
                on_step(step)
            if step == max_new or bool(ended.all()):
                break
            if bool(ended.any()):
                kept = (~ended).nonzero().flatten()
                cache.batch_select_indices(kept)
                mask, nxt = mask[kept], nxt[kept]
                alive = [alive[i] for i in kept.tolist()]
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
            logits = model(
                input_ids=nxt[:, None],
                attention_mask=mask,
                position_ids=_positions(mask)[:, -1:],
                **with_cache,
            ).logits[:, -1]
    return out


def _emit(
    tokens: list[int],
    ended: list[bool],
    alive: list[int],
    out: list[list[int]],
    on_row: Callable[[int, list[int]], None] | None,
) -> None:
    """One decoding step's tokens to their rows; a row that emitted its stop is reported."""
    for row, (token, stop) in enumerate(zip(tokens, ended, strict=True)):
        if not stop:
            out[alive[row]].append(token)
        elif on_row is not None:
            on_row(alive[row], out[alive[row]])


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids under left padding: 0 at each row's first real token (as ``generate``)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


@functools.cache
def _takes_logits_to_keep(model_class: type) -> bool:
    return "logits_to_keep" in inspect.signature(model_class.forward).parameters
