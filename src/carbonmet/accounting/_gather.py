"""Gather what a plan-based account reads: hourly amounts from the store, certificate states from the
registry, months in local time (数据汇集)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from carbonmet.factors import Profile, default_profile, load_profile
from carbonmet.metering import PointInfo, Store, aggregate_table
from carbonmet.metering.aggregation import Engine
from carbonmet.registry import InstrumentState, instrument_states
from carbonmet.sites import MonitoringPlan

from ._fromplan import Hourly, LabRecord, PlanData
from ._terms import InstrumentFigure


def months(year: int) -> list[tuple[date, date]]:
    """The twelve months of ``year`` as ``[first day, first day of the next month)``."""
    return [(date(year, m, 1), date(year + (m == 12), m % 12 + 1, 1)) for m in range(1, 13)]


def plan_points(plan: MonitoringPlan) -> list[str]:
    """Metering points the plan's accounted streams read (activity data, purity)."""
    wanted = {st.source_stream for st in plan.streams if st.kind not in ("measured_emission", "other")}
    return sorted({r.ref for r in plan.parameters if r.source == "point" and r.source_stream in wanted
                   and r.parameter in ("activity_data", "purity")})


def plan_data_from_table(plan: MonitoringPlan, year: int, table: pa.Table | None, catalog: Mapping[str, PointInfo],
                         figures: Callable[[str, str], InstrumentFigure | None], lab: Sequence[LabRecord] = (), *,
                         tz: str = "Asia/Shanghai", profile: Profile | None = None,
                         points: Sequence[str] | None = None) -> PlanData:
    """The :class:`PlanData` of ``plan`` for ``year`` from an hourly table already computed (pure).

    Parameters
    ----------
    plan : MonitoringPlan
        The enterprise's monitoring plan.
    year : int
        Calendar year, in local time ``tz``.
    table : pyarrow.Table or None
        Rows of :func:`carbonmet.metering.aggregate_table` with period ``"hour"`` over the local year, each
        point's rows in time order; it may hold other points too (e.g. a whole region's), in any order of
        points, which are ignored. ``None``: no hourly data.
    catalog : mapping of str to PointInfo
        Point catalog (instruments and their installation dates).
    figures : callable
        Certificate figures of an instrument or analyser id and role (:class:`InstrumentFigure` or ``None``).
    lab : sequence of LabRecord
        Laboratory results of the plan.
    tz : str
        Local time zone of the year (fixed offset).
    profile : Profile, optional
        Default-value profile; :func:`carbonmet.factors.default_profile` when not given.
    points : sequence of str, optional
        Points to take; default :func:`plan_points` (the accounted streams' points). Points not in the
        catalog are left out, as are points without a row in ``table``.

    Returns
    -------
    PlanData
        Per point an :class:`Hourly` (measured and substituted amounts per hour [unit × h for rates], the
        instruments with the hours each was installed, hours stopped without a valid mean), the month of
        each hour, UTC hour starts [µs].
    """
    z = ZoneInfo(tz)
    start, end = datetime(year, 1, 1, tzinfo=z), datetime(year + 1, 1, 1, tzinfo=z)
    H = int((end - start).total_seconds() // 3600)
    pts = [p for p in (plan_points(plan) if points is None else points) if p in catalog]
    hourly: dict[str, Hourly] = {}
    hour_start = (np.int64(int(start.timestamp())) + np.arange(H, dtype=np.int64) * 3600) * 1_000_000
    # month of each hour, in local time (fixed offset zones: Asia/Shanghai has no DST)
    local = np.array([start.replace(tzinfo=None)], dtype="datetime64[h]")[0] + np.arange(H).astype("timedelta64[h]")
    hour_period = (local.astype("datetime64[M]").astype(np.int64) - np.datetime64(f"{year}-01", "M").astype(np.int64))
    if pts and table is not None and table.num_rows:
        names = list(dict.fromkeys(pts))
        # rows of each wanted point, in table order (matched in Arrow: no Python string per row)
        code = pc.fill_null(pc.index_in(table.column("point_id"), value_set=pa.array(names, pa.string())), -1)
        code = code.to_numpy().astype(np.int64, copy=False)
        rows = np.flatnonzero(code >= 0)
        rows = rows[np.argsort(code[rows], kind="stable")]
        bounds = np.searchsorted(code[rows], np.arange(len(names) + 1))
        rows_of = {p: rows[bounds[k]:bounds[k + 1]] for k, p in enumerate(names)}
        sub = table.select(["value_measured", "value_substituted", "stopped_hours", "unit"]).take(rows)
        vm_all = sub.column("value_measured").to_numpy()
        vs_all = np.nan_to_num(sub.column("value_substituted").to_numpy())
        stp_all = sub.column("stopped_hours").to_numpy() > 0
        units = sub.column("unit")
        pos = {p: bounds[k] for k, p in enumerate(names)}
        for p in pts:
            n = rows_of[p].size
            if n == 0:
                continue
            a = int(pos[p])
            sl = slice(a, a + min(n, H))
            ins = []
            for ip in catalog[p].instruments:
                h0 = 0 if ip.installed_from is None else _hour_of(ip.installed_from, start, z)
                h1 = H if ip.installed_to is None else _hour_of(ip.installed_to, start, z)
                if h1 > 0 and h0 < H:
                    ins.append((ip.instrument_id, h0, h1))
            vm = vm_all[sl]
            hourly[p] = Hourly(p, str(units[a].as_py()), vm, vs_all[sl], tuple(ins), stp_all[sl] & ~np.isfinite(vm))
    prof = default_profile() if profile is None else profile
    return PlanData(plan, year, hour_period.astype(np.int64), [f"{year}-{m:02d}" for m in range(1, 13)], hour_start,
                    hourly, lab, figures, prof)


def _figures(states: Mapping[str, InstrumentState]) -> Callable[[str, str], InstrumentFigure | None]:
    """Certificate figures by instrument id and role, from the registry's certificate states."""
    def figures(ident: str, role: str) -> InstrumentFigure | None:
        s = states.get(ident)
        if s is None:
            return None
        share = np.array([u / d if d else 0.0 for u, d in zip(s.uncovered_days, s.days, strict=True)])
        return InstrumentFigure(
            s.instrument, s.kind if s.kind in ("verification", "calibration") else "none",  # type: ignore[arg-type]
            s.u_rel / 100.0 if math.isfinite(s.u_rel) else math.nan,
            None if s.mpe_rel is None else s.mpe_rel / 100.0, s.certificates,
            None if s.as_found_rel is None else s.as_found_rel / 100.0, False, s.state,  # type: ignore[arg-type]
            # a certificate accepted despite a failed DCC signature check stays flagged in the term's evidence
            share, "; ".join(x for x in (s.reason, *s.signature_flags) if x),
            "analyser" if role == "analyser" else "instrument")

    return figures


def _instrument_ids(d: PlanData) -> set[str]:
    """Instruments and analysers whose certificates the account of ``d`` reads."""
    ids = {i for h in d.hourly.values() for i, _, _ in h.instruments} | {x.instrument_id for x in d.lab}
    return ids | {i for r in d.plan.parameters for i in r.instruments}


def _year_range(year: int, tz: str) -> tuple[datetime, datetime]:
    z = ZoneInfo(tz)
    return datetime(year, 1, 1, tzinfo=z), datetime(year + 1, 1, 1, tzinfo=z)


def gather(session: Session, store: Store, catalog: Mapping[str, PointInfo], plan: MonitoringPlan, year: int,
           lab: Sequence[LabRecord], *, tz: str = "Asia/Shanghai", profile: str | None = None,
           points: Sequence[str] | None = None) -> PlanData:
    """The :class:`PlanData` of ``plan``'s enterprise for ``year``: hourly aggregation of its points (one
    :func:`carbonmet.metering.aggregate_table` call), the month of each hour, certificate states of every
    instrument and analyser by month (:func:`carbonmet.registry.instrument_states`).

    ``points`` replaces the points the accounted streams read (:func:`plan_points`), e.g. the CEMS points of
    the measured-emission streams."""
    return gather_many(session, store, catalog, [plan], year, {plan.enterprise: lab}, tz=tz, profile=profile,
                       points_by_enterprise=None if points is None else {plan.enterprise: points})[plan.enterprise]


def gather_many(session: Session, store: Store, catalog: Mapping[str, PointInfo], plans: Sequence[MonitoringPlan],
                year: int, lab_by_enterprise: Mapping[str, Sequence[LabRecord]] | None = None, *,
                tz: str = "Asia/Shanghai", profile: str | None = None,
                points_by_enterprise: Mapping[str, Sequence[str]] | None = None,
                engine: Engine | None = None) -> dict[str, PlanData]:
    """The :class:`PlanData` of several enterprises' plans for ``year`` (区域汇集), with ONE
    :func:`carbonmet.metering.aggregate_table` call over the points of all plans and one registry query
    for all their instruments; each result equals :func:`gather` of that plan alone.

    Parameters
    ----------
    session : Session
        Registry session (certificate states).
    store : Store
        Metering store.
    catalog : mapping of str to PointInfo
        Point catalog.
    plans : sequence of MonitoringPlan
        One plan per enterprise.
    year : int
        Calendar year, in local time ``tz``.
    lab_by_enterprise : mapping of str to sequence of LabRecord, optional
        Laboratory results per enterprise (none when an enterprise is missing).
    tz : str
        Local time zone of the year (fixed offset).
    profile : str, optional
        Name of a default-value profile (:func:`carbonmet.factors.load_profile`).
    points_by_enterprise : mapping of str to sequence of str, optional
        Points to take per enterprise instead of :func:`plan_points` (e.g. the CEMS points); an enterprise
        missing from it takes :func:`plan_points`.
    engine : callable, optional
        Aggregation engine of the hourly table (:func:`carbonmet.metering.aggregate_table`); default DuckDB.

    Returns
    -------
    dict of str to PlanData
        By enterprise code, in the order of ``plans``.

    Raises
    ------
    ValueError
        Two plans of the same enterprise.
    """
    ents = [p.enterprise for p in plans]
    dup = sorted({e for e in ents if ents.count(e) > 1})
    if dup:
        raise ValueError(f"每个企业只能有一个监测计划 / one plan per enterprise, got several for {', '.join(dup)}")
    labs = lab_by_enterprise or {}
    pts = {p.enterprise: [q for q in (plan_points(p) if points_by_enterprise is None
                                      or p.enterprise not in points_by_enterprise
                                      else points_by_enterprise[p.enterprise]) if q in catalog] for p in plans}
    union = list(dict.fromkeys(q for v in pts.values() for q in v))
    start, end = _year_range(year, tz)
    table = aggregate_table(store, catalog, union, start, end, "hour", tz=tz, engine=engine) if union else None
    prof: Profile = load_profile(profile) if profile else default_profile()
    out = {p.enterprise: plan_data_from_table(p, year, table, catalog, _figures({}), labs.get(p.enterprise, ()),
                                              tz=tz, profile=prof, points=pts[p.enterprise]) for p in plans}
    ids = {e: _instrument_ids(d) for e, d in out.items()}
    states = instrument_states(session, sorted(set().union(*ids.values())), months(year))
    for e, d in out.items():
        own = {i: states[i] for i in ids[e] if i in states}  # each plan sees only its own instruments
        out[e] = dataclasses.replace(d, figures=_figures(own))
    return out


def _hour_of(d: date, start: datetime, z: ZoneInfo) -> int:
    return int((datetime(d.year, d.month, d.day, tzinfo=z) - start).total_seconds() // 3600)
