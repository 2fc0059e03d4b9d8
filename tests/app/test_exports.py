"""Downloads of finished scans: report JSON/CSV, per-question values, and training files that
round-trip through the importer."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select, update

from app.models import Response, Strategy
from tests.app.test_results import SPPL, N, make_scan, question_ids, rows, standard, upload


def _attachment(r, filename: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == f'attachment; filename="{filename}"'


def test_report_json_is_the_page_json(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/report.json")
    _attachment(r, f"scan-{sid}-report.json")
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()


def test_rankings_and_values_csv(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/report.csv")
    _attachment(r, f"scan-{sid}-rankings.csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert len(table) == 4 * 3  # metrics x strategies
    top = next(t for t in table if t["metric"] == "sppl" and t["rank"] == "1")
    assert top["strategy"] == "alpha" and float(top["mean"]) == sum(SPPL["alpha"]) / N
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/values.csv")
    _attachment(r, f"scan-{sid}-values.csv")
    values = list(csv.DictReader(io.StringIO(r.text)))
    assert len(values) == 4 * 3 * N
    first = next(v for v in values if v["metric"] == "sppl" and v["strategy"] == "alpha")
    assert float(first["value"]) == SPPL["alpha"][0]


def test_values_csv_carries_the_uploaded_question_ids(client, session) -> None:  # type: ignore[no-untyped-def]
    data = [r | {"id": f"gsm-{i:03d}"} for i, r in enumerate(rows("A"))]
    pid = upload(
        client,
        {"alpha": data, "beta": [r | {"id": f"gsm-{i:03d}"} for i, r in enumerate(rows("B"))]},
    )
    sid = make_scan(
        session, project_id=pid, values={"sppl": {k: SPPL[k] for k in ("alpha", "beta")}}
    )
    values = list(
        csv.DictReader(
            io.StringIO(client.get(f"/api/v1/projects/{pid}/scans/{sid}/values.csv").text)
        )
    )
    qids = question_ids(session, pid)
    by_qid = {int(v["question_id"]): v["uploaded_id"] for v in values}
    assert by_qid == {qid: f"gsm-{i:03d}" for i, qid in enumerate(qids)}
    # the question's number as pages show it, and its text: no lookup of internal ids needed
    first = next(v for v in values if int(v["question_id"]) == qids[0])
    assert first["question_number"] == "1" and first["question"] == data[0]["question"]


def test_rankings_csv_carries_the_p_values(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    body = client.get(f"/api/v1/projects/{pid}/scans/{sid}/report.csv").text
    table = {(r["metric"], r["strategy"]): r for r in csv.DictReader(io.StringIO(body))}
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    ranking = page["report"]["per_metric"]["sppl"]["ranking"]["strategies"]
    beta = next(r for r in ranking if r["name"] == "beta")
    assert float(table[("sppl", "beta")]["p_vs_top"]) == beta["vs_top"]["p_value"]
    assert float(table[("sppl", "beta")]["p_vs_top_holm"]) == beta["vs_top"]["p_holm"]
    assert table[("sppl", "alpha")]["p_vs_top"] == ""  # the pick itself has no test
    assert table[("sppl", "alpha")]["recommended"] == "true"


def _responses(client, pid: int) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """strategy name -> question text -> response text, through the JSON API."""
    out: dict[str, dict[str, str]] = {}
    for s in client.get(f"/api/v1/projects/{pid}").json()["strategies"]:
        items = client.get(f"/api/v1/projects/{pid}/strategies/{s['id']}/responses").json()
        out[s["name"]] = {i["question_text"]: i["text"] for i in items["items"]}
    return out


def _reimport(client, name: str, body: bytes) -> int:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    pid = client.post("/api/v1/projects", json={"name": name}).json()["id"]
    files = [("files", (f"{name}.jsonl", body, "application/x-ndjson"))]
    r = client.post(f"/api/v1/projects/{pid}/uploads", files=files)
    assert r.status_code == 201, r.text
    return pid


def test_strategy_training_files_round_trip(client, session) -> None:  # type: ignore[no-untyped-def]
    multiline = "Step 1: think.\n\nStep 2: **answer** with “quotes” and ünïcode {i}"
    pid = upload(
        client,
        {
            "alpha": [
                {"question": f"Q{i}: what now?\nReally?", "answer": multiline.format(i=i)}
                for i in range(5)
            ]
        },
    )
    sid = session.scalar(select(Strategy.id).where(Strategy.project_id == pid))
    original = _responses(client, pid)["alpha"]
    for form, keys in (("messages", {"messages"}), ("alpaca", {"instruction", "input", "output"})):
        r = client.get(f"/api/v1/projects/{pid}/strategies/{sid}/training.jsonl?form={form}")
        _attachment(r, f"alpha-{form}.jsonl")
        records = [json.loads(line) for line in r.text.splitlines()]
        assert len(records) == 5 and set(records[0]) == keys
        again = _reimport(client, f"alpha-{form}", r.content)
        assert _responses(client, again) == {f"alpha-{form}": original}


def test_mix_picks_the_most_familiar_acceptable_response(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    qids = question_ids(session, pid)
    gamma = session.scalar(
        select(Strategy.id).where(Strategy.project_id == pid, Strategy.name == "gamma")
    )
    # gamma has the lowest SPPL on question 2 and 8, but its answer to 8 is known to be wrong
    session.execute(
        update(Response)
        .where(Response.strategy_id == gamma, Response.question_id == qids[8])
        .values(correct=False)
    )
    session.commit()
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/mix.jsonl?metric=sppl&form=alpaca")
    _attachment(r, f"scan-{sid}-mix-sppl-alpaca.jsonl")
    records = [json.loads(line) for line in r.text.splitlines()]
    assert len(records) == N
    picked = {rec["instruction"]: rec["output"] for rec in records}
    assert picked["What is 2 plus 2?"] == "C 4" and picked["What is 8 plus 8?"] == "A 16"
    assert picked["What is 0 plus 0?"] == "A 0"
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/mix.jsonl?metric=ppl")
    records = [json.loads(line) for line in r.text.splitlines()]
    assert {rec["messages"][1]["content"][0] for rec in records} == {"B"}  # PPL prefers beta
    again = _reimport(client, "mix", r.content)
    assert len(_responses(client, again)["mix"]) == N


def test_export_errors_come_before_the_stream(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    sid = make_scan(
        session, project_id=pid, values={"ppl": {"alpha": SPPL["alpha"], "beta": SPPL["beta"]}}
    )
    base = f"/api/v1/projects/{pid}/scans/{sid}"
    r = client.get(f"{base}/mix.jsonl?metric=sppl")
    assert r.status_code == 422 and "familiarity metric" in r.json()["detail"]
    assert client.get(f"{base}/mix.jsonl?metric=length").status_code == 422
    assert client.get(f"{base}/mix.jsonl?form=csv").status_code == 422
    assert client.get(f"/api/v1/projects/{pid}/scans/999/values.csv").status_code == 404
    assert client.get(f"/api/v1/projects/{pid}/strategies/999/training.jsonl").status_code == 404
    other = upload(client, {"x": rows("X")}, name="other")
    assert client.get(f"/api/v1/projects/{other}/scans/{sid}/report.csv").status_code == 404


def test_unfinished_scan_has_nothing_to_export(client, session) -> None:  # type: ignore[no-untyped-def]
    from app.models import Scan

    pid = upload(client, {"alpha": rows("A")})
    scan = Scan(project_id=pid, model_name="m", spec={"metrics": ["ppl"]})
    session.add(scan)
    session.commit()
    for path in ("report.json", "report.csv", "values.csv", "mix.jsonl"):
        r = client.get(f"/api/v1/projects/{pid}/scans/{scan.id}/{path}")
        assert r.status_code == 422 and "no results yet" in r.json()["detail"], path


def test_result_page_links_every_download(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    api = f"/api/v1/projects/{pid}"
    alpha = session.scalar(
        select(Strategy.id).where(Strategy.project_id == pid, Strategy.name == "alpha")
    )
    for href in (
        f"{api}/scans/{sid}/report.json",
        f"{api}/scans/{sid}/report.csv",
        f"{api}/scans/{sid}/values.csv",
        f'action="{api}/scans/{sid}/mix.jsonl"',
        f"{api}/strategies/{alpha}/training.jsonl?form=alpaca",
    ):
        assert href in html
