"""Forms refused on bad values come back in their page (422) with the reason next to the field
and what was typed kept, never on the full "Something is wrong" page (issue 23, item 2)."""

from __future__ import annotations

import pytest

from tests.app.test_results import SPPL, make_scan, rows, upload


def field_html(html: str, name: str, end: str = "</label>") -> str:
    """The markup of the field named ``name`` up to the end of its label."""
    start = html.index(f'name="{name}"')
    return html[start : html.index(end, start)]


def refused(r, name: str, reason: str, *, typed: str | None = None) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert "Something is wrong" not in r.text
    field = field_html(r.text, name)
    assert 'aria-invalid="true"' in field and f'class="field-error" id="{name}-error"' in field
    assert reason in field, field
    if typed is not None:
        assert f'value="{typed}"' in field
    return field


@pytest.mark.parametrize(
    ("n", "reason"),
    [
        ("0", "greater than or equal to 1"),
        ("-5", "greater than or equal to 1"),
        ("lots", "valid integer"),
        ("5000", "can hold out 1 to 6 questions"),
    ],
)
def test_hold_out_form(client, n: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=6)})
    r = client.post(f"/projects/{pid}/test-set/holdout", data={"n": n, "seed": "3"})
    refused(r, "n", reason, typed=n)
    assert "No questions were held out." in r.text
    assert 'value="3"' in field_html(r.text, "seed")  # the other field as typed
    assert client.get(f"/api/v1/projects/{pid}/validations").json()["test_set"] is None


def test_hold_out_form_refuses_a_negative_seed_at_its_field(client) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=6)})
    r = client.post(f"/projects/{pid}/test-set/holdout", data={"n": "2", "seed": "-1"})
    refused(r, "seed", "greater than or equal to 0", typed="-1")


def test_test_set_upload_form_names_the_file_line_and_field(client) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=6)})
    bad = b'{"question": "What is 1 plus 1?", "gold_label": "2"}\n{"question": "x"}\n'
    r = client.post(f"/projects/{pid}/test-set", files={"file": ("tests.jsonl", bad)})
    field = refused(r, "file", "tests.jsonl")
    assert "The test set was not changed." in r.text and "line 2" in field
    client.cookies.clear()  # a script again, not the browser session the page started
    none = client.post(f"/projects/{pid}/test-set", data={"x": "1"})
    refused(none, "file", "choose a file")


def test_accuracy_form_comes_back_on_its_scan_page(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    sid = make_scan(
        session, project_id=pid, values={"sppl": {s: SPPL[s] for s in ("alpha", "beta")}}
    )
    r = client.post(
        f"/projects/{pid}/accuracies",
        data={"next": f"/projects/{pid}/scans/{sid}#accuracy", "scan_id": str(sid)},
        files={"file": ("acc.csv", b"strategy,accuracy\nalpha,140\n")},
    )
    field = refused(r, "file", "acc.csv, line 2, field &#39;accuracy&#39;")
    assert "No accuracy was attached." in r.text and "0 to 100" in field
    assert f"scan {sid}" in r.text  # the scan page it was sent from
    assert client.get(f"/api/v1/projects/{pid}/accuracies").json() == []


def test_mix_form_keeps_the_name_and_says_why_at_it(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    sid = make_scan(
        session, project_id=pid, values={"sppl": {s: SPPL[s] for s in ("alpha", "beta")}}
    )
    r = client.post(f"/projects/{pid}/scans/{sid}/mix", data={"metric": "sppl", "name": "alpha"})
    refused(r, "name", "already has a strategy named &#39;alpha&#39;", typed="alpha")
    assert 'id="mix-form" open' in r.text and "No mix was made." in r.text


def test_llm_judge_form(client) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A")})
    r = client.post(f"/projects/{pid}/judgements/llm", data={"model": "org/m", "limit": "0"})
    refused(r, "limit", "greater than or equal to 1", typed="0")
    assert (
        'value="org/m"' in field_html(r.text, "model") and "The LLM judge did not start." in r.text
    )
    client.cookies.clear()
    blank = client.post(f"/projects/{pid}/judgements/llm", data={"model": " ", "limit": ""})
    refused(blank, "model", "at least 1 character")


def test_study_form_puts_each_reason_at_its_field(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/studies", data={"name": "Mine", "thresholds": "two"})
    refused(r, "thresholds", "thresholds must be numbers", typed="two")
    assert 'value="Mine"' in field_html(r.text, "name")
    assert "The study was not saved." in r.text
    client.cookies.clear()
    r = client.post("/studies", data={"name": "Mine", "thresholds": "2", "project_ids": ["999"]})
    assert r.status_code == 422
    projects = r.text[r.text.index("<h2>Projects</h2>") :]
    assert 'id="project_ids-error"' in projects[:400] and "no project with id 999" in projects
