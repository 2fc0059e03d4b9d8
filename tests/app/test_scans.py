"""Starting scans: every bad request is refused before any model work; a good one queues."""

from __future__ import annotations

import json

import pytest


def _project_with(client, rows_by_strategy: dict[str, list[dict]], **form: str) -> int:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "scan"}).json()["id"]
    files = [
        ("files", (f"{name}.json", json.dumps(rows).encode(), "application/json"))
        for name, rows in rows_by_strategy.items()
    ]
    if files:
        r = client.post(f"/api/v1/projects/{pid}/uploads", files=files, data=form)
        assert r.status_code == 201, r.text
    return pid


def _rows(n: int, offset: int = 0, style: str = "") -> list[dict]:
    return [
        {
            "question": f"What is {i} plus {i}?",
            "answer": f"{style}{2 * i}",
            "gold_label": str(2 * i),
        }
        for i in range(offset, offset + n)
    ]


def test_no_strategies(client) -> None:
    pid = _project_with(client, {})
    r = client.post(f"/api/v1/projects/{pid}/scans", json={})
    assert r.status_code == 422 and "no strategies" in r.json()["detail"]


def test_sample_larger_than_shared(client) -> None:
    pid = _project_with(client, {"a": _rows(10), "b": _rows(10, offset=5)})
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 6})
    assert r.status_code == 422
    assert "larger than the 5 questions shared" in r.json()["detail"]


def test_no_common_questions(client) -> None:
    pid = _project_with(client, {"a": _rows(4), "b": _rows(4, offset=10)}, new_question_set="true")
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 2})
    assert r.status_code == 422 and "no question in common" in r.json()["detail"]


def test_bad_model_refs(client) -> None:
    pid = _project_with(client, {"a": _rows(4)})
    for model, expect in [
        ("packaged:Nope", "unknown packaged model"),
        ("/no/such/folder", "does not exist"),
    ]:
        r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 2, "model": model})
        assert r.status_code == 422 and expect in r.json()["detail"]


def test_a_hub_id_that_cannot_load_is_refused_at_creation(client, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Offline, a Hugging Face id is accepted only when its snapshot is in the local cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    pid = _project_with(client, {"a": _rows(4)})
    for model, expect in [
        ("nobody/no-such-model", "not in the local Hugging Face cache"),
        ("just-a-word", "not a Hugging Face id"),
    ]:
        r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 2, "model": model})
        assert r.status_code == 422 and expect in r.json()["detail"], r.text
    snapshot = tmp_path / "hub" / "models--org--cached" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 2, "model": "org/cached"})
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/jobs/{r.json()['job']['id']}").json()["status"] == "queued"


def test_sppl_needs_gold_unless_filter_off(client) -> None:
    rows = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(4)]
    pid = _project_with(client, {"a": rows})
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 2})
    assert r.status_code == 422 and "gold" in r.json()["detail"]
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 2, "filter_correct": False})
    assert r.status_code == 201


def test_bad_settings_are_422(client) -> None:
    pid = _project_with(client, {"a": _rows(4)})
    for body in ({"examples": 6}, {"metrics": ["bleu"]}, {"dtype": "int4"}, {"metrics": []}):
        assert client.post(f"/api/v1/projects/{pid}/scans", json=body).status_code == 422


def test_good_scan_is_queued_on_gpu(client) -> None:
    pid = _project_with(client, {"a": _rows(6), "b": _rows(6, style="The answer is ")})
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"sample": 4, "metrics": ["sppl", "ppl"]})
    assert r.status_code == 201, r.text
    scan = r.json()
    assert scan["status"] == "queued" and scan["job"]["queue"] == "gpu"
    assert scan["spec"]["metrics"] == ["ppl", "sppl"] and len(scan["spec"]["strategy_ids"]) == 2
    page = client.get(f"/projects/{pid}/scans/{scan['id']}")
    assert page.status_code == 200 and 'hx-trigger="every 2s"' in page.text
    assert client.get(f"/api/v1/projects/{pid}/scans").json()["scans"][0]["id"] == scan["id"]
    assert f"/projects/{pid}/scans/{scan['id']}" in client.get(f"/projects/{pid}").text


def test_form_start_redirects(client) -> None:
    pid = _project_with(client, {"a": _rows(6)})
    r = client.post(
        f"/projects/{pid}/scans",
        data={"metrics": ["ppl"], "sample": "3", "filter_correct": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "/scans/" in r.headers["location"]
    bad = client.post(f"/projects/{pid}/scans", data={"metrics": ["ppl"], "sample": "99"})
    assert bad.status_code == 422 and "larger than" in bad.text


def test_the_scan_form_says_why_a_project_without_shared_questions_cannot_scan(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project_with(client, {"a": _rows(4), "b": _rows(4, offset=10)}, new_question_set="true")
    page = client.get(f"/projects/{pid}").text
    assert "A scan cannot start: no question is answered by every strategy" in page
    assert "Delete or replace the strategy that breaks the overlap" in page
    assert 'name="sample"' not in page and "scans/estimate" not in page  # no sample 50, no estimate


def test_the_scan_form_says_why_a_project_without_strategies_cannot_scan(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project_with(client, {})
    page = client.get(f"/projects/{pid}").text
    assert "A scan cannot start: the project has no strategies yet" in page
    assert 'name="sample"' not in page and "scans/estimate" not in page  # no sample 50, no estimate
    assert "Start scan" not in page


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0", "greater than or equal to 1"),
        ("-5", "greater than or equal to 1"),
        ("5000", "larger than the 6 questions shared"),
        ("many", "valid integer"),
    ],
)
def test_a_refused_scan_form_comes_back_with_the_reason_at_the_field(client, typed, reason) -> None:  # type: ignore[no-untyped-def]
    pid = _project_with(client, {"a": _rows(6), "b": _rows(6, style="The answer is ")})
    form = {"metrics": ["ppl"], "sample": typed, "seed": "7", "model": "", "pool": "3"}
    r = client.post(f"/projects/{pid}/scans", data=form, follow_redirects=False)
    assert r.status_code == 422, r.text
    html = r.text
    assert "Something is wrong" not in html and "The scan did not start." in html
    field = html[html.index('name="sample"') :]
    field = field[: field.index("</label>")]
    assert f'value="{typed}"' in field and 'aria-invalid="true"' in field
    assert 'class="field-error" id="sample-error"' in field and reason in field
    assert 'name="seed" value="7"' in html and 'name="pool" value="3"' in html  # kept as typed
    assert 'value="ppl" checked' in html and 'value="sppl" >' in html  # the boxes as ticked
    assert client.get(f"/api/v1/projects/{pid}/scans").json()["scans"] == []


def test_a_refused_scan_form_keeps_an_unknown_model_at_its_field(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project_with(client, {"a": _rows(6)})
    form = {"metrics": ["ppl"], "sample": "3", "model": "<b>/no/such/folder</b>"}
    r = client.post(f"/projects/{pid}/scans", data=form)
    assert r.status_code == 422
    assert 'value="&lt;b&gt;/no/such/folder&lt;/b&gt;"' in r.text and "<b>/no" not in r.text
    assert 'id="model-error"' in r.text
