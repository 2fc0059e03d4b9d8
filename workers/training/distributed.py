"""Training in a process group: ``train_distributed`` runs ``train_adapter`` on
``settings.processes`` ranks (DDP or FSDP through accelerate, gloo on a CPU, NCCL on GPUs),
or in one child process for a 4-bit (QLoRA) base.

Decisions:
- Launcher: torchrun (``torch.distributed.run``, the elastic agent that ``accelerate
  launch`` itself runs for multi-GPU), started as a child in a session of its own. The
  agent watches its ranks: when one dies (a SIGKILL, an out-of-memory kill) it ends the
  others and exits with a summary naming the failed rank, which the error shown to the user
  quotes. The same command spans hosts (``--nnodes``/``--node-rank``/``--rdzv-endpoint``;
  README). The Trainer's accelerate reads the torchrun environment and wraps the model in
  DDP (or FSDP); ``train_adapter`` is the same code in every rank. Not
  ``torch.multiprocessing.spawn`` / ``accelerate.notebook_launcher``: a Celery prefork
  child is daemonic and may not start multiprocessing children, spawn would pickle the
  job's closures, and a dead rank would be ours to detect.
- Relay: the job's callbacks (``on_step``, ``on_checkpoint``, ``should_stop``, and the
  validation judge ``score``) touch the Job row and close over the job, so they stay in this
  process: rank 0 sends each event over a Unix socket (``multiprocessing.connection``, with
  an auth key) and waits for the answers to its questions; this process calls the callbacks.
  Rank 0 broadcasts the cancel answer to the other ranks, so all stop at the same batch.
- Watchdog: this process polls the agent; when rank 0 has said its last word, or a callback
  here raises, or the agent exits, the whole process group is ended (SIGTERM, then SIGKILL
  after ``GRACE_S``), so no rank is left behind. Collectives time out after
  ``settings.collective_timeout_s`` as a last resort.
- Resume: checkpoints are written by rank 0 only (each rank adds its RNG state), staged and
  renamed into place as in one process, so a failed group's retry resumes from the last
  complete checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from app.specs.training import TrainSettings
from workers.training import types as T
from workers.training.hardware import check_hardware, rank_batches

GRACE_S = 10.0  # after rank 0's last word, how long the agent may take to exit
ROOT = Path(__file__).resolve().parents[2]
_ERRORS = {
    "TrainingInputError": T.TrainingInputError,
    "CheckpointWriteError": T.CheckpointWriteError,
}


def train_distributed(
    model: str,
    *,
    cache_dir: Path,
    dtype: str,
    device: str,
    tokenizer: Any,
    train: Sequence[T.Example],
    val: Sequence[T.ValExample],
    settings: TrainSettings,
    out_dir: Path,
    score: Callable[[str, str], bool],
    on_step: Callable[[T.StepLog], None] | None = None,
    on_checkpoint: Callable[[T.CheckpointLog], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    until_step: int | None = None,
) -> T.TrainResult:
    """``train_adapter`` of ``model`` (a name ``load_target`` accepts) in child processes;
    same inputs, same result, same checkpoints. See the module docstring."""
    from workers.training.trainer import claim_run_folder, resolve_precision

    check_hardware(settings, device)
    _check_source(model, cache_dir)
    dtype = resolve_precision(settings.precision, device) if dtype == "auto" else dtype
    claim_run_folder(tokenizer, train, val, settings, Path(out_dir))
    hooks = {"step": on_step, "checkpoint": on_checkpoint, "stop?": should_stop, "score": score}
    work = Path(tempfile.mkdtemp(prefix="familiar-dist-"))
    try:
        key = secrets.token_bytes(32)
        with Listener(str(work / "relay.sock"), family="AF_UNIX", authkey=key) as listener:
            spec = {
                "model": model,
                "cache_dir": str(cache_dir),
                "dtype": dtype,
                "device": device,
                "train": [asdict(e) for e in train],
                "val": [asdict(v) for v in val],
                "settings": settings.to_dict(),
                "out_dir": str(out_dir),
                "until_step": until_step,
                "address": str(work / "relay.sock"),
                "key": key.hex(),
                "threads": _threads_per_rank(settings.processes),
            }
            (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
            agent, raised = _start_agent(settings, work), True
            try:
                last = _relay(listener, agent, hooks)
                raised = False
            finally:  # a callback that raised here (the job cancelled) ends the group at once
                _end_group(agent, 0.0 if raised else GRACE_S)
        return _outcome(last, agent, work, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_source(model: str, cache_dir: Path) -> None:
    """Resolve (and convert, once, here) the model the ranks will load by name."""
    from workers.modeling import ModelLoadError
    from workers.modeling.sources import resolve_source

    try:
        resolve_source(model, Path(cache_dir))
    except ModelLoadError as exc:
        raise T.TrainingInputError(f"the training processes cannot load the model: {exc}") from None


def _threads_per_rank(processes: int) -> int:
    return max(1, (os.cpu_count() or 1) // processes)


def agent_command(settings: TrainSettings, spec: Path) -> list[str]:
    """The torchrun command of one host (a single-host group on a free local port)."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={settings.processes}",
        "--max-restarts=0",
        "--monitor-interval=0.2",
        "-m",
        "workers.training.rank_main",
        str(spec),
    ]


