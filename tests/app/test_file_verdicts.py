"""A project can use the verdicts its files carry (a `correct` field, however spelled):
they replace the judge's in every share correct and in the scan's correctness rule, shown
as "verdict from the file"."""

from __future__ import annotations

import pytest

from tests.app.planning_project import (
    ANALYZE_TOKENIZER,
    scan_project,
    shares,
    upload_planning,
)
from tests.app.planning_task import STRATEGIES, file_share
from tests.scoring.tiny import tiny_tokenizer


def test_the_files_verdicts_give_the_files_share_correct(client, plans: int) -> None:  # type: ignore[no-untyped-def]
    r = client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    assert r.status_code == 200 and r.json()["n_settled"] == 20
    got = shares(client, plans)
    assert got == {name: (file_share(name), 10, 0) for name in STRATEGIES}
    assert got["pddl_plans"][0] == pytest.approx(0.8)
    project = client.get(f"/api/v1/projects/{plans}").json()
    assert project["project"]["verdicts_from"] == "file"
    assert {s["n_from_file"] for s in project["strategies"]} == {10}
    assert "verdict from the file" in client.get(f"/projects/{plans}").text
    listing = client.get(f"/projects/{plans}/judgements?show=wrong").text
    assert "verdict from the file" in listing
    wrong = client.get(f"/api/v1/projects/{plans}/judgements?show=wrong").json()
    assert wrong["total"] == 2  # the file's two refused plans
    client.cookies.clear()  # the pages above set a browser session; the API is a script
    back = client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "judge"})
    assert back.status_code == 200
    assert shares(client, plans) == {name: (None, 0, 10) for name in STRATEGIES}


@pytest.mark.parametrize(
    "spelling",
    [lambda ok: int(ok), lambda ok: "yes" if ok else "no", lambda ok: str(ok).lower()],
    ids=["1/0", "yes/no", "true/false"],
)
def test_the_files_verdicts_are_read_however_spelled(  # type: ignore[no-untyped-def]
    client, monkeypatch: pytest.MonkeyPatch, spelling
) -> None:
    monkeypatch.setattr(ANALYZE_TOKENIZER, lambda *a, **k: tiny_tokenizer())
    pid = upload_planning(client, spelling)
    client.put(f"/api/v1/projects/{pid}/verdicts-from", json={"verdicts_from": "file"})
    assert shares(client, pid)["pddl_plans"][0] == pytest.approx(0.8)


def test_a_bad_choice_is_refused(client, plans: int) -> None:  # type: ignore[no-untyped-def]
    r = client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "llm"})
    assert r.status_code == 422
    client.cookies.clear()  # a script, not a browser: no CSRF token needed
    form = client.post(f"/projects/{plans}/verdicts-from", data={"verdicts_from": "maybe"})
    assert form.status_code == 422 and "verdicts_from must be judge or file" in form.text


def test_a_scan_uses_the_files_verdicts_once_chosen(  # type: ignore[no-untyped-def]
    client, plans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    page = scan_project(client, plans, monkeypatch)
    got = page["summary"]["correct_share"]
    assert got["worded_plans"]["share"] == 1.0 and got["worded_plans"]["n"] == 10
    assert got["pddl_plans"]["share"] == pytest.approx(0.8)
    assert got["pddl_plans"]["sources"] == {"file": 10}
    rule = page["report"]["correctness"]
    assert rule["active"] and list(rule["passed_over"]) == ["pddl_plans"]  # 20 points below
    assert "verdict from the file: 20" in rule["note"]
    html = client.get(f"/projects/{plans}/scans/{page['scan']['id']}").text
    assert "verdict from the file" in html


def _headless(tmp_path, monkeypatch: pytest.MonkeyPatch, verdicts_from: str) -> dict:  # type: ignore[no-untyped-def]
    """`familiar scan`'s work on the planning files (tiny model in place of the target)."""
    from app.specs.scan import ScanSpec
    from tests.app.planning_project import SCAN
    from tests.app.planning_task import write_planning
    from tests.app.test_headless_import import tiny_target
    from workers.scan_cli import scan_files

    monkeypatch.setattr("workers.modeling.load_target", lambda *a, **k: tiny_target())
    files = write_planning(tmp_path)
    out = tmp_path / f"{verdicts_from}.json"
    spec = ScanSpec(**SCAN)
    return scan_files(files, spec, out=out, cache_dir=tmp_path, verdicts_from=verdicts_from)


def test_familiar_scan_uses_the_files_verdicts_as_a_project_does(  # type: ignore[no-untyped-def]
    client, plans: int, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from tests.app.test_headless_import import import_file

    judged = _headless(tmp_path, monkeypatch, "judge")["correct_share"]
    assert judged["pddl_plans"]["n"] == 0 and judged["pddl_plans"]["not_judged"] == 10
    assert "20 responses carry their file's own verdict" in capsys.readouterr().err
    results = _headless(tmp_path, monkeypatch, "file")
    got = results["correct_share"]
    assert got["worded_plans"]["share"] == 1.0 and got["worded_plans"]["n"] == 10
    assert got["pddl_plans"]["share"] == pytest.approx(0.8)
    assert got["pddl_plans"]["sources"] == {"file": 10}
    assert results["verdicts_from"] == "file"
    imported = import_file(client, plans, results)
    assert imported.status_code == 201, imported.text
    page = client.get(f"/api/v1/projects/{plans}/scans/{imported.json()['id']}").json()
    rule = page["report"]["correctness"]
    assert rule["active"] and list(rule["passed_over"]) == ["pddl_plans"]
    assert "verdict from the file: 20" in rule["note"]


def test_familiar_scan_refuses_file_verdicts_with_a_named_judge(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.specs.scan import ScanInputError, ScanSpec
    from tests.app.planning_task import write_planning
    from workers.scan_cli import scan_files

    spec = ScanSpec(model="packaged:SmolLM2-135M-Instruct", metrics=["ppl"], judge="exact")
    for verdicts_from, reason in (("file", "choose one"), ("llm", "must be judge or file")):
        with pytest.raises(ScanInputError, match=reason):
            scan_files(
                write_planning(tmp_path),
                spec,
                out=tmp_path / "r.json",
                cache_dir=tmp_path,
                verdicts_from=verdicts_from,
            )
