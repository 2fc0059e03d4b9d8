"""The lab's generation engine: many teacher requests, at most N at once per endpoint,
every answer and fault saved as it happens, within a budget. No database, no Celery: the
store and the progress callback are handed in (``workers.jobs.lab`` wires them to tables
and to the Job row).

Never paying twice: keys already in the store are skipped before anything is sent, and an
answer is saved the moment it arrives, so a run killed mid-way and started again sends
only what had not come back. The budget is checked before each request against the worst
case (its prompt plus ``max_tokens`` at the price table) plus the worst case of requests
still in flight; the first request that would pass it stops the run, which says so. Prompt
estimates that proved low (the server counted more) are scaled up by the largest ratio
seen so far.

Requests to the target teacher without a server (``Endpoint.local``) go to the worker's
own model (``workers.lab.local``) in chunks, in a thread, under the same budget, cache and
progress; a cancel stops its decoding at the next step.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from openai import AsyncOpenAI

from app.lab.types import Answer, AnswerStore, Fault, LabRequest, RunReport
from workers.lab.calls import call_with_retries

LOCAL_CHUNK = 16  # local requests admitted (and generated) together


class LocalAnswerer(Protocol):
    def answer(
        self,
        requests: list[LabRequest],
        deliver: Callable[[LabRequest, Answer], None],
        check: Callable[[], None],
    ) -> None: ...


@dataclass(frozen=True)
class EngineConfig:
    timeout_s: float = 120.0
    max_retries: int = 4
    backoff_s: float = 1.0
    budget: float | None = None  # in the price table's currency; None: no limit
    spent_before: float = 0.0  # what earlier tries of the same job spent (counts in budget)
    budget_named: str = "the budget"  # which budget ``budget`` is, for the stop message
    concurrency: int | None = None  # per endpoint; None: each teacher's own limit


class _Run:
    def __init__(
        self,
        store: AnswerStore,
        config: EngineConfig,
        report: RunReport,
        on_progress: Callable[[RunReport], None],
    ) -> None:
        self.store, self.config, self.report = store, config, report
        self.on_progress = on_progress
        self.reserved = 0.0
        self.held: dict[int, float] = {}  # id(request) -> its reserved worst case
        # the largest (server-counted / estimated) prompt tokens seen: an estimate that was
        # low (an approximation, a server-added system message) raises the next worst cases
        self.prompt_ratio = 1.0
        self.stop = asyncio.Event()
        self.error: BaseException | None = None

    def admit(self, req: LabRequest) -> bool:
        """Reserve the request's worst case, or stop the run before it passes the budget."""
        budget = self.config.budget
        prompt = math.ceil(req.prompt_tokens_estimate * self.prompt_ratio)
        worst = req.price.cost(prompt, req.params.max_tokens)
        spent = self.config.spent_before + self.report.spent
        if budget is not None and spent + self.reserved + worst > budget:
            if self.report.stopped is None:
                self.report.stopped = "budget"
                earlier = (
                    f" (earlier tries {self.config.spent_before:.6f})"
                    if self.config.spent_before
                    else ""
                )
                self.report.budget_message = (
                    f"stopped before a request that could cost {worst:.6f} (prompt "
                    f"{prompt} + max_tokens {req.params.max_tokens} tokens"
                    f" at {req.endpoint.model}'s price): spent {spent:.6f}{earlier} plus "
                    f"{self.reserved:.6f} in flight would pass {self.config.budget_named}"
                    f" (this run may spend {budget:.6f})"
                )
            self.stop.set()
            return False
        self.reserved += worst
        self.held[id(req)] = worst
        return True

    async def record_fault(self, req: LabRequest, fault: Fault) -> None:
        faults = self.report.faults
        faults[fault.kind] = faults.get(fault.kind, 0) + 1
        await asyncio.to_thread(self.store.save_fault, req, fault)

    async def finish(self, req: LabRequest, answer: Answer | None) -> None:
        self.reserved -= self.held.pop(id(req), 0.0)
        per = self.report.recipe(req.recipe_version_id)
        if answer is None:
            self.report.missing += 1
            per["missing"] += 1
        else:
            await asyncio.to_thread(self.store.save_answer, req, answer)
            self.report.answered += 1
            if req.prompt_tokens_estimate > 0:
                seen = answer.prompt_tokens / req.prompt_tokens_estimate
                self.prompt_ratio = max(self.prompt_ratio, seen)
            self.report.spent += answer.cost
            per["answered"] += 1
            per["spent"] += answer.cost
            per["prompt_tokens"] += answer.prompt_tokens
            per["completion_tokens"] += answer.completion_tokens
            for flag in answer.flags:
                per[flag] = per.get(flag, 0) + 1
        self.progress()

    def progress(self) -> None:
        try:
            self.on_progress(self.report)
        except Exception as exc:  # noqa: BLE001 - e.g. JobCancelled: stop, keep what is done
            if self.error is None:
                self.error = exc
            self.stop.set()


