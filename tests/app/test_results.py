"""Result pages of finished scans built without a model: values in, pages and JSON out.

The factory below stores a scan through the worker's own save (app.scans.store), from the
scan core's output format (app.scans.output).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.models import OwnAnswer, Question, Scan, Strategy
from app.scans.output import ScanOutput, ValueRow
from app.scans.store import save_scan_result
from app.specs.scan import ScanJobSpec, ScanSpec
from tests.conftest import page_csrf
from tests.paths import ROOT

N = 16  # above 13 pairs scipy's Wilcoxon uses no slow exact enumeration of ties
# Values per question index: alpha is the most familiar on every question by SPPL.
SPPL = {
    "alpha": [2.0 + 0.1 * i for i in range(N)],
    "beta": [2.6 + 0.1 * i for i in range(N)],
    "gamma": [
        2.0 + 0.1 * i + d
        for i, d in enumerate([1, 1, -0.5, 1, 0, 2, 1, 1, -1, 1, 3, 1, 1, 1, -1, 1])
    ],
}
PPL = {
    "alpha": [5.0 + i for i in range(N)],
    "beta": [4.0 + i for i in range(N)],  # PPL prefers beta
    "gamma": [9.0 + i for i in range(N)],
}
IFD = {
    "alpha": [0.5 + 0.01 * i for i in range(N)],
    "beta": [0.6 + 0.01 * i for i in range(N)],
    "gamma": [0.9 + 0.05 * i for i in range(N)],  # i >= 3 above 1
}
LENGTH = {"alpha": [100.0] * N, "beta": [120.0] * N, "gamma": [80.0 + i for i in range(N)]}


def upload(client, rows_by_strategy: dict[str, list[dict]], name: str = "results") -> int:  # type: ignore[no-untyped-def]
    """A project with one uploaded file per strategy (a script: no session cookie)."""
    client.cookies.clear()
    pid = client.post("/api/v1/projects", json={"name": name}).json()["id"]
    for strategy, rows in rows_by_strategy.items():
        files = [("files", ("s.json", json.dumps(rows).encode(), "application/json"))]
        r = client.post(f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": strategy})
        assert r.status_code == 201, r.text
    return pid


def rows(style: str, n: int = N, question: str = "What is {i} plus {i}?") -> list[dict]:
    return [
        {"question": question.format(i=i), "answer": f"{style} {2 * i}", "gold_label": str(2 * i)}
        for i in range(n)
    ]


def question_ids(session: Session, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Question.id).where(Question.project_id == project_id).order_by(Question.position)
        )
    )


def make_scan(
    session: Session,
    *,
    project_id: int,
    values: dict[str, dict[str, list[float | None]]],
    truncated: dict[tuple[str, str], set[int]] | None = None,
    model_name: str = "org/tiny-model",
    settings: dict[str, Any] | None = None,
    exemplars: dict[int, list[str]] | None = None,
    exemplar_sources: dict[int, list[int]] | None = None,
    correct_share: dict[str, dict[str, Any]] | None = None,
    timings: dict[str, float] | None = None,
    counts: dict[str, int] | None = None,
) -> int:
    """A finished scan: values[metric][strategy][question index], stored by the worker's own
    save (app.scans.store) from the core's output format (app.scans.output)."""
    qids = question_ids(session, project_id)
    names = dict(
        session.execute(
            select(Strategy.name, Strategy.id).where(Strategy.project_id == project_id)
        ).all()
    )
    metrics = [m for m in ("ppl", "sppl", "ifd") if m in values]
    spec = ScanSpec(metrics=metrics, sample=N, **(settings or {})).to_dict()  # type: ignore[arg-type]
    spec["strategy_ids"] = sorted(names.values())
    scan = Scan(project_id=project_id, model_name=model_name, spec=spec)
    session.add(scan)
    session.flush()
    cut = truncated or {}
    n = len(next(iter(next(iter(values.values())).values())))
    output = ScanOutput(
        settings={**spec, "exemplars_filtered": True},
        model={"dtype": "float32"},
        sample=[str(q) for q in qids[:n]],
        exemplars={str(qids[i]): texts for i, texts in (exemplars or {}).items()},
        exemplar_sources={
            str(qids[i]): [str(qids[k]) for k in ks] for i, ks in (exemplar_sources or {}).items()
        },
        values={
            s: {
                m: [
                    ValueRow(
                        question_key=str(qids[i]),
                        value=v,
                        n_tokens=10,
                        truncated=i in cut.get((m, s), set()),
                    )
                    for i, v in enumerate(values[m][s])
                ]
                for m in values
                if s in values[m]
            }
            for s in names
        },
        correct_share=correct_share or {},
        timings=timings or {"total": 1.5},
        counts=counts or {"scored_items": 3 * N},
    )
    save_scan_result(session, scan_id=scan.id, output=output, model_key=f"{model_name}|q4", seed=0)
    session.commit()
    return scan.id


