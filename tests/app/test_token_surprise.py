"""Per-token surprise on the drill-down: starting the job, who may, and the shaded page."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs import lifecycle
from app.jobs.lifecycle import create_job
from app.jobs.states import JobState
from app.models import Job, Scan, Strategy, TokenSurprise
from app.services.token_surprise import store_token_surprise
from tests.app.test_results import PPL, SPPL, make_scan, question_ids, rows, standard, upload
from tests.conftest import page_csrf

EVIL = "<script>alert(1)</script>"


def _url(pid: int, sid: int, qid: int, *, api: bool = True) -> str:
    return f"{'/api/v1' if api else ''}/projects/{pid}/scans/{sid}/questions/{qid}"


def _start(client, pid: int, sid: int, qid: int):  # type: ignore[no-untyped-def]
    """POST as a script (no session cookie: no CSRF token needed in single mode)."""
    client.cookies.clear()
    return client.post(f"{_url(pid, sid, qid)}/token-surprise")


def _strategy_ids(session: Session, pid: int) -> dict[str, int]:
    return dict(
        session.execute(select(Strategy.name, Strategy.id).where(Strategy.project_id == pid)).all()
    )


def _store(
    session: Session, pid: int, sid: int, qid: int, contexts: dict, dtype: str = "float32"
) -> int:
    """A finished token_surprise job, ended and saved as the worker does (fenced end, the
    worker's own store function, one transaction)."""
    job = create_job(
        session, kind="token_surprise", project_id=pid, spec={"scan_id": sid, "question_id": qid}
    )
    session.commit()
    lease = lifecycle.claim(session, job_id=job.id, owner="test-worker")
    assert lifecycle.end(session, lease, JobState.SUCCEEDED, result={}, commit=False)
    store_token_surprise(
        session,
        scan_id=sid,
        question_id=qid,
        job_id=job.id,
        contexts=contexts,
        model={"dtype": dtype},
    )
    session.commit()
    return job.id


def _tokens(*pairs: tuple[str, float]) -> dict:
    return {"tokens": [list(p) for p in pairs], "truncated": False}


def test_start_via_api_dedupes(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    qids = question_ids(session, pid)
    r = _start(client, pid, sid, qids[2])
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["kind"], job["queue"], job["status"]) == ("token_surprise", "gpu", "queued")
    assert job["spec"] == {"scan_id": sid, "question_id": qids[2]}
    again = _start(client, pid, sid, qids[2])
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    other = _start(client, pid, sid, qids[3])
    assert other.status_code == 202 and other.json()["id"] != job["id"]
    page = client.get(_url(pid, sid, qids[2])).json()
    assert page["surprise"] is None and page["surprise_job"]["id"] == job["id"]
    html = client.get(_url(pid, sid, qids[2], api=False)).text
    assert f'id="job-{job["id"]}"' in html and 'hx-trigger="job-finished from:body"' in html
    assert "Compute per-token surprise" not in html  # running: no second button

    row = session.get(Job, job["id"])
    row.status = "succeeded"
    store_token_surprise(
        session, scan_id=sid, question_id=qids[2], job_id=job["id"], contexts={}, model={}
    )
    session.commit()
    assert _start(client, pid, sid, qids[2]).status_code == 200  # computed: nothing to start
    row.status = "failed"
    surprise = session.scalar(select(TokenSurprise).where(TokenSurprise.question_id == qids[2]))
    surprise.contexts = None  # a failed job stores nothing
    session.commit()
    retry = _start(client, pid, sid, qids[2])
    assert retry.status_code == 202 and retry.json()["id"] not in (job["id"], other.json()["id"])
    n_jobs = len(session.scalars(select(Job).where(Job.kind == "token_surprise")).all())
    assert n_jobs == 3


def test_start_refuses_what_cannot_be_computed(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=17), "beta": rows("B", n=17)})
    sid = make_scan(session, project_id=pid, values={"ppl": {k: PPL[k] for k in ("alpha", "beta")}})
    qids = question_ids(session, pid)
    unscored = _start(client, pid, sid, qids[16])
    assert unscored.status_code == 422 and "not in its sample" in unscored.json()["detail"]
    assert "Not available" in client.get(_url(pid, sid, qids[16], api=False)).text
    other = upload(client, {"x": rows("X")}, name="other")
    foreign = question_ids(session, other)[0]
    assert _start(client, pid, sid, foreign).status_code == 404
    session.get(Scan, sid).finished_at = None  # results not stored yet
    session.commit()
    running = _start(client, pid, sid, qids[0])
    assert running.status_code == 422 and "has not finished" in running.json()["detail"]
    assert not session.scalars(select(Job).where(Job.kind == "token_surprise")).all()


