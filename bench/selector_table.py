"""Which selector to trust, measured end to end through a real server (issue 22).

Starts ``familiar serve`` (the embedded default: SQLite, embedded workers, the packaged
SmolLM2-135M) in a fresh data directory and, as a user would through the API:

``--project demo`` (default): waits for the demo's own first scan, scans the demo's shared
questions again with PPL, SPPL, IFD and GRACE (the scored prompts come from the cache), makes
the per-question SPPL mix of that scan, and validates every strategy and the mix with the
demo's CPU preset (1 seed).

``--project gsm8k``: imports ``--strategies`` files of the research's GSM8K data
(``../shared/data/sppl-gsm8k``, the human ground truth among them), the held-out test set's
first ``--test`` questions, scans ``--sample`` questions with the four metrics, makes the
SPPL mix and validates them all on ``--train`` training questions (demo recipe otherwise).

Printed: each phase's wall time, the scan's model time per phase, and the selector table of
the validation page (pick, its accuracy, regret, Spearman, Kendall, model seconds) with the
page's evidence note. Last line: one JSON object.

    flock /tmp/cpu.lock .venv/bin/python bench/selector_table.py [--project gsm8k]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.paths import GSM8K_DIR  # noqa: E402

METRICS = ["ppl", "sppl", "ifd", "grace"]
GSM8K_DEFAULT = "train_filtered,gpt4,claude,mini_gpt4"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(client: httpx.Client, url: str, state, what: str, timeout: float) -> dict:  # type: ignore[no-untyped-def]
    """Poll ``url`` until ``state(body)`` is done; stop on failed or cancelled."""
    start, last = time.monotonic(), ""
    while time.monotonic() - start < timeout:
        try:
            body = client.get(url).json()
        except (httpx.HTTPError, ValueError):
            body = None
        state_now = state(body) if body is not None else ""
        if state_now == "done":
            return body  # type: ignore[return-value]
        state_text = state_now
        if state_text != last:
            print(
                f"  {what}: {state_text or 'waiting'} after {time.monotonic() - start:.0f} s",
                flush=True,
            )
            last = state_text
        if state_text in {"failed", "cancelled"}:
            raise SystemExit(f"{what} {state}: {json.dumps(body)[:2000]}")
        time.sleep(3)
    raise SystemExit(f"{what} did not finish in {timeout:.0f} s")


def _up(client: httpx.Client, timeout: float) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise SystemExit("the server did not answer /healthz")


def _scans_state(body: dict) -> str:
    scans = body.get("scans") or []
    states = [s["status"] for s in scans]
    if scans and all(s.get("finished_at") for s in scans):
        return "done"
    return next((s for s in states if s in {"failed", "cancelled"}), ",".join(states))


def _gsm8k_project(client: httpx.Client, args: argparse.Namespace) -> int:
    names = args.strategies.split(",")
    files = [("files", (f"{n}.json", (GSM8K_DIR / f"{n}.json").read_bytes())) for n in names]
    r = client.post("/api/v1/projects", json={"name": "GSM8K selectors"})
    r.raise_for_status()
    pid = int(r.json()["id"])
    r = client.post(f"/api/v1/projects/{pid}/uploads", files=files, timeout=600)
    assert r.status_code < 300, r.text
    tests = json.loads((GSM8K_DIR / "test_filtered.json").read_text())[: args.test]
    body = json.dumps(tests).encode()
    r = client.post(
        f"/api/v1/projects/{pid}/test-set", files={"file": ("test_filtered.json", body)}
    )
    assert r.status_code < 300, r.text
    return pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", choices=["demo", "gsm8k"], default="demo")
    parser.add_argument("--strategies", default=GSM8K_DEFAULT, help="gsm8k: file stems")
    parser.add_argument("--sample", type=int, default=30, help="gsm8k: scanned questions")
    parser.add_argument("--train", type=int, default=100, help="gsm8k: training questions")
    parser.add_argument("--pool", type=int, default=40, help="gsm8k: SPPL own-answer pool")
    parser.add_argument("--test", type=int, default=100, help="gsm8k: test questions")
    parser.add_argument("--timeout", type=float, default=5400)
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="familiar-selectors-"))
    port = _port()
    env = os.environ | {
        "DATA_DIR": str(data),
        "DEMO": "true" if args.project == "demo" else "false",
    }
    log = (data / "serve.log").open("w")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/familiar"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wall: dict[str, float] = {}
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        t0 = time.monotonic()
        _up(client, 600)
        wall["server"] = time.monotonic() - t0
        if args.project == "demo":
            pid = int(client.get("/api/v1/projects").json()["projects"][0]["id"])
            t = time.monotonic()
            _wait(client, f"/api/v1/projects/{pid}/scans", _scans_state, "demo scan", args.timeout)
            wall["demo_scan"] = time.monotonic() - t
            sample = 30
        else:
            pid = _gsm8k_project(client, args)
            sample = args.sample
        t = time.monotonic()
        scan_spec = {"metrics": METRICS, "sample": sample, "allow_unfiltered_fallback": True}
        if args.project == "gsm8k":
            scan_spec |= {"pool": args.pool, "max_new_tokens": 256}
        r = client.post(f"/api/v1/projects/{pid}/scans", json=scan_spec)
        assert r.status_code == 201, r.text
        sid = int(r.json()["id"])
        scan = _wait(
            client,
            f"/api/v1/projects/{pid}/scans/{sid}",
            lambda b: (
                "done"
                if (b.get("scan") or {}).get("finished_at")
                else (b.get("scan") or {}).get("status", "")
            ),
            "scan",
            args.timeout,
        )
        wall["scan"] = time.monotonic() - t
        timings = (scan.get("summary") or {}).get("timings", {})
        r = client.post(f"/api/v1/projects/{pid}/scans/{sid}/mix", json={"metric": "sppl"})
        assert r.status_code == 201, r.text
        index = client.get(f"/api/v1/projects/{pid}/validations").json()
        spec = dict(index.get("demo_preset") or {})
        if args.project == "gsm8k":
            spec = {
                "seeds": 1,
                "train_examples": args.train,
                "val_examples": 8,
                "test_limit": args.test,
                "max_new_tokens": 256,
                "extractor": "gsm8k_flexible",
                "train": {
                    "epochs": 3,
                    "batch_size": 8,
                    "learning_rate": 1e-3,
                    "max_length": 512,
                    "val_max_new_tokens": 256,
                    "eval_every": 6,
                },
            }
        spec |= {
            "strategy_ids": [s["id"] for s in index["strategies"]],
            "scan_id": sid,
            "seeds": 1,
            "quick": "none",
        }
        t = time.monotonic()
        r = client.post(f"/api/v1/projects/{pid}/validations", json=spec)
        assert r.status_code == 201, r.text
        vid = int(r.json()["id"])
        page = _wait(
            client,
            f"/api/v1/projects/{pid}/validations/{vid}",
            lambda b: b["validation"]["status"],
            "validation",
            args.timeout,
        )
        wall["validation"] = time.monotonic() - t
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    res = page["results"]
    print(f"wall seconds: {json.dumps({k: round(v, 1) for k, v in wall.items()})}")
    print(
        f"scan model seconds per phase: {json.dumps({k: round(v, 1) for k, v in timings.items()})}"
    )
    print(
        "accuracies: "
        + ", ".join(
            f"{a['strategy']} {100 * a['mean']:.1f}% "
            f"[{100 * a['ci_low']:.0f}-{100 * a['ci_high']:.0f}]"
            for a in res["accuracies"]
        )
    )
    print(
        f"{'selector':34} {'pick':30} {'acc':>6} {'regret':>7} {'rho':>6} {'tau':>6} {'model s':>8}"
    )
    rows = []
    rec = res.get("recommendation")
    if rec:
        rows.append(
            {
                "label": f"Recommendation ({rec['metric']})",
                "picks": [rec["pick"]],
                "pick_accuracy": rec["pick_accuracy"],
                "regret": rec["regret"],
                "spearman": None,
                "kendall": None,
                "cost_s": rec["cost_s"],
            }
        )
    rows += res["top_picks"]

    def f(x: float | None, scale: float = 1.0, digits: int = 2) -> str:
        return "-" if x is None else f"{scale * x:.{digits}f}"

    for row in rows:
        cells = [
            f"{row['label'][:34]:34}",
            f"{', '.join(row['picks'])[:30]:30}",
            f"{f(row['pick_accuracy'], 100, 1):>6}",
            f"{f(row['regret'], 100, 1):>7}",
            f"{f(row['spearman']):>6}",
            f"{f(row['kendall']):>6}",
            f"{f(row.get('cost_s'), 1, 1):>8}",
        ]
        print(" ".join(cells))
    print(f"note: {res.get('evidence_note')}")
    print(
        json.dumps(
            {
                "project": args.project,
                "wall_s": wall,
                "timings": timings,
                "accuracies": {a["strategy"]: a["mean"] for a in res["accuracies"]},
                "selectors": rows,
                "evidence_note": res.get("evidence_note"),
                "data_dir": str(data),
            }
        )
    )


if __name__ == "__main__":
    main()
