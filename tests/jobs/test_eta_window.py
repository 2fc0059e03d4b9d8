"""The steadied time left and its range (app.jobs.eta_window): on estimates that jump as a
busy machine's speed changes, and on recorded scans (``tests/data/eta``: real runs of
``bench/eta_bench.py`` on the 2-core machine, quiet and with two busy processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.jobs.eta import FLOOR_S
from app.jobs.eta_window import WINDOW_S, marks_of, remember, steadied
from tests.jobs.eta_recordings import load, replay, score

RECORDINGS = sorted((Path(__file__).parents[1] / "data" / "eta").glob("*.json"))


def _shown(answers: list[tuple[float, float]]) -> list:
    """What the page shows after each (report time, time left) answer."""
    marks: list[list[float]] = []
    out = []
    for at, left in answers:
        out.append(steadied(marks, at, left))
        marks = remember(marks, at, left)
    return out


def test_one_jumping_answer_moves_the_point_little_and_widens_the_range() -> None:
    # a job due to end at t=100, one answer a second; at t=6 one report says 46 s (the
    # model's threads got more of the cores for a moment), then the answers are right again
    answers = [(t, 100.0 - t) for t in range(6)] + [(6.0, 46.0), (7.0, 93.0)]
    shown = _shown(answers)
    assert shown[6].seconds == pytest.approx(94.0)  # not 46
    assert shown[6].low == pytest.approx(46.0) and shown[6].high >= 94.0 * 1.15
    assert shown[7].seconds == pytest.approx(93.0) and shown[7].low <= 46.0 + 1


def test_a_lasting_slowdown_reaches_the_point_within_the_window() -> None:
    # 30 s at 1 unit/s, then the machine turns 3x slower: each answer says so from then on
    answers = [(float(t), 100.0 - t) for t in range(30)]
    answers += [(30.0 + t, 3 * (70.0 - t / 3)) for t in range(1, 31)]
    shown = _shown(answers)
    pairs = zip(answers, shown, strict=True)
    later = [(left, s) for (at, left), s in pairs if at >= 30 + WINDOW_S]
    assert later and all(s.seconds == pytest.approx(left) for left, s in later)


def test_never_zero_while_work_remains_and_nothing_when_only_saving_remains() -> None:
    marks = remember([], 0.0, 5.0)  # predicted end at 5 s; now it is 9 s and still running
    shown = steadied(marks, 9.0, 0.2)
    assert shown is not None and shown.seconds >= FLOOR_S and shown.low >= FLOOR_S
    assert shown.high >= shown.seconds >= shown.low
    assert steadied(marks, 9.0, None) is None


def test_marks_forget_what_is_older_than_the_window() -> None:
    marks = remember([], 0.0, 50.0)
    marks = remember(marks, WINDOW_S + 5, None)  # None adds nothing, the old mark goes
    assert marks == []
    assert steadied(marks, 20.0, 30.0).seconds == 30.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "extra",
    [{}, {"eta_marks": "x"}, {"eta_marks": [[1, 2, 3]]}, {"eta_marks": [["a", 1]]}, None],
)
def test_malformed_marks_are_no_marks(extra: object) -> None:
    assert marks_of(extra) == []


def test_recordings_are_there() -> None:
    conditions = {load_condition(p) for p in RECORDINGS}
    assert "quiet" in conditions and conditions <= {"quiet", "loaded2"}, RECORDINGS


def load_condition(path: Path) -> str:
    return path.name.split("_")[0]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_recorded_scans_land_within_30_percent(path: Path) -> None:
    result = score(replay(load(path)))
    assert result.zero_shown == 0
    assert result.within >= 0.9, result
    assert result.inside >= 0.8, result
    assert result.median_err <= result.raw_median_err + 0.01, result  # steadying never hurts
