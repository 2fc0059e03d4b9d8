"""Scan storage and imported storage load into one MetricTable (issue 19)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Question, Scan
from app.services.metrics.table import (
    agreement_table,
    imported_columns,
    report_columns,
    result_table,
    scan_columns,
)
from app.services.results.page import stored_report
from app.services.scan_report import load_values
from tests.app.test_imported_metrics import csv_rows, post_metric
from tests.app.test_results import PPL, SPPL, standard


def _with_imported(client, session) -> tuple[int, int, list[int]]:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    qids = session.scalars(select(Question.id).where(Question.project_id == pid)).all()
    lines = [
        f"{s},{q},{v + i}" for s, v in (("alpha", 1.0), ("beta", 3.0)) for i, q in enumerate(qids)
    ]
    r = post_metric(
        client, pid, csv_rows("strategy,question_id,value", lines), name="judge", direction="lower"
    )
    assert r.status_code == 201, r.text
    return pid, sid, list(qids)


def test_a_scan_metric_and_an_imported_one_load_alike(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, qids = _with_imported(client, session)
    (judge,) = imported_columns(session, project_id=pid)
    columns = scan_columns(session, scan_id=sid, with_values=True)
    sppl = next(c for c in columns if c.name == "sppl")
    assert judge.source == "imported: rm.csv" and judge.file == "rm.csv" and sppl.source == "scan"
    assert judge.label == "judge (imported)" and sppl.label == "SPPL"
    # one shape: strategy -> score, and (imported) strategy -> question id -> value, keyed
    # like the scan's own per-question values
    assert sppl.aggregates["alpha"] == sum(SPPL["alpha"]) / len(SPPL["alpha"])
    assert judge.aggregates["alpha"] == sum(1.0 + i for i in range(len(qids))) / len(qids)
    scan_values, _ = load_values(session, scan_id=sid)
    assert set(judge.values["alpha"]) == {str(q) for q in qids}
    assert set(scan_values["sppl"]["alpha"]) <= set(judge.values["alpha"])
    assert sppl.values["alpha"] == scan_values["sppl"]["alpha"]  # the same keys and numbers
    assert scan_columns(session, scan_id=sid)[0].values == {}  # not read unless asked


def test_the_result_page_and_the_agreement_read_one_table(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, _ = _with_imported(client, session)
    report = stored_report(session, session.get(Scan, sid))
    table = result_table(session, project_id=pid, report=report)
    assert list(table.columns) == [*report.metrics, "judge"]
    assert table["ppl"].aggregates == {s: sum(v) / len(v) for s, v in PPL.items()}
    assert [c.name for c in report_columns(report)] == report.metrics
    assert set(table["judge"].aggregates) == {"alpha", "beta"}  # gamma has no value
    agreement = agreement_table(session, scan_id=sid, project_id=pid)
    assert [c.name for c in agreement] == ["sppl", "ppl", "ifd", "judge"]  # no descriptive
    assert agreement.labels()["judge"] == "judge (imported)"
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    assert page["imported"]["labels"]["judge"] == "judge (imported)"
    assert page["imported"]["labels"]["sppl"] == "SPPL"
    assert agreement_table(session, scan_id=None, project_id=pid).columns == {}
