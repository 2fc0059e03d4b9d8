"""After a lab sample (issue 21): each recipe version becomes a strategy of the project with
its provenance, holding its usable answers, and one scan of them starts by itself. The
recipes here are rules (no teacher call), so the whole job runs without a server."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab import recipes as lab_recipes
from app.lab import samples as lab_samples
from app.lab.promote import promote_version
from app.models import Job, LabAnswer, Response, Scan, Strategy
from app.schemas.lab import RecipeCreate
from app.specs.lab import LabSampleCreate
from tests.conftest import page_csrf
from tests.lab.project import make_lab_project, run_sample
from tests.vllm_server import free_port

STEPS_FIRST = "Steps: {{ gold | reasoning }}\n\nFinal Answer: {{ gold | final_answer }}"


def _rules(session: Session, project_id: int) -> None:
    first = lab_recipes.preset("rule_answer_first")
    lab_recipes.save_recipe(
        session, project_id=project_id, data=RecipeCreate(name="rule", **first.model_dump())
    )
    steps = RecipeCreate(name="steps", kind="rule", user_template=STEPS_FIRST)
    lab_recipes.save_recipe(session, project_id=project_id, data=steps)
    session.commit()


def _lab(session: Session):  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}/v1"
    lab = make_lab_project(session, base_url=url, model="m", price=None)
    _rules(session, lab.project_id)
    return lab


def _sample(session: Session, project_id: int, n: int = 4) -> Job:
    ask = LabSampleCreate(recipes=["rule", "steps"], n_questions=n, seed=3)
    return run_sample(session, project_id, ask)


def test_a_sample_becomes_strategies_and_their_scan_starts(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    lab = _lab(session)
    session.add(Strategy(project_id=lab.project_id, name="rule v1"))  # an upload took the name
    session.commit()
    job = _sample(session, lab.project_id)
    promoted = (job.result or {})["promoted"]
    names = [s["name"] for s in promoted["strategies"]]
    assert names == ["rule v1 (lab)", "steps v1"]
    made = session.scalars(select(Strategy).where(Strategy.origin == "lab")).all()
    for strategy in made:
        assert strategy.lab is not None and strategy.lab["kind"] == "rule"
        assert strategy.lab["answers"] == 4 and strategy.lab["cost"] == 0.0
        texts = session.scalars(select(Response.text).where(Response.strategy_id == strategy.id))
        assert len(list(texts)) == 4
    scan = session.get(Scan, promoted["scan_id"])
    assert scan is not None and sorted(scan.spec["strategy_ids"]) == sorted(s.id for s in made)
    assert scan.spec["sample"] == 4 and scan.spec["filter_correct"] is True
    assert session.get(Job, scan.job_id).status == "queued"  # type: ignore[union-attr]
    analyze = session.get(Job, promoted["analyze_job_id"])  # answer checks: known-wrong data
    assert analyze is not None and analyze.kind == "analyze" and analyze.status == "queued"
    page = client.get(f"/projects/{lab.project_id}/lab").text
    assert f'href="/projects/{lab.project_id}/scans/{scan.id}"' in page
    assert "rule v1 (lab)" in page
    project_page = client.get(f"/projects/{lab.project_id}").text
    assert "lab · steps v1 · cost 0.0000" in project_page
    story = client.get(f"/api/v1/projects/{lab.project_id}").json()["lab"]["steps"]
    assert [(s["name"], s["status"]) for s in story] == [
        ("sample", "succeeded"),
        ("scan", "queued"),
        ("pick", "waiting"),
        ("full set", "waiting"),
    ]


def test_promotion_is_idempotent_and_a_larger_sample_adds_answers(session: Session) -> None:
    lab = _lab(session)
    _sample(session, lab.project_id, n=2)
    job = _sample(session, lab.project_id, n=4)  # the same seed: the first two and two more
    assert [s["name"] for s in job.result["promoted"]["strategies"]] == ["rule v1", "steps v1"]  # type: ignore[index]
    assert session.scalar(select(func.count()).select_from(Strategy)) == 2
    for strategy in session.scalars(select(Strategy)):
        n = session.scalar(select(func.count()).where(Response.strategy_id == strategy.id))
        assert n == len(
            set(
                session.scalars(
                    select(LabAnswer.question_id).where(
                        LabAnswer.recipe_version_id == strategy.lab["recipe_version_id"]  # type: ignore[index]
                    )
                )
            )
        )
    assert session.scalar(select(func.count()).select_from(Scan)) == 2  # one per sample


def test_refused_and_empty_answers_stay_out(session: Session) -> None:
    lab = _lab(session)
    version = lab.version_ids[0]  # the teacher recipe "direct"
    for i, (text, flags) in enumerate(
        [("I'm sorry, I can't help with that.", ["refused"]), ("", ["empty"]), ("7", [])]
    ):
        session.add(
            LabAnswer(
                cache_key=f"k{i}",
                project_id=lab.project_id,
                recipe_version_id=version,
                question_id=lab.question_ids[i],
                text=text,
                flags=flags,
            )
        )
    session.commit()
    strategy = promote_version(session, project_id=lab.project_id, version_id=version)
    assert strategy is not None and strategy.name == "direct v1"
    kept = session.scalars(select(Response.question_id).where(Response.strategy_id == strategy.id))
    assert list(kept) == [lab.question_ids[2]]
    assert strategy.lab["teacher"] == "local" and strategy.lab["answers"] == 3  # type: ignore[index]


def test_the_full_set_answers_the_rest_with_the_pick_and_exports_it(  # type: ignore[no-untyped-def]
    session: Session, client
) -> None:
    lab = _lab(session)
    pid = lab.project_id
    sampled = _sample(session, pid)
    scan = session.get(Scan, sampled.result["promoted"]["scan_id"])  # type: ignore[index]
    scan.recommended = "steps v1"  # as the scan's result would say  # type: ignore[union-attr]
    session.commit()
    twin = client.get(f"/api/v1/projects/{pid}/lab").json()
    pick = twin["strategies"][0]
    assert (pick["name"], pick["pick"], pick["answers"], pick["remaining"]) == (
        "steps v1",
        True,
        4,
        len(lab.question_ids) - 4,
    )
    csrf = page_csrf(client.get(f"/projects/{pid}").text)
    form = {"strategy_id": str(pick["id"]), "csrf_token": csrf}
    est = client.post(
        f"/projects/{pid}/lab/full-set/estimate", data=form, headers={"HX-Request": "true"}
    )
    assert est.status_code == 200 and f"{len(lab.question_ids) - 4} questions" in est.text
    assert "the pick" in client.get(f"/projects/{pid}/lab").text
    started = client.post(f"/projects/{pid}/lab/full-set", data=form, follow_redirects=False)
    assert started.status_code == 303
    from workers.tasks import run_job

    job = session.scalars(select(Job).where(Job.kind == "lab_sample").order_by(Job.id.desc()))
    full = job.first()
    assert full is not None and full.spec["purpose"] == "full_set"
    run_job(full.id)
    session.expire_all()
    full = session.get(Job, full.id)
    assert full is not None and full.status == "succeeded", full.error
    assert full.result["promoted"]["scan_id"] is None  # type: ignore[index]
    assert session.scalar(select(func.count()).select_from(Scan)) == 1  # no second scan
    n = session.scalar(select(func.count()).where(Response.strategy_id == pick["id"]))
    assert n == len(lab.question_ids)
    story = client.get(f"/api/v1/projects/{pid}").json()
    steps = {step["name"]: step for step in story["lab"]["steps"]}
    assert steps["sample"]["status"] == "succeeded" and steps["pick"]["text"] == "steps v1"
    assert steps["full set"]["status"] == "succeeded" and steps["full set"]["cost"] == 0.0
    assert steps["full set"]["url"] == pick["export_url"]
    assert "Strategy lab" in client.get(f"/projects/{pid}").text
    lines = client.get(pick["export_url"]).text.strip().splitlines()
    assert len(lines) == len(lab.question_ids)
    again = client.post(f"/projects/{pid}/lab/full-set", data=form, follow_redirects=False)
    assert again.status_code == 422 and "already answers every question" in again.text
    upload = session.scalars(select(Strategy).where(Strategy.origin != "lab")).first()
    if upload is None:
        upload = Strategy(project_id=pid, name="uploaded")
        session.add(upload)
        session.commit()
    api = f"/api/v1/projects/{pid}/lab/full-set/estimate"
    refused = client.post(api, json={"strategy_id": upload.id}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 422 and "not made by the strategy lab" in refused.text


def test_the_full_set_from_the_command_line(session: Session) -> None:
    from typer.testing import CliRunner

    from app.cli import EXIT_BAD_INPUT, cli

    lab = _lab(session)
    _sample(session, lab.project_id)
    strategy = session.scalars(select(Strategy).where(Strategy.name == "rule v1")).one()
    args = ["lab", "full-set", str(lab.project_id), "--strategy", str(strategy.id)]
    runner = CliRunner()
    est = runner.invoke(cli, [*args, "--estimate"])
    assert est.exit_code == 0, est.output
    assert json.loads(est.output)["questions"] == len(lab.question_ids) - 4
    queued = runner.invoke(cli, args)
    assert queued.exit_code == 0 and f"{len(lab.question_ids) - 4} questions" in queued.output
    other = runner.invoke(cli, [*args[:3], "--strategy", "99999"])
    assert other.exit_code != 0 and "Traceback" not in other.output
    bad = runner.invoke(cli, [*args, "--budget", "-1"])
    assert bad.exit_code in (EXIT_BAD_INPUT, 2) and "Traceback" not in bad.output


def test_the_target_teacher_answers_in_the_worker_greedily_and_on_the_model_queue(
    session: Session,
) -> None:
    """The target teacher without a server is model work (gpu queue) and decodes greedily:
    a temperature above 0 is refused before the job exists; teachers behind URLs wait on
    the network queue."""
    import pytest

    from app.services.errors import BadInput

    lab = _lab(session)
    direct = lab_recipes.preset("direct", teacher="target")  # the target: no server named
    for name, temperature in (("own", 0.0), ("warm", 0.7)):
        data = RecipeCreate(name=name, **direct.model_dump() | {"temperature": temperature})
        lab_recipes.save_recipe(session, project_id=lab.project_id, data=data)
    session.commit()
    warm = LabSampleCreate(recipes=["warm", "rule"], n_questions=2)
    with pytest.raises(BadInput, match="warm v1: temperature 0.7: the target teacher without"):
        lab_samples.start_sample(session, project_id=lab.project_id, data=warm)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    own = lab_samples.start_sample(
        session, project_id=lab.project_id, data=LabSampleCreate(recipes=["own"], n_questions=2)
    )
    away = lab_samples.start_sample(
        session, project_id=lab.project_id, data=LabSampleCreate(recipes=["direct"])
    )
    session.commit()
    queues = {job.id: job.queue for job in session.scalars(select(Job))}
    assert (queues[own.id], queues[away.id]) == ("gpu", "network")
    # a teacher row without its URL (the API never writes one; another tool might):
    # refused before its job, not failed in the worker
    from app.lab import teachers as lab_teachers

    lab_teachers.get_teacher_row(session, project_id=lab.project_id, name="local").base_url = None
    with pytest.raises(BadInput, match="direct v1: the teacher has no base URL"):
        lab_samples.start_sample(
            session, project_id=lab.project_id, data=LabSampleCreate(recipes=["direct"])
        )


def test_the_scan_compares_the_recipes_with_strategies_that_answer_the_sample(
    session: Session,
    client,  # type: ignore[no-untyped-def]
) -> None:
    lab = _lab(session)
    every = Strategy(project_id=lab.project_id, name="ground_truth")
    partial = Strategy(project_id=lab.project_id, name="partial")
    session.add_all([every, partial])
    session.flush()
    for qid in lab.question_ids:
        session.add(Response(strategy_id=every.id, question_id=qid, text="7"))
    session.add(Response(strategy_id=partial.id, question_id=lab.question_ids[0], text="7"))
    session.commit()
    job = _sample(session, lab.project_id)
    scan = session.get(Scan, job.result["promoted"]["scan_id"])  # type: ignore[index]
    lab_ids = [s["id"] for s in job.result["promoted"]["strategies"]]  # type: ignore[index]
    assert scan is not None and sorted(scan.spec["strategy_ids"]) == sorted([*lab_ids, every.id])
    scan.recommended = "ground_truth"
    session.commit()
    steps = client.get(f"/api/v1/projects/{lab.project_id}").json()["lab"]["steps"]
    assert steps[1]["text"] == f"scan {scan.id} of 3 strategies (2 from the lab)"
    assert steps[2]["text"] == "ground_truth, not made by the lab: nothing to generate"
    assert steps[2]["status"] == "chosen"  # a pick was made; it was "none"
    assert (steps[3]["status"], steps[3]["text"]) == ("none", "not needed")
    lab_html = client.get(f"/projects/{lab.project_id}/lab").text
    assert "The newest sample's pick:</strong> ground_truth, not made by the lab" in lab_html
    assert "A full set is not needed" in lab_html


def test_sample_strategies_stay_out_of_the_shared_questions_until_their_full_set(
    session: Session,
    client,  # type: ignore[no-untyped-def]
) -> None:
    """A lab sample of 2 questions must not cut the project's shared questions (and every
    later scan) to 2: the sample's strategies are marked, left out of the overlap and of a
    new scan's default strategies; with its full set a strategy counts again."""
    from app.services.scans import selected_strategies

    lab = _lab(session)
    for name in ("ground_truth", "teacher_a"):
        row = Strategy(project_id=lab.project_id, name=name)
        session.add(row)
        session.flush()
        for qid in lab.question_ids:
            session.add(Response(strategy_id=row.id, question_id=qid, text="7"))
    session.commit()
    job = _sample(session, lab.project_id, n=2)
    lab_ids = {s["id"] for s in job.result["promoted"]["strategies"]}  # type: ignore[index]
    page = client.get(f"/api/v1/projects/{lab.project_id}").json()
    n = len(lab.question_ids)
    assert (page["n_shared"], page["n_questions"], page["coverage_warning"]) == (n, n, None)
    marked = {s["id"] for s in page["strategies"] if s["sample_only"]}
    assert marked == lab_ids
    html = client.get(f"/projects/{lab.project_id}").text
    assert "lab sample</a>" in html and "lacks" not in html
    default = selected_strategies(session, project_id=lab.project_id, ids=None)
    assert {s.name for s in default} == {"ground_truth", "teacher_a"}
    # the full set of one recipe (rules: no teacher) makes it an ordinary strategy
    from app.lab.full_set import start_full_set
    from app.specs.lab import LabFullSetCreate
    from workers.tasks import run_job

    rule = next(s for s in job.result["promoted"]["strategies"] if s["name"] == "rule v1")  # type: ignore[index]
    full = start_full_set(
        session, project_id=lab.project_id, data=LabFullSetCreate(strategy_id=rule["id"])
    )
    session.commit()
    run_job(full.id)
    page = client.get(f"/api/v1/projects/{lab.project_id}").json()
    assert {s["id"] for s in page["strategies"] if s["sample_only"]} == lab_ids - {rule["id"]}
    assert page["n_shared"] == n
    default = selected_strategies(session, project_id=lab.project_id, ids=None)
    assert {s.name for s in default} == {"ground_truth", "teacher_a", "rule v1"}


