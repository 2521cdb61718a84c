"""The region: enterprises of the four coal-chemical routes, their sites and measurement points."""

from __future__ import annotations

import numpy as np

from ._constants import constants
from ._types import Enterprise, Point

ROUTES = ("ctm", "cto", "ctl", "cteg")
_ROUTE_WEIGHTS = {"ctm": 0.4, "cto": 0.25, "ctl": 0.15, "cteg": 0.2}
_REGION_SHORT = {"ordos": "鄂尔多斯", "ningdong": "宁东", "yulin": "榆林"}

# RNG purpose tags (a stream per purpose, so that adding draws in one place does not move the others)
TAG_REGION, TAG_TRUTH, TAG_COAL, TAG_METROLOGY, TAG_FAULTS, TAG_NOISE, TAG_LAB, TAG_CEMS = range(1, 9)
TAG_RATA = 9  # reference-method comparisons (refdata-1.4): a new stream, so no earlier draw moves
TAG_STOCK = 10  # stocks and shipments (refdata-1.6): a new stream, so no earlier draw moves


def rng_for(seed: int, tag: int, *keys: int) -> np.random.Generator:
    """Independent, order-free random stream for ``(seed, purpose, keys…)``."""
    return np.random.default_rng([seed, tag, *keys])


def code_digits(n: int) -> int:
    """Digits of the enterprise codes of a region of ``n`` enterprises: 2 up to 99 (``E01``…``E99``), else 4
    (``E0001``…``E9999``), so that codes of one region have one width and sort as their numbers."""
    return 2 if n <= 99 else 4


def enterprise_code(i: int, n: int) -> str:
    """Code of enterprise ``i`` (0-based) of a region of ``n`` enterprises (see :func:`code_digits`)."""
    return f"E{i + 1:0{code_digits(n)}d}"


def make_enterprises(n: int, seed: int) -> list[Enterprise]:
    """Draw ``n`` enterprises; the first four cover the four routes, the rest follow route weights.

    Parameters
    ----------
    n : int
        Number of enterprises (≥ 1); codes are ``E01``… up to 99 enterprises, ``E0001``… above.
    seed : int
        Generator seed.
    """
    c = constants()
    rng = rng_for(seed, TAG_REGION, 1000)
    routes = list(ROUTES[: min(n, 4)])
    if n > 4:
        keys = list(_ROUTE_WEIGHTS)
        p = np.array([_ROUTE_WEIGHTS[k] for k in keys])
        routes += [keys[i] for i in rng.choice(len(keys), size=n - 4, p=p / p.sum())]
    regions = c["region"]
    out: list[Enterprise] = []
    for i, route in enumerate(routes):
        rng = rng_for(seed, TAG_REGION, i)  # enterprise i is the same whatever the region size
        r = c["route"][route]
        reg = regions[int(rng.integers(len(regions)))]
        code = enterprise_code(i, n)
        short = _REGION_SHORT.get(reg["key"], reg["key"])
        cap = float(r["capacity_mt"][int(rng.integers(len(r["capacity_mt"])))]) * 1e6
        util = float(rng.uniform(*r["utilisation"]))
        eff = float(rng.uniform(*r["efficiency"]))
        steam = float(r["purchased_steam_t"][int(rng.integers(len(r["purchased_steam_t"])))])
        rec = float(r["recovered_co2_share"][int(rng.integers(len(r["recovered_co2_share"])))])
        n_st = int(rng.integers(r["stacks"][0], r["stacks"][1] + 1))
        out.append(
            Enterprise(
                code=code,
                name=f"{short}{r['name_zh']}示范企业{code[1:]}有限公司",
                route=route,
                industry=r["label"],
                region_key=reg["key"],
                region=reg["name"],
                province=reg["province"],
                capacity_t=cap,
                utilisation=util,
                efficiency=eff,
                purchased_steam_t_per_t=steam,
                recovered_share=rec,
                n_stacks=n_st,
                gasifier_basin=reg["basins"][0],
                boiler_basin=reg["basins"][-1],
                sites=((f"{code}-S1", f"{short}{r['name_zh']}主装置区"), (f"{code}-S2", f"{short}动力中心(热电)")),
            )
        )
    return out


def products(e: Enterprise) -> list[dict]:
    return list(constants()["route"][e.route]["products"])


def main_products(e: Enterprise) -> list[str]:
    r = constants()["route"][e.route]
    return list(r.get("main_products", [r["products"][0]["name"]] if e.route != "cto" else ["polyethylene", "polypropylene"]))


def hj212_mn(e: Enterprise, stack: str) -> str:
    """Data-logger MN for a stack: 24 characters 0-9/A-F (HJ 212-2017 Table 3, EPC-96 style)."""
    div = {"NM": "15", "NX": "64", "SN": "61"}.get(e.province, "99")  # GB/T 2260 province codes
    stk = 99 if stack == "MTO_REGEN" else int(stack.removeprefix("STACK"))
    return f"A0{div}{'0' * 12}{int(e.code[1:]):04d}{stk:04d}"


