"""Ground-truth files: emissions per source stream and enterprise (annual, monthly), production, coal
properties, carbon balance, footprints with the factors used, instrument errors, hourly point truth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ._constants import constants, sourced, value
from ._faults import hour_iso
from ._metrology import MetrologyResult
from ._region import in_draw_order, main_products
from ._stocks import survey_hours
from ._truth import EnterpriseTruth
from ._types import Enterprise, Instrument, Point
from ._writers import CsvAppender, ParquetAppender, write_csv

if TYPE_CHECKING:
    from ._ctx import Ctx

#: stream -> (signal giving its amount, amount unit)
AMOUNT = {
    "gasifier_coal": ("gasifier_coal", "t"), "boiler_coal": ("boiler_coal", "t"), "natural_gas": ("natural_gas", "Nm3"),
    "gasifier_slag": ("slag", "t"), "boiler_ash": ("boiler_ash", "t"), "rectisol_vent": ("vent.gas_nm3", "Nm3"),
    "recovered_co2": ("recovered.gas_nm3", "Nm3"), "flare": ("flare.gas_nm3", "Nm3"),
    "mto_regenerator": ("MTO_REGEN.flow", "Nm3"), "wastewater": ("wastewater", "t"),
}
EMITTING = ("process_emission", "combustion_emission")


def _r(x: float, nd: int = 6) -> float:
    return float(round(x, nd))


class GroundTruthWriter:
    """The ground-truth files (``truth/``), written enterprise by enterprise: :meth:`add` appends one
    enterprise's rows and :meth:`hourly` its points' hourly truth, so only the enterprise summaries (about 1 kB
    each) stay until :meth:`close`. The files are those a region-wide write would give, byte for byte."""

    def __init__(self, ctx: Ctx, points: list[Point]) -> None:
        c = constants()
        self.ctx = ctx
        self.tdir = tdir = ctx.out / "truth"
        self.co2_per_c = c["physics"]["co2_per_c"]
        fac = c["factors"]
        self.grid = value(fac["grid_t_per_mwh"])
        self.heat = value(fac["heat_t_per_gj"])
        self.summary: list[dict[str, Any]] = []
        self.streams = CsvAppender(tdir / "carbon_streams.csv", (
            "enterprise", "period", "stream", "direction", "category", "amount", "amount_unit", "carbon_t", "co2_t"))
        self.production = CsvAppender(tdir / "production.csv", ("enterprise", "period", "product", "mass_t",
                                                                "main_product"))
        self.lots = CsvAppender(tdir / "coal_lots.csv", ("enterprise", "stream", "lot_id", "from", "to", "mass_t",
                                                         "ncv_mj_per_kg", "carbon_pct", "moisture_pct", "ash_pct",
                                                         "sulfur_pct"))
        self.operations = CsvAppender(tdir / "operations.csv", ("enterprise", "event", "from", "to", "load"))
        self.footprints = CsvAppender(tdir / "footprints.csv", (
            "enterprise", "product", "mass_t", "allocation_share", "direct_t_per_t", "electricity_t_per_t",
            "steam_t_per_t", "upstream_coal_t_per_t", "upstream_natural_gas_t_per_t", "cradle_to_gate_t_per_t",
            "recovered_co2_t_per_t", "allocation", "by_products"))
        self.stocks = CsvAppender(tdir / "stocks.csv", ("enterprise", "stream", "point_id", "ts", "stock_t"))
        # hourly truth of every clock point and every weighing record, in row groups as the enterprises come
        self._names = pa.array([p.point_id for p in points], type=pa.string())
        self._hourly = ParquetAppender(tdir / "points_hourly.parquet", pa.schema([
            ("point_id", pa.dictionary(pa.int32(), pa.string())), ("ts", pa.timestamp("us", tz="UTC")),
            ("true_value", pa.float64())]))

    def hourly(self, idx: int, th: np.ndarray, tv: np.ndarray) -> None:
        """Append the true values ``tv`` at hour positions ``th`` of the point at draw-order position ``idx``."""
        self._hourly.add(pa.table({
            "point_id": pa.DictionaryArray.from_arrays(pa.array(np.full(tv.size, idx, dtype=np.int32),
                                                                type=pa.int32()), self._names),
            "ts": pa.array(self.ctx.ts_us(th), type=pa.timestamp("us", tz="UTC")),
            "true_value": pa.array(tv, type=pa.float64()),
        }))

    def add(self, e: Enterprise, tr: EnterpriseTruth, points: list[Point]) -> None:
        """Rows of enterprise ``e`` (its truth ``tr`` and its points ``points``) in every CSV of ``truth/``."""
        ctx, co2_per_c, grid, heat = self.ctx, self.co2_per_c, self.grid, self.heat
        c = constants()
        fac = c["factors"]
        ms = ctx.ms
        periods = [str(ctx.year)] + [ctx.month_label(m) for m in range(12)]

        def by_period(x: np.ndarray) -> list[float]:
            return [float(x.sum())] + [float(v) for v in np.add.reduceat(x, ms[:-1])]

        stream_rows: list[list[Any]] = []
        prod_rows: list[list[Any]] = []
        lot_rows: list[list[Any]] = []
        fp_rows: list[list[Any]] = []
        ev_rows: list[list[Any]] = []
        for stream, cvals in tr.carbon.items():
            direction, category = tr.direction[stream]
            if stream in AMOUNT:
                sig, unit = AMOUNT[stream]
            elif stream.startswith("boiler_stack_"):
                sig, unit = f"STACK{stream.rsplit('_', 1)[1]}.flow", "Nm3"
            elif category == "waste":
                sig, unit = "", ""
            else:
                sig, unit = stream, "t"
            amounts = by_period(tr.signals[sig]) if sig else [None] * 13
            for per, a, cv in zip(periods, amounts, by_period(cvals), strict=True):
                co2_t = _r(cv * co2_per_c, 4) if category in EMITTING + ("recovered",) else None
                stream_rows.append([e.code, per, stream, direction, category, None if a is None else _r(a, 4), unit,
                                    _r(cv, 6), co2_t])
        for key, unit, factor in (("purchased_electricity", "MWh", grid), ("purchased_steam", "GJ", heat)):
            for per, a in zip(periods, by_period(tr.indirect[key]), strict=True):
                stream_rows.append([e.code, per, key, "in", "indirect", _r(a, 4), unit, None, _r(a * factor, 4)])
        mains = set(main_products(e))
        for name, x in tr.production.items():
            for per, a in zip(periods, by_period(x), strict=True):
                prod_rows.append([e.code, per, name, _r(a, 4), name in mains])
        for stream, L in tr.lots.items():
            for j in range(L.start_h.size):
                if L.mass[j] <= 0:
                    continue
                lot_rows.append([e.code, stream, f"{e.code}-{stream}-{j + 1:04d}", hour_iso(ctx.year, L.start_h[j]),
                                 hour_iso(ctx.year, L.end_h[j]), _r(L.mass[j], 3), _r(L.ncv[j], 4),
                                 _r(L.carbon[j] * 100, 4), _r(L.moisture[j], 3), _r(L.ash[j], 3), _r(L.sulfur[j], 4)])
        for ev in tr.events:
            ev_rows.append([e.code, ev["kind"], hour_iso(ctx.year, ev["start_h"]), hour_iso(ctx.year, ev["end_h"]),
                            ev.get("load", 0.0)])

        cin, cout = tr.balance()
        co2 = {cat: sum(float(v.sum()) for k, v in tr.carbon.items() if tr.direction[k][1] == cat) * co2_per_c
               for cat in ("process_emission", "combustion_emission", "recovered")}
        main_t = float(tr.main_t.sum())
        emitted = co2["process_emission"] + co2["combustion_emission"]
        gross = emitted + co2["recovered"]
        elec = float(tr.indirect["purchased_electricity"].sum())
        steam = float(tr.indirect["purchased_steam"].sum())
        coal_t = float(tr.signals["gasifier_coal"].sum() + tr.signals["boiler_coal"].sum())
        ng_knm3 = float(tr.signals["natural_gas"].sum()) / 1e3
        comp = {
            "direct": emitted / main_t,
            "electricity": elec * grid / main_t,
            "steam": steam * heat / main_t,
            "upstream_coal": coal_t * value(fac["upstream_coal_t_per_t"]) / main_t,
            "upstream_natural_gas": ng_knm3 * value(fac["upstream_ng_t_per_knm3"]) / main_t,
        }
        total = sum(comp.values())
        for name in sorted(mains):
            share = float(tr.production[name].sum()) / main_t
            fp_rows.append([e.code, name, _r(float(tr.production[name].sum()), 3), _r(share, 6)]
                           + [_r(v, 6) for v in comp.values()] + [_r(total, 6), _r(co2["recovered"] / main_t, 6),
                                                                  "mass", "cut-off (no burden to by-products)"])
        tg = c["targets"][e.route]
        self.summary.append({
            "enterprise": e.code, "name": e.name, "route": e.route, "industry": e.industry, "region": e.region,
            "capacity_t": e.capacity_t, "production_main_t": _r(main_t, 3),
            "utilisation": _r(main_t / e.capacity_t, 4), "efficiency_factor": _r(e.efficiency, 4),
            "gasifier_basin": e.gasifier_basin, "boiler_basin": e.boiler_basin, "stacks": e.n_stacks,
            "purchased_steam_t_per_t": e.purchased_steam_t_per_t, "recovered_share": e.recovered_share,
            "carbon_in_t": _r(cin, 4), "carbon_out_t": _r(cout, 4), "closure_rel": _r((cin - cout) / cin, 12),
            "process_co2_t": _r(co2["process_emission"], 3), "combustion_co2_t": _r(co2["combustion_emission"], 3),
            "recovered_co2_t": _r(co2["recovered"], 3), "direct_gross_co2_t": _r(gross, 3),
            "direct_emitted_co2_t": _r(emitted, 3), "indirect_electricity_co2_t": _r(elec * grid, 3),
            "indirect_steam_co2_t": _r(steam * heat, 3), "intensity_direct_gross": _r(gross / main_t, 5),
            "footprint_cradle_to_gate": _r(total, 5), "target_direct": tg["direct"],
            "target_cradle_to_gate": tg["cradle_to_gate"],
        })

        self.streams.add(stream_rows)
        self.production.add(prod_rows)
        self.lots.add(lot_rows)
        self.operations.add(ev_rows)
        self.footprints.add(fp_rows)
        th = survey_hours(ms)
        self.stocks.add([e.code, p.source_stream, p.point_id, hour_iso(ctx.year, float(h), ctx.tz), round(float(v), 3)]
                        for p in in_draw_order(points) if p.schedule == "survey"
                        for h, v in zip(th, tr.signals[p.signal], strict=True))

    def close(self, instruments: list[Instrument], met: MetrologyResult) -> list[dict[str, Any]]:
        """Write the region-wide files and close the others; return the enterprise summaries (manifest)."""
        for f in (self.streams, self.production, self.lots, self.operations, self.footprints, self.stocks):
            f.close()
        self._hourly.close()
        ctx, tdir, summary = self.ctx, self.tdir, self.summary
        c = constants()
        fac = c["factors"]
        keys = list(summary[0]) if summary else []
        write_csv(tdir / "enterprises.csv", keys, [[s[k] if not isinstance(s[k], list) else ";".join(map(str, s[k]))
                                                    for k in keys] for s in summary])
        write_csv(tdir / "footprint_factors.csv", ("factor", "value", "unit", "source", "evidence"),
                  [[k, sourced(v)["value"], u, sourced(v)["source"], sourced(v)["evidence"]] for k, v, u in (
                      ("grid", fac["grid_t_per_mwh"], "tCO2/MWh"), ("heat", fac["heat_t_per_gj"], "tCO2/GJ"),
                      ("upstream_coal", fac["upstream_coal_t_per_t"], "tCO2e/t"),
                      ("upstream_natural_gas", fac["upstream_ng_t_per_knm3"], "tCO2e/kNm3"),
                      ("co2_per_c", {"value": c["physics"]["co2_per_c"], "source": "ACC §1.3: 44.0095/12.011",
                                     "evidence": "V-calc"}, "tCO2/tC"))])
        bw = met.bias_windows
        write_csv(tdir / "instrument_errors.csv", (
            "instrument_id", "point_id", "type", "cert_kind", "accuracy_class", "u_rel_pct", "systematic_rel_pct",
            "noise_rel_pct_per_minute", "noise_abs_per_minute", "resolution", "error_model", "drift_from",
            "drift_rel_pct_per_year", "bias_windows"), [
            [i.instrument_id, i.point_id, i.type_key, i.cert_kind, i.accuracy_class, _r(i.u_rel, 6),
             _r(i.systematic_rel, 6), i.noise_rel, i.noise_abs, i.resolution, i.error_model,
             hour_iso(ctx.year, i.drift_start_h) if i.drift_start_h >= 0 else "", i.drift_rel_per_year,
             ";".join(f"{hour_iso(ctx.year, s)}/{hour_iso(ctx.year, en)}:{b:+g}%" for s, en, b in bw.get(i.instrument_id, []))]
            for i in instruments])
        return summary
