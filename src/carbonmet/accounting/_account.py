"""An enterprise-year account: totals with uncertainty, streams, budget, tiers, flags and what to improve (核算结果)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any, Literal

import numpy as np

from ._core import Engine, StreamCalc, Term, contributions, engine, lpu_per_period, sensitivities

Method = Literal["lpu", "mcm", "both"]
K95 = 1.959963984540054  # normal quantile for 95 % (a result with infinite effective dof)


def _tiers() -> list[dict[str, str]]:
    with resources.files("carbonmet.accounting").joinpath("data/tiers.csv").open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if not r["category"].startswith("#")]


def tier_of(U_rel_pct: float, category: str = "activity") -> dict[str, Any]:
    """The highest EU-MRR tier whose maximum permissible uncertainty the activity data meet.

    Parameters
    ----------
    U_rel_pct : float
        Expanded (95 %) relative uncertainty of the annual activity data [%].
    category : str
        Row of ``data/tiers.csv`` (``activity``: fuels and mass-balance inputs/outputs; ``flare``).

    Returns
    -------
    dict
        ``tier`` (0 = below tier 1, None when U is not evaluated), ``threshold_pct``, ``U_rel_pct``, ``source``.

    References
    ----------
    Regulation (EU) 2018/2066 Annex II Table 1 (accounting_methods.md §5.1, [V]).
    """
    rows = [r for r in _tiers() if r["category"] == category]
    if not rows:
        raise ValueError(f"unknown tier category {category!r}")
    if not math.isfinite(U_rel_pct):
        return {"tier": None, "threshold_pct": None, "U_rel_pct": None, "source": rows[0]["source"]}
    best: dict[str, Any] = {"tier": 0, "threshold_pct": None}
    for r in sorted(rows, key=lambda r: int(r["tier"])):
        if U_rel_pct <= float(r["max_uncertainty_pct"]) + 1e-12:
            best = {"tier": int(r["tier"]), "threshold_pct": float(r["max_uncertainty_pct"])}
    return {**best, "U_rel_pct": round(U_rel_pct, 6), "source": rows[0]["source"]}


def _r(x: float, nd: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else float(round(x, nd))


@dataclass
class Account:
    """The account of one enterprise and year (or one inventory file).

    ``periods`` are the period labels (twelve months, or the year alone for annual inventories);
    ``streams`` the source streams; ``terms`` every relative term by key. ``engine`` holds the uncertainty
    engine's evaluation of the total (LPU, MCM or both); per-period and per-stream figures are the analytic LPU
    of the same model (identical to the engine's LPU for the total).
    """

    enterprise: str
    year: int
    profile: str
    periods: list[str]
    streams: list[StreamCalc]
    terms: dict[str, Term]
    method: Method = "both"
    engine: Engine | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    control_plan: list[dict[str, Any]] = field(default_factory=list)

    # --- figures -------------------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.periods)

    def figures(self, streams: list[StreamCalc] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(values, u) per period then for the year [tCO2], by LPU, for ``streams`` (default all)."""
        return lpu_per_period(self.streams if streams is None else streams, self.terms, self.n)

    @property
    def total(self) -> dict[str, Any]:
        """The total: value, u, U, k, unit, interval (MCM interval when evaluated, else value ± U)."""
        v, u = self.figures()
        value, uu = float(v[-1]), float(u[-1])
        k = K95
        out: dict[str, Any] = {"value": value, "u": uu, "U": k * uu, "k": k, "unit": "tCO2",
                               "interval": [value - k * uu, value + k * uu], "method": "lpu"}
        ev = self.engine.evaluation if self.engine else None
        if ev is not None and ev.lpu is not None:
            out.update(u=float(ev.lpu.u), U=float(ev.lpu.U), k=float(ev.lpu.k),
                       interval=[value - float(ev.lpu.U), value + float(ev.lpu.U)])
        if ev is not None and ev.mcm is not None:
            out["mcm"] = {"value": float(ev.mcm.value), "u": float(ev.mcm.u),
                          "interval": [float(ev.mcm.interval[0]), float(ev.mcm.interval[1])],
                          "trials": int(ev.mcm.trials), "seed": ev.mcm.seed}
            if self.method == "mcm":
                out.update(interval=out["mcm"]["interval"], method="mcm")
        if ev is not None and ev.validation is not None:
            out["validation"] = ev.validation.to_dict()
        out["valid"] = all(s.valid for s in self.streams)
        return out

    def u_independent_periods(self) -> float:
        """u(total) [tCO2] if every term were independent from one period to the next (the √n assumption the
        correlated treatment replaces); for comparison only."""
        var = 0.0
        for k, c in sensitivities(self.streams, self.n).items():
            var += float(((c * self.terms[k].u) ** 2).sum())
        for s in self.streams:
            for z in s.noises:
                var += float((z.u**2).sum())
        return math.sqrt(var)

    def subtotal(self, scope: str) -> dict[str, float]:
        ss = [s for s in self.streams if s.scope == scope]
        if not ss:
            return {"value": 0.0, "u": 0.0}
        v, u = self.figures(ss)
        return {"value": float(v[-1]), "u": float(u[-1])}

    def term_sensitivities(self, scope: str | None = None) -> dict[str, float]:
        """∂E/∂δ_k of the year's emissions [tCO2] for every relative term, over the streams of ``scope``
        (``"direct"``, ``"indirect"``; default all) — for models that reuse this account's figures."""
        ss = [s for s in self.streams if scope is None or s.scope == scope]
        return {k: float(c.sum()) for k, c in sensitivities(ss, self.n).items()}

    def noise_variance(self, scope: str | None = None) -> float:
        """Variance [tCO2²] of the year's emissions from the independent noises of the streams of ``scope``."""
        return float(sum(float((z.u**2).sum()) for s in self.streams if scope is None or s.scope == scope
                         for z in s.noises))

    # --- budget and improvements ------------------------------------------------------------------------
    def budget(self) -> list[dict[str, Any]]:
        """Every term's contribution to u(total), largest first, down to the instrument and certificate."""
        _, u = self.figures()
        ut = float(u[-1])
        rows = []
        for key, sens, uc in contributions(self.streams, self.terms, self.n):
            t = self.terms.get(key)
            rows.append({
                "term": key, "kind": t.kind if t else "sampling", "label": t.label if t else key,
                "u_rel": _r(t.u, 8) if t else None, "distribution": t.shape if t else "normal",
                "sensitivity_t": _r(sens, 3), "u_contribution_t": _r(uc, 3),
                "variance_share": _r((uc / ut) ** 2 if ut > 0 else 0.0, 6),
                "instruments": list(t.instruments) if t else [], "certificates": list(t.certificates) if t else [],
                "evidence": t.evidence if t else "", "note": t.note if t else "",
            })
        return rows

    def improve(self, top: int = 10) -> list[dict[str, Any]]:
        """What cuts the total's expanded uncertainty most, with the figure it would become.

        For every term: an instrument or analyser with half its uncertainty (next accuracy class or a better
        calibration); an instrument out of legal state recalibrated (its widening gone); a default replaced by
        a measured value (its uncertainty halved, a conservative gain); sampling noise with four times the
        analyses. Ranked by the reduction of U(total) [tCO2].
        """
        _, u = self.figures()
        var = float(u[-1]) ** 2
        sens = {k: float(c.sum()) for k, c in sensitivities(self.streams, self.n).items()}
        noise_var: dict[str, float] = {}
        for s in self.streams:
            for z in s.noises:
                noise_var[z.key] = noise_var.get(z.key, 0.0) + float((z.u**2).sum())
        actions = {
            "instrument": ("换用高一准确度等级的器具 (MPE 减半) / an instrument of the next accuracy class (half the MPE)", 0.5),
            "analyser": ("分析仪校准或更换, 不确定度减半 / calibrate or replace the analyser (half its u)", 0.5),
            "legal_state": ("立即检定/校准并恢复合规 / verify or calibrate now (removes the widening)", 0.0),
            "default": ("以实测值替代缺省值 / measure instead of the default (u at least halved)", 0.5),
            "supplier": ("以实测值替代供应商数据 / measure instead of the supplier's figure", 0.5),
            "estimate": ("以实测值替代估算值 / measure instead of estimating", 0.25),
            "sampling": ("化验频次提高到 4 倍 / analyse four times as often", 0.5),
            "substitution": ("补齐缺失数据 / close the data gaps", 0.0),
        }
        out = []
        U0 = K95 * math.sqrt(var)
        for key, c in sens.items():
            t = self.terms[key]
            text, f = actions.get(t.kind, actions["instrument"])
            new_var = var - (c * t.u) ** 2 + (c * t.u * f) ** 2
            out.append((key, t.kind, text, t.label, list(t.instruments), K95 * math.sqrt(max(new_var, 0.0))))
        for key, nv in noise_var.items():
            text, f = actions["sampling"] if not key.startswith("sub") else actions["substitution"]
            new_var = var - nv + nv * f * f
            out.append((key, "sampling", text, key, [], K95 * math.sqrt(max(new_var, 0.0))))
        out.sort(key=lambda r: r[5])
        return [{"term": k, "kind": kind, "action": text, "label": label, "instruments": ins,
                 "U_now_t": _r(U0, 3), "U_after_t": _r(Ua, 3), "reduction_t": _r(U0 - Ua, 3),
                 "reduction_pct": _r(100 * (U0 - Ua) / U0 if U0 > 0 else 0.0, 3)}
                for k, kind, text, label, ins, Ua in out[:top] if U0 - Ua > 0]

    # --- output ------------------------------------------------------------------------------------------
    def stream_rows(self) -> list[dict[str, Any]]:
        rows = []
        for s in self.streams:
            v, u = self.figures([s])
            rows.append({
                "name": s.name, "kind": s.kind, "scope": s.scope,
                "emissions": {"value": _r(float(v[-1]), 4), "u": _r(float(u[-1]), 4),
                              "U": _r(K95 * float(u[-1]), 4), "unit": "tCO2"},
                "periods": [{"period": p, "value": _r(float(v[i]), 4), "u": _r(float(u[i]), 4)}
                            for i, p in enumerate(self.periods)] if self.n > 1 else [],
                "activity": s.activity, "factor": s.factor, "tier": s.tier, "data_source": s.data_source,
                "valid": s.valid, "flags": s.flags,
            })
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON object (docs/accounting.md): total, direct, indirect, streams, periods, budget,
        improve, flags, control_plan, provenance."""
        v, u = self.figures()
        tot = self.total
        return {
            "enterprise": self.enterprise, "year": self.year, "profile": self.profile, "method": self.method,
            "total": {k: (_r(x, 4) if isinstance(x, float) else [_r(y, 4) for y in x] if k == "interval" else x)
                      for k, x in tot.items()},
            "direct": {k: _r(x, 4) for k, x in self.subtotal("direct").items()},
            "indirect": {k: _r(x, 4) for k, x in self.subtotal("indirect").items()},
            "periods": [{"period": p, "value": _r(float(v[i]), 4), "u": _r(float(u[i]), 4)}
                        for i, p in enumerate(self.periods)] if self.n > 1 else [],
            "streams": self.stream_rows(),
            "budget": self.budget(),
            "improve": self.improve(),
            "flags": self.flags,
            "control_plan": self.control_plan,
            "provenance": self.provenance,
        }


def finish(acc: Account, *, method: Method = "both", trials: int = 100_000, seed: int | None = 0) -> Account:
    """Evaluate the total through the uncertainty engine and collect the streams' flags."""
    acc.method = method
    acc.engine = engine(acc.streams, acc.terms, method=method, trials=trials, seed=seed,
                        output=f"E_{acc.enterprise}_{acc.year}")
    seen = {(f.get("kind"), f.get("instrument"), f.get("stream")) for f in acc.flags}
    for s in acc.streams:
        for f in s.flags:
            key = (f.get("kind"), f.get("instrument"), s.name)
            if key not in seen:
                acc.flags.append({**f, "stream": s.name})
                seen.add(key)
    return acc


def affected_tonnes(acc: Account, instrument: str, start: date, end: date | None, error_rel: float) -> list[dict[str, Any]]:
    """What a suspect instrument moves in an account (超差追溯到吨): per stream, the tonnes it measured in
    ``[start, end)`` and how the stream and the total would move if its readings were ``error_rel`` [-] high.

    The affected tonnes of a month are the month's contribution carrying the instrument's term, times the share of
    the month's days in the window. The value moves by ``−affected·e/(1+e)`` (a reading ``(1+e)`` times the truth);
    ``u`` gains a rectangular term of half-width ``|e|`` on the affected part (the error is suspected, not known).

    Returns
    -------
    list of dict
        ``stream``, ``affected_t``, ``value_move_t``, ``stream_u_before_t`` / ``_after_t``,
        ``total_u_before_t`` / ``_after_t`` — empty when the instrument feeds no stream of the account.
    """
    keys = {f"instrument:{instrument}", f"analyser:{instrument}"}
    months = [(date(acc.year, m, 1), date(acc.year + (m == 12), m % 12 + 1, 1)) for m in range(1, 13)]
    if acc.n == 12:
        share = np.array([max(0, (min(b, end or b) - max(a, start)).days) / (b - a).days for a, b in months])
    else:  # an annual account: the share of the year's days
        y0, y1 = date(acc.year, 1, 1), date(acc.year + 1, 1, 1)
        share = np.array([max(0, (min(y1, end or y1) - max(y0, start)).days) / (y1 - y0).days])
    _, u_tot = acc.figures()
    out = []
    extra_total = 0.0
    rows = []
    for s in acc.streams:
        aff = sum((p.values * share for p in s.parts if keys & set(p.terms)), np.zeros(acc.n))
        a = float(aff.sum())
        if a == 0.0:
            continue
        _, u_s = acc.figures([s])
        add = abs(a) * abs(error_rel) / math.sqrt(3.0)
        extra_total += add  # one instrument: the additions are correlated across its streams
        rows.append((s, a, float(u_s[-1]), add))
    for s, a, us, add in rows:
        out.append({"enterprise": acc.enterprise, "year": acc.year, "stream": s.name, "instrument": instrument,
                    "affected_t": round(a, 3), "value_move_t": round(-a * error_rel / (1 + error_rel), 3),
                    "stream_u_before_t": round(us, 3), "stream_u_after_t": round(math.hypot(us, add), 3),
                    "total_u_before_t": round(float(u_tot[-1]), 3),
                    "total_u_after_t": round(math.hypot(float(u_tot[-1]), extra_total), 3)})
    return out
