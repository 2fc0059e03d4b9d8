"""The job page, its JSON twin and cancel, as a browser and a script use them."""

from __future__ import annotations

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
    r = client.post(f"/jobs/{running.id}/cancel", headers={"HX-Request": "true"},
                    data={"csrf_token": page_csrf(html)})  # fmt: skip
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
