"""Paired comparison of two strategies over the questions they share.

Differences are ``a - b`` per shared question (pairs where either value is NaN/inf are
dropped). Three views of the same pairs:

* Wilcoxon signed-rank test (``scipy.stats.wilcoxon``, zeros dropped as in Wilcoxon's
  original method, two-sided). Per-question perplexities are skewed with heavy right
  tails, so a rank test is more robust than a paired t-test. scipy gives the exact null
  distribution for up to 50 pairs without ties and the normal approximation beyond; for up
  to 13 non-zero pairs with tied magnitudes the exact null is the enumeration of all 2^n
  sign flips of the mid-ranks, done here as one matrix product (scipy's permutation test
  computes the same p-value but takes seconds, too slow for a win-rate matrix). Fewer than 6
  non-zero differences cannot reach p < 0.05 (the smallest two-sided exact p with 5 pairs
  is 2/32), so such a comparison is reported as "too few pairs" with no p-value.
* Paired percentile bootstrap of the mean difference: whole pairs are resampled, so the
  interval accounts for the per-question correlation between the strategies. Same RNG
  scheme as ``scipy.stats.bootstrap(method="percentile")``, hence identical numbers for
  the same seed.
* Win rate of A over B: share of shared questions where A is better, ties counted half.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from app.stats.cleaning import Values, num

MIN_PAIRS = 6
EXACT_TIED_MAX = 13  # up to 2^13 sign flips are enumerated for tied magnitudes
TOO_FEW = "too few pairs"


@dataclass(frozen=True)
class SignedRankResult:
    """Wilcoxon signed-rank test on paired differences (``a - b``)."""

    n_pairs: int
    n_nonzero: int
    statistic: float | None
    p_value: float | None
    r_plus: float
    r_minus: float
    effect_size: float | None  # matched-pairs rank-biserial: (r_plus - r_minus) / total
    status: str  # "ok" | "too few pairs"
    note: str

    @property
    def testable(self) -> bool:
        """Whether a p-value exists."""
        return self.p_value is not None

    def to_dict(self) -> dict:
        """JSON-safe dict of all fields."""
        return {k: num(v) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PairedComparison:
    """Everything the page shows for "A versus B" over the shared questions."""

    n_pairs: int
    n_dropped: int  # shared questions dropped because a value was NaN/inf
    mean_a: float | None
    mean_b: float | None
    mean_diff: float | None  # mean of a - b
    median_diff: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    ci_level: float
    wins_a: int
    wins_b: int
    ties: int
    win_rate_a: float | None  # (wins_a + ties / 2) / n_pairs
    test: SignedRankResult

    def to_dict(self) -> dict:
        """JSON-safe nested dict; ``test`` is ``SignedRankResult.to_dict()``."""
        out = {k: num(v) if isinstance(v, float) else v for k, v in asdict(self).items()}
        out["test"] = self.test.to_dict()
        return out


def align_pairs(
    values_a: Values, values_b: Values
) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """(keys, a, b, n_dropped) over shared keys where both values are finite."""
    shared = [k for k in values_a if k in values_b]
    a = np.array([_float(values_a[k]) for k in shared], dtype=np.float64)
    b = np.array([_float(values_b[k]) for k in shared], dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    keys = [k for k, keep in zip(shared, ok, strict=True) if keep]
    return keys, a[ok], b[ok], int((~ok).sum())


def _float(value: object) -> float:
    """float(value), NaN when it is not a number."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def signed_rank_test(diffs: np.ndarray, *, min_pairs: int = MIN_PAIRS) -> SignedRankResult:
    """Two-sided Wilcoxon signed-rank test; "too few pairs" below ``min_pairs`` non-zero."""
    d = np.asarray(diffs, dtype=np.float64)
    nz = d[d != 0]
    ranks = stats.rankdata(np.abs(nz))
    r_plus, r_minus = float(ranks[nz > 0].sum()), float(ranks[nz < 0].sum())
    total = r_plus + r_minus
    effect = (r_plus - r_minus) / total if total > 0 else None
    if nz.size < min_pairs:
        note = (
            f"{TOO_FEW}: {nz.size} non-zero differences out of {d.size} pairs, "
            f"at least {min_pairs} needed"
        )
        return SignedRankResult(d.size, nz.size, None, None, r_plus, r_minus, effect, TOO_FEW, note)
    if nz.size <= EXACT_TIED_MAX and np.unique(np.abs(nz)).size < nz.size:
        statistic, p_value = min(r_plus, r_minus), _sign_flip_p(ranks, r_plus)
    else:
        res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided", method="auto")
        statistic, p_value = float(res.statistic), float(res.pvalue)
    note = f"Wilcoxon signed-rank over {nz.size} non-zero differences of {d.size} pairs"
    return SignedRankResult(
        d.size,
        nz.size,
        statistic,
        p_value,
        r_plus,
        r_minus,
        effect,
        "ok",
        note,
    )


def _sign_flip_p(ranks: np.ndarray, r_plus: float) -> float:
    """Exact two-sided p: R+ over all 2^n sign assignments of the (mid-)ranks."""
    n = ranks.size
    signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1  # every subset as a 0/1 row
    null = signs @ ranks
    eps = 1e-9 * max(1.0, float(ranks.sum()))
    lower, upper = np.mean(null <= r_plus + eps), np.mean(null >= r_plus - eps)
    return float(min(1.0, 2 * min(lower, upper)))


def paired_bootstrap_ci(
    diffs: np.ndarray, *, n_resamples: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of paired differences (pairs resampled).

    Draws ``rng.integers(0, n, (n_resamples, n))`` from ``np.random.default_rng(seed)`` and
    takes the linear-interpolated quantiles, as ``scipy.stats.bootstrap`` does.
    """
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        return (float("nan"), float("nan"))
    if d.size == 1 or np.all(d == d[0]):
        return (float(d[0]), float(d[0]))
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (n_resamples, d.size))].mean(axis=-1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(low), float(high))


def win_counts(
    a: np.ndarray, b: np.ndarray, *, lower_is_better: bool = True
) -> tuple[int, int, int]:
    """(wins of a, wins of b, ties) over aligned arrays."""
    a_better = a < b if lower_is_better else a > b
    b_better = b < a if lower_is_better else b > a
    return int(a_better.sum()), int(b_better.sum()), int((a == b).sum())


def compare_paired(
    values_a: Values,
    values_b: Values,
    *,
    lower_is_better: bool = True,
    n_resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Paired test, bootstrap interval of the mean difference and win rate of A over B."""
    _, a, b, n_dropped = align_pairs(values_a, values_b)
    d = a - b
    low, high = paired_bootstrap_ci(d, n_resamples=n_resamples, level=level, seed=seed)
    wins_a, wins_b, ties = win_counts(a, b, lower_is_better=lower_is_better)
    n = int(d.size)
    return PairedComparison(
        n_pairs=n,
        n_dropped=n_dropped,
        mean_a=float(a.mean()) if n else None,
        mean_b=float(b.mean()) if n else None,
        mean_diff=float(d.mean()) if n else None,
        median_diff=float(np.median(d)) if n else None,
        diff_ci_low=low,
        diff_ci_high=high,
        ci_level=level,
        wins_a=wins_a,
        wins_b=wins_b,
        ties=ties,
        win_rate_a=(wins_a + ties / 2) / n if n else None,
        test=signed_rank_test(d),
    )
