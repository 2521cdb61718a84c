"""CO2 mass emissions from CEMS over a year, with their uncertainty down to the instruments (CEMS 排放量核算).

For every ``measured_emission`` stream of the monitoring plan that names a flow and a concentration point
(boiler stacks, the MTO regenerator, the Rectisol vent) the hourly chain is

.. math:: m_h = Q_{sn,h} \\cdot \\frac{c_h}{100} \\cdot \\rho_{CO_2} \\cdot 1\\,\\mathrm{h} \\cdot 10^{-3}\\quad [t]

with ``Q_sn`` the standard-condition dry flow [Nm³/h] and ``c`` the dry CO2 volume fraction [%] (both on the dry
standard basis HJ 76-2017 App. B reports, so the basis is the same by construction; an actual-condition flow
is refused), and ``ρ_CO2`` the density of CO2 at standard conditions (``data/gas.toml``). Hourly validity is
the metering store's (HJ 76-2017 App. B, reused, not copied); gaps are substituted per parameter by the chosen
rule set (:mod:`._substitute`); plant-stopped hours emit nothing.

The result is an :class:`carbonmet.accounting.Account` (profile ``cems:<rule set>``): each stream is
contributions × the relative terms of the flow monitor and the gas analyser that measured them (from their
certificates, with the legal-state rule of the accounting), plus one independent absolute term per month for
the substituted hours. Because the terms carry the registry ids the accounting uses, a comparison with the
account sees shared instruments as shared inputs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np

from carbonmet.accounting import (
    Account,
    Hourly,
    InstrumentFigure,
    Noise,
    Part,
    PlanData,
    StreamCalc,
    Term,
    finish,
)

from ._errors import CemsError
from ._substitute import SUBSTITUTION_U_RULE, Filled, substitute

Method = Literal["lpu", "mcm", "both"]
_FLOW_UNITS = {"Nm3/h": 1.0, "m3/h(std,dry)": 1.0, "kNm3/h": 1e3}
_CONC_UNITS = {"%": 1.0, "%vol": 1.0, "vol%": 1.0}


@cache
def gas_constants() -> dict[str, dict[str, Any]]:
    """The constants and estimates of ``data/gas.toml`` (value, u_rel, source, evidence, note)."""
    text = resources.files("carbonmet.cems").joinpath("data/gas.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True, slots=True)
class CemsStream:
    """A measured-emission stream the plan monitors continuously: its flow and CO2 concentration points."""

    stream: str
    flow_point: str
    conc_point: str
    flow_unit: str
    conc_unit: str


def cems_streams(plan: Any) -> tuple[list[CemsStream], list[dict[str, Any]]]:
    """The continuously monitored streams of ``plan`` and the measured-emission streams that are not (with why).

    Raises
    ------
    CemsError
        A flow given at actual conditions (needs the HJ 75 chain with temperature, pressure and moisture), or a
        flow or concentration unit the chain does not know — naming the plan row's stream and parameter.
    """
    out: list[CemsStream] = []
    other: list[dict[str, Any]] = []
    for st in plan.streams:
        if st.kind != "measured_emission":
            continue
        rows = {r.parameter: r for r in plan.rows_for(st.source_stream) if r.source == "point"}
        fl, cc = rows.get("flow"), rows.get("concentration")
        if fl is None or cc is None:
            act = rows.get("activity_data")
            other.append({"stream": st.source_stream, "point": act.ref if act else None,
                          "unit": act.unit if act else None,
                          "reason": "无连续 CO2 监测 (仅有流量计量) / not continuously monitored for CO2"})
            continue
        where = f"plan {plan.enterprise}@{plan.version}, stream {st.source_stream}"
        if fl.unit not in _FLOW_UNITS:
            raise CemsError(f"{where}, parameter flow, field unit: {fl.unit!r} is not a standard-condition dry flow "
                            f"({', '.join(_FLOW_UNITS)}); a flow at actual conditions needs the HJ 75 chain "
                            "(temperature, pressure, moisture) first / 工况流量须先折算为标干流量")
        if cc.unit not in _CONC_UNITS:
            raise CemsError(f"{where}, parameter concentration, field unit: {cc.unit!r} is not a CO2 volume "
                            f"fraction ({', '.join(_CONC_UNITS)}) / 浓度单位不支持")
        out.append(CemsStream(st.source_stream, fl.ref, cc.ref, fl.unit, cc.unit))
    return out, other


def cems_points(plan: Any) -> list[str]:
    """Every point the CEMS leg reads: flow and CO2 of the monitored streams, the activity of the others."""
    got, other = cems_streams(plan)
    return sorted({p for s in got for p in (s.flow_point, s.conc_point)} | {o["point"] for o in other if o["point"]})


def _split(values: np.ndarray, keys: tuple[str, ...], fig: InstrumentFigure | None, n: int
           ) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """``values`` [per period] with ``fig``'s terms attached, split by its out-of-legal-state share per period."""
    if fig is None:
        return [(values, keys)]
    base = tuple(t.key for t in fig.terms() if not t.key.startswith("legal_state:"))
    if not fig.out_of_state:
        return [(values, keys + base)]
    s = np.broadcast_to(fig.uncovered_share, (n,)) if fig.uncovered_share.size in (1, n) else np.zeros(n)
    return [(values * (1 - s), keys + base), (values * s, keys + base + (f"legal_state:{fig.id}",))]


