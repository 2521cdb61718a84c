"""The true process of one enterprise, hour by hour for a year, with a closed carbon balance.

Physics kept simple but consistent (CCF = shared/domain/coal_chemical_facts.md):

* production ``P(h)`` [t main product/h] from a load profile (daily AR(1) σ, trips, gasifier trips,
  turnaround or partial stop; CCF §5);
* gasifier carbon ``C_g = P · c_g · η`` [tC/h]; gasifier coal mass = ``C_g / C_ar(lot)``;
* boiler fuel heat ``Q = P · q_b · η`` [GJ/h]; boiler coal mass = ``Q / NCV_ar(lot)``, its carbon
  ``mass · C_ar(lot)``; coal quality varies by delivery lot, ``C_ar = 0.0264 · NCV_ar`` ± 1.5 % (CCF §8);
* carbon out = products + by-products + slag + boiler ash + wastewater + recovered CO2 + flare +
  MTO regenerator + boiler stacks, and the Rectisol vent is the residual of the process side, so
  carbon in = carbon out holds hour by hour (碳质量平衡, accounting_methods.md §1.5);
* process wastewater ``P · w · η`` [t/h] carries the wastewater carbon ``P · c_w`` [tC/h] (total carbon
  fraction ``c_w / (w · η)``, about 190–510 mg/kg over the routes and plants).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from ._constants import constants, value
from ._errors import RefdataError
from ._region import TAG_COAL, TAG_TRUTH, products, rng_for, stack_names
from ._types import Enterprise

STREAM_CATEGORY = {
    "gasifier_coal": ("in", "raw_material"),
    "boiler_coal": ("in", "fuel"),
    "natural_gas": ("in", "fuel"),
    "gasifier_slag": ("out", "waste"),
    "boiler_ash": ("out", "waste"),
    "wastewater": ("out", "waste"),
    "rectisol_vent": ("out", "process_emission"),
    "flare": ("out", "process_emission"),
    "mto_regenerator": ("out", "process_emission"),
    "recovered_co2": ("out", "recovered"),
}


@dataclass
class CoalLots:
    """Delivery lots of one coal stream (true properties, as received)."""

    start_h: np.ndarray
    end_h: np.ndarray
    ncv: np.ndarray  # [MJ/kg]
    carbon: np.ndarray  # [fraction, tC/t]
    moisture: np.ndarray  # [%]
    ash: np.ndarray  # [%]
    sulfur: np.ndarray  # [%]
    mass: np.ndarray  # [t] consumed from the lot in the year
    lot_of_hour: np.ndarray


@dataclass
class EnterpriseTruth:
    """True hourly series of one enterprise. ``signals`` feed the measurement points; ``carbon`` the balance."""

    enterprise: Enterprise
    hours: int
    load: np.ndarray
    production: dict[str, np.ndarray]  # product -> t/h
    main_t: np.ndarray  # main product(s) t/h
    signals: dict[str, np.ndarray]
    carbon: dict[str, np.ndarray]  # stream -> tC/h (positive), direction in STREAM_DIRECTION
    direction: dict[str, tuple[str, str]]
    lots: dict[str, CoalLots]
    indirect: dict[str, np.ndarray]  # purchased_electricity [MWh/h], purchased_steam [GJ/h]
    events: list[dict] = field(default_factory=list)

    def balance(self) -> tuple[float, float]:
        """Annual carbon in and out [tC]."""
        cin = sum(float(v.sum()) for k, v in self.carbon.items() if self.direction[k][0] == "in")
        cout = sum(float(v.sum()) for k, v in self.carbon.items() if self.direction[k][0] == "out")
        return cin, cout


def _load_profile(e: Enterprise, hours: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Load (fraction of design rate) and start-up flare mask; all arrays, loops only over events."""
    op = constants()["operations"]
    md = constants()["model"]
    days = hours // 24
    phi = md["daily_ar1_phi"]
    eps = rng.normal(0.0, op["daily_sigma"] * np.sqrt(1 - phi**2), days)
    daily = lfilter([1.0], [1.0, -phi], eps)
    profile = 1.0 + np.repeat(daily, 24)[:hours] + rng.normal(0.0, md["hourly_load_noise"], hours)
    mult = np.ones(hours)
    events: list[dict] = []
    if rng.random() < op["turnaround_probability"]:
        d0 = int(rng.integers(60, days - 60))
        dl = int(rng.integers(op["turnaround_days"][0], op["turnaround_days"][1] + 1))
        mult[d0 * 24 : (d0 + dl) * 24] = 0.0
        events.append({"kind": "turnaround", "start_h": d0 * 24, "end_h": (d0 + dl) * 24})
    else:
        d0 = int(rng.integers(30, days - 30))
        dl = int(rng.integers(op["partial_stop_days"][0], op["partial_stop_days"][1] + 1))
        mult[d0 * 24 : (d0 + dl) * 24] = np.minimum(mult[d0 * 24 : (d0 + dl) * 24], 0.5)
        events.append({"kind": "partial_stop", "start_h": d0 * 24, "end_h": (d0 + dl) * 24, "load": 0.5})
    for _ in range(int(rng.integers(op["trips_per_year"][0], op["trips_per_year"][1] + 1))):
        h0 = int(rng.integers(24, hours - 100))
        hl = int(rng.integers(op["trip_hours"][0], op["trip_hours"][1] + 1))
        mult[h0 : h0 + hl] = 0.0
        events.append({"kind": "trip", "start_h": h0, "end_h": min(h0 + hl, hours)})
    for _ in range(int(rng.integers(op["gasifier_trips_per_year"][0], op["gasifier_trips_per_year"][1] + 1))):
        h0 = int(rng.integers(0, hours - 10))
        hl = int(rng.integers(op["gasifier_trip_hours"][0], op["gasifier_trip_hours"][1] + 1))
        mult[h0 : h0 + hl] = np.minimum(mult[h0 : h0 + hl], 0.5)
        events.append({"kind": "gasifier_trip", "start_h": h0, "end_h": min(h0 + hl, hours), "load": 0.5})
    stopped = mult == 0.0
    restarts = np.flatnonzero(stopped[:-1] & ~stopped[1:]) + 1
    flare = np.zeros(hours)
    for r in (int(x) for x in restarts):
        ramp = min(int(md["restart_ramp_hours"]), hours - r)
        mult[r : r + ramp] *= np.linspace(md["restart_ramp_from"], 1.0, ramp)
        fl = int(rng.integers(op["startup_flare_hours"][0], op["startup_flare_hours"][1] + 1))
        flare[r : r + fl] = 1.0
        events.append({"kind": "startup_flare", "start_h": int(r), "end_h": int(min(r + fl, hours))})
    lo, hi = op["load_range"]
    base = e.utilisation * constants()["time"]["design_hours_per_year"] / float((profile * mult).sum())
    base = float(np.clip(base, lo, 1.0))
    load = np.clip(base * profile, lo, hi) * mult
    flare[load == 0.0] = 0.0
    events.sort(key=lambda ev: (ev["start_h"], ev["kind"]))
    return load, flare, events


