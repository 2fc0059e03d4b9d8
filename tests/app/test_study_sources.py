"""The seam studies read through: a project's metric scores and accuracies (issue 13)."""

from __future__ import annotations

from app.models import Accuracy, Strategy
from app.services.studies.sources import project_accuracies, project_metric_scores
from tests.app.test_results import IFD, PPL, SPPL, make_scan, rows, upload


def test_scores_come_from_the_latest_finished_scan(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    assert project_metric_scores(session, pid) == {}
    make_scan(session, project_id=pid, values={"ppl": PPL})
    sid = make_scan(session, project_id=pid, values={"sppl": SPPL, "ifd": IFD})
    scores = project_metric_scores(session, pid)
    assert set(scores) == {"sppl", "ifd"}  # the older scan's PPL is not mixed in
    sppl = scores["sppl"]
    assert sppl.source == "scan" and sppl.lower_is_better and sppl.samples is None
    assert f"scan {sid}" in sppl.detail
    assert sppl.per_strategy["alpha"] == sum(SPPL["alpha"]) / len(SPPL["alpha"])
    assert set(sppl.per_strategy) == {"alpha", "beta", "gamma"}


def test_accuracies_per_seed_in_seed_order(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    ids = {s.name: s.id for s in session.query(Strategy).filter_by(project_id=pid)}
    for name, seed, acc in [("alpha", 2, 0.3), ("alpha", 0, 0.5), ("beta", 1, 0.4)]:
        session.add(Accuracy(project_id=pid, strategy_id=ids[name], seed=seed, accuracy=acc))
    session.flush()
    assert project_accuracies(session, pid) == {"alpha": [0.5, 0.3], "beta": [0.4]}
