"""CSRF: unsafe requests need the session's token, never come from another site; API tokens
and (in single mode) scripts without cookies are exempt from the token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.security import sessions
from tests.conftest import page_csrf


def test_form_post_needs_the_token_when_signed_in(accounts_client) -> None:  # type: ignore[no-untyped-def]
    r = accounts_client.post("/projects", data={"name": "x"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text and "Request refused" in r.text
    r = accounts_client.post("/projects", data={"name": "x", "csrf_token": "nope"})
    assert r.status_code == 403
    r = accounts_client.post(
        "/projects", data={"name": "x", "csrf_token": accounts_client.csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/projects/")


def test_api_and_htmx_use_the_header(accounts_client) -> None:  # type: ignore[no-untyped-def]
    r = accounts_client.post("/api/v1/projects", json={"name": "x"})
    assert r.status_code == 403 and r.json()["reason"] == "csrf"
    r = accounts_client.post(
        "/api/v1/projects", json={"name": "x"}, headers={"X-CSRF-Token": accounts_client.csrf}
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    htmx = {"HX-Request": "true"}
    r = accounts_client.post(f"/projects/{pid}/share", data={}, headers=htmx)
    assert r.status_code == 403 and "<html" not in r.text  # an error fragment
    r = accounts_client.post(
        f"/projects/{pid}/share", data={}, headers={**htmx, "X-CSRF-Token": accounts_client.csrf}
    )
    assert r.status_code == 200


def test_pages_carry_the_token(accounts_client) -> None:  # type: ignore[no-untyped-def]
    html = accounts_client.get("/").text
    assert page_csrf(html) == accounts_client.csrf
    assert f'hx-headers=\'{{"X-CSRF-Token": "{accounts_client.csrf}"}}\'' in html
    assert '<script src="/static/js/csrf.js" defer></script>' in html
    js = accounts_client.get("/static/js/csrf.js").text
    assert "window.familiarCsrf" in js and "csrf_token" in js
    assert "window.familiarCsrf()" in accounts_client.get("/static/js/app.js").text


def test_cross_origin_requests_are_refused(accounts_client) -> None:  # type: ignore[no-untyped-def]
    token = {"X-CSRF-Token": accounts_client.csrf}
    refused = [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ]
    for bad in refused:
        r = accounts_client.post("/api/v1/projects", json={"name": "x"}, headers={**token, **bad})
        assert r.status_code == 403, bad
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    r = accounts_client.post("/api/v1/projects", json={"name": "x"}, headers={**token, **same})
    assert r.status_code == 201


def test_public_url_is_an_allowed_origin(accounts_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.config import get_settings

    monkeypatch.setattr(get_settings(), "public_url", "https://familiar.example.org")
    h = {"X-CSRF-Token": accounts_client.csrf, "Origin": "https://familiar.example.org"}
    assert (
        accounts_client.post("/api/v1/projects", json={"name": "x"}, headers=h).status_code == 201
    )


def test_bearer_token_needs_no_csrf(accounts_env: str, account) -> None:  # type: ignore[no-untyped-def]
    from app.db import session_scope
    from app.main import create_app
    from app.security.accounts import create_api_token

    with session_scope() as s:
        token = create_api_token(s, username="alice")
    with TestClient(create_app()) as script:
        bearer = {"Authorization": f"Bearer {token}"}
        r = script.post("/api/v1/projects", json={"name": "from CI"}, headers=bearer)
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = script.post(f"/api/v1/projects/{pid}/share-links", json={}, headers=bearer)
        assert r.status_code == 201
        evil = {**bearer, "Origin": "http://evil.example"}
        assert script.post("/api/v1/projects", json={"name": "x"}, headers=evil).status_code == 403


def test_sign_in_needs_the_token_and_rotates_it(anon_client, account) -> None:  # type: ignore[no-untyped-def]
    r = anon_client.post("/login", data=account, follow_redirects=False)
    assert r.status_code == 403
    before = page_csrf(anon_client.get("/login").text)
    r = anon_client.post("/login", data={**account, "csrf_token": before}, follow_redirects=False)
    assert r.status_code == 303
    after = page_csrf(anon_client.get("/").text)
    assert after != before  # a new session: a token seen before signing in is worthless
    r = anon_client.post("/projects", data={"name": "x", "csrf_token": before})
    assert r.status_code == 403
    assert anon_client.cookies.get(sessions.COOKIE)


def test_single_mode_scripts_work_browsers_need_the_token(client) -> None:  # type: ignore[no-untyped-def]
    # curl-like: no cookie, no Origin, no Sec-Fetch-Site.
    r = client.post("/projects", data={"name": "curl"}, follow_redirects=False)
    assert r.status_code == 303
    assert client.post("/api/v1/projects", json={"name": "script"}).status_code == 201
    # Anything that looks like a browser needs the token.
    browserish = [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}]
    for headers in browserish:
        r = client.post("/api/v1/projects", json={"name": "x"}, headers=headers)
        assert r.status_code == 403, headers
    assert (
        client.post(
            "/api/v1/projects", json={"name": "x"}, headers={"Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    html = client.get("/").text  # now the client has a session cookie, like a browser
    assert client.post("/projects", data={"name": "x"}).status_code == 403
    r = client.post(
        "/projects", data={"name": "x", "csrf_token": page_csrf(html)}, follow_redirects=False
    )
    assert r.status_code == 303
    bearer = {"Authorization": "Bearer anything"}  # single mode: no accounts, still exempt
    assert client.post("/api/v1/projects", json={"name": "y"}, headers=bearer).status_code == 201
