"""The lab page and its JSON twin: teachers (escaped, key never shown), recipes with their
versions and sources, the estimate fragment, starting a sample."""

from __future__ import annotations

from sqlalchemy import select

from app import db as app_db
from app.models import Job, Question
from tests.conftest import page_csrf

KEY = "sk-page-secret-QWERTYUIOPASDFGH5678"
NASTY = "<script>alert(1)</script>"


def _setup(client) -> int:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "lab"}).json()["id"]
    with app_db.session_scope() as s:
        for i in range(5):
            text, gold = f"What is {i} + 1?", f"{i} + 1 = {i + 1}\n#### {i + 1}"
            s.add(Question(project_id=pid, text_key=f"k{i}", text=text, gold=gold, position=i))
    teacher = {"name": NASTY, "base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": KEY}
    assert client.post(f"/api/v1/projects/{pid}/lab/teachers", json=teacher).status_code == 201
    return pid


def test_lab_page_twin_estimate_and_start(client) -> None:  # type: ignore[no-untyped-def]
    pid = _setup(client)
    csrf = page_csrf(client.get(f"/projects/{pid}").text)
    presets = {"teacher": NASTY, "csrf_token": csrf}
    r = client.post(f"/projects/{pid}/lab/presets", data=presets, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/projects/{pid}/lab")
    assert page.status_code == 200
    assert NASTY not in page.text and "&lt;script&gt;" in page.text
    assert KEY not in page.text and "…5678" in page.text
    assert "minimum_change" in page.text and "2411.14121" in page.text
    twin = client.get(f"/api/v1/projects/{pid}/lab").json()
    assert KEY not in str(twin)
    assert [t["name"] for t in twin["teachers"]] == ["target", NASTY]
    assert {r["name"] for r in twin["recipes"]} >= {"direct", "rule_answer_first"}
    form = {"recipes": ["direct", "rule_answer_first"], "n_questions": "3", "seed": "2"}
    form["csrf_token"] = csrf
    est = client.post(f"/projects/{pid}/lab/estimate", data=form, headers={"HX-Request": "true"})
    assert est.status_code == 200 and "<html" not in est.text
    assert "direct v1" in est.text and "characters / 4" in est.text
    bad = client.post(f"/projects/{pid}/lab/estimate", data={**form, "budget": "lots"})
    assert bad.status_code == 422 and "not a number" in bad.text
    started = client.post(f"/projects/{pid}/lab/samples", data=form, follow_redirects=False)
    assert started.status_code == 303
    assert f'href="/projects/{pid}/lab"' in client.get(f"/projects/{pid}").text
    with app_db.session_scope() as s:
        job = s.scalars(select(Job).where(Job.kind == "lab_sample")).one()
        assert len(job.spec["question_ids"]) == 3 and job.spec["seed"] == 2
    again = client.get(f"/projects/{pid}/lab")
    assert f"Job {job.id}" in again.text and "Generates a lab sample" in again.text
