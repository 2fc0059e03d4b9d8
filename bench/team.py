"""A team deployment on this machine, without Docker: docker-compose.yml's topology.

Postgres (a fresh database on a running server), Redis (a queue prefix of its own), two web
processes (`familiar serve --no-workers`, one port each) and three Celery workers (`gpu`
queue: one model job at a time; `cpu` queue: token counting and other light jobs; `network`
queue: the strategy lab's teacher calls, 4 side by side), in
accounts mode with one admin and an API token. Everything it starts runs in its own process
group and is stopped on exit or on SIGTERM/SIGINT; the database and the queue keys go too.

    python bench/team.py [--ports 8130,8131]     # runs until Ctrl-C
    with Team() as team: ...                      # from a bench or a test
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("TEAM_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEAM_REDIS_URL", "redis://127.0.0.1:6379/0")
USER, PASSWORD = "team-admin", "team-admin-password"
# as docker-compose.yml: name -> (queue, concurrency)
WORKERS = {"worker-gpu": ("gpu", 1), "worker-cpu": ("cpu", 1), "worker-network": ("network", 4)}


def familiar(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


@dataclass
class Team:
    ports: tuple[int, ...] = (8130, 8131)
    pg_admin: str = PG_ADMIN
    redis_url: str = REDIS_URL
    model_cache: Path = ROOT / ".familiar" / "test-models"
    extra_env: dict[str, str] = field(default_factory=dict)
    name: str = field(default_factory=lambda: f"familiar_team_{uuid.uuid4().hex[:8]}")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""

    @property
    def database_url(self) -> str:
        return make_url(self.pg_admin).set(database=self.name).render_as_string(False)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "QUEUE_PREFIX": self.queue_prefix,
            "DATA_DIR": str(self.data_dir),
            "MODEL_CACHE": str(self.model_cache),
            "AUTH": "accounts",
            "SECRET_KEY": self.secret,
            "DEMO": "false",
            "HOST": "127.0.0.1",
            "TORCH_THREADS": "1",
            **self.extra_env,
        }

    def start(self, timeout: float = 180.0) -> Team:
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.secret = secrets.token_urlsafe(32)
        self._admin("CREATE DATABASE")
        # All at once, as compose may start them: the first migrates, the others wait.
        for i, port in enumerate(self.ports):
            self._spawn(f"web-{i + 1}", "serve", "--no-workers", "--port", str(port))
        for name, (queue, jobs) in WORKERS.items():
            self._spawn(name, "worker", "--queues", queue, "--concurrency", str(jobs))
        self._wait_healthy(timeout)
        run = dict(env=self.env(), cwd=ROOT, capture_output=True, text=True, check=True)
        subprocess.run(familiar("create-user", USER, "--password-stdin"), input=PASSWORD, **run)
        self.token = subprocess.run(familiar("create-token", USER), **run).stdout.strip()
        return self

    def _spawn(self, name: str, *args: str) -> None:
        (self.data_dir / "logs").mkdir(exist_ok=True)
        with (self.data_dir / "logs" / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen(
                familiar(*args),
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.urls)
        while pending:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}): {self.log(name)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not healthy after {timeout:.0f} s: {pending}")
            with contextlib.suppress(httpx.HTTPError):
                pending = [u for u in pending if httpx.get(f"{u}/healthz").status_code != 200]
            time.sleep(0.5)

    def log(self, name: str) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM every process group it started, SIGKILL what is left, drop the database."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group: children of a serve too
            proc.wait()
        self.procs.clear()
        self.remove_queue_keys()
        self._admin("DROP DATABASE IF EXISTS", " WITH (FORCE)")

    @property
    def queue_prefix(self) -> str:
        return self.name.replace("_", "-")

    def remove_queue_keys(self) -> int:
        """Delete every Redis key of this deployment; returns how many. The broker puts all of
        them under ``<QUEUE_PREFIX>:`` (app.queue.redis_key_prefix): the queues and its own
        bookkeeping (``unacked``, ``unacked_index``, ``_kombu.binding.*``) alike."""
        client = redis.Redis.from_url(self.redis_url)
        keys = [
            k
            for pattern in (f"{self.queue_prefix}:*", f"{self.queue_prefix}.*")
            for k in client.scan_iter(match=pattern, count=1000)
        ]
        removed = int(client.delete(*keys)) if keys else 0
        client.close()
        return removed

    def _admin(self, verb: str, tail: str = "") -> None:
        engine = create_engine(self.pg_admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'{verb} "{self.name}"{tail}'))
        engine.dispose()

    def __enter__(self) -> Team:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", default="8130,8131", help="one web process per port")
    args = parser.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    with Team(ports=tuple(int(p) for p in args.ports.split(","))) as team:
        print(f"database {team.database_url}, Redis keys {team.queue_prefix}:*")
        print(f"web: {' '.join(team.urls)}; sign in as {USER} / {PASSWORD}")
        print(f"API token: {team.token}\nlogs: {team.data_dir / 'logs'}; Ctrl-C stops it all")
        signal.pause()


if __name__ == "__main__":
    main()
