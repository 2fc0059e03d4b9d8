"""Study pages and their JSON twins, exports, forms and share links, on SQLite and Postgres.

Projects are stored through the app's own paths: uploads and accuracy files through the API,
scans through the worker's save (tests/app/test_results.make_scan).
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from app.security.accounts import create_api_token, create_user
from tests.app.test_results import make_scan
from tests.conftest import page_csrf

EVIL = '<script>alert("x")</script> & =HYPERLINK("bad")'


def _rows(style: str, n: int = 4) -> list[dict[str, str]]:
    return [
        {
            "question": f"What is {i} plus {i}?",
            "answer": f"{style} {2 * i}",
            "gold_label": str(2 * i),
        }
        for i in range(n)
    ]


def _project(
    client,
    session,
    name: str,
    ppl: dict[str, float],
    acc: str,  # type: ignore[no-untyped-def]
    headers: dict[str, str] | None = None,
) -> int:
    """A project with one strategy per key of ``ppl``, a PPL scan whose per-strategy mean is
    the given value, and the accuracy file ``acc`` (CSV)."""
    h = headers or {}
    pid = client.post("/api/v1/projects", json={"name": name}, headers=h).json()["id"]
    for strategy in ppl:
        files = [("files", ("s.json", json.dumps(_rows(strategy)).encode(), "application/json"))]
        r = client.post(
            f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": strategy}, headers=h
        )
        assert r.status_code == 201, r.text
    make_scan(session, project_id=pid, values={"ppl": {s: [v] * 4 for s, v in ppl.items()}})
    r = client.post(
        f"/api/v1/projects/{pid}/accuracies",
        files={"file": ("acc.csv", acc.encode(), "text/csv")},
        headers=h,
    )
    assert r.status_code == 201, r.text
    return pid


def _study(client, session, headers: dict[str, str] | None = None) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """P1: PPL ties a and c; b's second seed never ran. P2: flat. P3: one strategy."""
    p1 = _project(
        client,
        session,
        "P1",
        {"a": 2.0, "b": 3.0, "c": 2.0},
        "strategy,accuracy,seed\na,0.60,0\na,0.62,1\nb,0.50,0\nc,0.57,0\n",
        headers,
    )
    p2 = _project(
        client,
        session,
        "P2 flat",
        {"a": 1.0, "b": 2.0},
        "strategy,accuracy\na,0.4\nb,0.4\n",
        headers,
    )
    p3 = _project(client, session, EVIL, {"a": 1.0, "b": 2.0}, "strategy,accuracy\na,70\n", headers)
    body = {"name": f"Study {EVIL}", "project_ids": [p1, p2, p3], "thresholds": [4, 2]}
    r = client.post("/api/v1/studies", json=body, headers=headers or {})
    assert r.status_code == 201, r.text
    assert r.json()["thresholds"] == [2.0, 4.0] and r.json()["project_ids"] == [p1, p2, p3]
    return r.json()["id"], [p1, p2, p3]


def test_study_json_twin_numbers(client, session) -> None:  # type: ignore[no-untyped-def]
    sid, (p1, p2, p3) = _study(client, session)
    page = client.get(f"/api/v1/studies/{sid}").json()
    # the scan's recommendation (issue 23) is a selector of its own, first
    assert page["metrics"] == ["recommendation", "ppl"]
    assert page["primary_correlation"] == "spearman"
    assert page["sources"] == {"recommendation": "scan", "ppl": "scan"}
    summary = next(s for s in page["summary"] if s["metric"] == "ppl")
    everything, above2, above4 = summary["subsets"]
    assert everything["n_projects"] == 2  # P3 has one strategy with an accuracy
    assert summary["one_strategy"] == [EVIL]
    assert everything["pick_accuracy"] == pytest.approx((59 + 40) / 2)  # a=61, c=57 tie
    assert everything["oracle"] == pytest.approx((61 + 40) / 2)
    assert everything["random"] == pytest.approx(((61 + 50 + 57) / 3 + 40) / 2)
    assert everything["n_correlated"] == 1  # the flat project has no correlation
    assert everything["spearman"] == pytest.approx(1.5 / math.sqrt(3))
    assert everything["weighted_spearman"] == pytest.approx(1.5 / math.sqrt(3))
    assert above2["threshold"] == 2 and above2["n_projects"] == 1
    assert above4["n_projects"] == 1  # P1's spread is sqrt(31) = 5.57
    rows = {r["project_id"]: r for r in page["rows"] if r["metric"] == "ppl"}
    assert rows[p1]["picks"] == [["a", "c"]] and rows[p1]["spread"] == pytest.approx(31**0.5)
    assert rows[p2]["spearman"] is None and rows[p3]["status"] == "one_strategy"
    info = {p["id"]: p for p in page["projects"]}
    assert info[p1]["n_seeds"] == {"a": 2, "b": 1, "c": 1}
    assert info[p1]["sources"]["ppl"].startswith("scan: scan ")
    assert [r["name"] for r in page["rules"]][:2] == ["Accuracy scale", "Seeds"]
    # thresholds from the URL override the study's, the page shows them too
    more = client.get(f"/api/v1/studies/{sid}?thresholds=6").json()
    assert [s["threshold"] for s in more["summary"][0]["subsets"]] == [None, 6.0]
    assert client.get(f"/api/v1/studies/{sid}?thresholds=lots").status_code == 422