def _coal_lots(e: Enterprise, stream: str, basin_key: str, hours: int, rng: np.random.Generator) -> CoalLots:
    c = constants()
    b = c["basin"][basin_key]
    v = c["coal_variability"]
    phys = c["physics"]
    md = c["model"]
    n_max = hours // v["lot_hours"][0] + 2
    lengths = rng.integers(v["lot_hours"][0], v["lot_hours"][1] + 1, n_max)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    starts = starts[starts < hours]
    ends = np.append(starts[1:], hours)
    n = starts.size
    lo, hi = b["ncv_mj_per_kg"]
    inner = md["mine_mean_inner_fraction"]
    m_ncv = rng.uniform(lo + inner * (hi - lo), hi - inner * (hi - lo))  # the mines a plant buys from
    cv = v["ncv_cv_single_mine"] if stream == "gasifier_coal" else v["ncv_cv_blended"]
    m_moist = float(np.mean(b["moisture_pct"]))
    doy = (starts + ends) / 2.0 / 24.0
    moist = m_moist + v["moisture_seasonal_amp_pct"] * np.sin(2 * np.pi * (doy - 110.0) / (hours / 24.0)) \
        + rng.normal(0, md["moisture_lot_sd_pct"], n)
    ncv = m_ncv * (1.0 + cv * rng.normal(0, 1, n)) - md["ncv_per_moisture_point"] * (moist - m_moist)
    carbon = phys["coal_c_per_ncv_tc_per_gj"] * ncv * (1.0 + phys["coal_c_per_ncv_cv"] * rng.normal(0, 1, n))
    alo, ahi = b["ash_pct"]
    ash = np.clip(rng.normal(rng.uniform(alo, ahi), v["ash_sd_pct"], n), alo - md["ash_clip_pct"],
                  ahi + md["ash_clip_pct"])
    slo, shi = b["sulfur_pct"]
    s_med = rng.uniform(slo, shi)
    sig = np.sqrt(np.log1p(v["sulfur_cv"] ** 2))
    sulfur = s_med * np.exp(rng.normal(0, sig, n))
    lot_of_hour = np.searchsorted(starts, np.arange(hours), side="right") - 1
    return CoalLots(starts, ends, ncv, carbon, moist, ash, sulfur, np.zeros(n), lot_of_hour)


