"""``/api/v1/quarantine``: quarantined readings (隔离区) the caller may read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from carbonmet.services import list_quarantine

from .._auth import ScopeDep, WorkspaceDep, current_caller

router = APIRouter(prefix="/api/v1", tags=["quarantine 隔离区"], dependencies=[Depends(current_caller)])


@router.get("/quarantine")
def quarantine(ws: WorkspaceDep, scope: ScopeDep,
               reason: Annotated[str | None, Query(max_length=64)] = None,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    """隔离记录 Quarantined records with their reasons: counts by reason, and the first ``limit`` records."""
    rows = list_quarantine(ws, scope, reason=reason)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return {"total": len(rows), "by_reason": counts, "records": rows[:limit]}
