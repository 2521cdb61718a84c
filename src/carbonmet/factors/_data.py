"""Reading and checking the data files of the factors package (``carbonmet/factors/data``).

Every table is a small CSV (or TOML) file whose rows carry ``source``, ``clause`` and ``evidence``. Values are kept
as printed in their source together with the unit as printed, and converted here, once, to the canonical units of
:class:`~carbonmet.factors.FactorValue`. A malformed row is refused with a :class:`FactorError` naming the file,
the line and the field — the files are edited by people adding a profile, so the message must say where.
"""

from __future__ import annotations

import csv
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from carbonmet.quantities import UnitError, conversion_factor

from ._errors import FactorError
from ._types import EVIDENCE_MARKS

DATA_FILES: tuple[str, ...] = ("profiles.toml", "fuels.csv", "products.csv", "heat.csv", "grid.csv", "gwp.csv",
                               "uncertainty.csv", "pedigree.csv", "basic_uncertainty.csv", "regional_factors.csv")

#: The "44/12" the standards print (GB/T 32150-2015, GB/T 32151.x): 3.666667 tCO2/tC.
CO2_PER_C_PRINTED: float = 44.0 / 12.0

_FUEL_CLASSES = ("solid", "liquid", "gas", "process_gas")
_COMPOSITIONS = ("pure", "polymer", "cut", "mixture", "carbon_free")
_SHAPES = ("normal", "rectangular")
_KINDS = ("defaults", "grid", "gwp")
_STATUSES = ("in_force", "superseded", "declared", "disputed", "published")


@dataclass(frozen=True, slots=True)
class Cited:
    """Where a row comes from."""

    source: str
    clause: str
    evidence: str
    note: str
    where: str  # "fuels.csv:12", for messages


@dataclass(frozen=True, slots=True)
class FuelRow:
    lineage: str
    subject: str
    name_zh: str
    fuel_class: str
    amount_unit: str  # "t" | "Nm3"
    ncv: float  # GJ/t or GJ/Nm3
    cc: float  # tC/GJ
    of: float  # 1
    ef_published: float | None  # as tabled, in ef_unit converted to tCO2 per amount unit
    cited: Cited


@dataclass(frozen=True, slots=True)
class ProductRow:
    subject: str
    name_zh: str
    formula: str
    composition: str
    value: float  # mass fraction
    cited: Cited


@dataclass(frozen=True, slots=True)
class HeatRow:
    lineage: str
    subject: str
    name_zh: str
    value: float  # tCO2/GJ
    cited: Cited


@dataclass(frozen=True, slots=True)
class GridRow:
    scope: str
    name_zh: str
    data_year: int
    applies_from: int
    applies_to: int
    value: float  # tCO2/MWh
    notice: str
    cited: Cited


@dataclass(frozen=True, slots=True)
class GwpRow:
    set: str
    gas: str
    value: float
    cited: Cited


@dataclass(frozen=True, slots=True)
class URow:
    parameter: str
    subject: str
    u_rel: float
    shape: str
    basis: str
    cited: Cited

    @property
    def text(self) -> str:
        c = self.cited
        return f"{c.source}, {c.clause} [{c.evidence}]: {self.basis}"


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """One ``[[profile]]`` table of profiles.toml, checked."""

    name: str
    kind: str
    version: str
    title: str
    issuer: str
    status: str
    source: str
    clause: str
    evidence: str
    note: str = ""
    issued_on: date | None = None
    in_force_from: date | None = None
    superseded_on: date | None = None
    dates_evidence: str = ""
    fuels: str = ""
    products: bool = False
    heat: str = ""
    gwp_set: str = ""
    gwp_set_evidence: str = ""
    gwp_set_note: str = ""
    evidence_cap: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubjectAlias:
    alias: str
    subject: str
    cited: Cited


