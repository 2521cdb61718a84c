"""A monitoring plan (数据质量控制计划) for each enterprise of the region, consistent with its registry.

Every parameter names the point, lab stream or default it comes from: coal mass from the belt
scale, NCV and carbon content from the coal sample point's analyses (the instruments that made
them), slag and ash carbon from the provincial institute's analyses, oxidation rates, product carbon
contents and grid factors as default ids, CEMS flow and CO2 from the stack points, the process wastewater from
its flow meter with the institute's monthly total-carbon analyses. Every source stream has a ``streams`` row
saying how it is accounted: gasifier coal, products, by-products, slag and wastewater are the ``gasification``
carbon balance; boiler coal and natural gas are fuels burned; boiler ash measures the
boiler coal's oxidation; vent, flare, regenerator and stacks are measured emissions (cross-checks).
Written as ``plans/<E>.toml``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..sites import MonitoringPlan, PlanChangeRow, PlanHeader, PlanParameterRow, PlanStreamRow, plan_to_toml
from ._constants import constants
from ._errors import RefdataError
from ._metrology import PROVINCES, lab_instrument_point
from ._region import main_products, products
from ._types import Enterprise, Instrument, Point

# point quantity → parameter kind of a measured row (points not listed feed no plan row)
_KIND = {"mass": "activity_data", "normal_volume": "activity_data", "electric_energy": "activity_data",
         "normal_volume_flow": "flow", "concentration": "concentration", "temperature": "temperature"}
# emission source (排放设施) of each source stream; streams not listed are boundary flows of the enterprise
_SOURCE = {"gasifier_coal": "gasifier", "gasifier_slag": "gasifier", "rectisol_vent": "rectisol",
           "boiler_coal": "boiler", "boiler_ash": "boiler", "natural_gas": "boiler", "flare": "flare",
           "mto_regenerator": "mto", "recovered_co2": "co2_recovery", "purchased_electricity": "boundary",
           "purchased_steam": "boundary", "wastewater": "wastewater_outlet"}
_DEFAULT = "GB/T 32151.10-2023"  # default-value profile the ids refer to (resolved by the factors package)
_BALANCE = "gasification"  # the carbon-balance group (碳平衡) of the gasification-to-product chain
# how each non-product source stream is accounted: kind and the fields of its streams row
_STREAMS: dict[str, dict[str, str]] = {
    "gasifier_coal": {"kind": "raw_material", "balance": _BALANCE},
    "gasifier_slag": {"kind": "waste", "balance": _BALANCE},
    "wastewater": {"kind": "waste", "balance": _BALANCE},
    "boiler_coal": {"kind": "fuel_combustion", "material": "bituminous_coal", "form": "per_mass"},  # C measured
    "boiler_ash": {"kind": "residue", "balance": "boiler_coal"},
    "natural_gas": {"kind": "fuel_combustion", "material": "natural_gas", "form": "per_mass"},  # C in kg/Nm3
    "recovered_co2": {"kind": "co2_recovered"},
    "rectisol_vent": {"kind": "measured_emission"},
    "flare": {"kind": "measured_emission"},
    "mto_regenerator": {"kind": "measured_emission"},
    "purchased_electricity": {"kind": "purchased_electricity", "material": "national"},
    "purchased_steam": {"kind": "purchased_heat", "material": "steam"},
}
# the default-value subject of each fuel's oxidation rate
_FUELS = {stream: spec["material"] for stream, spec in _STREAMS.items() if spec["kind"] == "fuel_combustion"}


def _emission_source(stream: str) -> str:
    return "boiler" if stream.startswith("boiler_stack") else _SOURCE.get(stream, "product")


def _kind(p: Point) -> str | None:
    if p.quantity == "fraction":
        return "purity" if p.point_id.endswith("PURITY") else (
            "moisture" if p.point_id.endswith("MOIST") else "concentration")
    if p.quantity == "concentration" and p.point_id.endswith(".O2"):
        return "oxygen"
    return _KIND.get(p.quantity)


def make_plan(e: Enterprise, points: list[Point], instruments: list[Instrument], year: int) -> MonitoringPlan:
    """The version-1 plan of enterprise ``e`` over its points and (point and lab) instruments."""
    lab = constants()["lab"]
    at_point = {i.point_id: i.instrument_id for i in instruments if i.point_id}
    lab_inst = {i.lab_point: i.instrument_id for i in instruments if i.lab_point}
    third = PROVINCES[e.province][1]
    metering, chem, officer = f"{e.code} 计量室 metering", f"{e.code} 化验室 laboratory", f"{e.code} 碳排放管理员"
    rows: list[PlanParameterRow] = []

    def add(p: Point | None, stream: str, site: str, kind: str, unit: str, source: str, ref: str, method: str,
            frequency: str, instruments_: tuple[str, ...], responsible: str, note: str | None = None) -> None:
        rows.append(PlanParameterRow.model_validate({
            "site_code": site, "emission_source": _emission_source(stream), "source_stream": stream, "parameter": kind,
            "unit": unit, "source": source, "ref": ref, "method": method, "frequency": frequency, "instruments": instruments_,
            "responsible": responsible, "note": note}))

    by_id = {p.point_id: p for p in points}
    for p in points:
        if (p.schedule == "lab" or p.point_id not in at_point or p.wave == 2
                or p.point_id.split(".", 1)[1].startswith("COAL_RECEIPT")):
            continue  # receipts, stock surveys and shipments cross-check the meters; lab points are lab streams below
        kind = _kind(p)
        if kind is None:
            continue
        freq = "continuous" if p.reading_kind in ("total", "rate") else (
            "per_batch" if p.schedule.startswith("lot") else "daily")
        add(p, p.source_stream, p.site_code, kind, p.unit, "point", p.point_id, f"{p.name} ({p.gb17167_role or p.level})",
            freq, (at_point[p.point_id],), metering)

    def lab_row(stream: str, sample: str, kind: str, key: str, inst: str, who: str, freq: str) -> None:
        pt = by_id[f"{e.code}.{sample}"]
        add(pt, stream, pt.site_code, kind, lab[key]["unit"], "lab", pt.point_id, lab[key]["method"], freq,
            (lab_inst[inst],), who)

    cal, cab = lab_instrument_point(e.code, "CALORIMETER"), lab_instrument_point(e.code, "CARBON")
    for stream, sample in (("gasifier_coal", "GASIFIER_COAL.LAB"), ("boiler_coal", "BOILER_COAL.LAB")):
        lab_row(stream, sample, "ncv", "ncv", cal, chem, "per_batch")
        lab_row(stream, sample, "carbon_content", "carbon_content", cab, chem, "per_batch")
    i_cab, i_gc = lab_instrument_point(third, "CARBON"), lab_instrument_point(third, "GC")
    lab_row("gasifier_slag", "SLAG.LAB", "carbon_content", "slag_carbon", i_cab, f"{third} (委托 contracted)", "monthly")
    lab_row("boiler_ash", "BOILER_ASH.LAB", "carbon_content", "slag_carbon", i_cab, f"{third} (委托 contracted)",
            "monthly")
    lab_row("natural_gas", "NATURAL_GAS.LAB", "ncv", "ng_ncv", i_gc, f"{third} (委托 contracted)", "monthly")
    lab_row("natural_gas", "NATURAL_GAS.LAB", "carbon_content", "ng_carbon", i_gc, f"{third} (委托 contracted)",
            "monthly")
    lab_row("wastewater", "WASTEWATER.LAB", "carbon_content", "wastewater_carbon", lab_instrument_point(third, "TOC"),
            f"{third} (委托 contracted)", "monthly")
    s1, s2 = e.sites[0][0], e.sites[1][0]
    # fuels burned only: gasifier coal is a raw material of the carbon balance and has no oxidation rate
    for stream, site in (("boiler_coal", s2), ("natural_gas", s2)):
        add(None, stream, site, "oxidation_rate", "%", "default", f"{_DEFAULT}/oxidation_rate/{_FUELS[stream]}",
            "缺省值 default value", "yearly", (), officer)
    carriers = {p.source_stream: p.carrier for p in points}
    for prod in products(e):  # carbon leaving the balance in products: the theoretical carbon content
        add(None, prod["name"], s1, "carbon_content", "%", "default",
            f"{_DEFAULT}/carbon_content/{carriers[prod['name']]}", "缺省值 default value (理论含碳量 by formula)",
            "yearly", (), officer)
    add(None, "purchased_electricity", s2, "emission_factor", "tCO2/MWh", "default", "MEE/grid/emission_factor/national",
        "缺省值 default value (national grid average)", "yearly", (), officer)
    if any(p.source_stream == "purchased_steam" for p in points):
        add(None, "purchased_steam", s2, "emission_factor", "tCO2/GJ", "default", f"{_DEFAULT}/emission_factor/steam",
            "缺省值 default value", "yearly", (), officer)
    header = PlanHeader(enterprise=e.code, version=1, valid_from=date(year, 1, 1),
                        title=f"{e.name} 数据质量控制计划 monitoring plan {year}", approved_by=officer)
    change = PlanChangeRow(version=1, changed_on=date(year - 1, 12, 15), by=officer, reason="初版 first issue")
    streams = tuple(_stream_row(e, code, carriers) for code in dict.fromkeys(r.source_stream for r in rows))
    return MonitoringPlan(header, tuple(rows), (change,), streams)


def _stream_row(e: Enterprise, code: str, carriers: dict[str, str]) -> PlanStreamRow:
    """The ``streams`` row of one source stream of enterprise ``e``'s plan (how the accounting treats it)."""
    names = {p["name"] for p in products(e)}
    if code in names:  # main products and by-products leave the gasification carbon balance
        kind = "product" if code in main_products(e) else "by_product"
        return PlanStreamRow.model_validate({"source_stream": code, "kind": kind, "balance": _BALANCE,
                                             "material": carriers[code]})
    if code.startswith("boiler_stack_"):
        return PlanStreamRow(source_stream=code, kind="measured_emission")
    if code not in _STREAMS:
        raise RefdataError(f"{e.code}: source stream {code!r} has no stream kind in refdata/_plans.py")
    spec: dict[str, object] = dict(_STREAMS[code])
    if code == "purchased_steam":
        phys = constants()["physics"]
        spec.update(enthalpy_kj_per_kg=phys["steam_enthalpy_kj_per_kg"], enthalpy_u_rel=phys["steam_enthalpy_u_rel_pct"],
                    note="供汽条件下的比焓 specific enthalpy at the supply condition (~1.0 MPa / 250 °C) [A]")
    return PlanStreamRow.model_validate({"source_stream": code, **spec})


def write_plans(out: Path, ents: list[Enterprise], pts_by_ent: dict[str, list[Point]], instruments: list[Instrument],
                year: int) -> list[MonitoringPlan]:
    """Write ``out/plans/<E>.toml`` for every enterprise; return the plans."""
    d = out / "plans"
    d.mkdir(parents=True, exist_ok=True)
    plans = []
    for e in ents:
        plan = make_plan(e, pts_by_ent[e.code], instruments, year)
        (d / f"{e.code}.toml").write_text(plan_to_toml(plan), encoding="utf-8")
        plans.append(plan)
    return plans
