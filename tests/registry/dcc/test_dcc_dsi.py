"""D-SI unit strings: parse, validate, convert to pint and back.

Rules under test (D-SI 2.x, PTB; tables in ``carbonmet/registry/dcc/dsi_units.csv`` with their
source in ``SOURCES.md``): prefix + unit + optional ``\\tothe{n}``; one ``\\per`` at most;
``\\kilogram`` and ``\\one``/``\\percent``/``\\ppm`` take no prefix; ``\\gram`` not ``\\kilo``.
"""

from __future__ import annotations

import csv
from fractions import Fraction
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.quantities import CarbonmetError, UnitError, parse_unit, ureg
from carbonmet.registry.dcc import (
    DccError,
    DsiTerm,
    DsiUnit,
    DsiUnitError,
    dsi_to_pint,
    format_dsi,
    parse_dsi,
    to_dsi,
)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("carbonmet.registry.dcc").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


UNITS = _rows("dsi_units.csv")
PREFIXES = _rows("dsi_prefixes.csv")


# --- known conversions (D-SI token → SI unit, BIPM SI Brochure 9th ed. Tables 2, 4, 8) --------------
@pytest.mark.parametrize(
    ("dsi", "pint_text", "factor_to"),
    [
        ("\\kilogram", "kg", ("g", 1000.0)),
        ("\\metre\\tothe{3}", "m ** 3", ("L", 1000.0)),
        ("\\kilo\\watt\\hour", "h * kW", ("MJ", 3.6)),
        ("\\percent", "%", ("1", 0.01)),
        ("\\one", "1", ("1", 1.0)),
        ("\\kelvin", "K", ("K", 1.0)),
        ("\\pascal", "Pa", ("kg/m/s**2", 1.0)),
        ("\\kilogram\\metre\\tothe{-1}\\second\\tothe{-2}", "kg / m / s ** 2", ("Pa", 1.0)),
        ("\\metre\\tothe{3}\\per\\hour", "m ** 3 / h", ("L/s", 1000.0 / 3600.0)),
        ("\\metre\\per\\second\\tothe{2}", "m / s ** 2", ("m/s**2", 1.0)),
        ("\\milli\\gram", "mg", ("g", 1e-3)),
        ("\\mega\\pascal", "MPa", ("kPa", 1000.0)),
        ("\\tonne", "t", ("kg", 1000.0)),
        ("\\ppm", "ppm", ("%", 1e-4)),
        ("\\hecto\\pascal", "hPa", ("Pa", 100.0)),
        ("\\centi\\metre\\tothe{3}", "cm ** 3", ("mL", 1.0)),
    ],
)
def test_known_dsi_units_convert_to_pint(dsi: str, pint_text: str, factor_to: tuple[str, float]) -> None:
    assert dsi_to_pint(dsi) == pint_text
    target, factor = factor_to
    assert ureg.Quantity(1.0, parse_unit(pint_text)).to(parse_unit(target)).magnitude == pytest.approx(factor)


def test_degree_celsius_is_an_offset_unit_and_the_d_si_1_spelling_is_accepted() -> None:
    # \degreecelsius (D-SI 2.x) and \degreeCelsius (D-SI 1.x, still in files) both mean °C
    assert dsi_to_pint("\\degreecelsius") == dsi_to_pint("\\degreeCelsius") == "°C"
    assert ureg.Quantity(20.0, parse_unit(dsi_to_pint("\\degreecelsius"))).to("K").magnitude == pytest.approx(
        293.15
    )


@pytest.mark.parametrize(
    ("unit_text", "dsi"),
    [
        ("kWh", "\\kilo\\watt\\hour"),
        ("t", "\\tonne"),
        ("%", "\\percent"),
        ("1", "\\one"),
        ("kg/m**3", "\\kilogram\\metre\\tothe{-3}"),
        ("m**3/h", "\\metre\\tothe{3}\\hour\\tothe{-1}"),
        ("GJ", "\\giga\\joule"),
        ("degree_Celsius", "\\degreecelsius"),
        ("g/kWh", "\\gram\\kilo\\watt\\tothe{-1}\\hour\\tothe{-1}"),
        ("MPa", "\\mega\\pascal"),
    ],
)
def test_to_dsi_writes_d_si_2_form(unit_text: str, dsi: str) -> None:
    assert to_dsi(unit_text) == dsi


@pytest.mark.parametrize("unit_text", ["tCO2", "Nm3", "tce", "wan_kWh", "no_such_unit"])
def test_units_without_a_d_si_form_are_refused(unit_text: str) -> None:
    with pytest.raises(DsiUnitError) as exc:
        to_dsi(unit_text)
    assert exc.value.token == unit_text


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("\\kilogramm", "\\kilogramm"),
        ("\\tothe{x}", "\\tothe{x}"),
        ("\\metre\\tothe{x}", "\\tothe{x}"),
        ("\\metre\\tothe{2}\\tothe{3}", "\\tothe{3}"),
        ("\\kilo\\gram", "\\kilo\\gram"),
        ("\\kilo\\kilogram", "\\kilo\\kilogram"),
        ("\\milli\\percent", "\\milli\\percent"),
        ("\\percent\\tothe{2}", "\\tothe{2}"),
        ("\\kibi\\metre", "\\kibi\\metre"),
        ("\\milli\\byte", "\\milli\\byte"),
        ("\\metre\\per\\second\\per\\second", "\\per"),
        ("\\per\\second", "\\per"),
        ("\\metre\\per", "\\per"),
        ("\\kilo", "\\kilo"),
        ("\\kilo\\mega\\metre", "\\mega"),
        ("kg", "kg"),
        ("/kilogram", "/kilogram"),
        ("\\metre kg", " kg"),
        ("|mmHg", "|mmHg"),
        ("\\cubicmetre", "\\cubicmetre"),
        ("", ""),
    ],
)
def test_malformed_d_si_strings_name_the_bad_token(text: str, token: str) -> None:
    with pytest.raises(DsiUnitError) as exc:
        parse_dsi(text)
    assert exc.value.token.strip() == token.strip()
    assert isinstance(exc.value, DccError) and isinstance(exc.value, UnitError)
    assert isinstance(exc.value, CarbonmetError)


