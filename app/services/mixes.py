"""Per-question selection: from a finished scan and one of its familiarity metrics with
per-question values, a NEW strategy of the project whose response to each question is the
one the target found most familiar.

For every question the scan scored (a finite value) for all of its strategies, the mix takes
the response of the strategy with the best value (the registry's direction; ties go to the
lower strategy id). Questions the scan did not score for all of them are not in the mix.
The result is an ordinary strategy (origin "mix", its provenance in ``Strategy.mix``), so
scans, validations and studies take it with no special case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.metrics import registry
from app.models import Question, Response, Scan, ScanValue, Strategy
from app.schemas.mixes import MixResult, MixSource
from app.services.errors import BadInput, Conflict
from app.services.projects import get_project_row, lock_project
from app.services.scans import get_scan_row

Value = float | None
Values = Mapping[int, Mapping[int, Value]]  # {strategy id: {question id: value}}


def pick_per_question(values: Values, *, lower_is_better: bool) -> tuple[dict[int, int], int]:
    """({question id: strategy id with the best value}, questions scored for some strategies
    but not all). Ties go to the lower strategy id."""
    questions = {q for by_question in values.values() for q in by_question}
    picks: dict[int, int] = {}
    for q in sorted(questions):
        scored = [(s, values[s].get(q)) for s in sorted(values)]
        if any(v is None or not math.isfinite(v) for _, v in scored):
            continue
        sign = 1.0 if lower_is_better else -1.0
        picks[q] = min(scored, key=lambda sv: (sign * float(sv[1]), sv[0]))[0]  # type: ignore[arg-type]
    return picks, len(questions) - len(picks)


def per_question_metric(scan: Scan, metric: str) -> registry.Metric:
    """The registered familiarity metric a mix can pick by; BadInput naming why not."""
    if scan.finished_at is None:
        raise BadInput(f"scan {scan.id} has not finished: a mix needs its stored values")
    try:
        info = registry.get_metric(metric)
    except registry.UnknownMetricError as exc:
        raise BadInput(str(exc)) from None
    if info.role != "familiarity":
        raise BadInput(
            f"{info.label} is a descriptive metric: it does not say which response the "
            "target finds most familiar"
        )
    if info.aggregate:
        raise BadInput(
            f"{info.label} scores a whole strategy (from its responses together), so it "
            "has no per-question values to pick by; choose PPL, SPPL or IFD"
        )
    return info


def make_mix(
    session: Session, *, project_id: int, scan_id: int, metric: str, name: str | None = None
) -> MixResult:
    """Store the per-question mix of a finished scan as a new strategy, with an analysis job
    sent when the caller commits. Raises BadInput, Conflict or NotFound before writing."""
    get_project_row(session, project_id=project_id)
    scan = get_scan_row(session, project_id=project_id, scan_id=scan_id)
    info = per_question_metric(scan, metric)
    values = scan_values(session, scan_id=scan_id, metric=info.name)
    if not values:
        raise BadInput(f"scan {scan_id} has no {info.label} values")
    if len(values) < 2:
        raise BadInput(
            f"scan {scan_id} scored {len(values)} strategy by {info.label}: a mix "
            "needs at least 2 to choose from"
        )
    picks, n_incomplete = pick_per_question(values, lower_is_better=info.lower_is_better)
    if not picks:
        raise BadInput(f"no question of scan {scan_id} has a {info.label} value for every strategy")
    lock_project(session, project_id=project_id)  # names read after others' commits
    name = (name or "").strip() or f"per-question {info.label} mix (scan {scan_id})"
    _check_name(session, project_id, name)
    strategy, copied = _store(session, project_id, name, picks, scan_id=scan_id, metric=info)
    picks = {q: s for q, s in picks.items() if q in copied}  # a response gone since: skipped
    record = _record(session, scan_id, info, picks, n_incomplete)
    strategy.mix = record
    job = create_job(session, kind="analyze", project_id=project_id)  # sent after the commit
    session.flush()
    return _result(session, strategy, record, job.id, project_id=project_id)


def scan_values(
    session: Session, *, scan_id: int, metric: str
) -> dict[int, dict[int, float | None]]:
    """{strategy id: {question id: value}} of one metric of a scan (None: not finite)."""
    rows = session.execute(
        select(ScanValue.strategy_id, ScanValue.question_id, ScanValue.value).where(
            ScanValue.scan_id == scan_id, ScanValue.metric == metric
        )
    ).all()
    values: dict[int, dict[int, Value]] = {}
    for sid, qid, value in rows:
        values.setdefault(sid, {})[qid] = value
    return values


def _check_name(session: Session, project_id: int, name: str) -> None:
    if len(name) > 200:
        raise BadInput("name: at most 200 characters", field="name")
    taken = session.scalar(
        select(Strategy.id).where(Strategy.project_id == project_id, Strategy.name == name)
    )
    if taken:
        raise Conflict(f"this project already has a strategy named '{name}'; choose another name")


def _store(
    session: Session,
    project_id: int,
    name: str,
    picks: dict[int, int],
    *,
    scan_id: int,
    metric: registry.Metric,
) -> tuple[Strategy, set[int]]:
    """The new strategy and a copy of each picked response (text and the file's verdict;
    tokens and correctness are counted again by the analysis job, as for an upload)."""
    strategy = Strategy(
        project_id=project_id,
        name=name,
        source_filename=f"per-question {metric.label} picks of scan {scan_id}",
        origin="mix",
    )
    session.add(strategy)
    session.flush()
    picked = select(ScanValue.question_id).where(
        ScanValue.scan_id == scan_id, ScanValue.metric == metric.name
    )
    sources = session.execute(
        select(
            Response.strategy_id, Response.question_id, Response.text, Response.file_correct
        ).where(Response.strategy_id.in_(set(picks.values())), Response.question_id.in_(picked))
    ).all()
    rows = [
        {
            "strategy_id": strategy.id,
            "question_id": qid,
            "text": text,
            "line": 0,
            "file_correct": file_correct,
        }
        for sid, qid, text, file_correct in sources
        if picks.get(qid) == sid
    ]
    if rows:
        session.execute(insert(Response), rows)
    return strategy, {int(r["question_id"]) for r in rows}


def _record(
    session: Session,
    scan_id: int,
    metric: registry.Metric,
    picks: dict[int, int],
    n_incomplete: int,
) -> dict[str, object]:
    """What ``Strategy.mix`` keeps: the scan, the metric, the pick per question, the counts."""
    names = dict(
        session.execute(
            select(Strategy.id, Strategy.name).where(Strategy.id.in_(set(picks.values())))
        ).all()
    )
    counts: dict[int, int] = {}
    for sid in picks.values():
        counts[sid] = counts.get(sid, 0) + 1
    return {
        "scan_id": scan_id,
        "metric": metric.name,
        "label": metric.label,
        "lower_is_better": metric.lower_is_better,
        "picks": {str(q): s for q, s in picks.items()},
        "sources": [
            {"strategy_id": s, "name": names.get(s, f"strategy {s}"), "n": counts[s]}
            for s in sorted(counts, key=lambda s: (-counts[s], s))
        ],
        "n_questions": len(picks),
        "n_incomplete": n_incomplete,
    }


def _result(
    session: Session, strategy: Strategy, record: dict, job_id: int, *, project_id: int
) -> MixResult:
    n_project = int(
        session.scalar(select(func.count(Question.id)).where(Question.project_id == project_id))
        or 0
    )
    n_questions = int(record["n_questions"])
    n_left_out = n_project - n_questions
    incomplete = (
        f" ({record['n_incomplete']} of them scored for some strategies only)"
        if record["n_incomplete"]
        else ""
    )
    note = (
        f"'{strategy.name}' holds {n_questions} questions, each answered by the strategy "
        f"with the best {record['label']} in scan {record['scan_id']}; the project's other "
        f"{n_left_out} questions{incomplete} are not in the mix, since the scan did not score "
        "them for every strategy. A validation of the mix trains on those questions only."
    )
    return MixResult(
        strategy_id=strategy.id,
        name=strategy.name,
        scan_id=int(record["scan_id"]),
        metric=str(record["metric"]),
        lower_is_better=bool(record["lower_is_better"]),
        n_questions=n_questions,
        n_incomplete=int(record["n_incomplete"]),
        n_left_out=n_left_out,
        sources=[MixSource(**s) for s in record["sources"]],
        job_id=job_id,
        note=note,
    )
