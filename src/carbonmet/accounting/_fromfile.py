"""An account from a stand-alone inventory file: annual figures and instrument accuracies (清单核算)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from carbonmet.factors import FactorError, FactorValue, Profile, default_profile, grid_factor, load_profile

from ._account import Account, Method, finish, tier_of
from ._core import StreamCalc, Term, TermKind, merge_terms
from ._flow import Flow
from ._inventory import InstrumentSpec, Inventory, InventoryError, ParamSpec, StreamSpec, canonical
from ._provenance import provenance
from ._streams import (
    Built,
    Factor,
    built,
    carbon_balance,
    co2_recovered,
    fuel_combustion,
    indirect,
    steam_heat,
)
from ._terms import InstrumentFigure

PRIORITY = {"measured": 1, "lab": 1, "supplier": 2, "default": 3, "estimate": 4}
_SOURCE_ZH = {"measured": "实测(计量器具)", "lab": "实测(化验)", "supplier": "供应商提供", "default": "缺省值",
              "estimate": "估算"}


def figure_of(spec: InstrumentSpec, role: str = "instrument") -> InstrumentFigure:
    """An inventory instrument as an :class:`InstrumentFigure` (MPE/√3 for 检定, U/k for 校准; % → fraction)."""
    if spec.certificate == "verification":
        u = float(spec.mpe_rel or 0.0) / 100.0 / math.sqrt(3.0)
    else:
        u = float(spec.U_rel or 0.0) / 100.0 / spec.k
    share = spec.uncovered_share if spec.uncovered_share is not None else (1.0 if spec.state != "ok" else 0.0)
    return InstrumentFigure(
        spec.id, spec.certificate, u, None if spec.mpe_rel is None else spec.mpe_rel / 100.0,
        (spec.certificate_no,) if spec.certificate_no else (),
        None if spec.as_found_rel is None else spec.as_found_rel / 100.0, spec.apply_as_found, spec.state,
        np.array([share]), "", "analyser" if role == "analyser" else "instrument")


class _Ctx:
    def __init__(self, inv: Inventory, profile: Profile) -> None:
        self.inv = inv
        self.profile = profile
        self.problems: list[tuple[str, str, str, str]] = []
        self.flags: list[dict[str, Any]] = []

    def fail(self, where: str, fld: str, reason: str) -> None:
        self.problems.append((self.inv.file, where, fld, reason))

    def figure(self, ident: str, role: str) -> InstrumentFigure:
        return figure_of(self.inv.instruments[ident], role)


def _default_term(fv: FactorValue) -> Term:
    return Term(f"default:{fv.ref}", fv.u_rel, "rectangular" if fv.u_shape == "rectangular" else "normal", "default", f"{fv.ref} 缺省值 default", evidence=fv.evidence,
                note=f"{fv.source} {fv.clause}; u: {fv.u_source}")


def _default_factor(ctx: _Ctx, fv: FactorValue, name: str, stream: StreamCalc | None) -> Factor:
    src = {"parameter": name, "source": "default", "priority": PRIORITY["default"], "ref": fv.ref,
           "evidence": fv.evidence, "reason": "无实测或供应商数据, 采用缺省值 / no measured or supplier value: default"}
    if fv.unverified and stream is not None:
        stream.flags.append({"kind": "unverified_default", "parameter": name, "ref": fv.ref, "evidence": fv.evidence,
                             "message": f"缺省值 {fv.ref} 证据等级 [{fv.evidence}] 未经核实 / default value marked "
                                        f"[{fv.evidence}]: unverified"})
    return Factor(name, fv.value, fv.unit, (_default_term(fv),), source=src)


def _factor(ctx: _Ctx, spec: ParamSpec | None, name: str, base: str, where: str, stream: StreamCalc,
            default: FactorValue | None) -> Factor | None:
    """A scalar parameter from its spec, or the profile default when the spec says default or is absent."""
    if spec is None or spec.source == "default":
        if spec is not None and spec.ref:
            try:
                from carbonmet.factors import resolve
                default = resolve(spec.ref)
            except FactorError as exc:
                ctx.fail(where, "ref", str(exc))
                return None
        if default is None:
            ctx.fail(where, name, f"缺少参数且无缺省值 / parameter {name!r} missing and the profile has no default")
            return None
        return _default_factor(ctx, default, name, stream)
    assert spec.value is not None and spec.unit is not None
    value, unit = canonical(base, spec.value, spec.unit)
    src: dict[str, Any] = {"parameter": name, "source": spec.source, "priority": PRIORITY[spec.source or "default"],
                           "reason": spec.reason or f"{_SOURCE_ZH[spec.source or 'default']} / {spec.source}"}
    if spec.source == "measured":
        fig = ctx.figure(spec.instrument or "", "instrument")
        src["instrument"] = fig.id
        if (fl := fig.flag()) is not None:
            stream.flags.append(fl)
            stream.valid = False
        return Factor(name, value, unit, tuple(fig.terms()), source=src)
    if spec.source == "lab":
        fig = ctx.figure(spec.analyser or "", "analyser")
        src["analyser"] = fig.id
        if (fl := fig.flag()) is not None:
            stream.flags.append(fl)
            stream.valid = False
        n = spec.samples or 1
        noise = (spec.u_sample_rel or 0.0) / 100.0 / math.sqrt(n)
        src["samples"] = n
        return Factor(name, value, unit, tuple(fig.terms()), noise, f"sampling:{stream.name}.{name}", src)
    u = float(spec.u_rel or 0.0) / 100.0
    kind: TermKind = "supplier" if spec.source == "supplier" else "estimate"
    if kind == "estimate":
        stream.flags.append({"kind": "estimate", "parameter": name,
                             "message": f"{name} 为估算值 / {name} is an estimate (lowest priority)"})
    return Factor(name, value, unit, (Term(f"{kind}:{stream.name}.{name}", u, "normal", kind,
                                           f"{stream.name}.{name} {kind}"),), source=src)


def _amount(ctx: _Ctx, spec: ParamSpec, what: str, base: str, where: str, stream: StreamCalc
            ) -> tuple[Built, dict[str, Any], float] | None:
    """A measured / supplied amount as flows; also its data-source record and its own U_rel [%] (for the tier)."""
    if spec.source == "default":
        ctx.fail(where, "source", f"活动数据没有缺省值 / an amount ({what}) has no default: give a value")
        return None
    assert spec.value is not None and spec.unit is not None
    value, unit = canonical(base, spec.value, spec.unit)
    flow = Flow(what, np.array([value]), unit)
    src: dict[str, Any] = {"parameter": what, "source": spec.source, "priority": PRIORITY[spec.source or "measured"],
                           "reason": spec.reason or f"{_SOURCE_ZH[spec.source or 'measured']} / {spec.source}"}
    if spec.source in ("measured", "lab"):
        fig = ctx.figure(spec.instrument or spec.analyser or "", "instrument")
        src["instrument"] = fig.id
        if (fl := fig.flag()) is not None:
            stream.flags.append(fl)
            stream.valid = False
        terms = fig.terms()
        flows = fig.measure(flow)
    else:
        kind: TermKind = "supplier" if spec.source == "supplier" else "estimate"
        terms = [Term(f"{kind}:{stream.name}.{what}", float(spec.u_rel or 0.0) / 100.0, "normal", kind,
                      f"{stream.name}.{what} {kind}")]
        flows = [Flow(what, flow.values, unit, (terms[0].key,))]
    u_rel = _own_u_rel(flows, {t.key: t for t in terms})
    return built(flows, terms), src, 100.0 * 1.959963984540054 * u_rel


def _own_u_rel(flows: list[Flow], terms: dict[str, Term]) -> float:
    """Relative standard uncertainty of the sum of ``flows`` from their own terms [-]."""
    tot = sum(f.total for f in flows)
    if tot == 0:
        return math.nan
    sens: dict[str, float] = {}
    for f in flows:
        for k in f.terms:
            sens[k] = sens.get(k, 0.0) + f.total
    var = sum((c * terms[k].u) ** 2 for k, c in sens.items() if k in terms)
    var += sum(float((f.noise**2).sum()) for f in flows if f.noise is not None)
    return math.sqrt(var) / abs(tot)


def _fuel(ctx: _Ctx, i: int, s: StreamSpec) -> tuple[StreamCalc, list[Term]] | None:
    where = f"streams[{i}]"
    try:
        fd = ctx.profile.fuel(s.fuel or "")
    except FactorError as exc:
        ctx.fail(where, "fuel", str(exc))
        return None
    calc = StreamCalc(s.name, s.kind)
    assert s.activity is not None
    got = _amount(ctx, s.activity, "activity", "activity", f"{where}.activity", calc)
    if got is None:
        return None
    ad, src_ad, U_ad = got
    unit = ad.flows[0].unit
    if unit != fd.amount_unit:
        ctx.fail(f"{where}.activity", "unit", f"{s.fuel} 以 {fd.amount_unit} 计量, 而非 {unit} / {s.fuel} is "
                                              f"accounted in {fd.amount_unit}, not {unit}")
        return None
    of = _factor(ctx, s.oxidation_rate, "oxidation_rate", "oxidation_rate", f"{where}.oxidation_rate", calc,
                 fd.oxidation_rate)
    sources = [src_ad]
    cc: Factor | None = None
    if s.form == "per_heat":
        ncv = _factor(ctx, s.ncv, "ncv", "ncv", f"{where}.ncv", calc, fd.ncv)
        cc = _factor(ctx, s.carbon_content, "carbon_content", "carbon_content", f"{where}.carbon_content", calc,
                     fd.carbon_content_per_heat)
        if ncv is None or cc is None or of is None:
            return None
        if cc.unit != "tC/GJ":
            ctx.fail(f"{where}.carbon_content", "unit", "按热值计算时含碳量单位须为 tC/GJ / the per-heat form takes "
                                                        "carbon per heat [tC/GJ]")
            return None
        prop = ad.times(ncv)
        sources += [ncv.source, cc.source, of.source]
        factor = {"ncv": ncv.value, "ncv_unit": ncv.unit, "carbon_content": cc.value, "carbon_unit": cc.unit,
                  "oxidation_rate": of.value}
    else:
        if s.carbon_content is None or s.carbon_content.source == "default":
            ctx.fail(f"{where}.carbon_content", "source", "按元素碳计算须给出实测含碳量 / the per-mass form needs a "
                                                          "measured carbon content")
            return None
        c = _factor(ctx, s.carbon_content, "carbon_content", "carbon_content", f"{where}.carbon_content", calc, None)
        if c is None or of is None:
            return None
        prop = ad.times(c)
        sources += [c.source, of.source]
        factor = {"carbon_content": c.value, "carbon_unit": c.unit, "oxidation_rate": of.value}
    stream, terms = fuel_combustion(s.name, s.form, prop, cc, of)
    _annotate(stream, calc, {"value": float(ad.flows[0].values.sum() + sum(f.total for f in ad.flows[1:])),
                             "unit": unit, "U_rel_pct": U_ad}, factor, sources, tier_of(U_ad))
    return stream, terms + ad.terms


def _annotate(stream: StreamCalc, calc: StreamCalc, activity: dict[str, Any], factor: dict[str, Any],
              sources: list[dict[str, Any]], tier: dict[str, Any]) -> None:
    stream.flags += calc.flags
    stream.valid = calc.valid
    stream.activity = activity
    stream.factor = factor
    stream.data_source = {s["parameter"]: s for s in sources}
    stream.tier = tier


def _balance(ctx: _Ctx, i: int, s: StreamSpec) -> tuple[StreamCalc, list[Term]] | None:
    where = f"streams[{i}]"
    calc = StreamCalc(s.name, s.kind)
    sides: dict[str, list[Built]] = {"inputs": [], "outputs": []}
    terms: list[Term] = []
    sources: list[dict[str, Any]] = []
    tiers: dict[str, Any] = {}
    items: dict[str, Any] = {}
    for side in ("inputs", "outputs"):
        for j, item in enumerate(getattr(s, side), start=1):
            w = f"{where}.{side}[{j}]"
            got = _amount(ctx, item.amount, item.name, "amount", f"{w}.amount", calc)
            default = None
            if item.carbon.source == "default":
                try:
                    default = ctx.profile.get("carbon_content", item.material or item.name)
                except FactorError as exc:
                    ctx.fail(f"{w}.carbon", "source", str(exc))
                    continue
            c = _factor(ctx, item.carbon, f"{item.name}.carbon", "carbon_content", f"{w}.carbon", calc, default)
            if got is None or c is None:
                continue
            if c.unit == "tC/GJ":
                ctx.fail(f"{w}.carbon", "unit", "碳平衡的含碳量须为质量分数 / carbon balance takes carbon per mass")
                continue
            b, src, U = got
            sides[side].append(b.times(c))
            terms += b.terms
            sources += [src, c.source]
            tiers[item.name] = tier_of(U)
            items[item.name] = {"role": "raw_material" if side == "inputs" else "output",
                                "amount": sum(f.total for f in b.flows), "unit": b.flows[0].unit, "carbon": c.value,
                                "U_rel_pct": U}
    if ctx.problems:
        return None
    stream, t2 = carbon_balance(s.name, sides["inputs"], sides["outputs"])
    _annotate(stream, calc, {"items": items}, {}, sources,
              {"items": tiers, "tier": min((t["tier"] for t in tiers.values() if t["tier"] is not None), default=None)})
    return stream, terms + t2


def _recovered(ctx: _Ctx, i: int, s: StreamSpec) -> tuple[StreamCalc, list[Term]] | None:
    where = f"streams[{i}]"
    calc = StreamCalc(s.name, s.kind)
    assert s.volume is not None
    got = _amount(ctx, s.volume, "volume", "volume", f"{where}.volume", calc)
    pur = _factor(ctx, s.purity, "purity", "purity", f"{where}.purity", calc, None)
    if got is None or pur is None:
        return None
    vol, src, U = got
    stream, terms = co2_recovered(s.name, vol, pur, 1.977)
    _annotate(stream, calc, {"value": vol.flows[0].total, "unit": "Nm3", "U_rel_pct": U},
              {"purity": pur.value, "density_kg_per_nm3": 1.977}, [src, pur.source], tier_of(U))
    return stream, terms + vol.terms


def _indirect(ctx: _Ctx, i: int, s: StreamSpec) -> tuple[StreamCalc, list[Term]] | None:
    where = f"streams[{i}]"
    calc = StreamCalc(s.name, s.kind)
    heat = "heat" in s.kind
    if s.activity is not None:
        got = _amount(ctx, s.activity, "activity", "activity", f"{where}.activity", calc)
        if got is None:
            return None
        amount, src, U = got
        want = "GJ" if heat else "MWh"
        if amount.flows[0].unit != want:
            ctx.fail(f"{where}.activity", "unit", f"须以 {want} 计 / must be in {want}")
            return None
        sources = [src]
    else:
        assert s.steam is not None
        got = _amount(ctx, s.steam, "steam", "steam", f"{where}.steam", calc)
        en = _factor(ctx, s.enthalpy, "enthalpy", "enthalpy", f"{where}.enthalpy", calc, None)
        if got is None or en is None:
            return None
        st, src, U = got
        amount = steam_heat(st, en)
        sources = [src, en.source]
    try:
        default = (ctx.profile.get("emission_factor", "heat") if heat
                   else grid_factor(ctx.inv.header.year, ctx.inv.header.grid_scope))
    except FactorError as exc:
        if s.factor is None or s.factor.source == "default":
            ctx.fail(f"{where}.factor", "source", str(exc))
            return None
        default = None
    ef = _factor(ctx, s.factor, "emission_factor", "factor", f"{where}.factor", calc, default)
    if ef is None:
        return None
    stream, terms = indirect(s.name, s.kind, amount, ef)
    _annotate(stream, calc, {"value": sum(f.total for f in amount.flows), "unit": "GJ" if heat else "MWh",
                             "U_rel_pct": U}, {"emission_factor": ef.value, "unit": ef.unit}, sources + [ef.source],
              tier_of(U))
    return stream, terms + amount.terms


_BUILDERS = {"fuel_combustion": _fuel, "carbon_balance": _balance, "co2_recovered": _recovered,
             "purchased_electricity": _indirect, "exported_electricity": _indirect, "purchased_heat": _indirect,
             "exported_heat": _indirect}


def account_inventory(inv: Inventory, *, method: Method = "both", trials: int = 100_000,
                      seed: int | None = 0) -> Account:
    """Account an inventory file: one period (the year), every stream with its terms, evaluated by the engine.

    Raises
    ------
    InventoryError
        Unknown fuel or material, unknown profile, missing parameter without default, unit that does not fit
        the fuel — every problem with file, place and field; nothing is computed.
    """
    try:
        profile = load_profile(inv.header.profile) if inv.header.profile else default_profile()
    except FactorError as exc:
        raise InventoryError(inv.file, [(inv.file, "inventory", "profile", str(exc))]) from None
    ctx = _Ctx(inv, profile)
    streams: list[StreamCalc] = []
    terms: list[Term] = []
    for i, s in enumerate(inv.streams, start=1):
        got = _BUILDERS[s.kind](ctx, i, s)
        if got is not None:
            streams.append(got[0])
            terms += got[1]
    if ctx.problems:
        raise InventoryError(inv.file, ctx.problems)
    acc = Account(inv.header.enterprise, inv.header.year, profile.name, [str(inv.header.year)], streams,
                  merge_terms(terms), flags=ctx.flags,
                  provenance=provenance(inputs={"inventory": inv.file}, profile=profile))
    return finish(acc, method=method, trials=trials, seed=seed)