def _segments(h: Hourly, H: int) -> list[tuple[str, int, int]]:
    return list(h.instruments) or [("", 0, H)]


def _noise_per_period(dm: np.ndarray, f: Filled, hour_period: np.ndarray, n: int) -> np.ndarray:
    """Variance per period [t²] of the substituted hours: hours of one gap share one error (linear sum of
    sensitivities × u within a gap and period, quadrature across)."""
    var = np.zeros(n)
    sel = np.flatnonzero(f.gap >= 0)
    if sel.size == 0:
        return var
    key = f.gap[sel] * n + hour_period[sel]
    uniq, inv = np.unique(key, return_inverse=True)
    lin = np.bincount(inv, weights=dm[sel] * f.u[sel], minlength=uniq.size)
    np.add.at(var, uniq % n, lin**2)
    return var


def _flow_figures(d: PlanData, h: Hourly) -> dict[str, InstrumentFigure | None]:
    return {i: d.figures(i, "instrument") for i, _, _ in h.instruments}


def cems_account(d: PlanData, *, rule_set: str = "hjt75_2007", method: Method = "both", trials: int = 100_000,
                 seed: int | None = 0, flare: bool = True) -> Account:
    """The CEMS leg of ``d.plan``'s enterprise for ``d.year`` (CEMS 直接监测排放量).

    Parameters
    ----------
    d : PlanData
        Gathered with the CEMS points (:func:`cems_points`) — hourly valid means of flow [Nm³/h] and CO2 [%],
        the plant-stopped hours, the installed instruments and their certificate figures by month.
    rule_set : str
        Missing-data substitution rule set (``data/substitution.csv``).
    method : {"lpu", "mcm", "both"}
        How the uncertainty engine evaluates the total.
    flare : bool
        Add the flare, which is metered for volume only, as an estimated stream (its gas carbon content from
        ``data/gas.toml``, evidence A), so that the leg covers the same boundary as the account's direct
        emissions.

    Returns
    -------
    carbonmet.accounting.Account
        Streams per monitored source; ``activity`` of each holds the hour counts (valid, substituted, stopped),
        the gaps with their rule and clause, the annual flow [Nm³] and flow-weighted mean CO2 [%].

    References
    ----------
    HJ 75-2017 mass-emission chain (accounting_methods.md §3.1, [C]); HJ 76-2017 App. B hourly validity [C];
    substitution: ``data/substitution.csv``.
    """
    monitored, other = cems_streams(d.plan)
    n = len(d.period_labels)
    H = d.hour_period.size
    rho = float(gas_constants()["co2_density_kg_per_nm3"]["value"])
    terms: dict[str, Term] = {}
    streams: list[StreamCalc] = []
    flags: list[dict[str, Any]] = []
    missing: list[str] = []
    for cs in monitored:
        hq, hc = d.hourly.get(cs.flow_point), d.hourly.get(cs.conc_point)
        if hq is None or hc is None:
            missing += [p for p, h in ((cs.flow_point, hq), (cs.conc_point, hc)) if h is None]
            continue
        stopped = np.zeros(H, dtype=bool)
        for h in (hq, hc):
            if h.stopped is not None:
                stopped |= h.stopped[:H]
        fq = substitute(hq.measured[:H] * _FLOW_UNITS[cs.flow_unit], stopped, rule_set)
        fc = substitute(hc.measured[:H] * _CONC_UNITS[cs.conc_unit], stopped, rule_set)
        off = fq.stopped | fc.stopped
        q = np.where(off, 0.0, fq.values)
        c = np.where(off, 0.0, fc.values)
        m = q * c / 100.0 * rho * 1e-3  # t per hour
        s = StreamCalc(cs.stream, "measured_emission")
        # contributions by (flow monitor, analyser) installation segment and period, with both instruments' terms
        figs: dict[str, InstrumentFigure | None] = {**_flow_figures(d, hq), **_flow_figures(d, hc)}
        for iq, q0, q1 in _segments(hq, H):
            for ic, c0, c1 in _segments(hc, H):
                a, b = max(q0, c0), min(q1, c1)
                if b <= a:
                    continue
                w = np.zeros(H)
                w[a:b] = m[a:b]
                per = np.bincount(d.hour_period, weights=w, minlength=n)[:n]
                pieces: list[tuple[np.ndarray, tuple[str, ...]]] = [(per, ())]
                for ident in (iq, ic):
                    fig = figs.get(ident) if ident else None
                    pieces = [pp for v, k in pieces for pp in _split(v, k, fig, n)]
                for v, k in pieces:
                    if np.any(v != 0):
                        s.parts.append(Part(f"{cs.stream} {iq}×{ic}", v, k))
        for fig in figs.values():
            if fig is None:
                continue
            for t in fig.terms():
                terms[t.key] = t
            fl = fig.flag()
            if fl is not None:
                s.flags.append(fl)
                s.valid = False
        var = _noise_per_period(np.where(fq.substituted & (q > 0), m / np.where(q > 0, q, 1.0), 0.0), fq,
                                d.hour_period, n)
        var += _noise_per_period(np.where(fc.substituted & (c > 0), m / np.where(c > 0, c, 1.0), 0.0), fc,
                                 d.hour_period, n)
        if np.any(var > 0):
            s.noises.append(Noise(f"substitution:{cs.stream}", np.sqrt(var), "substitution",
                                  f"{cs.stream} 缺失数据替代 / substituted hours ({rule_set}); {SUBSTITUTION_U_RULE}"))
        sub_h = int((fq.substituted | fc.substituted).sum())
        valid_h = int((~fq.substituted & ~fc.substituted & ~off).sum())
        vol = float(q.sum())
        s.activity = {
            "flow_point": cs.flow_point, "conc_point": cs.conc_point, "rule_set": rule_set,
            "hours": H, "valid_hours": valid_h, "substituted_hours": sub_h, "stopped_hours": int(off.sum()),
            "flow_nm3": round(vol, 1), "co2_pct_flow_weighted": round(float((q * c).sum() / vol), 5) if vol else None,
            "co2_density_kg_per_nm3": rho,
            "gaps": {"flow": fq.gaps, "co2": fc.gaps},
        }
        s.data_source = {"flow": {"parameter": "flow", "source": "cems", "point": cs.flow_point},
                         "concentration": {"parameter": "concentration", "source": "cems", "point": cs.conc_point}}
        if valid_h < 0.8 * max(H - int(off.sum()), 1):
            s.flags.append({"kind": "low_availability", "message":
                            f"{cs.stream}: 有效小时 {valid_h}/{H - int(off.sum())} 运行小时 < 80 % / valid hours below "
                            "80 % of operating hours"})
        streams.append(s)
    if missing:
        raise CemsError(f"plan {d.plan.enterprise}@{d.plan.version}: no hourly data gathered for the CEMS point(s) "
                        f"{', '.join(sorted(missing))} / 未取得监测点数据")
    for o in other:
        if flare and o["stream"] == "flare" and o["point"] in d.hourly:
            streams.append(_flare(d, o, terms))
    if not streams:
        raise CemsError(f"plan {d.plan.enterprise}@{d.plan.version} monitors no stream continuously (no "
                        "measured_emission stream with flow and concentration points) / 计划中无 CEMS 监测源流")
    acc = Account(d.plan.enterprise, d.year, f"cems:{rule_set}", d.period_labels, streams, terms, flags=flags,
                  provenance={"inputs": {"plan": f"{d.plan.enterprise}@{d.plan.version}", **d.inputs},
                              "rule_set": rule_set, "gas": gas_constants(),
                              "not_monitored": [o for o in other if not (flare and o["stream"] == "flare")]})
    return finish(acc, method=method, trials=trials, seed=seed)


