"""Derived SI units displayed by their names (SI Brochure 9th ed. Table 4), worked out by hand below."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.quantities import UnitError, display_unit


@pytest.mark.parametrize(("text", "shown"), [
    ("kg * m ** 2 / A ** 2 / s ** 3", "Ω"),    # V/A = (kg m² s⁻³ A⁻¹)/A
    ("kg*m**2*s**-3*A**-2", "Ω"),              # the same, written the other way round
    ("g * m ** 2 / A ** 2 / s ** 3", "mΩ"),    # 1 g = 10⁻³ kg
    ("kg * km ** 2 / A ** 2 / s ** 3", "MΩ"),  # 1 km² = 10⁶ m²
    ("kg / m / s ** 2", "Pa"),
    ("kg * m / s ** 2", "N"),
    ("kg * m ** 2 / s ** 2", "J"),
    ("kg * m ** 2 / s ** 3", "W"),
    ("kg * m ** 2 / s ** 3 / A", "V"),
    ("A * s", "C"),
    ("A ** 2 * s ** 4 / kg / m ** 2", "F"),
    ("A ** 2 * s ** 3 / kg / m ** 2", "S"),
    ("kg * m ** 2 / s ** 2 / A", "Wb"),
    ("kg / s ** 2 / A", "T"),
    ("kg * m ** 2 / s ** 2 / A ** 2", "H"),
    ("1 / s", "Hz"),
    ("Ω", "Ω"), ("kΩ", "kΩ"), ("kPa", "kPa"),     # already named: as written
    ("m * N", "m·N"),                            # a moment of force stays N·m, never J
    ("mol / s", "mol/s"),                        # a molar flow, never kat
    ("m ** 2 / s ** 2", "m²/s²"),                # Gy and Sv are never guessed
    ("m ** 3 / h", "m³/h"), ("%", "%"), ("°C", "°C"), ("1 / K", "1/K"), ("kg / m ** 3", "kg/m³"),
    ("kg * m ** 2 / A ** 2 / h ** 3", "kg·m²/A²/h³"),  # h is not an SI base unit: no name guessed
])
def test_named_derived_units(text: str, shown: str) -> None:
    assert display_unit(text) == shown


def test_not_a_unit_is_a_unit_error() -> None:
    with pytest.raises(UnitError):
        display_unit("furlongs per fortnight squared wrongly")


_BASE = st.sampled_from(["kg", "g", "m", "km", "mm", "s", "A", "K", "mol", "cd", "h", "N", "V", "Ω", "Pa"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_BASE, st.integers(-4, 4)), min_size=1, max_size=5))
def test_fuzz_any_product_of_units_displays_the_same_quantity(factors: list[tuple[str, int]]) -> None:
    from carbonmet.quantities import parse_unit, ureg

    text = " * ".join(f"{u} ** {e}" for u, e in factors)
    try:
        unit = parse_unit(text)
    except UnitError:
        return
    shown = display_unit(text)
    # what is shown reads back as the same unit: same dimension, conversion factor 1
    back = parse_unit(shown)
    assert back.dimensionality == unit.dimensionality
    if unit.dimensionality:
        assert ureg.Quantity(1.0, unit).to(back).magnitude == pytest.approx(1.0, rel=1e-12)
