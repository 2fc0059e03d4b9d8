"""A whole (tiny) validation through a real Celery worker on Redis, with the packaged model:
train each strategy, evaluate the adapters and the untuned target, results on the page."""

from __future__ import annotations

import json
import time

import pytest

from app.config import get_settings
from app.db import session_scope
from app.demo.problems import generate_problems
from app.demo.styles import render_strategy
from app.models import Accuracy, Evaluation, Prediction
from tests.workers.conftest import worker_log

pytestmark = pytest.mark.slow
TINY_TRAIN = {
    "epochs": 1,
    "batch_size": 4,
    "max_length": 192,
    "learning_rate": 1e-4,
    "val_max_new_tokens": 24,
    "precision": "float32",
}


def _project(client) -> int:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    pid = client.post("/api/v1/projects", json={"name": "validate"}).json()["id"]
    problems = generate_problems(10, seed=0)
    files = [
        (
            "files",
            (f"{s}.json", json.dumps(render_strategy(s, problems)).encode(), "application/json"),
        )
        for s in ("terse", "step_by_step")
    ]
    assert client.post(f"/api/v1/projects/{pid}/uploads", files=files).status_code == 201
    test = [{"question": p.question, "gold": p.gold} for p in generate_problems(40, seed=1)[-3:]]
    r = client.post(
        f"/api/v1/projects/{pid}/test-set", files={"file": ("test.json", json.dumps(test).encode())}
    )
    assert r.status_code == 201, r.text
    return pid


def _wait_validation(client, pid: int, vid: int, timeout: float = 300) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.get(f"/api/v1/projects/{pid}/validations/{vid}").json()
        if page["validation"]["status"] == "done" or not page["active"]:
            return page
        time.sleep(1)
    raise AssertionError(f"validation {vid} did not finish: {page}")


def test_whole_validation_through_the_worker(client, celery_worker) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client)
    url = f"/api/v1/projects/{pid}/validations"
    bad = client.post(
        url,
        json={
            "seeds": 1,
            "train_examples": 4,
            "val_examples": 2,
            "max_new_tokens": 4,
            "test_limit": 1,
            "train": {**TINY_TRAIN, "target_modules": ["nope_proj"]},
        },
    )
    assert bad.status_code == 201
    failed = _wait_validation(client, pid, bad.json()["id"], timeout=120)
    errors = [r["job"]["error"] for r in failed["runs"]]
    assert all("nope_proj" in e and "q_proj" in e for e in errors), errors  # lists its modules
    assert failed["validation"]["status"] == "failed"

    r = client.post(
        url,
        json={
            "seeds": 1,
            "train_examples": 4,
            "val_examples": 2,
            "max_new_tokens": 24,
            "train": TINY_TRAIN,
        },
    )
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    page = _wait_validation(client, pid, vid)
    log = worker_log(get_settings().data_dir)
    assert page["validation"]["status"] == "done", (page, log)
    assert len(page["runs"]) == 2 and all(run["status"] == "trained" for run in page["runs"])
    for run in page["runs"]:
        assert run["curve"] and run["curve"][0]["loss"] > 0 and run["checkpoints"]
        # validation loss on the strategy's own validation responses, beside the accuracy
        assert all(c["val_loss"] and c["val_loss"] > 0 for c in run["checkpoints"]), run
        assert run["best_val_loss"] and run["best_val_loss"] > 0
        assert run["job"]["status"] == "succeeded" and run["adapter_url"]
        z = client.get(run["adapter_url"])
        assert z.status_code == 200 and z.content[:2] == b"PK"
    assert len(page["evaluations"]) == 3 and all(e["finished"] for e in page["evaluations"])
    assert page["results"]["base_accuracy"] is not None
    assert {a["strategy"] for a in page["results"]["accuracies"]} == {"terse", "step_by_step"}
    with session_scope() as session:
        n = (
            session.query(Prediction)
            .join(Evaluation, Evaluation.id == Prediction.evaluation_id)
            .filter(Evaluation.validation_id == vid)
            .count()
        )
        assert n == 9  # 3 models x 3 test questions
        assert {a.validation_id for a in session.query(Accuracy)} == {vid}
    html = client.get(f"/projects/{pid}/validations/{vid}").text
    assert "Accuracy per strategy" in html and "every 2s" not in html
