"""Product rules (产品种类规则, PCR) as data: functional unit, boundary, allocation default, required data.

One TOML file per product in ``carbonmet/footprint/data/rules/`` (methanol, MEG, polyethylene, polypropylene);
this module only reads and checks them. A rule says what a footprint of the product must contain — it holds no
numbers of any plant. Fields are described in ``docs/footprint.md``; a local directory of rules can be checked
with :func:`load_rules` before it replaces ours.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from carbonmet.quantities import CarbonmetError

__all__ = ["ALLOCATIONS", "DECLARED_UNITS", "ProductRule", "RuleError", "RuleInput", "RuleProperty", "load_rules",
           "product_rule", "product_rules"]

ALLOCATIONS = ("mass", "energy", "economic", "system_expansion")
"""Co-product allocation methods a rule may name (ISO 14044 §4.3.4: avoid by system expansion, else partition)."""

DECLARED_UNITS = ("liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
                  "square meter", "piece", "hour", "megabit second")
"""PACT v3.0.3 ``declaredUnitOfMeasurement`` values."""

_ORIGINS = ("accounting", "metering", "lab", "factor", "supplier")


class RuleError(CarbonmetError, ValueError):
    """A product rule file that cannot be used, naming the file and the field."""

    def __init__(self, file: str, field_: str, reason: str) -> None:
        self.file, self.field, self.reason = file, field_, reason
        super().__init__(f"{file}: {field_}: {reason}")


@dataclass(frozen=True, slots=True)
class RuleProperty:
    """A product property per kg (carbon fraction [1], LHV [MJ/kg], price …) with its source and evidence."""

    name: str
    value: float
    source: str
    evidence: str

    @property
    def unverified(self) -> bool:
        """True for values marked ``?`` or ``M`` (shown as unverified wherever they are used)."""
        return self.evidence.strip().upper().startswith(("?", "M"))


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One datum the rule requires of the plant: what, in which unit, for which stage, from where."""

    item: str
    unit: str
    stage: str
    origin: str
    required: bool
    factor: str | None = None
    note: str = ""
    match: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def matches(self, name: str, role: str) -> bool:
        """Whether an activity item (``name``, ``role``) of an account is this input (``match`` globs, ``roles``)."""
        from fnmatch import fnmatchcase

        return any(fnmatchcase(name, g) for g in self.match) and (not self.roles or role in self.roles)


@dataclass(frozen=True, slots=True)
class ProductRule:
    """A product rule read from its data file (see module docstring)."""

    product: str
    name_zh: str
    name_en: str
    cas: str
    declared_unit: str
    declared_unit_amount: float
    product_mass_per_declared_unit: float
    functional_unit_zh: str
    boundary: str
    boundary_description: str
    allocation: str
    allocation_alternatives: tuple[str, ...]
    by_products: str
    gwp: str
    cross_sectoral_standards: tuple[str, ...]
    pcr: str
    pcr_evidence: str
    pcr_note: str
    national_standard: str
    source: str
    evidence: str
    stages: dict[str, str]
    inputs: tuple[RuleInput, ...]
    properties: dict[str, RuleProperty]
    co_products: tuple[str, ...] = ()
    direct_stages: dict[str, str] = field(default_factory=dict)
    file: str = ""
    flags: tuple[str, ...] = field(default=())

    @property
    def classification_urn(self) -> str:
        """The product's CAS number as a PACT classification URN (``urn:pact:productclassification:cas:…``)."""
        return f"urn:pact:productclassification:cas:{self.cas}"

    def property(self, name: str) -> RuleProperty:
        """One product property; :class:`RuleError` naming it when the rule has none."""
        try:
            return self.properties[name]
        except KeyError:
            raise RuleError(self.file, f"properties.{name}", "规则未给出 / not given by the rule") from None

    def required_items(self) -> tuple[str, ...]:
        """Items every footprint under this rule must have data for."""
        return tuple(i.item for i in self.inputs if i.required)


