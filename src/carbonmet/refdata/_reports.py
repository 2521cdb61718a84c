"""Enterprise emission reports (企业年度排放报告, ``reports/<E>.csv``) with injected misstatements.

Each enterprise reports, per source stream and local month, what its own meters and lab say: the amount its
activity-data instrument measured (truth × (1 + δ) of that instrument, δ its systematic error), the NCV and
carbon content as the mean of the lab results of the lots (or monthly composites) sampled in the month, with
their sample ids, the default oxidation rates and emission factors its plan names, and the emissions computed
from these figures. Written with :class:`carbonmet.review.ReportRow` (the reader's row model).

Misstatements (drawn from their own random stream, so no earlier draw moves) are injected into some
enterprises and listed in ``manifest.json`` (``misstatements``): a month of fuel under-reported, a default
used where the lab measured, a lab sample id cited for a second, unrelated month.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from ..review import REPORT_COLUMNS, ReportRow
from ._constants import constants, value
from ._region import rng_for
from ._truth import EnterpriseTruth
from ._types import Enterprise, Instrument, Point
from ._writers import write_csv

if TYPE_CHECKING:
    from ._ctx import Ctx

TAG_REPORTS = 10  # refdata-1.5: a new random stream
#: reported stream -> (point suffix of its activity data, lab point suffix or "", signal, truth source)
STREAMS = (
    ("gasifier_coal", "GASIFIER_COAL", "GASIFIER_COAL.LAB"),
    ("boiler_coal", "BOILER_COAL", "BOILER_COAL.LAB"),
    ("natural_gas", "NATURAL_GAS", "NATURAL_GAS.LAB"),
    ("purchased_electricity", "ELECTRICITY", ""),
    ("purchased_steam", "STEAM_IN", ""),
)
KINDS = ("underreported_month", "default_where_measured", "reused_sample")
#: default carbon content per GJ of bituminous coal used by the "default where measured" misstatement
#: [tC/GJ]: 26.18 tC/TJ, GB/T 32151 series default for bituminous coal as the project notes give it [M]
COAL_DEFAULT_CC_PER_GJ = 0.02618


def _hours(iso: str, t0: datetime) -> float:
    return (datetime.fromisoformat(iso) - t0).total_seconds() / 3600.0


def misstatement_plan(seed: int, ents: list[Enterprise]) -> dict[str, str]:
    """Which enterprise gets which misstatement kind (enterprise code → kind; at most one of each kind)."""
    rng = rng_for(seed, TAG_REPORTS, 0)
    order = [int(x) for x in rng.permutation(len(ents))]
    return {ents[order[i]].code: KINDS[i] for i in range(min(len(KINDS), len(ents)))}


def write_report(ctx: Ctx, n_e: int, e: Enterprise, tr: EnterpriseTruth, inst_at: dict[str, Instrument],
                 points: list[Point], lab_rows: list[list[Any]], plan_kind: dict[str, str]) -> dict[str, Any] | None:
    """Write ``reports/<E>.csv`` of enterprise ``e`` (position ``n_e``); return its injected misstatement, if any.

    Parameters
    ----------
    ctx : Ctx
    n_e : int
        Position of ``e`` in the region (keys its misstatement's random stream).
    e : Enterprise
    tr : EnterpriseTruth
        Its true process.
    inst_at : dict
        Point id → installed instrument (the region's or the enterprise's).
    points : list of Point
        The enterprise's points.
    lab_rows : list of list
        The enterprise's ``lab/lab.csv`` rows.
    plan_kind : dict
        From :func:`misstatement_plan`.
    """
    c = constants()
    phys, fac = c["physics"], c["factors"]
    t0 = datetime(ctx.year, 1, 1, tzinfo=timezone(timedelta(hours=ctx.tz)))
    ms = ctx.ms
    # lab results by point: (from_h, to_h, analyte, value, sample_id)
    lab: dict[str, list[tuple[float, float, str, float, str]]] = defaultdict(list)
    for r in lab_rows:
        lab[r[1]].append((_hours(r[2], t0), _hours(r[3], t0), r[4], float(r[5]), r[0]))
    entry: dict[str, Any] | None = None
    pts = {p.point_id: p for p in points}
    rows: list[dict[str, Any]] = []
    for stream, suffix, lab_suffix in STREAMS:
        pid = f"{e.code}.{suffix}"
        inst = inst_at.get(pid)
        if pid not in pts or inst is None:
            continue
        unit = pts[pid].unit
        if stream.startswith("purchased_"):
            x = tr.indirect[stream]
            if unit != ("MWh" if stream == "purchased_electricity" else "GJ") or float(x.sum()) <= 0:
                continue
        else:
            x = tr.signals[stream]
        amounts = np.add.reduceat(x, ms[:-1]) * (1 + inst.systematic_rel / 100.0)
        for m in range(12):
            a = round(float(amounts[m]), 3)
            row: dict[str, Any] = {"enterprise": e.code, "period": ctx.month_label(m), "stream": stream,
                                   "amount": a, "unit": unit, "activity_source": "measured"}
            if lab_suffix:
                h0, h1 = float(ms[m]), float(ms[m + 1])
                got = [r for r in lab[f"{e.code}.{lab_suffix}"] if r[0] < h1 and r[1] > h0]
                for analyte, key, col in (("ncv", "ncv", "ncv_samples"), ("carbon_content", "carbon_content",
                                                                         "carbon_samples")):
                    vals = [(v, sid) for f_h, t_h, an, v, sid in got if an == analyte]
                    if not vals:
                        continue
                    row[key] = round(float(np.mean([v for v, _ in vals])), 4 if key == "ncv" else 6)
                    row[f"{key}_source"] = "lab"
                    row[col] = [sid for _, sid in vals]
                row["ncv_unit"] = "MJ/kg" if unit == "t" else "MJ/Nm3"
                row["carbon_content_unit"] = "%" if unit == "t" else "kg/Nm3"
                if stream == "boiler_coal":
                    row.update(oxidation_rate=round(100 * float(phys["boiler_oxidation"]), 3),
                               oxidation_rate_source="default")
                elif stream == "natural_gas":
                    row.update(oxidation_rate=round(100 * float(phys["ng_oxidation"]), 3),
                               oxidation_rate_source="default")
            else:
                ef = value(fac["grid_t_per_mwh"] if stream == "purchased_electricity" else fac["heat_t_per_gj"])
                row.update(emission_factor=ef, emission_factor_unit="tCO2/MWh" if unit == "MWh" else "tCO2/GJ",
                           emission_factor_source="default")
            rows.append(row)
    kind = plan_kind.get(e.code)
    if kind is not None:
        entry = _inject(kind, e.code, rows, rng_for(ctx.seed, TAG_REPORTS, 1 + n_e))
    models = []
    for row in rows:
        row["emissions_tco2"] = 0.0
        rep = ReportRow.model_validate(row)
        models.append(rep.model_copy(update={"emissions_tco2": round(rep.computed_emissions(), 3)}))
    write_csv(ctx.out / "reports" / f"{e.code}.csv", REPORT_COLUMNS, [r.cells() for r in models])
    return entry


def _inject(kind: str, ent: str, rows: list[dict[str, Any]], rng: np.random.Generator) -> dict[str, Any]:
    """Change ``rows`` in place by one misstatement of ``kind``; return its manifest entry."""
    def candidates(streams: tuple[str, ...], need: str = "") -> list[int]:
        by_stream = [i for i, r in enumerate(rows) if r["stream"] in streams]
        if not by_stream:
            return []
        mean = np.mean([rows[i]["amount"] for i in by_stream])
        # a month of ordinary operation (no turnaround): at least 60 % of the stream's mean month
        return [i for i in by_stream if rows[i]["amount"] >= 0.6 * mean and (not need or rows[i].get(need))]

    entry: dict[str, Any] = {"kind": kind, "enterprise": ent}
    if kind == "underreported_month":
        idx = candidates(("boiler_coal",)) or candidates(("gasifier_coal",))
        i = idx[int(rng.integers(len(idx)))]
        size = -float(rng.uniform(8.0, 15.0))
        old = rows[i]["amount"]
        rows[i]["amount"] = round(old * (1 + size / 100.0), 3)
        entry.update(stream=rows[i]["stream"], month=rows[i]["period"], size_pct=round(size, 3),
                     detail=f"amount {old} → {rows[i]['amount']} {rows[i]['unit']}")
    elif kind == "default_where_measured":
        idx = candidates(("boiler_coal", "gasifier_coal"), "carbon_samples")
        i = idx[int(rng.integers(len(idx)))]
        r = rows[i]
        old = r["carbon_content"]
        new = round(r["ncv"] * COAL_DEFAULT_CC_PER_GJ * 100.0, 4)  # MJ/kg × tC/GJ → % by mass
        r.update(carbon_content=new, carbon_content_source="default", carbon_samples=[])
        entry.update(stream=r["stream"], month=r["period"], size_pct=round(100.0 * (new - old) / old, 3),
                     detail=f"carbon content {old} % (lab) reported as the default {new} %")
    else:  # reused_sample: one lot's sample id cited again for a month at least two months away
        idx = candidates(("gasifier_coal", "boiler_coal"), "carbon_samples")
        i = idx[int(rng.integers(len(idx)))]
        r = rows[i]
        month = int(r["period"][5:7])
        far = [j for j, x in enumerate(rows) if x["stream"] == r["stream"] and x.get("carbon_samples")
               and abs(int(x["period"][5:7]) - month) >= 2]
        j = far[int(rng.integers(len(far)))]
        sid = rows[j]["carbon_samples"][int(rng.integers(len(rows[j]["carbon_samples"])))]
        r["carbon_samples"] = [*r["carbon_samples"], sid]
        entry.update(stream=r["stream"], month=r["period"], size_pct=0.0,
                     detail=f"sample {sid} of {rows[j]['period']} cited again in {r['period']}")
    return entry
