"""Units: known conversions, separation of carbon and CO2, aliases, and hypothesis round trips."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonmet.quantities import (
    CO2_PER_C,
    UnitError,
    carbon_to_co2,
    conversion_factor,
    convert,
    format_unit,
    is_convertible,
    parse_unit,
    to_normal_volume,
)


def test_tce_is_29_3076_gj() -> None:
    # GB/T 2589-2020: 1 kgce = 29 307.6 kJ
    assert conversion_factor("tce", "GJ") == pytest.approx(29.3076, rel=1e-12)


def test_wan_nm3_aliases() -> None:
    for alias in ("万Nm³", "万Nm3", "10^4 Nm3", "10⁴Nm³", "wan_Nm3"):
        assert conversion_factor(alias, "Nm3") == pytest.approx(1e4)
    assert conversion_factor("GJ/万Nm3", "MJ/Nm3") == pytest.approx(0.1)


def test_normal_volume_is_not_actual_volume() -> None:
    assert not is_convertible("m**3", "Nm3")
    with pytest.raises(UnitError):
        convert(1.0, "m**3", "Nm3")


def test_carbon_and_co2_do_not_mix() -> None:
    assert not is_convertible("tC", "tCO2")
    assert not is_convertible("tCO2", "tCO2e")
    assert carbon_to_co2(12.011) == pytest.approx(44.0095)
    assert CO2_PER_C == pytest.approx(44 / 12, rel=1e-3)


def test_energy_and_percent() -> None:
    assert conversion_factor("MWh", "GJ") == pytest.approx(3.6)
    assert conversion_factor("万kWh", "MWh") == pytest.approx(10.0)
    assert convert(12.5, "%", "1") == pytest.approx(0.125)
    assert format_unit("tCO2/t") == "tCO2 / t"


def test_offset_units() -> None:
    assert convert(20.0, "°C", "K") == pytest.approx(293.15)
    with pytest.raises(UnitError):
        conversion_factor("degC", "K")


def test_unknown_unit_named_in_error() -> None:
    with pytest.raises(UnitError, match="furlongs_per_mu"):
        parse_unit("furlongs_per_mu")


def test_normal_volume_reference() -> None:
    # at normal conditions nothing changes; at 2x pressure the normal volume doubles
    assert to_normal_volume(100.0, 0.0, 101.325) == pytest.approx(100.0)
    assert to_normal_volume(100.0, 0.0, 202.65) == pytest.approx(200.0)
    assert to_normal_volume(100.0, 273.15, 101.325) == pytest.approx(50.0)
    with pytest.raises(UnitError):
        to_normal_volume(1.0, -300.0, 101.3)


def test_vectorised_convert() -> None:
    arr = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(convert(arr, "t", "kg"), arr * 1000)


UNITS = ["t", "kg", "GJ", "MWh", "tce", "Nm3", "万Nm3", "tCO2", "tC", "kWh", "%", "t/h", "GJ/t"]


@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    pair=st.sampled_from(
        [("t", "kg"), ("GJ", "MWh"), ("tce", "GJ"), ("Nm3", "万Nm3"), ("tCO2", "kgCO2"), ("t/h", "kg/s"), ("%", "1")]
    ),
)
def test_round_trip(value: float, pair: tuple[str, str]) -> None:
    a, b = pair
    back = convert(convert(value, a, b), b, a)
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-300)


@given(st.sampled_from(UNITS), st.sampled_from(UNITS))
def test_convertibility_is_symmetric(a: str, b: str) -> None:
    assert is_convertible(a, b) == is_convertible(b, a)


def test_bare_powers_of_metre() -> None:
    # regression: "mg/m3" and "m3/h" as written on CEMS and meter nameplates (issue 4 engineers)
    assert conversion_factor("mg/m3", "mg/m**3") == pytest.approx(1.0)
    assert conversion_factor("m3/h", "m**3/s") == pytest.approx(1 / 3600)
    assert conversion_factor("kg/m3", "g/L") == pytest.approx(1.0)
    assert conversion_factor("mm2", "m**2") == pytest.approx(1e-6)
    assert conversion_factor("Nm3/h", "kNm3/h") == pytest.approx(1e-3)  # Nm3 stays a normal volume
    assert not is_convertible("m3", "Nm3")


def test_chinese_statistical_units() -> None:
    # regression (review): 万-prefixed units of energy statistics and kt as kilotonne, not knot
    assert conversion_factor("万吨标准煤", "tce") == pytest.approx(1e4)
    assert conversion_factor("万千瓦时", "MWh") == pytest.approx(10.0)
    assert conversion_factor("万吨二氧化碳", "tCO2") == pytest.approx(1e4)
    assert conversion_factor("万t", "t") == pytest.approx(1e4)
    assert conversion_factor("tCO₂/万吨标准煤", "tCO2/tce") == pytest.approx(1e-4)
    assert conversion_factor("kt", "t") == pytest.approx(1e3)


def test_ambiguous_chinese_gas_volume_not_guessed() -> None:
    # 标立方米 is 0 °C in accounting guidelines but 20 °C in gas trade (GB/T 19205): 7 % apart, so no alias
    with pytest.raises(UnitError):
        parse_unit("标立方米")
