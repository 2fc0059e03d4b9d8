"""Time estimates from measured rates: the scan form and the project's work queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from app.jobs import lifecycle
from app.jobs.states import JobState
from app.models import Scan
from app.specs.scan import ScanJobSpec
from tests.app.test_results import rows, upload


def _measured_scan(session: Session, pid: int) -> None:
    """A finished scan of the project's model that scored 100 items in 50 s and generated
    10 own answers in 20 s (its summary as app.scans.store writes it)."""
    scan = Scan(
        project_id=pid,
        model_name="org/tiny-model",
        spec={},
        finished_at=datetime.now(UTC),
        summary={
            "timings": {"scoring ppl": 30.0, "scoring sppl": 20.0, "generating": 20.0},
            "counts": {"scored_items": 100, "generated": 10},
        },
    )
    session.add(scan)
    session.commit()


def test_scan_estimate_uses_the_measured_rates(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    query = f"/api/v1/projects/{pid}/scans/estimate?sample=8&pool=12&model=org/tiny-model"
    cold = client.get(query + "&metrics=ppl&metrics=sppl").json()
    assert cold["seconds"] is None and cold["items"] == 2 * 8 * 2
    assert "No rate measured" in client.get(query.replace("/api/v1", "")).text
    _measured_scan(session, pid)
    est = client.get(query + "&metrics=ppl&metrics=sppl&metrics=ifd").json()
    assert est["items"] == 2 * 8 * 3 and est["answers_to_generate"] == 12
    assert est["seconds"] == pytest.approx(48 * 0.5 + 12 * 2.0)
    html = client.get(query.replace("/api/v1", "")).text
    assert "about 0m 48s" in html or "about 0m" in html
    assert client.get(f"/api/v1/projects/{pid}/scans/estimate?sample=0").status_code == 422
    repeated = client.get(query + "&metrics=ppl&samples=2").json()  # K disjoint samples
    assert repeated["items"] == 2 * 8 * 2 * 1


# A phase resumed with its 4 units already done: no rate of its own yet, so the time left is
# the worker's prior estimate however long the test takes (app.jobs.eta).
PRIOR_ONLY = {"phase_done0": 4}


def test_queue_says_what_runs_what_waits_and_how_long(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    _measured_scan(session, pid)
    jobs = []
    for _ in range(2):
        scan = Scan(project_id=pid, model_name="org/tiny-model", spec={})
        session.add(scan)
        session.flush()
        spec = ScanJobSpec(scan_id=scan.id, sample=8, metrics=["ppl"], model="org/tiny-model")
        jobs.append(lifecycle.create_job(session, kind="scan", project_id=pid, spec=spec))
    session.commit()
    lease = lifecycle.claim(session, job_id=jobs[0].id, owner="w")
    lifecycle.report_progress(
        session, lease, phase="scoring ppl", done=4, total=16, extra=PRIOR_ONLY | {"eta_s": 60.0}
    )
    queue = client.get(f"/api/v1/projects/{pid}/queue").json()
    analyze = [e for e in queue if e["job"]["kind"] == "analyze"]
    running, waiting = (e for e in queue if e["job"]["kind"] == "scan")
    assert running["job"]["status"] == "running" and running["seconds_left"] == 60.0  # PPL only
    assert waiting["waits_behind"] == [jobs[0].id] and waiting["seconds_left"] == 8.0
    assert waiting["starts_in_s"] == 60.0
    assert all(e["job"]["status"] == "queued" for e in analyze)
    html = client.get(f"/projects/{pid}").text
    assert "Running and waiting" in html and f"jobs/{jobs[1].id}" in html
    lifecycle.end(session, lease, JobState.SUCCEEDED)
    fragment = client.get(f"/projects/{pid}/queue").text
    assert "every 3s" in fragment  # the second scan still waits


def test_a_running_scan_counts_its_later_phases(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    _measured_scan(session, pid)  # 0.5 s per scored item
    scan = Scan(project_id=pid, model_name="org/tiny-model", spec={})
    session.add(scan)
    session.flush()
    spec = ScanJobSpec(scan_id=scan.id, sample=8, model="org/tiny-model", strategy_ids=[1, 2])
    job = lifecycle.create_job(session, kind="scan", project_id=pid, spec=spec)
    session.commit()
    lease = lifecycle.claim(session, job_id=job.id, owner="w")
    lifecycle.report_progress(
        session, lease, phase="scoring ppl", done=4, total=16, extra=PRIOR_ONLY | {"eta_s": 6.0}
    )
    entry = next(
        e for e in client.get(f"/api/v1/projects/{pid}/queue").json() if e["job"]["id"] == job.id
    )
    assert entry["seconds_left"] == 6.0 + 2 * (2 * 8) * 0.5  # then SPPL and IFD
