"""The round trip with the real command and the packaged model: `familiar scan` on a
multi-subject file (real GSM8K questions and strategies) -> import of its results.json ->
the result page's JSON equals that of the same scan run by the dashboard's worker handler
(values, aggregates, report), and the per-category view reads the imported scan."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.app.multisubject import write_multisubject
from tests.app.test_categories import upload_files
from tests.app.test_headless_import import comparable, import_file
from tests.jobs.contexts import claimed_context
from tests.paths import ROOT
from workers.jobs.scan import run_scan_job

pytestmark = pytest.mark.slow
SETTINGS = {
    "metrics": ["ppl", "sppl"],
    "sample": 3,
    "samples": 2,
    "examples": 1,
    "pool": 3,
    "max_new_tokens": 24,
    "seed": 1,
    "dtype": "float32",
    "allow_unfiltered_fallback": True,
}


def cli_scan(files, out, data_dir, model_cache) -> None:  # type: ignore[no-untyped-def]
    args = ["scan", *map(str, files), "--out", str(out), "--metrics", "ppl,sppl"]
    for key in ("sample", "samples", "examples", "pool", "max_new_tokens", "seed", "dtype"):
        args += [f"--{key.replace('_', '-')}", str(SETTINGS[key])]
    args += ["--allow-unfiltered-fallback", "--model", "packaged:SmolLM2-135M-Instruct"]
    env = os.environ | {
        "DATA_DIR": str(data_dir),
        "MODEL_CACHE": str(model_cache),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_familiar_scan_results_import_like_a_dashboard_scan(client, tmp_path, model_cache):  # type: ignore[no-untyped-def]
    files = write_multisubject(tmp_path, n=12)
    pid, _ = upload_files(client, files)
    out = tmp_path / "results.json"
    cli_scan(files, out, tmp_path / "cli-data", model_cache)
    assert len(json.loads(out.read_text())["samples"]) == 2

    client.cookies.clear()
    r = client.post(f"/api/v1/projects/{pid}/scans", json=SETTINGS)
    assert r.status_code == 201, r.text
    mine = r.json()["id"]
    run_scan_job(claimed_context(r.json()["job"]["id"]))
    imported = import_file(client, pid, json.loads(out.read_text()))
    assert imported.status_code == 201, imported.text
    sid = imported.json()["id"]

    a = client.get(f"/api/v1/projects/{pid}/scans/{mine}").json()
    b = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    assert a["scan"]["status"] == "succeeded" and a["report"]["primary"] == "sppl"
    for key, value in comparable(a).items():
        assert comparable(b)[key] == value, key
    cats_a = client.get(f"/api/v1/projects/{pid}/scans/{mine}/categories").json()
    cats_b = client.get(f"/api/v1/projects/{pid}/scans/{sid}/categories").json()
    assert cats_b["breakdown"] == cats_a["breakdown"]
    assert set(cats_b["breakdown"]["categories"]) <= {"counting", "money", "time"}
