"""DNS rebinding (Host names), and the security headers on every response."""

from __future__ import annotations

import pytest

from app.config import get_settings
from app.security.headers import allowed_hosts, host_allowed


def test_single_mode_refuses_a_foreign_host_name(client) -> None:  # type: ignore[no-untyped-def]
    """A rebound page (attacker.example resolving to 127.0.0.1) reads and writes nothing."""
    evil = {"Host": "attacker.example:8000", "Origin": "http://attacker.example:8000"}
    r = client.get("/api/v1/projects", headers=evil)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
    assert "attacker.example" in r.text and "ALLOWED_HOSTS" in r.text
    r = client.post("/api/v1/projects", json={"name": "x"}, headers=evil)
    assert r.status_code == 400
    assert client.get("/api/v1/projects").json()["projects"] == []


@pytest.mark.parametrize(
    "host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost", "LOCALHOST"]
)
def test_single_mode_answers_loopback_names(client, host: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/projects", headers={"Host": host}).status_code == 200


def test_host_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    monkeypatch.setenv("AUTH", "single")
    monkeypatch.setenv("PUBLIC_URL", "https://familiar.example.org/base")
    get_settings.cache_clear()
    try:
        patterns = allowed_hosts()
        assert patterns is not None
        assert host_allowed("familiar.example.org", patterns)
        assert host_allowed("familiar.example.org:443", patterns)
        for bad in (
            "example.org",
            "evil.familiar.example.org",
            "localhost.evil",
            "",
            "a b",
            "127.0.0.1.nip.io",
            "[::2]:80",
        ):
            assert not host_allowed(bad, patterns), bad
        monkeypatch.setenv("AUTH", "accounts")
        get_settings.cache_clear()
        assert allowed_hosts() == patterns  # PUBLIC_URL set: the same list in accounts mode
        monkeypatch.delenv("PUBLIC_URL")
        get_settings.cache_clear()
        assert allowed_hosts() is None  # a team server on 0.0.0.0 with no name: any host
        monkeypatch.setenv("ALLOWED_HOSTS", "*.corp.example, 10.0.0.5")
        get_settings.cache_clear()
        patterns = allowed_hosts()
        assert patterns is not None and host_allowed("a.corp.example", patterns)
        assert host_allowed("10.0.0.5:8000", patterns) and not host_allowed("10.0.0.6", patterns)
    finally:
        get_settings.cache_clear()


def test_security_headers_on_pages_api_static_and_errors(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/api/v1/projects", "/static/js/app.js", "/projects/999", "/healthz"):
        r = client.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-eval" not in csp, path
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert r.headers.get("referrer-policy") == "same-origin", path
        assert r.headers.get("x-frame-options") == "DENY", path


def test_api_docs_inline_script_is_allowed_by_hash(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/docs")
    csp = r.headers["content-security-policy"]
    assert "'sha256-" in csp and "frame-ancestors 'none'" in csp


def test_templates_have_no_inline_scripts_or_handlers() -> None:
    """Under the CSP an inline <script> or on*= handler would not run: none may exist."""
    import re

    from tests.paths import ROOT

    handler = re.compile(r"\son[a-z]+\s*=|hx-on|javascript:", re.I)
    script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert not handler.search(text), path
        assert not script.search(text), path
