"""``/api/v1/jobs``: long work (an accounting run) as jobs with progress."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from carbonmet.services import account_enterprise

from .._auth import ScopeDep, current_caller

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs 任务"], dependencies=[Depends(current_caller)])


class AccountJob(BaseModel):
    enterprise: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=2000, le=2100)
    method: Literal["lpu", "mcm", "both"] = "both"
    trials: int = Field(default=100_000, ge=1000, le=1_000_000)
    seed: int | None = 0


@router.post("/accounting", status_code=202)
def submit_accounting(body: AccountJob, request: Request, scope: ScopeDep) -> dict[str, Any]:
    """核算任务 Start an accounting run; poll ``GET /api/v1/jobs/{id}`` for progress and the result."""
    app_ws = request.app.state.workspace

    def work(progress: Any) -> dict[str, Any]:
        ws = app_ws.fork()
        try:
            progress(0.1, "accounting 核算中")
            acc = account_enterprise(ws, scope, body.enterprise, body.year, method=body.method,
                                     trials=body.trials, seed=body.seed)
            progress(0.95, "rendering 整理结果")
            return acc.to_dict()
        finally:
            ws.close()

    job = request.app.state.jobs.submit(scope, "accounting", body.enterprise, body.model_dump(), work)
    return job.to_dict(with_result=False)


@router.get("")
def jobs(request: Request, scope: ScopeDep) -> list[dict[str, Any]]:
    """任务列表 Jobs of the enterprises the caller may read (without results)."""
    return [j.to_dict(with_result=False) for j in request.app.state.jobs.visible(scope)]


@router.get("/{job_id}")
def job(job_id: Annotated[str, Path(max_length=64)], request: Request, scope: ScopeDep) -> dict[str, Any]:
    """一个任务 Status, progress and (when done) the result; 404 unless the caller reads its enterprise."""
    return request.app.state.jobs.get(scope, job_id).to_dict()
