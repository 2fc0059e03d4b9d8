"""Sessions end on the server: logout, a password change and "sign out everywhere"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.main import create_app
from app.models import UserSession
from tests.conftest import ACCOUNT_PASSWORD, page_csrf


@contextmanager
def signed_in(username: str = "alice", password: str = ACCOUNT_PASSWORD) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        token = page_csrf(c.get("/login").text)
        data = {"username": username, "password": password, "csrf_token": token}
        r = c.post("/login", data=data, follow_redirects=False, headers={"User-Agent": "ua-test"})
        assert r.status_code == 303, r.text
        c.csrf = page_csrf(c.get("/").text)  # type: ignore[attr-defined]
        yield c


def _works(c: TestClient) -> bool:
    return c.get("/api/v1/projects").status_code == 200


def test_logout_ends_the_session_even_for_a_copied_cookie(account) -> None:  # type: ignore[no-untyped-def]
    with signed_in() as c:
        cookie = c.cookies["familiar_session"]
        out = c.post("/logout", data={"csrf_token": c.csrf}, follow_redirects=False)  # type: ignore[attr-defined]
        assert out.status_code == 303
    with TestClient(create_app(), cookies={"familiar_session": cookie}) as thief:
        assert thief.get("/api/v1/projects").status_code == 401
        assert thief.get("/api/v1/me").json()["user"] is None


def test_a_cookie_without_a_session_row_signs_nobody_in(account, session: Session) -> None:  # type: ignore[no-untyped-def]
    with signed_in() as c:
        assert _works(c)
        session.execute(UserSession.__table__.delete())
        session.commit()
        assert not _works(c)


def test_password_change_signs_out_the_other_sessions(account) -> None:  # type: ignore[no-untyped-def]
    with signed_in() as a, signed_in() as b:
        h = {"X-CSRF-Token": a.csrf}  # type: ignore[attr-defined]
        change = {"current_password": "nope", "new_password": "a new password"}
        bad = a.post("/api/v1/me/password", headers=h, json=change)
        assert bad.status_code == 422 and "current password" in bad.text
        assert _works(b)
        change["current_password"] = ACCOUNT_PASSWORD
        r = a.post("/api/v1/me/password", headers=h, json=change)
        assert r.status_code == 200 and r.json() == {"revoked": 1}
        assert _works(a) and not _works(b)
    with signed_in(password="a new password") as c:
        assert _works(c)


def test_password_change_form(account) -> None:  # type: ignore[no-untyped-def]
    with signed_in() as a, signed_in() as b:
        form = {
            "current_password": ACCOUNT_PASSWORD,
            "new_password": "another password",
            "confirm": "different",
            "csrf_token": a.csrf,
        }  # type: ignore[attr-defined]
        r = a.post("/account/password", data=form)
        assert r.status_code == 422 and "differ" in r.text
        form["confirm"] = "another password"
        r = a.post("/account/password", data=form, follow_redirects=False)
        assert r.status_code == 303 and _works(a) and not _works(b)


def test_sign_out_everywhere(account, session: Session) -> None:  # type: ignore[no-untyped-def]
    with signed_in() as a, signed_in() as b:
        page = a.get("/account")
        assert page.status_code == 200 and "ua-test" in page.text and "(this browser)" in page.text
        twin = a.get("/api/v1/account").json()
        assert len(twin["sessions"]) == 2 and sum(s["current"] for s in twin["sessions"]) == 1
        assert [u["username"] for u in twin["users"]] == ["alice"]  # an admin sees the users
        other = next(s for s in twin["sessions"] if not s["current"])
        r = a.post(
            f"/account/sessions/{other['id']}/revoke",
            data={"csrf_token": a.csrf},  # type: ignore[attr-defined]
            follow_redirects=False,
        )
        assert r.status_code == 303 and not _works(b) and _works(a)
        with signed_in() as c:
            r = a.post(
                "/account/sign-out-everywhere",
                data={"csrf_token": a.csrf},  # type: ignore[attr-defined]
                follow_redirects=False,
            )
            assert r.status_code == 303 and r.headers["location"] == "/login"
            assert not _works(a) and not _works(c)
    live = session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None))).all()
    assert live == []


def test_an_admin_signs_a_user_out_everywhere(account) -> None:  # type: ignore[no-untyped-def]
    from app.db import session_scope
    from app.security.accounts import create_user

    with session_scope() as s:
        bob = create_user(s, username="bob", password="bob's password")
    with signed_in() as admin, signed_in("bob", "bob's password") as b:
        assert b.get("/api/v1/account").json()["users"] is None  # not an admin
        denied = b.post(
            f"/api/v1/users/{bob.id}/sessions/revoke-all", headers={"X-CSRF-Token": b.csrf}
        )  # type: ignore[attr-defined]
        assert denied.status_code == 403 and _works(b)
        r = admin.post(
            f"/api/v1/users/{bob.id}/sessions/revoke-all", headers={"X-CSRF-Token": admin.csrf}
        )  # type: ignore[attr-defined]
        assert r.status_code == 200 and r.json() == {"revoked": 1}
        assert not _works(b) and _works(admin)
