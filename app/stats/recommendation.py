"""The recommendation shown above a ranking: which strategy, how sure, and a caveat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.stats.ranking import RankedStrategy


@dataclass(frozen=True)
class Recommendation:
    """The strategy to pick and how strong the evidence is."""

    top: str | None
    evidence: str  # "strong" | "weak" | "none"
    tied: tuple[str, ...]
    caveat: str

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return {
            "top": self.top,
            "evidence": self.evidence,
            "tied": list(self.tied),
            "caveat": self.caveat,
        }


def join_names(names: Sequence[str], limit: int = 3) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c and 2 more'."""
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def recommend(rows: Sequence[RankedStrategy], alpha: float) -> Recommendation:
    """Top strategy, strength of evidence and a one-sentence plain-text caveat.

    ``rows`` are ranking rows best first. Evidence is "strong" when every other strategy is
    significantly worse than the top, "weak" when some are indistinguishable from it (listed
    in ``tied``), "none" with fewer than two strategies with values.
    """
    ranked = [r for r in rows if r.rank is not None]
    if not ranked:
        return Recommendation(None, "none", (), "No strategy has any usable values yet.")
    top = ranked[0].name
    if len(ranked) == 1:
        return Recommendation(
            top,
            "none",
            (),
            f"{top} is the only strategy with values, so there is nothing to compare it with.",
        )
    tied = tuple(r.name for r in ranked[1:] if r.indistinguishable_from_top)
    reversed_ = [
        r.name
        for r in ranked[1:]
        if r.p_holm is not None and r.p_holm < alpha and r.top_is_better is False
    ]
    caveat = _caveat(top, tied, reversed_, alpha)
    return Recommendation(top, "weak" if tied else "strong", tied, caveat)


def _caveat(top: str, tied: Sequence[str], reversed_: Sequence[str], alpha: float) -> str:
    """One plain-text sentence; ``reversed_`` are strategies the paired test favours."""
    if reversed_:
        return (
            f"{top} has the best mean, but the paired test favours {join_names(reversed_)} "
            "on most questions, so the lead rests on a few outlying questions; inspect "
            "the distributions before choosing."
        )
    if tied:
        return (
            f"{top} ranks first, but {join_names(tied)} cannot be told apart from it at "
            f"alpha {alpha:g}, so treat them as tied and score more questions or run a "
            "validation fine-tune to decide."
        )
    return (
        f"{top} ranks first and every other strategy is significantly worse in "
        "paired tests, but familiarity predicts the best-training strategy only on "
        "average, so confirm with a validation fine-tune when the choice matters."
    )


RECOMMENDATION = "recommendation"  # the selector name of the product's own pick
MIX = "per_question_mix"  # a study's selector name of a project's trained per-question mix


def product_ranking(
    order: Sequence[str], top: str | None, passed_over: Sequence[str] | set[str]
) -> dict[str, float]:
    """The recommendation as a selector a study or an agreement table can score like a
    metric: ``{strategy: rank}`` (1 = best), the recommended strategy first, then the other
    recommendable strategies in the primary metric's order, then those the correctness rule
    passed over, in their order. Empty without a recommendation."""
    if top is None:
        return {}
    kept = [s for s in order if s != top and s not in passed_over]
    passed = [s for s in order if s != top and s in passed_over]
    return {s: float(i) for i, s in enumerate([top, *kept, *passed], start=1)}


def report_ranking(report: dict) -> dict[str, float]:
    """``product_ranking`` of a stored scan report (``app.scans.report.ScanReport`` as a
    dict): its recommendation over its primary metric's order and the correctness rule."""
    primary = report.get("primary")
    top = (report.get("recommendation") or {}).get("top")
    if not primary or top is None:
        return {}
    ranking = ((report.get("per_metric") or {}).get(primary) or {}).get("ranking") or {}
    passed = set(((report.get("correctness") or {}).get("passed_over") or {}).keys())
    passed |= set(ranking.get("passed_over") or {})
    return product_ranking(list(ranking.get("order") or []), top, passed)
