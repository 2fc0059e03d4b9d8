"""Accounts: password hashing, sign-in and out, first-account setup, API tokens, the modes."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.models import ApiToken, Project, User
from app.security.modes import UnsafeAuthMode, auth_mode, check_serve_host
from app.security.passwords import hash_password, verify_password
from tests.conftest import ACCOUNT_PASSWORD, page_csrf


def _project(session: Session, name: str = "p") -> int:
    from app.schemas.projects import ProjectCreate
    from app.services.projects import create_project

    project = create_project(session, data=ProjectCreate(name=name))
    session.commit()
    return project.id


def _n_projects(session: Session) -> int:
    session.expire_all()
    return len(session.scalars(select(Project)).all())


def test_password_hashes_are_salted_argon2() -> None:
    first, second = hash_password("s3cret-password"), hash_password("s3cret-password")
    assert first != second and first.startswith("$argon2id$")
    assert verify_password(first, "s3cret-password") and verify_password(second, "s3cret-password")
    assert not verify_password(first, "s3cret-passwore")
    assert not verify_password(None, "s3cret-password")
    assert not verify_password("not a hash", "s3cret-password")


def test_sign_in_and_out(anon_client, account) -> None:  # type: ignore[no-untyped-def]
    r = anon_client.get("/projects/1?x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/projects/1%3Fx%3D1"
    login = anon_client.get("/login?next=/api/v1/me")
    assert login.status_code == 200 and 'name="password"' in login.text
    csrf = page_csrf(login.text)
    bad = anon_client.post(
        "/login", data={"username": "alice", "password": "wrong password", "csrf_token": csrf}
    )
    assert bad.status_code == 401 and "wrong password" in bad.text
    r = anon_client.post(
        "/login",
        follow_redirects=False,
        data={**account, "next": "/api/v1/me", "csrf_token": csrf},
    )
    assert r.status_code == 303 and r.headers["location"] == "/api/v1/me"
    me = anon_client.get("/api/v1/me").json()
    assert me["user"]["username"] == "alice" and me["via"] == "session"
    home = anon_client.get("/")
    assert home.status_code == 200 and "alice" in home.text and "Sign out" in home.text
    out = anon_client.post(
        "/logout", data={"csrf_token": page_csrf(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert anon_client.get("/", follow_redirects=False).status_code == 303
    assert anon_client.get("/api/v1/me").json() == {
        "mode": "accounts",
        "user": None,
        "via": "anonymous",
        "can_write": False,
        "shared_project_id": None,
        "shared_study_id": None,
    }


def test_next_never_leaves_the_site(anon_client, account) -> None:  # type: ignore[no-untyped-def]
    csrf = page_csrf(anon_client.get("/login").text)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = anon_client.post(
            "/login", data={**account, "next": evil, "csrf_token": csrf}, follow_redirects=False
        )
        assert r.headers["location"] == "/", evil
        csrf = page_csrf(anon_client.get("/").text)  # signing in gives a new token


def test_anonymous_cannot_write(anon_client, account, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(session)
    csrf = page_csrf(anon_client.get("/login").text)  # even with a valid CSRF token
    api = {"X-CSRF-Token": csrf}
    rows = json.dumps([{"prompt": "q", "response": "a"}]).encode()
    files = [("files", ("a.json", rows, "application/json"))]
    assert anon_client.post("/api/v1/projects", json={"name": "x"}, headers=api).status_code == 401
    r = anon_client.post(f"/api/v1/projects/{pid}/uploads", files=files, headers=api)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = anon_client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 1}, headers=api)
    assert r.status_code == 401
    forms = [
        ("/projects", {"name": "x"}, None),
        (f"/projects/{pid}/uploads", {}, files),
        (f"/projects/{pid}/scans", {"metrics": ["ppl"], "sample": "1"}, None),
    ]
    for url, data, upload in forms:
        r = anon_client.post(
            url, data={**data, "csrf_token": csrf}, files=upload, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url
    htmx = anon_client.post(
        "/projects", data={"name": "x", "csrf_token": csrf}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/login")
    assert _n_projects(session) == 1
    assert anon_client.get("/api/v1/projects").status_code == 401
    assert anon_client.get(f"/api/v1/projects/{pid}").status_code == 401


def test_open_paths_stay_open(anon_client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/healthz", "/openapi.json", "/docs", "/static/css/app.css", "/login", "/setup"):
        assert anon_client.get(url).status_code == 200, url


def test_first_account_setup_runs_once(anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    r = anon_client.get("/login", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/setup"
    page = anon_client.get("/setup")
    assert "Create the first admin account" in page.text
    csrf = page_csrf(page.text)
    form = {"username": "root", "password": ACCOUNT_PASSWORD, "csrf_token": csrf}
    r = anon_client.post("/setup", data={**form, "confirm": "something else"})
    assert r.status_code == 422 and "differ" in r.text
    r = anon_client.post("/setup", data={**form, "password": "short", "confirm": "short"})
    assert r.status_code == 422 and "8 characters" in r.text
    r = anon_client.post(
        "/setup", data={**form, "confirm": ACCOUNT_PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    me = anon_client.get("/api/v1/me").json()["user"]
    assert me["username"] == "root" and me["is_admin"] is True
    user = session.scalars(select(User)).one()
    assert (
        user.password_hash.startswith("$argon2id$") and ACCOUNT_PASSWORD not in user.password_hash
    )
    closed = anon_client.get("/setup", follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == "/login"
    again = anon_client.post(
        "/setup",
        data={**form, "username": "eve", "confirm": ACCOUNT_PASSWORD},
        headers={"X-CSRF-Token": page_csrf(anon_client.get("/").text)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and session.scalars(select(User)).one().username == "root"


def test_cli_create_user_and_token(accounts_env: str, anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    r = runner.invoke(cli, ["create-user", "bob", "--password-stdin"], input="pw-of-bob-123\n")
    assert r.exit_code == 0, r.output
    assert "created user 'bob' (admin)" in r.output
    r = runner.invoke(cli, ["create-user", "bob", "--password-stdin"], input="pw-of-bob-123\n")
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(cli, ["create-user", "carol", "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and "8 characters" in r.output  # bad input
    r = runner.invoke(cli, ["create-token", "nobody"])
    assert r.exit_code == 1
    r = runner.invoke(cli, ["create-token", "bob", "--label", "ci"])
    assert r.exit_code == 0, r.output
    token = r.output.strip()
    row = session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.label == "ci"
    bearer = {"Authorization": f"Bearer {token}"}
    created = anon_client.post("/api/v1/projects", json={"name": "by token"}, headers=bearer)
    assert created.status_code == 201, created.text
    me = anon_client.get("/api/v1/me", headers=bearer).json()
    assert me["user"]["username"] == "bob" and me["via"] == "api_token"
    tokens = anon_client.get("/api/v1/me/tokens", headers=bearer).json()["tokens"]
    assert len(tokens) == 1 and "token" not in tokens[0] and "token_hash" not in tokens[0]
    revoked = anon_client.delete(f"/api/v1/me/tokens/{tokens[0]['id']}", headers=bearer)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    again = anon_client.post("/api/v1/projects", json={"name": "x"}, headers=bearer)
    assert again.status_code == 401 and "revoked" in again.json()["detail"]


def test_bad_bearer_token_is_401(anon_client, account) -> None:  # type: ignore[no-untyped-def]
    r = anon_client.get("/api/v1/projects", headers={"Authorization": "Bearer fam_nope"})
    assert r.status_code == 401
    r = anon_client.get("/projects/1", headers={"Authorization": "Bearer fam_nope"})
    assert r.status_code == 401  # a bad token is never a page redirect


def test_inactive_user_is_signed_out(accounts_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    assert accounts_client.get("/api/v1/projects").status_code == 200
    session.scalars(select(User)).one().is_active = False
    session.commit()
    assert accounts_client.get("/api/v1/projects").status_code == 401


def test_single_mode_acts_as_local_user(client) -> None:  # type: ignore[no-untyped-def]
    me = client.get("/api/v1/me").json()
    assert me == {
        "mode": "single",
        "user": None,
        "via": "local",
        "can_write": True,
        "shared_project_id": None,
        "shared_study_id": None,
    }
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"
    assert client.get("/setup", follow_redirects=False).headers["location"] == "/"
    html = client.get("/").text
    assert "Sign in" not in html and "Sign out" not in html


def test_auth_modes() -> None:
    assert auth_mode(Settings(auth="auto", host="127.0.0.1")) == "single"
    assert auth_mode(Settings(auth="auto", host="0.0.0.0")) == "accounts"
    assert auth_mode(Settings(auth="accounts", host="127.0.0.1")) == "accounts"
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert check_serve_host(host, Settings(auth="single", host=host)) == "single"
    assert check_serve_host("0.0.0.0", Settings(auth="accounts", host="0.0.0.0")) == "accounts"
    with pytest.raises(UnsafeAuthMode, match="refusing to serve on 0.0.0.0"):
        check_serve_host("0.0.0.0", Settings(auth="single", host="0.0.0.0"))
    with pytest.raises(UnsafeAuthMode, match="HOST=127.0.0.1"):  # auto, but --host elsewhere
        check_serve_host("10.1.2.3", Settings(auth="auto", host="127.0.0.1"))


@pytest.fixture
def fresh_settings():  # type: ignore[no-untyped-def]
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_serve_refuses_single_mode_off_loopback(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("AUTH", "single")
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not start"))
    r = CliRunner().invoke(cli, ["serve", "--no-workers"])
    assert r.exit_code == 2  # a usage error: the message, no traceback
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", r.output).split())  # unwrap rich's error box
    assert "refusing to serve on 0.0.0.0" in text and "Set AUTH=accounts" in text
