"""The one read model of metrics (issue 19): built-in and imported columns share a shape,
and the "(imported)" label is built in one place."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

from app.metrics import registry
from app.metrics.table import MetricColumn, MetricTable, imported_info

ROOT = Path(__file__).resolve().parents[2]
VALUES = {"alpha": {"1": 2.0, "2": 4.0}, "beta": {"1": 5.0, "2": 7.0}}


def _columns() -> tuple[MetricColumn, MetricColumn]:
    scan = MetricColumn(
        info=registry.get_metric("sppl"),
        source="scan",
        aggregates={"alpha": 3.0, "beta": 6.0},
        values=VALUES,
        detail="scan 1 (tiny, 2 questions)",
    )
    info = imported_info("reward", lower_is_better=False, source="imported from rm.csv")
    imported = MetricColumn(
        info=info,
        source="imported: rm.csv",
        aggregates={"alpha": 0.9, "beta": 0.1},
        values=VALUES,
        detail="imported from rm.csv",
        imported_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return scan, imported


def test_both_kinds_have_one_shape() -> None:
    scan, imported = _columns()
    for f in dataclasses.fields(MetricColumn):  # one set of fields, read alike on both sides
        if f.name not in {"imported_at", "detail", "source", "info"}:
            assert getattr(scan, f.name).__class__ is getattr(imported, f.name).__class__
    assert (scan.name, scan.kind, scan.file, scan.familiarity) == ("sppl", "scan", None, True)
    assert (imported.name, imported.kind, imported.file) == ("reward", "imported", "rm.csv")
    assert imported.familiarity and imported.info.origin == "imported"


def test_the_label_says_where_it_came_from() -> None:
    scan, imported = _columns()
    assert scan.label == "SPPL"
    assert imported.label == "reward (imported)"
    assert imported.info.label == "reward"  # the suffix lives in MetricColumn.label only


def test_the_table_reads_both_kinds_alike() -> None:
    scan, imported = _columns()
    table = MetricTable.of([scan], [imported])
    assert list(table.columns) == ["sppl", "reward"] and "reward" in table and len(table) == 2
    assert table.aggregates() == {"sppl": scan.aggregates, "reward": imported.aggregates}
    assert table.higher_is_better() == {"reward"}
    assert table.labels() == {"sppl": "SPPL", "reward": "reward (imported)"}
    assert [c.name for c in table.where(imported=True)] == ["reward"]
    assert [c.name for c in table.where(imported=False)] == ["sppl"]
    only = table.restricted(["alpha"])
    assert only["reward"].aggregates == {"alpha": 0.9} and set(only["sppl"].values) == {"alpha"}
    assert len(table.restricted(["delta"])) == 0  # nothing left to rank: dropped


def test_descriptive_metrics_stay_out_of_agreement() -> None:
    length = MetricColumn(info=registry.get_metric("length"), source="scan", aggregates={"a": 1})
    _, imported = _columns()
    table = MetricTable.of([length, imported])
    assert [c.name for c in table.where(familiarity=True)] == ["reward"]


def test_no_module_but_the_read_model_builds_the_imported_label() -> None:
    """The label was built in the registry, the result page's imported section, the study
    page and the result template; one place now, so no two can drift apart."""
    pattern = re.compile(r" \(imported\)")  # a label's suffix, not a call f(imported)
    owner = ROOT / "app" / "metrics" / "table.py"
    found = []
    for top in ("app", "templates", "static", "workers"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in {".py", ".html", ".js"} or path == owner:
                continue
            text = path.read_text(encoding="utf-8")
            found += [
                f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
                for m in pattern.finditer(text)
            ]
    assert found == [], f"'(imported)' built outside MetricColumn.label: {found}"
