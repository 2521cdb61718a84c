"""D-SI unit strings (``\\kilo\\watt\\hour``, ``\\metre\\tothe{3}\\per\\hour``): parse, format, convert.

The grammar (D-SI 2.x, PTB): a unit is one or more *terms*, optionally followed by a single
``\\per`` and one or more terms for the denominator. A term is an optional prefix token, a unit
token and an optional ``\\tothe{n}`` (``n`` an integer or decimal, may be negative). Tokens are
backslash words from the tables ``dsi_units.csv`` and ``dsi_prefixes.csv`` (see ``SOURCES.md``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from importlib import resources

from carbonmet.quantities import UnitError, format_unit, parse_unit, ureg

from ._errors import DsiUnitError

#: D-SI 1.x spellings accepted on read, mapped to the D-SI 2.x token.
_LEGACY_TOKENS = {"degreeCelsius": "degreecelsius"}

_TOKEN_RE = re.compile(r"\\([A-Za-z]+)(\{[^{}\\]*\})?")
_EXPONENT_RE = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class _UnitRow:
    dsi: str
    pint: str
    prefix_rule: str


@dataclass(frozen=True)
class _PrefixRow:
    dsi: str
    pint: str
    factor: float
    binary: bool


@lru_cache(maxsize=1)
def _units() -> dict[str, _UnitRow]:
    text = resources.files(__package__).joinpath("dsi_units.csv").read_text(encoding="utf-8")
    return {
        r["dsi"]: _UnitRow(r["dsi"], r["pint"], r["prefix_rule"]) for r in csv.DictReader(text.splitlines())
    }


@lru_cache(maxsize=1)
def _prefixes() -> dict[str, _PrefixRow]:
    text = resources.files(__package__).joinpath("dsi_prefixes.csv").read_text(encoding="utf-8")
    return {
        r["dsi"]: _PrefixRow(r["dsi"], r["pint"], float(r["factor"]), r["kind"] == "binary")
        for r in csv.DictReader(text.splitlines())
    }


@dataclass(frozen=True)
class DsiTerm:
    """One factor of a D-SI unit: prefix, unit token and exponent (``\\milli\\metre\\tothe{-2}``)."""

    unit: str
    prefix: str = ""
    exponent: Fraction = Fraction(1)

    def __str__(self) -> str:
        s = (f"\\{self.prefix}" if self.prefix else "") + f"\\{self.unit}"
        if self.exponent != 1:
            s += f"\\tothe{{{_format_exponent(self.exponent)}}}"
        return s


@dataclass(frozen=True)
class DsiUnit:
    """A parsed D-SI unit: numerator terms and (after ``\\per``) denominator terms."""

    numerator: tuple[DsiTerm, ...]
    denominator: tuple[DsiTerm, ...] = ()

    def __str__(self) -> str:
        s = "".join(str(t) for t in self.numerator)
        if self.denominator:
            s += "\\per" + "".join(str(t) for t in self.denominator)
        return s


def _format_exponent(e: Fraction) -> str:
    if e.denominator == 1:
        return str(e.numerator)
    d = Decimal(e.numerator) / Decimal(e.denominator)
    return format(d.normalize(), "f")


def _check_prefix(prefix: str, row: _UnitRow, token: str) -> None:
    if not prefix:
        return
    p = _prefixes()[prefix]
    rule = row.prefix_rule
    bad = (
        rule in ("none", "none_no_exp")
        or (rule == "not_kilo" and prefix == "kilo")
        or (rule == "not_deci" and prefix == "deci")
        or (rule == "binary" and not p.binary and p.factor <= 1)
        or (rule != "binary" and p.binary)
    )
    if bad:
        raise DsiUnitError(f"D-SI unit \\{row.dsi} does not take the prefix \\{prefix}", token=token)


def parse_dsi(text: str) -> DsiUnit:
    """Parse and validate a D-SI unit string.

    Parameters
    ----------
    text : str
        D-SI unit, e.g. ``"\\kilo\\watt\\hour"``, ``"\\metre\\tothe{3}\\per\\hour"``, ``"\\percent"``.
        Surrounding white space is ignored.

    Returns
    -------
    DsiUnit

    Raises
    ------
    DsiUnitError
        If a token is unknown or misplaced; ``token`` names it.
    """
    s = text.strip()
    if not s:
        raise DsiUnitError("empty D-SI unit", token=text)
    if s.startswith("|"):
        raise DsiUnitError(
            "non-D-SI unit (marked with '|') cannot be used as a machine-readable unit", token=s
        )
    num: list[DsiTerm] = []
    den: list[DsiTerm] = []
    cur = num
    seen_per = False
    prefix = ""
    prefix_token = ""
    exp_open = False  # True right after a unit token, until its \tothe
    pos = 0
    units, prefixes = _units(), _prefixes()
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if m is None:
            nxt = s.find("\\", pos + 1)
            bad = s[pos : nxt if nxt > 0 else len(s)]
            raise DsiUnitError(f"malformed D-SI token '{bad}' (tokens start with a backslash)", token=bad)
        token = m.group(0)
        name, arg = m.group(1), m.group(2)
        pos = m.end()
        if name == "tothe":
            if arg is None:
                raise DsiUnitError("\\tothe needs an exponent in braces", token=token)
            exp_text = arg[1:-1].strip()
            if not _EXPONENT_RE.fullmatch(exp_text):
                raise DsiUnitError(f"exponent {exp_text!r} is not a number", token=token)
            if not exp_open:
                raise DsiUnitError("\\tothe must follow a unit", token=token)
            last = cur[-1]
            if units[last.unit].prefix_rule == "none_no_exp":
                raise DsiUnitError(f"D-SI unit \\{last.unit} takes no exponent", token=token)
            exp = Fraction(Decimal(exp_text))
            cur[-1] = DsiTerm(last.unit, last.prefix, exp)
            exp_open = False
            continue
        exp_open = False
        if arg is not None:
            raise DsiUnitError("only \\tothe takes an argument", token=token)
        if name == "per":
            if seen_per:
                raise DsiUnitError("more than one \\per", token=token)
            if prefix or not num:
                raise DsiUnitError("\\per needs a unit before it", token=token)
            seen_per = True
            cur = den
            continue
        name = _LEGACY_TOKENS.get(name, name)
        if name in prefixes:
            if prefix:
                raise DsiUnitError(f"two prefixes in a row (\\{prefix}\\{name})", token=token)
            prefix, prefix_token = name, token
            continue
        if name not in units:
            raise DsiUnitError(f"unknown D-SI unit token '{token}'", token=token)
        _check_prefix(prefix, units[name], prefix_token + token)
        cur.append(DsiTerm(name, prefix))
        prefix = prefix_token = ""
        exp_open = True
    if prefix:
        raise DsiUnitError(f"prefix \\{prefix} without a unit", token=prefix_token)
    if seen_per and not den:
        raise DsiUnitError("\\per without a unit after it", token="\\per")
    return DsiUnit(tuple(num), tuple(den))


def format_dsi(unit: DsiUnit) -> str:
    """The D-SI string of a parsed unit (inverse of :func:`parse_dsi`)."""
    return str(unit)


def _pint_expression(unit: DsiUnit, source: str) -> str:
    units, prefixes = _units(), _prefixes()
    parts: list[str] = []
    for sign, terms in ((1, unit.numerator), (-1, unit.denominator)):
        for t in terms:
            row = units[t.unit]
            if not row.pint:
                raise DsiUnitError(
                    f"D-SI unit \\{t.unit} has no equivalent in the carbonmet unit registry", token=source
                )
            name = (prefixes[t.prefix].pint if t.prefix else "") + row.pint
            exp = t.exponent * sign
            parts.append(name if exp == 1 else f"{name} ** {_format_exponent(exp)}")
    return " * ".join(parts)


@lru_cache(maxsize=2048)
def dsi_to_pint(text: str) -> str:
    """Convert a D-SI unit string to carbonmet's canonical unit text.

    Parameters
    ----------
    text : str
        D-SI unit string (``"\\kilo\\watt\\hour"``).

    Returns
    -------
    str
        Unit text accepted by :func:`carbonmet.quantities.parse_unit` (``"h * kW"``, ``"%"``, ``"1"``).

    Raises
    ------
    DsiUnitError
        If the string is not valid D-SI or the unit has no pint equivalent.
    """
    unit = parse_dsi(text)
    expr = _pint_expression(unit, text.strip())
    try:
        return canonical_unit_text(expr)
    except UnitError as exc:  # pragma: no cover - every table row is checked against pint in the tests
        raise DsiUnitError(f"cannot convert {text.strip()!r} to a pint unit", token=text.strip()) from exc


def canonical_unit_text(unit_text: str) -> str:
    """carbonmet's short unit text (``format_unit``), or pint's long names where a short symbol is ambiguous.

    ``format_unit`` writes symbols (``"kg / m ** 3"``); a few prefixed symbols read back as another unit
    (quecto-tonne ``"qt"`` is the quart), so the short text is used only if it parses to the same unit.
    """
    u = parse_unit(unit_text)
    short = format_unit(unit_text)
    if parse_unit(short) == u:
        return short
    long = "1" if u == ureg.dimensionless else str(u)
    if parse_unit(long) != u:  # pragma: no cover - pint's long names are unambiguous
        raise UnitError(f"no unambiguous text for unit {unit_text!r}")
    return long


@lru_cache(maxsize=1)
def _pint_to_dsi() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for row in _units().values():
        if row.pint and row.pint not in out:
            out[row.pint] = (row.dsi,)
    # pint composite names that D-SI writes as a product of tokens
    out["watt_hour"] = ("watt", "hour")
    out["gram"] = ("gram",)
    return out


@lru_cache(maxsize=2048)
def to_dsi(unit_text: str) -> str:
    """Express a carbonmet/pint unit as a D-SI unit string (for export).

    Parameters
    ----------
    unit_text : str
        Unit text accepted by :func:`carbonmet.quantities.parse_unit` (``"kWh"``, ``"m3/h"``, ``"%"``).

    Returns
    -------
    str
        D-SI string using ``\\tothe{-n}`` rather than ``\\per`` (D-SI 2.x), e.g. ``"\\metre\\tothe{3}\\hour\\tothe{-1}"``.

    Raises
    ------
    DsiUnitError
        If the unit has no D-SI form (``tCO2``, ``Nm3``, ``tce`` …).
    """
    try:
        u = parse_unit(unit_text)
    except UnitError as exc:
        raise DsiUnitError(f"unknown unit {unit_text!r}", token=unit_text) from exc
    items = list(ureg.Quantity(1, u).unit_items())
    if not items:
        return "\\one"
    table = _pint_to_dsi()
    pint_prefix = {p.pint: p.dsi for p in _prefixes().values()}
    terms: list[DsiTerm] = []
    for name, exp in items:
        chosen = ("", name) if name in table else None
        for prefix, base, suffix in () if chosen else ureg.parse_unit_name(name):
            if not suffix and base in table and (not prefix or prefix in pint_prefix):
                chosen = (prefix, base)
                break
        if chosen is None:
            raise DsiUnitError(f"unit {name!r} (from {unit_text!r}) has no D-SI form", token=unit_text)
        prefix, base = chosen
        tokens = table[base]
        fexp = Fraction(exp) if isinstance(exp, int) else Fraction(Decimal(repr(float(exp))))  # type: ignore[arg-type]
        for i, tok in enumerate(tokens):
            pfx = pint_prefix[prefix] if (prefix and i == 0) else ""
            if tok == "gram" and pfx == "kilo":
                tok, pfx = "kilogram", ""
            terms.append(DsiTerm(tok, pfx, fexp))
    out = format_dsi(DsiUnit(tuple(terms)))
    # safety net: the D-SI string must parse and mean exactly the same unit
    try:
        parse_dsi(out)
        back = parse_unit(dsi_to_pint(out))
    except DsiUnitError as exc:
        raise DsiUnitError(
            f"unit {unit_text!r} has no valid D-SI form ({exc.reason})", token=unit_text
        ) from exc
    if back.dimensionality != u.dimensionality or abs(ureg.Quantity(1.0, back).to(u).magnitude - 1.0) > 1e-12:
        raise DsiUnitError(f"unit {unit_text!r} has no exact D-SI form", token=unit_text)  # pragma: no cover
    return out
