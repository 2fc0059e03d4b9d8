"""Mathematical equivalence of two LaTeX answers (math-verify), with a hard time bound.

math-verify enforces its timeouts with ``signal.alarm``, which raises off the main thread
(the web app's request threads, a worker's job thread). Its timeouts are therefore turned
off (``None``) and the time is bounded here instead, by running the checks in ONE long-lived
child process (``python -m app.evaluation.math_worker``, started on first use): each check
waits at most ``timeout_s`` for its reply; past that the child is killed (sympy can spin in
C code that no thread can interrupt) and the next check starts a fresh one. Why a
subprocess rather than ``multiprocessing``: Celery's prefork workers are daemonic processes,
which may not start ``multiprocessing`` children, and forking a threaded web server is
unsafe; a plain ``subprocess`` works in all of them. Inputs longer than ``MAX_CHARS`` are
not checked (a final answer is short; a long one is not an answer to compare).

Calls are serialised by a lock (one child per process); verdicts are memoised.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 5.0  # per check, like math-verify's own default
START_TIMEOUT_S = 120.0  # importing sympy on a busy 2-core machine can take seconds
MAX_CHARS = 300
MEMO_SIZE = 20000  # verdicts kept (a long-lived web process re-scores many runs)
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the ``app`` package


class MathCheckUnavailable(RuntimeError):
    """The math-verify checker cannot run (not installed, or its process failed to start)."""


@dataclass(frozen=True)
class MathVerdict:
    equivalent: bool
    timed_out: bool = False
    why: str = ""


class _Checker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = os.getpid()
        self._buffer = b""
        self._memo: dict[tuple[str, str], bool] = {}

    def check(self, extracted: str, gold: str, timeout_s: float) -> MathVerdict:
        if len(extracted) > MAX_CHARS or len(gold) > MAX_CHARS:
            return MathVerdict(False, why=f"longer than {MAX_CHARS} characters: not checked")
        with self._lock:
            if (extracted, gold) in self._memo:
                return MathVerdict(self._memo[(extracted, gold)])
            proc = self._running()
            assert proc.stdin is not None
            proc.stdin.write((json.dumps([extracted, gold]) + "\n").encode())
            proc.stdin.flush()
            reply = self._read_line(timeout_s)
            if reply is None:
                self.close()
                return MathVerdict(False, timed_out=True, why=f"timed out after {timeout_s:g} s")
            ok = bool(json.loads(reply).get("ok"))
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[(extracted, gold)] = ok
            return MathVerdict(ok)

    def _running(self) -> subprocess.Popen[bytes]:
        if self._owner != os.getpid():  # forked: the parent's child and pipes are not ours
            self._proc, self._owner, self._buffer = None, os.getpid(), b""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "app.evaluation.math_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=str(ROOT),
        )
        self._buffer = b""
        hello = self._read_line(START_TIMEOUT_S)
        message = json.loads(hello) if hello else {"error": "no reply from the checker process"}
        if not message.get("ready"):
            self.close()
            raise MathCheckUnavailable(f"the math_equiv checker cannot run: {message.get('error')}")
        return self._proc

    def _read_line(self, timeout_s: float) -> str | None:
        """One line from the child within ``timeout_s``, or None (timeout or child gone)."""
        assert self._proc is not None and self._proc.stdout is not None
        fd, deadline = self._proc.stdout.fileno(), time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


_CHECKER = _Checker()
atexit.register(_CHECKER.close)


def check_equivalent(extracted: str, gold: str, *, timeout_s: float | None = None) -> MathVerdict:
    """Whether ``extracted`` equals ``gold`` mathematically (math-verify), within ``timeout_s``
    (default ``TIMEOUT_S``). A timed-out check is not equivalent (``timed_out=True``), and
    is not memoised. Safe from any thread."""
    limit = TIMEOUT_S if timeout_s is None else timeout_s
    return _CHECKER.check(extracted.strip(), gold.strip(), limit)


def stop_checker() -> None:
    """Stop the checker process (it restarts on the next check)."""
    with _CHECKER._lock:
        _CHECKER.close()
