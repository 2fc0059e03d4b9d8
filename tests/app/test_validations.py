"""Validation in the web app: test sets (leakage), the spec's errors before heavy work, the
jobs a validation queues, what the workers' saves write (halving, accuracies for the
existing sections), and the pages with their JSON twins."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Accuracy, Evaluation, Job, TestQuestion, Validation, ValidationRun
from app.services.validations.record import record_evaluation, record_train_result, write_points
from tests.app.test_results import IFD, PPL, SPPL, make_scan, rows, upload
from tests.paths import ROOT

GSM8K = ROOT.parent / "shared" / "data" / "sppl-gsm8k" / "test_filtered.json"
N = 8  # rows() default in tests.app.test_results


def _project(client, n: int = 40, names: tuple[str, ...] = ("alpha", "beta", "gamma")) -> int:  # type: ignore[no-untyped-def]
    return upload(client, {s: rows(s[0].upper(), n=n) for s in names})


def _test_file(items: list[tuple[str, str]]) -> tuple[str, bytes, str]:
    data = json.dumps([{"question": q, "gold_label": g} for q, g in items]).encode()
    return ("test.json", data, "application/json")


def _set_test(client, pid: int, items: list[tuple[str, str]]) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/projects/{pid}/test-set", files={"file": _test_file(items)})
    assert r.status_code == 201, r.text
    return r.json()


def _start(client, pid: int, **spec) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/projects/{pid}/validations", json=spec)
    assert r.status_code == 201, r.text
    return r.json()


def test_gsm8k_test_file_is_read_with_its_gold(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client)
    data = GSM8K.read_bytes()
    r = client.post(
        f"/api/v1/projects/{pid}/test-set",
        files={"file": ("test_filtered.json", data, "application/json")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["n_questions"] == len(json.loads(data)) == 1319
    assert body["sample"][0]["gold"] == "18.0" and "Janet" in body["sample"][0]["question"]
    assert body["n_overlapping_training"] == 0
    # 14 golds of the file are cut at a thousands comma ("2.0" for "2,125"); read in full
    golds = session.scalars(select(TestQuestion.gold).order_by(TestQuestion.position)).all()
    finals = [r["answer"].rsplit("Final Answer:", 1)[1] for r in json.loads(data)]
    grouped = [i for i, f in enumerate(finals) if "," in f]
    assert len(grouped) >= 14
    for i in grouped:
        assert float(golds[i]) == float(finals[i].replace(",", "").strip(" $.")), i


def test_a_test_set_without_gold_is_refused(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client)
    no_gold = json.dumps([{"question": "What is 1 plus 1?", "answer": "2"}]).encode()
    r = client.post(f"/api/v1/projects/{pid}/test-set", files={"file": ("t.json", no_gold)})
    assert r.status_code == 422
    assert r.json()["filename"] == "t.json" and "gold" in r.json()["detail"]
    one_missing = json.dumps([{"question": "a?", "gold": "1"}, {"question": "b?", "gold": ""}])
    r = client.post(
        f"/api/v1/projects/{pid}/test-set", files={"file": ("t.json", one_missing.encode())}
    )
    assert r.status_code == 422 and r.json()["line"] is not None and r.json()["field"] == "gold"
    assert session.scalar(select(TestQuestion.id)) is None  # nothing half-written


def test_test_questions_among_training_questions_are_excluded(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=40)
    # 5 of the project's questions (with other spacing/case: the same question key) + 10 new
    leaked = [(f"what is {i} plus  {i}?", str(2 * i)) for i in range(5)]
    fresh = [(f"What is {i} times {i}?", str(i * i)) for i in range(10)]
    body = _set_test(client, pid, leaked + fresh)
    assert body["n_overlapping_training"] == 5
    v = _start(client, pid, seeds=1, train_examples=20, val_examples=5)
    validation = session.get(Validation, v["id"])
    assert validation is not None
    summary = validation.summary
    assert summary["n_excluded_test_overlap"] == 5
    texts = dict(session.execute(select(TestQuestion.text_key, TestQuestion.id)).all())
    from app.models import Question

    train_keys = set(
        session.scalars(
            select(Question.text_key).where(
                Question.id.in_(summary["train_question_ids"] + summary["val_question_ids"])
            )
        )
    )
    assert not (train_keys & set(texts)), "a test question leaked into training"
    assert len(summary["train_question_ids"]) == 20 and len(summary["val_question_ids"]) == 5
    page = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert "<strong>5</strong> shared questions are test questions too" in page
    index = client.get(f"/projects/{pid}/validations").text
    assert "<strong>5</strong> of the project's questions are also test questions" in index


def test_hold_out_records_its_seed_and_is_never_trained_on(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=30)
    r = client.post(f"/api/v1/projects/{pid}/test-set/holdout", json={"n": 10, "seed": 7})
    assert r.status_code == 201 and r.json()["seed"] == 7
    assert r.json()["n_overlapping_training"] == 10
    v = _start(client, pid, seeds=1)
    summary = session.get(Validation, v["id"]).summary  # type: ignore[union-attr]
    held = set(session.scalars(select(TestQuestion.question_id)))
    assert len(summary["train_question_ids"]) + len(summary["val_question_ids"]) == 20
    assert not held & set(summary["train_question_ids"] + summary["val_question_ids"])
    again = client.post(f"/api/v1/projects/{pid}/test-set/holdout", json={"n": 10, "seed": 7})
    first = sorted(held)
    assert again.status_code == 201
    assert first == sorted(
        session.scalars(
            select(TestQuestion.question_id).where(TestQuestion.test_set_id == again.json()["id"])
        )
    )  # same seed, same draw


def test_bad_input_is_refused_before_any_job(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=30), "beta": rows("B", n=12)})
    url = f"/api/v1/projects/{pid}/validations"
    assert "no test set" in client.post(url, json={}).json()["detail"]
    _set_test(client, pid, [("What is 9 minus 1?", "8")])
    r = client.post(url, json={"train_examples": 20})
    assert r.status_code == 422
    assert "'beta' has 12" in r.json()["detail"] and "20" in r.json()["detail"]
    for bad, field in (
        ({"train": {"lora_r": 0}}, "lora_r"),
        ({"train": {"learning_rate": 1.0}}, "learning_rate"),
        ({"seeds": 0}, "seeds"),
        ({"extractor": "last_numbr"}, "last_number"),
    ):
        r = client.post(url, json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert field in json.dumps(r.json()), (bad, r.json())
    r = client.post(f"/projects/{pid}/validations", data={"lora_r": "0"})
    assert r.status_code == 422 and "lora_r" in r.text
    assert session.scalar(select(Job.id).where(Job.kind.like("validation%"))) is None
    assert session.scalar(select(Validation.id)) is None


def test_start_queues_one_training_job_per_strategy_and_seed(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=20)
    _set_test(client, pid, [("What is 9 minus 1?", "8"), ("What is 3 minus 1?", "2")])
    v = _start(client, pid, seeds=2, train_examples=10, train={"lora_r": 4})
    assert v["spec"]["train"]["lora_r"] == 4 and v["spec"]["extractor"] == "last_number"
    jobs = session.scalars(select(Job).order_by(Job.id)).all()
    train = [j for j in jobs if j.kind == "validation_train"]
    assert len(train) == 6 and {j.queue for j in train} == {"gpu"}
    assert len([j for j in jobs if j.kind == "validation_eval"]) == 1  # the untuned target
    runs = session.scalars(select(ValidationRun)).all()
    assert sorted((r.strategy_id, r.seed) for r in runs) == sorted(
        (s, seed) for s in {r.strategy_id for r in runs} for seed in (0, 1)
    )


def _finish(session: Session, vid: int, accuracies: dict[tuple[str, int], list[bool]]) -> None:
    """What the workers' saves write when every run trained and was evaluated."""
    from app.models import Strategy

    names = dict(session.execute(select(Strategy.id, Strategy.name)).all())
    test_ids = session.get(Validation, vid).summary["test_question_ids"]  # type: ignore[union-attr]
    base = session.scalar(select(Evaluation).where(Evaluation.run_id.is_(None)))
    record_evaluation(
        session,
        evaluation_id=base.id,
        accuracy=0.25,
        seconds=1.0,  # type: ignore[union-attr]
        tokens_per_s=10.0,
        extractor="last_number",
        predictions=[_pred(q, i % 4 == 0) for i, q in enumerate(test_ids)],
    )
    for run in session.scalars(select(ValidationRun).order_by(ValidationRun.id)).all():
        write_points(
            session,
            run_id=run.id,
            steps=[
                {"step": 1, "loss": 2.0, "tokens_per_s": 5.0},
                {"step": 2, "loss": 1.5, "tokens_per_s": 5.0},
            ],
            checkpoints=[{"step": 2, "val_loss": 1.4, "val_accuracy": 0.5}],
        )
        record_train_result(
            session,
            run_id=run.id,
            result={
                "finished": True,
                "steps": 2,
                "total_steps": 2,
                "best_step": 2,
                "best_val_accuracy": 0.5,
                "best_val_loss": 1.4,
                "adapter_dir": None,
            },
        )
        ev = session.scalar(select(Evaluation).where(Evaluation.run_id == run.id))
        right = accuracies[(names[run.strategy_id], run.seed)]
        record_evaluation(
            session,
            evaluation_id=ev.id,
            accuracy=sum(right) / len(right),  # type: ignore[union-attr]
            seconds=1.0,
            tokens_per_s=10.0,
            extractor="last_number",
            predictions=[_pred(q, ok) for q, ok in zip(test_ids, right, strict=True)],
        )
    session.commit()


