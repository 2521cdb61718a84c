"""Long work as jobs (后台任务): an in-process registry over a small thread pool, with progress.

A job belongs to one enterprise. It is submitted only when the caller may read that enterprise, and it is
listed and shown only to callers whose scope reads it (:meth:`Scope.can_read`, the scope's own decision).
The job runs the use case with the submitter's scope, so the service checks tenancy again. Jobs live in
memory: a restart forgets them (see docs/web.md).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from carbonmet.services import CarbonmetError, NotInScope, Scope

from ._problems import status_of


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One job: ``status`` queued → running → done | failed; ``progress`` 0 … 1."""

    id: str
    kind: str
    enterprise: str
    params: dict[str, Any]
    submitted_by: str
    status: str = "queued"
    progress: float = 0.0
    message: str = ""
    result: Any = None
    error: dict[str, Any] | None = None
    created_at: str = field(default_factory=_now)
    finished_at: str | None = None

    def to_dict(self, *, with_result: bool = True) -> dict[str, Any]:
        d = {"id": self.id, "kind": self.kind, "enterprise": self.enterprise, "params": self.params,
             "submitted_by": self.submitted_by, "status": self.status, "progress": self.progress,
             "message": self.message, "error": self.error, "created_at": self.created_at,
             "finished_at": self.finished_at}
        if with_result:
            d["result"] = self.result
        return d


Progress = Callable[[float, str], None]


class JobRegistry:
    """The jobs of one app: submitted to a thread pool of ``workers`` threads."""

    def __init__(self, workers: int = 2) -> None:
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None  # started with the first job, again after a shutdown
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, scope: Scope, kind: str, enterprise: str, params: dict[str, Any],
               work: Callable[[Progress], Any]) -> Job:
        """Queue ``work(progress)`` as a job of ``enterprise``; refused (404) unless ``scope`` reads it."""
        scope.check_read(enterprise, "enterprise 企业", enterprise)
        job = Job(uuid.uuid4().hex, kind, enterprise, params, scope.actor)
        with self._lock:
            self._jobs[job.id] = job

        def progress(fraction: float, message: str) -> None:
            job.progress, job.message = max(0.0, min(1.0, fraction)), message

        def run() -> None:
            job.status = "running"
            progress(0.05, "started 已开始")
            try:
                job.result = work(progress)
            except CarbonmetError as exc:
                job.status, job.error = "failed", {"status": status_of(exc), "detail": str(exc)}
            except Exception as exc:  # noqa: BLE001 — a bug: kept on the job as a 500, not lost in a thread
                job.status, job.error = "failed", {"status": 500, "detail": f"{type(exc).__name__}: {exc}"}
            else:
                job.status = "done"
                progress(1.0, "done 已完成")
            job.finished_at = _now()

        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="carbonmet-job")
            self._pool.submit(run)
        return job

    def get(self, scope: Scope, job_id: str) -> Job:
        """The job, if ``scope`` reads its enterprise (else :class:`NotInScope`, as for a missing job)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or not scope.can_read(job.enterprise):
            raise NotInScope("job 任务", job_id)
        return job

    def visible(self, scope: Scope) -> list[Job]:
        """Jobs of the enterprises ``scope`` reads, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return sorted((j for j in jobs if scope.can_read(j.enterprise)), key=lambda j: j.created_at, reverse=True)

    def shutdown(self) -> None:
        """Wait for running jobs and drop queued ones (the app's shutdown); a later job starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
