"""Share links: a holder reads one project and changes nothing; revoked or expired: nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Project, Scan, ShareLink
from tests.conftest import page_csrf


def _rows(n: int) -> list[dict[str, str]]:
    return [
        {"question": f"What is {i} plus {i}?", "answer": f"{2 * i}", "gold_label": str(2 * i)}
        for i in range(n)
    ]


def _setup(owner) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A project with two strategies and a queued scan, and a second project."""
    h = {"X-CSRF-Token": owner.csrf}
    pid = owner.post("/api/v1/projects", json={"name": "shared"}, headers=h).json()["id"]
    other = owner.post("/api/v1/projects", json={"name": "private"}, headers=h).json()["id"]
    files = [
        ("files", (f"{s}.json", json.dumps(_rows(4)).encode(), "application/json"))
        for s in ("a", "b")
    ]
    up = owner.post(f"/api/v1/projects/{pid}/uploads", files=files, headers=h)
    assert up.status_code == 201, up.text
    scan = owner.post(
        f"/api/v1/projects/{pid}/scans", json={"sample": 2, "metrics": ["ppl"]}, headers=h
    )
    assert scan.status_code == 201, scan.text
    body = scan.json()
    return {"pid": pid, "other": other, "sid": body["id"], "job": body["job"]["id"]}


def _share(owner, pid: int, **body) -> dict:  # type: ignore[no-untyped-def]
    r = owner.post(
        f"/api/v1/projects/{pid}/share-links", json=body, headers={"X-CSRF-Token": owner.csrf}
    )
    assert r.status_code == 201, r.text
    return r.json()


def _open(reader, link: dict):  # type: ignore[no-untyped-def]
    return reader.get(f"/s/{link['token']}", follow_redirects=False)


