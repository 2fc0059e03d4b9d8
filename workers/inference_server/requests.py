"""Scoring and greedy generation through an inference server, many requests in flight.

The server batches concurrent requests itself (vLLM's continuous batching), so Familiar sends
one request per item or prompt from a thread pool (``concurrency`` in flight) and hands each
result to the caller's callbacks, in this thread, as it arrives. A callback that raises
cancels the rest: requests not yet sent are dropped, what was delivered stays delivered.

Scoring follows ``workers.scoring.items`` exactly, as ``workers.scoring.batched`` does: the
response is clipped to the limit, items with nothing to score are answered without the
server, and the summed NLL covers the response tokens (all of them after a prefix, all but
the first after an empty one). The server is sent prefix + response as token ids with
``prompt_logprobs: 0``: the log-prob of each prompt token given everything before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from typing import Any, TypeVar

from workers.inference_server.client import InferenceServerError, ServerClient
from workers.scoring.items import ScoreItem, ScoreResult, clip_response, n_scored, unscorable

T = TypeVar("T")
ProgressFn = Callable[[int, int, int], None]
BatchFn = Callable[[dict[int, ScoreResult]], None]


def in_flight(calls: Sequence[Callable[[], T]], concurrency: int) -> Iterator[tuple[int, T]]:
    """(index, result) of each call as it completes, at most ``concurrency`` running at once.

    Closing the iterator early (a caller's callback raised) drops the calls not yet started
    and waits for none of the running ones."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(calls) or 1)))
    pending: dict[Future[T], int] = {}
    queue = iter(range(len(calls)))
    try:
        for index in queue:
            pending[pool.submit(calls[index])] = index
            if len(pending) >= concurrency:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(calls[nxt])] = nxt
                yield index, future.result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def score_on_server(
    client: ServerClient,
    items: Sequence[ScoreItem],
    limit: int,
    *,
    concurrency: int,
    token_logprobs: bool = False,
    on_progress: ProgressFn | None = None,
    on_batch: BatchFn | None = None,
) -> list[ScoreResult]:
    """Every item's ScoreResult in input order (see the module docstring)."""
    results: list[ScoreResult | None] = [None] * len(items)
    todo: list[tuple[int, tuple[int, ...], tuple[int, ...], bool]] = []
    trivial: dict[int, ScoreResult] = {}
    for index, item in enumerate(items):
        response, truncated = clip_response(item, limit)
        if n_scored(len(item.prefix_ids), len(response)) == 0:
            trivial[index] = unscorable(truncated)
        else:
            todo.append((index, tuple(item.prefix_ids), tuple(response), truncated))
    done, tokens = 0, 0
    if trivial:
        for index, result in trivial.items():
            results[index] = result
        done = len(trivial)
        _report(on_batch, on_progress, trivial, done, len(items), tokens)

    def call(p: tuple[int, ...], r: tuple[int, ...]) -> list[Any]:
        return client.prompt_logprobs(p + r)

    calls = [lambda p=p, r=r: call(p, r) for _, p, r, _ in todo]
    with closing(in_flight(calls, concurrency)) as answers:  # a raising callback stops it
        for k, entries in answers:
            index, prefix, response, truncated = todo[k]
            result = result_from_prompt_logprobs(client, entries, prefix, response, truncated)
            if not token_logprobs:
                result.token_logprobs = None
            results[index] = result
            done, tokens = done + 1, tokens + len(prefix) + len(response)
            _report(on_batch, on_progress, {index: result}, done, len(items), tokens)
    return results  # type: ignore[return-value]


def _report(
    on_batch: BatchFn | None,
    on_progress: ProgressFn | None,
    scored: dict[int, ScoreResult],
    done: int,
    total: int,
    tokens: int,
) -> None:
    if on_batch is not None:
        on_batch(scored)
    if on_progress is not None:
        on_progress(done, total, tokens)


def result_from_prompt_logprobs(
    client: ServerClient,
    entries: Sequence[Any],
    prefix: tuple[int, ...],
    response: tuple[int, ...],
    truncated: bool,
) -> ScoreResult:
    """The response's summed NLL from vLLM's ``prompt_logprobs`` (one entry per prompt
    position, None for the first; each a {token id: {"logprob": ...}} map holding at least
    the prompt's own token)."""
    ids = prefix + response
    if len(entries) != len(ids):
        raise InferenceServerError(
            f"inference server {client.base_url}: {len(entries)} prompt log-probs for "
            f"{len(ids)} prompt tokens"
        )
    first = len(prefix) if prefix else 1
    logprobs = [_logprob_of(client, entries[j], ids[j]) for j in range(first, len(ids))]
    return ScoreResult(
        sum_nll=-math.fsum(logprobs),
        n_tokens=len(logprobs),
        truncated=truncated,
        token_logprobs=logprobs,
    )


def _logprob_of(client: ServerClient, entry: Any, token: int) -> float:
    found = entry.get(str(token)) if isinstance(entry, dict) else None
    if not isinstance(found, dict) or "logprob" not in found:
        raise InferenceServerError(
            f"inference server {client.base_url}: no prompt log-prob for token {token}"
        )
    return float(found["logprob"])


def generate_on_server(
    client: ServerClient,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    max_model_len: int,
    stop_token_ids: Sequence[int],
    concurrency: int,
    model: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_answer: Callable[[int, str], None] | None = None,
    on_tokens: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Greedy continuations (stripped texts in input order), decoded here from the returned
    token ids with the target's tokenizer, as the transformers backend decodes them."""
    stops = set(stop_token_ids)

    def call(ids: Sequence[int]) -> tuple[str, list[int] | None]:
        room = max(1, min(max_new_tokens, max_model_len - len(ids)))
        return client.complete_greedy(
            ids, max_tokens=room, stop_token_ids=sorted(stops), model=model
        )

    texts = [""] * len(prompts)
    calls = [lambda ids=ids: call(ids) for ids in prompts]
    with closing(in_flight(calls, concurrency)) as answers:
        for done, (index, (text, token_ids)) in enumerate(answers, start=1):
            if token_ids is not None:
                new = [t for t in token_ids if t not in stops]
                text = tokenizer.decode(new, skip_special_tokens=True)
                if on_tokens is not None:
                    on_tokens(index, len(new))
            texts[index] = text.strip()
            if on_answer is not None:
                on_answer(index, texts[index])
            if on_progress is not None:
                on_progress(done, len(prompts))
    return texts
