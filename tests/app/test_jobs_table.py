"""The jobs table across projects: filters, pages, names, and only the projects you read."""

from __future__ import annotations

from app.models import Job
from app.services.jobs import create_job
from tests.app.test_results import standard
from tests.app.test_roles import _h, _upload, _users
from tests.app.test_sessions import signed_in


def test_jobs_across_projects_filter_and_page(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    other = client.post("/api/v1/projects", json={"name": "other <b>"}).json()["id"]
    for i in range(55):
        job = create_job(session, kind="scan", project_id=pid, spec={"scan_id": sid})
        job.status = "succeeded" if i % 5 else "failed"
    create_job(session, kind="analyze", project_id=other)
    session.commit()
    everything = client.get("/api/v1/jobs").json()
    assert everything["total"] >= 56 and everything["pages"] >= 2 and len(everything["items"]) == 50
    assert everything["items"][0]["kind"] == "analyze"  # newest first
    failed = client.get("/api/v1/jobs?status=failed&kind=scan").json()
    assert failed["total"] == 11 and {j["status"] for j in failed["items"]} == {"failed"}
    assert failed["counts"]["succeeded"] == 44  # the other states under the same filters
    only = client.get(f"/api/v1/jobs?project={other}").json()
    assert [j["kind"] for j in only["items"]] == ["analyze"]
    assert client.get("/api/v1/jobs?kind=scna").status_code == 422  # names the closest kind
    assert client.get("/api/v1/jobs?status=lost").status_code == 422
    html = client.get("/jobs?status=failed").text
    assert "other &lt;b&gt;" in html or "other <b>" not in html
    assert f'<a href="/projects/{pid}/scans/{sid}">scan {sid}</a>' in html
    assert "Page 1 of" not in html  # 11 failed jobs: one page
    assert "Page 1 of 2" in client.get("/jobs").text


def test_jobs_table_sorts_by_each_column_keeping_filters_and_pages(client, session) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    a = client.post("/api/v1/projects", json={"name": "Zeta"}).json()["id"]
    b = client.post("/api/v1/projects", json={"name": "alpha"}).json()["id"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = {}
    for i, (pid, kind, status, took) in enumerate(
        [
            (a, "scan", "succeeded", 30),
            (b, "analyze", "failed", 5),
            (a, "validation_train", "succeeded", 300),
        ]
    ):
        job = Job(kind=kind, queue="cpu", project_id=pid, spec={}, status=status)
        job.started_at = start + timedelta(minutes=i)
        job.finished_at = job.started_at + timedelta(seconds=took)
        session.add(job)
        session.flush()
        made[kind] = job
    session.commit()
    ids = {k: j.id for k, j in made.items()}

    def order(query: str) -> list[int]:
        items = client.get(f"/api/v1/jobs?{query}").json()["items"]
        return [j["id"] for j in items if j["id"] in ids.values()]

    assert order("") == [ids["validation_train"], ids["analyze"], ids["scan"]]  # newest first
    assert order("sort=created&order=asc") == [ids["scan"], ids["analyze"], ids["validation_train"]]
    assert order("sort=duration&order=desc") == [
        ids["validation_train"],
        ids["scan"],
        ids["analyze"],
    ]
    assert order("sort=duration&order=asc") == [
        ids["analyze"],
        ids["scan"],
        ids["validation_train"],
    ]
    assert order("sort=kind&order=asc") == [ids["analyze"], ids["scan"], ids["validation_train"]]
    assert order("sort=status&order=asc")[0] == ids["analyze"]  # failed before succeeded
    by_project = order("sort=project&order=asc")  # alpha before Zeta, letter case aside
    assert by_project[0] == ids["analyze"] and set(by_project[1:]) == {
        ids["scan"],
        ids["validation_train"],
    }
    assert order(f"project={a}&sort=duration&order=asc") == [ids["scan"], ids["validation_train"]]
    listed = client.get("/api/v1/jobs?sort=duration&order=asc").json()
    assert (listed["sort"], listed["order"]) == ("duration", "asc")
    assert client.get("/api/v1/jobs?sort=owner").status_code == 422  # validated
    assert client.get("/api/v1/jobs?order=up").status_code == 422
    html = client.get("/jobs?status=succeeded&sort=duration&order=desc").text
    assert 'aria-sort="descending"' in html and "Took ▼" in html
    # the header flips the order and keeps the filter; other headers start their own order
    assert 'href="?status=succeeded&sort=duration&order=asc&page=1"' in html
    assert 'href="?status=succeeded&sort=project&order=asc&page=1"' in html
    assert 'href="?sort=duration&order=desc&page=1"' in html  # the status filter's "all"


def test_a_member_sees_only_the_jobs_of_projects_they_read(accounts_client) -> None:  # type: ignore[no-untyped-def]
    _users("bob", "carol")
    with signed_in("bob", "bob password!") as bob, signed_in("carol", "carol password!") as carol:
        p = bob.post("/api/v1/projects", json={"name": "bob's"}, headers=_h(bob)).json()["id"]
        assert _upload(bob, p, "alpha").status_code == 201  # an analyze job
        assert bob.get("/api/v1/jobs").json()["total"] >= 1
        assert carol.get("/api/v1/jobs").json()["total"] == 0
        assert carol.get(f"/api/v1/jobs?project={p}").json()["items"] == []
        bob.post(f"/api/v1/projects/{p}/members", json={"username": "carol"}, headers=_h(bob))
        seen = carol.get("/jobs").text
        assert "bob&#39;s" in seen or "bob's" in seen
        assert 'action="/jobs/' not in seen  # a viewer cannot cancel
