"""Renaming and deleting projects, strategies and scans: pages, API, and exactly what goes."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import (
    Accuracy,
    Job,
    Project,
    Question,
    Response,
    Scan,
    ScanValue,
    ScoreCache,
    Strategy,
)
from app.services.jobs import create_job
from tests.app.test_results import SPPL, make_scan, question_ids, rows, standard, upload
from tests.conftest import page_csrf


def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def two_projects(client, session):  # type: ignore[no-untyped-def]
    """The standard project with a scan, a job on it and an accuracy; another project."""
    pid, sid = standard(client, session)
    scan = session.get(Scan, sid)
    job = create_job(session, kind="scan", project_id=pid, spec={"scan_id": sid})
    surprise = create_job(
        session,
        kind="token_surprise",
        project_id=pid,
        spec={"scan_id": sid, "question_id": question_ids(session, pid)[0]},
    )
    for j in (job, surprise):
        j.status = "succeeded"
    scan.job_id = job.id
    alpha = session.scalars(select(Strategy).filter_by(project_id=pid, name="alpha")).one()
    session.add(Accuracy(project_id=pid, strategy_id=alpha.id, seed=0, accuracy=0.5))
    session.add(ScoreCache(key="k" * 64, value=1.0, n_tokens=3))
    session.commit()
    other = upload(client, {"x": rows("X"), "y": rows("Y")}, name="other")
    other_sid = make_scan(
        session, project_id=other, values={"sppl": {"x": SPPL["alpha"], "y": SPPL["beta"]}}
    )
    session.commit()
    return pid, sid, other, other_sid, alpha.id


def untouched(session, other: int, other_sid: int) -> None:  # type: ignore[no-untyped-def]
    assert count(session, Strategy, Strategy.project_id == other) == 2
    assert count(session, ScanValue, ScanValue.scan_id == other_sid) == 2 * 16
    assert count(session, ScoreCache) == 1  # shared caches stay


def test_delete_a_scan_removes_its_values_and_jobs_only(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, other, other_sid, _ = two_projects(client, session)
    jobs_before = count(session, Job, Job.project_id == pid)
    preview = client.get(f"/api/v1/projects/{pid}/scans/{sid}/delete").json()
    assert preview["removes"] == {"values": 4 * 3 * 16, "jobs": 2} and preview["blocked"] is None
    html = client.get(f"/projects/{pid}/scans/{sid}/delete").text
    assert "Delete scan “scan" in html and "192</strong> values" in html
    r = client.post(
        f"/projects/{pid}/scans/{sid}/delete",
        data={"csrf_token": page_csrf(html)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}"
    assert count(session, Scan, Scan.id == sid) == 0
    assert count(session, ScanValue, ScanValue.scan_id == sid) == 0
    assert count(session, Job, Job.project_id == pid) == jobs_before - 2  # the upload jobs stay
    assert count(session, Job, Job.kind.in_(("scan", "token_surprise"))) == 0
    assert count(session, Response) == 3 * 16 + 2 * 16  # responses stay
    untouched(session, other, other_sid)
    assert client.get(f"/api/v1/projects/{pid}/scans/{sid}").status_code == 404


def test_delete_a_strategy_removes_its_responses_accuracies_and_scans(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, other, other_sid, alpha = two_projects(client, session)
    preview = client.get(f"/api/v1/projects/{pid}/strategies/{alpha}/delete").json()
    assert preview["removes"] == {"responses": 16, "accuracies": 1, "scans": 1, "jobs": 2}
    assert preview["scans"] == [sid]
    client.cookies.clear()  # a script, not a browser: no CSRF token needed
    r = client.delete(f"/api/v1/projects/{pid}/strategies/{alpha}")
    assert r.status_code == 200, r.text
    assert count(session, Strategy, Strategy.id == alpha) == 0
    assert count(session, Response, Response.strategy_id == alpha) == 0
    assert count(session, Accuracy) == 0 and count(session, Scan, Scan.id == sid) == 0
    assert count(session, Strategy, Strategy.project_id == pid) == 2  # beta, gamma stay
    assert count(session, Question, Question.project_id == pid) == 16
    untouched(session, other, other_sid)


def test_delete_a_project_removes_everything_of_it_and_nothing_else(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, other, other_sid, _ = two_projects(client, session)
    html = client.get(f"/projects/{pid}/delete").text
    assert "Delete project" in html and "3</strong> strategies" in html
    r = client.post(
        f"/projects/{pid}/delete", data={"csrf_token": page_csrf(html)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    for model, where in (
        (Project, Project.id == pid),
        (Scan, Scan.project_id == pid),
        (Question, Question.project_id == pid),
        (Job, Job.project_id == pid),
        (Accuracy, Accuracy.project_id == pid),
    ):
        assert count(session, model, where) == 0, model
    assert count(session, ScanValue, ScanValue.scan_id == sid) == 0
    untouched(session, other, other_sid)


def test_a_running_scan_is_not_deleted(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    scan = session.get(Scan, sid)
    job = create_job(session, kind="scan", project_id=pid, spec={"scan_id": sid})
    job.status, scan.job_id = "running", job.id
    session.commit()
    assert "still running" in client.get(f"/projects/{pid}/scans/{sid}/delete").text
    client.cookies.clear()
    r = client.delete(f"/api/v1/projects/{pid}/scans/{sid}")
    assert r.status_code == 409 and "still running" in r.json()["detail"]
    assert client.delete(f"/api/v1/projects/{pid}").status_code == 409
    assert count(session, Scan, Scan.id == sid) == 1


def test_rename_project_and_strategy(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    sid = client.get(f"/api/v1/projects/{pid}").json()["strategies"][0]["id"]
    r = client.patch(f"/api/v1/projects/{pid}", json={"name": "Renamed <b>", "description": "d"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed <b>"
    r = client.patch(f"/api/v1/projects/{pid}/strategies/{sid}", json={"name": "beta"})
    assert r.status_code == 409 and "already has a strategy named 'beta'" in r.json()["detail"]
    html = client.get(f"/projects/{pid}").text  # a browser from here on
    assert "Renamed &lt;b&gt;" in html and "Renamed <b>" not in html
    r = client.post(
        f"/projects/{pid}/strategies/{sid}/rename",
        data={"name": "gpt4o", "csrf_token": page_csrf(html)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    names = [s["name"] for s in client.get(f"/api/v1/projects/{pid}").json()["strategies"]]
    assert names == ["gpt4o", "beta"]
    r = client.post(f"/projects/{pid}/rename", data={"name": " ", "csrf_token": page_csrf(html)})
    assert r.status_code == 422


def test_a_scanned_strategy_keeps_its_name(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    alpha = client.get(f"/api/v1/projects/{pid}").json()["strategies"][0]["id"]
    client.cookies.clear()
    r = client.patch(f"/api/v1/projects/{pid}/strategies/{alpha}", json={"name": "new"})
    assert r.status_code == 409 and f"stored results of scan {sid}" in r.json()["detail"]


def test_pages_offer_share_rename_and_delete(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    project = client.get(f"/projects/{pid}").text
    assert f'href="/projects/{pid}/share"' in project and f"/projects/{pid}/delete" in project
    scan = client.get(f"/projects/{pid}/scans/{sid}").text
    assert f'href="/projects/{pid}/share?scan={sid}"' in scan
    assert f"/projects/{pid}/scans/{sid}/delete" in scan
    share = client.get(f"/projects/{pid}/share?scan={sid}").text
    assert f'<option value="{sid}" selected>' in share
    assert "nobody else can open these links" in share  # the test server is loopback-only


def test_rename_a_scan(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    client.cookies.clear()
    r = client.patch(f"/api/v1/projects/{pid}/scans/{sid}", json={"label": "  bf16 <run>  "})
    assert r.status_code == 200 and r.json()["label"] == "bf16 <run>"
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "bf16 &lt;run&gt;" in html and "bf16 <run>" not in html
    assert "bf16 &lt;run&gt;" in client.get(f"/projects/{pid}").text  # the scans table
    form = {"label": "", "csrf_token": page_csrf(html)}
    r = client.post(f"/projects/{pid}/scans/{sid}/rename", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["scan"]["label"] == ""
