"""Validation results: accuracy per strategy (spread over seeds, interval over questions),
the paired McNemar comparison, and each metric against accuracy (app.stats.validation)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics.table import MetricColumn
from app.models import TestQuestion, Validation
from app.schemas.validations import (
    EvaluationRead,
    PairedComparison,
    RecommendationCheck,
    RunRead,
    StrategyAccuracy,
    ValidationResults,
)
from app.services.metrics.table import agreement_table
from app.services.selectors import Trained, evidence_note, mix_rows, scan_model_time, with_costs

MV_FIELDS = (
    "picks",
    "best_trained",
    "top_pick_is_best",
    "pick_accuracy",
    "best_accuracy",
    "regret",
    "spearman",
    "spearman_p",
    "kendall",
    "kendall_p",
    "n_strategies",
)


def correctness(session: Session, evaluation_ids: list[int]) -> dict[int, dict[int, bool]]:
    """evaluation id -> {test question id: correct}."""
    from app.models import Prediction

    out: dict[int, dict[int, bool]] = defaultdict(dict)
    for eid, qid, ok in session.execute(
        select(Prediction.evaluation_id, Prediction.test_question_id, Prediction.correct).where(
            Prediction.evaluation_id.in_(evaluation_ids)
        )
    ):
        out[eid][qid] = bool(ok)
    return out


def metric_scores(session: Session, scan_id: int | None, project_id: int) -> list[MetricColumn]:
    """Each selector's strategy means: the compared scan's familiarity metrics (from its
    aggregates) and the project's imported metrics, in display order."""
    return list(agreement_table(session, scan_id=scan_id, project_id=project_id))


def per_run_correct(
    session: Session, validation: Validation, runs: list[RunRead], evals: list[EvaluationRead]
) -> dict[str, dict[int, list[bool]]]:
    """strategy -> seed -> correctness in test-question order (finished evaluations only)."""
    order = validation.question_ids("test")
    right = correctness(session, [e.id for e in evals if e.finished and e.run_id])
    by_run = {r.id: r for r in runs}
    out: dict[str, dict[int, list[bool]]] = defaultdict(dict)
    for e in evals:
        if e.finished and e.run_id in by_run and e.id in right:
            run = by_run[e.run_id]
            out[run.strategy][run.seed] = [right[e.id].get(q, False) for q in order]
    return dict(out)


def results(
    session: Session,
    validation: Validation,
    runs: list[RunRead],
    evals: list[EvaluationRead],
    *,
    a: str | None = None,
    b: str | None = None,
) -> ValidationResults:
    from app.stats.validation import strategy_accuracy_table

    per_run = per_run_correct(session, validation, runs, evals)
    table = strategy_accuracy_table(per_run) if per_run else []
    scores = metric_scores(session, validation.scan_id, validation.project_id)
    ids = {r.strategy: r.strategy_id for r in runs}
    rows = [
        StrategyAccuracy(
            strategy_id=ids[t.strategy],
            strategy=t.strategy,
            mean=t.mean,
            std=t.sd,
            n_seeds=t.n_seeds,
            seeds=t.seeds,
            ci_low=t.interval_lo,
            ci_high=t.interval_hi,
            n_questions=t.n_questions,
            metrics={c.name: c.aggregates.get(t.strategy) for c in scores},
        )
        for t in table
    ]
    accuracies = {t.strategy: list(t.seeds.values()) for t in table}
    picks = [_top_pick(c, accuracies) for c in scores if c.aggregates]
    time = scan_model_time(session, validation.scan_id)
    check = recommendation_vs_accuracy(session, validation.scan_id, rows)
    trained = [Trained(r.strategy, r.mean, r.ci_low, r.ci_high) for r in rows]
    top_picks = with_costs([p for p in picks if p is not None], time, None)
    top_picks += mix_rows(session, project_id=validation.project_id, accuracies=accuracies)
    if check is not None:
        check.cost_s = time.seconds(check.metric)
    base = next((e.accuracy for e in evals if e.run_id is None and e.finished), None)
    return ValidationResults(
        base_accuracy=base,
        accuracies=rows,
        best=rows[0].strategy if rows else None,
        metric_labels={c.name: c.label for c in scores},
        top_picks=top_picks,
        recommendation=check,
        evidence_note=evidence_note(
            trained, top_picks + ([{"picks": [check.pick]}] if check and check.trained else [])
        ),
        paired=paired(session, validation, per_run, a=a, b=b),
    )


