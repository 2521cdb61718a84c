"""The stand-alone inventory file (排放清单): annual figures and instrument accuracies, for ``account --inventory``.

Format in docs/inventory.md. Read with :func:`read_inventory`; every bad field is reported as
``file:where:field: reason`` (``streams[2].ncv``: the second ``[[streams]]`` table's ``ncv``), and nothing is
computed from a file with problems.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from carbonmet.quantities import CarbonmetError, QuantityError, convert, is_convertible
from carbonmet.quantities.rules import code_problem

_CFG = ConfigDict(extra="forbid", str_strip_whitespace=True)

StreamKind = Literal["fuel_combustion", "carbon_balance", "co2_recovered", "purchased_electricity",
                     "exported_electricity", "purchased_heat", "exported_heat"]
"""Source-stream kinds (源流类型) and the formula each takes (carbonmet.accounting.formulas)."""
STREAM_KINDS: tuple[str, ...] = StreamKind.__args__  # type: ignore[attr-defined]

ParamSource = Literal["measured", "lab", "supplier", "default", "estimate"]
"""Where a value comes from, in the guideline's order of priority: measured (instrument or laboratory) >
supplier > default; ``estimate`` is below all of them and flagged."""

LegalState = Literal["ok", "overdue", "failed", "uncovered", "calibrated_not_verified"]


class InventoryError(CarbonmetError, ValueError):
    """An inventory or lab file was refused; ``problems`` lists ``(file, where, field, reason)``."""

    def __init__(self, file: str, problems: list[tuple[str, str, str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {f}:{w}:{fld}: {r}" for f, w, fld, r in problems[:200])
        super().__init__(f"{file}: 清单有 {len(problems)} 处错误 / inventory has {len(problems)} problem(s):\n{lines}")


def _ident(v: str) -> str:
    problem = code_problem(v)
    if problem is not None:
        raise ValueError(problem)
    return v


class InstrumentSpec(BaseModel):
    """An instrument or analyser of the inventory, with its certificate's figure (器具及证书)."""

    model_config = _CFG
    id: str = Field(min_length=1, max_length=64)
    certificate: Literal["verification", "calibration"] = "verification"
    certificate_no: str | None = Field(default=None, max_length=96)
    mpe_rel: float | None = Field(default=None, gt=0, le=100)  # [%] of the indication (检定)
    U_rel: float | None = Field(default=None, gt=0, le=100)  # [%] expanded uncertainty (校准)
    k: float = Field(default=2.0, ge=1.0, le=10.0)
    as_found_rel: float | None = Field(default=None, ge=-100, le=100)  # [%] error found at calibration
    apply_as_found: bool = False
    state: LegalState = "ok"
    uncovered_share: float | None = Field(default=None, ge=0.0, le=1.0)

    _i = field_validator("id")(_ident)

    @model_validator(mode="after")
    def _figure(self) -> InstrumentSpec:
        if self.certificate == "verification" and self.mpe_rel is None:
            raise ValueError("a verification (检定) states the instrument's MPE: give mpe_rel [%]")
        if self.certificate == "calibration" and self.U_rel is None:
            raise ValueError("a calibration (校准) certificate states U: give U_rel [%] and k")
        return self


class ParamSpec(BaseModel):
    """One parameter's value and where it comes from (参数及数据来源)."""

    model_config = _CFG
    value: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    source: ParamSource | None = None
    instrument: str | None = Field(default=None, max_length=64)  # measured
    analyser: str | None = Field(default=None, max_length=64)  # lab
    samples: int | None = Field(default=None, ge=1, le=1_000_000)  # lab: number of analyses averaged
    u_sample_rel: float | None = Field(default=None, ge=0, le=100)  # lab: repeatability of one analysis [%]
    u_rel: float | None = Field(default=None, ge=0, le=100)  # supplier/estimate [%] (standard uncertainty)
    ref: str | None = Field(default=None, max_length=160)  # default: profile ref overriding the stream's own
    reason: str | None = Field(default=None, max_length=300)

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _source(self) -> ParamSpec:
        src = self.source or ("measured" if self.instrument else "lab" if self.analyser else
                              "default" if self.value is None else None)
        if src is None:
            raise ValueError("say where the value comes from: instrument, analyser, or source = supplier/estimate")
        self.source = src
        if src in ("measured", "lab", "supplier", "estimate") and self.value is None:
            raise ValueError(f"a {src} parameter needs a value")
        if src == "measured" and not self.instrument:
            raise ValueError("a measured parameter names its instrument")
        if src == "lab" and not self.analyser:
            raise ValueError("a laboratory parameter names its analyser instrument")
        if src in ("supplier", "estimate") and self.u_rel is None:
            raise ValueError(f"a {src} value states its relative standard uncertainty u_rel [%]")
        if src == "default" and self.value is not None:
            raise ValueError("a default comes from the profile: leave value empty (or give source = supplier)")
        if self.value is not None and self.unit is None:
            raise ValueError("a value needs its unit")
        return self


