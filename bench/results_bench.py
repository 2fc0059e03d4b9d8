"""A finished scan of 14 strategies x 1000 questions with synthetic values: time the stored
report's build (as the scan job does it) and the result page, as JSON and as HTML.

Prints the numbers, then one JSON line with report_build_s, page_json_s, page_html_s,
json_bytes and html_bytes (medians of several requests).
Run: .venv/bin/python bench/results_bench.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES, QUESTIONS, REPEATS = 14, 1000, 7


def build_synthetic_scan(
    session: Any, *, n_strategies: int = STRATEGIES, n_questions: int = QUESTIONS, seed: int = 0
) -> tuple[int, int, float]:
    """Project, strategies, questions, responses and a finished scan; returns the ids and the
    seconds build_report took."""

    from app.models import Scan
    from app.scans.output import ScanOutput, ValueRow
    from app.scans.store import save_scan_result
    from app.schemas.projects import ProjectCreate
    from app.services.projects import create_project
    from app.specs.scan import ScanSpec

    rng = np.random.default_rng(seed)
    project = create_project(session, data=ProjectCreate(name="results bench"))
    strategies, questions = _strategies_and_questions(
        session, project.id, n_strategies, n_questions
    )
    spec = ScanSpec(sample=n_questions).to_dict() | {"strategy_ids": [s.id for s in strategies]}
    scan = Scan(project_id=project.id, model_name="bench/model", model_key="bench", spec=spec)
    session.add(scan)
    session.flush()
    values: dict[str, dict[str, list[ValueRow]]] = {s.name: {} for s in strategies}
    for name, metric, qid, value, n_tokens in _values(rng, strategies, questions):
        values[name].setdefault(metric, []).append(
            ValueRow(question_key=str(qid), value=value, n_tokens=n_tokens)
        )
    examples = [
        "Own answer one. Final Answer: 1",
        "Own answer two. Final Answer: 2",
        "Own answer three. Final Answer: 3",
    ]
    output = ScanOutput(
        settings={**spec, "exemplars_filtered": True},
        model={"dtype": "bfloat16"},
        sample=[str(q.id) for q in questions],
        values=values,
        timings={"total": 600.0},
        counts={"scored_items": 3 * len(strategies) * len(questions)},
        exemplars={str(q.id): examples for q in questions},
    )
    t0 = time.perf_counter()  # what the worker does at the end of a scan: values, report, rows
    save_scan_result(session, scan_id=scan.id, output=output, model_key="bench", seed=seed)
    build_s = time.perf_counter() - t0
    session.commit()
    return project.id, scan.id, build_s


def _strategies_and_questions(session: Any, project_id: int, n_strategies: int, n_questions: int):  # type: ignore[no-untyped-def]
    """The strategies, questions and every response of the synthetic project."""
    from sqlalchemy import insert

    from app.ingest.matching import question_key
    from app.models import Question, Response, Strategy

    names = [f"strategy-{i:02d}" for i in range(n_strategies)]
    strategies = [Strategy(project_id=project_id, name=n, origin="upload") for n in names]
    session.add_all(strategies)
    texts = [f"Question {i}: what is {i} times {i + 3}?" for i in range(n_questions)]
    questions = [
        Question(
            project_id=project_id,
            text_key=question_key(t),
            text=t,
            gold=str(i * (i + 3)),
            position=i,
        )
        for i, t in enumerate(texts)
    ]
    session.add_all(questions)
    session.flush()
    session.execute(
        insert(Response),
        [
            {"strategy_id": s.id, "question_id": q.id, "text": f"{s.name} says {q.gold}", "line": i}
            for s in strategies
            for i, q in enumerate(questions)
        ],
    )
    return strategies, questions


def _values(rng: np.random.Generator, strategies: list, questions: list):  # type: ignore[no-untyped-def]
    """Log-normal perplexities whose typical value grows with the strategy index."""
    n = len(questions)
    difficulty = rng.normal(0.0, 0.25, n)  # shared per question: the pairing matters
    for k, s in enumerate(strategies):
        log_sppl = np.log(2.2) + 0.035 * k + difficulty + rng.normal(0, 0.2, n)
        log_ppl = log_sppl + 0.15 + rng.normal(0, 0.08, n)
        ifd = np.exp(np.log(0.75) + 0.01 * k + rng.normal(0, 0.15, n))
        length = np.maximum(5, rng.normal(140 + 12 * k, 45, n)).round()
        per_metric = {
            "sppl": np.exp(log_sppl),
            "ppl": np.exp(log_ppl),
            "ifd": ifd,
            "length": length,
            "logprob": -log_ppl,
        }
        for metric, arr in per_metric.items():
            for q, v in zip(questions, arr, strict=True):
                yield s.name, metric, q.id, float(v), int(length[0])


def _median_get(client: Any, url: str) -> tuple[float, int]:
    r = client.get(url)  # warm: templates, caches
    assert r.status_code == 200, r.text[:500]
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        r = client.get(url)
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(r.content)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.fresh_app import fresh_app

    fresh_app("familiar-results-bench-")
    from fastapi.testclient import TestClient

    from app.db import session_scope
    from app.main import create_app

    t0 = time.perf_counter()
    with session_scope() as session:
        pid, sid, build_s = build_synthetic_scan(session)
    print(
        f"stored a scan of {STRATEGIES} strategies x {QUESTIONS} questions in "
        f"{time.perf_counter() - t0:.1f} s; build_report {build_s:.2f} s"
    )
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # a loopback host
    json_s, json_bytes = _median_get(client, f"/api/v1/projects/{pid}/scans/{sid}")
    html_s, html_bytes = _median_get(client, f"/projects/{pid}/scans/{sid}")
    ppl_s, _ = _median_get(client, f"/projects/{pid}/scans/{sid}?metric=ppl&scale=linear")
    paired_s, _ = _median_get(client, f"/api/v1/projects/{pid}/scans/{sid}/paired")
    print(
        f"page JSON {json_s * 1000:.0f} ms ({json_bytes / 1e6:.2f} MB); page HTML "
        f"{html_s * 1000:.0f} ms ({html_bytes / 1e6:.2f} MB); PPL tab {ppl_s * 1000:.0f} ms; "
        f"paired JSON {paired_s * 1000:.0f} ms"
    )
    out = {
        "strategies": STRATEGIES,
        "questions": QUESTIONS,
        "report_build_s": round(build_s, 3),
        "page_json_s": round(json_s, 4),
        "page_html_s": round(html_s, 4),
        "page_html_ppl_s": round(ppl_s, 4),
        "paired_json_s": round(paired_s, 4),
        "json_bytes": json_bytes,
        "html_bytes": html_bytes,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
