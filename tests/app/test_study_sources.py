"""The seam studies read through: a project's metric scores and accuracies (issue 13)."""

from __future__ import annotations

from app.models import Accuracy, Scan, Strategy
from app.services.studies.sources import project_accuracies, project_metric_scores
from tests.app.test_results import IFD, PPL, SPPL, make_scan, rows, upload


def test_scores_come_from_the_latest_finished_scan(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    assert project_metric_scores(session, pid) == {}
    make_scan(session, project_id=pid, values={"ppl": PPL})
    sid = make_scan(session, project_id=pid, values={"sppl": SPPL, "ifd": IFD})
    scores = project_metric_scores(session, pid)
    assert set(scores) == {"sppl", "ifd", "recommendation"}  # not the older scan's PPL
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


def test_imported_metrics_and_repeated_samples_join_the_scores(client, session) -> None:  # type: ignore[no-untyped-def]
    """Issue 13a: imported metrics (per sample too) and a scan's K samples reach studies."""
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    body = "\n".join(
        ["metric,direction,strategy,sample,value"]
        + [
            f"rm,higher,{s},{k},{v}"
            for k, vals in enumerate([(1, 2, 3), (3, 2, 1)])
            for s, v in zip(("alpha", "beta", "gamma"), vals, strict=True)
        ]
    )
    client.cookies.clear()
    r = client.post(f"/api/v1/projects/{pid}/metrics", files={"file": ("rm.csv", body.encode())})
    assert r.status_code == 201, r.text
    only = project_metric_scores(session, pid)  # no scan yet: the imported metric alone
    assert set(only) == {"rm"} and only["rm"].source == "imported"
    assert only["rm"].samples == [
        {"alpha": 1, "beta": 2, "gamma": 3},
        {"alpha": 3, "beta": 2, "gamma": 1},
    ]
    assert only["rm"].per_strategy == {"alpha": 2, "beta": 2, "gamma": 2}
    assert not only["rm"].lower_is_better and "rm.csv" in only["rm"].detail

    sid = make_scan(session, project_id=pid, values={"sppl": SPPL})
    scan = session.get(Scan, sid)
    half = [str(q) for q in scan.summary["sample"]]
    scan.summary = scan.summary | {"samples": [half[:8], half[8:]]}
    session.commit()
    scores = project_metric_scores(session, pid)
    assert set(scores) == {"sppl", "rm", "recommendation"}
    first = scores["sppl"].samples[0]
    assert first["alpha"] == sum(SPPL["alpha"][:8]) / 8 and len(scores["sppl"].samples) == 2
