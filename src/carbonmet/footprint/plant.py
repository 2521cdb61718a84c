"""Cradle-to-gate footprint of a plant's products from its measured foreground (工厂产品碳足迹).

The chain layer of the footprint engine: a plant's year (direct emissions, purchased inputs, products — each a
:class:`Linear` quantity in the relative error terms of the instruments that measured it, so correlations the
account knows survive) and background factors per unit of input become a :class:`ProductSystem`; the engine
solves it under the product rule's allocation; the uncertainty is propagated through the engine by central
differences over every error term, noise and factor (LPU, correlations kept), optionally checked by a Monte Carlo
that samples the same terms.

Two uncertainties are reported: ``u_measurement`` (the plant's measurements only, factors taken as exact — what a
verifier of the plant's data asks) and ``u`` (measurements and background factors — what a buyer of the product
asks). The PACT document carries the second.

References
----------
ISO 14067:2018 §6.3–6.4 (partial CFP, cradle-to-gate; allocation hierarchy of ISO 14044 §4.3.4), GB/T 24067-2024;
JCGM 100:2008 (GUM) §5.1–5.2 (LPU with correlated inputs expressed through shared error terms).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from ._errors import FootprintError
from ._system import ProductSystem
from .pact import PcfFigures
from .rules import ProductRule, RuleProperty

__all__ = ["K95", "BackgroundFactor", "ErrorTerm", "Linear", "PlantData", "PlantFootprint", "background_factors",
           "dqr_weighted", "plant_footprint", "subdivision_of"]

K95 = 2.0
"""Coverage factor of the reported expanded uncertainty (normal approximation, ≈ 95 %)."""

_ALLOCATION = {"mass": "mass", "energy": "energy", "economic": "economic", "system_expansion": "substitution"}
_KG_PER_T = 1000.0


@dataclass(frozen=True, slots=True)
class Linear:
    """A measured quantity as value + Σ_k s_k δ_k + ε: linear in shared relative error terms δ_k.

    Attributes
    ----------
    value : float
        Best estimate [unit].
    unit : str
    sensitivities : mapping of str to float
        s_k = ∂value/∂δ_k [unit] for each error term key.
    noise_var : float
        Variance of an independent part ε [unit²] (repeatability, substitution).
    """

    value: float
    unit: str
    sensitivities: Mapping[str, float] = field(default_factory=dict)
    noise_var: float = 0.0


@dataclass(frozen=True, slots=True)
class ErrorTerm:
    """A relative error term δ_k shared by the quantities it touches (an instrument, an analyser, a default)."""

    key: str
    u: float
    shape: str = "normal"  # or "rectangular"
    label: str = ""


@dataclass(frozen=True, slots=True)
class BackgroundFactor:
    """Cradle-to-gate emissions per unit of a purchased input [tCO2e / unit], with its uncertainty and source.

    ``dqr`` are the PACT technological, geographical and temporal data-quality ratings (1 best … 3).
    """

    item: str
    value: float
    unit: str
    u_rel: float
    source: str
    evidence: str
    ref: str = ""
    dqr: tuple[float, float, float] = (2.0, 2.0, 2.0)

    @property
    def unverified(self) -> bool:
        """Marked from memory, unverified or our assumption (shown in every output that uses it)."""
        return self.evidence.strip().upper().startswith(("?", "M", "A", "C-WEAK"))


@dataclass(frozen=True, slots=True)
class PlantData:
    """A plant's foreground for one year (前景数据), each figure a :class:`Linear` in the ``terms``.

    Attributes
    ----------
    enterprise : str
    year : int
    direct : Linear
        CO2 emitted on site [tCO2] (process and combustion, net of CO2 recovered).
    inputs : mapping of str to Linear
        Purchased inputs by rule item (``purchased_electricity`` [MWh], ``coal`` [t], ``natural_gas`` [kNm3] …),
        in the unit of the item's background factor.
    products : mapping of str to Linear
        Main products [t] (co-products among which the burden is allocated; by-products are cut off).
    recovered : Linear or None
        CO2 captured for use or storage [tCO2], reported in its own field, never netted.
    terms : mapping of str to ErrorTerm
    direct_by_stage : mapping of str to Linear, optional
        ``direct`` split by stage (sums to it); each stage's share then shows in the contribution by stage.
    """

    enterprise: str
    year: int
    direct: Linear
    inputs: Mapping[str, Linear]
    products: Mapping[str, Linear]
    terms: Mapping[str, ErrorTerm]
    recovered: Linear | None = None
    direct_by_stage: Mapping[str, Linear] | None = None


@dataclass(frozen=True)
class PlantFootprint:
    """A product's cradle-to-gate footprint per kg [kgCO2e/kg = tCO2e/t] with its uncertainty and budget."""

    enterprise: str
    year: int
    product: str
    rule: ProductRule
    allocation: str
    value: float
    u: float
    u_measurement: float
    captured: float
    by_stage: dict[str, float]
    per_tonne: dict[str, float]
    budget: list[dict[str, Any]]
    allocation_rows: list[dict[str, Any]]
    factors: list[BackgroundFactor]
    primary_data_share: float
    dqi: tuple[float, float, float]
    flags: list[str]
    mc: dict[str, Any] | None = None

    @property
    def U(self) -> float:
        """Expanded uncertainty, k = 2 [kgCO2e/kg]."""
        return K95 * self.u

    @property
    def interval(self) -> tuple[float, float]:
        return (self.value - K95 * self.u, self.value + K95 * self.u)

    @property
    def interval_measurement(self) -> tuple[float, float]:
        """value ± 2 u_measurement: the interval of the plant's measurements, background factors held exact."""
        return (self.value - K95 * self.u_measurement, self.value + K95 * self.u_measurement)

    def pcf_figures(self) -> PcfFigures:
        """The figures of a PACT v3 document (kg per declared unit of 1 kg)."""
        carbon = self.rule.properties.get("carbon_fraction")
        return PcfFigures(fossil_ghg_emissions=self.value, fossil_carbon_content=carbon.value if carbon else 0.0,
                          ccu_carbon_content=self.captured * 12.011 / 44.0095,
                          primary_data_share=100.0 * self.primary_data_share, dqi=self.dqi,
                          expanded_uncertainty=self.U)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval
        mlo, mhi = self.interval_measurement
        return {
            "enterprise": self.enterprise, "year": self.year, "product": self.product,
            "name": f"{self.rule.name_zh} {self.rule.name_en}", "unit": "kgCO2e/kg", "boundary": self.rule.boundary,
            "allocation": self.allocation, "value": self.value, "u": self.u, "U": self.U, "k": K95,
            "interval": [lo, hi], "u_measurement": self.u_measurement, "interval_measurement": [mlo, mhi],
            "captured_co2_kg_per_kg": self.captured, "by_stage": self.by_stage, "inputs_per_tonne": self.per_tonne,
            "budget": self.budget, "allocation_sensitivity": self.allocation_rows,
            "factors": [{"item": f.item, "value": f.value, "unit": f.unit, "u_rel": f.u_rel, "source": f.source,
                         "evidence": f.evidence, "ref": f.ref} for f in self.factors],
            "primary_data_share": self.primary_data_share, "dqi": list(self.dqi), "flags": self.flags,
            "pcr": self.rule.pcr, "mc": self.mc,
        }


