"""Page details: breadcrumbs name the project, the scans table tells scans apart."""

from __future__ import annotations

from app.models import Scan
from app.services.jobs import create_job
from tests.app.test_results import question_ids, standard


def test_job_and_error_pages_name_the_project(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    job = create_job(session, kind="analyze", project_id=pid, spec={})
    session.commit()
    crumb = f'<a href="/projects/{pid}">results</a>'
    assert crumb in client.get(f"/jobs/{job.id}").text
    missing = client.get(f"/projects/{pid}/scans/99999")
    assert missing.status_code == 404 and crumb in missing.text
    assert "Back to results" in missing.text


def test_scans_table_shows_what_tells_scans_apart(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    html = client.get(f"/projects/{pid}").text
    table = html[html.index("<th>Scan</th>") :]
    assert "<th>Prompts</th>" in table and "SPPL examples" in table and "Seed" in table
    assert "3 from a pool of 500" in table and ">chat<" in table


def test_drill_down_of_an_unfinished_scan(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    scan = session.get(Scan, sid)
    job = create_job(session, kind="scan", project_id=pid, spec={"scan_id": sid})
    job.status, scan.job_id = "running", job.id
    scan.summary, scan.report, scan.finished_at = None, None, None
    session.commit()
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{question_ids(session, pid)[0]}").text
    assert "The scan is running: its sample is known once it finishes" in html
    assert "Not in this scan's sample" not in html