def _pred(qid: int, ok: bool) -> dict:
    return {
        "test_question_id": qid,
        "output": "so <b>42</b>" if ok else "no idea",
        "extracted": "42" if ok else None,
        "gold": "42",
        "correct": ok,
        "new_tokens": 3,
    }


def _validated(client, session: Session, right: dict[str, list[bool]], **scan):  # type: ignore[no-untyped-def]
    """alpha, beta, gamma scanned (``scan``: make_scan's arguments), then validated with one
    seed on 4 test questions, each strategy right where ``right`` says."""
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    sid = make_scan(session, project_id=pid, **scan)
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(4)])
    v = _start(client, pid, seeds=1, train_examples=4, val_examples=2)
    _finish(session, v["id"], {(name, 0): ok for name, ok in right.items()})
    return pid, sid, v


def test_results_fill_the_accuracy_sections_and_pages(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    T, F = True, False
    right = {"alpha": [T, T, T, F], "beta": [T, F, F, F], "gamma": [F, F, F, F]}
    pid, sid, v = _validated(client, session, right, values={"sppl": SPPL, "ppl": PPL, "ifd": IFD})
    page = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()
    assert page["validation"]["status"] == "done" and page["validation"]["scan_id"] == sid
    res = page["results"]
    assert [a["strategy"] for a in res["accuracies"]] == ["alpha", "beta", "gamma"]
    assert res["accuracies"][0]["mean"] == 0.75 and res["base_accuracy"] == 0.25
    assert res["paired"]["a"] == "alpha" and res["paired"]["a_only"] == 2
    assert res["paired"]["p_value"] == 0.5  # exact McNemar: 2 discordant, both one way
    sppl = next(t for t in res["top_picks"] if t["metric"] == "sppl")
    assert sppl["best_trained"] == ["alpha"] and sppl["regret"] is not None
    assert page["runs"][0]["curve"][1]["loss"] == 1.5
    # written where the project's accuracy and agreement sections read them
    accs = session.scalars(select(Accuracy)).all()
    assert len(accs) == 3 and {a.validation_id for a in accs} == {v["id"]}
    scan_page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    assert scan_page["accuracy"]["rows"][0]["strategy"] == "alpha"
    assert scan_page["accuracy"]["rows"][0]["seeds"][0]["validation_id"] == v["id"]
    scan_html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert f'measured by <a href="/projects/{pid}/validations/{v["id"]}">' in scan_html
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert "trained best" in html and 'id="validation-data"' in html
    ev = page["evaluations"][1]["id"]
    preds = client.get(f"/projects/{pid}/validations/{v['id']}/evaluations/{ev}").text
    assert "so &lt;b&gt;42&lt;/b&gt;" in preds and "<b>42</b>" not in preds  # escaped
    twin = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}/evaluations/{ev}").json()
    assert twin["rows"][0]["extracted"] == "42" and twin["rows"][0]["extractor"] == "last_number"
    rescored = client.get(
        f"/api/v1/projects/{pid}/validations/{v['id']}/evaluations/{ev}",
        params={"extractor": "exact_match"},
    ).json()
    assert rescored["rescored"] and rescored["extractor"] == "exact_match"
    assert rescored["accuracy"] == 0.0  # "so <b>42</b>" is not exactly "42"
    jl = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}/predictions.jsonl").text
    assert len(jl.splitlines()) == 16 and json.loads(jl.splitlines()[0])["model"] == "base"
    csv = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}/accuracy.csv").text
    assert csv.splitlines()[1].startswith("alpha,0.75")


