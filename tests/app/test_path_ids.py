"""Ids in paths out of the databases' integer range: a 404, never a 500 (issue 11)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.main import create_app

HUGE = [2**31, 2**63, 10**30]
ID_PARAM = re.compile(r"\{(\w+_id)(?::int)?\}")


def _routes(app) -> list[APIRoute]:  # type: ignore[no-untyped-def]
    def walk(routes):  # type: ignore[no-untyped-def]
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            elif isinstance(r, APIRoute):
                yield r

    return [r for r in walk(app.routes) if ID_PARAM.search(r.path)]


@pytest.mark.parametrize("huge", HUGE)
def test_api_and_pages_answer_404_for_huge_ids(client, huge: int) -> None:
    for url in (f"/api/v1/projects/{huge}", f"/api/v1/jobs/{huge}"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code, r.text[:200])
        assert isinstance(r.json()["detail"], str)
    page = client.get(f"/projects/{huge}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text


def test_every_route_with_an_id_survives_huge_ids(settings_env: str) -> None:
    app = create_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        pid = client.post("/api/v1/projects", json={"name": "p"}).json()["id"]
        failures = []
        for route in _routes(app):
            for huge in (2**31, 2**63 + 5):
                values = {n: huge for n in ID_PARAM.findall(route.path)}
                for first in (False, True):  # the project exists, the other ids do not
                    if first and "project_id" in values:
                        values["project_id"] = pid
                    url = re.sub(
                        r"\{(\w+)(?::\w+)?\}",
                        lambda m, v=values: str(v.get(m.group(1), "t")),
                        route.path,
                    )
                    for method in sorted(route.methods - {"HEAD"}):
                        r = client.request(method, url)
                        if r.status_code >= 500 or r.status_code == 422:
                            failures.append((method, url, r.status_code))
        assert not failures, failures[:20]


def test_anonymous_job_lookup_with_a_huge_id_finds_no_route(anon_client) -> None:
    """Out of range is not an id: 404 before any rule runs (issue 18; it was a 401 when the
    access rule ran first), for anonymous requests too."""
    for huge in HUGE:
        r = anon_client.get(f"/api/v1/jobs/{huge}")
        assert r.status_code == 404, r.text
        r = anon_client.get(f"/api/v1/projects/{huge}/questions")
        assert r.status_code == 404, r.text
    assert anon_client.get("/api/v1/jobs/5").status_code == 401  # in range: sign in first
