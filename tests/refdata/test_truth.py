"""The true process (in memory, no files): closed carbon balance and published ranges, over several seeds.

Ranges: shared/domain/coal_chemical_facts.md (CCF) §0 (intensities), §2.5 (coal), §3.2/§4.1/§3.3 (CO2 %vol),
§5 (flaring 0.5–2 % of direct CO2).
"""

from __future__ import annotations

import numpy as np
import pytest

from carbonmet.refdata import constants
from carbonmet.refdata.truth import make_enterprises, simulate, stack_names

SEEDS = (1, 7, 2024)


@pytest.fixture(scope="module")
def regions() -> dict[int, list]:
    out = {}
    for seed in SEEDS:
        ents = make_enterprises(12, seed)
        out[seed] = [simulate(e, i, seed, 8760) for i, e in enumerate(ents)]
    return out


def test_every_route_present_and_regions_differ_by_seed(regions: dict[int, list]) -> None:
    for truths in regions.values():
        assert {t.enterprise.route for t in truths} == {"ctm", "cto", "ctl", "cteg"}
    prod = {seed: [round(float(t.main_t.sum())) for t in truths] for seed, truths in regions.items()}
    assert len({tuple(v) for v in prod.values()}) == len(SEEDS)


def test_carbon_balance_closes_hour_by_hour(regions: dict[int, list]) -> None:
    for truths in regions.values():
        for t in truths:
            cin = sum(v for k, v in t.carbon.items() if t.direction[k][0] == "in")
            cout = sum(v for k, v in t.carbon.items() if t.direction[k][0] == "out")
            assert np.all(np.abs(cin - cout) <= 1e-4 * np.maximum(cin, 1e-9) + 1e-12)
            a_in, a_out = t.balance()
            assert abs(a_in - a_out) / a_in < 1e-4  # < 0.01 %
            assert all(np.all(v >= -1e-12) for v in t.carbon.values())


def test_direct_intensity_in_published_range(regions: dict[int, list]) -> None:
    co2 = constants()["physics"]["co2_per_c"]
    for truths in regions.values():
        for t in truths:
            direct = sum(float(v.sum()) for k, v in t.carbon.items()
                         if t.direction[k][1] in ("process_emission", "combustion_emission", "recovered")) * co2
            lo, hi = constants()["targets"][t.enterprise.route]["direct"]
            assert lo <= direct / float(t.main_t.sum()) <= hi, (t.enterprise.code, t.enterprise.route)


def test_flaring_share_and_utilisation(regions: dict[int, list]) -> None:
    for truths in regions.values():
        for t in truths:
            direct = sum(float(v.sum()) for k, v in t.carbon.items()
                         if t.direction[k][1] in ("process_emission", "combustion_emission", "recovered"))
            assert 0.003 <= float(t.carbon["flare"].sum()) / direct <= 0.02
            util = float(t.main_t.sum()) / t.enterprise.capacity_t
            assert 0.4 <= util <= 1.1
            assert np.all(t.load <= 1.05 + 1e-9)


def test_cems_co2_percent_by_volume(regions: dict[int, list]) -> None:
    for truths in regions.values():
        for t in truths:
            for st in stack_names(t.enterprise):
                on = t.signals[f"{st}.flow"] > 0
                co2 = t.signals[f"{st}.co2"][on]
                if st == "MTO_REGEN":
                    assert co2.min() >= 10.0 and co2.max() <= 15.0  # CCF §3.3
                else:
                    assert co2.min() >= 10.0 and co2.max() <= 14.5  # CCF §4.1: 11–14 % dry at 5–7 % O2
            vent = t.signals["vent.co2_pct"][t.signals["vent.gas_nm3"] > 0]
            assert vent.min() >= 70.0 and vent.max() <= 85.0  # CCF §3.2 tail gas


def test_coal_quality_within_basin_ranges(regions: dict[int, list]) -> None:
    c = constants()
    for truths in regions.values():
        for t in truths:
            e = t.enterprise
            for stream, basin in (("gasifier_coal", e.gasifier_basin), ("boiler_coal", e.boiler_basin)):
                lots = t.lots[stream]
                lo, hi = c["basin"][basin]["ncv_mj_per_kg"]
                used = lots.mass > 0
                mean_ncv = float(np.average(lots.ncv[used], weights=lots.mass[used]))
                assert lo <= mean_ncv <= hi  # CCF §2.5 basin range
                inside = (lots.ncv >= lo - 1.0) & (lots.ncv <= hi + 1.0)
                assert inside.mean() >= 0.9  # daily CV 3 % (single mine) / 6 % (blend), CCF §2.5
                ratio = lots.carbon / lots.ncv * 1000.0  # tC/TJ
                assert abs(float(np.median(ratio)) - 26.4) < 0.5  # CCF §8 C_ar = 0.0264 × NCV
                assert float(np.std(ratio) / np.mean(ratio)) < 0.03


def test_wastewater_has_a_mass_and_a_plausible_carbon_fraction(regions: dict[int, list]) -> None:
    """Process wastewater = P · wastewater_t_per_t · η hour by hour; its total carbon fraction (carbon / mass) is
    a few hundred mg/kg, as in coal-chemical wastewater before biological treatment (constants.toml, [A])."""
    routes = constants()["route"]
    for truths in regions.values():
        for t in truths:
            w = t.signals["wastewater"]
            per_t = routes[t.enterprise.route]["wastewater_t_per_t"]["value"]
            np.testing.assert_allclose(w, t.main_t * per_t * t.enterprise.efficiency, rtol=1e-12)
            on = w > 0
            frac = t.carbon["wastewater"][on] / w[on]  # tC/t = 1e6 mg/kg
            assert np.ptp(frac) < 1e-12  # one fraction per plant: carbon and water both follow production
            assert 150e-6 < float(frac[0]) < 600e-6, (t.enterprise.code, t.enterprise.route, float(frac[0]))
            assert np.all(t.carbon["wastewater"][~on] == 0.0)
