"""An olca-schema package (openLCA JSON-LD, read by :mod:`carbonmet.factors.olca`) as a product system (背景数据包).

Each process becomes an activity whose reference product is its quantitative reference; other product outputs become
co-products (avoided products under system expansion); product inputs link to the process the exchange names as
default provider, else to the only process that makes the flow; greenhouse-gas emissions to air are matched by flow
name or CAS (``data/olca_gases.csv``). Uncertainty: the exchange's own distribution (rescaled to the flow's
reference unit), else its pedigree entry → lognormal σ with the basic variance of its class
(:func:`carbonmet.factors.pedigree.pedigree_sigma`). What is not modelled — an input with no provider in the package,
an elementary flow that is no greenhouse gas, a resource uptake — is listed in the result, never dropped silently;
with ``unlinked="error"`` an input without provider is an error naming the process and flow.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

from carbonmet.factors.olca import OlcaExchange, OlcaPackage
from carbonmet.factors.pedigree import basic_uncertainty, pedigree_sigma

from ._errors import FootprintError
from ._spread import Spread
from ._system import ProductSystem

__all__ = ["OlcaSystem", "system_from_olca"]

_CLASS_OF_GAS = {"CO2": "co2_process", "CH4": "ch4_combustion", "CH4_fossil": "ch4_combustion",
                 "N2O": "n2o_combustion"}


@dataclass
class OlcaSystem:
    """The product system built from a package and what was not modelled, with the reason for each."""

    system: ProductSystem
    activities: dict[str, str]  # process id → activity name
    products: dict[str, str]  # process id → its reference product key (a demand names this)
    not_modelled: list[str] = field(default_factory=list)


def _gas_table() -> list[tuple[str, str, str]]:
    text = (resources.files("carbonmet.footprint") / "data" / "olca_gases.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return [(r["match"], r["cas"], r["gas"]) for r in rows]


def _gas(name: str, cas: str, gwp_set: str) -> str | None:
    from carbonmet.factors import FactorError, gwp

    for match, c, gas in _gas_table():
        if name.startswith(match) or (cas and c and cas == c and not name):
            if gas == "skip":
                return None
            for g in gas.split("|"):
                try:
                    gwp(g, gwp_set)
                    return g
                except FactorError:
                    continue
            raise FootprintError(f"flow {name!r}: none of {gas} has a GWP100 in set {gwp_set!r}")
    return None


def _spread(ex: OlcaExchange, basic_class: str, where: str) -> Spread:
    scale = ex.amount_ref / ex.amount if ex.amount else 1.0
    u = ex.uncertainty
    if u is not None:
        p, kind = u.params, u.distribution_type
        if kind == "LOG_NORMAL_DISTRIBUTION":
            return Spread.lognormal(gsd=p["geomSd"])
        if kind == "NORMAL_DISTRIBUTION":
            return Spread.normal(abs(scale) * p["sd"])
        lo, hi = sorted((scale * p["minimum"], scale * p["maximum"]))
        if kind == "TRIANGLE_DISTRIBUTION":
            return Spread.triangular(lo, hi)
        if kind == "UNIFORM_DISTRIBUTION":
            return Spread.uniform(lo, hi)
        raise FootprintError(f"{where}: uncertainty {kind!r} is not one the engine samples")
    if ex.dq_entry is not None:
        return Spread.lognormal(pedigree_sigma(list(ex.dq_entry), basic_uncertainty(basic_class).variance).sigma)
    return Spread()


def system_from_olca(package: OlcaPackage, *, gwp_set: str = "AR6", stages: Mapping[str, str] | None = None,
                     unlinked: str = "cut-off", allocation_properties: Mapping[str, str] | None = None) -> OlcaSystem:
    """The product system of an olca-schema package (see the module docstring).

    Parameters
    ----------
    package : OlcaPackage
    gwp_set : str
    stages : mapping, optional
        Process id or name → stage label (default: the process's location, else ``"background"``).
    unlinked : {"cut-off", "error"}
        An input no process of the package provides: left out and listed, or an error.
    allocation_properties : mapping, optional
        Flow property id → engine property (``mass``, ``energy``, ``price``) for partitioning co-products.

    Raises
    ------
    FootprintError
        A process without a quantitative reference, an input with several providers and no default provider, an
        ``unlinked="error"`` input without provider, an uncertainty the engine cannot sample.
    """
    if unlinked not in ("cut-off", "error"):
        raise FootprintError(f"unlinked must be 'cut-off' or 'error', got {unlinked!r}")
    stages = stages or {}
    props_map = allocation_properties or {}
    ps = ProductSystem(gwp_set=gwp_set)
    out = OlcaSystem(ps, {}, {})
    providers: dict[str, list[str]] = {}
    refs: dict[str, OlcaExchange] = {}
    for pr in package.processes:
        found = [e for e in pr.exchanges if e.is_quantitative_reference and not e.is_input]
        if len(found) != 1:
            raise FootprintError(f"process {pr.name!r} ({pr.id}): {len(found)} quantitative reference outputs, need 1")
        refs[pr.id] = found[0]
        providers.setdefault(found[0].flow_id, []).append(pr.id)

    def product_key(flow_id: str, process_id: str) -> str:
        return flow_id if len(providers[flow_id]) == 1 else f"{flow_id}@{process_id}"

    def props(flow_id: str) -> dict[str, float]:
        f = package.flows.get(flow_id)
        return {props_map[k]: v for k, v in (f.properties.items() if f else ()) if k in props_map}

    for pr in package.processes:
        ref = refs[pr.id]
        name = f"{pr.name} [{pr.id}]"
        out.activities[pr.id] = name
        out.products[pr.id] = product_key(ref.flow_id, pr.id)
        stage = stages.get(pr.id) or stages.get(pr.name) or pr.location or "background"
        ps.add_activity(name, out.products[pr.id], stage=stage, amount=ref.amount_ref, properties=props(ref.flow_id))
    for pr in package.processes:
        name = out.activities[pr.id]
        for ex in pr.exchanges:
            where = f"process {pr.name!r}, exchange {ex.flow_name!r}"
            if ex is refs[pr.id]:
                continue
            if ex.flow_type in ("PRODUCT_FLOW", "WASTE_FLOW"):
                if not ex.is_input:
                    if ex.is_avoided_product:
                        out.not_modelled.append(f"{where}: avoided product (use allocation 'substitution' by hand)")
                        continue
                    ps.add_coproduct(name, ex.flow_id, ex.amount_ref, properties=props(ex.flow_id))
                    continue
                prov = [ex.default_provider] if ex.default_provider else providers.get(ex.flow_id, [])
                if not prov or prov[0] not in refs:
                    if unlinked == "error":
                        raise FootprintError(f"{where}: no process of the package provides {ex.flow_name!r}")
                    out.not_modelled.append(f"{where}: {ex.amount_ref:g} {ex.reference_unit} cut off (no provider "
                                            "in the package)")
                    continue
                if len(prov) > 1:
                    raise FootprintError(f"{where}: {len(prov)} processes make {ex.flow_name!r} and the exchange "
                                         "names no default provider")
                ps.add_input(name, product_key(ex.flow_id, prov[0]), ex.amount_ref,
                             _spread(ex, "demand", where))
                continue
            flow = package.flows.get(ex.flow_id)
            gas = _gas(ex.flow_name, flow.cas if flow else "", gwp_set)
            if gas is None or ex.is_input:
                out.not_modelled.append(f"{where}: {'resource uptake' if ex.is_input else 'not a greenhouse gas'}"
                                        f" ({ex.amount_ref:g} {ex.reference_unit})")
                continue
            if ex.reference_unit != "kg":
                raise FootprintError(f"{where}: emission in {ex.reference_unit!r}, the engine takes kg")
            ps.add_emission(name, gas, ex.amount_ref, _spread(ex, _CLASS_OF_GAS.get(gas, "co2_process"), where))
    if not out.activities:
        raise FootprintError(f"{package.source}: no processes to model")
    return out