def _top_pick(column: MetricColumn, accuracies: dict[str, list[float]]) -> dict[str, Any] | None:
    """One selector against the trained accuracies: its pick, regret, rank agreement."""
    from app.stats.validation import metric_vs_accuracy

    if not accuracies:
        return None
    mv = metric_vs_accuracy(column.aggregates, column.lower_is_better, accuracies)
    return {
        "metric": column.name,
        "label": column.label,
        "lower_is_better": column.lower_is_better,
        "origin": column.info.origin,
        **{k: getattr(mv, k) for k in MV_FIELDS},
        "points": [list(p) for p in mv.points],
    }


def recommendation_vs_accuracy(
    session: Session, scan_id: int | None, rows: list[StrategyAccuracy]
) -> RecommendationCheck | None:
    """The compared scan's recommendation (its primary metric with the correctness rule,
    which passes over mostly-wrong strategies) against the trained accuracies."""
    from app.models import Scan
    from app.services.scan_report import current_report

    scan = session.get(Scan, scan_id) if rows and scan_id is not None else None
    if scan is None:  # nothing evaluated yet (the page polls): no report is read
        return None
    report = (
        current_report(session, scan_id=scan.id, report=scan.report, summary=scan.summary or {})
        or {}
    )
    recommendation = report.get("recommendation") or {}
    top = recommendation.get("top")
    if top is None:
        return None
    acc = {r.strategy: r.mean for r in rows}
    best = max(acc.values())
    passed = [s for s in recommendation.get("passed_over_above", []) if s in acc]
    return RecommendationCheck(
        scan_id=scan.id,
        metric=str(report.get("primary")),
        pick=top,
        trained=top in acc,
        pick_accuracy=acc.get(top),
        best_trained=[s for s, v in acc.items() if v == best],
        regret=best - acc[top] if top in acc else None,
        passed_over=[{"strategy": s, "accuracy": acc[s]} for s in passed],
    )


def paired(
    session: Session,
    validation: Validation,
    per_run: dict[str, dict[int, list[bool]]],
    *,
    a: str | None,
    b: str | None,
) -> PairedComparison | None:
    """Exact McNemar test of two strategies on the same test questions (their lowest common
    seed), with the questions where they differ."""
    from app.stats.validation import exact_mcnemar

    names = sorted(per_run, key=lambda s: -_mean(per_run[s]))
    a = a if a in per_run else (names[0] if names else None)
    b = b if b in per_run and b != a else next((n for n in names if n != a), None)
    if a is None or b is None:
        return None
    common = sorted(set(per_run[a]) & set(per_run[b]))
    if not common:
        return None
    seed = common[0]
    test = exact_mcnemar(per_run[a][seed], per_run[b][seed])
    order = validation.question_ids("test")
    ids = [order[i] for i in test.differing[:200]]
    texts = dict(
        session.execute(
            select(TestQuestion.id, TestQuestion.text).where(TestQuestion.id.in_(ids))
        ).all()
    )
    differing = [
        {
            "test_question_id": order[i],
            "question": texts.get(order[i], "")[:300],
            "a_correct": per_run[a][seed][i],
            "b_correct": per_run[b][seed][i],
        }
        for i in test.differing[:200]
    ]
    return PairedComparison(
        a=a,
        b=b,
        n=test.n,
        a_only=test.only_a,
        b_only=test.only_b,
        p_value=test.p_value,
        differing=differing,
    )


def _mean(seeds: dict[int, list[bool]]) -> float:
    values = [sum(v) / len(v) for v in seeds.values() if v]
    return sum(values) / len(values) if values else 0.0