@dataclass(frozen=True)
class DataSet:
    """Everything in the data directory, checked and in canonical units."""

    default: str
    profiles: tuple[ProfileSpec, ...]
    subject_aliases: tuple[SubjectAlias, ...]
    fuels: dict[str, dict[str, FuelRow]] = field(default_factory=dict)
    products: dict[str, ProductRow] = field(default_factory=dict)
    heat: dict[str, dict[str, HeatRow]] = field(default_factory=dict)
    grid: tuple[GridRow, ...] = ()
    gwp: dict[str, dict[str, GwpRow]] = field(default_factory=dict)
    uncertainty: dict[tuple[str, str], URow] = field(default_factory=dict)

    def u_row(self, parameter: str, subject: str, u_class: str) -> URow:
        """The documented default uncertainty of one value: exact subject, then its class, then ``*``."""
        for key in ((parameter, subject), (parameter, f"class:{u_class}"), (parameter, "*")):
            if key in self.uncertainty:
                return self.uncertainty[key]
        raise FactorError(f"uncertainty.csv: no default uncertainty for {parameter}/{subject} (class {u_class!r}); "
                          f"add a row '{parameter},{subject},…' or '{parameter},class:{u_class},…'")


# ------------------------------------------------------------------------------------------------ reading


def package_root() -> Traversable:
    """The package's own data directory."""
    return resources.files(__package__).joinpath("data")