class BalanceItem(BaseModel):
    """One carbon-bearing input or output of a carbon balance (含碳输入/输出)."""

    model_config = _CFG
    name: str = Field(min_length=1, max_length=64)
    material: str | None = Field(default=None, max_length=64)  # products table subject for a default carbon
    amount: ParamSpec
    carbon: ParamSpec = Field(default_factory=lambda: ParamSpec())

    _i = field_validator("name")(_ident)


class StreamSpec(BaseModel):
    """A source stream of the inventory (源流)."""

    model_config = _CFG
    name: str = Field(min_length=1, max_length=64)
    kind: StreamKind
    fuel: str | None = Field(default=None, max_length=64)
    form: Literal["per_heat", "per_mass"] = "per_heat"
    activity: ParamSpec | None = None
    ncv: ParamSpec | None = None
    carbon_content: ParamSpec | None = None
    oxidation_rate: ParamSpec | None = None
    inputs: list[BalanceItem] = Field(default_factory=list)
    outputs: list[BalanceItem] = Field(default_factory=list)
    volume: ParamSpec | None = None
    purity: ParamSpec | None = None
    factor: ParamSpec | None = None
    steam: ParamSpec | None = None
    enthalpy: ParamSpec | None = None

    _i = field_validator("name")(_ident)

    @model_validator(mode="after")
    def _needs(self) -> StreamSpec:
        need: dict[str, tuple[str, ...]] = {
            "fuel_combustion": ("fuel", "activity"),
            "carbon_balance": ("inputs",),
            "co2_recovered": ("volume", "purity"),
            "purchased_electricity": ("activity",), "exported_electricity": ("activity",),
        }
        for f in need.get(self.kind, ()):
            if not getattr(self, f):
                raise ValueError(f"a {self.kind} stream needs {f!r}")
        if self.kind in ("purchased_heat", "exported_heat") and not (self.activity or self.steam):
            raise ValueError(f"a {self.kind} stream needs 'activity' (GJ) or 'steam' (t) with 'enthalpy'")
        return self


class InventoryHeader(BaseModel):
    model_config = _CFG
    enterprise: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=1990, le=2100)
    name: str | None = Field(default=None, max_length=200)
    profile: str | None = Field(default=None, max_length=96)
    grid_scope: str = Field(default="national", max_length=64)

    _i = field_validator("enterprise")(_ident)


@dataclass(frozen=True, slots=True)
class Inventory:
    """A validated inventory file."""

    header: InventoryHeader
    instruments: dict[str, InstrumentSpec]
    streams: tuple[StreamSpec, ...]
    file: str


def _loc(loc: tuple[Any, ...]) -> tuple[str, str]:
    """Pydantic location → (where, field), e.g. ('inputs', 0, 'carbon', 'value') → ('inputs[1].carbon', 'value')."""
    parts: list[str] = []
    for x in loc:
        if isinstance(x, int) and parts:
            parts[-1] += f"[{x + 1}]"
        else:
            parts.append(str(x))
    if not parts:
        return "-", "-"
    return (".".join(parts[:-1]) or "-"), parts[-1]


def read_inventory(path: str | Path) -> Inventory:
    """Read and check an inventory TOML file (docs/inventory.md).

    Raises
    ------
    InventoryError
        Every problem as ``file:where:field: reason`` (``streams[2].ncv:unit: …``); unknown tables and keys,
        bad numbers, units that do not fit the parameter, negative amounts, carbon contents over 100 %,
        instruments that are not declared.
    """
    p = Path(path)
    f = str(p)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f, [(f, "-", "file", f"无法读取 cannot read: {exc}")]) from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:  # ValueError: an integer of over 4300 digits
        raise InventoryError(f, [(f, "-", "toml", f"不是有效的 TOML / not valid TOML: {exc}")]) from None
    return inventory_from_dict(data, f)


