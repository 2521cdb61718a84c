"""Organisations, sites, points, instruments, certificates and the due list (台账)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from carbonmet.services import (
    due_items,
    get_certificate,
    get_instrument,
    list_certificates,
    list_instruments,
    list_organisations,
    list_points,
    list_sites,
)

from .._auth import ScopeDep, WorkspaceDep, current_caller
from .._problems import json_of
from .._served import served

router = APIRouter(prefix="/api/v1", tags=["registry 台账"], dependencies=[Depends(current_caller)])


@router.get("/organisations", response_model=list[dict[str, Any]])
async def organisations(ws: WorkspaceDep, scope: ScopeDep) -> Response:
    """单位 Organisations the caller may read (kept per registry version: answered on the event loop once kept)."""
    return await served(lambda: json_of(list_organisations(ws, scope)))


@router.get("/sites")
def sites(ws: WorkspaceDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """厂区 Sites of the organisations the caller may read."""
    return list_sites(ws, scope)


@router.get("/points")
def points(ws: WorkspaceDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """计量点 Measurement points the caller may read."""
    return list_points(ws, scope)


@router.get("/instruments")
def instruments(ws: WorkspaceDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """计量器具 Instruments the caller may read, with the point each is installed at."""
    return list_instruments(ws, scope)


@router.get("/instruments/{ref}")
def instrument(ref: str, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """One instrument by registry id or serial (404 if none the caller may read)."""
    return get_instrument(ws, scope, ref)


@router.get("/certificates")
def certificates(ws: WorkspaceDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """检定/校准证书 Certificates whose subject the caller may read."""
    return list_certificates(ws, scope)


@router.get("/certificates/{cert_no}")
def certificate(cert_no: str, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """One certificate (404 unless its subject is readable)."""
    return get_certificate(ws, scope, cert_no)


@router.get("/due", response_model=list[dict[str, Any]])
async def due(ws: WorkspaceDep, scope: ScopeDep,
              today: Annotated[date | None, Query(description="reference date (default: today)")] = None,
              within_days: Annotated[int, Query(ge=0, le=3650)] = 30,
              include_ok: bool = False) -> Response:
    """待检/超期 Instruments due or overdue for verification or calibration (kept per registry version and
    arguments: answered on the event loop once kept)."""
    on = today or date.today()

    def answer() -> Response:
        return json_of(due_items(ws, scope, on, within_days, include_ok=include_ok),
                       lambda xs: [i.to_dict() for i in xs])

    return await served(answer)