def simulate(e: Enterprise, index: int, seed: int, hours: int) -> EnterpriseTruth:
    """True hourly process of enterprise ``e`` (index ``index`` in the region) over ``hours`` hours."""
    c = constants()
    phys = c["physics"]
    r = c["route"][e.route]
    rng = rng_for(seed, TAG_TRUTH, index)
    rng_c = rng_for(seed, TAG_COAL, index)
    load, flare_mask, events = _load_profile(e, hours, rng)
    design_rate = e.capacity_t / c["time"]["design_hours_per_year"]
    P = load * design_rate  # t main product / h
    eta = e.efficiency

    lots = {
        "gasifier_coal": _coal_lots(e, "gasifier_coal", e.gasifier_basin, hours, rng_c),
        "boiler_coal": _coal_lots(e, "boiler_coal", e.boiler_basin, hours, rng_c),
    }
    lg, lb = lots["gasifier_coal"], lots["boiler_coal"]
    carbon: dict[str, np.ndarray] = {}
    direction = dict(STREAM_CATEGORY)
    sig: dict[str, np.ndarray] = {}

    C_g = P * value(r["gasifier_c_tc"]) * eta
    m_g = C_g / lg.carbon[lg.lot_of_hour]
    Q_b = P * value(r["boiler_heat_gj"]) * eta
    m_b = Q_b / lb.ncv[lb.lot_of_hour]
    C_b = m_b * lb.carbon[lb.lot_of_hour]
    ng_nm3 = P * value(r["natural_gas_nm3"])
    # start-up fuel: three times the specific NG use at design rate while flaring after a restart
    md = c["model"]
    ng_nm3 = ng_nm3 + flare_mask * md["startup_ng_factor"] * design_rate * value(r["natural_gas_nm3"])
    C_ng = ng_nm3 * phys["ng_ncv_mj_per_nm3"] * 1e-3 * phys["ng_c_per_gj"]
    carbon.update(gasifier_coal=C_g, boiler_coal=C_b, natural_gas=C_ng)
    lg.mass = np.bincount(lg.lot_of_hour, weights=m_g, minlength=lg.start_h.size)
    lb.mass = np.bincount(lb.lot_of_hour, weights=m_b, minlength=lb.start_h.size)
    sig.update(gasifier_coal=m_g, boiler_coal=m_b, natural_gas=ng_nm3)
    sig["electricity"] = P * value(r["electricity_mwh"])
    steam_t = P * e.purchased_steam_t_per_t
    sig["steam"] = steam_t

    production: dict[str, np.ndarray] = {}
    c_products = np.zeros(hours)
    for p in products(e):
        m = P * p["t_per_t"]
        production[p["name"]] = m
        sig[p["name"]] = m
        carbon[p["name"]] = m * p["c_frac"]
        direction[p["name"]] = ("out", "product")
        c_products += carbon[p["name"]]

    slag_c = C_g * phys["gasifier_slag_c_fraction"]
    slag_mass = m_g * lg.ash[lg.lot_of_hour] / 100.0 + slag_c
    waste_c = P * value(r["waste_c_tc"])
    fuel_gas_c = P * value(r["fuel_gas_c_tc"])
    regen_c = P * value(r.get("regenerator_c_tc", 0.0))
    vent_pre = C_g - c_products - slag_c - waste_c - fuel_gas_c - regen_c
    op = constants()["operations"]
    flare_c = vent_pre * np.minimum(1.0, flare_mask * op["startup_flare_c_fraction"] + op["flare_baseline_fraction"])
    process_co2_c = vent_pre - flare_c
    rec_c = process_co2_c * e.recovered_share
    vent_c = process_co2_c - rec_c
    if np.any(vent_c < -1e-12):
        raise RefdataError(f"{e.code}: negative Rectisol vent carbon; route constants of {e.route} are inconsistent")
    ox = phys["boiler_oxidation"]
    ash_c = C_b * (1.0 - ox)
    ash_mass = m_b * lb.ash[lb.lot_of_hour] / 100.0 + ash_c
    stack_c_total = C_b * ox + fuel_gas_c + C_ng
    carbon.update(gasifier_slag=slag_c, boiler_ash=ash_c, wastewater=waste_c, rectisol_vent=vent_c,
                  flare=flare_c, recovered_co2=rec_c)
    if e.route == "cto":
        carbon["mto_regenerator"] = regen_c
    # process wastewater [t/h]; its total carbon fraction is waste_c / mass (a few hundred mg/kg)
    ww_mass = P * value(r["wastewater_t_per_t"]) * eta
    sig.update(slag=slag_mass, boiler_ash=ash_mass, wastewater=ww_mass)

    co2_per_c = phys["co2_per_c"]
    dens = phys["co2_density_kg_per_nm3"]

    def co2_nm3(c_t: np.ndarray) -> np.ndarray:
        return c_t * co2_per_c * 1000.0 / dens

    slow = np.sin(2 * np.pi * np.arange(hours) / (24 * md["vent_co2_slow_period_days"]) + rng.uniform(0, 6.28))
    vent_pct = np.clip(rng.uniform(*md["vent_co2_base_pct"]) + md["vent_co2_slow_amp_pct"] * slow
                       + rng.normal(0, md["vent_co2_hourly_sd_pct"], hours), *phys["rectisol_tail_gas_co2_pct"])
    sig["vent.co2_pct"] = vent_pct
    sig["vent.gas_nm3"] = co2_nm3(vent_c) / (vent_pct / 100.0)
    pur = np.clip(rng.uniform(*md["recovered_purity_base_pct"])
                  + rng.normal(0, md["recovered_purity_hourly_sd_pct"], hours), *phys["recovered_co2_purity_pct"])
    sig["recovered.purity_pct"] = pur
    sig["recovered.gas_nm3"] = co2_nm3(rec_c) / (pur / 100.0)
    sig["flare.gas_nm3"] = flare_c * 1000.0 / phys["flare_gas_c_kg_per_nm3"]

    # boiler stacks: shares vary slowly, each with its own O2/CO2, temperature and moisture
    names = stack_names(e)
    n_b = e.n_stacks
    w = rng.dirichlet(np.full(n_b, md["stack_share_dirichlet_alpha"]))
    t = np.arange(hours)
    shares = np.stack([w[k] * (1 + md["stack_share_swing"] * np.sin(2 * np.pi * t / (24 * (7 + 3 * k)) + rng.uniform(0, 6.28)))
                       for k in range(n_b)])
    shares /= shares.sum(axis=0, keepdims=True)
    season = np.sin(2 * np.pi * (t / 24.0 - 110.0) / (hours / 24.0))  # one cycle per year of this length
    tlo, thi = phys["stack_temp_degc"]
    off_temp = md["off_ambient_temp_degc"] + md["off_ambient_temp_amp_degc"] * season
    off_moist, off_co2, off_o2 = md["off_moisture_pct"], md["off_co2_pct"], md["off_o2_pct"]
    mlo, mhi = phys["stack_moisture_pct"]
    for k, st in enumerate(names):
        if st == "MTO_REGEN":
            c_k = regen_c
            on = c_k > 0
            co2 = np.where(on, np.clip(rng.uniform(*md["regen_co2_base_pct"])
                                       + rng.normal(0, md["regen_co2_hourly_sd_pct"], hours),
                                       *phys["mto_regenerator_co2_pct"]), off_co2)
            o2 = np.where(on, np.maximum(0.5, 20.9 - md["regen_o2_per_co2"] * co2), off_o2)
            temp = np.where(on, rng.uniform(*md["regen_temp_degc"]) + rng.normal(0, 1.0, hours), off_temp)
            moist = np.where(on, md["regen_moisture_pct"] + rng.normal(0, 0.3, hours), off_moist)
        else:
            c_k = stack_c_total * shares[k]
            carbon[f"boiler_stack_{k + 1}"] = c_k
            direction[f"boiler_stack_{k + 1}"] = ("out", "combustion_emission")
            on = c_k > 0
            ref = np.quantile(c_k[on], 0.95) if on.any() else 1.0
            rel = np.clip(c_k / ref, 0.0, 1.0)
            o2 = np.where(on, phys["stack_o2_dry_full_load_pct"] + phys["stack_o2_rise_per_unit_load_drop"] * (1 - rel)
                          + rng.normal(0, md["stack_o2_hourly_sd_pct"], hours), off_o2)
            co2 = np.where(on, phys["co2max_dry_pct_coal"] * (21.0 - o2) / 21.0, off_co2)
            tb = rng.uniform(tlo + 1, thi - 2)
            temp = np.where(on, tb + md["stack_temp_season_amp_degc"] * season
                            + rng.normal(0, md["stack_temp_hourly_sd_degc"], hours), off_temp)
            moist = np.where(on, mlo + (temp - tlo) * (mhi - mlo) / 5.0, off_moist)
        flow = np.where(on, co2_nm3(c_k) / (co2 / 100.0), 0.0)
        sig[f"{st}.flow"], sig[f"{st}.co2"], sig[f"{st}.o2"] = flow, co2, o2
        sig[f"{st}.temp"], sig[f"{st}.moist"] = temp, moist

    phys_steam = (phys["steam_enthalpy_kj_per_kg"] - phys["steam_feedwater_kj_per_kg"]) * 1e-3  # GJ/t
    indirect = {"purchased_electricity": sig["electricity"], "purchased_steam": steam_t * phys_steam}
    main = sum((production[n] for n in _main_names(e)), np.zeros(hours))
    for ev in events:
        ev["enterprise"] = e.code
    return EnterpriseTruth(e, hours, load, production, main, sig, carbon, direction, lots, indirect, events)


def _main_names(e: Enterprise) -> list[str]:
    from ._region import main_products

    return main_products(e)
