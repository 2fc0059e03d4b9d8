"""A study reads its projects in a constant number of queries, however many projects it holds
(issue 19's study bench: 363 statements for 60 projects when each project was read alone).

The projects are the study bench's (bench/study_bench.py: strategies, a finished scan's
aggregates, three seeds of accuracies), and every third one also has an imported metric of
two samples or a trained per-question mix, so each per-project read is counted.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Accuracy, Scan, Strategy
from app.schemas.studies import StudyCreate
from app.services.metrics.store import store_metrics
from app.services.studies.crud import create_study
from app.services.studies.sources import (
    project_accuracies,
    project_metric_scores,
    projects_accuracies,
    projects_metric_scores,
)
from bench.study_bench import STRATEGIES, build_project
from tests.app.test_listing_queries import _queries


def _imported(session: Session, pid: int, index: int) -> None:
    body = "\n".join(
        ["metric,direction,strategy,sample,value"]
        + [
            f"rm,higher,strategy-{s},{k},{(s * 7 + k * 3 + index) % 5}"
            for k in range(2)
            for s in range(STRATEGIES)
        ]
    )
    store_metrics(session, project_id=pid, filename="rm.csv", data=body.encode())


def _mix(session: Session, pid: int, index: int) -> None:
    scan_id = session.scalar(select(Scan.id).where(Scan.project_id == pid))
    mix = Strategy(
        project_id=pid,
        name=f"mix-{index}",
        origin="mix",
        mix={"scan_id": scan_id, "metric": "sppl" if index % 2 else "logprob", "label": ""},
    )
    session.add(mix)
    session.flush()
    session.add(Accuracy(project_id=pid, strategy_id=mix.id, seed=0, accuracy=0.6))


def _projects(session: Session, start: int, stop: int) -> list[int]:
    rng = np.random.default_rng(start)
    pids = []
    for i in range(start, stop):
        pid = build_project(session, i, rng)
        if i % 3 == 1:
            _imported(session, pid, i)
        elif i % 3 == 2:
            _mix(session, pid, i)
        pids.append(pid)
    session.commit()
    return pids


def _study(session: Session, pids: list[int]) -> int:
    study = create_study(session, data=StudyCreate(name="q", project_ids=pids), created_by_id=None)
    session.commit()
    return study.id


def _counts(client, study_id: int) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    urls = [f"/api/v1/studies/{study_id}", f"/studies/{study_id}", "/api/v1/studies/new"]
    for url in urls:
        client.get(url)  # warm up: the first request reads what later ones find cached
    return tuple(_queries(client, url) for url in urls)


def test_study_page_queries_do_not_grow_with_projects(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pids = _projects(session, 0, 3)
    few = _counts(client, _study(session, pids))
    pids += _projects(session, 3, 9)
    many = _counts(client, _study(session, pids))
    assert many == few


def test_read_together_each_project_gets_what_it_gets_alone(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pids = _projects(session, 0, 6)
    empty = client.post("/api/v1/projects", json={"name": "nothing yet"}).json()["id"]
    pids.append(empty)
    together = projects_metric_scores(session, pids)
    accuracies = projects_accuracies(session, pids)
    assert list(together) == pids
    for pid in pids:
        alone = project_metric_scores(session, pid)
        assert list(together[pid].items()) == list(alone.items())  # same scores, same order
        assert accuracies[pid] == project_accuracies(session, pid)
    assert together[empty] == {} and accuracies[empty] == {}
    assert {"rm"} <= set(together[pids[1]]) and "per_question_mix" in together[pids[2]]
    assert "rm" not in together[pids[0]] and "per_question_mix" not in together[pids[1]]