def _flare(d: PlanData, o: dict[str, Any], terms: dict[str, Term]) -> StreamCalc:
    """The flare as an estimated stream: metered gas volume × estimated carbon content × 44/12."""
    h = d.hourly[o["point"]]
    g = gas_constants()["flare_gas_carbon_kg_per_nm3"]
    n = len(d.period_labels)
    vol = np.nan_to_num(h.measured) + np.nan_to_num(h.substituted)
    co2 = vol * float(g["value"]) * 1e-3 * 3.664191  # t CO2 (44.0095/12.011)
    per = np.bincount(d.hour_period, weights=co2[: d.hour_period.size], minlength=n)[:n]
    est = Term("estimate:flare_gas_carbon", float(g["u_rel"]), "normal", "estimate",
               "火炬气含碳量估计值 / flare gas carbon content, estimated", evidence=str(g["evidence"]),
               note=f"{g['source']}; {g.get('note', '')}")
    terms[est.key] = est
    s = StreamCalc("flare", "measured_emission")
    pieces: list[tuple[np.ndarray, tuple[str, ...]]] = [(per, (est.key,))]
    for iid, _, _ in h.instruments:
        fig = d.figures(iid, "instrument")
        if fig is not None:
            for t in fig.terms():
                terms[t.key] = t
            pieces = [pp for v, k in pieces for pp in _split(v, k, fig, n)]
    s.parts = [Part("flare", v, k) for v, k in pieces]
    s.activity = {"point": o["point"], "gas_nm3": round(float(vol.sum()), 1),
                  "carbon_kg_per_nm3": g["value"], "evidence": g["evidence"]}
    s.data_source = {"carbon_content": {"parameter": "carbon_content", "source": "estimate",
                                        "evidence": g["evidence"]}}
    s.flags.append({"kind": "estimated", "message": "火炬未连续监测 CO2, 按气量 × 估计含碳量计 / the flare is not "
                    f"monitored for CO2: volume × estimated carbon content [{g['evidence']}]"})
    return s


def stream_hours(acc: Account) -> list[dict[str, Any]]:
    """Hour counts and gap totals per monitored stream of a CEMS account (for tables)."""
    out = []
    for s in acc.streams:
        a = s.activity
        if "valid_hours" not in a:
            continue
        out.append({"stream": s.name, "valid_hours": a["valid_hours"], "substituted_hours": a["substituted_hours"],
                    "stopped_hours": a["stopped_hours"], "hours": a["hours"],
                    "gaps": len(a["gaps"]["flow"]) + len(a["gaps"]["co2"]),
                    "availability": round(a["valid_hours"] / max(a["hours"] - a["stopped_hours"], 1), 4)})
    return out
