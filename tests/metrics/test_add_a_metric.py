"""A new metric is one registry entry and one compute function (issue 19).

`chars` (a response's length in characters) is registered here and computed by the real
scan core on a tiny model; with no other edit it shows, with its label and direction, on
the scan page and its JSON twin, in report.csv and values.csv, in the validation's
agreement table and in a study. An imported metric (`brevity`, higher is better) does the
same through the import.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics.registry import Metric, registered
from app.models import Question, Response, Scan, Strategy
from app.scans.output import ScanOutput
from app.scans.store import save_scan_result
from app.specs.scan import ScanSpec
from tests.app.test_results import rows, upload
from tests.app.test_validations import _finish, _set_test, _start
from tests.scoring.test_scan import tiny_target
from workers.scoring.scan import run_scan

CHARS = Metric(
    "chars",
    "Length (characters)",
    True,
    "familiarity",
    "The response's length in characters.",
    "tests.metrics.chars:chars",
    selectable=True,
)
RIGHT = {"alpha": [True] * 4, "beta": [True, True, False, False], "gamma": [False] * 4}


def _scanned(client, session: Session, metrics: list[str]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """alpha (shortest answers), beta, gamma, scanned by the real core on a tiny model."""
    styles = {"alpha": "A", "beta": "B b", "gamma": "C c c c"}
    pid = upload(client, {name: rows(style) for name, style in styles.items()})
    spec = ScanSpec(metrics=metrics, sample=6, seed=0)
    questions = [
        (str(q.id), q.text, q.gold)
        for q in session.scalars(select(Question).where(Question.project_id == pid))
    ]
    responses: dict[str, dict[str, str]] = {}
    for name, qid, text in session.execute(
        select(Strategy.name, Response.question_id, Response.text).join(Strategy)
    ):
        responses.setdefault(name, {})[str(qid)] = text
    result = run_scan(spec, tiny_target(), questions, responses)
    scan = Scan(project_id=pid, model_name="tiny", spec={**spec.to_dict(), "strategy_ids": None})
    session.add(scan)
    session.flush()
    output = ScanOutput.model_validate(result.to_dict())
    save_scan_result(session, scan_id=scan.id, output=output, model_key="tiny-key", seed=0)
    session.commit()
    return pid, scan.id


def _table(client, url: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(client.get(url).text)))


def _validated_study(client, pid: int, session: Session) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    client.cookies.clear()  # a script (no session cookie) needs no CSRF token in single mode
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(4)])
    v = _start(client, pid, seeds=1, train_examples=4, val_examples=2)
    _finish(session, v["id"], {(name, 0): ok for name, ok in RIGHT.items()})
    validation = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()
    validation["html"] = client.get(f"/projects/{pid}/validations/{v['id']}").text
    client.cookies.clear()
    sid = client.post("/api/v1/studies", json={"name": "s", "project_ids": [pid]}).json()["id"]
    study = client.get(f"/api/v1/studies/{sid}").json()
    study["html"] = client.get(f"/studies/{sid}").text
    return validation, study


def _check_everywhere(client, session, pid: int, sid: int, name: str, label: str) -> None:  # type: ignore[no-untyped-def]
    base = f"/api/v1/projects/{pid}/scans/{sid}"
    assert name in {r["metric"] for r in _table(client, f"{base}/report.csv")}
    values = [r for r in _table(client, f"{base}/values.csv") if r["metric"] == name]
    assert values and {r["strategy"] for r in values} == {"alpha", "beta", "gamma"}
    validation, study = _validated_study(client, pid, session)
    pick = next(t for t in validation["results"]["top_picks"] if t["metric"] == name)
    assert pick["label"] == label and pick["picks"] == ["alpha"] and pick["regret"] == 0
    assert label in validation["html"]
    assert validation["results"]["accuracies"][0]["metrics"][name] is not None
    assert name in study["metrics"] and study["labels"][name] == label
    assert any(r["metric"] == name for r in study["summary"]) and label in study["html"]


def test_a_registered_metric_shows_everywhere(client, session) -> None:  # type: ignore[no-untyped-def]
    with registered(CHARS):
        pid, sid = _scanned(client, session, ["ppl", "chars"])
        page = client.get(f"/api/v1/projects/{pid}/scans/{sid}", params={"metric": "chars"}).json()
        report = page["report"]
        assert report["labels"]["chars"] == "Length (characters)"
        chars = report["per_metric"]["chars"]
        assert chars["lower_is_better"] is True and chars["ranking"]["order"][0] == "alpha"
        assert page["metric"] == "chars" and [r["strategy"] for r in page["aggregates"]["chars"]]
        html = client.get(f"/projects/{pid}/scans/{sid}", params={"metric": "chars"}).text
        assert "Length (characters)" in html and "The response&#39;s length" not in html
        form = client.get(f"/projects/{pid}").text
        assert 'value="chars"' in form and "Length (characters)" in form
        _check_everywhere(client, session, pid, sid, "chars", "Length (characters)")


def test_an_imported_metric_shows_everywhere(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = _scanned(client, session, ["ppl"])
    qids = session.scalars(select(Question.id).where(Question.project_id == pid)).all()
    lines = ["strategy,question_id,value"] + [
        f"{name},{qid},{score * (1 + i % 2)}"
        for name, score in (("alpha", 3.0), ("beta", 2.0), ("gamma", 1.0))
        for i, qid in enumerate(qids)
    ]
    r = client.post(
        f"/api/v1/projects/{pid}/metrics",
        files={"file": ("brevity.csv", "\n".join(lines).encode(), "text/csv")},
        data={"direction": "higher", "name": "brevity"},
    )
    assert r.status_code == 201, r.text
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    brevity = next(m for m in page["imported"]["metrics"] if m["name"] == "brevity")
    assert brevity["label"] == "brevity (imported)" and brevity["lower_is_better"] is False
    assert "brevity (imported)" in client.get(f"/projects/{pid}/scans/{sid}").text
    _check_everywhere(client, session, pid, sid, "brevity", "brevity (imported)")


def test_unknown_metrics_are_refused_with_a_suggestion() -> None:
    from app.specs.scan import ScanInputError

    with pytest.raises(ScanInputError, match="did you mean 'chars'"), registered(CHARS):
        ScanSpec(metrics=["char"])