def make_points(e: Enterprise) -> list[Point]:
    """Measurement points of one enterprise (one instrument each; lab sample points have none).

    Points added by a later dataset version carry a higher ``wave`` and come last (see :func:`in_draw_order`).
    """
    s1, s2 = e.sites[0][0], e.sites[1][0]
    E = e.code
    pts: list[Point] = []

    def add(pid: str, site: str, name: str, quantity: str, carrier: str, unit: str, kind: str, level: str,
            stream: str, itype: str, signal: str, schedule: str = "clock", role: str = "", mn: str = "",
            code: str = "", wave: int = 0) -> None:
        pts.append(Point(f"{E}.{pid}", E, site, name, quantity, carrier, unit, kind, level, stream, itype,  # type: ignore[arg-type]
                         signal, schedule, role, mn, code, wave))

    add("COAL_RECEIPT_G", s1, "气化原料煤进厂轨道衡 gasifier coal receipt", "mass", "raw_coal", "t", "interval", "L1",
        "gasifier_coal", "rail_weighbridge", "gasifier_coal.lot_mass", "lot_g", "dynamic_weighing")
    add("COAL_RECEIPT_B", s2, "燃料煤进厂轨道衡 boiler coal receipt", "mass", "fuel_coal", "t", "interval", "L1",
        "boiler_coal", "rail_weighbridge", "boiler_coal.lot_mass", "lot_b", "dynamic_weighing")
    add("GASIFIER_COAL", s1, "气化入炉煤皮带秤 gasifier coal belt scale", "mass", "raw_coal", "t", "total", "L2",
        "gasifier_coal", "belt_scale", "gasifier_coal", role="dynamic_weighing")
    add("BOILER_COAL", s2, "锅炉入炉煤皮带秤 boiler coal belt scale", "mass", "fuel_coal", "t", "total", "L2",
        "boiler_coal", "belt_scale", "boiler_coal", role="dynamic_weighing")
    add("NATURAL_GAS", s2, "天然气进厂流量计 natural gas", "normal_volume", "natural_gas", "Nm3", "total", "L1",
        "natural_gas", "gas_flow_meter", "natural_gas", role="natural_gas")
    add("ELECTRICITY", s2, "关口电能表 grid gateway electricity", "electric_energy", "electricity", "MWh", "total",
        "L1", "purchased_electricity", "electricity_meter", "electricity", role="electricity_class_i")
    if e.purchased_steam_t_per_t > 0:
        add("STEAM_IN", s2, "外购蒸汽流量计 purchased steam", "mass", "steam", "t", "total", "L1",
            "purchased_steam", "steam_flow_meter", "steam", role="steam")
    for p in products(e):
        pid = p["name"].upper()
        if p["instrument"] == "weighbridge":
            add(pid, s1, f"{p['name']} 出厂汽车衡 weighbridge", "mass", p["carrier"], "t", "interval", "L1",
                p["name"], "weighbridge", p["name"], "daily", "static_weighing")
        else:
            add(pid, s1, f"{p['name']} 质量流量计 Coriolis", "mass", p["carrier"], "t", "total", "L1",
                p["name"], "liquid_flow_meter", p["name"])
    add("SLAG", s1, "气化渣汽车衡 gasifier slag", "mass", "slag", "t", "interval", "L2", "gasifier_slag",
        "weighbridge", "slag", "daily")
    add("BOILER_ASH", s2, "锅炉灰渣汽车衡 boiler ash", "mass", "ash", "t", "interval", "L2", "boiler_ash",
        "weighbridge", "boiler_ash", "daily")
    add("RECTISOL_VENT.FLOW", s1, "低温甲醇洗尾气流量 Rectisol vent flow", "normal_volume_flow", "co2", "Nm3/h",
        "rate", "L2", "rectisol_vent", "vent_flow_meter", "vent.gas_nm3")
    add("RECTISOL_VENT.CO2", s1, "低温甲醇洗尾气CO2浓度 Rectisol vent CO2", "fraction", "co2", "%", "rate", "L2",
        "rectisol_vent", "cems_gas_analyser", "vent.co2_pct")
    if e.recovered_share > 0:
        add("CO2_RECOVERED.FLOW", s1, "回收CO2外供流量 recovered CO2", "normal_volume", "co2", "Nm3", "total", "L1",
            "recovered_co2", "gas_flow_meter", "recovered.gas_nm3")
        add("CO2_RECOVERED.PURITY", s1, "回收CO2纯度 recovered CO2 purity", "fraction", "co2", "%", "rate", "L1",
            "recovered_co2", "cems_gas_analyser", "recovered.purity_pct")
    add("FLARE", s1, "火炬气流量 flare gas", "normal_volume", "syngas", "Nm3", "total", "L2", "flare",
        "gas_flow_meter", "flare.gas_nm3")
    stacks = [f"STACK{k + 1}" for k in range(e.n_stacks)] + (["MTO_REGEN"] if e.route == "cto" else [])
    for st in stacks:
        mn = hj212_mn(e, st)
        site = s1 if st == "MTO_REGEN" else s2
        stream = "mto_regenerator" if st == "MTO_REGEN" else f"boiler_stack_{st[5:]}"
        for suffix, quantity, unit, itype, code, zh in (
            ("FLOW", "normal_volume_flow", "Nm3/h", "cems_flow_monitor", "a00000", "标干流量 dry std flow"),
            ("CO2", "concentration", "%", "cems_gas_analyser", "a05001", "CO2浓度(干基)"),
            ("O2", "concentration", "%", "o2_analyser", "a19001", "O2含量(干基)"),
            ("TEMP", "temperature", "degC", "thermometer", "a01012", "烟温"),
            ("MOIST", "fraction", "%", "moisture_meter", "a01014", "烟气湿度"),
        ):
            add(f"{st}.{suffix}", site, f"{st} CEMS {zh}", quantity, "flue_gas", unit, "rate", "L3", stream, itype,
                f"{st}.{suffix.lower()}", mn=mn, code=code)
    # lab sample points (no installed instrument; results in lab.csv)
    add("GASIFIER_COAL.LAB", s1, "气化原料煤采样 gasifier coal samples", "carbon_content", "raw_coal", "%", "sample",
        "L2", "gasifier_coal", "", "gasifier_coal", "lab")
    add("BOILER_COAL.LAB", s2, "燃料煤采样 boiler coal samples", "carbon_content", "fuel_coal", "%", "sample", "L2",
        "boiler_coal", "", "boiler_coal", "lab")
    add("SLAG.LAB", s1, "气化渣采样 slag samples", "carbon_content", "slag", "%", "sample", "L2", "gasifier_slag", "",
        "slag", "lab")
    add("BOILER_ASH.LAB", s2, "锅炉灰渣采样 ash samples", "carbon_content", "ash", "%", "sample", "L2", "boiler_ash", "",
        "boiler_ash", "lab")
    add("NATURAL_GAS.LAB", s2, "天然气组分分析 natural gas analysis", "ncv", "natural_gas", "MJ/Nm3", "sample", "L1",
        "natural_gas", "", "natural_gas", "lab")
    # wave 1 (refdata-1.3): the process wastewater leaving for the park's treatment plant, metered and analysed
    add("WASTEWATER", s1, "外排废水电磁流量计 process wastewater, electromagnetic flow meter", "mass", "wastewater", "t",
        "total", "L2", "wastewater", "wastewater_flow_meter", "wastewater", wave=1)
    add("WASTEWATER.LAB", s1, "外排废水采样(总碳) wastewater samples, total carbon", "carbon_content", "wastewater", "%",
        "sample", "L2", "wastewater", "", "wastewater", "lab", wave=1)
    # wave 2 (refdata-1.6): what the plant's books hold beside the process meters — monthly stock surveys of the
    # coal yards (盘存; the rail weighbridges above weigh the receipts) and, for products metered by Coriolis,
    # shipments over the weighbridge (出厂计量) and tank gauging (罐存). They feed no account; they close the
    # coal-yard and product-tank balances (receipts − consumption − Δstock = 0).
    add("COAL_YARD_G", s1, "气化原料煤煤场盘存 gasifier coal yard stock survey", "mass", "raw_coal", "t", "sample", "L2",
        "gasifier_coal", "stockpile_survey", "gasifier_coal.stock", "survey", wave=2)
    add("COAL_YARD_B", s2, "燃料煤煤场盘存 boiler coal yard stock survey", "mass", "fuel_coal", "t", "sample", "L2",
        "boiler_coal", "stockpile_survey", "boiler_coal.stock", "survey", wave=2)
    for p in products(e):
        if p["instrument"] == "weighbridge":
            continue  # weighed out already: its meter is the shipment
        pid = p["name"].upper()
        add(f"{pid}.SHIP", s1, f"{p['name']} 出厂汽车衡 shipments weighbridge", "mass", p["carrier"], "t", "interval",
            "L1", p["name"], "weighbridge", f"{p['name']}.shipped", "daily", "static_weighing", wave=2)
        add(f"{pid}.TANK", s1, f"{p['name']} 成品罐区罐存 product tank gauging", "mass", p["carrier"], "t", "sample",
            "L2", p["name"], "tank_gauge", f"{p['name']}.stock", "survey", wave=2)
    return pts


def in_draw_order(points: list[Point]) -> list[Point]:
    """``points`` (all enterprises, each in :func:`make_points` order) with later waves after all earlier ones.

    Random streams and instrument numbers are keyed by this position, so the points a dataset version adds
    (a higher ``wave``) leave every draw of the earlier points of a seed where it was; the injected faults and
    findings are drawn among the wave-0 points only.
    """
    return sorted(points, key=lambda p: p.wave)  # stable: enterprise order, then make_points order


def stack_names(e: Enterprise) -> list[str]:
    return [f"STACK{k + 1}" for k in range(e.n_stacks)] + (["MTO_REGEN"] if e.route == "cto" else [])
