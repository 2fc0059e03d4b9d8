"""What a job handler gets: its typed spec, progress reporting, a heartbeat, the log, the
cancel flag, and ``save`` to write its results in the same transaction as its success.

The heartbeat thread renews the lease every few seconds and survives database errors (it
logs them and tries again). It carries two signals back to the handler, checked at every
progress report: the job was cancelled (``JobCancelled``), or the lease was lost because
another worker took the job over (``LeaseLost``). Either way the handler stops there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.db import session_scope
from app.jobs import lifecycle
from app.jobs.eta import phase_progress, time_left
from app.jobs.eta_window import Marks, remember
from app.jobs.lease import Lease, heartbeat_interval
from app.jobs.lifecycle import LeaseLost
from app.jobs.states import JobState
from app.pipelines import follow_job

PROGRESS_EVERY_S = 0.5
log = logging.getLogger(__name__)


class JobFailure(RuntimeError):
    """A failure with a message meant for the user (no traceback needed)."""


class JobCancelled(RuntimeError):
    """The job was cancelled; raised at the handler's next progress report."""


@dataclass
class JobContext:
    lease: Lease
    project_id: int | None
    spec: Any  # the kind's typed spec (app.specs)
    _last: float = field(default=0.0, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _lost: threading.Event = field(default_factory=threading.Event, repr=False)
    _phase_started: float = field(default=0.0, repr=False)  # epoch seconds (app.jobs.eta)
    _phase_done0: int = field(default=0, repr=False)
    _eta_marks: Marks = field(default_factory=list, repr=False)  # app.jobs.eta_window
    saved: bool = False
    phase: str = ""
    done: int = 0
    total: int = 0

    @property
    def job_id(self) -> int:
        return self.lease.job_id

    def check(self) -> None:
        """Stop here if the job was cancelled or taken over."""
        if self._lost.is_set():
            raise LeaseLost(f"job {self.job_id} was taken over by another worker")
        if self._cancel.is_set():
            raise JobCancelled(f"cancelled during {self.phase or 'start'}")

    def progress(
        self,
        phase: str,
        done: int,
        total: int,
        extra: dict[str, Any] | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Record progress (at most twice a second unless forced or finished), then stop if
        the job was cancelled or taken over."""
        if phase != self.phase or done < self.done or total != self.total:  # a new phase
            self._phase_started, self._phase_done0 = time.time(), done
            self._eta_marks = []
        self.phase, self.done, self.total = phase, done, total
        extra = {**(extra or {}), "phase_started": self._phase_started}
        extra["phase_done0"] = self._phase_done0
        now = time.monotonic()
        if force or done >= total or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            # marks of written reports only: a decoder reports every step, and WINDOW_S of
            # marks must not shrink to the last MAX_MARKS steps (a second or less)
            extra["eta_marks"] = self._remember_eta(extra)
            self._write(
                lambda s: lifecycle.report_progress(
                    s, self.lease, phase=phase, done=done, total=total, extra=extra
                )
            )
        self.check()

    def _remember_eta(self, extra: dict[str, Any]) -> Marks:
        """This report's time left as a predicted end, with the recent ones: the page's
        point and range come from them (app.jobs.eta_window)."""
        now = time.time()
        progress = phase_progress(self.done, self.total, extra, now - self._phase_started)
        self._eta_marks = remember(self._eta_marks, now, time_left(progress))
        return self._eta_marks

    def log(self, line: str) -> None:
        try:
            with session_scope() as session:
                lifecycle.append_log(session, job_id=self.job_id, line=line)
        except Exception:  # noqa: BLE001 - a log line must not end the job
            log.exception("job %s: could not write a log line", self.job_id)

    def save(self, write: Callable[[Session], None], result: dict[str, Any]) -> None:
        """Write results and mark the job succeeded in ONE transaction, fenced on the lease:
        a worker that lost the job writes nothing (LeaseLost), so saving is idempotent."""
        with session_scope() as session:
            if not lifecycle.end(
                session, self.lease, JobState.SUCCEEDED, result=result, commit=False
            ):
                raise LeaseLost(f"job {self.job_id} is no longer this worker's; not saved")
            write(session)
            follow_job(session, self.job_id, JobState.SUCCEEDED)  # app.pipelines
        self.saved = True

    def _write(self, call: Callable[[Session], str]) -> None:
        """One fenced write; its answer sets the cancel / lost flags. Database errors are
        logged and left to the next beat."""
        try:
            with session_scope() as session:
                status = call(session)
        except LeaseLost:
            self._lost.set()
            return
        except Exception:  # noqa: BLE001 - a database hiccup must not end the job
            log.exception("job %s: could not reach the database; will retry", self.job_id)
            return
        if status == JobState.CANCELLING:
            self._cancel.set()

    @contextmanager
    def heartbeat(self, interval: float | None = None) -> Iterator[None]:
        """Renew the lease while the handler runs, so a dead worker can be told from a slow
        one; the beats carry the cancel flag."""
        stop = threading.Event()
        every = interval or heartbeat_interval()

        def beat() -> None:
            while not stop.wait(every):
                self._write(lambda s: lifecycle.renew(s, self.lease))
                if self._lost.is_set():
                    return

        thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{self.job_id}")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)
