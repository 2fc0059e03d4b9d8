"""Hostile snippets are stopped and reported; the host is untouched."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from workers.judging import sandbox
from workers.judging.code import judge_code_answer, run_tests
from workers.judging.sandbox import Limits, run_python

FAST = Limits(wall_s=5, cpu_s=5)


def test_plain_code_runs() -> None:
    r = run_python("print(6 * 7)", limits=FAST)
    assert (r.returncode, r.stdout.strip(), r.stopped_by) == (0, "42", "")


def test_infinite_loop_is_stopped_by_a_limit() -> None:
    start = time.monotonic()
    r = run_python("while True: pass", limits=Limits(wall_s=3, cpu_s=1))
    assert r.stopped_by in ("CPU limit", "killed (CPU or memory limit)", "wall-clock timeout")
    assert time.monotonic() - start < 10


def test_sleeping_forever_hits_the_wall_clock() -> None:
    r = run_python("import time\ntime.sleep(60)", limits=Limits(wall_s=1, cpu_s=5))
    assert r.timed_out and r.stopped_by == "wall-clock timeout"


def test_fork_bomb_is_refused() -> None:
    r = run_python("import os\nwhile True:\n    os.fork()", limits=FAST)
    assert "os.fork is not allowed" in r.stderr


def test_writing_outside_its_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "evil.txt"
    r = run_python(f"open({str(target)!r}, 'w').write('x')", limits=FAST)
    assert "outside its folder" in r.stderr and not target.exists()
    r = run_python("open('inside.txt', 'w').write('ok'); print(open('inside.txt').read())")
    assert r.stdout.strip() == "ok"


def test_deleting_outside_its_folder_is_refused(tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("host file")
    r = run_python(f"import os\nos.remove({str(keep)!r})", limits=FAST)
    assert "outside its folder" in r.stderr and keep.read_text() == "host file"


def test_opening_a_socket_is_refused() -> None:
    code = "import socket\ns = socket.create_connection(('127.0.0.1', 6379), timeout=1)"
    r = run_python(code, limits=FAST)
    assert r.returncode != 0 and "socket" in r.stderr


def test_huge_output_is_cut_and_reported() -> None:
    r = run_python("while True:\n    print('x' * 1000)", limits=Limits(wall_s=20, file_mb=1))
    assert r.stopped_by == "output limit" and r.truncated
    assert len(r.stdout) <= Limits().output_chars


def test_memory_limit() -> None:
    r = run_python("x = bytearray(8 * 1024**3)", limits=Limits(wall_s=5, memory_mb=256))
    assert "MemoryError" in r.stderr


def test_environment_is_empty() -> None:
    os.environ["FAMILIAR_SECRET_FOR_TEST"] = "s3cret"
    try:
        r = run_python("import os; print(sorted(os.environ))", limits=FAST)
    finally:
        del os.environ["FAMILIAR_SECRET_FOR_TEST"]
    assert "FAMILIAR_SECRET_FOR_TEST" not in r.stdout


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="kernel walls need root here")


@needs_root
def test_kernel_walls_hold_without_the_audit_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even if the audit hook were bypassed: no network, no host writes, bounded forks."""
    monkeypatch.setattr(sandbox, "GUARD", "")
    net = run_python(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 5432), timeout=1)\n"
        "    print('connected')\nexcept OSError as e:\n    print('refused', e)",
        limits=FAST,
    )
    assert "refused" in net.stdout, net
    write = run_python("open('/work/familiar-sandbox-escape', 'w')", limits=FAST)
    assert "PermissionError" in write.stderr and not Path("/work/familiar-sandbox-escape").exists()
    bomb = run_python(
        "import os, time\nn = 0\nwhile True:\n    try:\n        os.fork(); n += 1\n"
        "    except OSError:\n        print('fork refused', flush=True); break\ntime.sleep(30)",
        limits=Limits(wall_s=3, processes=8),
    )
    assert "fork refused" in bomb.stdout and bomb.timed_out


def test_code_judge_records_each_test() -> None:
    answer = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\n"
    tests = ["assert add(1, 2) == 3", "assert add(2, 2) == 5", "while True: pass"]
    per_test, _ = run_tests("def add(a, b):\n    return a + b\n", tests, per_test_s=1)
    assert [t["status"] for t in per_test] == ["passed", "failed", "timeout"]
    ok = judge_code_answer(answer, '["assert add(1, 2) == 3", "assert add(0, 0) == 0"]')
    assert ok.verdict is True and ok.reason == "2 of 2 tests passed (tests from the gold)"
    bad = judge_code_answer(answer, "assert add(1, 2) == 3\nassert add(2, 2) == 5")
    assert bad.verdict is False and bad.details["tests"][1]["status"] == "failed"


def test_code_that_hangs_at_import_is_stopped() -> None:
    judgement = judge_code_answer("```python\nwhile True:\n    pass\n```", "assert f() == 1")
    assert judgement.verdict is False
    assert judgement.details["tests"][0]["status"] == "not run"
