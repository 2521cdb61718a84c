"""The HJ 75-2017 chain: worked examples written out by hand, round trips, and the basis guard."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from carbonmet.cems.hj75 import (
    Basis,
    HJ75Error,
    actual_flow,
    concentration_to_standard,
    convert_concentration,
    convert_flow,
    dry_to_wet,
    hourly_mass,
    mg_m3_to_percent,
    mg_m3_to_umol_per_mol,
    percent_to_mg_m3,
    stack_velocity,
    standard_dry_flow,
    umol_per_mol_to_mg_m3,
    wet_to_dry,
)


def test_standard_dry_flow_reproduces_the_worked_example_of_the_notes() -> None:
    # accounting_methods.md §3.1: Q_s = 100 m³/s, t_s = 120 °C, B_a = 86 000 Pa, P_s = −500 Pa, X_sw = 12 %.
    #   273/(273 + 120)           = 273/393         = 0.694 656 5
    #   (86 000 − 500)/101 325    = 85 500/101 325  = 0.843 819 4
    #   1 − 0.12                                    = 0.88
    #   Q_sn = 100 × 0.694 656 5 × 0.843 819 4 × 0.88 = 51.582 5 m³/s   (notes: 51.58 m³/s)
    q = standard_dry_flow(100.0, 120.0, 86_000.0, -500.0, 0.12)
    assert_allclose(q, 100 * 0.6946565 * 0.8438194 * 0.88, rtol=1e-6)
    assert round(float(q), 2) == 51.58


def test_velocity_and_area_give_the_actual_wet_flow() -> None:
    # eq. 29: V_s = K_v × V_p = 0.95 × 20 m/s = 19 m/s; eq. 30: Q_s = F × V_s = 3.5 m² × 19 m/s = 66.5 m³/s
    v = stack_velocity(20.0, 0.95)
    assert_allclose(v, 19.0)
    assert_allclose(actual_flow(v, 3.5), 66.5)


def test_co2_chain_from_percent_dry_to_kilograms_an_hour() -> None:
    # 12.0 % vol CO2, dry (the analyser dries the sample), at standard conditions by definition of a fraction.
    #   eq. 20: C = 12.0 × 10⁴ µmol/mol × 44.0095 g/mol / 22.414 L/mol
    #             = 120 000 × 1.963 483 = 235 617.9 mg/m³ (dry, standard)
    c = percent_to_mg_m3(12.0)
    assert_allclose(c, 120_000 * 44.0095 / 22.414)
    assert_allclose(c, 235_617.9, rtol=1e-6)
    # flow of the worked example: 51.582 49 m³/s × 3600 s/h = 185 696.95 m³/h (dry, standard)
    q_h = standard_dry_flow(100.0, 120.0, 86_000.0, -500.0, 0.12) * 3600
    assert_allclose(q_h, 185_696.95, rtol=1e-7)
    #   eq. 33: G_h = 235 617.9 mg/m³ × 185 696.95 m³/h × 10⁻⁶ = 43 753.5 kg/h  (≈ 43.75 t CO2 an hour)
    g = hourly_mass(c, Basis.DRY_STANDARD, q_h, Basis.DRY_STANDARD)
    assert_allclose(g, 235_617.9 * 185_696.95 * 1e-6, rtol=1e-6)
    assert_allclose(g, 43_753.5, rtol=1e-5)


def test_the_same_emission_on_a_wet_actual_basis() -> None:
    # 12.0 % dry with 12 % moisture is 12.0 × 0.88 = 10.56 % wet (eq. 19 inverted)
    assert_allclose(dry_to_wet(12.0, 0.12), 10.56)
    c_wet_std = dry_to_wet(percent_to_mg_m3(12.0), 0.12)
    # at actual conditions (120 °C, 85 500 Pa) the mass concentration is lower by 0.694 657 × 0.843 819
    c_wet_act = convert_concentration(c_wet_std, Basis.WET_STANDARD, Basis.WET_ACTUAL, t_s=120, b_a=86_000, p_s=-500)
    assert_allclose(c_wet_act, c_wet_std * 0.6946565 * 0.8438194, rtol=1e-6)
    # eq. 18 takes it back to standard
    assert_allclose(concentration_to_standard(c_wet_act, 120, 86_000, -500), c_wet_std)
    # and 100 m³/s actual wet flow carries the same 43 753.5 kg/h
    assert_allclose(hourly_mass(c_wet_act, Basis.WET_ACTUAL, 100.0 * 3600, Basis.WET_ACTUAL), 43_753.5, rtol=1e-5)


def test_a_mass_from_different_bases_is_refused_naming_both() -> None:
    with pytest.raises(HJ75Error) as e:
        hourly_mass(235_617.9, Basis.DRY_STANDARD, 185_697.0, Basis.WET_STANDARD)
    assert e.value.field == "basis" and "dry-standard" in str(e.value) and "wet-standard" in str(e.value)


def test_missing_moisture_for_a_wet_dry_step_names_the_field() -> None:
    for call in (lambda: wet_to_dry(10.0, None), lambda: standard_dry_flow(100.0, 120.0, 86_000.0, -500.0, None),
                 lambda: convert_flow(1.0, Basis.WET_STANDARD, Basis.DRY_STANDARD)):
        with pytest.raises(HJ75Error) as e:
            call()
        assert e.value.field == "x_sw"
    # a step that needs no moisture does not ask for it; a step that needs temperature names it
    assert_allclose(convert_flow(2.0, Basis.WET_STANDARD, Basis.WET_STANDARD), 2.0)
    with pytest.raises(HJ75Error) as e:
        convert_flow(2.0, Basis.DRY_ACTUAL, Basis.DRY_STANDARD, b_a=101_325, p_s=0)
    assert e.value.field == "t_s"


@pytest.mark.parametrize(("call", "field"), [
    (lambda: wet_to_dry(10.0, 12.0), "x_sw"),  # a percentage given where a fraction is meant
    (lambda: wet_to_dry(10.0, 1.0), "x_sw"),
    (lambda: concentration_to_standard(1.0, -300.0, 101_325, 0), "t_s"),
    (lambda: concentration_to_standard(1.0, 20.0, 100.0, -200.0), "b_a + p_s"),
    (lambda: actual_flow(10.0, 0.0), "area"),
    (lambda: hourly_mass(float("nan"), Basis.DRY_STANDARD, 1.0, Basis.DRY_STANDARD), "concentration"),
])
def test_out_of_range_inputs_name_their_field(call: object, field: str) -> None:
    with pytest.raises(HJ75Error) as e:
        call()  # type: ignore[operator]
    assert e.value.field == field


def test_functions_are_vectorised_over_arrays() -> None:
    q = standard_dry_flow(np.array([100.0, 200.0]), np.array([120.0, 120.0]), 86_000.0, -500.0,
                          np.array([0.12, 0.12]))
    assert q.shape == (2,)
    assert_allclose(q, [51.58249, 103.16497], rtol=1e-6)
    assert_allclose(umol_per_mol_to_mg_m3([0.0, 1e4], molar_mass=64.06, molar_volume=22.4), [0.0, 28_598.2], rtol=1e-5)


fractions = st.floats(0.0, 0.6, allow_nan=False)
values = st.floats(1e-6, 1e7, allow_nan=False)
temps = st.floats(-40.0, 600.0)
bases = st.sampled_from(list(Basis))


@given(values, fractions)
def test_wet_dry_wet_round_trip(c: float, x: float) -> None:
    assert_allclose(dry_to_wet(wet_to_dry(c, x), x), c, rtol=1e-12)


@given(st.floats(1e-6, 100.0), st.floats(1.0, 400.0), st.floats(10.0, 40.0))
def test_percent_mg_percent_round_trip(pct: float, molar_mass: float, molar_volume: float) -> None:
    assert_allclose(mg_m3_to_percent(percent_to_mg_m3(pct, molar_mass, molar_volume), molar_mass, molar_volume), pct,
                    rtol=1e-12)
    umol = pct * 1e4
    assert_allclose(mg_m3_to_umol_per_mol(umol_per_mol_to_mg_m3(umol, molar_mass, molar_volume), molar_mass,
                                          molar_volume), umol, rtol=1e-12)


@given(values, values, bases, bases, temps, st.floats(60_000, 110_000), st.floats(-5_000, 5_000), fractions)
def test_the_mass_is_the_same_on_every_basis(c: float, q: float, a: Basis, b: Basis, t: float, ba: float, ps: float,
                                             x: float) -> None:
    kw: dict[str, float] = {"t_s": t, "b_a": ba, "p_s": ps, "x_sw": x}
    c2 = convert_concentration(c, a, b, **kw)
    q2 = convert_flow(q, a, b, **kw)
    assert_allclose(hourly_mass(c2, b, q2, b), hourly_mass(c, a, q, a), rtol=1e-12)
    assert_allclose(convert_flow(q2, b, a, **kw), q, rtol=1e-12)