def inventory_from_dict(data: dict[str, Any], file: str = "<inventory>") -> Inventory:
    """Check an inventory given as the dict its TOML parses to (tables ``inventory``, ``instruments``,
    ``streams``); ``file`` names it in errors. Raises :class:`InventoryError` as :func:`read_inventory` does."""
    f = file
    problems: list[tuple[str, str, str, str]] = []
    for key in data:
        if key not in ("inventory", "instruments", "streams"):
            problems.append((f, key, key, "未知的表 unknown table (inventory, instruments, streams)"))
    header: InventoryHeader | None = None
    try:
        header = InventoryHeader.model_validate(data.get("inventory", {}))
    except ValidationError as exc:
        for e in exc.errors():
            w, fld = _loc(e["loc"])
            problems.append((f, "inventory" + ("" if w == "-" else "." + w), fld, e["msg"]))
    instruments: dict[str, InstrumentSpec] = {}
    raw_inst = data.get("instruments", [])
    if not isinstance(raw_inst, list):
        problems.append((f, "instruments", "instruments", "must be an array of tables [[instruments]]"))
        raw_inst = []
    for i, d in enumerate(raw_inst, start=1):
        try:
            spec = InstrumentSpec.model_validate(d)
        except ValidationError as exc:
            for e in exc.errors():
                w, fld = _loc(e["loc"])
                problems.append((f, f"instruments[{i}]" + ("" if w == "-" else "." + w), fld, e["msg"]))
            continue
        if spec.id in instruments:
            problems.append((f, f"instruments[{i}]", "id", f"器具 {spec.id!r} 重复 / declared twice"))
        instruments[spec.id] = spec
    streams: list[StreamSpec] = []
    raw_streams = data.get("streams", [])
    if not isinstance(raw_streams, list) or not raw_streams:
        problems.append((f, "streams", "streams", "清单没有源流 / the inventory has no [[streams]]"))
        raw_streams = []
    names: set[str] = set()
    for i, d in enumerate(raw_streams, start=1):
        where = f"streams[{i}]"
        try:
            s = StreamSpec.model_validate(d)
        except ValidationError as exc:
            for e in exc.errors():
                w, fld = _loc(e["loc"])
                problems.append((f, where + ("" if w == "-" else "." + w), fld, e["msg"]))
            continue
        if s.name in names:
            problems.append((f, where, "name", f"源流 {s.name!r} 重复 / stream declared twice"))
        names.add(s.name)
        problems += [(f, where + "." + w, fld, r) for w, fld, r in _check_stream(s, instruments)]
        streams.append(s)
    if problems or header is None:
        raise InventoryError(f, problems)
    return Inventory(header, instruments, tuple(streams), f)


#: Largest value a parameter may take in its canonical unit (10¹⁵ t is a million times the world's coal use):
#: beyond it a figure is a typo, and products of such figures overflow.
MAX_VALUE = 1e15

#: canonical unit of each parameter (the value is converted to it; a unit that cannot be is refused)
_UNITS: dict[str, tuple[str, ...]] = {
    "ncv": ("GJ/t", "GJ/Nm3"),
    "carbon_content": ("1", "tC/GJ", "tC/Nm3"),
    "oxidation_rate": ("1",),
    "purity": ("1",),
    "factor": ("tCO2/MWh", "tCO2/GJ"),
    "enthalpy": ("kJ/kg",),
    "steam": ("t",),
    "volume": ("Nm3",),
    "activity": ("t", "Nm3", "MWh", "GJ"),
    "amount": ("t", "Nm3"),
}


def canonical(param: str, value: float, unit: str) -> tuple[float, str]:
    """``value`` in ``unit`` expressed in the canonical unit of ``param`` (``%`` → fraction) — or ValueError."""
    targets = _UNITS[param]
    u = unit.strip()
    for t in targets:
        try:
            if is_convertible(u, t):
                return float(convert(value, u, t)), t
        except QuantityError:
            break
    raise ValueError(f"单位 {unit!r} 不适用于 {param} / unit {unit!r} does not fit {param} "
                     f"(expected one of {', '.join(targets)})")


def _check_param(name: str, p: ParamSpec, instruments: dict[str, InstrumentSpec], base: str
                 ) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    if p.value is not None and p.unit is not None:
        try:
            v, unit = canonical(base, p.value, p.unit)
        except ValueError as exc:
            return [(name, "unit", str(exc))]
        if v < 0:
            out.append((name, "value", f"不能为负 must not be negative ({p.value} {p.unit})"))
        elif v > MAX_VALUE:
            out.append((name, "value", (f"数值不合理 implausibly large ({p.value} {p.unit}; at most {MAX_VALUE:g} in "
                                       f"{unit})")))
        if unit == "1" and base in ("carbon_content", "oxidation_rate", "purity") and v > 1.0 + 1e-12:
            out.append((name, "value", f"超过 100 % / over 100 % ({p.value} {p.unit})"))
    for fld, inst in (("instrument", p.instrument), ("analyser", p.analyser)):
        if inst and inst not in instruments:
            out.append((name, fld, f"器具 {inst!r} 未在 [[instruments]] 中声明 / instrument not declared"))
    return out


def _check_stream(s: StreamSpec, instruments: dict[str, InstrumentSpec]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for fld, base in (("activity", "activity"), ("ncv", "ncv"), ("carbon_content", "carbon_content"),
                      ("oxidation_rate", "oxidation_rate"), ("volume", "volume"), ("purity", "purity"),
                      ("factor", "factor"), ("steam", "steam"), ("enthalpy", "enthalpy")):
        p = getattr(s, fld)
        if p is not None:
            out += _check_param(fld, p, instruments, base)
    for side in ("inputs", "outputs"):
        for i, item in enumerate(getattr(s, side), start=1):
            out += _check_param(f"{side}[{i}].amount", item.amount, instruments, "amount")
            out += _check_param(f"{side}[{i}].carbon", item.carbon, instruments, "carbon_content")
    return [(w, f, r) for w, f, r in out]