def standard(client, session: Session, **kwargs) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Project with alpha, beta, gamma and a finished scan of every metric."""
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    values = {"sppl": SPPL, "ppl": PPL, "ifd": IFD, "length": LENGTH}
    return pid, make_scan(session, project_id=pid, values=values, **kwargs)  # type: ignore[arg-type]


def report_data(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert match, "page embeds no chart data"
    return json.loads(match.group(1))


# --- result page ------------------------------------------------------------------------


def test_result_page_and_json_twin(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    report = page["report"]
    assert page["metric"] == "sppl" and page["scale"] == "log"
    assert report["primary"] == "sppl" and report["recommendation"]["top"] == "alpha"
    assert report["recommendation"]["evidence"] == "strong"
    assert report["per_metric"]["ppl"]["ranking"]["order"][0] == "beta"
    assert "exemplars" not in page["summary"]  # per question: the drill-down has them
    assert [r["rank"] for r in page["aggregates"]["sppl"]] == [1, 2, 3]
    assert set(page["colors"]) == {"alpha", "beta", "gamma"}
    assert page["strategy_ids"]["alpha"] and page["accuracy"] is None

    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "Use <strong>alpha</strong>" in html and "strong evidence" in html
    assert "Wilcoxon signed-rank" in html and "by SPPL, the primary metric" in html
    assert 'href="?metric=ppl#metric"' in html and "every 2s" not in html
    assert f'type="application/json" href="/api/v1/projects/{pid}/scans/{sid}"' in html
    assert "PPL: beta" in html  # other metrics' picks, named
    data = report_data(html)
    assert data["metric"] == "sppl" and data["order"] == ["alpha", "beta", "gamma"]
    assert len(data["scatter"]["keys"]) == N and set(data["snippets"]) == set(
        data["scatter"]["keys"]
    )


def test_large_scans_ship_only_the_capped_sample(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    scan = session.get(Scan, sid)
    report = copy.deepcopy(scan.report)
    scatter = report["per_metric"]["sppl"]["distributions"]["scatter"]
    scatter.update(n_questions=5000, sampled=True)
    scan.report = report
    session.commit()
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert f"({N} of 5000 shown)" in html
    assert len(report_data(html)["scatter"]["keys"]) == N


def test_metric_tabs_and_scale_live_in_the_url(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}?metric=ifd&scale=log").json()
    assert page["metric"] == "ifd" and page["scale"] == "log"
    assert (
        client.get(f"/api/v1/projects/{pid}/scans/{sid}?metric=length").json()["scale"] == "linear"
    )
    html = client.get(f"/projects/{pid}/scans/{sid}?metric=ppl&scale=linear").text
    assert report_data(html)["scale"] == "linear" and report_data(html)["metric"] == "ppl"
    assert f'href="/api/v1/projects/{pid}/scans/{sid}?metric=ppl&amp;scale=linear"' in html
    assert client.get(f"/api/v1/projects/{pid}/scans/{sid}?metric=logprob").status_code == 422
    assert client.get(f"/api/v1/projects/{pid}/scans/{sid}?metric=bleu").status_code == 422


def test_ranking_table_marks_ties_and_flags(client, session) -> None:  # type: ignore[no-untyped-def]
    cut = {("sppl", "beta"): {0, 1}}
    pid, sid = standard(client, session, truncated=cut)
    report = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["report"]
    assert report["flags"]["ifd_above_1"] == {"alpha": 0, "beta": 0, "gamma": 13}
    assert report["flags"]["truncated"]["beta"] == 2
    assert report["per_metric"]["sppl"]["truncated"] == {"beta": 2}
    html = client.get(f"/projects/{pid}/scans/{sid}?metric=ifd").text
    assert "IFD above 1</strong> for 13 responses" in html and "13 above 1" in html
    assert "Truncated inputs" in html and "beta (2)" in html
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "2 truncated" in html


def test_weak_evidence_is_said(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    close = {
        "alpha": [2.0 + 0.1 * i for i in range(N)],
        "beta": [2.0 + 0.1 * i + (0.01 if i % 2 else -0.009) for i in range(N)],
    }
    sid = make_scan(session, project_id=pid, values={"sppl": close})
    rec = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["report"]
    assert rec["recommendation"]["evidence"] == "weak"
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "weak evidence" in html and "Cannot be told apart from it" in html
    assert "≈ top" in html


def test_unfinished_scan_still_polls(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A")})
    scan = Scan(project_id=pid, model_name="m", spec=ScanSpec(sample=3).to_dict())
    session.add(scan)
    session.flush()
    scan.job_id = create_job(
        session, kind="scan", project_id=pid, spec=ScanJobSpec(scan_id=scan.id, sample=3)
    ).id
    session.commit()
    page = client.get(f"/api/v1/projects/{pid}/scans/{scan.id}").json()
    assert page["metric"] is None and page["summary"] is None
    html = client.get(f"/projects/{pid}/scans/{scan.id}").text
    assert 'hx-trigger="every 2s"' in html and "report-data" not in html
    fragment = client.get(f"/projects/{pid}/scans/{scan.id}", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and 'id="scan-body"' in fragment
    assert client.get(f"/projects/{pid}/scans/{scan.id}/paired").status_code == 422


# --- paired view ------------------------------------------------------------------------


def test_paired_matches_a_hand_computation(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/paired?metric=sppl&a=alpha&b=gamma")
    assert r.status_code == 200, r.text
    page = r.json()
    a, b = SPPL["alpha"], SPPL["gamma"]
    wins_a = sum(x < y for x, y in zip(a, b, strict=True))
    ties = sum(x == y for x, y in zip(a, b, strict=True))
    c = page["comparison"]
    assert (c["n_pairs"], c["wins_a"], c["ties"]) == (N, wins_a, ties) == (16, 12, 1)
    assert c["win_rate_a"] == pytest.approx((wins_a + ties / 2) / N)
    assert c["mean_diff"] == pytest.approx(sum(x - y for x, y in zip(a, b, strict=True)) / N)
    assert c["diff_ci_low"] <= c["mean_diff"] <= c["diff_ci_high"]
    assert c["test"]["p_value"] is not None
    assert len(page["points"]["keys"]) == N and page["points"]["sampled"] is False
    assert page["largest_differences"][0]["diff"] == pytest.approx(-3.0)
    assert page["strategies"] == ["alpha", "beta", "gamma"]
    html = client.get(f"/projects/{pid}/scans/{sid}/paired?metric=sppl&a=alpha&b=gamma").text
    assert "78.1%" in html and "Largest differences" in html
    assert report_data(html)["points"]["a"] == a


def test_paired_defaults_and_errors(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}/paired").json()
    assert (page["metric"], page["a"], page["b"]) == ("sppl", "alpha", "beta")
    base = f"/api/v1/projects/{pid}/scans/{sid}/paired"
    assert client.get(f"{base}?a=alpha&b=alpha").status_code == 422
    r = client.get(f"{base}?a=alpha&b=nobody")
    assert r.status_code == 422 and "nobody" in r.json()["detail"]
    assert client.get(f"/api/v1/projects/{pid}/scans/999/paired").status_code == 404


def test_result_page_has_win_rate_heatmap(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    data = report_data(html)
    wr = data["win_rate"]
    assert wr["labels"] == ["alpha", "beta", "gamma"] and wr["win_rate"][0][1] == 1.0
    assert 'data-chart="winrate"' in html
    assert f"/projects/{pid}/scans/{sid}/paired?metric=sppl&amp;a=alpha&amp;b=gamma" in html


# --- escaping -----------------------------------------------------------------------------

EVIL_NAME = "</script><script>alert(1)</script>"
EVIL_TEXT = "<img src=x onerror=alert(1)> what is {i} & more?"


def _evil(client, session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    pid = upload(
        client, {EVIL_NAME: rows("A", question=EVIL_TEXT), "plain": rows("B", question=EVIL_TEXT)}
    )
    values = {"sppl": {EVIL_NAME: SPPL["alpha"], "plain": SPPL["beta"]}}
    return pid, make_scan(session, project_id=pid, values=values)


def test_user_text_stays_inert_in_pages_and_charts(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = _evil(client, session)
    qid = question_ids(session, pid)[0]
    urls = [
        f"/projects/{pid}/scans/{sid}",
        f"/projects/{pid}/scans/{sid}/paired",
        f"/projects/{pid}/scans/{sid}/questions/{qid}",
    ]
    for url in urls:
        html = client.get(url).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
        assert html.count("</script>") == html.count("<script")  # no element ended early
    data = report_data(client.get(urls[0]).text)
    assert data["order"][0] == EVIL_NAME  # the JSON still holds the exact text
    assert any(t.startswith("<img src=x") for t in data["snippets"].values())


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run charts.js")
def test_chart_tooltips_escape_user_text() -> None:
    script = """
    global.window = { addEventListener() {} };
    global.document = { addEventListener() {}, querySelectorAll() { return []; } };
    require(process.argv[1]);
    const c = window.familiarCharts;
    const evil = "</script><img src=x onerror=alert(1)>";
    const data = { label: "SPPL", scale: "log", order: [evil], colors: {}, snippets: { "7": evil },
      box: { [evil]: { n: 1, median: 2, q1: 1, q3: 3, whisker_low: 1, whisker_high: 3,
                       n_outliers: 0, outliers: [] } },
      scatter: { keys: ["7"], series: { [evil]: [2.5] } } };
    const opt = c.options.box(data);
    const tips = [c.questionTip(data, evil, 2.5, "7"),
      opt.tooltip.formatter({ seriesType: "boxplot", data: opt.series[0].data[0] }),
      opt.tooltip.formatter({ seriesType: "scatter", data: opt.series[1].data[0] })];
    console.log(JSON.stringify(tips));
    """
    out = subprocess.run(
        ["node", "-e", script, str(ROOT / "static" / "js" / "charts.js")],
        capture_output=True,
        text=True,
        check=True,
    )
    tips = json.loads(out.stdout)
    for tip in tips:
        assert "<img" not in tip and "</script>" not in tip
        assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in tip


# --- drill-down ---------------------------------------------------------------------------


def test_drill_down(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("**A**"), "beta": rows("B"), "gamma": rows("C")})
    examples = {2: ["First own answer. Final Answer: 2", "Second. Final Answer: 4"]}
    values = {"sppl": SPPL, "ppl": PPL, "ifd": IFD}
    sid = make_scan(
        session, project_id=pid, values=values, exemplars=examples, exemplar_sources={2: [3, 4]}
    )
    qids = question_ids(session, pid)
    scan = session.get(Scan, sid)
    session.add(
        OwnAnswer(
            question_id=qids[2],
            model_key=scan.model_key,
            settings_key="old",
            text="an older own answer",
            correct=None,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    session.add(
        OwnAnswer(
            question_id=qids[2],
            model_key=scan.model_key,
            settings_key="new",
            text="My own answer is 4",
            correct=True,
        )
    )
    session.commit()
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}/questions/{qids[2]}").json()
    assert [a["strategy"] for a in page["answers"]] == ["gamma", "alpha", "beta"]  # SPPL here
    gamma = page["answers"][0]["scores"]
    assert gamma["sppl"]["value"] == pytest.approx(SPPL["gamma"][2]) and gamma["sppl"]["rank"] == 1
    assert gamma["ppl"]["rank"] == 3 and gamma["ifd"]["n_ranked"] == 3
    assert page["own_answer"]["text"] == "My own answer is 4"
    assert [e["text"] for e in page["exemplars"]] == examples[2]
    # each example names the question it answers (stored as the scan's exemplar_sources)
    assert [e["question_id"] for e in page["exemplars"]] == [qids[3], qids[4]]
    assert [e["question_text"] for e in page["exemplars"]] == [
        "What is 3 plus 3?",
        "What is 4 plus 4?",
    ]
    assert (page["sample_position"], page["prev_id"], page["next_id"]) == (2, qids[1], qids[3])
    assert page["surprise"] is None
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{qids[2]}").text
    assert "What is 2 plus 2?" in html and "<strong>A</strong>" in html  # markdown rendered
    assert "My own answer is 4" in html and "Second. Final Answer: 4" in html
    assert "What is 3 plus 3?" in html and f'/projects/{pid}/questions/{qids[4]}"' in html
    assert "Per-token surprise" in html and "Compute per-token surprise" in html
    other = upload(client, {"x": rows("X")}, name="other")
    assert (
        client.get(
            f"/api/v1/projects/{pid}/scans/{sid}/questions/{question_ids(session, other)[0]}"
        ).status_code
        == 404
    )


# --- downstream accuracy ------------------------------------------------------------------


def test_accuracy_upload_percent_and_top_picks(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    csv = "strategy,accuracy,seed\nalpha,61,0\nalpha,63,1\nbeta,66,0\nbeta,64,1\ngamma,50,0\n"
    r = client.post(
        f"/api/v1/projects/{pid}/accuracies", files={"file": ("acc.csv", csv.encode(), "text/csv")}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["percent"] is True and body["n_rows"] == 5 and "percentages" in body["note"]
    stored = client.get(f"/api/v1/projects/{pid}/accuracies").json()
    assert stored[0]["strategy"] == "beta" and stored[0]["mean"] == pytest.approx(0.65)
    assert stored[0]["std"] == pytest.approx(0.0141421, rel=1e-4) and stored[0]["n_seeds"] == 2
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    picks = {t["metric"]: t for t in page["accuracy"]["top_picks"]}
    assert picks["sppl"]["picks"] == ["alpha"] and picks["sppl"]["top_pick_is_best"] is False
    assert picks["sppl"]["regret"] == pytest.approx(0.65 - 0.62)
    assert picks["ppl"]["picks"] == ["beta"] and picks["ppl"]["top_pick_is_best"] is True
    assert picks["ppl"]["regret"] == 0 and picks["ppl"]["spearman"] == pytest.approx(1.0)
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "3.0 points</strong> below the best" in html and "65.0%" in html


def test_accuracy_json_fractions_and_seed_default(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, _ = standard(client, session)
    data = json.dumps(
        [
            {"strategy": "alpha", "accuracy": 0.6},
            {"strategy": "alpha", "accuracy": 0.7},
            {"strategy": "beta", "accuracy": 0.5},
        ]
    )
    r = client.post(
        f"/api/v1/projects/{pid}/accuracies",
        files={"file": ("acc.json", data.encode(), "application/json")},
    )
    assert r.status_code == 201 and r.json()["percent"] is False
    rows_ = {r["strategy"]: r for r in client.get(f"/api/v1/projects/{pid}/accuracies").json()}
    assert [s["seed"] for s in rows_["alpha"]["seeds"]] == [0, 1]
    assert rows_["alpha"]["mean"] == pytest.approx(0.65)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("strategy,accuracy\nalpha,0.5\nnobody,0.6\n", 3, "strategy", "no strategy named"),
        ("strategy,accuracy\nalpha,0.5\nbeta,lots\n", 3, "accuracy", "must be a number"),
        ("strategy,accuracy\nalpha,0.5\nbeta,140\n", 3, "accuracy", "0 to 100"),
        ("strategy,accuracy,seed\nalpha,0.5,1\nalpha,0.6,1\n", 3, "seed", "already given"),
        ("strategy,accuracy,seed\nalpha,0.5,-2\n", 2, "seed", "whole number"),
        ("strategy,accuracy\n,0.5\n", 2, "strategy", "required"),
        (
            "strategy,accuracy\nalpha,62\nbeta,0.58\ngamma,71\n",
            3,
            "accuracy",
            "0.58 is a 0-1 share, but line 2 has 62, a 0-100 percentage",
        ),
        ("strategy,accuracy\nalpha,0.62\nbeta,58\n", 2, "accuracy", "same scale"),
    ],
)
def test_bad_accuracy_files_name_line_and_field(  # type: ignore[no-untyped-def]
    client, session, text: str, line: int, field: str, words: str
) -> None:
    pid, _ = standard(client, session)
    good = "strategy,accuracy\nalpha,0.9\n"
    client.post(f"/api/v1/projects/{pid}/accuracies", files={"file": ("ok.csv", good.encode())})
    r = client.post(
        f"/api/v1/projects/{pid}/accuracies", files={"file": ("bad.csv", text.encode())}
    )
    assert r.status_code == 422
    body = r.json()
    assert (body["filename"], body["line"], body["field"]) == ("bad.csv", line, field)
    assert words in body["detail"]
    stored = client.get(f"/api/v1/projects/{pid}/accuracies").json()  # all or nothing
    assert [(s["strategy"], s["mean"]) for s in stored] == [("alpha", 0.9)]


def test_accuracy_form_and_clear(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    html = client.get(f"/projects/{pid}/scans/{sid}").text  # a browser: now needs the token
    token = page_csrf(html)
    assert 'action="/projects/' in html and "Attach accuracies" in html
    back = f"/projects/{pid}/scans/{sid}?metric=sppl#accuracy"
    r = client.post(
        f"/projects/{pid}/accuracies",
        data={"next": back, "csrf_token": token},
        files={"file": ("a.csv", b"strategy,accuracy\nalpha,0.7\n")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == back
    assert "Clear accuracies" in client.get(back).text
    r = client.post(
        f"/projects/{pid}/accuracies/clear",
        data={"next": "//evil.example/", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}"
    client.cookies.clear()
    assert client.get(f"/api/v1/projects/{pid}/accuracies").json() == []
    client.post(
        f"/api/v1/projects/{pid}/accuracies",
        files={"file": ("a.csv", b"strategy,accuracy\nbeta,1\n")},
    )
    assert client.delete(f"/api/v1/projects/{pid}/accuracies").json() == {"deleted": 1}


# --- comparison of scans ------------------------------------------------------------------


def test_compare_scans(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, first = standard(client, session)
    swapped = {
        "sppl": {"alpha": SPPL["beta"], "beta": SPPL["alpha"], "gamma": SPPL["gamma"]},
        "ppl": PPL,
    }
    second = make_scan(
        session,
        project_id=pid,
        values=swapped,
        model_name="org/other-model",
        settings={"template": "inst"},
    )
    page = client.get(f"/api/v1/projects/{pid}/compare?scans={first},{second}").json()
    assert [s["id"] for s in page["scans"]] == [first, second]
    sppl = next(m for m in page["metrics"] if m["metric"] == "sppl")
    assert sppl["tops"] == ["alpha", "beta"]
    alpha = next(r for r in sppl["rows"] if r["strategy"] == "alpha")
    assert [c["rank"] for c in alpha["cells"]] == [1, 2] and alpha["cells"][1]["rank_change"] == 1
    ifd = next(m for m in page["metrics"] if m["metric"] == "ifd")
    assert ifd["rows"][0]["cells"][1] is None  # the second scan has no IFD
    diff = {d["setting"]: d["values"] for d in page["settings_diff"]}
    assert diff["model"] == ["org/tiny-model", "org/other-model"]
    assert diff["template"] == ["chat", "inst"] and "metrics" in diff
    assert "sample" in {d["setting"] for d in page["same_settings"]}
    assert sppl["agreement"][0] is None and sppl["agreement"][1]["n_strategies"] == 3
    assert sppl["agreement"][1]["spearman"] == pytest.approx(0.5)
    html = client.get(f"/projects/{pid}/compare?scans={first}&scans={second}").text
    assert "org/other-model" in html and "▼1" in html and "▲1" in html
    result = client.get(f"/projects/{pid}/scans/{first}").text
    assert f'action="/projects/{pid}/compare"' in result and f'value="{second}"' in result


def test_compare_needs_two_finished_scans_of_the_project(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, first = standard(client, session)
    chooser = client.get(f"/api/v1/projects/{pid}/compare").json()
    assert chooser["scans"] == [] and [s["id"] for s in chooser["available"]] == [first]
    assert client.get(f"/api/v1/projects/{pid}/compare?scans={first}").status_code == 422
    assert client.get(f"/api/v1/projects/{pid}/compare?scans={first},x").status_code == 422
    _, foreign = standard(client, session)
    assert client.get(f"/api/v1/projects/{pid}/compare?scans={first},{foreign}").status_code == 404
    html = client.get(f"/projects/{pid}/compare").text
    assert "Comparing needs two finished scans of this project; it has 1." in html
