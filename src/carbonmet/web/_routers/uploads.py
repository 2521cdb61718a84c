"""Uploads: readings (CSV/XLSX files or JSON), laboratory results, DCC certificates — each answering with what
was stored and why anything was quarantined or refused (上传)."""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from carbonmet.services import import_dcc_certificate, import_lab, ingest_files

from .._auth import ScopeDep, WorkspaceDep, current_caller

router = APIRouter(prefix="/api/v1", tags=["uploads 上传"], dependencies=[Depends(current_caller)])
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 1 << 20


def _name(upload: UploadFile, i: int, allowed: tuple[str, ...]) -> str:
    name = Path(upload.filename or "").name
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    if suffix not in allowed:
        raise HTTPException(422, f"文件类型不支持 file {name or i!r}: expected {', '.join(allowed)}")
    return f"{i:02d}-{_SAFE.sub('_', stem)[:80] or 'upload'}{suffix}"


@contextmanager
def saved(request: Request, uploads: list[UploadFile], allowed: tuple[str, ...]) -> Iterator[list[Path]]:
    """The uploaded files in a temporary directory (removed afterwards), each at most the configured size."""
    limit = request.app.state.config.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="carbonmet-upload-") as d:
        paths = []
        for i, up in enumerate(uploads):
            path = Path(d) / _name(up, i, allowed)
            size = 0
            with path.open("wb") as out:
                while chunk := up.file.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise HTTPException(413, f"文件过大 file {up.filename!r} is over {limit} bytes")
                    out.write(chunk)
            paths.append(path)
        yield paths


def _renamed(obj: Any, names: dict[str, str]) -> Any:
    """``obj`` with the temporary paths of the uploads replaced by the names the client gave."""
    if isinstance(obj, str):
        for tmp, name in names.items():
            obj = obj.replace(tmp, name)
        return obj
    if isinstance(obj, dict):
        return {k: _renamed(v, names) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_renamed(v, names) for v in obj]
    return obj


def _ingest_answer(total: Any, per_file: list[Any], names: list[str]) -> dict[str, Any]:
    files = []
    for name, r in zip(names, per_file, strict=True):
        d = r.to_dict()
        d["origin"] = name
        files.append(d)
    out = total.to_dict()
    out["files"] = files
    return out


@router.post("/readings", status_code=200)
def upload_readings(request: Request, ws: WorkspaceDep, scope: ScopeDep,
                    files: Annotated[list[UploadFile], File(description="readings files (.csv, .xlsx)")],
                    mapping: Annotated[str | None, Form(description="column map FIELD=COLUMN,…")] = None,
                    default_tz: Annotated[str | None, Form(description="IANA zone of naive times")] = None
                    ) -> dict[str, Any]:
    """上传读数 Readings files → the store: received = stored + quarantined + duplicates, reasons per file.

    Rows for points the caller may not write are quarantined ``out_of_scope`` (nothing of them is stored).
    """
    with saved(request, files, (".csv", ".xlsx", ".xlsm")) as paths:
        total, per_file = ingest_files(ws, scope, paths, mapping=mapping, default_tz=default_tz)
        names = {str(p): f.filename or p.name for p, f in zip(paths, files, strict=True)}
    return _renamed(_ingest_answer(total, per_file, [f.filename or "" for f in files]), names)


class Reading(BaseModel):
    point_id: str | None = Field(default=None, max_length=128)
    serial: str | None = Field(default=None, max_length=128)
    ts: str = Field(max_length=64, description="ISO 8601 with offset")
    value: float
    unit: str | None = Field(default=None, max_length=48)
    flag: str | None = Field(default=None, max_length=4)


class Readings(BaseModel):
    readings: list[Reading] = Field(min_length=1, max_length=100_000)


_COLUMNS = ("point_id", "serial", "ts", "value", "unit", "flag")


@router.post("/readings/json", status_code=200)
def upload_readings_json(body: Readings, ws: WorkspaceDep, scope: ScopeDep) -> dict[str, Any]:
    """上传读数 (JSON) Readings as JSON, ingested through the same path as a CSV file (same checks, same report)."""
    with tempfile.TemporaryDirectory(prefix="carbonmet-upload-") as d:
        path = Path(d) / "readings.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(_COLUMNS)
            for r in body.readings:
                w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v
                            for v in (r.point_id, r.serial, r.ts, r.value, r.unit, r.flag)])
        total, per_file = ingest_files(ws, scope, [path])
    return _ingest_answer(total, per_file, ["readings.json"])


@router.post("/lab", status_code=200)
def upload_lab(request: Request, ws: WorkspaceDep, scope: ScopeDep,
               files: Annotated[list[UploadFile], File(description="laboratory result files (.csv, .xlsx)")],
               enterprise: Annotated[str | None, Form(max_length=64)] = None) -> dict[str, Any]:
    """上传化验结果 Laboratory results: stored / duplicate / quarantined per file, with reasons (docs/formats/lab.md)."""
    with saved(request, files, (".csv", ".xlsx", ".xlsm")) as paths:
        report = import_lab(ws, scope, paths, enterprise=enterprise)
    return _renamed(report.to_dict(), {str(p): f.filename or p.name for p, f in zip(paths, files, strict=True)})


@router.post("/certificates/dcc", status_code=201)
def upload_dcc(request: Request, ws: WorkspaceDep, scope: ScopeDep,
               file: Annotated[UploadFile, File(description="DCC XML (PTB digital calibration certificate)")],
               instrument: Annotated[str | None, Form(max_length=128)] = None,
               issuer: Annotated[str | None, Form(max_length=64)] = None) -> dict[str, Any]:
    """上传数字证书 A DCC XML document → a calibration certificate of an instrument the caller may write."""
    with saved(request, [file], (".xml",)) as paths:
        source = paths[0].read_bytes()
    return import_dcc_certificate(ws, scope, source, instrument=instrument, issuer=issuer)