def test_form_twin_for_htmx_and_plain_forms(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    qid = question_ids(session, pid)[1]
    page = _url(pid, sid, qid, api=False)
    csrf = page_csrf(client.get(page).text)  # a browser: the page's token
    assert "Compute per-token surprise" in client.get(page).text
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    fragment = client.post(f"{page}/token-surprise", headers=htmx)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="surprise"' in fragment.text and "every 1s" in fragment.text  # live status
    plain = client.post(
        f"{page}/token-surprise",
        data={"surprise": "ppl", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == f"{page}?surprise=ppl#surprise"
    assert len(session.scalars(select(Job).where(Job.kind == "token_surprise")).all()) == 1
    reload = client.get(page, headers={"HX-Request": "true"})  # the section reloading itself
    assert '<section class="card surprise"' in reload.text and "<html" not in reload.text


def test_page_shows_stored_surprise_escaped(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows(EVIL), "beta": rows("B")})
    examples = {2: ["Own answer. Final Answer: 4"]}
    values = {m: {k: v[k] for k in ("alpha", "beta")} for m, v in (("sppl", SPPL), ("ppl", PPL))}
    sid = make_scan(session, project_id=pid, values=values, exemplars=examples)
    qid = question_ids(session, pid)[2]
    ids = _strategy_ids(session, pid)
    alpha = _tokens(
        ("<script>", -9.5),
        ("alert(1)", -0.2),
        ("</script>", -3.7),
        (" 4", -0.01),
        ("\n", -1.5),
        ("x", -2.5),
        ("y", -6.0),
    )
    job_id = _store(
        session,
        pid,
        sid,
        qid,
        {
            "ppl": {str(ids["alpha"]): alpha, str(ids["beta"]): _tokens(("B", -1.0), (" 4", -3.0))},
            "sppl": {
                str(ids["alpha"]): alpha,
                str(ids["beta"]): _tokens(("B", -0.5), (" 4", -0.5)),
            },
        },
    )

    data = client.get(_url(pid, sid, qid)).json()
    view = data["surprise"]
    assert data["surprise_job"] is None
    assert (view["job_id"], view["context"], view["contexts"]) == (job_id, "sppl", ["ppl", "sppl"])
    beta = next(r for r in view["responses"] if r["strategy"] == "beta")
    assert beta["ppl"] == pytest.approx(math.exp(0.5)) and beta["n_tokens"] == 2
    first = next(r for r in view["responses"] if r["strategy"] == "alpha")
    assert [t["text"] for t in first["top"]] == ["<script>", "y", "</script>", "x", "\n"]
    assert [t["level"] for t in first["tokens"]] == [8, 0, 3, 0, 1, 2, 6]
    ppl = client.get(_url(pid, sid, qid) + "?surprise=ppl").json()["surprise"]
    assert ppl["context"] == "ppl" and ppl["responses"][1]["ppl"] == pytest.approx(math.exp(2.0))
    assert client.get(_url(pid, sid, qid) + "?surprise=ifd").status_code == 422

    html = client.get(_url(pid, sid, qid, api=False) + "?surprise=sppl").text
    assert "<script>alert" not in html and html.count("</script>") == html.count("<script")
    assert (
        '<span class="tok s8" title="“&lt;script&gt;” · log p = -9.500">&lt;script&gt;</span>'
        in html
    )
    assert 'title="“↵” · log p = -1.500">\n</span>' in html
    assert f'href="{_url(pid, sid, qid, api=False)}?surprise=ppl#surprise"' in html
    assert 'aria-current="true">SPPL</a>' in html and "Most surprising" in html
    assert "Compute per-token surprise" not in html  # computed: nothing to start


def test_a_value_that_differs_from_the_score_table_says_why(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The header shows the scan's stored value (the score table's); where the recomputed
    tokens average to another value, both are shown with the reason."""
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    values = {"sppl": {k: SPPL[k] for k in ("alpha", "beta")}}
    sid = make_scan(session, project_id=pid, values=values, exemplars={2: ["Own. Final Answer: 4"]})
    qid = question_ids(session, pid)[2]
    ids = _strategy_ids(session, pid)
    same = _tokens(("B", -math.log(SPPL["beta"][2])))  # agrees with the scan
    off = _tokens(("A", -math.log(SPPL["alpha"][2] * 1.006)))  # 3.186 against 3.168
    contexts = {"sppl": {str(ids["alpha"]): off, str(ids["beta"]): same}}
    _store(session, pid, sid, qid, contexts, dtype="bfloat16")
    view = client.get(_url(pid, sid, qid)).json()["surprise"]
    by = {r["strategy"]: r for r in view["responses"]}
    assert by["beta"]["note"] is None and by["beta"]["scan_value"] == pytest.approx(SPPL["beta"][2])
    assert by["alpha"]["scan_value"] == pytest.approx(SPPL["alpha"][2])
    assert "one response at a time in bfloat16" in by["alpha"]["note"]
    html = client.get(_url(pid, sid, qid, api=False)).text
    html = html[html.index('id="surprise"') :]
    alpha = html[html.index("<strong>alpha</strong>") :]
    alpha = alpha[: alpha.index("</header>")]
    assert f"SPPL {SPPL['alpha'][2]:.3f}" in alpha  # the score table's number
    assert f"these tokens give {SPPL['alpha'][2] * 1.006:.3f}" in alpha
    assert "the score table keeps the scan" in alpha


# --- who may start it ----------------------------------------------------------------------


def _owned_scan(owner, session: Session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Accounts mode: a project uploaded by the signed-in owner, with a finished scan."""
    h = {"X-CSRF-Token": owner.csrf}
    pid = owner.post("/api/v1/projects", json={"name": "shared"}, headers=h).json()["id"]
    for name, style in (("alpha", "A"), ("beta", "B")):
        files = [("files", (f"{name}.json", json.dumps(rows(style)).encode(), "application/json"))]
        r = owner.post(
            f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": name}, headers=h
        )
        assert r.status_code == 201, r.text
    sid = make_scan(session, project_id=pid, values={"ppl": {k: PPL[k] for k in ("alpha", "beta")}})
    return pid, sid, question_ids(session, pid)[0]


def _refused(reader, pid: int, sid: int, qid: int, csrf: str = "") -> None:  # type: ignore[no-untyped-def]
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    r = reader.post(f"{_url(pid, sid, qid)}/token-surprise", headers=headers)
    assert r.status_code == 401, r.text
    assert ("read-only" in r.json()["detail"]) is bool(csrf)  # a share-link viewer is told why
    form = reader.post(
        f"{_url(pid, sid, qid, api=False)}/token-surprise",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert form.status_code == 303 and form.headers["location"].startswith("/login")


def test_readers_cannot_start_it(accounts_client, anon_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, qid = _owned_scan(accounts_client, session)
    _refused(anon_client, pid, sid, qid)  # anonymous, no link
    link = accounts_client.post(
        f"/api/v1/projects/{pid}/share-links",
        json={},
        headers={"X-CSRF-Token": accounts_client.csrf},
    ).json()
    assert anon_client.get(f"/s/{link['token']}", follow_redirects=False).status_code == 303
    page = anon_client.get(_url(pid, sid, qid, api=False))
    assert page.status_code == 200 and "Compute per-token surprise" not in page.text
    assert "sign in to compute it" in page.text
    _refused(anon_client, pid, sid, qid, page_csrf(page.text))  # the share-link viewer
    assert not session.scalars(select(Job).where(Job.kind == "token_surprise")).all()

    ids = _strategy_ids(session, pid)
    _store(session, pid, sid, qid, {"ppl": {str(ids["alpha"]): _tokens(("A", -4.2))}})
    shown = anon_client.get(_url(pid, sid, qid, api=False)).text
    assert 'class="tok s4"' in shown and "Compute per-token surprise" not in shown  # can see it
    assert anon_client.get(_url(pid, sid, qid)).json()["surprise"]["context"] == "ppl"

    other_qid = question_ids(session, pid)[1]  # the signed-in owner may start it
    assert (
        "Compute per-token surprise"
        in accounts_client.get(_url(pid, sid, other_qid, api=False)).text
    )
    owner = accounts_client.post(
        f"{_url(pid, sid, other_qid)}/token-surprise",
        headers={"X-CSRF-Token": accounts_client.csrf},
    )
    assert owner.status_code == 202, owner.text
