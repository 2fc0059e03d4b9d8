"""Load on a team deployment (bench/team.py): concurrent uploads, page views and JSON twins,
and one tiny scan, on loopback, bounded in requests and time; then a check in the database
that no upload was lost, duplicated or mixed and that every job finished exactly once.

Prints requests/s and p50/p95/p99 per endpoint, then one JSON line.
Run: flock /tmp/cpu.lock .venv/bin/python bench/load_bench.py [--clients 20] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TERMINAL = ("succeeded", "failed", "cancelled")


def strategy_rows(strategy: str, n_questions: int) -> dict[str, str]:
    """What one upload sends: question text -> this strategy's response."""
    return {
        f"Question {i}: Tom has {i} apples and buys {i % 7 + 1} more. How many now?": (
            f"[{strategy}] {i} + {i % 7 + 1} = {i + i % 7 + 1}. Final Answer: {i + i % 7 + 1}"
        )
        for i in range(n_questions)
    }


def jsonl(rows: dict[str, str]) -> bytes:
    return "\n".join(json.dumps({"prompt": q, "response": r}) for q, r in rows.items()).encode()


def verify(engine: Engine, project_id: int, sent: dict[str, dict[str, str]]) -> dict[str, int]:
    """Compare what the accepted uploads sent with what the database holds.

    lost: sent responses (or whole strategies) not stored; duplicated: extra question rows for
    one sent question, or strategies stored twice; mixed: stored responses whose text is not
    the one sent for that strategy and question (or whose question was never sent).
    """
    with engine.connect() as conn:
        questions = conn.execute(
            text("SELECT text, count(*) FROM questions WHERE project_id = :p GROUP BY text"),
            {"p": project_id},
        ).all()
        strategies = conn.execute(
            text("SELECT name, count(*) FROM strategies WHERE project_id = :p GROUP BY name"),
            {"p": project_id},
        ).all()
        stored = conn.execute(
            text(
                "SELECT s.name, q.text, r.text FROM responses r"
                " JOIN strategies s ON s.id = r.strategy_id"
                " JOIN questions q ON q.id = r.question_id WHERE s.project_id = :p"
            ),
            {"p": project_id},
        ).all()
    held: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, question, response in stored:
        held[(name, question)].append(response)
    lost = sum(1 for name in sent for q in sent[name] if not held.get((name, q)))
    mixed = sum(
        1
        for (name, q), responses in held.items()
        for r in responses
        if name in sent and sent[name].get(q) != r
    )
    duplicated = sum(n - 1 for _, n in questions if n > 1)
    duplicated += sum(n - 1 for _, n in strategies if n > 1)
    duplicated += sum(len(rs) - 1 for rs in held.values() if len(rs) > 1)
    return {"lost": lost, "duplicated": duplicated, "mixed": mixed}


