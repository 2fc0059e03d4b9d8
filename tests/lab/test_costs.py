"""The lab's costs (issue 21): a price table per project that the estimate and the runs
use, a project budget that binds across runs, and a retried job's budget that starts from
what the job already spent. The runs here stop before their first request, so the teacher
is a closed port: a request sent would show as a connection fault."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab import budget as lab_budget
from app.lab import samples as lab_samples
from app.models import Job, LabAnswer, LabFault
from app.schemas.lab import BudgetSet, PriceSet
from app.specs.lab import LabSampleCreate
from tests.conftest import page_csrf
from tests.lab.project import make_lab_project
from tests.vllm_server import free_port

MODEL = "org/teacher-model"  # a slash, as hosted model names have


def _closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def _lab(session: Session, price: tuple[float, float] | None = (2.0, 4.0)):  # type: ignore[no-untyped-def]
    return make_lab_project(session, base_url=_closed_url(), model=MODEL, price=price)


def _paid(session: Session, lab, job_id: int | None, cost: float, n: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Answers as an earlier run left them (``job_id`` paid ``cost`` each)."""
    for i in range(n):
        session.add(
            LabAnswer(
                cache_key=f"earlier-{job_id}-{cost}-{i}",
                project_id=lab.project_id,
                recipe_version_id=lab.version_ids[0],
                question_id=lab.question_ids[i],
                job_id=job_id,
                cost=cost,
            )
        )
    session.commit()


def test_prices_belong_to_their_project_and_price_the_plan(session: Session) -> None:
    priced, free = _lab(session), _lab(session, price=None)
    assert {r.price.prompt_per_mtok for r in priced.plan(session).requests} == {2.0}
    assert {r.worst_cost() for r in free.plan(session).requests} == {0.0}  # not the other's
    listed = lab_budget.list_prices(session, project_id=free.project_id)
    assert [(p.model, p.prompt_per_mtok, p.used_by) for p in listed] == [(MODEL, 0.0, ["local"])]
    cost = PriceSet(model=MODEL, prompt_per_mtok=1e6, completion_per_mtok=0.5)
    lab_budget.set_price(session, project_id=free.project_id, data=cost)
    request = free.plan(session).requests[0]
    assert request.worst_cost() == pytest.approx(request.prompt_tokens_estimate + 16 * 0.5 / 1e6)
    lab_budget.delete_price(session, project_id=free.project_id, model=MODEL)
    assert free.plan(session).requests[0].worst_cost() == 0.0


def test_the_tighter_budget_binds_and_a_jobs_earlier_spend_counts(session: Session) -> None:
    lab = _lab(session)
    pid = lab.project_id
    _paid(session, lab, job_id=1, cost=3.0)  # another run
    _paid(session, lab, job_id=2, cost=0.5, n=2)  # this job, before it was retried
    assert lab_budget.run_limit(session, project_id=pid, job_id=2, run_budget=None).cap is None
    run_only = lab_budget.run_limit(session, project_id=pid, job_id=2, run_budget=2.0)
    assert (run_only.cap, run_only.spent_before) == (2.0, 1.0)
    lab_budget.set_budget(session, project_id=pid, data=BudgetSet(limit=4.5))
    assert lab_budget.get_budget(session, project_id=pid).left == pytest.approx(0.5)
    both = lab_budget.run_limit(session, project_id=pid, job_id=2, run_budget=2.0)
    # the project's 4.5 less the other run's 3.0 leaves this job 1.5 in all (1.0 spent)
    assert both.cap == pytest.approx(1.5) and "project's budget" in both.named
    fresh = lab_budget.run_limit(session, project_id=pid, job_id=None, run_budget=None)
    assert fresh.cap == pytest.approx(0.5) and fresh.spent_before == 0.0


def _run_sample(session: Session, lab, budget: float | None) -> Job:  # type: ignore[no-untyped-def]
    from workers.tasks import run_job

    ask = LabSampleCreate(recipes=["direct"], n_questions=2, seed=0, budget=budget)
    job = lab_samples.start_sample(session, project_id=lab.project_id, data=ask)
    session.commit()
    run_job(job.id)
    session.expire_all()
    row = session.get(Job, job.id)
    assert row is not None and row.status == "succeeded", row.error if row else None
    return row