def test_study_page_escapes_and_shows_rules(client, session) -> None:  # type: ignore[no-untyped-def]
    sid, _ = _study(client, session)
    r = client.get(f"/studies/{sid}")
    assert r.status_code == 200
    html = r.text
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert f'href="/api/v1/studies/{sid}"' in html  # the JSON twin is advertised
    assert (
        "Spearman" in html
        and "Ties in a pick" in html
        and "Projects whose spread is above 2.0" in html
    )
    data = html.split('<script type="application/json" id="study-data">')[1].split("</script>")[0]
    chart = json.loads(data)
    assert dict(zip(chart["metrics"], chart["pick"], strict=True))["ppl"] == pytest.approx(49.5)
    listing = client.get("/studies").text
    assert "&lt;script&gt;" in listing and "<script>alert" not in listing
    assert client.get("/api/v1/studies").json()["studies"][0]["id"] == sid
    assert client.get("/studies/999").status_code == 404
    assert client.get("/api/v1/studies/999").status_code == 404


def test_exports(client, session) -> None:  # type: ignore[no-untyped-def]
    sid, (p1, _, _) = _study(client, session)
    r = client.get(f"/api/v1/studies/{sid}/summary.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and '"' not in r.headers[
        "content-disposition"
    ].split("filename=")[1].strip('"')
    summary = [r for r in csv.DictReader(io.StringIO(r.text)) if r["metric"] == "ppl"]
    assert [row["threshold"] for row in summary] == ["", "2.0", "4.0"]
    assert float(summary[0]["pick_accuracy"]) == pytest.approx(49.5)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/studies/{sid}/projects.csv").text)))
    by = {row["project_id"]: row for row in rows if row["metric"] == "ppl"}
    assert by[str(p1)]["picks"] == "a | c"
    one = [row["project"] for row in rows if row["status"] == "one_strategy"]
    assert one == [EVIL, EVIL]  # for the recommendation and for PPL
    whole = client.get(f"/api/v1/studies/{sid}/study.json").json()
    assert whole == client.get(f"/api/v1/studies/{sid}").json() | {"compute_s": whole["compute_s"]}


