"""Import all 14 GSM8K strategy files into a fresh embedded project and time the pages.

Prints the numbers, then one JSON line with import_s, peak_rss_mb and page times.
Run: .venv/bin/python bench/import_bench.py
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GSM8K = ROOT.parent / "shared" / "data" / "sppl-gsm8k"
NOT_STRATEGIES = {"test.json", "test_filtered.json", "train_filtered.json"}


def strategy_files() -> list[Path]:
    files = sorted(p for p in GSM8K.glob("*.json") if p.name not in NOT_STRATEGIES)
    return [GSM8K / "train_filtered.json", *files][:14]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.fresh_app import fresh_app

    fresh_app("familiar-bench-")
    from fastapi.testclient import TestClient

    from app.db import session_scope
    from app.main import create_app
    from app.schemas.projects import ProjectCreate
    from app.services.projects import create_project
    from app.services.uploads import ingest_files

    files = strategy_files()
    payload = [(f.name, f.read_bytes()) for f in files]
    t0 = time.perf_counter()
    with session_scope() as session:
        project = create_project(session, data=ProjectCreate(name="bench"))
        result = ingest_files(session, project_id=project.id, files=payload)
    import_s = time.perf_counter() - t0
    n = sum(s.n_responses for s in result.strategies)
    print(f"imported {len(files)} files, {n} responses in {import_s:.2f} s")

    client = TestClient(create_app(), base_url="http://127.0.0.1")  # a loopback host
    timings = {}
    for label, url in [
        ("project_page_s", f"/projects/{project.id}"),
        ("project_json_s", f"/api/v1/projects/{project.id}"),
        (
            "side_by_side_page_s",
            f"/projects/{project.id}/questions/{_first_question(client, project.id)}",
        ),
        (
            "responses_page_s",
            f"/projects/{project.id}/strategies/{result.strategies[0].strategy_id}",
        ),
    ]:
        client.get(url)  # warm templates
        t = time.perf_counter()
        for _ in range(5):
            assert client.get(url).status_code == 200
        timings[label] = (time.perf_counter() - t) / 5
        print(f"{label}: {timings[label] * 1000:.1f} ms")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB")
    out = {"files": len(files), "responses": n, "import_s": round(import_s, 3)}
    out |= {"peak_rss_mb": round(peak_mb, 1), **{k: round(v, 4) for k, v in timings.items()}}
    print(json.dumps(out))


def _first_question(client, project_id: int) -> int:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/projects/{project_id}/questions").json()["items"][0]["id"]


if __name__ == "__main__":
    main()
