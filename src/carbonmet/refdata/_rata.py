"""Reference-method comparisons (参比方法比对, RATA) of the pilot enterprises' stacks and vents.

For each pilot enterprise (the one with the drifting CEMS flow monitor, then the first enterprises whose CEMS
instruments carry no injected instrument fault) and each monitored stack or vent, one test campaign in the last
local month of the year: whole-hour runs at fixed daytime hours on ``days`` test days while the plant runs (every
component's hourly value valid, flag N, no injected data fault in the hour). Per run and parameter:

* reference = hourly truth × (1 + u·z), z ~ N(0, 1), u the reference method's per-run standard uncertainty
  (``constants.toml`` ``[rata.parameter.*]``, [A]);
* CEMS = the hourly value of the point as the region's readings give it (the values written to the store, at
  minute resolution their HJ 75 hourly mean).

The files are written with the QA module's own writer (:func:`carbonmet.cems.qa.write_rata_file`), one row model
with the reader. Draws use their own random stream (``TAG_RATA``), so no earlier draw of a seed moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from ..cems.qa import PairedRuns, Run, write_rata_file
from ._constants import constants
from ._ctx import Ctx
from ._region import TAG_RATA, rng_for, stack_names
from ._types import Enterprise, Fault, Point

#: Instrument faults that disqualify an enterprise as a healthy pilot when they sit on a CEMS point.
INSTRUMENT_FAULTS = ("drift", "does_not_conform", "nonconforming_class")

Hourly = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def units(e: Enterprise) -> list[str]:
    """Monitored stacks and vents of an enterprise (``STACKk``, ``MTO_REGEN``, ``RECTISOL_VENT``)."""
    return [*stack_names(e), "RECTISOL_VENT"]


def _parameters(unit: str) -> list[tuple[str, dict[str, Any]]]:
    pars = constants()["rata"]["parameter"]
    return [(k, v) for k, v in pars.items() if unit != "RECTISOL_VENT" or k != "moisture"]


def rata_points(e: Enterprise) -> list[str]:
    """Point ids whose hourly readings the comparisons of ``e`` need."""
    return [f"{e.code}.{u}.{v['suffix']}" for u in units(e) for _, v in _parameters(u)]


def _is_cems_point(pid: str) -> bool:
    parts = pid.split(".")
    return len(parts) == 3 and (parts[1].startswith("STACK") or parts[1] in ("MTO_REGEN", "RECTISOL_VENT")) \
        and parts[2] in ("FLOW", "CO2", "MOIST")


def pilots(ents: Sequence[Enterprise], drift_faults: Sequence[Fault], findings: Sequence[Fault],
           oot_events: Sequence[Mapping[str, Any]]) -> list[Enterprise]:
    """The pilot enterprises: the one with a drifting CEMS flow monitor (if any), then the first
    ``pilots_without_faults`` enterprises (region order) with no instrument fault on a CEMS point (no drift, no
    certificate traced to the out-of-tolerance standard, no failed or non-conforming instrument)."""
    bad: set[str] = set()
    for f in [*drift_faults, *findings]:
        if f.kind in INSTRUMENT_FAULTS and _is_cems_point(f.point_id):
            bad.add(f.point_id.split(".")[0])
    for ev in oot_events:
        for a in ev["affected_certificates"]:
            if _is_cems_point(a["point_id"]):
                bad.add(a["point_id"].split(".")[0])
    drift = next((f.enterprise for f in drift_faults if f.kind == "drift" and f.point_id.endswith(".FLOW")
                  and _is_cems_point(f.point_id)), None)
    n = int(constants()["rata"]["pilots_without_faults"])
    healthy = [e for e in ents if e.code not in bad][:n]
    return [e for e in ents if e.code == drift] + healthy


def _hour_table(th: np.ndarray, v: np.ndarray, fl: np.ndarray) -> dict[int, tuple[float, int]]:
    return {int(h): (float(x), int(f)) for h, x, f in zip(th, v, fl, strict=True) if float(h).is_integer()}


def write_rata_files(ctx: Ctx, ents: Sequence[Enterprise], pilot: Sequence[Enterprise],
                     truths: Mapping[str, Any], points: Mapping[str, Point], hourly: Hourly,
                     faults_by_point: Mapping[str, Sequence[Fault]]) -> dict[str, Any]:
    """Write ``cems/rata-<E>-<UNIT>-<YYYY-MM>.csv`` for every monitored stack and vent of the pilots.

    Parameters
    ----------
    ctx : Ctx
    ents : sequence of Enterprise
        The whole region (an enterprise's random stream is keyed by its position).
    pilot : sequence of Enterprise
        From :func:`pilots`.
    truths : mapping
        Enterprise code → :class:`EnterpriseTruth` (hourly signals).
    points : mapping
        Point id → :class:`Point`.
    hourly : mapping
        Point id → (hour positions, hourly values, flag indices) of the readings written for the campaign
        month (hour positions are whole hours from local 1 January 00:00).
    faults_by_point : mapping
        Injected data faults (gap, stuck, spike, maintenance) per point.

    Returns
    -------
    dict
        ``files`` (relative paths), ``pilots``, ``skipped`` (stacks without enough valid test days) and the
        reference methods with their per-run u, source and evidence mark (for the manifest).
    """
    c = constants()["rata"]
    month = int(c["month"])
    ms = ctx.ms
    m0, m1 = int(ms[month - 1]), int(ms[month])
    run_hours = [int(h) for h in c["run_hours"]]
    n_days = int(c["days"])
    d_lo, d_hi = (int(x) for x in c["first_day"])
    tz = timezone(timedelta(hours=ctx.tz))
    t0 = datetime(ctx.year, 1, 1, tzinfo=tz)
    label = f"{ctx.year}-{month:02d}"
    index = {e.code: i for i, e in enumerate(ents)}
    files: list[str] = []
    skipped: list[str] = []
    for e in pilot:
        tr = truths[e.code]
        for k, unit in enumerate(units(e)):
            pars = _parameters(unit)
            pids = [f"{e.code}.{unit}.{v['suffix']}" for _, v in pars]
            rng = rng_for(ctx.seed, TAG_RATA, index[e.code], k)
            first = int(rng.integers(d_lo, d_hi + 1))
            z = rng.standard_normal((len(pars), n_days * len(run_hours)))
            tables = {pid: _hour_table(*hourly[pid]) if pid in hourly else {} for pid in pids}
            flow_signal = tr.signals[points[pids[0]].signal]

            def valid(h: int, pids: list[str] = pids, tables: dict[str, dict[int, tuple[float, int]]] = tables,
                      flow_signal: np.ndarray = flow_signal) -> bool:
                if not m0 <= h < m1 or flow_signal[h] <= 0:
                    return False
                for pid in pids:
                    got = tables[pid].get(h)
                    if got is None or got[1] != 0 or not np.isfinite(got[0]):
                        return False
                    if any(f.start_h < h + 1 and f.end_h > h for f in faults_by_point.get(pid, ())):
                        return False
                return True

            days: list[list[int]] = []
            day = first
            while len(days) < n_days and m0 + (day - 1) * 24 < m1:
                hs = [m0 + (day - 1) * 24 + hh for hh in run_hours]
                if all(valid(h) for h in hs):
                    days.append(hs)
                day += 1
            if len(days) < n_days:
                skipped.append(f"{e.code}.{unit}")
                continue
            hours = [h for hs in days for h in hs]
            series = []
            notes = {}
            for j, ((par, spec), pid) in enumerate(zip(pars, pids, strict=True)):
                truth = tr.signals[points[pid].signal]
                dec = int(spec["decimals"])
                runs = tuple(
                    Run(str(i + 1), round(float(truth[h]) * (1 + float(spec["u_rel_pct"]) / 100 * float(z[j, i])), dec),
                        tables[pid][h][0], t0 + timedelta(hours=h), t0 + timedelta(hours=h + 1), str(spec["method"]))
                    for i, h in enumerate(hours))
                series.append(PairedRuns(par, str(spec["unit"]), runs))
                notes[par] = str(spec["note"])
            path = ctx.out / "cems" / f"rata-{e.code}-{unit}-{label}.csv"
            write_rata_file(path, series, stack=f"{e.code}.{unit}", notes=notes)
            files.append(str(path.relative_to(ctx.out)))
    return {"files": files, "pilots": [e.code for e in pilot], "skipped": skipped, "month": label,
            "reference_methods": {par: {"method": v["method"], "u_rel_pct": v["u_rel_pct"], "source": v["source"],
                                        "evidence": v["evidence"]} for par, v in c["parameter"].items()}}