def test_formula_cells_are_defused(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(
        client, session, "=cmd()", {"a": 1.0, "b": 2.0}, "strategy,accuracy\na,0.5\nb,0.6\n"
    )
    sid = client.post("/api/v1/studies", json={"name": "s", "project_ids": [pid]}).json()["id"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/studies/{sid}/projects.csv").text)))
    assert rows[0]["project"] == "'=cmd()"


def test_forms_create_edit_delete(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, session, "P1", {"a": 1.0, "b": 2.0}, "strategy,accuracy\na,0.5\nb,0.6\n")
    token = page_csrf(client.get("/studies/new").text)
    form = client.get("/api/v1/studies/new").json()
    assert form["projects"][0] == {
        "id": pid,
        "name": "P1",
        "target_model": form["projects"][0]["target_model"],
        "n_with_accuracy": 2,
        "metrics": ["ppl", "recommendation"],
        "selected": False,
    }
    bad = client.post(
        "/studies",
        data={"name": "x", "thresholds": "two", "project_ids": [pid], "csrf_token": token},
    )
    assert bad.status_code == 422 and "thresholds must be numbers" in bad.text
    r = client.post(
        "/studies",
        data={"name": "Mine", "thresholds": "3", "project_ids": [pid], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    assert client.get(f"/api/v1/studies/{sid}").json()["thresholds"] == [3.0]
    edit = client.get(f"/api/v1/studies/{sid}/edit").json()
    assert edit["study"]["name"] == "Mine" and edit["projects"][0]["selected"] is True
    assert "checked" in client.get(f"/studies/{sid}/edit").text
    data = {"name": "Renamed", "thresholds": "", "csrf_token": token}
    r = client.post(f"/studies/{sid}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303
    study = client.get(f"/api/v1/studies/{sid}").json()
    assert study["study"]["name"] == "Renamed" and study["study"]["project_ids"] == []
    assert study["summary"] == [] and study["thresholds"] == []
    assert "No metric to compare yet" in client.get(f"/studies/{sid}").text
    client.cookies.clear()  # a script (no session cookie) needs no CSRF token
    assert client.patch(f"/api/v1/studies/{sid}", json={"project_ids": [999]}).status_code == 422
    assert client.patch(f"/api/v1/studies/{sid}", json={"thresholds": [200]}).status_code == 422
    token = page_csrf(client.get("/studies").text)
    r = client.post(f"/studies/{sid}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and client.get(f"/api/v1/studies/{sid}").status_code == 404
    assert client.get(f"/api/v1/projects/{pid}").status_code == 200  # projects stay


def test_deleting_a_project_leaves_the_study(client, session) -> None:  # type: ignore[no-untyped-def]
    sid, (p1, p2, p3) = _study(client, session)
    assert client.delete(f"/api/v1/projects/{p2}").status_code in (200, 204)
    assert client.get(f"/api/v1/studies/{sid}").json()["study"]["project_ids"] == [p1, p3]


# --- share links (accounts mode) ----------------------------------------------------------


def test_study_share_link_opens_the_study_only(accounts_client, anon_client, session) -> None:  # type: ignore[no-untyped-def]
    owner = accounts_client
    h = {"X-CSRF-Token": owner.csrf}
    sid, (p1, _, _) = _study(owner, session, headers=h)
    assert anon_client.get(f"/api/v1/studies/{sid}").status_code == 401
    r = owner.post(f"/api/v1/studies/{sid}/share-links", json={"label": "for Bob"}, headers=h)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["study_id"] == sid and link["project_id"] is None
    assert link["path"] == f"/studies/{sid}"
    opened = anon_client.get(f"/s/{link['token']}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/studies/{sid}"
    page = anon_client.get(f"/studies/{sid}")
    assert page.status_code == 200 and "read only" in page.text and "Edit…" not in page.text
    assert anon_client.get(f"/api/v1/studies/{sid}").status_code == 200
    assert anon_client.get(f"/api/v1/studies/{sid}/summary.csv").status_code == 200
    # the study's link opens neither its projects, nor its management, nor other studies
    assert anon_client.get(f"/projects/{p1}", follow_redirects=False).status_code == 303
    assert anon_client.get(f"/api/v1/projects/{p1}").status_code == 401
    assert anon_client.get(f"/api/v1/studies/{sid}/share-links").status_code == 401
    assert anon_client.get("/api/v1/studies").status_code == 401
    other = owner.post("/api/v1/studies", json={"name": "other"}, headers=h).json()["id"]
    assert anon_client.get(f"/api/v1/studies/{other}").status_code == 401
    patch = anon_client.patch(f"/api/v1/studies/{sid}", json={"name": "x"})
    assert patch.status_code in (401, 403)
    listed = owner.get(f"/api/v1/studies/{sid}/share-links").json()["links"]
    assert [x["id"] for x in listed] == [link["id"]] and listed[0]["last_opened_at"]
    gone = owner.delete(f"/api/v1/studies/{sid}/share-links/{link['id']}", headers=h)
    assert gone.status_code == 200 and gone.json()["status"] == "revoked"
    assert anon_client.get(f"/api/v1/studies/{sid}").status_code == 403
    assert owner.get(f"/studies/{sid}/share").status_code == 200


def test_study_link_reads_the_page_and_exports_only(accounts_client, anon_client, session) -> None:  # type: ignore[no-untyped-def]
    """A study link holder once saw every project of the deployment on the study's edit
    form (names, models, metrics); members listed the study's links (issue 18, 2 and 3)."""
    owner = accounts_client
    h = {"X-CSRF-Token": owner.csrf}
    sid, projects = _study(owner, session, headers=h)
    link = owner.post(f"/api/v1/studies/{sid}/share-links", json={}, headers=h).json()
    anon_client.get(f"/s/{link['token']}", follow_redirects=False)
    for url in (f"/api/v1/studies/{sid}/edit", f"/api/v1/studies/{sid}/share-links"):
        assert anon_client.get(url).status_code == 401, url
    for url in (f"/studies/{sid}/edit", f"/studies/{sid}/share"):
        r = anon_client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url
    for export in ("study.json", "summary.csv", "projects.csv"):
        assert anon_client.get(f"/api/v1/studies/{sid}/{export}").status_code == 200, export
    # a member of every project (a viewer), with a session or a token: reads the study,
    # neither its edit form nor its links
    create_user(session, username="vic", password="vic password!")
    session.commit()
    for pid in projects:
        add = owner.post(f"/api/v1/projects/{pid}/members", json={"username": "vic"}, headers=h)
        assert add.status_code == 201
    token = create_api_token(session, username="vic")
    session.commit()
    vic = {"Authorization": f"Bearer {token}"}
    assert anon_client.get(f"/api/v1/studies/{sid}", headers=vic).status_code == 200
    for url in (f"/api/v1/studies/{sid}/share-links", f"/api/v1/studies/{sid}/edit"):
        r = anon_client.get(url, headers=vic)
        assert r.status_code == 403 and "creator" in r.json()["detail"], url


def test_a_subset_with_the_same_projects_is_not_a_second_copy(client, session) -> None:  # type: ignore[no-untyped-def]
    sid, _ = _study(client, session)  # above 2 and above 4 points: the same project (P1)
    html = client.get(f"/studies/{sid}").text
    summary = html[html.index('<section class="card study-summary">') :]
    summary = summary[: summary.index("</section>")]
    assert summary.count('<table class="table study-table">') == 2
    assert "The same projects as above" in summary and "above 4.0 points" in summary