def _text_of(root: Traversable, name: str) -> str:
    try:
        return root.joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FactorError(f"{name}: missing from the data directory {root}") from None
    except UnicodeDecodeError as exc:
        raise FactorError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _rows(root: Traversable, name: str, required: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    """Rows of a data CSV as ``(where, row)``; ``#`` lines are comments; the header must hold ``required``."""
    header: list[str] | None = None
    out: list[tuple[str, dict[str, str]]] = []
    for lineno, line in enumerate(_text_of(root, name).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = next(csv.reader([line]))
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in required if c not in header]
            if missing:
                raise FactorError(f"{name}:{lineno}: header lacks column(s) {', '.join(missing)}")
            if len(set(header)) != len(header):
                raise FactorError(f"{name}:{lineno}: header repeats a column name")
            continue
        if len(cells) != len(header):
            raise FactorError(f"{name}:{lineno}: {len(cells)} fields, the header has {len(header)}")
        out.append((f"{name}:{lineno}", {k: v.strip() for k, v in zip(header, cells, strict=True)}))
    if header is None:
        raise FactorError(f"{name}: no header row")
    return out


def _field(row: dict[str, str], key: str, where: str) -> str:
    v = row.get(key, "")
    if not v:
        raise FactorError(f"{where}: field {key!r} is empty")
    return v


def _one_of(row: dict[str, str], key: str, where: str, allowed: tuple[str, ...]) -> str:
    v = _field(row, key, where)
    if v not in allowed:
        raise FactorError(f"{where}: field {key!r} is {v!r}; expected one of {', '.join(allowed)}")
    return v


def _number(row: dict[str, str], key: str, where: str, *, zero_ok: bool = False) -> float:
    text = _field(row, key, where)
    try:
        x = float(text)
    except ValueError:
        raise FactorError(f"{where}: field {key!r} is not a number: {text!r}") from None
    if not math.isfinite(x):
        raise FactorError(f"{where}: field {key!r} is not finite: {text!r}")
    if x < 0 or (x == 0 and not zero_ok):
        raise FactorError(f"{where}: field {key!r} must be {'≥' if zero_ok else '>'} 0, got {text}")
    return x


def _year(row: dict[str, str], key: str, where: str) -> int:
    text = _field(row, key, where)
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        raise FactorError(f"{where}: field {key!r} is not a plausible year: {text!r}")
    return int(text)


def _factor(from_unit: str, to_unit: str, where: str, key: str) -> float:
    try:
        return conversion_factor(from_unit, to_unit)
    except UnitError as exc:
        raise FactorError(f"{where}: field {key!r}: unit {from_unit!r} cannot be read as {to_unit!r} ({exc})") from None


def _cited(row: dict[str, str], where: str) -> Cited:
    return Cited(source=_field(row, "source", where), clause=_field(row, "clause", where),
                 evidence=_one_of(row, "evidence", where, EVIDENCE_MARKS), note=row.get("note", ""), where=where)


def _no_duplicate(seen: set[Any], key: Any, where: str, what: str) -> None:
    if key in seen:
        raise FactorError(f"{where}: {what} {key!r} appears twice")
    seen.add(key)


_CITED = ("source", "clause", "evidence")


def _fuels(root: Traversable) -> dict[str, dict[str, FuelRow]]:
    out: dict[str, dict[str, FuelRow]] = {}
    seen: set[tuple[str, str]] = set()
    cols = ("lineage", "subject", "name_zh", "fuel_class", "amount_unit", "ncv", "ncv_unit", "cc", "cc_unit", "of",
            "of_unit", "ef_published", "ef_unit", *_CITED, "note")
    for where, r in _rows(root, "fuels.csv", cols):
        lineage, subject = _field(r, "lineage", where), _field(r, "subject", where)
        _no_duplicate(seen, (lineage, subject), where, "lineage/subject")
        amount = _one_of(r, "amount_unit", where, ("t", "Nm3"))
        ncv = _number(r, "ncv", where) * _factor(_field(r, "ncv_unit", where), f"GJ/{amount}", where, "ncv_unit")
        cc = _number(r, "cc", where) * _factor(_field(r, "cc_unit", where), "tC/GJ", where, "cc_unit")
        of = _number(r, "of", where) * _factor(_field(r, "of_unit", where), "1", where, "of_unit")
        if of > 1:
            raise FactorError(f"{where}: field 'of': oxidation rate {of:g} exceeds 1 (100 %)")
        ef_pub: float | None = None
        if r["ef_published"]:
            ef_pub = _number(r, "ef_published", where) * _factor(_field(r, "ef_unit", where), f"tCO2/{amount}",
                                                                 where, "ef_unit")
            ef = ncv * cc * of * CO2_PER_C_PRINTED
            if abs(ef - ef_pub) > 1e-4 * ef_pub:
                raise FactorError(f"{where}: NCV × CC × OF × 44/12 = {ef:.6g} tCO2/{amount} does not reproduce "
                                  f"ef_published {ef_pub:.6g} (relative difference {ef / ef_pub - 1:+.2e}): "
                                  "check the units and the digits")
        out.setdefault(lineage, {})[subject] = FuelRow(
            lineage, subject, _field(r, "name_zh", where), _one_of(r, "fuel_class", where, _FUEL_CLASSES), amount,
            ncv, cc, of, ef_pub, _cited(r, where))
    return out


def _products(root: Traversable) -> dict[str, ProductRow]:
    out: dict[str, ProductRow] = {}
    cols = ("subject", "name_zh", "formula", "composition", "value", "unit", *_CITED, "note")
    for where, r in _rows(root, "products.csv", cols):
        subject = _field(r, "subject", where)
        _no_duplicate(set(out), subject, where, "subject")
        comp = _one_of(r, "composition", where, _COMPOSITIONS)
        value = _number(r, "value", where, zero_ok=comp == "carbon_free") * _factor(_field(r, "unit", where), "1",
                                                                                   where, "unit")
        if comp == "carbon_free" and value != 0:
            raise FactorError(f"{where}: field 'value': a carbon_free row must be 0")
        if comp != "carbon_free" and value == 0:
            raise FactorError(f"{where}: field 'value' is 0; only composition carbon_free may be 0")
        if value > 1:
            raise FactorError(f"{where}: field 'value': carbon mass fraction {value:g} exceeds 1 (100 %)")
        out[subject] = ProductRow(subject, _field(r, "name_zh", where), r["formula"], comp, value, _cited(r, where))
    return out


def _heat(root: Traversable) -> dict[str, dict[str, HeatRow]]:
    out: dict[str, dict[str, HeatRow]] = {}
    seen: set[tuple[str, str]] = set()
    for where, r in _rows(root, "heat.csv", ("lineage", "subject", "name_zh", "value", "unit", *_CITED, "note")):
        lineage, subject = _field(r, "lineage", where), _field(r, "subject", where)
        _no_duplicate(seen, (lineage, subject), where, "lineage/subject")
        value = _number(r, "value", where) * _factor(_field(r, "unit", where), "tCO2/GJ", where, "unit")
        out.setdefault(lineage, {})[subject] = HeatRow(lineage, subject, _field(r, "name_zh", where), value,
                                                       _cited(r, where))
    return out


def _grid(root: Traversable) -> tuple[GridRow, ...]:
    out: list[GridRow] = []
    seen: set[tuple[str, int]] = set()
    cols = ("scope", "name_zh", "data_year", "applies_from", "applies_to", "value", "unit", "notice", *_CITED, "note")
    for where, r in _rows(root, "grid.csv", cols):
        scope, year = _field(r, "scope", where), _year(r, "data_year", where)
        _no_duplicate(seen, (scope, year), where, "scope/data_year")
        a, b = _year(r, "applies_from", where), _year(r, "applies_to", where)
        if a > b:
            raise FactorError(f"{where}: field 'applies_to' ({b}) is before applies_from ({a})")
        value = _number(r, "value", where) * _factor(_field(r, "unit", where), "tCO2/MWh", where, "unit")
        out.append(GridRow(scope, _field(r, "name_zh", where), year, a, b, value, _field(r, "notice", where),
                           _cited(r, where)))
    return tuple(out)


def _gwp(root: Traversable) -> dict[str, dict[str, GwpRow]]:
    out: dict[str, dict[str, GwpRow]] = {}
    seen: set[tuple[str, str]] = set()
    for where, r in _rows(root, "gwp.csv", ("set", "gas", "value", "unit", *_CITED, "note")):
        s, gas = _field(r, "set", where), _field(r, "gas", where)
        _no_duplicate(seen, (s, gas), where, "set/gas")
        value = _number(r, "value", where) * _factor(_field(r, "unit", where), "1", where, "unit")
        out.setdefault(s, {})[gas] = GwpRow(s, gas, value, _cited(r, where))
    return out


def _uncertainty(root: Traversable) -> dict[tuple[str, str], URow]:
    out: dict[tuple[str, str], URow] = {}
    for where, r in _rows(root, "uncertainty.csv", ("parameter", "subject", "u_rel", "shape", "basis", *_CITED)):
        key = (_field(r, "parameter", where), _field(r, "subject", where))
        _no_duplicate(set(out), key, where, "parameter/subject")
        u = _number(r, "u_rel", where, zero_ok=True)
        if u >= 1:
            raise FactorError(f"{where}: field 'u_rel' is a fraction (0.03 for 3 %), got {u}")
        out[key] = URow(key[0], key[1], u, _one_of(r, "shape", where, _SHAPES), _field(r, "basis", where),
                        _cited(r, where))
    return out


def _str(t: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    v = t.get(key, "")
    if not isinstance(v, str):
        raise FactorError(f"{where}: field {key!r} must be a string, got {type(v).__name__}")
    if required and not v.strip():
        raise FactorError(f"{where}: field {key!r} is empty")
    return v.strip()


def _date(t: dict[str, Any], key: str, where: str) -> date | None:
    v = t.get(key)
    if v is None:
        return None
    if not isinstance(v, date):
        raise FactorError(f"{where}: field {key!r} must be a TOML date (2024-07-01), got {v!r}")
    return v


def _mark(t: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    v = _str(t, key, where, required)
    if v and v not in EVIDENCE_MARKS:
        raise FactorError(f"{where}: field {key!r} is {v!r}; expected one of {', '.join(EVIDENCE_MARKS)}")
    return v


_PROFILE_KEYS = {"name", "kind", "version", "title", "issuer", "status", "source", "clause", "evidence", "note",
                 "issued_on", "in_force_from", "superseded_on", "dates_evidence", "fuels", "products", "heat",
                 "gwp_set", "gwp_set_evidence", "gwp_set_note", "evidence_cap", "aliases"}


def _profile_spec(t: dict[str, Any], where: str) -> ProfileSpec:
    unknown = sorted(set(t) - _PROFILE_KEYS)
    if unknown:
        raise FactorError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kind = _str(t, "kind", where)
    if kind not in _KINDS:
        raise FactorError(f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(_KINDS)}")
    status = _str(t, "status", where)
    if status not in _STATUSES:
        raise FactorError(f"{where}: field 'status' is {status!r}; expected one of {', '.join(_STATUSES)}")
    aliases = t.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise FactorError(f"{where}: field 'aliases' must be a list of non-empty strings")
    products = t.get("products", False)
    if not isinstance(products, bool):
        raise FactorError(f"{where}: field 'products' must be true or false")
    spec = ProfileSpec(
        name=_str(t, "name", where), kind=kind, version=_str(t, "version", where), title=_str(t, "title", where),
        issuer=_str(t, "issuer", where), status=status, source=_str(t, "source", where),
        clause=_str(t, "clause", where), evidence=_mark(t, "evidence", where, required=True),
        note=_str(t, "note", where, False), issued_on=_date(t, "issued_on", where),
        in_force_from=_date(t, "in_force_from", where), superseded_on=_date(t, "superseded_on", where),
        dates_evidence=_mark(t, "dates_evidence", where), fuels=_str(t, "fuels", where, False), products=products,
        heat=_str(t, "heat", where, False), gwp_set=_str(t, "gwp_set", where, False),
        gwp_set_evidence=_mark(t, "gwp_set_evidence", where), gwp_set_note=_str(t, "gwp_set_note", where, False),
        evidence_cap=_mark(t, "evidence_cap", where), aliases=tuple(a.strip() for a in aliases))
    if kind == "gwp" and not spec.gwp_set:
        raise FactorError(f"{where}: a gwp profile names its set in field 'gwp_set'")
    if kind == "defaults" and spec.gwp_set and not spec.gwp_set_evidence:
        raise FactorError(f"{where}: field 'gwp_set_evidence' is empty: say how sure the GWP set assignment is")
    return spec


def _profiles(root: Traversable) -> tuple[str, tuple[ProfileSpec, ...], tuple[SubjectAlias, ...]]:
    name = "profiles.toml"
    try:
        doc = tomllib.loads(_text_of(root, name))
    except tomllib.TOMLDecodeError as exc:
        raise FactorError(f"{name}: not valid TOML: {exc}") from None
    tables = doc.get("profile", [])
    if not isinstance(tables, list) or not tables:
        raise FactorError(f"{name}: no [[profile]] tables")
    specs = tuple(_profile_spec(t, f"{name} [[profile]] #{i + 1}") for i, t in enumerate(tables))
    aliases = []
    for i, t in enumerate(doc.get("subject_alias", [])):
        where = f"{name} [[subject_alias]] #{i + 1}"
        aliases.append(SubjectAlias(_str(t, "alias", where), _str(t, "subject", where),
                                    Cited(_str(t, "source", where), _str(t, "clause", where),
                                          _mark(t, "evidence", where, required=True), _str(t, "note", where), where)))
    default = doc.get("default")
    if not isinstance(default, str) or not default:
        raise FactorError(f"{name}: field 'default' must name the default profile")
    return default, specs, tuple(aliases)


def read_dataset(root: Traversable | str | Path) -> DataSet:
    """Read and check every data file of ``root`` (a directory laid out like the package's ``data``)."""
    r: Traversable = Path(root) if isinstance(root, str | Path) else root
    default, specs, aliases = _profiles(r)
    return DataSet(default=default, profiles=specs, subject_aliases=aliases, fuels=_fuels(r), products=_products(r),
                   heat=_heat(r), grid=_grid(r), gwp=_gwp(r), uncertainty=_uncertainty(r))


@lru_cache(maxsize=1)
def dataset() -> DataSet:
    """The package's data files, read and checked once per process."""
    return read_dataset(package_root())


@lru_cache(maxsize=1)
def data_version() -> str:
    """Fingerprint of the data files: the first 12 hex digits of a SHA-256 over their names and bytes.

    Stored with every result that used a default value, so the figures can be reproduced with the same tables.
    """
    h = hashlib.sha256()
    for name in DATA_FILES:
        h.update(name.encode("utf-8") + b"\0")
        h.update(package_root().joinpath(name).read_bytes() + b"\0")
    return h.hexdigest()[:12]
