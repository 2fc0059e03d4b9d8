"""The teachers' API: owners and admins manage them; the key never comes back out, neither
in answers nor in error messages nor in log lines."""

from __future__ import annotations

import logging

import pytest

from app import db as app_db
from app.security import roles
from app.security.accounts import create_user
from tests.conftest import page_csrf

KEY = "sk-live-NEVER-SHOW-ME-1234567890wxyz"
PASSWORD = "editor password long enough"


def _project(client) -> int:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/projects",
        json={"name": "lab", "target_model": "packaged:SmolLM2-135M-Instruct"},
        headers={"X-CSRF-Token": client.csrf},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _teachers(pid: int) -> str:
    return f"/api/v1/projects/{pid}/lab/teachers"


BODY = {"name": "gpt", "base_url": "https://api.example.org/v1", "model": "gpt-x", "api_key": KEY}


def test_owner_adds_a_teacher_and_the_key_never_comes_back(
    accounts_client, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    c = accounts_client
    pid = _project(c)
    csrf = {"X-CSRF-Token": c.csrf}
    created = c.post(_teachers(pid), json=BODY, headers=csrf)
    assert created.status_code == 201, created.text
    assert (created.json()["api_key"], created.json()["api_key_hint"]) == ("set", "wxyz")
    seen = [created.text, c.get(_teachers(pid)).text]
    # refusals: an unknown field echoes the body; a bad URL; a duplicate name
    bad = c.post(_teachers(pid), json={**BODY, "extra": 1}, headers=csrf)
    url = c.post(_teachers(pid), json={**BODY, "base_url": "ftp://x"}, headers=csrf)
    twice = c.post(_teachers(pid), json=BODY, headers=csrf)
    assert (bad.status_code, url.status_code, twice.status_code) == (422, 422, 409)
    wrong_type = c.post(_teachers(pid), json={**BODY, "api_key": [KEY]}, headers=csrf)
    assert wrong_type.status_code == 422
    seen += [bad.text, url.text, twice.text, wrong_type.text]
    patched = c.patch(f"{_teachers(pid)}/gpt", json={"api_key": KEY + "2"}, headers=csrf)
    assert patched.status_code == 200 and patched.json()["api_key_hint"] == "xyz2"
    seen += [patched.text, c.get("/api/v1/projects").text, c.get(f"/projects/{pid}").text]
    seen += [c.get("/openapi.json").text]
    for text in seen:
        assert KEY not in text and KEY[:12] not in text
    for record in caplog.records:
        assert KEY[:12] not in record.getMessage()
        assert KEY[:12] not in str(record.args or "")


def _add_editor(pid: int) -> None:
    with app_db.session_scope() as s:
        user = create_user(s, username="eddie", password=PASSWORD, is_admin=False)
        roles.add_member(s, project_id=pid, username=user.username, role="editor")


def test_an_editor_can_read_teachers_but_not_manage_them(accounts_client) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.main import create_app

    pid = _project(accounts_client)
    accounts_client.post(_teachers(pid), json=BODY, headers={"X-CSRF-Token": accounts_client.csrf})
    _add_editor(pid)
    with TestClient(create_app()) as c:
        token = page_csrf(c.get("/login").text)
        login = {"username": "eddie", "password": PASSWORD, "csrf_token": token}
        assert c.post("/login", data=login, follow_redirects=False).status_code == 303
        csrf = {"X-CSRF-Token": page_csrf(c.get("/").text)}
        assert c.get(_teachers(pid)).status_code == 200
        body = {**BODY, "name": "other"}
        assert c.post(_teachers(pid), json=body, headers=csrf).status_code == 403
        assert (
            c.patch(f"{_teachers(pid)}/gpt", json={"api_key": "x"}, headers=csrf).status_code == 403
        )
        assert c.delete(f"{_teachers(pid)}/gpt", headers=csrf).status_code == 403
        recipe = {"name": "mine", "user_template": "{{ question }}", "teacher": "gpt"}
        saved = c.post(f"/api/v1/projects/{pid}/lab/recipes", json=recipe, headers=csrf)
        assert saved.status_code == 200, saved.text  # editors make recipes
