"""The job page, its JSON twin and cancel, as a browser and a script use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.jobs import lifecycle
from app.jobs.states import JobState
from app.models import Job
from tests.conftest import page_csrf


def _job(session: Session) -> Job:
    job = lifecycle.create_job(session, kind="analyze", project_id=None)
    session.commit()
    return job


def test_job_page_polls_until_done(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    job = _job(session)
    html = client.get(f"/jobs/{job.id}").text
    assert 'hx-trigger="every 1s"' in html
    fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "every 1s" in fragment
    lease = lifecycle.claim(session, job_id=job.id, owner="w")
    lifecycle.end(session, lease, JobState.FAILED, error="<b>boom</b>")
    fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert "every 1s" not in fragment  # the fragment without its trigger stops the polling
    assert "&lt;b&gt;boom&lt;/b&gt;" in fragment
    assert client.get(f"/api/v1/jobs/{job.id}").json()["status"] == "failed"
    assert client.get("/api/v1/jobs/9999").status_code == 404


def test_history_restore_and_boosted_requests_get_the_full_page(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    job = _job(session)
    for extra in ({"HX-History-Restore-Request": "true"}, {"HX-Boosted": "true"}):
        r = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true", **extra})
        assert "<html" in r.text, extra
    r = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert "HX-Request" in r.headers["Vary"]  # a cache keeps the fragment and the page apart


def test_cancel_from_the_page_and_the_api(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    queued, running = _job(session), _job(session)
    lifecycle.claim(session, job_id=running.id, owner="w")
    html = client.get(f"/jobs/{running.id}").text
    assert f'action="/jobs/{running.id}/cancel"' in html
    r = client.post(
        f"/jobs/{running.id}/cancel",
        headers={"HX-Request": "true"},
        data={"csrf_token": page_csrf(html)},
    )
    assert r.status_code == 200 and "cancelling" in r.text and "stopping at its next step" in r.text
    client.cookies.clear()  # a script: no session cookie, so no CSRF token needed
    assert client.post(f"/api/v1/jobs/{queued.id}/cancel").json()["status"] == "cancelled"
    again = client.post(f"/api/v1/jobs/{queued.id}/cancel")
    assert again.status_code == 422 and "already ended" in again.text
    assert "Cancel</button>" not in client.get(f"/jobs/{queued.id}").text


def test_a_silent_worker_shows_as_lost_at_once(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    job = _job(session)
    lifecycle.claim(session, job_id=job.id, owner="w")
    session.get(Job, job.id).heartbeat_at = datetime.now(UTC) - timedelta(minutes=5)
    session.commit()
    data = client.get(f"/api/v1/jobs/{job.id}").json()
    assert data["worker_lost"] and data["heartbeat_age_s"] > 290
    assert "worker lost" in client.get(f"/jobs/{job.id}").text


def _running(session: Session, *, owner: str, beat_age_s: float) -> Job:
    job = _job(session)
    lifecycle.claim(session, job_id=job.id, owner=owner)
    session.get(Job, job.id).heartbeat_at = datetime.now(UTC) - timedelta(seconds=beat_age_s)
    session.commit()
    return job


def test_a_dead_worker_process_on_this_host_shows_as_lost_at_once(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    job = _running(session, owner=f"{socket.gethostname()}:{dead.pid}", beat_age_s=1)
    data = client.get(f"/api/v1/jobs/{job.id}").json()
    assert data["status"] == "running" and data["worker_lost"], data
    assert f":{dead.pid}) is gone" in data["worker_lost_reason"] and data["heartbeat_age_s"] < 10
    html = client.get(f"/jobs/{job.id}").text
    assert "worker lost" in html and "is gone" in html
    assert re.search(r"heartbeat \d+ s ago", html)
    alive = _running(session, owner=lifecycle_owner(), beat_age_s=1)
    assert not client.get(f"/api/v1/jobs/{alive.id}").json()["worker_lost"]


def lifecycle_owner() -> str:
    from app.jobs.lease import this_worker

    return this_worker()


def test_another_hosts_worker_is_lost_after_three_missed_beats(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    # Defaults: a heartbeat every 15 s, the lease expires after 120 s. Lost shows at 45 s.
    late = _running(session, owner="elsewhere:4242", beat_age_s=50)
    data = client.get(f"/api/v1/jobs/{late.id}").json()
    assert data["worker_lost"] and re.match(r"no heartbeat for 5\d s", data["worker_lost_reason"])
    on_time = _running(session, owner="elsewhere:4243", beat_age_s=30)
    assert not client.get(f"/api/v1/jobs/{on_time.id}").json()["worker_lost"]
    assert "worker lost" not in client.get(f"/jobs/{on_time.id}").text


def test_time_left_shows_the_recent_estimates_median_and_range(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The worker keeps each report's estimate (JobContext, app.jobs.eta_window); the page
    and its JSON show their median, not the last one's jump, and the range they span."""
    from tests.jobs.contexts import claimed_context

    job = _job(session)
    ctx = claimed_context(job.id)
    for left in (60.0, 61.0, 59.0, 20.0):  # the decoder's own estimates; the last one jumps
        ctx.progress("generating", 3, 16, {"eta_s": left, "eta_live": True}, force=True)
    data = client.get(f"/api/v1/jobs/{job.id}").json()
    assert abs(data["eta_s"] - 59.0) < 1.5
    assert abs(data["eta_low_s"] - 20.0) < 1.5 and data["eta_high_s"] >= 61.0 - 1.5
    assert len(data["progress_extra"]["eta_marks"]) == 4
    listed = client.get("/api/v1/jobs").json()["items"]
    # the list is rendered a moment later: the same range, less the time between the reads
    assert abs(next(j for j in listed if j["id"] == job.id)["eta_low_s"] - data["eta_low_s"]) < 1
    html = client.get(f"/jobs/{job.id}").text
    # the low end is 20 s less the time since the last report (a busy machine: some seconds)
    assert re.search(r"about 0m 5\ds left <span[^>]*>\(0m [12]\ds – 1m 0\ds\)</span>", html), html
    ctx.progress("scoring ppl", 0, 8, {"eta_s": 5.0}, force=True)  # a new phase: new marks
    assert len(client.get(f"/api/v1/jobs/{job.id}").json()["progress_extra"]["eta_marks"]) == 1


def test_time_left_keeps_marks_of_written_reports_only(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """A decoder reports every step; only the reports written (at most two a second) leave a
    mark, so the window's marks span seconds, not the last 40 steps."""
    from tests.jobs.contexts import claimed_context

    job = _job(session)
    ctx = claimed_context(job.id)
    for step in range(200):  # far faster than two a second: one report is written
        ctx.progress("generating", 3, 16, {"eta_s": 60.0 - step / 100, "eta_live": True})
    marks = client.get(f"/api/v1/jobs/{job.id}").json()["progress_extra"]["eta_marks"]
    assert len(marks) == 1, marks
