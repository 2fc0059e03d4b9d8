"""Which selector to trust (issue 22): every selector, the per-question mix included, is one
row with its pick, regret, rank agreement and model time, and the pages say plainly when the
evidence cannot tell the selectors apart."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Job, Strategy
from app.services.selectors import Trained, evidence_note
from tests.app.test_results import PPL, SPPL, make_scan, rows, upload
from tests.app.test_validations import _finish, _set_test, _start

TIMINGS = {"scoring ppl": 10.0, "scoring sppl": 20.0, "generating": 30.0, "scoring ifd": 5.0}


def test_model_seconds_add_up_the_phases_a_metric_needs() -> None:
    assert registry.model_seconds("ppl", TIMINGS) == 10.0
    assert registry.model_seconds("sppl", TIMINGS) == 50.0  # scoring + its own answers
    assert registry.model_seconds("ifd", TIMINGS) == 15.0  # the PPL prompt and the alone one
    assert registry.model_seconds("grace", TIMINGS) is None  # its gradients were not timed
    assert registry.model_seconds("grace", {"gradients": 7.5}) == 7.5
    assert registry.model_seconds("someone's metric", TIMINGS) is None
    # half of PPL's items came from the cache: the phase's rate, over all of its items
    half = {"scoring ppl items": 48, "scoring ppl cached": 24}
    assert registry.model_seconds("ppl", TIMINGS, half) == 20.0
    # every one of IFD's alone items came from the cache: no rate in this scan, no cost
    served = {"scoring ifd items": 48, "scoring ifd cached": 48}
    assert registry.model_seconds("ifd", TIMINGS, served) is None
    assert registry.model_seconds("ppl", TIMINGS, served) == 10.0


def test_the_evidence_note_names_each_reason_and_stays_quiet_when_clear() -> None:
    clear = [Trained(f"s{i}", 0.9 - 0.1 * i, 0.85 - 0.1 * i, 0.95 - 0.1 * i) for i in range(6)]
    ranked = [{"picks": ["s0"], "spearman": 0.94, "spearman_p": 0.005}]
    assert evidence_note(clear, ranked) is None
    few = evidence_note(clear[:3], [{"picks": ["s0"], "spearman": 1.0, "spearman_p": 0.0}])
    assert few is not None and "only 3 strategies were trained" in few
    chance = evidence_note(clear, [{"picks": ["s1"], "spearman": 0.6, "spearman_p": 0.2}])
    assert chance is not None and "no selector's Spearman correlation is significant" in chance
    wide = [Trained(t.strategy, t.mean, t.mean - 0.25, t.mean + 0.25) for t in clear]
    overlap = evidence_note(wide, [{"picks": ["s2"]}, {"picks": ["s0"]}])
    assert (
        overlap is not None and "within the best strategy's 95% interval (3 strategies" in overlap
    )
    assert evidence_note([], ranked) is None


def test_the_validation_and_scan_pages_rank_every_selector_with_its_cost(
    client, session: Session
) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    sid = make_scan(session, project_id=pid, values={"sppl": SPPL, "ppl": PPL}, timings=TIMINGS)
    made = client.post(f"/api/v1/projects/{pid}/scans/{sid}/mix", json={"metric": "sppl"})
    assert made.status_code == 201, made.text
    mix = made.json()["name"]
    ids = dict(session.execute(select(Strategy.name, Strategy.id)).all())
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(4)])
    v = _start(
        client, pid, seeds=1, train_examples=4, val_examples=2, strategy_ids=list(ids.values())
    )
    T, F = True, False
    right = {"alpha": [T, T, F, F], "beta": [T, T, T, F], "gamma": [F, F, F, F], mix: [T, T, T, T]}
    _finish(session, v["id"], {(name, 0): ok for name, ok in right.items()})

    res = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()["results"]
    rows_ = {t["metric"]: t for t in res["top_picks"]}
    assert rows_["sppl"]["cost_s"] == 50.0 and rows_["ppl"]["cost_s"] == 10.0
    row = rows_[f"mix:{mix}"]
    assert row["picks"] == [mix] and row["top_pick_is_best"] and row["regret"] == 0.0
    # ranked like the recommendation: the mix, then SPPL's order alpha, beta, gamma; trained
    # mix 100%, beta 75%, alpha 50%, gamma 0%: ranks 1,2,3,4 against 1,3,2,4
    assert row["pick_accuracy"] == 1.0 and row["spearman"] == pytest.approx(0.8)
    assert row["cost_s"] == 50.0
    assert row["label"] == "Per-question SPPL mix" and row["source_scan"] == sid
    assert res["recommendation"]["cost_s"] == 50.0  # the primary metric's (SPPL) time
    note = res["evidence_note"]  # SPPL's pick alpha (50%) lies below the mix's interval
    assert note and "too thin to tell the selectors apart" in note and "95% interval" not in note
    assert "no selector's Spearman correlation is significant" in note  # 3 ranked strategies
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert "Which selector to trust?" in html and 'id="evidence-note"' in html
    assert 'class="mix-row"' in html and "0m 50s" in html

    scan = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["accuracy"]
    picks = {t["metric"]: t for t in scan["top_picks"]}
    assert picks["sppl"]["cost_s"] == 50.0 and picks[f"mix:{mix}"]["regret"] == 0.0
    reco = next(t for t in scan["top_picks"] if t.get("recommendation"))
    assert reco["cost_s"] == 50.0
    assert scan["evidence_note"] and "Spearman correlation is significant" in scan["evidence_note"]
    scan_html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "Per-question SPPL mix" in scan_html and "Model time" in scan_html

    client.cookies.clear()  # a script again (the pages gave it a session): no CSRF token
    study = client.post("/api/v1/studies", json={"name": "selectors", "project_ids": [pid]})
    assert study.status_code == 201, study.text
    page = client.get(f"/api/v1/studies/{study.json()['id']}").json()
    assert page["metrics"][:2] == ["recommendation", "per_question_mix"]
    mixed = next(r for r in page["rows"] if r["metric"] == "per_question_mix")
    assert mixed["picks"] == [[mix]] and mixed["pick_accuracy"] == pytest.approx(100.0)
    assert mixed["spearman"] == pytest.approx(0.8) and mixed["regret"] == 0.0
    assert "Per-question mix" in client.get(f"/studies/{study.json()['id']}").text


def test_a_phase_served_from_stored_values_costs_what_it_cost_when_scored(
    client, session: Session
) -> None:  # type: ignore[no-untyped-def]
    from app.services.selectors import scan_model_time

    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    values = {"sppl": SPPL, "ppl": PPL}
    counts = {"scoring ppl items": 48, "scoring ppl cached": 16, "generating items": 0}
    first = make_scan(session, project_id=pid, values=values, timings=TIMINGS, counts=counts)
    cached = {"scoring ppl items": 24, "scoring ppl cached": 24, "scoring sppl items": 24}
    again = {"scoring ppl": 0.01, "scoring sppl": 4.0, "generating": 0.0, "gradients": 9.0}
    cached |= {"generating items": 6, "generating cached": 6}
    result = {"generated": 10, "generating_s": 20.0}
    session.add(Job(kind="generate_own_answers", project_id=pid, status="done", result=result))
    session.commit()
    second = make_scan(session, project_id=pid, values=values, timings=again, counts=cached)
    time = scan_model_time(session, second)
    assert time.seconds("ppl") == 10.0 / 32 * 24  # the first scan's rate, this scan's items
    # SPPL scored here; its own answers were all stored, and no scan generated any: the
    # project's own-answers job made them (2 s an answer), so they cost 6 x 2 s
    assert time.seconds("sppl") == 4.0 + 2.0 * 6
    assert scan_model_time(session, first).seconds("ppl") == 10.0 * 48 / 32
    lone = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    alone = make_scan(session, project_id=lone, values={"ppl": PPL}, timings=again, counts=cached)
    assert scan_model_time(session, alone).seconds("ppl") is None  # nothing earlier scored it