def test_holder_reads_the_project(accounts_client, anon_client) -> None:  # type: ignore[no-untyped-def]
    ids = _setup(accounts_client)
    pid, sid = ids["pid"], ids["sid"]
    link = _share(accounts_client, pid, label="for Bob")
    assert link["url"] == f"http://testserver/s/{link['token']}" and link["status"] == "active"
    r = _open(anon_client, link)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}"
    assert r.headers["referrer-policy"] == "no-referrer"
    page = anon_client.get(f"/projects/{pid}")
    assert page.status_code == 200 and "shared" in page.text and "read only" in page.text
    assert anon_client.get(f"/api/v1/projects/{pid}").json()["project"]["name"] == "shared"
    readable = [
        f"/projects/{pid}/scans/{sid}",
        f"/api/v1/projects/{pid}/scans/{sid}",
        f"/api/v1/projects/{pid}/scans",
        f"/projects/{pid}/questions",
        f"/api/v1/projects/{pid}/questions",
        f"/jobs/{ids['job']}",
        f"/api/v1/jobs/{ids['job']}",
    ]
    for url in readable:
        assert anon_client.get(url).status_code == 200, url
    me = anon_client.get("/api/v1/me").json()
    assert me["user"] is None and me["via"] == "anonymous"  # a reader, not an account
    fragment = anon_client.get(f"/jobs/{ids['job']}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text  # polling works


def test_holder_sees_nothing_else(accounts_client, anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    ids = _setup(accounts_client)
    pid, other = ids["pid"], ids["other"]
    other_job = Job(kind="analyze", project_id=other)
    session.add(other_job)
    session.commit()
    _open(anon_client, _share(accounts_client, pid))
    for url in (
        f"/api/v1/projects/{other}",
        "/api/v1/projects",
        f"/api/v1/jobs/{other_job.id}",
        f"/api/v1/projects/{pid}/share-links",
    ):
        assert anon_client.get(url).status_code == 401, url
    for url in (f"/projects/{other}", "/", f"/projects/{pid}/share", f"/jobs/{other_job.id}"):
        r = anon_client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url


def test_holder_changes_nothing(accounts_client, anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    ids = _setup(accounts_client)
    pid = ids["pid"]
    link = _share(accounts_client, pid)
    _open(anon_client, link)
    csrf = page_csrf(anon_client.get(f"/projects/{pid}").text)  # a valid token does not help
    h = {"X-CSRF-Token": csrf}
    files = [("files", ("c.json", json.dumps(_rows(4)).encode(), "application/json"))]
    api_writes = [
        ("post", "/api/v1/projects", {"json": {"name": "x"}}),
        ("post", f"/api/v1/projects/{pid}/uploads", {"files": files}),
        ("post", f"/api/v1/projects/{pid}/scans", {"json": {"sample": 2, "metrics": ["ppl"]}}),
        ("post", f"/api/v1/projects/{pid}/share-links", {"json": {}}),
        ("delete", f"/api/v1/projects/{pid}/share-links/{link['id']}", {}),
    ]
    for method, url, kw in api_writes:
        r = getattr(anon_client, method)(url, headers=h, **kw)
        assert r.status_code == 401, (url, r.text)
        assert "read-only" in r.json()["detail"]
    form_writes = [
        ("/projects", {"name": "x"}, None),
        (f"/projects/{pid}/uploads", {}, files),
        (f"/projects/{pid}/scans", {"metrics": ["ppl"], "sample": "2"}, None),
        (f"/projects/{pid}/share", {"label": "mine now"}, None),
        (f"/projects/{pid}/share/{link['id']}/revoke", {}, None),
    ]
    for url, data, upload in form_writes:
        r = anon_client.post(
            url, data={**data, "csrf_token": csrf}, files=upload, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url
    session.expire_all()
    assert len(session.scalars(select(Project)).all()) == 2
    assert len(session.scalars(select(ShareLink)).all()) == 1
    assert session.scalars(select(ShareLink)).one().revoked_at is None
    page = accounts_client.get(f"/api/v1/projects/{pid}").json()
    assert len(page["strategies"]) == 2 and len(page["scans"]) == 1


def test_scan_link_opens_the_scan(accounts_client, anon_client) -> None:  # type: ignore[no-untyped-def]
    ids = _setup(accounts_client)
    link = _share(accounts_client, ids["pid"], scan_id=ids["sid"])
    assert link["path"] == f"/projects/{ids['pid']}/scans/{ids['sid']}"
    r = _open(anon_client, link)
    assert r.headers["location"] == link["path"]
    assert anon_client.get(link["path"]).status_code == 200
    pid, sid = ids["pid"], ids["sid"]
    for url in (
        f"/api/v1/projects/{pid}/scans/{sid}",
        f"/projects/{pid}/scans/{sid}?metric=ppl",
    ):
        assert anon_client.get(url).status_code == 200, url
    # The scan, not the whole project: strategies, questions, other scans stay closed.
    for url in (
        f"/projects/{pid}",
        f"/api/v1/projects/{pid}",
        f"/api/v1/projects/{pid}/questions",
        f"/projects/{pid}/scans/{sid}0",
        f"/api/v1/projects/{pid}/scans",
    ):
        r = anon_client.get(url)
        assert r.status_code == 403 and "one scan" in r.text, url
    wrong = accounts_client.post(
        f"/api/v1/projects/{ids['other']}/share-links",
        json={"scan_id": ids["sid"]},
        headers={"X-CSRF-Token": accounts_client.csrf},
    )
    assert wrong.status_code == 404


def test_revoked_link_gets_nothing(accounts_client, anon_client) -> None:  # type: ignore[no-untyped-def]
    pid = _setup(accounts_client)["pid"]
    link = _share(accounts_client, pid)
    _open(anon_client, link)
    assert anon_client.get(f"/projects/{pid}").status_code == 200
    r = accounts_client.delete(
        f"/api/v1/projects/{pid}/share-links/{link['id']}",
        headers={"X-CSRF-Token": accounts_client.csrf},
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    # The grant in the reader's session stops working at once.
    page = anon_client.get(f"/projects/{pid}")
    assert page.status_code == 403 and "This share link was revoked" in page.text
    api = anon_client.get(f"/api/v1/projects/{pid}")
    assert api.status_code == 403 and api.json()["reason"] == "revoked"
    again = _open(anon_client, link)
    assert again.status_code == 403 and "was revoked" in again.text
    anon_client.cookies.clear()  # a fresh browser with the revoked link
    assert _open(anon_client, link).status_code == 403
    assert anon_client.get(f"/api/v1/projects/{pid}").status_code == 401


def test_expired_link_gets_nothing(accounts_client, anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _setup(accounts_client)["pid"]
    link = _share(accounts_client, pid, expires_in_days=7)
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(days=6.9) < expires - datetime.now(UTC) <= timedelta(days=7)
    _open(anon_client, link)
    assert anon_client.get(f"/api/v1/projects/{pid}").status_code == 200
    row = session.get(ShareLink, link["id"])
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    page = anon_client.get(f"/projects/{pid}")
    assert page.status_code == 403 and "This share link has expired" in page.text
    assert anon_client.get(f"/api/v1/projects/{pid}").json()["reason"] == "expired"
    assert _open(anon_client, link).status_code == 403
    listing = accounts_client.get(f"/api/v1/projects/{pid}/share-links").json()["links"]
    assert listing[0]["status"] == "expired"


def test_tokens_are_stored_hashed(accounts_client, anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _setup(accounts_client)["pid"]
    link = _share(accounts_client, pid)
    token = link["token"]
    assert len(token) >= 43  # 32 random bytes
    row = session.get(ShareLink, link["id"])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps({c.name: str(getattr(row, c.name)) for c in row.__table__.c})
    listing = accounts_client.get(f"/api/v1/projects/{pid}/share-links").json()
    assert [set(x) & {"token", "url", "token_hash"} for x in listing["links"]] == [set()]
    assert anon_client.get(f"/s/{token[:-1]}x", follow_redirects=False).status_code == 404
    assert anon_client.get(f"/api/v1/projects/{pid}").status_code == 401


def test_share_page_creates_and_revokes(accounts_client) -> None:  # type: ignore[no-untyped-def]
    pid = _setup(accounts_client)["pid"]
    page = accounts_client.get(f"/projects/{pid}/share")
    assert page.status_code == 200 and 'id="share-links"' in page.text
    assert f'href="/api/v1/projects/{pid}/share-links"' in page.text
    htmx = {"HX-Request": "true", "X-CSRF-Token": accounts_client.csrf}
    r = accounts_client.post(
        f"/projects/{pid}/share",
        data={"label": "<b>team</b>", "expires_in_days": "3"},
        headers=htmx,
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert "http://testserver/s/" in r.text and "&lt;b&gt;team&lt;/b&gt;" in r.text
    assert r.headers["cache-control"] == "no-store"
    link = accounts_client.get(f"/api/v1/projects/{pid}/share-links").json()["links"][0]
    assert link["label"] == "<b>team</b>" and link["created_by"] == "alice"
    r = accounts_client.post(f"/projects/{pid}/share/{link['id']}/revoke", headers=htmx)
    assert r.status_code == 200 and "revoked" in r.text and "/s/" not in r.text
    bad = accounts_client.post(
        f"/projects/{pid}/share", data={"expires_in_days": "soon"}, headers=htmx
    )
    assert bad.status_code == 422
    plain = accounts_client.post(
        f"/projects/{pid}/share", data={"csrf_token": accounts_client.csrf}
    )
    assert plain.status_code == 200 and "<html" in plain.text and "/s/" in plain.text


def test_sharing_in_single_mode(client) -> None:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "solo"}).json()["id"]
    r = client.post(f"/api/v1/projects/{pid}/share-links", json={"label": "x"})
    assert r.status_code == 201 and r.json()["created_by"] is None
    assert client.get(f"/s/{r.json()['token']}").status_code == 200
    assert client.get(f"/projects/{pid}/share").status_code == 200


def test_scan_link_reads_that_scans_questions_only(accounts_client, anon_client, session) -> None:  # type: ignore[no-untyped-def]
    """A scan link once opened any question of the project through the scan's drill-down
    (`in_sample: false`, with its gold and every response; issue 18, finding 1)."""
    ids = _setup(accounts_client)
    pid, sid = ids["pid"], ids["sid"]
    questions = accounts_client.get(f"/api/v1/projects/{pid}/questions").json()["items"]
    inside, outside = questions[0]["id"], questions[1]["id"]
    session.get(Scan, sid).summary = {"sample": [inside]}
    session.commit()
    _open(anon_client, _share(accounts_client, pid, scan_id=sid))
    for base in (f"/api/v1/projects/{pid}/scans/{sid}", f"/projects/{pid}/scans/{sid}"):
        assert anon_client.get(f"{base}/questions/{inside}").status_code == 200
        r = anon_client.get(f"{base}/questions/{outside}")
        assert r.status_code == 403 and "not one of them" in r.text, base
        assert "What is 1 plus 1" not in r.text
    owner = accounts_client.get(f"/api/v1/projects/{pid}/scans/{sid}/questions/{outside}")
    assert owner.status_code == 200 and owner.json()["in_sample"] is False
