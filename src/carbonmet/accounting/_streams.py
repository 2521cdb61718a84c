"""Source streams from resolved flows and factors (源流核算): the formulas of :mod:`.formulas` applied to
:class:`~._flow.Flow` objects so that every contribution keeps its uncertainty terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbonmet.quantities import CO2_PER_C

from ._core import Noise, StreamCalc, Term
from ._flow import Flow
from .formulas import FEEDWATER_KJ_PER_KG


@dataclass(frozen=True, slots=True)
class Factor:
    """A scalar parameter of a stream (NCV, carbon content, oxidation rate, EF …) with its terms.

    ``terms`` are relative corrections shared with whatever else they touch (a default used by two
    streams is one term); ``noise_rel`` is an independent relative standard uncertainty (the mean of n
    laboratory results), applied to the product it enters.
    """

    name: str
    value: float
    unit: str
    terms: tuple[Term, ...] = ()
    noise_rel: float = 0.0
    noise_key: str = ""
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class Built:
    """Flows multiplied out, with the noises that factors added and every term met on the way."""

    flows: list[Flow]
    noises: list[Noise] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)

    def times(self, f: Factor) -> Built:
        """The flows multiplied by ``f``: its terms attached, earlier noises scaled, its own noise added."""
        out = [fl.times(f.value, f.unit, tuple(t.key for t in f.terms)) for fl in self.flows]
        noises = [Noise(z.key, z.u * abs(f.value), z.kind, z.label) for z in self.noises]
        if f.noise_rel > 0:
            u = np.sqrt(sum((fl.values * f.value * f.noise_rel) ** 2 for fl in self.flows))
            noises.append(Noise(f.noise_key or f"noise:{f.name}", u, "sampling", f"{f.name} 化验重复性 repeatability"))
        return Built(out, noises, self.terms + list(f.terms))

    def const(self, c: float, unit: str) -> Built:
        return self.times(Factor("const", c, unit))


def built(flows: list[Flow], terms: list[Term]) -> Built:
    """Start from measured flows (their own noises become stream noises)."""
    noises = [z for fl in flows for z in fl.noises()]
    stripped = [Flow(f.what, f.values, f.unit, f.terms) for f in flows]
    return Built(stripped, noises, list(terms))


def _stream(name: str, kind: str, parts: list[tuple[float, Built]], **facts: Any) -> tuple[StreamCalc, list[Term]]:
    s = StreamCalc(name, kind, **facts)
    terms: list[Term] = []
    for sign, b in parts:
        for fl in b.flows:
            s.parts.append(fl.part(sign))
        s.noises += b.noises
        terms += b.terms
    return s, terms


def fuel_combustion(name: str, form: str, amount_x_property: Built, cc: Factor | None, of: Factor,
                    residue_carbon: Built | None = None, **facts: Any) -> tuple[StreamCalc, list[Term]]:
    """A fuel burned: per heat (``amount_x_property`` = heat [GJ], times ``cc`` [tC/GJ]) or per mass (carbon
    [tC]), times the oxidation rate ``of`` — or, when ``residue_carbon`` [tC] is given, minus the carbon left
    in ash and slag (measured oxidation, :func:`.formulas.oxidation_from_residue`) — times 44/12."""
    c = amount_x_property.times(cc) if form == "per_heat" and cc is not None else amount_x_property
    if residue_carbon is not None:
        return _stream(name, "fuel_combustion", [(1.0, c.const(CO2_PER_C, "t")),
                                                  (-1.0, residue_carbon.const(CO2_PER_C, "t"))], **facts)
    return _stream(name, "fuel_combustion", [(1.0, c.times(of).const(CO2_PER_C, "t"))], **facts)


def carbon_balance(name: str, inputs: list[Built], outputs: list[Built], **facts: Any) -> tuple[StreamCalc, list[Term]]:
    """Process emissions by carbon mass balance: Σ carbon in − Σ carbon out [tC] × 44/12."""
    parts = [(1.0, b.const(CO2_PER_C, "t")) for b in inputs] + [(-1.0, b.const(CO2_PER_C, "t")) for b in outputs]
    return _stream(name, "carbon_balance", parts, **facts)


def co2_recovered(name: str, volume: Built, purity: Factor | Built, density_kg_per_nm3: float,
                  **facts: Any) -> tuple[StreamCalc, list[Term]]:
    """CO2 recovered and supplied outside: −V·PUR·ρ [t] (ρ in kg/Nm³)."""
    b = volume.times(purity) if isinstance(purity, Factor) else volume
    return _stream(name, "co2_recovered", [(-1.0, b.const(density_kg_per_nm3 * 1e-3, "t"))], **facts)


def indirect(name: str, kind: str, amount: Built, ef: Factor, **facts: Any) -> tuple[StreamCalc, list[Term]]:
    """Purchased (+) or exported (−) electricity [MWh] or heat [GJ] times its factor."""
    sign = -1.0 if kind.startswith("exported") else 1.0
    return _stream(name, kind, [(sign, amount.times(ef))], scope="indirect", **facts)


def steam_heat(steam_t: Built, enthalpy: Factor) -> Built:
    """Heat of steam [GJ]: mass × (enthalpy − 83.74 kJ/kg) × 10⁻³ (:func:`.formulas.steam_heat_gj`)."""
    net = Factor(enthalpy.name, (enthalpy.value - FEEDWATER_KJ_PER_KG) * 1e-3, "GJ/t",
                 enthalpy.terms, enthalpy.noise_rel * enthalpy.value / max(enthalpy.value - FEEDWATER_KJ_PER_KG, 1e-9),
                 enthalpy.noise_key, enthalpy.source)
    return steam_t.times(net)
