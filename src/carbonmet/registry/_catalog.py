"""The point catalogue the metering store validates against (计量点目录), built in one place.

:func:`build_catalog` is the one code path: it turns points, instruments, installations and
certificates into :class:`~carbonmet.sites.Catalog` entries applying the registry's certificate
rules (:func:`cover_periods`: a failed verification 不合格 ends earlier cover, a calibration 校准
does not stand for the verification 检定 of an instrument under mandatory verification 强制检定).
:func:`catalog_from_registry` feeds it from the database, :func:`catalog_from_files` from the
registry import files (read and validated exactly as ``carbonmet registry import`` reads them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..sites import Catalog, InstrumentPeriod, PointInfo
from ._errors import ImportRejected, RegistryError, RowProblem
from ._import import read_tables, validate_rows
from ._models import Certificate, Installation, Instrument, MeasurementPoint, Organisation, Site
from ._queries import CertificateLike, InstrumentFields, cover_periods, instrument_interval
from ._rows import CertificateRow, InstrumentRow, PointRow, SiteRow


class InstrumentLike(InstrumentFields, Protocol):
    """What the catalogue needs of an instrument (an ORM :class:`Instrument` or an :class:`InstrumentRow`)."""

    @property
    def serial(self) -> str: ...
    @property
    def range_low(self) -> float | None: ...
    @property
    def range_high(self) -> float | None: ...
    @property
    def unit(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Placement:
    """An instrument (by registry code) installed at a point over a period (安装记录).

    ``installed_to`` is exclusive; ``None`` means "no end recorded" (see :func:`build_catalog`).
    """

    instrument: str
    point: str
    installed_from: date | None
    installed_to: date | None = None


def build_catalog(
    points: Iterable[PointInfo],
    instruments: Iterable[InstrumentLike],
    placements: Iterable[Placement],
    certificates: Mapping[str, Sequence[CertificateLike]],
) -> Catalog:
    """The point catalogue from plain registry records (the one place the rules are applied).

    Parameters
    ----------
    points : iterable of PointInfo
        The points, without instruments (any given are replaced).
    instruments : iterable of InstrumentLike
        Every instrument that may be installed (by ``code``).
    placements : iterable of Placement
        Installations. An installation with no recorded end at a point ends when the next
        instrument is installed at the same point (a replacement, 换表); a recorded end is kept.
    certificates : mapping of str to sequence of CertificateLike
        Instrument code → its certificates. Each becomes the period it covers by
        :func:`cover_periods` (first day, last day inclusive), so uncovered data stay uncovered.

    Returns
    -------
    Catalog
        Point id → :class:`PointInfo` with its instruments sorted by installation date, each with
        its covering certificates sorted by first day.
    """
    by_code = {i.code: i for i in instruments}
    covers: dict[str, tuple[tuple[str, date, date | None], ...]] = {}
    for code, certs in certificates.items():
        inst = by_code.get(code)
        if inst is None:
            raise RegistryError(f"certificates given for unknown instrument {code!r}")
        cover = cover_periods(certs, instrument_interval(inst), inst.legal_category)
        covers[code] = tuple(sorted(((no, a, b) for no, a, b in cover), key=lambda t: (t[1], t[0])))
    at_point: dict[str, list[Placement]] = defaultdict(list)
    for pl in placements:
        at_point[pl.point].append(pl)
    out: dict[str, PointInfo] = {}
    for p in points:
        pls = sorted(at_point.get(p.point_id, []), key=lambda x: (x.installed_from or date.min, x.instrument))
        periods: list[InstrumentPeriod] = []
        for k, pl in enumerate(pls):
            end = pl.installed_to
            if end is None:
                later = [q.installed_from for q in pls[k + 1:] if q.installed_from is not None
                         and (pl.installed_from is None or q.installed_from > pl.installed_from)]
                end = min(later) if later else None
            inst = by_code[pl.instrument]
            periods.append(InstrumentPeriod(
                instrument_id=inst.code, serial=inst.serial, installed_from=pl.installed_from, installed_to=end,
                range_low=inst.range_low, range_high=inst.range_high, range_unit=inst.unit or None,
                mpe_rel=inst.mpe_rel, certificates=covers.get(inst.code, ()),
            ))
        out[p.point_id] = replace(p, instruments=tuple(periods))
    return Catalog(out)


def catalog_from_registry(session: Session) -> Catalog:
    """The catalogue of every point in the registry database (see :func:`build_catalog`).

    An instrument's certificates are the periods they cover (:func:`cover_periods`): without failed
    verifications' after-effects, and for an instrument under mandatory verification (强制检定)
    without its calibration certificates, so metering sees such data as not covered.
    """
    instruments = list(session.scalars(select(Instrument)))
    code_of = {i.id: i.code for i in instruments}
    certs: dict[str, list[Certificate]] = defaultdict(list)
    for c in session.scalars(select(Certificate).where(Certificate.instrument_id.is_not(None))):
        certs[code_of[c.instrument_id]].append(c)  # type: ignore[index]
    point_code = {pid: code for pid, code in session.execute(select(MeasurementPoint.id, MeasurementPoint.code))}
    placements = [
        Placement(code_of[ins.instrument_id], point_code[ins.point_id], ins.installed_from, ins.installed_to)
        for ins in session.scalars(select(Installation))
    ]
    points = [
        _point_info(p.code, org_code, p.unit, p.reading_kind, p.quantity, p.carrier, p.source_stream, p.hj212_mn,
                    p.hj212_code)
        for p, org_code in session.execute(
            select(MeasurementPoint, Organisation.code)
            .join(Site, Site.id == MeasurementPoint.site_id)
            .join(Organisation, Organisation.id == Site.org_id)
            .order_by(MeasurementPoint.code)
        )
    ]
    return build_catalog(points, instruments, placements, certs)


def _point_info(point_id: str, enterprise: str, unit: str, kind: str, quantity: str | None, carrier: str | None,
                source_stream: str | None, mn: str | None, code: str | None) -> PointInfo:
    return PointInfo(
        point_id=point_id, enterprise=enterprise, unit=unit, reading_kind=kind,  # type: ignore[arg-type]
        quantity=quantity or "", carrier=carrier or "", source_stream=source_stream or "",
        hj212_mn=mn or None, hj212_code=code or None,
    )


def _read(path: Path, table: str, problems: list[RowProblem]) -> list[tuple[int, BaseModel]]:
    """Rows of ``table`` in a registry import file, validated by the importer's row models."""
    out: list[tuple[int, BaseModel]] = []
    fname = str(path)
    try:
        tables = read_tables(path)
    except OSError as exc:
        raise RegistryError(f"{path}: cannot open: {exc}") from exc
    for name, header, body in tables:
        if name != table:
            problems.append(RowProblem(fname, 1, "header", f"expected the {table} table, found {name}"))
            continue
        seen: dict[str, int] = {}
        for rowno, row in validate_rows(fname, table, header, body, problems):
            key = getattr(row, "code", None) or str(getattr(row, next(iter(type(row).model_fields))))
            if key in seen:
                problems.append(RowProblem(fname, rowno, next(iter(type(row).model_fields)),
                                           f"duplicate key {key!r} (also row {seen[key]})"))
                continue
            seen[key] = rowno
            out.append((rowno, row))
    return out