def test_predictions_can_show_only_the_wrong_ones(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    T, F = True, False
    right = {"alpha": [T, F, T, F], "beta": [T, F, F, F], "gamma": [F, F, F, F]}
    pid, _, v = _validated(client, session, right, values={"sppl": SPPL})
    page = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()
    alpha = next(e for e in page["evaluations"] if e["strategy"] == "alpha")["id"]
    url = f"/api/v1/projects/{pid}/validations/{v['id']}/evaluations/{alpha}"
    every = client.get(url).json()
    assert every["show"] == "all" and every["total"] == 4 and len(every["rows"]) == 4
    wrong = client.get(url, params={"show": "wrong"}).json()
    assert wrong["total"] == 2 and [r["correct"] for r in wrong["rows"]] == [False, False]
    assert [r["test_question_id"] for r in wrong["rows"]] == [
        r["test_question_id"] for r, ok in zip(every["rows"], right["alpha"], strict=True) if not ok
    ]
    # a re-score filters by its own verdicts: exact match calls every output wrong
    rescored = client.get(url, params={"show": "wrong", "extractor": "exact_match"}).json()
    assert rescored["total"] == 4
    html = client.get(url.replace("/api/v1", ""), params={"show": "wrong"}).text
    assert "only wrong" in html and 'href="?show=wrong' in html and "no idea" in html
    assert "so &lt;b&gt;42" not in html
    bad = client.get(url, params={"show": "maybe"})
    assert bad.status_code == 422 and "show must be one of all, wrong" in bad.text


def test_successive_halving_stops_the_worse_half(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=20, names=("alpha", "beta", "gamma", "delta"))
    _set_test(client, pid, [("What is 9 minus 1?", "8")])
    v = _start(client, pid, seeds=1, train_examples=10, halving=True, halving_first_steps=5)
    runs = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).all()
    assert {r.until_step for r in runs} == {5}
    for run, acc in zip(runs, (0.2, 0.9, 0.5, 0.1), strict=True):
        before = session.scalar(select(Job.id).order_by(Job.id.desc()))
        record_train_result(
            session,
            run_id=run.id,
            result={
                "finished": False,
                "steps": 5,
                "total_steps": 40,
                "best_step": 5,
                "best_val_accuracy": acc,
                "best_val_loss": 1.0,
                "adapter_dir": None,
            },
        )
        session.commit()
        after = session.scalar(select(Job.id).order_by(Job.id.desc()))
        assert (after == before) == (run is not runs[-1])  # only the last one decides
    status = {
        r.strategy_id: (r.status, r.until_step)
        for r in session.scalars(select(ValidationRun).order_by(ValidationRun.id))
    }
    ids = [r.strategy_id for r in runs]
    assert status[ids[1]] == ("training", 10) and status[ids[2]] == ("training", 10)
    assert status[ids[0]][0] == "stopped" and status[ids[3]][0] == "stopped"
    page = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()
    log = page["halving_log"][0]
    assert log["stopped"] == ["alpha", "delta"] and log["next_until_step"] == 10
    stopped = next(r for r in page["runs"] if r["strategy"] == "alpha")
    assert "worse half" in stopped["stopped_reason"] and "20.0%" in stopped["stopped_reason"]
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert "Successive halving" in html and "stopped alpha, delta" in html


