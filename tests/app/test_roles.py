"""Project roles: owner, editor, viewer; non-members see nothing; admins own everything."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db as app_db
from app.models import ProjectMember, ShareLink
from app.security.accounts import create_user
from tests.app.test_sessions import signed_in
from tests.conftest import page_csrf
from tests.test_migration_0005 import _migrate, fresh_url  # noqa: F401 (a fixture)

ROWS = json.dumps([{"question": f"What is {i}+{i}?", "answer": str(2 * i)} for i in range(4)])


def _users(*names: str) -> dict[str, int]:
    with app_db.session_scope() as s:
        return {n: create_user(s, username=n, password=f"{n} password!").id for n in names}


def _h(c) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"X-CSRF-Token": c.csrf}


def _upload(c, pid: int, name: str):  # type: ignore[no-untyped-def]
    files = [("files", (f"{name}.json", ROWS.encode(), "application/json"))]
    return c.post(f"/api/v1/projects/{pid}/uploads", files=files, headers=_h(c))


def test_roles_decide_what_a_member_may_do(accounts_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    ids = _users("bob", "carol", "dave")
    admins = accounts_client.post(
        "/api/v1/projects", json={"name": "alice's"}, headers=_h(accounts_client)
    )
    q = admins.json()["id"]
    with (
        signed_in("bob", "bob password!") as bob,
        signed_in("carol", "carol password!") as carol,
        signed_in("dave", "dave password!") as dave,
    ):
        p = bob.post("/api/v1/projects", json={"name": "bob's"}, headers=_h(bob)).json()["id"]
        assert [x["id"] for x in bob.get("/api/v1/projects").json()["projects"]] == [p]
        assert {x["id"] for x in accounts_client.get("/api/v1/projects").json()["projects"]} == {
            p,
            q,
        }
        r = bob.get(f"/api/v1/projects/{q}")
        assert r.status_code == 403 and "not a member" in r.json()["detail"]
        assert bob.get(f"/projects/{q}").status_code == 403
        link = bob.post(f"/api/v1/projects/{p}/share-links", json={}, headers=_h(bob)).json()

        # carol, viewer: reads, changes nothing
        add = bob.post(f"/api/v1/projects/{p}/members", json={"username": "carol"}, headers=_h(bob))
        assert add.status_code == 201 and add.json()["role"] == "viewer"
        assert carol.get(f"/api/v1/projects/{p}").status_code == 200
        assert carol.get(f"/api/v1/projects/{p}/members").json()["your_role"] == "viewer"
        assert _upload(carol, p, "c").status_code == 403
        writes = [
            ("post", f"/api/v1/projects/{p}/scans"),
            ("patch", f"/api/v1/projects/{p}"),
            ("delete", f"/api/v1/projects/{p}/share-links/{link['id']}"),
        ]
        for method, url in writes:
            kw = {"json": {"name": "x", "sample": 2}} if method != "delete" else {}
            assert getattr(carol, method)(url, headers=_h(carol), **kw).status_code == 403, url
        assert carol.get(f"/projects/{p}/share").status_code == 403

        # carol, editor: uploads; still no share links, members or deletion
        assert (
            bob.patch(
                f"/api/v1/projects/{p}/members/{ids['carol']}",
                json={"role": "editor"},
                headers=_h(bob),
            ).status_code
            == 200
        )
        assert _upload(carol, p, "c").status_code == 201
        r = carol.delete(f"/api/v1/projects/{p}/share-links/{link['id']}", headers=_h(carol))
        assert r.status_code == 403 and "owner" in r.json()["detail"]
        assert (
            carol.post(
                f"/api/v1/projects/{p}/members", json={"username": "dave"}, headers=_h(carol)
            ).status_code
            == 403
        )
        assert carol.delete(f"/api/v1/projects/{p}", headers=_h(carol)).status_code == 403
        r = carol.post(
            f"/projects/{p}/delete", data={"csrf_token": carol.csrf}, follow_redirects=False
        )  # type: ignore[attr-defined]
        assert r.status_code == 403

        # dave, not a member: nothing, also not through a job or the share page
        assert dave.get(f"/api/v1/projects/{p}/members").status_code == 403
        assert dave.get("/api/v1/projects").json()["projects"] == []

        # the owner keeps the project owned
        r = bob.patch(
            f"/api/v1/projects/{p}/members/{ids['bob']}", json={"role": "viewer"}, headers=_h(bob)
        )
        assert r.status_code == 409 and "owner" in r.json()["detail"]
        assert (
            bob.delete(f"/api/v1/projects/{p}/members/{ids['bob']}", headers=_h(bob)).status_code
            == 409
        )
        assert (
            bob.delete(f"/api/v1/projects/{p}/members/{ids['carol']}", headers=_h(bob)).status_code
            == 204
        )
        assert carol.get(f"/api/v1/projects/{p}").status_code == 403
    session.expire_all()
    assert session.scalars(select(ShareLink)).one().revoked_at is None


def test_members_page_and_forms(accounts_client) -> None:  # type: ignore[no-untyped-def]
    _users("bob")
    pid = accounts_client.post(
        "/api/v1/projects", json={"name": "p"}, headers=_h(accounts_client)
    ).json()["id"]
    page = accounts_client.get(f"/projects/{pid}/members")
    assert page.status_code == 200 and "Add a member" in page.text and "alice" in page.text
    form = {"username": "nobody", "role": "viewer", "csrf_token": accounts_client.csrf}
    r = accounts_client.post(f"/projects/{pid}/members", data=form)
    assert r.status_code == 422 and "no user" in r.text
    form["username"] = "bob"
    r = accounts_client.post(f"/projects/{pid}/members", data=form, follow_redirects=False)
    assert r.status_code == 303
    members = accounts_client.get(f"/api/v1/projects/{pid}/members").json()["members"]
    assert [(m["username"], m["role"]) for m in members] == [("alice", "owner"), ("bob", "viewer")]
    bob_id = members[1]["user_id"]
    form = {"role": "editor", "csrf_token": accounts_client.csrf}
    r = accounts_client.post(
        f"/projects/{pid}/members/{bob_id}/role", data=form, follow_redirects=False
    )
    assert r.status_code == 303
    form = {"csrf_token": accounts_client.csrf}
    r = accounts_client.post(
        f"/projects/{pid}/members/{bob_id}/remove", data=form, follow_redirects=False
    )
    assert r.status_code == 303
    assert len(accounts_client.get(f"/api/v1/projects/{pid}/members").json()["members"]) == 1


def test_single_mode_is_owner_of_everything(client) -> None:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "p"}).json()["id"]
    assert client.get(f"/api/v1/projects/{pid}/members").json()["your_role"] == "owner"
    page = client.get(f"/projects/{pid}/members")
    assert page.status_code == 200 and "Single-user mode" in page.text
    h = {"X-CSRF-Token": page_csrf(page.text)}
    assert client.delete(f"/api/v1/projects/{pid}", headers=h).status_code == 200


def test_migration_makes_the_first_admin_owner_of_existing_projects(fresh_url: str) -> None:  # noqa: F811
    engine = app_db.make_engine(fresh_url)
    _migrate(engine, "0007")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for uid, name, admin in ((1, "plain", False), (2, "boss", True), (3, "boss2", True)):
            values = {"i": uid, "n": name, "a": admin, "t": True, "c": now}
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, password_hash, is_admin, is_active,"
                    " created_at) VALUES (:i, :n, 'x', :a, :t, :c)"
                ),
                values,
            )
        for pid in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO projects (id, name, description, target_model, is_demo, "
                    "created_at) VALUES (:i, 'p', '', 'm', :f, :c)"
                ),
                {"i": pid, "f": False, "c": now},
            )
    _migrate(engine, "head")
    with Session(engine) as s:
        rows = s.scalars(select(ProjectMember).order_by(ProjectMember.project_id)).all()
        assert [(r.project_id, r.user_id, r.role) for r in rows] == [
            (1, 2, "owner"),
            (2, 2, "owner"),
        ]
    engine.dispose()


def test_studies_show_and_take_only_projects_you_are_a_member_of(accounts_client) -> None:  # type: ignore[no-untyped-def]
    _users("bob", "carol")
    admin = accounts_client
    q = admin.post("/api/v1/projects", json={"name": "admin's"}, headers=_h(admin)).json()["id"]
    with signed_in("bob", "bob password!") as bob, signed_in("carol", "carol password!") as carol:
        p = bob.post("/api/v1/projects", json={"name": "bob's"}, headers=_h(bob)).json()["id"]
        # bob cannot put a project he is not a member of in a study, nor see it offered
        r = bob.post("/api/v1/studies", json={"name": "s", "project_ids": [p, q]}, headers=_h(bob))
        assert r.status_code == 422 and f"no project with id {q}" in r.json()["detail"]
        offered = [c["id"] for c in bob.get("/api/v1/studies/new").json()["projects"]]
        assert offered == [p]
        mixed = admin.post(
            "/api/v1/studies", json={"name": "m", "project_ids": [p, q]}, headers=_h(admin)
        ).json()["id"]
        r = bob.get(f"/api/v1/studies/{mixed}")
        assert r.status_code == 403 and "not a member" in r.json()["detail"]
        assert mixed not in [s["id"] for s in bob.get("/api/v1/studies").json()["studies"]]
        own = bob.post(
            "/api/v1/studies", json={"name": "b", "project_ids": [p]}, headers=_h(bob)
        ).json()["id"]
        # carol, a viewer of bob's project, reads bob's study but cannot change it
        bob.post(f"/api/v1/projects/{p}/members", json={"username": "carol"}, headers=_h(bob))
        assert carol.get(f"/api/v1/studies/{own}").status_code == 200
        r = carol.patch(f"/api/v1/studies/{own}", json={"name": "x"}, headers=_h(carol))
        assert r.status_code == 403 and "creator" in r.json()["detail"]
        assert carol.delete(f"/api/v1/studies/{own}", headers=_h(carol)).status_code == 403
        assert (
            bob.patch(f"/api/v1/studies/{own}", json={"name": "y"}, headers=_h(bob)).status_code
            == 200
        )


def test_each_role_sees_only_the_controls_it_may_use(accounts_client) -> None:  # type: ignore[no-untyped-def]
    _users("bob", "carol", "erin")
    with (
        signed_in("bob", "bob password!") as bob,
        signed_in("carol", "carol password!") as carol,
        signed_in("erin", "erin password!") as erin,
    ):
        p = bob.post("/api/v1/projects", json={"name": "bob's"}, headers=_h(bob)).json()["id"]
        assert _upload(bob, p, "alpha").status_code == 201
        for name, role in (("carol", "viewer"), ("erin", "editor")):
            body = {"username": name, "role": role}
            assert bob.post(f"/api/v1/projects/{p}/members", json=body, headers=_h(bob)).is_success
        pages = {
            who: c.get(f"/projects/{p}").text
            for who, c in (("owner", bob), ("viewer", carol), ("editor", erin))
        }
        upload, scan = 'id="upload-form"', "<strong>New scan</strong>"
        rename, delete = f'action="/projects/{p}/rename"', f'href="/projects/{p}/delete"'
        share = f'href="/projects/{p}/share"'
        assert all(x in pages["owner"] for x in (upload, scan, rename, delete, share))
        assert upload in pages["editor"] and scan in pages["editor"]
        assert not any(x in pages["editor"] for x in (rename, delete, share))
        assert not any(x in pages["viewer"] for x in (upload, scan, rename, delete, share))
        assert "need the editor role" in pages["viewer"]
        # and what it would have met: the controls it no longer sees answer 403
        assert (
            carol.post(
                f"/projects/{p}/rename", data={"name": "x", "csrf_token": carol.csrf}
            ).status_code
            == 403
        )
        viewer_validations = carol.get(f"/projects/{p}/validations").text
        assert (
            "Use as test set" not in viewer_validations
            and "New validation" not in viewer_validations
        )
        assert "Import metric" not in carol.get(f"/projects/{p}/metrics").text
