"""Accounts (碳核算), CEMS against accounts (比对) and the metrology review (计量审查)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from carbonmet.services import account_enterprise, compare_enterprise, review_enterprise

from .._auth import ScopeDep, WorkspaceDep, current_caller
from .._problems import json_of
from .._served import served

router = APIRouter(prefix="/api/v1", tags=["results 结果"], dependencies=[Depends(current_caller)])
Year = Annotated[int, Path(ge=2000, le=2100)]
Org = Annotated[str, Path(max_length=64)]


@router.get("/accounts/{enterprise}/{year}", response_model=dict[str, Any])
async def account(enterprise: Org, year: Year, ws: WorkspaceDep, scope: ScopeDep,
                  method: Literal["lpu", "mcm", "both"] = "lpu",
                  trials: Annotated[int, Query(ge=1000, le=200_000)] = 20_000) -> Response:
    """碳核算 The enterprise-year account with its uncertainty budget (for long Monte Carlo runs use a job).

    The account and its JSON are kept while the data are unchanged (the services' cache; :func:`json_of`): a kept
    one is answered on the event loop, one to compute in a worker thread (``served``)."""

    def answer() -> Response:
        return json_of(account_enterprise(ws, scope, enterprise, year, method=method, trials=trials),
                       lambda a: a.to_dict())

    return await served(answer)


@router.get("/comparison/{enterprise}/{year}")
def comparison(enterprise: Org, year: Year, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """比对 CEMS against the account per month and year (E_n, steps at recalibrations, suspects)."""
    return compare_enterprise(ws, scope, enterprise, year).to_dict()


@router.get("/review/{enterprise}")
def review(enterprise: Org, ws: WorkspaceDep, scope: ScopeDep,
           on: Annotated[date, Query(alias="date", description="review date")],
           profile: Annotated[str, Query(max_length=64)] = "gb17167_ccm") -> dict[str, Any]:
    """计量审查 The metrology review of the enterprise's instruments on a date."""
    return review_enterprise(ws, scope, enterprise, on, profile=profile).to_dict()
