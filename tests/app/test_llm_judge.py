"""Starting the LLM judge queues a gpu job; the handler stores verdicts beside the rule judge's."""

from __future__ import annotations

import json

import pytest

from app.models import Job
from tests.jobs.contexts import claimed_context


def _project_with_answers(client) -> int:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "llm"}).json()["id"]
    rows = [
        {"question": "Capital of France?", "answer": "It is Paris.", "gold_label": "Paris"},
        {"question": "Capital of Spain?", "answer": "Lisbon.", "gold_label": "Madrid"},
    ]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    r = client.post(f"/api/v1/projects/{pid}/uploads", files=[("files", ("s.jsonl", data))])
    assert r.status_code == 201, r.text
    return pid


def test_start_llm_judge_queues_a_gpu_job(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = _project_with_answers(client)
    r = client.post(f"/api/v1/projects/{pid}/judgements/llm", json={"model": "some/model"})
    assert r.status_code == 201, r.text
    job = session.get(Job, r.json()["job_id"])
    assert (job.kind, job.queue, job.spec["model"]) == ("llm_judge", "gpu", "some/model")
    assert r.json()["judge"] == "llm:some/model"
    bad = client.post(f"/api/v1/projects/{pid}/judgements/llm", json={"model": ""})
    assert bad.status_code == 422


def test_llm_judge_handler_stores_its_verdicts(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from workers.jobs import llm_judge as handler_module

    pid = _project_with_answers(client)
    started = client.post(f"/api/v1/projects/{pid}/judgements/llm", json={"model": "m"}).json()

    def scripted(target: object, **_: object):  # type: ignore[no-untyped-def]
        def generate(texts: list[str]) -> list[str]:
            if "final answer predicted" in texts[0]:
                return ["Paris" if "France" in t else "Lisbon" for t in texts]
            return ["Yes" if "Predicted answer: Paris" in t else "No" for t in texts]

        return generate

    monkeypatch.setattr("workers.modeling.load_target", lambda *a, **k: object())
    monkeypatch.setattr("workers.judging.llm.model_generate", scripted)
    result = handler_module.llm_judge(claimed_context(started["job_id"]))
    assert result["correct"] == 1
    page = client.get(f"/api/v1/projects/{pid}/judgements?judge=llm:m").json()
    assert [i["verdict"] for i in page["items"]] == [True, False]
    assert (
        page["items"][1]["extracted"] == "Lisbon" and "judged: 'No'" in page["items"][1]["reason"]
    )
    assert "llm:m" in page["judges"]
    html = client.get(f"/projects/{pid}/judgements?judge=llm:m").text
    assert "Lisbon" in html and "Ask an LLM judge" in html