def test_user_text_is_escaped_in_validation_pages(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    evil = "<script>alert(1)</script>"
    pid = upload(client, {evil: rows("A", n=12), "beta": rows("B", n=12)})
    _set_test(client, pid, [(evil + " What is 1?", "1")])
    v = _start(client, pid, seeds=1, label=evil)
    for url in (f"/projects/{pid}/validations", f"/projects/{pid}/validations/{v['id']}"):
        html = client.get(url).text
        assert evil not in html and "&lt;script&gt;" in html


def test_validate_cli_refuses_bad_input_with_one_line(settings_env: str, tmp_path, session) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from app.cli import EXIT_BAD_INPUT, cli
    from app.models import Project

    strategy = tmp_path / "alpha.json"
    strategy.write_text(json.dumps(rows("A", n=6)))
    test = tmp_path / "test.json"
    test.write_text(json.dumps([{"question": "What is 1 plus 2?", "answer": "3"}]))
    out = tmp_path / "results.json"
    r = CliRunner().invoke(cli, ["validate", str(strategy), "--test", str(test), "--out", str(out)])
    assert r.exit_code == EXIT_BAD_INPUT, r.output
    assert "error: test.json: a test set needs gold answers" in r.output
    assert "Traceback" not in r.output and not out.exists()
    assert session.scalar(select(Project.id)) is None  # nothing half-written
    test.write_text(json.dumps([{"question": "What is 1 plus 2?", "gold": "3"}]))
    r = CliRunner().invoke(
        cli,
        [
            "validate",
            str(strategy),
            "--test",
            str(test),
            "--out",
            str(out),
            "--train",
            '{"lora_r": 0}',
        ],
    )
    assert r.exit_code == EXIT_BAD_INPUT and "lora_r" in r.output


def test_the_form_and_the_preset_json_start_a_validation(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=20)
    _set_test(client, pid, [("What is 9 minus 1?", "8")])
    r = client.post(
        f"/projects/{pid}/validations",
        follow_redirects=False,
        data={
            "seeds": "1",
            "train_examples": "8",
            "lora_r": "4",
            "target_modules": "q_proj, k_proj",
            "halving": "true",
        },
    )
    assert r.status_code == 303, r.text
    v = session.scalars(select(Validation)).one()
    assert r.headers["location"] == f"/projects/{pid}/validations/{v.id}"
    assert v.spec["train"]["lora_r"] == 4 and v.spec["train"]["target_modules"] == [
        "q_proj",
        "k_proj",
    ]
    assert v.spec["halving"] is True and len(v.summary["train_question_ids"]) == 8
    preset = json.dumps({"seeds": 1, "train_examples": 5, "label": "preset"})
    r = client.post(
        f"/projects/{pid}/validations", data={"spec_json": preset}, follow_redirects=False
    )
    assert r.status_code == 303
    assert session.scalars(select(Validation).where(Validation.label == "preset")).one()


def test_demo_project_has_a_generated_test_set_and_a_preset(session: Session) -> None:
    from app.services.demo import create_demo_project
    from app.services.validations.page import get_validations_index

    project = create_demo_project(session, n_questions=24)
    index = get_validations_index(session, project_id=project.id)
    assert index.test_set is not None and index.test_set.source == "demo"
    assert index.test_set.n_questions == 100 and index.test_set.n_overlapping_training == 0
    preset = index.demo_preset
    assert preset is not None and preset["seeds"] == 1 and preset["train"]["epochs"] == 3
    assert preset["train_examples"] + preset["val_examples"] <= 24 and preset["test_limit"] == 100
    assert len(preset["strategy_ids"]) == 3


class _FormFields(HTMLParser):
    """The named inputs of the form around a button with ``label``."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label, self.form, self.found = label, {}, None  # type: ignore[var-annotated]
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.form = {}
        elif tag == "input" and a.get("name"):
            self.form[a["name"]] = a.get("value") or ""
        self._in_button = tag == "button"

    def handle_data(self, data: str) -> None:
        if self._in_button and self.label in data:
            self.found = dict(self.form)


def test_the_demo_preset_button_starts_the_demo_validation(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The page's own form, as a browser sends it (the preset JSON sat unescaped in a
    double-quoted attribute, so the browser posted '{' and the page answered 422)."""
    from app.services.demo import create_demo_project

    project = create_demo_project(session, n_questions=24)
    session.commit()
    html = client.get(f"/projects/{project.id}/validations").text
    fields = _FormFields("Start the demo validation")
    fields.feed(html)
    assert fields.found is not None and json.loads(fields.found["spec_json"])["seeds"] == 1
    r = client.post(
        f"/projects/{project.id}/validations", data=fields.found, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    v = session.scalars(select(Validation).where(Validation.project_id == project.id)).one()
    assert v.label == "Demo preset (2-core CPU)" and v.spec["seeds"] == 1


def test_deleting_a_project_or_strategy_removes_its_validation_rows(
    client, session: Session
) -> None:  # type: ignore[no-untyped-def]
    from app.models import Prediction, TestSet, TrainingPoint
    from app.services.deletions import delete_item

    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(4)])
    v = _start(client, pid, seeds=1, train_examples=4, val_examples=2)
    T, F = True, False
    _finish(session, v["id"], {("alpha", 0): [T, T, T, F], ("beta", 0): [T, F, F, F]})
    alpha = session.scalar(select(ValidationRun.strategy_id).order_by(ValidationRun.id))
    delete_item(session, kind="strategy", project_id=pid, item_id=alpha)  # type: ignore[arg-type]
    session.commit()
    assert session.scalars(select(ValidationRun)).all()[0].strategy_id != alpha
    assert client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").status_code == 200
    delete_item(session, kind="project", project_id=pid, item_id=pid)
    session.commit()
    for model in (Validation, ValidationRun, TrainingPoint, Evaluation, Prediction, TestSet):
        assert session.scalar(select(model.id)) is None, model


