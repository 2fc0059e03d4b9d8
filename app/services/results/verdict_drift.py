"""Verdicts changed since a scan: its stored report keeps the verdicts it was made with.

A finished scan's share correct and its correctness rule (never recommend known-wrong data)
are computed once, from the verdicts the scanned responses had then (``scans.summary``'s
``correct_share``), like every other number of the report. A verdict set by hand later, a
switch of whose verdicts count, or judging again changes ``responses.correct``, which the
project's numbers read at once; the scan's numbers keep what the scan used, so the result
page compares the two and says when they differ, with a rescan (its scores come from the
cache) as the way to use the current ones.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import case, false, func, select
from sqlalchemy.orm import Session

from app.models import Response, Scan, Strategy
from app.schemas.results import VerdictChange, VerdictDrift


def _then(entry: dict[str, Any]) -> tuple[float | None, int]:
    share, n = entry.get("share"), int(entry.get("n") or 0)
    ok = n > 0 and share is not None and math.isfinite(float(share))
    return (float(share) if ok else None), n


def verdict_drift(session: Session, *, scan: Scan) -> VerdictDrift | None:
    """How the scanned responses' share correct stands now against what the scan used;
    None while the scan has no shares or when nothing changed."""
    summary = scan.summary or {}
    then = summary.get("correct_share") or {}
    sample = [int(k) for k in summary.get("sample") or []]
    if not then or not sample:
        return None
    checked = func.count(Response.correct)
    right = func.coalesce(func.sum(case((Response.correct.is_(True), 1), else_=0)), 0)
    late = Response.verdict_source == "human"
    if scan.finished_at is not None:
        late = late & (Response.verdict_at > scan.finished_at)
    else:
        late = late & false()
    by_hand_n = func.coalesce(func.sum(case((late, 1), else_=0)), 0)
    rows = session.execute(  # one row per strategy: the sample's verdicts counted in SQL
        select(Strategy.name, checked, right, by_hand_n)
        .select_from(Response)
        .join(Strategy, Strategy.id == Response.strategy_id)
        .where(
            Strategy.project_id == scan.project_id,
            Strategy.name.in_(list(then)),
            Response.question_id.in_(sample),
        )
        .group_by(Strategy.name)
    ).all()
    now: dict[str, tuple[int, int]] = {name: (0, 0) for name in then}
    by_hand = 0
    for name, n_checked, n_right, n_late in rows:
        now[name] = (int(n_checked), int(n_right))
        by_hand += int(n_late)
    changes = []
    for name, entry in then.items():
        share_then, n_then = _then(entry)
        n_now, n_right = now[name]
        share_now = n_right / n_now if n_now else None
        same = n_then == n_now and (
            share_then == share_now
            or (share_then is not None and share_now is not None)
            and math.isclose(share_then, share_now)
        )
        if not same:
            changes.append(
                VerdictChange(
                    strategy=name,
                    share_then=share_then,
                    n_then=n_then,
                    share_now=share_now,
                    n_now=n_now,
                )
            )
    return VerdictDrift(changes=changes, n_by_hand=by_hand) if changes else None