def test_valid_d_si_without_a_pint_equivalent_is_reported() -> None:
    assert parse_dsi("\\bel") == DsiUnit((DsiTerm("bel"),))
    with pytest.raises(DsiUnitError, match="no equivalent"):
        dsi_to_pint("\\bel")


# --- the tables are consistent with pint ------------------------------------------------------
@pytest.mark.parametrize("row", [r for r in UNITS if r["pint"]], ids=lambda r: r["dsi"])
def test_every_unit_row_names_a_pint_unit(row: dict[str, str]) -> None:
    parse_unit(row["pint"])
    assert dsi_to_pint("\\" + row["dsi"])


@pytest.mark.parametrize("row", PREFIXES, ids=lambda r: r["dsi"])
def test_every_prefix_has_pints_factor(row: dict[str, str]) -> None:
    unit = "byte" if row["kind"] == "binary" else "meter"
    factor = ureg.Quantity(1.0, parse_unit(row["pint"] + unit)).to(unit).magnitude
    assert factor == pytest.approx(float(row["factor"]), rel=1e-12)


# --- property tests ------------------------------------------------------------------------------
_PREFIX_NAMES = [p["dsi"] for p in PREFIXES]
_BINARY = {p["dsi"] for p in PREFIXES if p["kind"] == "binary"}
_BIG = {p["dsi"] for p in PREFIXES if float(p["factor"]) > 1}


def _allowed_prefixes(rule: str) -> list[str]:
    if rule in ("none", "none_no_exp"):
        return [""]
    if rule == "binary":
        return ["", *sorted(_BIG | _BINARY)]
    decimal = [p for p in _PREFIX_NAMES if p not in _BINARY]
    if rule == "not_kilo":
        decimal.remove("kilo")
    if rule == "not_deci":
        decimal.remove("deci")
    return ["", *decimal]


@st.composite
def _term(draw: st.DrawFn, rows: list[dict[str, str]]) -> DsiTerm:
    row = draw(st.sampled_from(rows))
    prefix = draw(st.sampled_from(_allowed_prefixes(row["prefix_rule"])))
    if row["prefix_rule"] == "none_no_exp":
        exp = Fraction(1)
    else:
        exp = draw(
            st.one_of(
                st.integers(-4, 4).filter(lambda n: n != 0).map(Fraction),
                st.sampled_from([Fraction(1, 2), Fraction(-3, 2), Fraction(1, 4)]),
            )
        )
    return DsiTerm(row["dsi"], prefix, exp)


@st.composite
def _dsi_units(draw: st.DrawFn, rows: list[dict[str, str]] = UNITS) -> DsiUnit:
    num = draw(st.lists(_term(rows), min_size=1, max_size=4))
    den = draw(st.lists(_term(rows), max_size=2))
    return DsiUnit(tuple(num), tuple(den))


@settings(max_examples=300, deadline=None)
@given(_dsi_units())
def test_d_si_format_then_parse_is_identity(unit: DsiUnit) -> None:
    text = format_dsi(unit)
    assert parse_dsi(text) == unit
    assert format_dsi(parse_dsi(text)) == text


# for the pint round trip: multiplicative units only (no °C, dB, Np), each unit once, and the
# prefix/exponent-free units (\percent, \ppm, \one) only in the numerator with exponent 1
_MULT = [r for r in UNITS if r["pint"] and r["dsi"] not in ("degreecelsius", "decibel", "neper")]


@st.composite
def _pint_friendly(draw: st.DrawFn) -> DsiUnit:
    unit = draw(_dsi_units(_MULT))
    seen: set[str] = set()
    num, den = [], []
    for terms, out in ((unit.numerator, num), (unit.denominator, den)):
        for t in terms:
            pint_name = next(r["pint"] for r in UNITS if r["dsi"] == t.unit)
            if pint_name in seen or pint_name == "dimensionless":
                continue
            if out is den and t.unit in ("percent", "ppm"):
                continue
            seen.add(pint_name)
            out.append(t)
    if not num:
        num.append(DsiTerm("metre"))
    return DsiUnit(tuple(num), tuple(den))


@settings(max_examples=200, deadline=None)
@given(_pint_friendly())
def test_d_si_to_pint_to_d_si_keeps_the_unit(unit: DsiUnit) -> None:
    text = format_dsi(unit)
    pint_text = dsi_to_pint(text)
    back = to_dsi(pint_text)
    parse_dsi(back)  # valid D-SI
    assert parse_dsi(back).denominator == ()  # D-SI 2.x form: \tothe{-n}, no \per
    a, b = parse_unit(pint_text), parse_unit(dsi_to_pint(back))
    assert a.dimensionality == b.dimensionality
    assert ureg.Quantity(1.0, a).to(b).magnitude == pytest.approx(1.0, rel=1e-12)
    assert to_dsi(dsi_to_pint(back)) == back  # fixed point after one trip
