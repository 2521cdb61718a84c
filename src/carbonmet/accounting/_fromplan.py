"""An account from the enterprise's monitoring plan over the metering store, the laboratory results and the
registry (按监测计划核算): hourly amounts from the points the plan names, analyses weighted by the amount each
sampled lot stands for, certificates per instrument and month.

The pure part — :func:`account_from_data` — takes the hourly series, laboratory records and instrument states
as plain data; :mod:`carbonmet.services` gathers them from the database and the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from carbonmet.factors import FactorError, FactorValue, Profile, grid_factor, resolve
from carbonmet.quantities import convert
from carbonmet.sites import MonitoringPlan, PlanParameterRow

from ._account import Account, Method, finish, tier_of
from ._core import Noise, StreamCalc, Term, merge_terms
from ._flow import Flow
from ._fromfile import PRIORITY
from ._provenance import provenance
from ._streams import Built, Factor, carbon_balance, co2_recovered, fuel_combustion, indirect
from ._terms import InstrumentFigure
from .formulas import FEEDWATER_KJ_PER_KG

#: Relative standard uncertainty given to substituted amounts (数据缺失替代值) [-], [A] project rule.
SUBSTITUTION_U_REL = 0.10


class LabRecord(Protocol):
    """What the engine reads from one laboratory result (carbonmet.lab.LabResult has these)."""

    @property
    def point_id(self) -> str: ...

    @property
    def sampled_from(self) -> datetime: ...

    @property
    def sampled_to(self) -> datetime: ...

    @property
    def analyte(self) -> str: ...

    @property
    def value(self) -> float: ...

    @property
    def unit(self) -> str: ...

    @property
    def U(self) -> float: ...

    @property
    def k(self) -> float: ...

    @property
    def instrument_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Hourly:
    """Hourly amounts of one point over the accounting year [its amount unit], or hourly means for rate points."""

    point_id: str
    unit: str
    measured: np.ndarray  # nan where not valid
    substituted: np.ndarray  # 0 where none
    instruments: tuple[tuple[str, int, int], ...] = ()  # (instrument id, first hour, end hour) installed
    stopped: np.ndarray | None = None  # True where the plant was stopped (flag F) and nothing valid was measured


@dataclass
class PlanData:
    """Everything :func:`account_from_data` reads, gathered by the caller."""

    plan: MonitoringPlan
    year: int
    hour_period: np.ndarray  # period index (0..n-1) of each hour
    period_labels: list[str]
    hour_start: np.ndarray  # epoch µs (UTC) of each hour's start
    hourly: Mapping[str, Hourly]
    lab: Sequence[LabRecord]
    figures: Callable[[str, str], InstrumentFigure | None]
    profile: Profile
    inputs: dict[str, Any] = field(default_factory=dict)


_CANON = {"carbon_content": {"%": "1", "1": "1", "kg/Nm3": "t/Nm3", "t/Nm3": "t/Nm3", "kg/kg": "1"},
          "ncv": {"MJ/kg": "GJ/t", "GJ/t": "GJ/t", "MJ/Nm3": "GJ/Nm3", "GJ/Nm3": "GJ/Nm3"}}


def _canon(analyte: str, value: float, unit: str) -> tuple[float, str]:
    table = _CANON.get(analyte, {})
    target = table.get(unit.strip())
    if target is None:
        raise ValueError(f"analyte {analyte!r} in unit {unit!r} is not understood by the accounting engine")
    return float(convert(value, unit.strip(), target)) if unit.strip() not in ("1",) else value, target


class _Builder:
    def __init__(self, d: PlanData) -> None:
        self.d = d
        self.n = len(d.period_labels)
        self.H = d.hour_period.size
        self.terms: list[Term] = []
        self.flags: list[dict[str, Any]] = []
        self.view: list[dict[str, Any]] = []
        self._figs: dict[tuple[str, str], InstrumentFigure | None] = {}

    # --- helpers -------------------------------------------------------------------------------------------
    def figure(self, ident: str, role: str) -> InstrumentFigure | None:
        key = (ident, role)
        if key not in self._figs:
            self._figs[key] = self.d.figures(ident, role)
        return self._figs[key]

    def per_period(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.d.hour_period, weights=np.nan_to_num(x), minlength=self.n)[: self.n]

    def row(self, stream: str, parameter: str) -> PlanParameterRow | None:
        rows = [r for r in self.d.plan.rows_for(stream) if r.parameter == parameter]
        return rows[0] if rows else None

    def default(self, ref: str, name: str, s: StreamCalc) -> Factor | None:
        try:
            fv = resolve(ref)
        except FactorError as exc:
            self.flags.append({"kind": "missing_default", "stream": s.name, "parameter": name, "message": str(exc)})
            return None
        return self.default_value(fv, name, s)

    def default_value(self, fv: FactorValue, name: str, s: StreamCalc, reason: str = "") -> Factor:
        if fv.unverified:
            s.flags.append({"kind": "unverified_default", "parameter": name, "ref": fv.ref, "evidence": fv.evidence,
                            "message": f"缺省值 {fv.ref} 证据等级 [{fv.evidence}] 未经核实 / default marked "
                                       f"[{fv.evidence}]: unverified"})
        t = Term(f"default:{fv.ref}", fv.u_rel, "rectangular" if fv.u_shape == "rectangular" else "normal", "default", f"{fv.ref} 缺省值 default", evidence=fv.evidence,
                 note=f"{fv.source} {fv.clause}; u: {fv.u_source}")
        src = {"parameter": name, "source": "default", "priority": PRIORITY["default"], "ref": fv.ref,
               "evidence": fv.evidence, "reason": reason or "监测计划规定采用缺省值 / the plan says default"}
        return Factor(name, fv.value, fv.unit, (t,), source=src)

    # --- measured amounts --------------------------------------------------------------------------------
    def amount(self, stream: str, s: StreamCalc, weights: np.ndarray | None = None
               ) -> tuple[list[Flow], dict[str, Any], dict[str, Any]] | None:
        """Hourly amounts of the stream's activity point, as flows per instrument (× ``weights`` per hour)."""
        r = self.row(stream, "activity_data")
        if r is None or r.source != "point":
            s.flags.append({"kind": "no_activity_point", "message": f"{stream}: 监测计划未规定活动数据计量点 / the plan "
                                                                   "names no metering point for the activity data"})
            return None
        h = self.d.hourly.get(r.ref)
        if h is None:
            s.flags.append({"kind": "no_data", "point": r.ref, "message": f"{r.ref}: 本年无数据 / no data this year"})
            return None
        meas = np.nan_to_num(h.measured)
        w = np.ones(self.H) if weights is None else weights
        flows: list[Flow] = []
        ins_used: list[str] = []
        covered = np.zeros(self.H, bool)
        for ident, h0, h1 in h.instruments or ((r.instruments[0] if r.instruments else "", 0, self.H),):
            mask = np.zeros(self.H, bool)
            mask[max(0, h0):min(self.H, h1)] = True
            covered |= mask
            vals = self.per_period(np.where(mask, meas * w, 0.0))
            fig = self.figure(ident, "instrument") if ident else None
            base = Flow(stream, vals, h.unit)
            if fig is None:
                s.flags.append({"kind": "no_certificate_figure", "instrument": ident, "point": r.ref,
                                "message": f"{r.ref}: 器具 {ident or '—'} 无证书数据, 不确定度按法定状态外处理 / no "
                                           "certificate figure: treated as out of legal state"})
                fig = InstrumentFigure(ident or r.ref, "none", math.nan, None, (), None, False, "uncovered",
                                       np.ones(self.n), "", "instrument")
            if (fl := fig.flag()) is not None:
                s.flags.append(fl | {"point": r.ref})
                s.valid = False
            self.terms += fig.terms()
            flows += fig.measure(base)
            ins_used.append(fig.id)
        sub = self.per_period(h.substituted * w)
        if np.any(sub != 0):
            flows.append(Flow(stream + " (替代 substituted)", sub, h.unit, (), np.abs(sub) * SUBSTITUTION_U_REL,
                              f"substitution:{r.ref}", "substitution"))
        valid = np.isfinite(h.measured)
        completeness = float(valid.mean()) if self.H else math.nan
        src = {"parameter": "activity_data", "source": "measured", "priority": PRIORITY["measured"], "point": r.ref,
               "instruments": ins_used, "reason": "计量器具实测 (优先级 1) / metered (priority 1)"}
        per = sum((f.values for f in flows), np.zeros(self.n))
        act = {"value": float(per.sum()), "unit": h.unit, "point": r.ref, "instruments": ins_used,
               "completeness": round(completeness, 6), "substituted": float(sub.sum()),
               "periods": [{"period": lab, "value": round(float(v), 6)}
                           for lab, v in zip(self.d.period_labels, per, strict=True)]}
        self.view.append({"source_stream": stream, "parameter": "activity_data", "planned": r.source, "ref": r.ref,
                          "frequency": r.frequency, "instruments": list(r.instruments), "achieved": "measured",
                          "completeness": round(completeness, 6)})
        return flows, src, act

    def lab_property(self, stream: str, parameter: str, analyte: str, s: StreamCalc
                     ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, str, dict[str, Any]] | None:
        """Hourly values of a lab property (the lot each hour belongs to), by analyser: (value per hour,
        analyser → hour mask, repeatability u per hour, canonical unit, data-source record)."""
        r = self.row(stream, parameter)
        if r is None or r.source != "lab":
            return None
        recs = [x for x in self.d.lab if x.point_id == r.ref and x.analyte == analyte]
        months = sorted({int(self.d.hour_period[self._hour(x.sampled_from)]) for x in recs}) if recs else []
        self.view.append({"source_stream": stream, "parameter": parameter, "planned": "lab", "ref": r.ref,
                          "frequency": r.frequency, "instruments": list(r.instruments), "achieved": "lab" if recs else
                          "missing", "results": len(recs), "periods_with_results": len(months)})
        if not recs:
            s.flags.append({"kind": "lab_missing", "parameter": parameter, "point": r.ref,
                            "message": f"{r.ref}: 本年无 {analyte} 化验结果 / no {analyte} results this year"})
            return None
        recs.sort(key=lambda x: (x.sampled_from, x.sampled_to))
        starts = np.array([self._hour(x.sampled_from) for x in recs])
        ends = np.array([max(self._hour(x.sampled_to), self._hour(x.sampled_from) + 1) for x in recs])
        lot = np.searchsorted(starts, np.arange(self.H), side="right") - 1
        lot = np.clip(lot, 0, len(recs) - 1)
        outside = (np.arange(self.H) < starts[lot]) | (np.arange(self.H) >= ends[lot])
        vals, us, unit = [], [], ""
        analysers: dict[str, np.ndarray] = {}
        an_of_lot: list[str] = []
        for x in recs:
            v, unit = _canon(analyte, x.value, x.unit)
            scale = v / x.value if x.value else 1.0
            u_tot = abs(x.U / x.k * scale) if x.k else 0.0
            fig = self.figure(x.instrument_id, "analyser")
            u_an = abs(v) * (fig.u_rel if fig is not None and math.isfinite(fig.u_rel) else 0.0)
            vals.append(v)
            us.append(math.sqrt(max(0.0, u_tot**2 - u_an**2)))
            an_of_lot.append(x.instrument_id)
        val_h = np.asarray(vals)[lot]
        rep_h = np.asarray(us)[lot]
        an_arr = np.asarray(an_of_lot)[lot]
        for a in sorted(set(an_of_lot)):
            analysers[a] = an_arr == a
        if outside.any():
            s.flags.append({"kind": "lab_gap", "parameter": parameter, "point": r.ref, "hours": int(outside.sum()),
                            "message": f"{r.ref}: {int(outside.sum())} h 不在任何采样批次内, 取相邻批次结果 / hours outside "
                                       "every sampled lot take the neighbouring lot's result"})
        src = {"parameter": parameter, "source": "lab", "priority": PRIORITY["lab"], "point": r.ref,
               "analysers": sorted(analysers), "results": len(recs),
               "reason": "实测化验, 按批次量加权 (优先级 1) / analysed, weighted by lot amount (priority 1)"}
        # lots ids for noise grouping
        self._lot = lot
        return val_h, analysers, rep_h, unit, src

    def _hour(self, t: datetime) -> int:
        us = int(t.timestamp() * 1_000_000)
        return int(np.clip(np.searchsorted(self.d.hour_start, us, side="left"), 0, self.H))

    def weighted(self, stream: str, s: StreamCalc, parameter: str, analyte: str) -> tuple[Built, dict[str, Any],
                                                                                          dict[str, Any], dict[str, Any]] | None:
        """Σ over lots of amount × lab property, per period, split by analyser and instrument [unit × prop unit]."""
        lp = self.lab_property(stream, parameter, analyte, s)
        if lp is None:
            return None
        val_h, analysers, rep_h, unit, src = lp
        lot = self._lot
        base = self.amount(stream, s)  # the activity data themselves: control-plan view, flags, record
        if base is None:
            return None
        _, src_act, act = base
        built_flows: list[Flow] = []
        noises: list[Noise] = []
        for a, mask in analysers.items():
            got = self.amount_quiet(stream, s, np.where(mask, val_h, 0.0))
            if got is None:
                return None
            flows = got[0]
            fig = self.figure(a, "analyser")
            if fig is None:
                fig = InstrumentFigure(a, "none", math.nan, None, (), None, False, "uncovered", np.ones(self.n), "",
                                       "analyser")
            if (fl := fig.flag()) is not None:
                s.flags.append(fl | {"parameter": parameter})
                s.valid = False
            self.terms += fig.terms()
            keys = tuple(t.key for t in fig.terms())
            for f in flows:
                built_flows.append(Flow(f.what, f.values, f.unit, f.terms + keys, f.noise, f.noise_key, f.noise_kind))
        h = self.d.hourly[self.row(stream, "activity_data").ref]  # type: ignore[union-attr]
        amt = np.nan_to_num(h.measured) + h.substituted
        # repeatability: per lot and period, u = (amount of the lot in the period) × u_rep of the lot
        key = lot * self.n + self.d.hour_period
        m = np.bincount(key, weights=amt, minlength=(lot.max() + 1) * self.n)
        r = np.bincount(key, weights=rep_h * 0 + 1, minlength=m.size)
        rep_lot = np.zeros(m.size)
        np.divide(np.bincount(key, weights=rep_h, minlength=m.size), r, out=rep_lot, where=r > 0)
        u2 = (m * rep_lot) ** 2
        u_p = np.sqrt(np.bincount(np.arange(m.size) % self.n, weights=u2, minlength=self.n))
        noises.append(Noise(f"sampling:{stream}.{parameter}", u_p, "sampling",
                            f"{stream} {parameter} 单次化验重复性 repeatability of single analyses"))
        b = Built(built_flows, noises + [z for f in built_flows for z in f.noises()], [])
        b.flows = [Flow(f.what, f.values, f.unit, f.terms) for f in built_flows]
        weighted = sum((f.values for f in built_flows), np.zeros(self.n))
        amounts = np.array([p["value"] for p in act["periods"]])
        prop = np.divide(weighted, amounts, out=np.full(self.n, math.nan), where=amounts != 0)
        return b, src_act, act | {
            "property_mean": float(weighted.sum()) / act["value"] if act["value"] else math.nan,
            "property_unit": unit,
            "property_periods": [{"period": lab, "value": None if not math.isfinite(v) else round(float(v), 8)}
                                 for lab, v in zip(self.d.period_labels, prop, strict=True)]}, src

    def amount_quiet(self, stream: str, s: StreamCalc, weights: np.ndarray
                     ) -> tuple[list[Flow], dict[str, Any], dict[str, Any]] | None:
        nv, nf = len(self.view), len(s.flags)
        got = self.amount(stream, s, weights)
        del self.view[nv:]
        del s.flags[nf:]
        return got

    # --- streams -------------------------------------------------------------------------------------------
    def measured_amount(self, stream: str, s: StreamCalc) -> tuple[Built, dict[str, Any], dict[str, Any]] | None:
        got = self.amount(stream, s)
        if got is None:
            return None
        flows, src, act = got
        b = Built([Flow(f.what, f.values, f.unit, f.terms) for f in flows],
                  [z for f in flows for z in f.noises()], [])
        act["U_rel_pct"] = self._U_rel(flows)
        return b, src, act

    def _U_rel(self, flows: list[Flow]) -> float:
        tot = sum(f.total for f in flows)
        sens: dict[str, float] = {}
        for f in flows:
            for k in f.terms:
                sens[k] = sens.get(k, 0.0) + f.total
        terms = {t.key: t for t in self.terms}
        var = sum((c * terms[k].u) ** 2 for k, c in sens.items() if k in terms)
        var += sum(float((f.noise**2).sum()) for f in flows if f.noise is not None)
        return 100 * 1.959963984540054 * math.sqrt(var) / abs(tot) if tot else math.nan

    def fuel(self, st: Any) -> StreamCalc | None:
        name = st.source_stream
        s = StreamCalc(name, "fuel_combustion")
        form = st.form or "per_heat"
        residues = [x for x in self.d.plan.streams if x.kind == "residue" and x.balance == name]
        sources: list[dict[str, Any]] = []
        factor: dict[str, Any] = {}
        if form == "per_mass":
            got = self.weighted(name, s, "carbon_content", "carbon_content")
            if got is None:
                return self._fallback_fuel(st, s)
            c, src_ad, act, src_c = got
            sources += [src_ad, src_c]
            factor["carbon_content"] = act.pop("property_mean")
            factor["carbon_unit"] = act.pop("property_unit", "")
            factor["carbon_content_periods"] = act.pop("property_periods", [])
            prop = c
        else:
            got = self.weighted(name, s, "ncv", "ncv")
            if got is None:
                return self._fallback_fuel(st, s)
            prop, src_ad, act, src_n = got
            sources += [src_ad, src_n]
            factor["ncv"] = act.pop("property_mean")
            factor["ncv_unit"] = act.pop("property_unit", "")
            factor["ncv_periods"] = act.pop("property_periods", [])
        act["U_rel_pct"] = self._U_rel(self._act_flows(name, s))
        cc = None
        if form == "per_heat":
            r = self.row(name, "carbon_content")
            cc = self.default(r.ref, "carbon_content", s) if r is not None and r.source == "default" else \
                self._material_default(st, "carbon_content_per_heat", s)
            if cc is None:
                return None
            sources.append(cc.source)
            factor["carbon_content"] = cc.value
            factor["carbon_unit"] = cc.unit
        residue = None
        of = None
        if residues:
            rb = [self.weighted(x.source_stream, s, "carbon_content", "carbon_content") for x in residues]
            if all(x is not None for x in rb):
                flows: list[Flow] = []
                noises: list[Noise] = []
                for x in rb:
                    assert x is not None
                    flows += x[0].flows
                    noises += x[0].noises
                    sources.append(x[3] | {"parameter": "oxidation_rate", "reason": "灰渣含碳量实测, 碳氧化率按实测计算 "
                                           "(优先于缺省值) / oxidation from measured residue carbon (before the default)"})
                residue = Built(flows, noises, [])
                fuel_c = prop.times(cc) if cc is not None else prop
                rc = sum(f.total for f in flows)
                factor["oxidation_rate"] = 1.0 - rc / sum(f.total for f in fuel_c.flows)
                factor["oxidation_source"] = "measured residue"
        if residue is None:
            r = self.row(name, "oxidation_rate")
            of = self.default(r.ref, "oxidation_rate", s) if r is not None and r.source == "default" else \
                self._material_default(st, "oxidation_rate", s)
            if of is None:
                return None
            sources.append(of.source)
            factor["oxidation_rate"] = of.value
        stream, terms = fuel_combustion(name, form, prop, cc, of or Factor("oxidation_rate", 1.0, "1"), residue)
        self._finish(stream, s, act, factor, sources, tier_of(act["U_rel_pct"]), terms)
        return stream

    def _act_flows(self, stream: str, s: StreamCalc) -> list[Flow]:
        got = self.amount_quiet(stream, s, np.ones(self.H))
        return got[0] if got else []

    def _material_default(self, st: Any, parameter: str, s: StreamCalc) -> Factor | None:
        try:
            fd = self.d.profile.fuel(st.material or "")
            fv = {"ncv": fd.ncv, "carbon_content_per_heat": fd.carbon_content_per_heat,
                  "oxidation_rate": fd.oxidation_rate}[parameter]
        except (FactorError, KeyError) as exc:
            self.flags.append({"kind": "missing_default", "stream": s.name, "parameter": parameter, "message": str(exc)})
            return None
        return self.default_value(fv, parameter, s, "监测计划未规定, 采用燃料缺省值 / not in the plan: the fuel's default")

    def _fallback_fuel(self, st: Any, s: StreamCalc) -> StreamCalc | None:
        """No analyses: the per-heat form with every factor the fuel's default (flagged)."""
        got = self.measured_amount(st.source_stream, s)
        if got is None:
            return None
        ad, src, act = got
        ncv = self._material_default(st, "ncv", s)
        cc = self._material_default(st, "carbon_content_per_heat", s)
        of = self._material_default(st, "oxidation_rate", s)
        if ncv is None or cc is None or of is None:
            return None
        reason = "计划的化验结果缺失, 退回缺省值 / planned analyses missing: defaults used"
        for f in (ncv, cc, of):
            f.source["reason"] = reason
        stream, terms = fuel_combustion(st.source_stream, "per_heat", ad.times(ncv), cc, of)
        self._finish(stream, s, act, {"ncv": ncv.value, "carbon_content": cc.value, "oxidation_rate": of.value},
                     [src, ncv.source, cc.source, of.source], tier_of(act["U_rel_pct"]), terms)
        return stream

    def balance(self, group: str, rows: list[Any]) -> StreamCalc | None:
        s = StreamCalc(group, "carbon_balance")
        ins: list[Built] = []
        outs: list[Built] = []
        sources: list[dict[str, Any]] = []
        tiers: dict[str, Any] = {}
        items: dict[str, Any] = {}
        for st in rows:
            name = st.source_stream
            r = self.row(name, "carbon_content")
            if r is not None and r.source == "lab":
                got = self.weighted(name, s, "carbon_content", "carbon_content")
                if got is None:
                    continue
                b, src_ad, act, src_c = got
                act.pop("property_unit", None)
                act["carbon_periods"] = act.pop("property_periods", [])
                carbon = act.pop("property_mean")
                sources += [src_ad, src_c]
                act["U_rel_pct"] = self._U_rel(self._act_flows(name, s))
            else:
                m = self.measured_amount(name, s)
                if m is None:
                    continue
                ad, src_ad, act = m
                try:
                    fv = resolve(r.ref) if r is not None and r.source == "default" else \
                        self.d.profile.get("carbon_content", st.material or name)
                except FactorError as exc:
                    s.flags.append({"kind": "missing_default", "parameter": f"{name}.carbon_content",
                                    "message": str(exc)})
                    s.valid = False
                    continue
                f = self.default_value(fv, f"{name}.carbon_content", s,
                                       "产品/废弃物含碳量缺省值 / default carbon content of the material")
                b = ad.times(f)
                carbon = f.value
                sources += [src_ad, f.source]
            (ins if st.kind == "raw_material" else outs).append(b)
            tiers[name] = tier_of(act["U_rel_pct"])
            items[name] = {"role": st.kind, "amount": act["value"], "unit": act["unit"], "carbon": carbon,
                           "point": act.get("point"), "U_rel_pct": act["U_rel_pct"],
                           "periods": act.get("periods", []), "carbon_periods": act.get("carbon_periods", [])}
        if not ins:
            return None
        stream, terms = carbon_balance(group, ins, outs)
        self._finish(stream, s, {"items": items}, {}, sources,
                     {"items": tiers, "tier": min((t["tier"] for t in tiers.values() if t["tier"] is not None),
                                                  default=None)}, terms)
        return stream

    def recovered(self, st: Any) -> StreamCalc | None:
        name = st.source_stream
        s = StreamCalc(name, "co2_recovered")
        r = self.row(name, "purity")
        if r is None or r.source != "point" or r.ref not in self.d.hourly:
            s.flags.append({"kind": "no_purity", "message": f"{name}: 无纯度计量 / no purity measurement"})
            return None
        hp = self.d.hourly[r.ref]
        pur_h = np.nan_to_num(hp.measured) / 100.0 if hp.unit == "%" else np.nan_to_num(hp.measured)
        ok = np.isfinite(hp.measured)
        if (~ok).any() and ok.any():
            pur_h = np.where(ok, pur_h, float(np.mean(pur_h[ok])))
        got = self.amount(name, s, pur_h)
        if got is None:
            return None
        flows, src, act = got
        pid = hp.instruments[0][0] if hp.instruments else (r.instruments[0] if r.instruments else "")
        fig = self.figure(pid, "instrument") if pid else None
        keys: tuple[str, ...] = ()
        if fig is not None:
            self.terms += fig.terms()
            keys = tuple(t.key for t in fig.terms())
            if (fl := fig.flag()) is not None:
                s.flags.append(fl | {"point": r.ref})
                s.valid = False
        b = Built([Flow(f.what, f.values, f.unit, f.terms + keys) for f in flows], [z for f in flows for z in f.noises()])
        act["U_rel_pct"] = self._U_rel(self._act_flows(name, s))
        stream, terms = co2_recovered(name, b, b, 1.977)
        self._finish(stream, s, act, {"purity_mean": float(np.mean(pur_h[ok])) if ok.any() else math.nan,
                                      "density_kg_per_nm3": 1.977},
                     [src, {"parameter": "purity", "source": "measured", "priority": 1, "point": r.ref,
                            "reason": "在线纯度分析 / on-line purity analyser"}], tier_of(act["U_rel_pct"]), terms)
        return stream

    def indirect(self, st: Any) -> StreamCalc | None:
        name = st.source_stream
        s = StreamCalc(name, st.kind)
        got = self.measured_amount(name, s)
        if got is None:
            return None
        amount, src, act = got
        sources = [src]
        heat = "heat" in st.kind
        if heat and act["unit"] == "t":
            en = st.enthalpy_kj_per_kg
            if en is None:
                s.flags.append({"kind": "no_enthalpy", "message": f"{name}: 蒸汽焓值未给出 / steam enthalpy missing"})
                return None
            t = Term(f"estimate:{name}.enthalpy", (st.enthalpy_u_rel or 0.0) / 100.0 * en / (en - FEEDWATER_KJ_PER_KG),
                     "normal", "estimate", f"{name} 蒸汽焓值 steam enthalpy {en:g} kJ/kg")
            amount = amount.times(Factor("enthalpy", (en - FEEDWATER_KJ_PER_KG) * 1e-3, "GJ/t", (t,)))
            sources.append({"parameter": "enthalpy", "source": "estimate", "priority": PRIORITY["estimate"],
                            "value": en, "reason": st.note or "监测计划给出的供汽焓值 / supply enthalpy stated in the plan"})
        r = self.row(name, "emission_factor")
        ef = None
        if r is not None and r.source == "default":
            ef = self.default(r.ref, "emission_factor", s)
        if ef is None:
            try:
                fv = self.d.profile.get("emission_factor", "heat") if heat else grid_factor(self.d.year,
                                                                                             st.material or "national")
            except FactorError as exc:
                s.flags.append({"kind": "missing_default", "message": str(exc)})
                return None
            ef = self.default_value(fv, "emission_factor", s)
        sources.append(ef.source)
        stream, terms = indirect(name, st.kind, amount, ef)
        self._finish(stream, s, act, {"emission_factor": ef.value, "unit": ef.unit}, sources,
                     tier_of(act["U_rel_pct"]), terms)
        return stream

    def _finish(self, stream: StreamCalc, s: StreamCalc, act: dict[str, Any], factor: dict[str, Any],
                sources: list[dict[str, Any]], tier: dict[str, Any], terms: list[Term]) -> None:
        stream.flags = s.flags
        stream.valid = s.valid
        stream.activity = act
        stream.factor = factor
        stream.data_source = {x["parameter"]: x for x in sources}
        stream.tier = tier
        self.terms += terms


