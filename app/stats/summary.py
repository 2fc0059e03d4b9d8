"""Per-strategy summaries of per-question metric values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats


def bootstrap_mean_ci(
    values: Sequence[float], *, seed: int = 0, n_resamples: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (scipy's BCa where it is defined)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return (float("nan"), float("nan"))
    if arr.size == 1 or np.all(arr == arr[0]):
        return (float(arr[0]), float(arr[0]))
    res = stats.bootstrap(
        (arr,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def summarize(values: Sequence[float], *, seed: int = 0) -> dict[str, float]:
    """mean, median, std, bootstrap 95% interval of the mean, n."""
    arr = np.asarray(values, dtype=np.float64)
    low, high = bootstrap_mean_ci(arr, seed=seed)
    return {
        "n": int(arr.size),
        "mean": float(arr.mean()) if arr.size else float("nan"),
        "median": float(np.median(arr)) if arr.size else float("nan"),
        "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "ci_low": low,
        "ci_high": high,
    }


def strategy_summary(score: float, n: int) -> dict[str, float]:
    """summarize()'s shape for a strategy-level score (a metric's aggregate): the score as
    the mean, and no median, spread or interval (they would describe other numbers)."""
    nan = float("nan")
    return {"n": n, "mean": float(score), "median": nan, "std": nan, "ci_low": nan, "ci_high": nan}
