"""The recommendation as a selector: its own pick first, the passed-over strategies last."""

from __future__ import annotations

from app.stats.recommendation import product_ranking, report_ranking


def test_product_ranking_puts_the_pick_first_and_the_passed_over_last() -> None:
    order = ["alpha", "beta", "gamma", "delta"]
    got = product_ranking(order, "beta", {"alpha", "delta"})
    assert got == {"beta": 1.0, "gamma": 2.0, "alpha": 3.0, "delta": 4.0}
    assert product_ranking(order, None, set()) == {}


def test_report_ranking_reads_the_primary_metric_and_the_rule() -> None:
    report = {
        "primary": "sppl",
        "recommendation": {"top": "beta"},
        "per_metric": {"sppl": {"ranking": {"order": ["alpha", "beta", "gamma"]}}},
        "correctness": {"passed_over": {"alpha": "0% correct"}},
    }
    assert report_ranking(report) == {"beta": 1.0, "gamma": 2.0, "alpha": 3.0}
    assert report_ranking({"primary": None, "recommendation": None}) == {}