def account_from_data(d: PlanData, *, method: Method = "both", trials: int = 100_000,
                      seed: int | None = 0) -> Account:
    """The account of ``d.plan``'s enterprise for ``d.year`` from the data the caller gathered.

    Streams come from the plan's ``streams`` table: fuels burned (per mass with the lots' measured carbon, or per
    heat), carbon-balance groups (raw materials in; products, by-products and wastes out), CO2 recovered,
    purchased/exported electricity and heat. ``measured_emission`` streams (CEMS stacks, vents) are not accounted
    (they are what the CEMS comparison checks the account against).
    """
    b = _Builder(d)
    streams: list[StreamCalc] = []
    plan_streams = list(d.plan.streams)
    if not plan_streams:
        raise ValueError(f"the monitoring plan of {d.plan.enterprise} (version {d.plan.version}) has no streams "
                         "table: it does not say which source streams are fuels, raw materials or products")
    groups: dict[str, list[Any]] = {}
    for st in plan_streams:
        if st.kind in ("raw_material", "product", "by_product", "waste"):
            groups.setdefault(st.balance or "process", []).append(st)
    for st in plan_streams:
        got: StreamCalc | None = None
        if st.kind == "fuel_combustion":
            got = b.fuel(st)
        elif st.kind == "co2_recovered":
            got = b.recovered(st)
        elif st.kind in ("purchased_electricity", "exported_electricity", "purchased_heat", "exported_heat"):
            got = b.indirect(st)
        elif st.kind in ("measured_emission", "other"):
            b.view.append({"source_stream": st.source_stream, "parameter": "-", "planned": st.kind,
                           "achieved": "not accounted (直接监测, 用于比对 / measured, for the comparison)"})
        if got is not None:
            streams.append(got)
    for group, rows in groups.items():
        got = b.balance(group, rows)
        if got is not None:
            streams.append(got)
    acc = Account(d.plan.enterprise, d.year, d.profile.name, d.period_labels, streams, merge_terms(b.terms),
                  flags=b.flags, control_plan=b.view,
                  provenance=provenance(inputs={"plan": f"{d.plan.enterprise}@{d.plan.version}", **d.inputs},
                                        profile=d.profile))
    return finish(acc, method=method, trials=trials, seed=seed)