def verify_jobs(engine: Engine, project_id: int) -> dict[str, int]:
    """Every job ended, succeeded, and was claimed exactly once."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, attempts FROM jobs WHERE project_id = :p"), {"p": project_id}
        ).all()
    return {
        "jobs": len(rows),
        "jobs_unfinished": sum(1 for s, _ in rows if s not in TERMINAL),
        "jobs_failed": sum(1 for s, _ in rows if s in ("failed", "cancelled")),
        "jobs_not_once": sum(1 for _, a in rows if a != 1),
    }


class Recorder:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    async def call(
        self, label: str, client: httpx.AsyncClient, method: str, url: str, **kw: object
    ) -> httpx.Response:
        t0 = time.perf_counter()
        r = await client.request(method, url, **kw)  # type: ignore[arg-type]
        self.times[label].append(time.perf_counter() - t0)
        if r.status_code >= 500:
            self.errors[label] += 1
        return r


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return 1000 * (values[0] if values else 0.0)
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def upload_all(
    urls: list[str], headers: dict, pid: int, n_strategies: int, n_questions: int, rec: Recorder
) -> tuple[dict, dict]:
    """Every strategy at once (spread over the web processes), plus two uploads of one
    same-named strategy in two processes: one must win (201), the other get 409."""
    sent = {f"s{k}": strategy_rows(f"s{k}", n_questions) for k in range(n_strategies)}
    twin = strategy_rows("twin", n_questions)
    jobs = [(name, rows) for name, rows in sent.items()] + [("twin", twin), ("twin", twin)]
    async with httpx.AsyncClient(headers=headers, timeout=120) as client:

        async def one(i: int, name: str, rows: dict[str, str]) -> int:
            url = f"{urls[i % len(urls)]}/api/v1/projects/{pid}/uploads"
            files = [("files", (f"{name}.jsonl", jsonl(rows), "application/json"))]
            r = await rec.call("upload", client, "POST", url, files=files, data={"strategy": name})
            return r.status_code

        codes = await asyncio.gather(*(one(i, n, r) for i, (n, r) in enumerate(jobs)))
    accepted = {n: rows for (n, rows), c in zip(jobs, codes, strict=True) if c == 201}
    statuses = {"strategies": list(codes[:n_strategies]), "twin": sorted(codes[n_strategies:])}
    return accepted, statuses


def endpoints(pid: int, sid: int) -> list[tuple[str, str]]:
    return [
        ("project page", f"/projects/{pid}"),
        ("project json", f"/api/v1/projects/{pid}"),
        ("questions page", f"/projects/{pid}/questions"),
        ("questions json", f"/api/v1/projects/{pid}/questions"),
        ("strategy page", f"/projects/{pid}/strategies/{sid}"),
        ("strategy json", f"/api/v1/projects/{pid}/strategies/{sid}/responses"),
        ("home page", "/"),
        ("projects json", "/api/v1/projects"),
    ]


async def browse(
    urls: list[str],
    headers: dict,
    targets: list[tuple[str, str]],
    *,
    clients: int,
    requests: int,
    seconds: float,
    rec: Recorder,
) -> float:
    """`clients` concurrent clients walk the pages until `requests` or `seconds` run out."""
    budget, deadline = [requests], time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:

        async def worker(c: int) -> None:
            k = c
            while budget[0] > 0 and time.monotonic() < deadline:
                budget[0] -= 1
                label, path = targets[k % len(targets)]
                await rec.call(label, client, "GET", f"{urls[k % len(urls)]}{path}")
                k += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in range(clients)))
        return time.perf_counter() - t0


def wait_for_jobs(engine: Engine, pid: int, timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if verify_jobs(engine, pid)["jobs_unfinished"] == 0:
            break
        time.sleep(1)
    return time.monotonic() - t0


async def scenario(team, args: argparse.Namespace) -> dict:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {team.token}"}
    urls, rec = team.urls, Recorder()
    async with httpx.AsyncClient(headers=headers, timeout=60) as c:
        pid = (await c.post(f"{urls[0]}/api/v1/projects", json={"name": "load"})).json()["id"]
    t0 = time.perf_counter()
    accepted, statuses = await upload_all(urls, headers, pid, args.strategies, args.questions, rec)
    upload_s = time.perf_counter() - t0
    async with httpx.AsyncClient(headers=headers, timeout=60) as c:
        project = (await c.get(f"{urls[0]}/api/v1/projects/{pid}")).json()
        sid = project["strategies"][0]["id"]
        scan_code: int | str = 0
        if args.scan:
            r = await c.post(
                f"{urls[1 % len(urls)]}/api/v1/projects/{pid}/scans",
                json={"metrics": ["ppl"], "sample": 4},
            )
            scan_code = r.status_code if r.status_code < 400 else f"{r.status_code}: {r.text[:200]}"
    targets = [e for e in endpoints(pid, sid) if not args.only or e[0] == args.only]
    browse_s = await browse(
        urls,
        headers,
        targets,
        clients=args.clients,
        requests=args.requests,
        seconds=args.seconds,
        rec=rec,
    )
    return {
        "pid": pid,
        "accepted": accepted,
        "statuses": statuses,
        "upload_s": upload_s,
        "browse_s": browse_s,
        "rec": rec,
        "scan_code": scan_code,
    }


def report(out: dict, checks: dict, args: argparse.Namespace) -> dict:
    rec: Recorder = out["rec"]
    print(f"{'endpoint':<16} {'n':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} 5xx")
    browse_n = sum(len(v) for k, v in rec.times.items() if k != "upload")
    for label, values in rec.times.items():
        span = out["upload_s"] if label == "upload" else out["browse_s"]
        print(
            f"{label:<16} {len(values):>6} {len(values) / span:>8.1f} {pct(values, 50):>8.0f} "
            f"{pct(values, 95):>8.0f} {pct(values, 99):>8.0f} {rec.errors[label]}"
        )
    pages = [t for k, v in rec.times.items() if k != "upload" for t in v]
    summary = {
        "rps": round(browse_n / out["browse_s"], 1),
        "p95_ms": round(pct(pages, 95)),
        "p50_ms": round(pct(pages, 50)),
        "p99_ms": round(pct(pages, 99)),
        "project_page_rps": round(len(rec.times.get("project page", [])) / out["browse_s"], 1),
        "project_page_p95_ms": round(pct(rec.times.get("project page", []), 95)),
        "requests": browse_n,
        "errors_5xx": sum(rec.errors.values()),
        "clients": args.clients,
        "web_processes": len(args.ports),
        "uploads": out["statuses"],
        "upload_s": round(out["upload_s"], 2),
        "scan_status": out["scan_code"],
        **checks,
    }
    return summary


def main() -> None:
    from bench.team import Team

    parser = argparse.ArgumentParser(description="Load bench on a team deployment")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="page and JSON requests")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound of browsing")
    parser.add_argument("--strategies", type=int, default=5, help="concurrent uploads")
    parser.add_argument("--questions", type=int, default=300, help="shared questions per upload")
    parser.add_argument("--ports", default="8130,8131")
    parser.add_argument("--jobs-timeout", type=float, default=120.0)
    parser.add_argument("--no-scan", dest="scan", action="store_false")
    parser.add_argument("--only", default="", help='one endpoint, e.g. "project page"')
    args = parser.parse_args()
    args.ports = [int(p) for p in args.ports.split(",")]
    with Team(ports=tuple(args.ports)) as team:
        out = asyncio.run(scenario(team, args))
        engine = create_engine(team.database_url)
        jobs_wait_s = wait_for_jobs(engine, out["pid"], args.jobs_timeout)
        checks = {
            **verify(engine, out["pid"], out["accepted"]),
            **verify_jobs(engine, out["pid"]),
            "jobs_wait_s": round(jobs_wait_s, 1),
        }
        engine.dispose()
        deployment = {"database": team.name, "processes": list(team.procs)}
    print(json.dumps({**report(out, checks, args), "deployment": deployment}))


if __name__ == "__main__":
    main()