def test_a_spent_project_budget_stops_a_run_before_its_first_request(session: Session) -> None:
    lab = _lab(session)
    _paid(session, lab, job_id=None, cost=0.75)
    lab_budget.set_budget(session, project_id=lab.project_id, data=BudgetSet(limit=0.75))
    est = lab_samples.estimate_sample(
        session, project_id=lab.project_id, data=LabSampleCreate(recipes=["direct"], n_questions=2)
    )
    assert est["cap"] == 0.0 and not est["within_budget"]
    job = _run_sample(session, lab, budget=None)
    result = job.result or {}
    assert (
        result["stopped"] == "budget"
        and "the project's budget 0.75 (0.75 spent" in result["summary"]
    )
    assert result["answered"] == 0 and result["skipped_budget"] == 2
    assert session.scalar(select(func.count()).select_from(LabFault)) == 0  # nothing sent


def test_a_retried_job_starts_its_budget_from_what_it_spent(session: Session) -> None:
    lab = _lab(session)
    cheapest = min(r.worst_cost() for r in lab.plan(session).requests)
    ask = LabSampleCreate(recipes=["direct"], n_questions=2, seed=0, budget=1.0 + cheapest / 2)
    job = lab_samples.start_sample(session, project_id=lab.project_id, data=ask)
    session.commit()
    # its first try paid 1.0 (under another key, so the retry still has both questions to
    # ask): the retry has room for half of the cheapest request
    _paid(session, lab, job_id=job.id, cost=1.0)
    from workers.tasks import run_job

    run_job(job.id)
    session.expire_all()
    row = session.get(Job, job.id)
    assert row is not None and row.status == "succeeded", row.error if row else None
    result = row.result or {}
    assert result["stopped"] == "budget" and "(earlier tries 1.000000)" in result["summary"]
    assert result["spent"] == 1.0 and result["answered"] == 0
    assert session.scalar(select(func.count()).select_from(LabFault)) == 0  # nothing sent


def test_owners_set_prices_and_budget_on_the_page(client) -> None:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "costs"}).json()["id"]
    teacher = {"name": "gpt", "base_url": _closed_url(), "model": "<b>m</b>", "api_key": "k" * 20}
    assert client.post(f"/api/v1/projects/{pid}/lab/teachers", json=teacher).status_code == 201
    csrf = page_csrf(client.get(f"/projects/{pid}").text)
    form = {"model": "<b>m</b>", "prompt_per_mtok": "2.5", "completion_per_mtok": "10"}
    r = client.post(f"/projects/{pid}/lab/prices", data={**form, "csrf_token": csrf})
    assert r.status_code == 200 and r.history[0].status_code == 303
    bad = client.post(
        f"/projects/{pid}/lab/prices", data={**form, "prompt_per_mtok": "x", "csrf_token": csrf}
    )
    assert bad.status_code == 422 and "prompt_per_mtok" in bad.text
    negative = {**form, "completion_per_mtok": "-1", "csrf_token": csrf}
    assert client.post(f"/projects/{pid}/lab/prices", data=negative).status_code == 422
    budget = {"limit": "12", "currency": "EUR", "csrf_token": csrf}
    assert client.post(f"/projects/{pid}/lab/budget", data=budget).status_code == 200
    page = client.get(f"/projects/{pid}/lab").text
    assert "<b>m</b>" not in page and "&lt;b&gt;m&lt;/b&gt;" in page
    assert "of a budget of 12.0000 (12.0000 left)" in page and "EUR" in page
    prices = client.get(f"/api/v1/projects/{pid}/lab/prices").json()
    assert prices == [
        {
            "model": "<b>m</b>",
            "prompt_per_mtok": 2.5,
            "completion_per_mtok": 10.0,
            "used_by": ["gpt"],
        }
    ]
    token = {"X-CSRF-Token": csrf}
    put = client.put(f"/api/v1/projects/{pid}/lab/budget", json={"limit": None}, headers=token)
    assert put.status_code == 200 and put.json()["left"] is None, put.text
    path = f"/api/v1/projects/{pid}/lab/prices"
    gone = client.delete(path, params={"model": "<b>m</b>"}, headers=token)
    assert gone.status_code == 204
    assert client.get(f"/api/v1/projects/{pid}/lab").json()["prices"][0]["prompt_per_mtok"] == 0
