"""Time left measured in the phase's own work (issue 23, item 4).

Scoring batches items longest first inside a chunk, so a projection in items runs behind
and then ahead; decoding ends in bursts, and the rows that never stop decide how long a
batch takes. Recorded shapes of both, quiet and busy: the time left lands within 30 % of
what then happens at 20/50/80 % of the phase."""

from __future__ import annotations

import random

import pytest

from app.jobs.eta import FLOOR_S, phase_progress, time_left
from tests.scoring.test_scan import QUESTIONS, RESPONSES, SPEC, tiny_target
from workers.scoring.decoding_eta import expected_last_step, runaway_share
from workers.scoring.scan import run_scan

# a scoring phase as batched scoring runs it: 60 items, longest first, lengths 20-400 tokens
TOKENS = sorted((random.Random(7).randint(20, 400) for _ in range(60)), reverse=True)


@pytest.mark.parametrize("seconds_per_token", [0.002, 0.0052])  # quiet, busy (x2.6)
def test_scoring_time_left_follows_tokens_not_items(seconds_per_token: float) -> None:
    work_total = sum(TOKENS)
    for share in (0.2, 0.5, 0.8):
        done = int(share * len(TOKENS))
        work_done = sum(TOKENS[:done])
        elapsed = work_done * seconds_per_token
        extra = {"work_done": work_done, "work_total": work_total}
        left = time_left(phase_progress(done, len(TOKENS), extra, elapsed, done_at_start=0))
        actual = (work_total - work_done) * seconds_per_token
        assert left == pytest.approx(actual, rel=0.3), (seconds_per_token, share)


def test_a_live_estimate_of_decoding_is_taken_as_it_is_and_never_zero() -> None:
    extra = {"eta_s": 42.0, "eta_live": True}
    assert time_left(phase_progress(3, 16, extra, 20.0, done_at_start=0)) == 42.0
    extra = {"eta_s": 0.0, "eta_live": True}
    assert time_left(phase_progress(15, 16, extra, 20.0, done_at_start=0)) == FLOOR_S
    assert time_left(phase_progress(16, 16, extra, 20.0, done_at_start=0)) is None


def _snapshots(lengths: list[int], ended: tuple[int, ...]) -> list[tuple[list[int], int]]:
    """(ended lengths, step) the step the k-th answer of the batch ends, for each k."""
    ordered = sorted(lengths)
    return [(ordered[:k], ordered[k - 1]) for k in ended]


def test_decoding_fit_of_well_behaved_answers_beats_the_upper_bound() -> None:
    # no row ran to the cap in earlier batches (runaway 0): the fit, not the cap, decides
    for seed in range(5):
        rng = random.Random(seed)
        lengths = [max(5, int(rng.gauss(150, 30))) for _ in range(16)]
        for ends, step in _snapshots(lengths, (8, 12)):
            expected = expected_last_step(ends, len(lengths), step, 512, runaway=0.0)
            assert abs(expected - max(lengths)) < abs(512 - max(lengths)) / 3, (seed, step)


def test_decoding_with_rows_that_run_to_the_cap() -> None:
    # the packaged 135M target on 16 GSM8K pool questions: 12 answers of 40-180 tokens, 4 ran
    # to the 512-token cap (measured); the prior share of such rows sees them coming
    rng = random.Random(5)
    lengths = [rng.randint(40, 180) for _ in range(12)] + [512] * 4
    for ends, step in _snapshots(lengths, (4, 8, 12)):
        expected = expected_last_step(ends, len(lengths), step, 512)
        assert expected - step == pytest.approx(512 - step, rel=0.3), step
    assert runaway_share(4, 16) > runaway_share(0, 16)  # learnt from earlier batches


def test_a_scan_reports_its_scoring_work_and_it_adds_up() -> None:
    reports: list[tuple[str, int, int, dict]] = []
    run_scan(SPEC, tiny_target(), QUESTIONS, RESPONSES, on_progress=lambda *r: reports.append(r))
    for phase in ("scoring ppl", "scoring sppl", "scoring ifd"):
        mine = [extra for name, _, _, extra in reports if name == phase]
        assert mine and mine[-1]["work_done"] == mine[-1]["work_total"], phase  # planned = run
    # the tiny model's SPPL prompts are longer than its limit: nothing to run, nothing planned
    assert [e["work_total"] > 0 for n, _, _, e in reports if n.startswith("scoring")][-1]


def test_the_own_answers_job_shows_the_decoders_expected_time_as_it_is() -> None:
    # the demo's first job: 0 of 64 answers after 35 s showed no time left at all
    from workers.jobs.own_answers import _Meter

    class Ctx:
        def __init__(self) -> None:
            self.reports: list[tuple[int, int, dict]] = []

        def progress(self, _phase: str, done: int, total: int, extra: dict) -> None:
            self.reports.append((done, total, extra))

    ctx = Ctx()
    meter = _Meter(ctx, 64)  # type: ignore[arg-type]
    meter.progress(0, 64)
    meter.expected(42.0)
    done, total, extra = ctx.reports[-1]
    assert time_left(phase_progress(done, total, extra, 35.0, done_at_start=0)) == 42.0
