"""Exports: scan reports (JSON, CSV) and training files (JSONL, chat or Alpaca), streamed."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Question, Response, ScanValue, Strategy
from app.scans.report import ScanReport
from app.services.csv_cells import csv_line as _csv_line
from app.services.errors import BadInput, NotFound

TrainingForm = Literal["messages", "alpaca"]
STREAM_BATCH = 1000


def training_record(question: str, response: str, form: TrainingForm) -> dict:
    if form == "messages":
        return {
            "messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": response},
            ]
        }
    return {"instruction": question, "input": "", "output": response}


def stream_strategy(
    session: Session, *, project_id: int, strategy_id: int, form: TrainingForm
) -> Iterator[str]:
    """Every response of one strategy as JSONL training records, in question order."""
    strategy = session.get(Strategy, strategy_id)
    if strategy is None or strategy.project_id != project_id:
        raise NotFound(f"strategy {strategy_id} not found in project {project_id}")
    rows = session.execute(
        select(Question.text, Response.text)
        .join(Response, Response.question_id == Question.id)
        .where(Response.strategy_id == strategy_id)
        .order_by(Question.position)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for question, response in rows:
        yield json.dumps(training_record(question, response, form), ensure_ascii=False) + "\n"


def most_familiar_mix(
    session: Session, *, scan_id: int, metric: str
) -> list[tuple[int, int, float]]:
    """Per scanned question, the acceptable response with the lowest metric value.

    Acceptable: not known to be wrong (correct, or no gold answer to check against).
    Returns (question_id, strategy_id, value) in question order.
    """
    rows = session.execute(
        select(ScanValue.question_id, ScanValue.strategy_id, ScanValue.value, Response.correct)
        .join(
            Response,
            (Response.question_id == ScanValue.question_id)
            & (Response.strategy_id == ScanValue.strategy_id),
        )
        .where(ScanValue.scan_id == scan_id, ScanValue.metric == metric)
    ).all()
    if not rows:
        raise BadInput(f"the scan has no {metric.upper()} values to choose by")
    best: dict[int, tuple[int, float]] = {}
    for qid, sid, value, correct in rows:
        if correct is False or value is None or not math.isfinite(value):
            continue
        if qid not in best or value < best[qid][1]:
            best[qid] = (sid, value)
    return [(qid, sid, v) for qid, (sid, v) in sorted(best.items())]


def stream_mix(session: Session, *, scan_id: int, metric: str, form: TrainingForm) -> Iterator[str]:
    picks = most_familiar_mix(session, scan_id=scan_id, metric=metric)
    texts = _response_texts(session, [(q, s) for q, s, _ in picks])
    for qid, sid, _ in picks:
        question, response = texts[(qid, sid)]
        yield json.dumps(training_record(question, response, form), ensure_ascii=False) + "\n"


def _response_texts(
    session: Session, pairs: list[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, str]]:
    qids = sorted({q for q, _ in pairs})
    out: dict[tuple[int, int], tuple[str, str]] = {}
    for start in range(0, len(qids), STREAM_BATCH):
        chunk = qids[start : start + STREAM_BATCH]
        rows = session.execute(
            select(Response.question_id, Response.strategy_id, Question.text, Response.text)
            .join(Question, Question.id == Response.question_id)
            .where(Response.question_id.in_(chunk))
        )
        for qid, sid, q, r in rows:
            out[(qid, sid)] = (q, r)
    return out


VALUE_COLUMNS = [
    "metric",
    "strategy",
    "question_id",
    "uploaded_id",
    "value",
    "n_tokens",
    "truncated",
    "question_number",  # the question's place in the project, as pages number it
    "question",
    "correct",  # the verdict that counts: true, false, or blank (none, or not judged)
    "verdict",  # where it came from: judge | not judged | verdict from the file | human verdict
]
VERDICT_WORDS = {
    "judge": "judge",
    "not_judged": "not judged",
    "file": "verdict from the file",
    "human": "human verdict",
}


def stream_values_csv(
    session: Session, *, scan_id: int, imported: Iterable[ImportedValues] = ()
) -> Iterator[str]:
    """Per-question values: metric, strategy, question id (Familiar's and the uploaded one),
    value, tokens, truncated, the response's verdict and its source; then the imported
    metrics' per-question values of the scan's strategies (no tokens, nothing truncated)."""
    yield _csv_line(VALUE_COLUMNS)
    rows = session.execute(
        select(
            ScanValue.metric,
            Strategy.name,
            ScanValue.question_id,
            Question.external_id,
            ScanValue.value,
            ScanValue.n_tokens,
            ScanValue.truncated,
            Question.position,
            Question.text,
            Response.correct,
            Response.verdict_source,
        )
        .join(Strategy, Strategy.id == ScanValue.strategy_id)
        .join(Question, Question.id == ScanValue.question_id)
        .outerjoin(
            Response,
            (Response.question_id == ScanValue.question_id)
            & (Response.strategy_id == ScanValue.strategy_id),
        )
        .where(ScanValue.scan_id == scan_id)
        .order_by(ScanValue.metric, Strategy.id, ScanValue.question_id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for metric, name, qid, external_id, value, n_tokens, truncated, position, text, ok, src in rows:
        cut = int(bool(truncated))
        where = VERDICT_WORDS.get(src or "", "") if ok is not None or src == "not_judged" else ""
        head = [metric, name, qid, external_id, value, n_tokens, cut, position + 1, text]
        yield _csv_line([*head, _flag(ok), where])
    for metric, values in imported:
        questions = _questions(session, [int(k) for v in values.values() for k in v if k])
        for name, by_question in values.items():
            for key, value in sorted(by_question.items(), key=lambda kv: int(kv[0] or 0)):
                if key:  # per question (a per-strategy value has no question)
                    external, number, text = questions.get(int(key), (None, None, None))
                    yield _csv_line(
                        [metric, name, int(key), external, value, "", "", number, text, "", ""]
                    )


ImportedValues = tuple[str, dict[str, dict[str, float]]]  # name, strategy -> question -> value


def _questions(session: Session, ids: list[int]) -> dict[int, tuple[str | None, int, str]]:
    """Question id -> (uploaded id, number in the project, text)."""
    out: dict[int, tuple[str | None, int, str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = session.execute(
            select(Question.id, Question.external_id, Question.position, Question.text).where(
                Question.id.in_(chunk)
            )
        )
        out.update({qid: (ext, pos + 1, text) for qid, ext, pos, text in rows})
    return out


RANKING_COLUMNS = [
    "metric",
    "rank",
    "strategy",
    "mean",
    "median",
    "std",
    "ci_low",
    "ci_high",
    "n",
    "p_vs_top",
    "p_vs_top_holm",
    "indistinguishable_from_top",
    "recommended",
    "recommendable",
    "passed_over",
]


def aggregates_csv(report: ScanReport, imported: Iterable[tuple[str, dict[str, Any]]] = ()) -> str:
    """Per metric and strategy: rank, summary, the paired test against the metric's pick
    (raw and Holm-corrected p), and whether the correctness rule lets it be recommended;
    then the imported metrics' rankings (``(name, ranking)``), which never recommend."""
    out = [_csv_line(RANKING_COLUMNS)]
    rankings = [(m, report.per_metric[m].ranking) for m in report.metrics]
    for metric, ranking in [*rankings, *imported]:
        recommends = metric in registry.familiarity(report.metrics)
        for r in ranking.get("strategies", []):
            head = [r["rank"], r["name"], *(r.get(k) for k in RANKING_COLUMNS[3:9])]
            out.append(_csv_line([metric, *head, *_row_tail(r, recommends)]))
    return "".join(out)


def _row_tail(r: dict, familiarity: bool) -> list[object]:
    """Descriptive metrics (length, log-probability) rank but never recommend: blank there."""
    vs = r.get("vs_top") or {}
    verdict = (
        [_flag(bool(r.get("is_top"))), _flag(r.get("recommendable", True)), r.get("passed_over")]
        if familiarity
        else [None, None, None]
    )
    same = _flag(r.get("indistinguishable_from_top"))
    return [vs.get("p_value"), vs.get("p_holm"), same, *verdict]


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")
