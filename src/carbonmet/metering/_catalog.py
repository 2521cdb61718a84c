"""Reading a point catalog from the registry import CSV files (docs/formats/registry-import.md)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from carbonmet.quantities import UnitError, parse_unit
from carbonmet.sites import Catalog, InstrumentPeriod, PointInfo, as_catalog

from ._errors import CatalogError

__all__ = ["Catalog", "as_catalog", "load_catalog"]

_KINDS = ("total", "rate", "sample", "interval")


# --- CSV loading --------------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot open: {exc}") from exc
    with fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            yield i, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}


def _need(path: Path, line: int, row: dict[str, str], col: str) -> str:
    v = row.get(col, "")
    if not v:
        raise CatalogError(f"{path}:{line}:{col}: required value missing")
    return v


def _opt_float(path: Path, line: int, row: dict[str, str], col: str) -> float | None:
    v = row.get(col, "")
    if not v:
        return None
    try:
        return float(v)
    except ValueError:
        raise CatalogError(f"{path}:{line}:{col}: not a number: {v!r}") from None


def _opt_date(path: Path, line: int, row: dict[str, str], col: str) -> date | None:
    v = row.get(col, "")
    if not v:
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise CatalogError(f"{path}:{line}:{col}: not an ISO 8601 date: {v!r}") from None


def load_catalog(
    points: Path,
    instruments: Path | None = None,
    certificates: Path | None = None,
    sites: Path | None = None,
) -> Catalog:
    """Read a point catalog from registry import CSV files.

    Parameters
    ----------
    points : Path
        ``points.csv`` (point_id, site_code, unit, reading_kind, …).
    instruments : Path, optional
        ``instruments.csv``; rows with ``point_id`` give the point's instruments (range, mpe_rel,
        installed_from). An instrument's installation ends when a later one is installed at the point.
    certificates : Path, optional
        ``certificates.csv``; attached to instruments by ``subject`` (serial or instrument_id).
    sites : Path, optional
        ``sites.csv`` mapping site_code → org_code (the enterprise); without it the enterprise is the
        site code.

    Raises
    ------
    CatalogError
        Naming file, line and field of the first bad value.
    """
    site_org: dict[str, str] = {}
    if sites is not None:
        for line, row in _rows(sites):
            site_org[_need(sites, line, row, "site_code")] = _need(sites, line, row, "org_code")

    certs: dict[str, list[tuple[str, date, date | None]]] = {}
    if certificates is not None:
        for line, row in _rows(certificates):
            if row.get("subject_kind", "instrument") not in ("", "instrument"):
                continue
            subject = _need(certificates, line, row, "subject")
            cal = _opt_date(certificates, line, row, "calibration_date")
            if cal is None:
                raise CatalogError(f"{certificates}:{line}:calibration_date: required value missing")
            certs.setdefault(subject, []).append(
                (_need(certificates, line, row, "cert_no"), cal, _opt_date(certificates, line, row, "valid_until"))
            )

    by_point: dict[str, list[InstrumentPeriod]] = {}
    if instruments is not None:
        for line, row in _rows(instruments):
            serial = _need(instruments, line, row, "serial")
            pid = row.get("point_id", "")
            if not pid:
                continue
            iid = row.get("instrument_id") or serial
            unit = row.get("unit") or None
            if unit:
                try:
                    parse_unit(unit)
                except UnitError as exc:
                    raise CatalogError(f"{instruments}:{line}:unit: {exc}") from None
            mine = tuple(sorted(set(certs.get(serial, []) + (certs.get(iid, []) if iid != serial else []))))
            by_point.setdefault(pid, []).append(
                InstrumentPeriod(
                    instrument_id=iid,
                    serial=serial,
                    installed_from=_opt_date(instruments, line, row, "installed_from"),
                    installed_to=None,
                    range_low=_opt_float(instruments, line, row, "range_low"),
                    range_high=_opt_float(instruments, line, row, "range_high"),
                    range_unit=unit,
                    mpe_rel=_opt_float(instruments, line, row, "mpe_rel"),
                    certificates=mine,
                )
            )
    # an installation ends when the next instrument is installed at the same point
    for pid, ips in by_point.items():
        ips.sort(key=lambda ip: ip.installed_from or date.min)
        for i in range(len(ips) - 1):
            nxt = ips[i + 1].installed_from
            if nxt is not None:
                ip = ips[i]
                ips[i] = InstrumentPeriod(
                    ip.instrument_id, ip.serial, ip.installed_from, nxt, ip.range_low, ip.range_high,
                    ip.range_unit, ip.mpe_rel, ip.certificates,
                )

    out: dict[str, PointInfo] = {}
    for line, row in _rows(points):
        pid = _need(points, line, row, "point_id")
        if pid in out:
            raise CatalogError(f"{points}:{line}:point_id: duplicate point {pid!r}")
        unit = _need(points, line, row, "unit")
        try:
            parse_unit(unit)
        except UnitError as exc:
            raise CatalogError(f"{points}:{line}:unit: {exc}") from None
        kind = _need(points, line, row, "reading_kind")
        if kind not in _KINDS:
            raise CatalogError(f"{points}:{line}:reading_kind: must be one of {', '.join(_KINDS)}, got {kind!r}")
        site = _need(points, line, row, "site_code")
        out[pid] = PointInfo(
            point_id=pid,
            enterprise=site_org.get(site, site),
            unit=unit,
            reading_kind=kind,  # type: ignore[arg-type]
            quantity=row.get("quantity", ""),
            carrier=row.get("carrier", ""),
            source_stream=row.get("source_stream", ""),
            hj212_mn=row.get("hj212_mn") or None,
            hj212_code=row.get("hj212_code") or None,
            instruments=tuple(by_point.get(pid, ())),
        )
    unknown = sorted(set(by_point) - set(out))
    if unknown and instruments is not None:
        raise CatalogError(f"{instruments}: point_id not in {points}: {', '.join(unknown[:5])}")
    return Catalog(out)
