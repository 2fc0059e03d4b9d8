"""`familiar serve` as systemd, Docker and `kill` stop it: nothing of it may outlive it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.paths import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_serve_and_its_workers(tmp_path: Path, sig: signal.Signals) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        DEMO="false",
        PORT=str(port),
        MODEL_CACHE=str(ROOT / ".familiar" / "test-models"),
    )
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    tree: list[psutil.Process] = []
    familiar = str(Path(sys.executable).parent / "familiar")
    proc = subprocess.Popen(
        [familiar, "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        serve = psutil.Process(proc.pid)
        _wait_for(lambda: _up(port), 90, "the web app")
        _wait_for(lambda: len(serve.children()) >= 3, 30, "the three embedded workers")
        tree = serve.children(recursive=True)
        assert all("celery" in " ".join(p.cmdline()) for p in serve.children())
        queues = [p.cmdline()[p.cmdline().index("-Q") + 1] for p in serve.children()]
        assert sorted(q.rsplit(".", 1)[1] for q in queues) == ["cpu", "gpu", "network"]
        proc.send_signal(sig)
        assert proc.wait(timeout=60) != 0 or sig == signal.SIGINT
        gone, alive = psutil.wait_procs(tree, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
        assert not _up(port)
    finally:
        if proc.poll() is None:
            proc.kill()
        for child in tree:  # whatever outlived serve (the failure this test catches)
            if child.is_running():
                child.kill()
        log.close()