def _start_agent(settings: TrainSettings, work: Path) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=str(_threads_per_rank(settings.processes)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    log = open(work / "agent.log", "wb")  # noqa: SIM115 - closed with the work folder
    return subprocess.Popen(
        agent_command(settings, work / "spec.json"),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: ended as one
    )


def _accept(listener: Listener, agent: subprocess.Popen) -> Connection | None:
    """Rank 0's connection, or None when the agent ended before rank 0 called."""
    box: list[Connection] = []
    thread = threading.Thread(target=lambda: box.append(listener.accept()), daemon=True)
    thread.start()
    while not box and agent.poll() is None:
        thread.join(0.1)
    return box[0] if box else None


def _relay(listener: Listener, agent: subprocess.Popen, hooks: dict[str, Any]) -> tuple | None:
    """Serve rank 0 until its last message (returned), its loss (``("lost",)``) or the
    agent's end (None)."""
    conn = _accept(listener, agent)
    while conn is not None:
        if not conn.poll(0.2):
            if agent.poll() is not None:
                return None
            continue
        try:
            kind, *args = conn.recv()
        except (EOFError, OSError):
            return ("lost",)  # rank 0 is gone: the agent's summary says why
        if kind in ("done", "cancelled", "error"):
            return (kind, *args)
        hook = hooks[kind]
        try:
            if kind == "stop?":
                conn.send(bool(hook and hook()))
            elif kind == "score":
                conn.send(bool(hook(*args)))
            elif hook is not None:
                hook(*args)
        except (BrokenPipeError, ConnectionResetError):
            return ("lost",)  # rank 0 died while we answered
    return None


def _end_group(agent: subprocess.Popen, grace: float) -> None:
    """Wait ``grace`` seconds for the agent, then end its whole process group."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        agent.wait(timeout=grace)
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(agent.pid, sig)  # the ranks too, whatever the agent did
        except ProcessLookupError:
            break
        try:
            agent.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def _outcome(last: tuple | None, agent: subprocess.Popen, work: Path, settings) -> T.TrainResult:
    if last is not None and last[0] == "done":
        result: T.TrainResult = last[1]
        micro, accum = rank_batches(settings)
        result.notes.append(
            f"trained on {settings.processes} process(es) ({settings.strategy}): micro-batch "
            f"{micro} x {accum} accumulation steps per rank, global batch "
            f"{settings.effective_batch}"
        )
        return result
    if last is not None and last[0] == "cancelled":
        raise T.TrainingCancelled(last[1], last[2])
    if last is not None and last[0] == "error" and last[1] != "crash":
        raise _ERRORS.get(last[1], T.TrainingError)(last[2])
    crash = last[2] if last is not None and last[0] == "error" else None
    raise T.TrainingError(_failure(agent.returncode, work / "agent.log", crash))


_FAILED = re.compile(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", re.S)
RESUMES = "Retried, the run resumes from its last checkpoint."


def failed_rank(summary: str) -> tuple[int, int] | None:
    """(rank, exit code) of the rank that brought the group down, from torchrun's failure
    summary: a rank killed by a signal other than the agent's own SIGTERM (SIGKILL, the
    out-of-memory killer) before any rank that merely lost its peers and exited; else the
    summary's root cause."""
    tail = summary[summary.rfind("Failures:") :] if "Failures:" in summary else summary
    found = [(int(m[1]), int(m[2])) for m in _FAILED.finditer(tail)]
    if "Root Cause" in tail:  # the root cause first, then the other failures in order
        root = [(int(m[1]), int(m[2])) for m in _FAILED.finditer(tail.split("Root Cause")[1])]
        found = root + [f for f in found if f not in root]
    killed = [f for f in found if f[1] < 0 and f[1] != -15]
    return (killed or found or [None])[0]


def _failure(code: int | None, log: Path, crash: str | None = None) -> str:
    """The user's message for a group that ended without rank 0's last word (or with its
    traceback, ``crash``, which may only echo another rank's death)."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = failed_rank(text)
    if found and (found[1] < 0 or crash is None):
        rank, exit_code = found
        how = f"killed by signal {-exit_code}" if exit_code < 0 else f"exit code {exit_code}"
        tail = "\n".join(text.strip().splitlines()[-12:])
        return (
            f"training rank {rank} failed ({how}); the whole group was stopped. {RESUMES}\n{tail}"
        )
    if crash is not None:
        return f"training rank 0 failed; the whole group was stopped. {RESUMES}\n{crash}"
    tail = "\n".join(text.strip().splitlines()[-12:])
    return (
        f"the training process group ended (exit code {code}) before finishing. {RESUMES}\n{tail}"
    )