def test_a_validation_follows_the_full_scan_not_the_lab_samples(session: Session) -> None:
    """After a lab sample's scan (a few questions, recipes with a few answers each), a
    validation's default scan is still the newest scan of full strategies, and its quick
    top 3 never names a sample-only recipe (too few answers to train on)."""
    from datetime import UTC, datetime

    from app.models import ScanAggregate
    from app.services.validations.start import latest_finished_scan, quick_top3

    lab = _lab(session)
    full = []
    for name in ("ground_truth", "teacher_a", "teacher_b", "teacher_c"):
        row = Strategy(project_id=lab.project_id, name=name)
        session.add(row)
        session.flush()
        full.append(row.id)
        for qid in lab.question_ids:
            session.add(Response(strategy_id=row.id, question_id=qid, text="7"))
    first = Scan(project_id=lab.project_id, model_name="m", spec={"strategy_ids": full})
    session.add(first)
    session.commit()
    job = _sample(session, lab.project_id, n=2)
    lab_ids = [s["id"] for s in job.result["promoted"]["strategies"]]  # type: ignore[index]
    sample_scan = session.get(Scan, job.result["promoted"]["scan_id"])  # type: ignore[index]
    now = datetime.now(UTC)
    for scan, ranked in ((first, full[::-1]), (sample_scan, [*lab_ids, *full])):
        scan.finished_at = now
        for rank, sid in enumerate(ranked, start=1):
            session.add(ScanAggregate(scan_id=scan.id, strategy_id=sid, metric="sppl", rank=rank))
    session.commit()
    assert sample_scan.id > first.id  # the lab's scan is the newest
    assert latest_finished_scan(session, project_id=lab.project_id).id == first.id
    top = quick_top3(session, project_id=lab.project_id, scan=sample_scan)
    assert not set(top) & set(lab_ids) and top[:3] == full[:3]
