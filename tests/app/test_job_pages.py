"""Job pages lead somewhere: what a job belongs to and works on, no stale phase after it
ends, no "0 / 1" progress, and the queue opened directly is a whole page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Strategy, ValidationRun
from app.services.jobs import create_job
from tests.app.test_results import standard
from tests.app.test_validations import _project, _set_test, _start


def test_a_finished_scan_job_links_its_scan_and_drops_its_last_phase(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    job = create_job(session, kind="scan", project_id=pid, spec={"scan_id": sid})
    job.status, job.phase, job.done, job.total = "succeeded", "saving results", 1, 1
    session.commit()
    html = client.get(f"/jobs/{job.id}").text
    assert f'<a href="/projects/{pid}/scans/{sid}">scan {sid}</a>' in html
    assert "saving results" not in html.split("<h2>Details</h2>")[0]
    assert "1 / 1" not in html
    api = client.get(f"/api/v1/jobs/{job.id}").json()
    assert api["links"] == [{"label": f"scan {sid}", "url": f"/projects/{pid}/scans/{sid}"}]


def test_validation_jobs_say_what_they_train_and_evaluate(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=20)
    _set_test(client, pid, [("What is 9 minus 1?", "8"), ("What is 3 minus 1?", "2")])
    v = _start(client, pid, seeds=2, train_examples=10)
    jobs = session.scalars(select(Job).order_by(Job.id)).all()
    train = next(j for j in jobs if j.kind == "validation_train")
    run = session.get(ValidationRun, train.spec["run_id"])
    name = session.get(Strategy, run.strategy_id).name
    page = client.get(f"/jobs/{train.id}").text
    assert f"Trains on {name}, seed {run.seed}" in page
    assert f'href="/projects/{pid}/validations/{v["id"]}"' in page
    evaluation = next(j for j in jobs if j.kind == "validation_eval")
    assert "Evaluates the untuned target" in client.get(f"/jobs/{evaluation.id}").text


def test_the_queue_opened_directly_is_a_page(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, _ = standard(client, session)
    page = client.get(f"/projects/{pid}/queue")
    assert "<html" in page.text and "stylesheet" in page.text and "What runs and waits" in page.text
    fragment = client.get(f"/projects/{pid}/queue", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="queue"' in fragment.text