def subdivision_of(region: str) -> str | None:
    """ISO 3166-2 code of a Chinese region named by its province first (``内蒙古自治区鄂尔多斯市`` → ``CN-NM``)."""
    text = (resources.files("carbonmet.footprint") / "data" / "iso3166_2_cn.csv").read_text(encoding="utf-8")
    codes = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    r = region.strip()
    return next((c["code"] for c in codes if r.startswith(c["name_zh"])), None)


def background_factors() -> dict[str, BackgroundFactor]:
    """The background factor of each purchased input (``data/background.csv``), taken from ``carbonmet.factors``:
    grid and heat by their default ids, upstream coal and natural gas from the factor database's records."""
    from carbonmet.factors import resolve
    from carbonmet.factors.database import find

    text = (resources.files("carbonmet.footprint") / "data" / "background.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    out: dict[str, BackgroundFactor] = {}
    for r in rows:
        dqr = tuple(float(x) for x in r["dqr"].split(";"))
        ref = r["factor_ref"].strip()
        if ref:
            fv = resolve(ref)
            out[r["item"]] = BackgroundFactor(r["item"], float(fv.value), r["unit"], float(r["u_rel"]),
                                              f"{ref} ({fv.source})", f"{fv.evidence}; u assigned A", ref,
                                              (dqr[0], dqr[1], dqr[2]))
            continue
        found = find(product=r["product"], technology=r["technology"])
        if len(found) != 1:
            raise FootprintError(f"background.csv: {r['item']}: {len(found)} factor records for product "
                                 f"{r['product']!r}, technology {r['technology']!r} (need exactly one)")
        rec = found[0]
        if rec.unit != r["unit"]:
            raise FootprintError(f"background.csv: {r['item']}: the factor is in {rec.unit}, not {r['unit']}")
        out[r["item"]] = BackgroundFactor(r["item"], float(rec.value), r["unit"], float(rec.u) / float(rec.value),
                                          rec.source, rec.evidence, rec.ref, (dqr[0], dqr[1], dqr[2]))
    return out


class _Model:
    """The plant's footprint as a function of (δ, ε, factor multipliers): one engine solve per evaluation."""

    def __init__(self, rule: ProductRule, data: PlantData, background: Mapping[str, BackgroundFactor],
                 co_rules: Mapping[str, ProductRule], allocation: str) -> None:
        self.rule, self.data, self.allocation = rule, data, allocation
        self.co_rules = co_rules
        missing = [i for i in data.inputs if i not in background]
        if missing:
            raise FootprintError(f"{data.enterprise}: no background factor for {', '.join(missing)}")
        self.factors = [background[i] for i in data.inputs]
        split = dict(data.direct_by_stage or {})
        q: list[tuple[str, Linear]] = ([(f"direct:{k}", v) for k, v in split.items()] if split
                                       else [("direct", data.direct)])
        q += [(f"input:{k}", v) for k, v in data.inputs.items()]
        q += [(f"product:{k}", v) for k, v in data.products.items()]
        if data.recovered is not None:
            q.append(("recovered", data.recovered))
        self.names = [n for n, _ in q]
        self.keys = sorted({k for _, v in q for k in v.sensitivities if k in data.terms})
        unknown = sorted({k for _, v in q for k in v.sensitivities} - set(data.terms))
        if unknown:
            raise FootprintError(f"{data.enterprise}: sensitivities to unknown error terms {', '.join(unknown[:5])}")
        self.v = np.array([v.value for _, v in q])
        self.S = np.array([[v.sensitivities.get(k, 0.0) for k in self.keys] for _, v in q]).reshape(len(q), -1)
        self.noise_sd = np.sqrt(np.array([max(v.noise_var, 0.0) for _, v in q]))
        self.u_terms = np.array([data.terms[k].u for k in self.keys])
        self.rect = np.array([data.terms[k].shape == "rectangular" for k in self.keys], dtype=bool)
        self.f = np.array([b.value for b in self.factors])
        self.u_f = np.array([b.u_rel for b in self.factors])

    def system(self, q: np.ndarray, f: np.ndarray) -> ProductSystem:
        d = dict(zip(self.names, q, strict=True))
        rule, data = self.rule, self.data
        ps = ProductSystem(gwp_set=rule.gwp)
        for (item, lin), fac in zip(data.inputs.items(), f, strict=True):
            stage = next((i.stage for i in rule.inputs if i.item == item), "utilities")
            ps.add_activity(f"supply:{item}", item, stage=stage, amount=1.0)
            ps.add_emission(f"supply:{item}", "CO2", fac * _KG_PER_T)
        main = rule.product
        mass = d[f"product:{main}"] * _KG_PER_T
        if not mass > 0:
            raise FootprintError(f"{data.enterprise}: product {main!r} amount must be > 0, got {mass / _KG_PER_T} t")
        direct_stage = next((i.stage for i in rule.inputs if i.item == "direct_emissions"), "synthesis")
        ps.add_activity("plant", main, stage=direct_stage, amount=mass, properties=_props(rule))
        for name in data.products:
            if name != main:
                co = d[f"product:{name}"] * _KG_PER_T
                if co > 0:
                    ps.add_coproduct("plant", name, co, properties=_props(self.co_rules.get(name)))
        for item in data.inputs:
            ps.add_input("plant", item, d[f"input:{item}"])
        if "direct" in d:
            ps.add_emission("plant", "CO2", d["direct"] * _KG_PER_T)
        for n, v in d.items():
            if n.startswith("direct:"):  # on-site emissions of one stage: a service the plant takes once
                st = n.removeprefix("direct:")
                ps.add_activity(f"onsite:{st}", f"onsite:{st}", stage=st, amount=1.0)
                ps.add_emission(f"onsite:{st}", "CO2", v * _KG_PER_T)
                ps.add_input("plant", f"onsite:{st}", 1.0)
        if "recovered" in d and d["recovered"] > 0:
            ps.add_capture("plant", d["recovered"] * _KG_PER_T)
        return ps

    def quantities(self, delta: np.ndarray, eps: np.ndarray) -> np.ndarray:
        return self.v + self.S @ delta + eps

    def score(self, delta: np.ndarray, eps: np.ndarray, fmul: np.ndarray) -> float:
        ps = self.system(self.quantities(delta, eps), self.f * fmul)
        return float(ps.footprint({self.rule.product: 1.0}, self.allocation).score)


def _props(rule: ProductRule | None) -> dict[str, float]:
    props = {"mass": 1.0}
    if rule is not None:
        lhv: RuleProperty | None = rule.properties.get("lhv_mj_per_kg")
        price: RuleProperty | None = rule.properties.get("price_cny_per_kg")
        if lhv is not None:
            props["energy"] = lhv.value
        if price is not None:
            props["price"] = price.value
    return props


def plant_footprint(rule: ProductRule, data: PlantData, background: Mapping[str, BackgroundFactor], *,
                    allocation: str | None = None, co_rules: Mapping[str, ProductRule] | None = None,
                    mc: int = 0, seed: int = 0) -> PlantFootprint:
    """Cradle-to-gate footprint of ``rule.product`` made by the plant ``data`` describes [kgCO2e/kg].

    Parameters
    ----------
    rule : ProductRule
        Declared unit, boundary, stages and default allocation.
    data : PlantData
        The year's foreground: direct emissions, purchased inputs, main products, recovered CO2.
    background : mapping of str to BackgroundFactor
        A factor for every input of ``data`` [tCO2e per unit of the input].
    allocation : str, optional
        ``mass``, ``energy``, ``economic`` or ``system_expansion``; default the rule's.
    co_rules : mapping, optional
        Rules of the co-products (their LHV or price for energy or economic allocation).
    mc : int
        Monte Carlo trials sampling the same terms, noises and factors (0: none).
    seed : int

    Returns
    -------
    PlantFootprint

    Notes
    -----
    u² = Σ_k (∂F/∂δ_k · u_k)² + Σ_j (∂F/∂q_j)² var(ε_j) + Σ_i (∂F/∂f_i · f_i u_rel,i)², derivatives by central
    differences through the engine (step = 10⁻³ of a standard uncertainty); the δ_k are shared, so a meter that
    weighs the product and also enters the carbon balance moves numerator and denominator together.
    """
    method = allocation or rule.allocation
    if method not in _ALLOCATION:
        raise FootprintError(f"unknown allocation {method!r}; known: {', '.join(_ALLOCATION)}")
    if rule.product not in data.products:
        raise FootprintError(f"{data.enterprise}: makes no {rule.product} ({rule.name_zh}); main products: "
                             f"{', '.join(data.products) or '—'}")
    m = _Model(rule, data, background, co_rules or {}, _ALLOCATION[method])
    K, J, I = len(m.keys), len(m.names), len(m.factors)
    zero_d, zero_e, one_f = np.zeros(K), np.zeros(J), np.ones(I)
    ps0 = m.system(m.v, m.f)
    base = ps0.footprint({rule.product: 1.0}, m.allocation)
    value = float(base.score)

    def central(fn: Any, u: float) -> float:
        step = 1e-3 * u  # first-order derivative (LPU), not a secant over ±u
        return (fn(step) - fn(-step)) / (2.0 * step)

    contrib: list[tuple[str, str, float]] = []
    for k in range(K):
        uk = m.u_terms[k]
        if uk <= 0:
            continue
        e = np.eye(1, K, k)[0]
        g = central(lambda h, e=e: m.score(zero_d + h * e, zero_e, one_f), uk)
        contrib.append((m.keys[k], data.terms[m.keys[k]].label or m.keys[k], g * uk))
    for j in range(J):
        sd = m.noise_sd[j]
        if sd <= 0:
            continue
        e = np.eye(1, J, j)[0]
        g = central(lambda h, e=e: m.score(zero_d, zero_e + h * e, one_f), sd)
        contrib.append((f"noise:{m.names[j]}", f"{m.names[j]} 独立噪声 independent noise", g * sd))
    meas_var = sum(c * c for _, _, c in contrib)
    for i in range(I):
        ui = m.u_f[i]
        if ui <= 0:
            continue
        e = np.eye(1, I, i)[0]
        g = central(lambda h, e=e: m.score(zero_d, zero_e, one_f + h * e), ui)
        contrib.append((f"factor:{m.factors[i].item}", f"背景因子 background factor {m.factors[i].item}", g * ui))
    var = sum(c * c for _, _, c in contrib)
    budget = [{"term": key, "label": label, "u_contribution": float(abs(c)),
               "share": float(c * c / var) if var > 0 else 0.0}
              for key, label, c in sorted(contrib, key=lambda x: -abs(x[2]))]

    rows = []
    for r in ps0.allocation_sensitivity({rule.product: 1.0}, m.allocation):
        name = next((k for k, v in _ALLOCATION.items() if v == r.method), r.method)
        rows.append({"method": name, "value": r.score, "relative_to_chosen": r.relative_to_chosen,
                     "chosen": r.chosen, "note": r.note})

    # per kg of product: the plant's own emissions are primary data; inputs times background factors secondary
    own = sum(float(c) for a, c in zip(base.activities, base.contribution, strict=True)
              if a == "plant" or a.startswith("onsite:"))
    direct_share = own / value if value > 0 else 0.0
    supply = [float(base.contribution[base.activities.index(f"supply:{b.item}")]) for b in m.factors]
    dqi = dqr_weighted([own, *supply], [(1.0, 1.0, 1.0), *(b.dqr for b in m.factors)])
    flags = list(rule.flags) + [f"unverified_factor:{b.item}" for b in m.factors if b.unverified]
    per_tonne = {k: _KG_PER_T * float(base.supply[base.activities.index(f"supply:{k}")]) for k in data.inputs}
    mc_out = _monte_carlo(m, mc, seed, value) if mc > 0 else None
    return PlantFootprint(
        enterprise=data.enterprise, year=data.year, product=rule.product, rule=rule, allocation=method,
        value=value, u=float(math.sqrt(var)), u_measurement=float(math.sqrt(meas_var)), captured=float(base.captured_co2),
        by_stage={k: float(v) for k, v in base.by_stage.items()}, per_tonne=per_tonne, budget=budget[:15],
        allocation_rows=rows, factors=list(m.factors), primary_data_share=direct_share,
        dqi=tuple(round(x, 2) for x in dqi), flags=flags, mc=mc_out)  # type: ignore[arg-type]


def _monte_carlo(m: _Model, trials: int, seed: int, value: float) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    K, J, I = len(m.keys), len(m.names), len(m.factors)
    z = rng.standard_normal((trials, K))
    uni = rng.uniform(-1.0, 1.0, (trials, K)) * math.sqrt(3.0)
    delta = np.where(m.rect, uni, z) * m.u_terms
    eps = rng.standard_normal((trials, J)) * m.noise_sd
    fmul = 1.0 + rng.standard_normal((trials, I)) * m.u_f
    meas = np.array([m.score(delta[t], eps[t], np.ones(I)) for t in range(trials)])
    full = np.array([m.score(delta[t], eps[t], fmul[t]) for t in range(trials)])
    out: dict[str, Any] = {"trials": trials, "seed": seed}
    for name, draws in (("measurement", meas), ("total", full)):
        lo, hi = np.percentile(draws, [2.5, 97.5])
        out[name] = {"mean": float(draws.mean()), "sd": float(draws.std(ddof=1)), "interval": [float(lo), float(hi)],
                     "bias": float(draws.mean() - value)}
    return out


def dqr_weighted(shares: Sequence[float], ratings: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Emission-weighted data-quality ratings (PACT methodology 4.2.3)."""
    total = sum(shares)
    if total <= 0:
        raise FootprintError("no emissions to weight data-quality ratings by")
    return tuple(sum(s * r[n] for s, r in zip(shares, ratings, strict=True)) / total for n in range(3))  # type: ignore[return-value]