def catalog_from_files(
    points: str | Path,
    instruments: str | Path | None = None,
    certificates: str | Path | None = None,
    sites: str | Path | None = None,
) -> Catalog:
    """The point catalogue from registry import files (docs/formats/registry-import.md).

    The files are read and validated as ``carbonmet registry import`` reads them (same row models,
    column aliases, CSV or XLSX), and the catalogue is built by :func:`build_catalog`, so it equals
    what :func:`catalog_from_registry` gives after importing the same files.

    Parameters
    ----------
    points : str or Path
        ``points.csv`` (or an XLSX sheet ``points``).
    instruments : str or Path, optional
        ``instruments.csv``; rows with ``point_id`` are installed there from ``installed_from``.
    certificates : str or Path, optional
        ``certificates.csv``; instrument certificates are attached by ``subject`` (instrument id or
        serial, as the importer resolves it). Ignored without ``instruments``.
    sites : str or Path, optional
        ``sites.csv`` mapping site_code → org_code (the enterprise); without it the enterprise is
        the site code.

    Raises
    ------
    ImportRejected
        Listing every bad value as ``file:row:field: reason`` (zh-CN and English header).
    """
    problems: list[RowProblem] = []
    site_org: dict[str, str] | None = None
    if sites is not None:
        site_org = {r.site_code: r.org_code for _, r in _read(Path(sites), "sites", problems)
                    if isinstance(r, SiteRow)}
    pfile = str(points)
    point_rows = [(n, r) for n, r in _read(Path(points), "points", problems) if isinstance(r, PointRow)]
    infos: list[PointInfo] = []
    for rowno, pr in point_rows:
        if site_org is not None and pr.site_code not in site_org:
            problems.append(RowProblem(pfile, rowno, "site_code", f"site {pr.site_code!r} not in {sites}"))
        ent = site_org.get(pr.site_code, pr.site_code) if site_org is not None else pr.site_code
        infos.append(_point_info(pr.point_id, ent, pr.unit, pr.reading_kind, pr.quantity, pr.carrier,
                                 pr.source_stream, pr.hj212_mn, pr.hj212_code))
    known_points = {i.point_id for i in infos}
    inst_rows: list[InstrumentRow] = []
    placements: list[Placement] = []
    certs: dict[str, list[CertificateRow]] = defaultdict(list)
    if instruments is not None:
        ifile = str(instruments)
        for rowno, ir in _read(Path(instruments), "instruments", problems):
            assert isinstance(ir, InstrumentRow)
            inst_rows.append(ir)
            if ir.point_id:
                if ir.point_id not in known_points:
                    problems.append(RowProblem(ifile, rowno, "point_id", f"point {ir.point_id!r} not in {points}"))
                else:
                    placements.append(Placement(ir.code, ir.point_id, ir.installed_from))
        if certificates is not None:
            cfile = str(certificates)
            by_code = {i.code: i.code for i in inst_rows}
            by_serial: dict[str, list[str]] = defaultdict(list)
            for i in inst_rows:
                by_serial[i.serial].append(i.code)
            for rowno, cr in _read(Path(certificates), "certificates", problems):
                assert isinstance(cr, CertificateRow)
                if cr.subject_kind != "instrument":
                    continue
                code = by_code.get(cr.subject)
                if code is None:
                    matches = by_serial.get(cr.subject, [])
                    if len(matches) != 1:
                        why = "is ambiguous" if matches else "does not exist"
                        problems.append(RowProblem(cfile, rowno, "subject", f"instrument {cr.subject!r} {why}"))
                        continue
                    code = matches[0]
                certs[code].append(cr)
    if problems:
        raise ImportRejected(", ".join(sorted({p.file for p in problems})), problems)
    return build_catalog(infos, inst_rows, placements, certs)


__all__ = ["InstrumentLike", "Placement", "build_catalog", "catalog_from_files", "catalog_from_registry"]
