"""Page details: breadcrumbs name the project, the scans table tells scans apart."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Scan
from app.services.jobs import create_job
from tests.app.test_results import question_ids, standard


def test_job_and_error_pages_name_the_project(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    job = create_job(session, kind="analyze", project_id=pid, spec={})
    session.commit()
    crumb = f'<a href="/projects/{pid}">results</a>'
    assert crumb in client.get(f"/jobs/{job.id}").text
    missing = client.get(f"/projects/{pid}/scans/99999")
    assert missing.status_code == 404 and crumb in missing.text
    assert "Back to results" in missing.text


def test_scans_table_shows_what_tells_scans_apart(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    html = client.get(f"/projects/{pid}").text
    table = html[html.index("<th>Scan</th>") :]
    assert "<th>Prompts</th>" in table and "SPPL examples" in table and "Seed" in table
    assert "3 from a pool of 500" in table and ">chat<" in table


def test_drill_down_of_an_unfinished_scan(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    scan = session.get(Scan, sid)
    job = create_job(session, kind="scan", project_id=pid, spec={"scan_id": sid})
    job.status, scan.job_id = "running", job.id
    scan.summary, scan.report, scan.finished_at = None, None, None
    session.commit()
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{question_ids(session, pid)[0]}").text
    assert "The scan is running: its sample is known once it finishes" in html
    assert "Not in this scan's sample" not in html


def test_win_rate_rows_keep_their_height_with_a_long_name(client, session) -> None:  # type: ignore[no-untyped-def]
    import re

    from tests.app.test_results import N, make_scan, rows, upload

    long_name = "a_strategy_with_a_rather_long_descriptive_name_v2"
    names = ("alpha", "beta", "gamma", long_name)
    pid = upload(client, {n: rows(n[0].upper()) for n in names})
    values = {"sppl": {n: [2.0 + i / 10] * N for i, n in enumerate(names)}}
    sid = make_scan(session, project_id=pid, values=values)  # type: ignore[arg-type]
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    height = int(re.search(r'data-chart="winrate"[^>]*height: (\d+)px', html).group(1))  # type: ignore[union-attr]
    column_labels = len(long_name) * 6 * 0.87  # at 60 degrees, about 6 px a character
    assert height - column_labels - 100 >= 32 * len(names)  # rows of 32 px at least


def test_settings_read_as_words_and_sppl_settings_only_with_sppl(client, session) -> None:  # type: ignore[no-untyped-def]
    from tests.app.test_results import PPL, make_scan

    pid, sid = standard(client, session)
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    details = html[html.index("How this scan was made") :]
    details = details[: details.index("</details>")]
    assert "['" not in details and ">None<" not in details and ">True<" not in details
    assert "<dt>max new tokens</dt>" in details
    assert "style examples · pool" in html  # SPPL was scanned
    ppl_only = make_scan(session, project_id=pid, values={"ppl": PPL})
    head = client.get(f"/projects/{pid}/scans/{ppl_only}").text
    assert "style examples" not in head.split("</p>")[1] and "PPL · " in head


def test_operations_in_the_docs_are_named_as_people_say_them(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    summaries = [op["summary"] for path in spec["paths"].values() for op in path.values()]
    assert "List projects" in summaries
    assert not [s for s in summaries if s.startswith("Api ")]


def crumb_labels(template: str) -> list[str]:
    """The fixed words of a template's breadcrumbs: its text between tags and the string
    literals its expressions print (``"scan " ~ id``); names users typed are not fixed."""
    import re

    block = re.search(r"{% block crumbs %}(.*?){% endblock %}", template, re.S)
    if block is None:
        return []
    crumbs = re.sub(r"{%.*?%}", "<>", block.group(1))  # tags split text like elements
    printed = re.findall(r"{{(.*?)}}", crumbs)
    literals = [lit for expr in printed for lit in re.findall(r'"([^"]*)"', expr)]
    text = re.sub(r"{{.*?}}", "", crumbs)
    words = [w.strip(" /") for w in re.findall(r">([^<]*)<", f">{text}<")]
    return [w for w in words + literals if w.strip(" /")]


def test_every_breadcrumb_label_is_capitalised() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    checked = 0
    for page in sorted(root.rglob("*.html")):
        for label in crumb_labels(page.read_text()):
            checked += 1
            assert label[0].isupper(), f"{page.relative_to(root)}: breadcrumb {label!r}"
    assert checked > 30  # the walk found the crumbs (Projects, Studies, Scan 3, ...)


def test_breadcrumbs_name_every_level(client, session) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates" / "pages"
    predictions = (root / "validations" / "predictions.html").read_text()
    assert '/validations">Validations</a> / <a href="{{ base }}">' in predictions
    for page in (root / "studies").glob("*.html"):
        assert '">studies</a>' not in page.read_text(), page.name


def test_the_test_set_forms_have_separate_labelled_fields(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, _ = standard(client, session)
    html = client.get(f"/projects/{pid}/validations").text
    assert "<legend>Upload a test set</legend>" in html
    assert "<legend>Or hold out questions of this project</legend>" in html
    assert "<label>Questions <input" in html and "<label>Seed <input" in html


def test_a_strategy_has_one_colour_on_scan_and_validation_pages(client, session) -> None:  # type: ignore[no-untyped-def]
    import json
    import re

    from tests.app.test_results import SPPL, make_scan
    from tests.app.test_validations import _set_test, _start

    pid, _ = standard(client, session)
    from app.models import Strategy

    subset = make_scan(session, project_id=pid, values={"sppl": {"gamma": SPPL["gamma"]}})
    gamma = session.scalar(select(Strategy.id).where(Strategy.name == "gamma"))
    scan = session.get(Scan, subset)
    scan.spec = {**scan.spec, "strategy_ids": [gamma]}  # a scan of gamma alone
    session.commit()
    scan_colors = client.get(f"/api/v1/projects/{pid}/scans/{subset}").json()["colors"]
    _set_test(client, pid, [("What is 9 minus 1?", "8"), ("What is 3 minus 1?", "2")])
    v = _start(client, pid, seeds=1, train_examples=5)
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    data = json.loads(
        re.search(r'id="validation-data">(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
    )
    assert scan_colors["gamma"] == data["colors"]["gamma"]  # a scan of gamma alone agrees
    assert {r["color"] for r in data["runs"]} <= set(data["colors"].values())
    assert len(set(data["colors"].values())) == 3


def test_a_question_is_numbered_as_its_address(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    qid = question_ids(session, pid)[5]
    for url in (f"/projects/{pid}/questions/{qid}", f"/projects/{pid}/scans/{sid}/questions/{qid}"):
        html = client.get(url).text
        assert f"<title>Question {qid} ·" in html, url
        assert f"question {qid}" in html.lower() and "number 6 " in html


def test_home_and_project_pages_show_the_newest_recommendation(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)  # SPPL recommends alpha
    empty = client.post("/api/v1/projects", json={"name": "nothing scanned"}).json()["id"]
    listed = {p["id"]: p for p in client.get("/api/v1/projects").json()["projects"]}
    outcome = listed[pid]["outcome"]
    assert (outcome["recommended"], outcome["scan_id"], outcome["metric"]) == ("alpha", sid, "sppl")
    assert listed[empty]["outcome"] is None
    home = client.get("/").text
    assert (
        "<strong>alpha</strong>" in home
        and f'href="/projects/{pid}/scans/{sid}">scan {sid}' in home
    )
    assert "no scan yet" in home
    assert "Latest scan: <strong>alpha</strong>" in client.get(f"/projects/{pid}").text