def test_cancel_ends_every_job_of_the_validation_and_keeps_what_finished(  # type: ignore[no-untyped-def]
    client, session: Session
) -> None:
    pid = _project(client, n=20)
    _set_test(client, pid, [("What is 9 minus 1?", "8"), ("What is 3 minus 1?", "2")])
    v = _start(client, pid, seeds=1, train_examples=10)
    runs = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).all()
    running = session.get(Job, runs[1].job_id)
    running.status = "running"  # a worker holds it: it is asked to stop, not ended
    session.commit()
    record_train_result(  # the first run trained before the cancel: its evaluation is queued
        session,
        run_id=runs[0].id,
        result={
            "finished": True,
            "steps": 2,
            "total_steps": 2,
            "best_step": 2,
            "best_val_accuracy": 0.5,
            "best_val_loss": 1.0,
            "adapter_dir": None,
        },
    )
    session.commit()
    url = f"/api/v1/projects/{pid}/validations/{v['id']}"
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert f'action="/projects/{pid}/validations/{v["id"]}/cancel"' in html
    client.cookies.clear()  # the page's cookie would make the API call need its CSRF token
    r = client.post(f"{url}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    session.expire_all()
    jobs = {j.id: j.status for j in session.scalars(select(Job).where(Job.kind.like("valid%")))}
    assert jobs[runs[1].job_id] == "cancelling", jobs
    assert [s for i, s in jobs.items() if i != runs[1].job_id] == ["cancelled"] * (len(jobs) - 1)
    statuses = [session.get(ValidationRun, r.id).status for r in runs]  # type: ignore[union-attr]
    assert statuses == ["trained", "cancelled", "cancelled"]
    # the running job's save races the cancel: its result is kept, no evaluation is added
    n_evals = session.query(Evaluation).count()
    record_train_result(
        session,
        run_id=runs[1].id,
        result={
            "finished": True,
            "steps": 2,
            "total_steps": 2,
            "best_step": 2,
            "best_val_accuracy": 0.4,
            "best_val_loss": 1.1,
            "adapter_dir": None,
        },
    )
    session.commit()
    assert session.query(Evaluation).count() == n_evals
    assert session.get(Validation, v["id"]).status == "cancelled"  # type: ignore[union-attr]
    page = client.get(url).json()
    assert page["validation"]["status"] == "cancelled"
    assert "cancelled with the validation" in page["runs"][2]["stopped_reason"]
    assert client.post(f"{url}/cancel").status_code == 422  # already ended
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert "Cancelled" in html and "/cancel" not in html.split("Training runs")[0]


def test_the_scans_recommendation_is_checked_against_accuracy(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """SPPL ranks alpha first, but the scan recommends beta (alpha's answers are wrong): the
    validation says how the recommendation itself trained, and what the passed-over did."""
    from tests.app.test_recommendation_rule import VALUES, WRONG_ALPHA

    T, F = True, False
    right = {"alpha": [F, F, F, F], "beta": [T, T, T, F], "gamma": [T, F, F, F]}
    pid, sid, v = _validated(client, session, right, values=VALUES, correct_share=WRONG_ALPHA)
    res = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()["results"]
    sppl = next(t for t in res["top_picks"] if t["metric"] == "sppl")
    assert sppl["picks"] == ["alpha"] and sppl["regret"] == 0.75  # the raw metric's pick
    rec = res["recommendation"]
    assert rec["scan_id"] == sid and rec["metric"] == "sppl" and rec["pick"] == "beta"
    assert rec["trained"] and rec["pick_accuracy"] == 0.75 and rec["regret"] == 0.0
    assert rec["best_trained"] == ["beta"]
    assert rec["passed_over"] == [{"strategy": "alpha", "accuracy": 0.0}]
    html = client.get(f"/projects/{pid}/validations/{v['id']}").text
    assert 'id="recommendation-check"' in html
    assert "passed over <strong>alpha</strong> (trained to 0.0%)" in html


def test_a_training_run_shows_the_steps_it_has_done(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """While a run trains, its row counts the steps its curve has (it said 0 until the end)."""
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(4)])
    v = _start(client, pid, seeds=1, train_examples=4, val_examples=2)
    run = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).first()
    steps = [{"step": k, "loss": 2.0 / k, "tokens_per_s": 5.0} for k in (1, 2, 3)]
    write_points(session, run_id=run.id, steps=steps, checkpoints=[])  # type: ignore[union-attr]
    session.commit()
    page = client.get(f"/api/v1/projects/{pid}/validations/{v['id']}").json()
    row = next(r for r in page["runs"] if r["id"] == run.id)  # type: ignore[union-attr]
    assert row["status"] == "training" and row["steps"] == 3