def _get(d: dict[str, Any], key: str, file: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in d:
        raise RuleError(file, f"{where}.{key}", "缺少 / missing")
    v = d[key]
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise RuleError(file, f"{where}.{key}", f"类型错误 / wrong type {type(v).__name__}")
    return v


def _parse(data: dict[str, Any], file: str) -> ProductRule:
    r = data.get("rule")
    if not isinstance(r, dict):
        raise RuleError(file, "rule", "缺少 [rule] 表 / missing [rule] table")
    num = (int, float)
    unit = _get(r, "declared_unit", file, "rule")
    if unit not in DECLARED_UNITS:
        raise RuleError(file, "rule.declared_unit", f"{unit!r} 不是 PACT 申报单位 / not a PACT declared unit")
    alloc = _get(r, "allocation", file, "rule")
    alts = tuple(_get(r, "allocation_alternatives", file, "rule", list))
    for a in (alloc, *alts):
        if a not in ALLOCATIONS:
            raise RuleError(file, "rule.allocation", f"{a!r} 不是分配方法 / not one of {', '.join(ALLOCATIONS)}")
    amount = float(_get(r, "declared_unit_amount", file, "rule", num))
    mass = float(_get(r, "product_mass_per_declared_unit", file, "rule", num))
    if not amount > 0 or not mass > 0:
        raise RuleError(file, "rule.declared_unit_amount", "须为正 / must be positive")
    props: dict[str, RuleProperty] = {}
    for name, p in (data.get("properties") or {}).items():
        if not isinstance(p, dict):
            raise RuleError(file, f"properties.{name}", "须为 {value, source, evidence} / must be a table")
        props[name] = RuleProperty(name, float(_get(p, "value", file, f"properties.{name}", num)),
                                   _get(p, "source", file, f"properties.{name}"),
                                   _get(p, "evidence", file, f"properties.{name}"))
    stages = data.get("stages") or {}
    if not isinstance(stages, dict) or not stages:
        raise RuleError(file, "stages", "缺少阶段 / no stages")
    inputs = []
    for k, i in enumerate(data.get("inputs") or []):
        where = f"inputs[{k}]"
        stage = _get(i, "stage", file, where)
        if stage not in stages:
            raise RuleError(file, f"{where}.stage", f"{stage!r} 不在 [stages] 中 / not among the stages")
        origin = _get(i, "origin", file, where)
        if origin not in _ORIGINS:
            raise RuleError(file, f"{where}.origin", f"{origin!r} 不是 / not one of {', '.join(_ORIGINS)}")
        inputs.append(RuleInput(_get(i, "item", file, where), _get(i, "unit", file, where), stage, origin,
                                bool(_get(i, "required", file, where, bool)), i.get("factor"), i.get("note", ""),
                                tuple(i.get("match", ())), tuple(i.get("roles", ()))))
    direct_stages = data.get("direct_stages") or {}
    for kind, st in direct_stages.items():
        if st not in stages:
            raise RuleError(file, f"direct_stages.{kind}", f"{st!r} 不在 [stages] 中 / not among the stages")
    flags = tuple(f"unverified:{n}" for n, p in props.items() if p.unverified)
    if str(r.get("pcr_evidence", "")).startswith("?"):
        flags += ("pcr_text_unseen",)
    return ProductRule(
        product=_get(r, "product", file, "rule"), name_zh=_get(r, "name_zh", file, "rule"),
        name_en=_get(r, "name_en", file, "rule"), cas=_get(r, "cas", file, "rule"), declared_unit=unit,
        declared_unit_amount=amount, product_mass_per_declared_unit=mass,
        functional_unit_zh=_get(r, "functional_unit_zh", file, "rule"), boundary=_get(r, "boundary", file, "rule"),
        boundary_description=_get(r, "boundary_description", file, "rule"), allocation=alloc,
        allocation_alternatives=alts, by_products=_get(r, "by_products", file, "rule"),
        gwp=_get(r, "gwp", file, "rule"),
        cross_sectoral_standards=tuple(_get(r, "cross_sectoral_standards", file, "rule", list)),
        pcr=_get(r, "pcr", file, "rule"), pcr_evidence=_get(r, "pcr_evidence", file, "rule"),
        pcr_note=r.get("pcr_note", ""), national_standard=r.get("national_standard", ""),
        source=_get(r, "source", file, "rule"), evidence=_get(r, "evidence", file, "rule"), stages=dict(stages),
        inputs=tuple(inputs), properties=props, co_products=tuple(r.get("co_products", ())),
        direct_stages=dict(direct_stages), file=file, flags=flags)


def load_rules(directory: str | Path) -> dict[str, ProductRule]:
    """Read and check every ``*.toml`` product rule in ``directory`` (product → rule).

    Raises
    ------
    RuleError
        Naming the file and field of the first problem (a directory with no rules, a TOML error, a missing or
        mistyped field, an unknown allocation, declared unit, stage or origin, two files for one product).
    """
    d = Path(directory)
    files = sorted(d.glob("*.toml"))
    if not files:
        raise RuleError(str(d), "*.toml", "没有产品规则 / no product rules")
    out: dict[str, ProductRule] = {}
    for f in files:
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise RuleError(f.name, "toml", str(e)) from None
        rule = _parse(data, f.name)
        if rule.product in out:
            raise RuleError(f.name, "rule.product", f"{rule.product!r} 重复 / also in {out[rule.product].file}")
        out[rule.product] = rule
    return out


_PACKAGED: dict[str, ProductRule] | None = None


def product_rules() -> dict[str, ProductRule]:
    """The packaged product rules (product → rule), read once."""
    global _PACKAGED
    if _PACKAGED is None:
        with resources.as_file(resources.files("carbonmet.footprint") / "data" / "rules") as p:
            _PACKAGED = load_rules(p)
    return dict(_PACKAGED)


def product_rule(product: str) -> ProductRule:
    """The packaged rule of ``product`` (``methanol``, ``meg``, ``polyethylene``, ``polypropylene``)."""
    rules = product_rules()
    if product not in rules:
        raise RuleError("rules", product, f"没有此产品的规则 / no rule; known: {', '.join(sorted(rules))}")
    return rules[product]
