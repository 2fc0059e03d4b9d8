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


def _field_error(html: str, name: str) -> str:
    """The reason shown next to field ``name`` (``partials/_forms.html``), or ""."""
    import re

    found = re.search(rf'<span class="field-error" id="{name}-error">([^<]*)</span>', html)
    return found.group(1) if found else ""


def test_refused_sample_and_full_set_forms_keep_what_was_typed(client) -> None:  # type: ignore[no-untyped-def]
    """Bad values come back on the lab page (422) next to their fields, with the values as
    typed; nothing is queued. For htmx, a refused estimate is a fragment naming the field."""
    pid = _setup(client)
    csrf = page_csrf(client.get(f"/projects/{pid}").text)
    client.post(f"/projects/{pid}/lab/presets", data={"teacher": NASTY, "csrf_token": csrf})
    base = {"recipes": ["direct", "rule_answer_first"], "seed": "4", "csrf_token": csrf}
    zero = client.post(f"/projects/{pid}/lab/samples", data={**base, "n_questions": "0"})
    assert zero.status_code == 422 and "The sample did not start." in zero.text
    assert "greater than or equal to 1" in _field_error(zero.text, "n_questions")
    assert 'name="n_questions" value="0"' in zero.text and 'name="seed" value="4"' in zero.text
    assert 'value="rule_answer_first" checked' in zero.text
    assert "Something is wrong" not in zero.text
    lots = client.post(
        f"/projects/{pid}/lab/samples", data={**base, "n_questions": "0", "budget": NASTY}
    )
    assert lots.status_code == 422 and "is not a number" in _field_error(lots.text, "budget")
    assert _field_error(lots.text, "n_questions")  # every refused field at once
    assert NASTY not in lots.text  # the typed value is shown escaped
    unticked = {"n_questions": "3", "csrf_token": csrf}
    none = client.post(f"/projects/{pid}/lab/samples", data=unticked)
    assert none.status_code == 422 and _field_error(none.text, "recipes")
    hx = client.post(
        f"/projects/{pid}/lab/estimate",
        data={**base, "n_questions": "-5"},
        headers={"HX-Request": "true"},
    )
    assert hx.status_code == 200 and "<html" not in hx.text
    assert "No estimate" in hx.text and "n questions:" in hx.text
    with app_db.session_scope() as s:
        assert s.scalars(select(Job).where(Job.kind == "lab_sample")).first() is None
    # the full set (a rule sample made a lab strategy): refused, the form shown as sent
    from workers.tasks import run_job

    rule = {"recipes": ["rule_answer_first"], "n_questions": "2", "csrf_token": csrf}
    assert client.post(f"/projects/{pid}/lab/samples", data=rule).status_code == 200
    with app_db.session_scope() as s:
        job_id = s.scalars(select(Job.id).where(Job.kind == "lab_sample")).one()
    run_job(job_id)
    page = client.get(f"/projects/{pid}/lab").text
    sid = page.split('name="strategy_id"')[1].split('value="')[1].split('"')[0]
    ask = {"strategy_id": sid, "budget": "-1", "csrf_token": csrf}
    full = client.post(f"/projects/{pid}/lab/full-set", data=ask)
    assert full.status_code == 422 and "The full set did not start." in full.text
    assert "greater than or equal to 0" in _field_error(full.text, "budget")
    assert 'name="budget" value="-1"' in full.text and f'value="{sid}" selected' in full.text
    with app_db.session_scope() as s:
        assert len(s.scalars(select(Job).where(Job.kind == "lab_sample")).all()) == 1
