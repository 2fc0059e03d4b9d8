"""Every CSV export writes user text that a spreadsheet would run as a formula with a leading
`'`, and numbers (negative ones included) as numbers."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from app.models import Strategy
from app.services.csv_cells import csv_cell, csv_line
from tests.app.test_results import N, make_scan, rows, upload
from tests.app.test_validations import _validated

LINK = '=HYPERLINK("http://evil.example","x")'
HOSTILE = [LINK, "+plus", "-minus", "@at", "\tTab", "\rCR"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_starting_like_a_formula_is_defused(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert next(csv.reader(io.StringIO(csv_line([text, "plain", None]), newline=""))) == [
        "'" + text,
        "plain",
        "",
    ]


def test_numbers_stay_numbers() -> None:
    assert csv_line([-0.5, -3, 1e-9, True]) == "-0.5,-3,1e-09,True\r\n"
    assert csv_cell("-0.5") == "'-0.5"  # a number that arrives as text is text


def _table(client, url: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    r = client.get(url)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def test_scan_report_and_values_defuse_strategy_names(client, session) -> None:  # type: ignore[no-untyped-def]
    data = [r | {"id": f"-{i}"} for i, r in enumerate(rows("A"))]
    pid = upload(
        client, {LINK: data, "+plus": [r | {"id": f"-{i}"} for i, r in enumerate(rows("B"))]}
    )
    values = {"ifd": {LINK: [-0.5] * N, "+plus": [0.25] * N}}
    sid = make_scan(session, project_id=pid, values=values)  # type: ignore[arg-type]
    base = f"/api/v1/projects/{pid}/scans/{sid}"
    report = _table(client, f"{base}/report.csv")
    assert {r["strategy"] for r in report} == {"'" + LINK, "'+plus"}
    top = next(r for r in report if r["rank"] == "1")
    assert top["strategy"] == "'" + LINK and top["mean"] == "-0.5"  # the number as written
    cells = _table(client, f"{base}/values.csv")
    assert {c["strategy"] for c in cells} == {"'" + LINK, "'+plus"}
    assert {c["value"] for c in cells if c["strategy"] == "'" + LINK} == {"-0.5"}
    assert {c["uploaded_id"] for c in cells} == {f"'-{i}" for i in range(N)}


def test_validation_accuracy_csv_defuses_strategy_names(client, session) -> None:  # type: ignore[no-untyped-def]
    T, F = True, False
    right = {"alpha": [T, T, T, F], "beta": [T, F, F, F], "gamma": [F, F, F, F]}
    pid, _, v = _validated(
        client,
        session,
        right,
        values={"sppl": {"alpha": [1.0] * N, "beta": [2.0] * N, "gamma": [3.0] * N}},
    )
    session.execute(update(Strategy).where(Strategy.name == "alpha").values(name="@SUM(A1)"))
    session.commit()
    table = _table(client, f"/api/v1/projects/{pid}/validations/{v['id']}/accuracy.csv")
    assert table[0]["strategy"] == "'@SUM(A1)" and table[0]["mean_accuracy"] == "0.75"
    assert table[-1]["strategy"] == "(untuned target)" and table[-1]["ifd"] == ""
