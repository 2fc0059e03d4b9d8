"""The pages work under the Content-Security-Policy in a real browser: headless Chromium
loads home, project, a scan result with charts, a job page and the API docs from a real
server, and prints no console message (a CSP violation, a script error) on any of them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)"),
]
SEED = """
from app.db import get_engine, session_scope
from app.migrate import upgrade
from app.models import Job
from bench.results_bench import build_synthetic_scan
upgrade(get_engine())
with session_scope() as s:
    pid, sid, _ = build_synthetic_scan(s, n_strategies=3, n_questions=12)
    job = Job(kind="scan", project_id=pid, status="succeeded", spec={"scan_id": sid})
    s.add(job)
    s.flush()
    print(pid, sid, job.id)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    data = tmp_path_factory.mktemp("csp")
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "DEMO": "false",
        "AUTH": "single",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "PUBLIC_URL"):
        env.pop(name, None)
    ids = subprocess.run(
        [sys.executable, "-c", SEED],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "serve",
            "--no-workers",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield base, [int(i) for i in ids]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def console_messages(url: str) -> tuple[list[str], str]:
    """Chromium's console lines (CSP violations are console errors) and the final DOM."""
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",  # type: ignore[list-item]
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=4000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    return [line for line in out.stderr.splitlines() if ":CONSOLE" in line], out.stdout


def test_the_detector_sees_a_violation(tmp_path: Path) -> None:
    """The check can fail: an inline script under script-src 'self' is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><head><meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
        "</head><body><script>document.title = 'ran'</script></body></html>"
    )
    messages, _ = console_messages(page.as_uri())
    assert any("Content Security Policy" in m for m in messages), messages


def test_main_pages_have_no_console_errors_under_the_csp(server) -> None:  # type: ignore[no-untyped-def]
    base, (pid, sid, job) = server
    pages = {
        "/": "Familiar",
        f"/projects/{pid}": "strategy-00",
        f"/projects/{pid}/scans/{sid}": "_echarts_instance_",
        f"/jobs/{job}": "scan",
        f"/projects/{pid}/share": "Create link",
        "/docs": "swagger-ui",
    }
    for path, expect in pages.items():
        messages, dom = console_messages(base + path)
        assert messages == [], (path, messages)
        assert expect in dom, path
    _, dom = console_messages(f"{base}/projects/{pid}/scans/{sid}")
    assert dom.count("_echarts_instance_") >= 2  # the charts were drawn, scripts ran
