"""GRACE from stored projected gradients (numpy only: the web process recomputes it).

The score of the reference (abhishekpanigrahi1996/GRACE, ``GRACE/GRACE_computation.py``;
Panigrahi et al., ICLR 2026) over one strategy's sample, every constant as there:
- rows are the per-response projected gradients, grouped by question (all of a question's
  responses fall on the same side of a split);
- ``n_splits`` = 10 random splits of the questions, split ``s`` permuted by
  ``numpy.random.default_rng(s)``; the last ``max(1, int(n_questions * 0.1))`` permuted
  questions are the test side, the others train;
- the training rows are normalised to unit length, the test rows are NOT;
- kernel = X^T X / (number of rows) for each side (dim x dim);
- the training kernel's eigenvalues are clipped at 1e-12, smoothed to
  (1 - 1e-3) * w + 1e-3 * mean(w), clipped again, and inverted (``eigh``);
- the split's value is trace(pinv(train kernel) @ test kernel); the score is their mean.
Lower is better: the held-out gradients lie in directions the training gradients cover
(the paper ties the score to leave-one-out stability, hence to the generalisation gap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

N_SPLITS = 10
TEST_FRACTION = 0.1
SMOOTH = 1e-3
EPS = 1e-12


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), EPS, None)


def _smoothed_inverse(kernel: np.ndarray, smooth: float) -> np.ndarray:
    w, v = np.linalg.eigh(kernel)
    w = np.clip(w, EPS, None)
    w = np.clip((1.0 - smooth) * w + smooth * w.mean(), EPS, None)
    return (v / w) @ v.T


def grace_score(
    gradients: np.ndarray,
    *,
    per_question: int = 1,
    test_fraction: float = TEST_FRACTION,
    n_splits: int = N_SPLITS,
    smooth: float = SMOOTH,
) -> float:
    """The reference's cross-validated score of ``gradients`` (rows question by question:
    ``per_question`` consecutive rows are one question's responses)."""
    grads = np.asarray(gradients, dtype=np.float64)
    if grads.ndim != 2 or grads.shape[0] % per_question:
        raise ValueError(f"gradients: {grads.shape} rows are not {per_question} per question")
    n_questions, dim = grads.shape[0] // per_question, grads.shape[1]
    n_test = max(1, int(n_questions * test_fraction))
    if n_questions - n_test <= 0:
        raise ValueError(f"GRACE needs at least 2 questions, got {n_questions}")
    grouped = grads.reshape(n_questions, per_question, dim)
    scores = []
    for split in range(n_splits):
        shuffled = grouped[np.random.default_rng(split).permutation(n_questions)]
        n_train = n_questions - n_test  # the first n_train permuted questions train
        train = _unit_rows(shuffled[:n_train].reshape(-1, dim))
        test = shuffled[n_train:].reshape(-1, dim)
        inverse = _smoothed_inverse(train.T @ train / len(train), smooth)
        scores.append(np.trace(inverse @ (test.T @ test / len(test))))
    return float(np.mean(scores))


def score(vectors: Mapping[str, Sequence[float] | np.ndarray]) -> float:
    """The registry's aggregate hook: one strategy's per-question projected gradients ->
    its GRACE score; NaN with fewer than two questions. Rows go in question-key order
    (numeric keys by number), so the scan core and a rebuild from stored rows agree."""
    keys = sorted((k for k, v in vectors.items() if v is not None), key=_key_order)
    rows = [np.asarray(vectors[k], dtype=np.float64) for k in keys]
    if len(rows) < 2:
        return float("nan")
    return grace_score(np.stack(rows))


def _key_order(key: str) -> tuple[int, int, str]:
    return (0, int(key), "") if str(key).isdigit() else (1, 0, str(key))
