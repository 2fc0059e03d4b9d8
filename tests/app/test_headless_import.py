"""Import a headless run: the results.json of `familiar scan` becomes a scan of the project
with the same values and pages as the same scan run in the dashboard; a file whose
strategies or questions are not the project's is refused, nothing stored."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Scan, ScanValue
from app.specs.scan import ScanSpec
from tests.app.multisubject import write_multisubject
from tests.app.test_categories import upload_files
from tests.jobs.contexts import claimed_context
from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from workers.jobs.scan import run_scan_job
from workers.modeling.loader import Target
from workers.scan_cli import _with_sources, read_corpus
from workers.scoring.scan import run_scan

SETTINGS: dict[str, Any] = {
    "metrics": ["ppl", "sppl", "ifd"],
    "sample": 4,
    "samples": 2,
    "examples": 1,
    "pool": 4,
    "max_new_tokens": 4,
    "seed": 1,
    "allow_unfiltered_fallback": True,
    "model": "packaged:SmolLM2-135M-Instruct",
}
VOLATILE = ("timings", "imported")  # how long it took; where it came from (page.source)


def tiny_target() -> Target:
    """The tiny random model, with room for whole GSM8K prompts (one token per character)."""
    model = tiny_llama(max_positions=4096)
    return Target(model, tiny_tokenizer(), "tiny", "tiny-key", "float32", "cpu", True)


def headless_results(files: list[Path], **settings: Any) -> dict[str, Any]:
    """What `familiar scan` writes, from its own reader and the scan core (tiny model)."""
    corpus = read_corpus(files)
    spec = ScanSpec(**(SETTINGS | settings))
    result = run_scan(spec, tiny_target(), corpus.questions, corpus.responses)
    return _with_sources(result.to_dict(), corpus)


QUICK = {"metrics": ["ppl"], "sample": 2, "samples": 1}
_QUICK_RESULTS: dict[str, Any] = {}


def quick_results(files: list[Path]) -> dict[str, Any]:
    """A PPL-only run of the 12-question file, computed once per test session."""
    if not _QUICK_RESULTS:
        _QUICK_RESULTS.update(headless_results(files, **QUICK))
    return copy.deepcopy(_QUICK_RESULTS)


def dashboard_scan(client, pid: int, monkeypatch) -> int:  # type: ignore[no-untyped-def]
    """The same scan started in the dashboard and run by the worker's handler."""
    monkeypatch.setattr("workers.modeling.load_target", lambda *a, **k: tiny_target())
    client.cookies.clear()
    r = client.post(f"/api/v1/projects/{pid}/scans", json=SETTINGS)
    assert r.status_code == 201, r.text
    run_scan_job(claimed_context(r.json()["job"]["id"]))
    return r.json()["id"]


def import_file(client, pid: int, results: dict[str, Any], name: str = "results.json"):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    body = json.dumps(results).encode()
    return client.post(
        f"/api/v1/projects/{pid}/scans/import", files={"file": (name, body, "application/json")}
    )


def comparable(page: dict[str, Any]) -> dict[str, Any]:
    """The page without what names this scan (ids, times) or how long it took."""
    out = {k: v for k, v in page.items() if k not in ("scan", "other_scans", "source")}
    out["summary"] = {k: v for k, v in page["summary"].items() if k not in VOLATILE}
    out["report"] = {k: v for k, v in page["report"].items() if k != "build_s"}  # its timing
    return out


def test_round_trip_equals_the_dashboard_scan(client, session, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = write_multisubject(tmp_path, n=12)
    pid, _ = upload_files(client, files)
    results = headless_results(files)
    mine = dashboard_scan(client, pid, monkeypatch)
    r = import_file(client, pid, results)
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["status"] == "succeeded" and imported["job"] is None
    a = client.get(f"/api/v1/projects/{pid}/scans/{mine}").json()
    b = client.get(f"/api/v1/projects/{pid}/scans/{imported['id']}").json()
    assert b["source"]["filename"] == "results.json" and a["source"] is None
    for key in comparable(a):
        assert comparable(b)[key] == comparable(a)[key], key
    assert b["aggregates"] == a["aggregates"]
    assert b["samples"]["n_samples"] == 2 and b["samples"] == a["samples"]
    html = client.get(f"/projects/{pid}/scans/{imported['id']}").text
    assert "Imported headless run" in html and "Pick across 2 disjoint samples" in html
    q = a["summary"]["sample"][0]
    da = client.get(f"/api/v1/projects/{pid}/scans/{mine}/questions/{q}").json()
    db = client.get(f"/api/v1/projects/{pid}/scans/{imported['id']}/questions/{q}").json()
    assert db["answers"] == da["answers"] and db["exemplars"] == da["exemplars"]


def _count(session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return (
        session.scalar(select(func.count(Scan.id))),
        session.scalar(select(func.count(ScanValue.id))),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["values"].update(other=r["values"]["gpt4"]), "strategy 'other' is not in"),
        (lambda r: r["sample"].__setitem__(0, "q:nope"), "question 'q:nope'"),
        (lambda r: r.pop("values"), "not a results.json"),
        (lambda r: r["settings"].update(sample=0), "settings: sample"),
    ],
)
def test_mismatched_results_are_refused(client, session, tmp_path, change, message) -> None:  # type: ignore[no-untyped-def]
    files = write_multisubject(tmp_path, n=12)
    pid, _ = upload_files(client, files)
    results = quick_results(files)
    before = _count(session)
    change(results)  # on a PPL-only run (what is refused does not depend on the metrics)
    r = import_file(client, pid, results)
    assert r.status_code == 422 and r.json()["detail"].startswith("results.json")
    assert message in r.json()["detail"], r.json()["detail"]
    assert _count(session) == before


def test_results_of_other_questions_are_refused(client, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = write_multisubject(tmp_path, n=12)
    pid, _ = upload_files(client, [files[0]])  # only gpt4 and only these questions
    other = tmp_path / "other"
    other.mkdir()
    r = import_file(client, pid, quick_results(write_multisubject(other, n=12)))
    assert r.status_code == 422 and "'simple_response' is not in this project" in r.text
    assert _count(session) == (0, 0)