async def _worker(run: _Run, client: AsyncOpenAI, queue: asyncio.Queue[LabRequest]) -> None:
    while not run.stop.is_set():
        try:
            req = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        if not run.admit(req):
            return
        answer = await call_with_retries(
            client,
            req,
            max_retries=run.config.max_retries,
            backoff_s=run.config.backoff_s,
            on_fault=lambda f, r=req: run.record_fault(r, f),
        )
        await run.finish(req, answer)


async def _local_worker(run: _Run, local: LocalAnswerer, reqs: list[LabRequest]) -> None:
    """The worker's own model answers ``reqs``, a chunk at a time (each admitted first)."""
    from workers.lab.local import LocalStopped

    loop = asyncio.get_running_loop()
    delivered: set[int] = set()

    def deliver(req: LabRequest, answer: Answer) -> None:  # from the generating thread
        delivered.add(id(req))
        asyncio.run_coroutine_threadsafe(run.finish(req, answer), loop).result()

    def check() -> None:
        if run.stop.is_set():
            raise LocalStopped

    for start in range(0, len(reqs), LOCAL_CHUNK):
        chunk = []
        for req in reqs[start : start + LOCAL_CHUNK]:
            if run.stop.is_set() or not run.admit(req):
                break
            chunk.append(req)
        if not chunk:
            return
        try:
            await asyncio.to_thread(local.answer, chunk, deliver, check)
        except LocalStopped:
            pass
        except Exception as exc:  # noqa: BLE001 - the model failed: stop, keep what is saved
            if run.error is None:
                run.error = exc
            run.stop.set()
        for req in chunk:  # admitted, not answered: release what was reserved for them
            if id(req) not in delivered:
                run.reserved -= run.held.pop(id(req), 0.0)
        if run.stop.is_set():
            return


async def generate(
    requests: list[LabRequest],
    store: AnswerStore,
    config: EngineConfig,
    on_progress: Callable[[RunReport], None] = lambda _r: None,
    local: LocalAnswerer | None = None,
) -> RunReport:
    """Get every request's answer not already in ``store``; return what happened. An
    exception raised by ``on_progress`` (a cancel) stops the run after the requests in
    flight are saved; it is kept in ``report.error`` for the caller to raise. ``local``
    answers the requests to the target teacher without a server."""
    report = RunReport(total=len(requests))
    cached = store.cached_keys([r.cache_key for r in requests])
    todo: dict[tuple[str, str], list[LabRequest]] = defaultdict(list)
    on_site: list[LabRequest] = []
    for req in requests:
        if req.cache_key in cached:
            report.cached += 1
            report.recipe(req.recipe_version_id)["cached"] += 1
        elif req.endpoint.local:
            on_site.append(req)
        else:
            todo[(req.endpoint.base_url, req.endpoint.api_key)].append(req)
    if on_site and local is None:
        raise ValueError("requests to the target teacher need a local answerer")
    run = _Run(store, config, report, on_progress)
    run.progress()
    tasks = []
    if on_site:
        tasks.append(asyncio.create_task(_local_worker(run, local, on_site)))  # type: ignore[arg-type]
    clients = []
    for (base_url, api_key), reqs in todo.items():
        client = AsyncOpenAI(
            base_url=base_url, api_key=api_key, max_retries=0, timeout=config.timeout_s
        )
        clients.append(client)
        queue: asyncio.Queue[LabRequest] = asyncio.Queue()
        for req in reqs:
            queue.put_nowait(req)
        limit = config.concurrency or reqs[0].endpoint.max_concurrency
        tasks += [asyncio.create_task(_worker(run, client, queue)) for _ in range(limit)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for client in clients:
            await client.close()
    report.skipped_budget = report.total - report.done if report.stopped == "budget" else 0
    if run.error is not None:
        report.stopped = report.stopped or "cancelled"
        report.error = run.error
    return report
