"""Every served page works offline: no page (nor /docs, nor the CSS it links) references an
external URL. The pages come from walking the app's routers, so a new page is checked too."""

from __future__ import annotations

import json
import re

from fastapi.routing import APIRoute

from app.main import create_app
from app.models import Strategy
from app.services.jobs import create_job
from tests.app.test_results import question_ids, standard

EXTERNAL = re.compile(
    r"""(?:src|href|action|srcset|data|poster)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?(?:https?:)?//""",
    re.I,
)
LOCAL_ASSET = re.compile(r"""(?:src|href)=["'](/static/[^"'?#]+)""")


def page_paths() -> list[str]:
    """Every GET path that is not the JSON API, walked from the app's routers."""
    app, paths = create_app(), []
    for route in app.routes:
        routes = getattr(getattr(route, "original_router", None), "routes", [route])
        for r in routes:
            if (
                isinstance(r, APIRoute)
                and "GET" in r.methods
                and not r.path_format.startswith("/api")
            ):
                paths.append(r.path_format)
    return sorted(set(paths) - {"/healthz"})


def test_the_walk_finds_the_pages() -> None:
    paths = page_paths()
    assert {"/", "/docs", "/projects/{project_id}/scans/{scan_id}", "/jobs/{job_id}"} <= set(paths)
    assert len(paths) >= 14


def test_no_served_page_references_an_external_url(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    job = create_job(session, kind="analyze", project_id=pid, spec={})
    session.commit()
    test = [{"question": f"What is {i} times 7?", "gold_label": "42"} for i in range(4)]
    files = {"file": ("test.json", json.dumps(test).encode(), "application/json")}
    assert client.post(f"/api/v1/projects/{pid}/test-set", files=files).status_code == 201
    body = {"seeds": 1, "train_examples": 4, "val_examples": 2}
    validation = client.post(f"/api/v1/projects/{pid}/validations", json=body).json()
    evaluation = client.get(f"/api/v1/projects/{pid}/validations/{validation['id']}").json()
    study = client.post("/api/v1/studies", json={"name": "s", "project_ids": [pid]}).json()
    ids = {
        "project_id": pid,
        "scan_id": sid,
        "job_id": job.id,
        "token": "not-a-token",
        "question_id": question_ids(session, pid)[0],
        "strategy_id": session.query(Strategy.id).filter_by(project_id=pid).first()[0],
        "validation_id": validation["id"],
        "evaluation_id": evaluation["evaluations"][0]["id"],
        "study_id": study["id"],
    }
    assets: set[str] = set()
    for path in page_paths():
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids[m.group(1)]), path)
        r = client.get(url, follow_redirects=True)
        assert "text/html" in r.headers["content-type"], url
        assert not EXTERNAL.findall(r.text), (url, EXTERNAL.findall(r.text))
        assets.update(LOCAL_ASSET.findall(r.text))
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200, asset  # every referenced asset is served
        if asset.endswith(".css"):
            assert not EXTERNAL.findall(r.text), asset


def test_docs_uses_the_vendored_swagger_ui(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/docs").text
    assert "cdn.jsdelivr.net" not in html and "fastapi.tiangolo.com" not in html
    assert '"validatorUrl": null' in html
    assert client.get("/openapi.json").json()["info"]["title"] == "Familiar"