def test_the_winner_shows_on_the_project_page_and_in_the_list(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    """A finished validation's best-trained strategy, its accuracy and whether the scan's
    recommendation agreed, on the project's Validation card and in the validations list."""
    from tests.app.test_recommendation_rule import VALUES, WRONG_ALPHA

    T, F = True, False
    right = {"alpha": [F, F, F, F], "beta": [T, T, T, F], "gamma": [T, F, F, F]}
    pid, _, v = _validated(client, session, right, values=VALUES, correct_share=WRONG_ALPHA)
    project = client.get(f"/api/v1/projects/{pid}").json()
    outcome = project["validation"]["outcome"]
    assert project["validation"]["id"] == v["id"]
    assert outcome["best"] == ["beta"] and outcome["best_accuracy"] == 0.75
    assert outcome["recommended"] == "beta" and outcome["agreed"] is True
    listed = client.get(f"/api/v1/projects/{pid}/validations").json()["validations"]
    assert listed[0]["outcome"] == outcome
    card = client.get(f"/projects/{pid}").text.split('id="validation-link"')[1]
    assert "Trained best: <strong>beta</strong> at 75.0% accuracy" in card
    assert "agreed</span> with the scan's recommendation" in card
    table = client.get(f"/projects/{pid}/validations").text.split('id="validations"')[1]
    assert "Trained best: <strong>beta</strong> at 75.0% accuracy" in table


def test_a_validation_that_disagreed_says_what_the_recommendation_trained_to(  # type: ignore[no-untyped-def]
    client, session: Session
) -> None:
    from tests.app.test_recommendation_rule import VALUES, WRONG_ALPHA

    T, F = True, False
    right = {"alpha": [F, F, F, F], "beta": [T, F, F, F], "gamma": [T, T, F, F]}
    pid, _, _ = _validated(client, session, right, values=VALUES, correct_share=WRONG_ALPHA)
    outcome = client.get(f"/api/v1/projects/{pid}").json()["validation"]["outcome"]
    assert outcome["best"] == ["gamma"] and outcome["agreed"] is False
    assert outcome["recommended_accuracy"] == 0.25
    card = client.get(f"/projects/{pid}").text.split('id="validation-link"')[1]
    assert "the scan recommended beta, which trained to 25.0%" in card
