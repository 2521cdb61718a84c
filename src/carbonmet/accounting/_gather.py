"""Gather what a plan-based account reads: hourly amounts from the store, certificate states from the
registry, months in local time (数据汇集)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from carbonmet.factors import Profile, default_profile, load_profile
from carbonmet.metering import PointInfo, Store, aggregate_table
from carbonmet.registry import instrument_states
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


def gather(session: Session, store: Store, catalog: Mapping[str, PointInfo], plan: MonitoringPlan, year: int,
           lab: Sequence[LabRecord], *, tz: str = "Asia/Shanghai", profile: str | None = None,
           points: Sequence[str] | None = None) -> PlanData:
    """The :class:`PlanData` of ``plan``'s enterprise for ``year``: hourly aggregation of its points (one
    :func:`carbonmet.metering.aggregate_table` call), the month of each hour, certificate states of every
    instrument and analyser by month (:func:`carbonmet.registry.instrument_states`).

    ``points`` replaces the points the accounted streams read (:func:`plan_points`), e.g. the CEMS points of
    the measured-emission streams."""
    z = ZoneInfo(tz)
    start, end = datetime(year, 1, 1, tzinfo=z), datetime(year + 1, 1, 1, tzinfo=z)
    H = int((end - start).total_seconds() // 3600)
    pts = [p for p in (plan_points(plan) if points is None else points) if p in catalog]
    hourly: dict[str, Hourly] = {}
    hour_start = (np.int64(int(start.timestamp())) + np.arange(H, dtype=np.int64) * 3600) * 1_000_000
    # month of each hour, in local time (fixed offset zones: Asia/Shanghai has no DST)
    local = np.array([start.replace(tzinfo=None)], dtype="datetime64[h]")[0] + np.arange(H).astype("timedelta64[h]")
    hour_period = (local.astype("datetime64[M]").astype(np.int64) - np.datetime64(f"{year}-01", "M").astype(np.int64))
    if pts:
        tab = aggregate_table(store, catalog, pts, start, end, "hour", tz=tz)
        pid = tab["point_id"].to_numpy(zero_copy_only=False)
        vm = tab["value_measured"].to_numpy(zero_copy_only=False)
        vs = np.nan_to_num(tab["value_substituted"].to_numpy(zero_copy_only=False))
        stp = tab["stopped_hours"].to_numpy(zero_copy_only=False) > 0
        units = tab["unit"].to_numpy(zero_copy_only=False)
        for p in pts:
            idx = np.flatnonzero(pid == p)
            if idx.size == 0:
                continue
            ins = []
            for ip in catalog[p].instruments:
                h0 = 0 if ip.installed_from is None else _hour_of(ip.installed_from, start, z)
                h1 = H if ip.installed_to is None else _hour_of(ip.installed_to, start, z)
                if h1 > 0 and h0 < H:
                    ins.append((ip.instrument_id, h0, h1))
            hourly[p] = Hourly(p, str(units[idx[0]]), vm[idx][:H], vs[idx][:H], tuple(ins),
                               stp[idx][:H] & ~np.isfinite(vm[idx][:H]))
    ids = {i for h in hourly.values() for i, _, _ in h.instruments} | {x.instrument_id for x in lab}
    ids |= {i for r in plan.parameters for i in r.instruments}
    states = instrument_states(session, sorted(ids), months(year))

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
            share, s.reason, "analyser" if role == "analyser" else "instrument")

    prof: Profile = load_profile(profile) if profile else default_profile()
    return PlanData(plan, year, hour_period.astype(np.int64), [f"{year}-{m:02d}" for m in range(1, 13)], hour_start,
                    hourly, lab, figures, prof)


def _hour_of(d: date, start: datetime, z: ZoneInfo) -> int:
    return int((datetime(d.year, d.month, d.day, tzinfo=z) - start).total_seconds() // 3600)
