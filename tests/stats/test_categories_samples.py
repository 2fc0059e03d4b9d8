"""Per-category breakdown and the pick across repeated samples, against hand computations."""

from __future__ import annotations

import pytest

from app.stats.categories import category_breakdown, group_keys
from app.stats.samples import picks_from_means, sample_picks

N = 16  # questions per category


def _values() -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """'a' is better on algebra (every question), 'b' on geometry (every question, less)."""
    values: dict[str, dict[str, float]] = {"a": {}, "b": {}}
    cats = {}
    for i in range(N):
        values["a"][f"g{i}"], values["b"][f"g{i}"] = 3.0 + 0.01 * i, 2.9 + 0.01 * i
        values["a"][f"x{i}"], values["b"][f"x{i}"] = 1.0 + 0.01 * i, 2.0 + 0.01 * i
        cats[f"g{i}"], cats[f"x{i}"] = "geometry", "algebra"
    return values, cats


def test_the_overall_pick_loses_clearly_where_the_test_separates() -> None:
    values, cats = _values()
    accuracy = {"a": {k: float(k.startswith("x")) for k in cats}, "b": {k: 1.0 for k in cats}}
    b = category_breakdown(values, cats, accuracy=accuracy)
    assert b["overall_pick"] == "a"  # mean 2.075 vs 2.525
    rows = {r["category"]: r for r in b["rows"]}
    assert rows["algebra"]["pick"] == "a" and not rows["algebra"]["overall_loses"]
    assert rows["geometry"]["pick"] == "b" and rows["geometry"]["overall_loses"]
    assert rows["geometry"]["evidence"] == "strong" and rows["geometry"]["overall_p_holm"] < 0.05
    assert rows["geometry"]["accuracy_gap"] == pytest.approx(1.0)
    assert b["losses"] == ["geometry"] and "loses clearly on 1 category" in b["note"]
    assert "100 points less correct" in b["note"]
    assert b["mix"] == {"algebra": "a", "geometry": "b"}
    heat = b["metric_heatmap"]
    assert heat["rows"] == ["algebra", "geometry"] and heat["cols"] == ["a", "b"]
    assert heat["mean"][0] == pytest.approx([1.075, 2.075]) and heat["n"][1] == [N, N]
    assert b["accuracy_heatmap"]["mean"] == [[1.0, 1.0], [0.0, 1.0]]


def test_no_pick_without_separation_and_no_note_without_a_loss() -> None:
    values, cats = _values()
    for i in range(N):  # geometry: b better on half the questions, a on the other half
        values["b"][f"g{i}"] = 3.0 + 0.01 * i + (0.1 if i % 2 else -0.1)
    b = category_breakdown(values, cats)
    rows = {r["category"]: r for r in b["rows"]}
    assert rows["geometry"]["pick"] is None and rows["geometry"]["evidence"] == "weak"
    assert b["losses"] == [] and b["note"] is None
    assert b["mix"]["geometry"] == "a"  # no clear pick: the overall pick
    assert b["accuracy_heatmap"] is None


def test_group_keys_puts_questions_without_a_category_together() -> None:
    assert group_keys({"1": "x", "2": None}, ["1", "2", "3"]) == {"(none)": ["2", "3"], "x": ["1"]}


def test_pick_across_samples_counts_votes_and_splits_ties() -> None:
    values = {
        "a": {"1": 1.0, "2": 5.0, "3": 1.0, "4": 2.0},
        "b": {"1": 2.0, "2": 1.0, "3": 1.0, "4": 2.0},
    }
    got = sample_picks(values, [["1"], ["2"], ["3", "4"]])
    assert got["picks"] == [["a"], ["b"], ["a", "b"]]
    assert got["votes"] == {"a": 1.5, "b": 1.5} and got["share"] == {"a": 0.5, "b": 0.5}
    higher = picks_from_means([{"a": 1, "b": 2}, {"a": 3, "b": 1}], lower_is_better=False)
    assert higher["picks"] == [["b"], ["a"]] and higher["n_samples"] == 2
