"""A study of 60 projects x 8 strategies x 5 metrics: time the study page, JSON and HTML.

Each project gets its strategies, a finished scan whose `scan_aggregates` rows hold the five
built-in metrics (PPL, SPPL, IFD, length, mean log-probability; bulk-inserted, as the scan
save writes them) and three seeds of accuracies stored through the accuracy upload service.
The study is created through its service, then the page is requested through the app.

Prints the numbers, then one JSON line with study_json_s, study_html_s (medians of several
requests), compute_s (the statistics alone) and the response sizes.
Run: PYTHONPATH=. .venv/bin/python bench/study_bench.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROJECTS, STRATEGIES, SEEDS, REPEATS = 60, 8, 3, 9
METRICS = ("ppl", "sppl", "ifd", "length", "logprob")


def build_project(session: Any, index: int, rng: np.random.Generator) -> int:
    """One project: strategies, a finished scan's aggregates, accuracies per seed."""
    from sqlalchemy import insert

    from app.models import Scan, ScanAggregate, Strategy
    from app.schemas.projects import ProjectCreate
    from app.services.projects import create_project
    from app.services.results.accuracy import store_accuracies

    project = create_project(session, data=ProjectCreate(name=f"model {index % 6} / task {index}"))
    session.execute(
        insert(Strategy),
        [
            {"project_id": project.id, "name": f"strategy-{s}", "origin": "upload"}
            for s in range(STRATEGIES)
        ],
    )
    ids = dict(
        session.execute(
            Strategy.__table__.select()
            .with_only_columns(Strategy.name, Strategy.id)
            .where(Strategy.project_id == project.id)
        ).all()
    )
    scan = Scan(
        project_id=project.id,
        model_name="bench/model",
        spec={"sample": 50},
        finished_at=datetime.now(UTC),
    )
    session.add(scan)
    session.flush()
    quality = rng.normal(0.55, 0.08, STRATEGIES)  # what each strategy would train to
    rows = []
    for metric in METRICS:
        noise = rng.normal(0, 0.05, STRATEGIES)
        for s, sid in enumerate(ids.values()):
            mean = 3.0 - 2 * quality[s] + noise[s] if metric != "logprob" else quality[s]
            rows.append(
                {
                    "scan_id": scan.id,
                    "strategy_id": sid,
                    "metric": metric,
                    "n": 50,
                    "mean": float(mean),
                    "median": float(mean),
                    "rank": s + 1,
                }
            )
    session.execute(insert(ScanAggregate), rows)
    lines = ["strategy,accuracy,seed"] + [
        f"{name},{min(1.0, max(0.0, quality[s] + rng.normal(0, 0.01))):.4f},{seed}"
        for s, name in enumerate(ids)
        for seed in range(SEEDS)
    ]
    store_accuracies(
        session, project_id=project.id, filename="acc.csv", data="\n".join(lines).encode()
    )
    return project.id


def timed(client: Any, url: str) -> tuple[float, int]:
    client.get(url)  # warm templates and caches
    times, size = [], 0
    for _ in range(REPEATS):
        t = time.perf_counter()
        r = client.get(url)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text[:300]
        size = len(r.content)
    return statistics.median(times), size


def prepare() -> None:
    """An empty SQLite database in a fresh data folder, migrated, for this process."""
    tmp = Path(tempfile.mkdtemp(prefix="familiar-study-bench-"))
    os.environ.update(DATA_DIR=str(tmp), DEMO="false")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    from app.cli import _prepare

    _prepare()


def build_study(session: Any, projects: int = PROJECTS, seed: int = 0) -> int:
    """``projects`` bench projects and a study over all of them; the study's id."""
    from app.schemas.studies import StudyCreate
    from app.services.studies.crud import create_study

    rng = np.random.default_rng(seed)
    pids = [build_project(session, i, rng) for i in range(projects)]
    study = create_study(
        session, data=StudyCreate(name="bench", project_ids=pids), created_by_id=None
    )
    return study.id


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient

    from app.db import session_scope
    from app.main import create_app

    prepare()
    t0 = time.perf_counter()
    with session_scope() as session:
        study_id = build_study(session)
    build_s = time.perf_counter() - t0
    print(
        f"built {PROJECTS} projects x {STRATEGIES} strategies x {len(METRICS)} metrics "
        f"x {SEEDS} seeds in {build_s:.2f} s"
    )
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # a loopback host
    json_s, json_bytes = timed(client, f"/api/v1/studies/{study_id}")
    html_s, html_bytes = timed(client, f"/studies/{study_id}")
    compute_s = client.get(f"/api/v1/studies/{study_id}").json()["compute_s"]
    print(
        f"study JSON: {json_s * 1000:.1f} ms ({json_bytes} bytes), "
        f"HTML: {html_s * 1000:.1f} ms ({html_bytes} bytes), compute {compute_s} s"
    )
    print(
        json.dumps(
            {
                "projects": PROJECTS,
                "strategies": STRATEGIES,
                "metrics": len(METRICS),
                "study_json_s": round(json_s, 4),
                "study_html_s": round(html_s, 4),
                "compute_s": compute_s,
                "json_bytes": json_bytes,
                "html_bytes": html_bytes,
                "build_s": round(build_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
