"""The monitoring plan (数据质量控制计划): which parameter comes from which point, lab stream or default.

A plan is a header (:class:`PlanHeader`: enterprise, version, valid_from), one row per parameter
(:class:`PlanParameterRow`), a change log (:class:`PlanChangeRow`) and, optionally, one row per source
stream saying what kind of stream it is and how it is accounted (:class:`PlanStreamRow`). The same row
models read CSV, XLSX and TOML (format: ``docs/formats/monitoring-plan.md``), so a plan is checked the
same way whichever file it comes in; :class:`MonitoringPlan` maps to tables as header + rows.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..quantities import CarbonmetError, UnitError, parse_unit
from ..quantities.rules import check_finite, code_problem
from ..tabular import Sheet, TabularError, read_csv, read_xlsx
from ._model import (
    EmissionSource,
    Enterprise,
    Parameter,
    ParameterKind,
    ParameterSource,
    Site,
    SourceKind,
    SourceStream,
    StreamKind,
)

_CFG = ConfigDict(str_strip_whitespace=True, extra="forbid", coerce_numbers_to_str=True, frozen=True)


def _code(v: str) -> str:
    """The one identifier rule (:func:`carbonmet.quantities.rules.check_code`) for code fields."""
    problem = code_problem(v)
    if problem is not None:
        raise ValueError(problem)
    return v


def _opt_code(v: str | None) -> str | None:
    """:func:`_code` for an optional field (``None`` = not given)."""
    return None if v is None else _code(v)


Frequency = Literal["continuous", "per_batch", "daily", "weekly", "monthly", "quarterly", "yearly", "per_delivery",
                    "once"]
"""How often a parameter is measured or determined (监测频次)."""


class PlanHeader(BaseModel):
    """The plan's header: whose plan, which version, from when (计划版本)."""

    model_config = _CFG
    enterprise: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    valid_from: date
    title: str | None = Field(default=None, max_length=200)
    approved_by: str | None = Field(default=None, max_length=96)

    _codes = field_validator("enterprise")(_code)


class PlanChangeRow(BaseModel):
    """One change-log entry (修订记录): which version, when, who, why."""

    model_config = _CFG
    version: int = Field(ge=1)
    changed_on: date
    by: str = Field(min_length=1, max_length=96)
    reason: str = Field(min_length=1, max_length=1000)


class PlanParameterRow(BaseModel):
    """One parameter of the plan: its source stream, source, method, frequency, instruments, who answers for it."""

    model_config = _CFG
    site_code: str = Field(min_length=1, max_length=64)
    emission_source: str = Field(min_length=1, max_length=96)
    source_stream: str = Field(min_length=1, max_length=96)
    parameter: ParameterKind
    unit: str = Field(min_length=1, max_length=48)
    source: SourceKind
    ref: str = Field(min_length=1, max_length=96)
    method: str | None = Field(default=None, max_length=200)
    frequency: Frequency
    instruments: tuple[str, ...] = ()
    responsible: str = Field(min_length=1, max_length=96)
    valid_from: date | None = None
    valid_to: date | None = None
    note: str | None = Field(default=None, max_length=1000)

    _codes = field_validator("site_code", "source_stream")(_code)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        try:
            parse_unit(v)
        except UnitError as exc:
            raise ValueError(str(exc)) from exc
        return v

    @field_validator("instruments", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(x.strip() for x in v.split(";") if x.strip())
        return v

    @model_validator(mode="after")
    def _rules(self) -> PlanParameterRow:
        if self.source == "default" and self.instruments:
            raise ValueError("a default value (缺省值) is measured by no instrument; leave instruments empty")
        if self.source == "point" and not self.instruments:
            raise ValueError("a parameter from a metering point names the instrument(s) that measure it")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self

    @property
    def key(self) -> tuple[str, str]:
        """(source_stream, parameter): what identifies a row within a plan."""
        return (self.source_stream, self.parameter)


#: Stream kinds whose carbon enters or leaves a carbon mass balance (碳质量平衡): they name their ``balance``.
BALANCE_KINDS: tuple[str, ...] = ("raw_material", "product", "by_product", "waste")
#: Stream kinds of heat (热力): steam measured in mass needs its specific enthalpy.
HEAT_KINDS: tuple[str, ...] = ("purchased_heat", "exported_heat")


class PlanStreamRow(BaseModel):
    """One source stream of the plan (源流): what kind it is and what the accounting needs to treat it.

    Attributes
    ----------
    source_stream : str
        The stream's code, as in the parameter rows (``gasifier_coal``).
    kind : StreamKind
        How the accounting treats it (:data:`~carbonmet.sites.STREAM_KINDS`).
    material : str, optional
        Subject key of the default-value tables (``bituminous_coal``, ``natural_gas``, ``methanol``, ``steam``,
        grid scope ``national``), at most 64 characters.
    form : {"per_heat", "per_mass"}, optional
        Fuels only: per heat AD × NCV × CC × OF, or per mass AD × C × OF.
    balance : str, optional
        Raw material, product, by-product, waste: the carbon-balance group it belongs to (``gasification``);
        residue (ash, slag): the ``fuel_combustion`` stream whose oxidation it measures.
    enthalpy_kj_per_kg : float, optional
        Heat streams: specific enthalpy of the steam at the supply condition [kJ/kg] (> 0).
    enthalpy_u_rel : float, optional
        Relative standard uncertainty of ``enthalpy_kj_per_kg`` [%] (≥ 0).
    note : str, optional
    """

    model_config = _CFG
    source_stream: str = Field(min_length=1, max_length=96)
    kind: StreamKind
    material: str | None = Field(default=None, min_length=1, max_length=64)
    form: Literal["per_heat", "per_mass"] | None = None
    balance: str | None = Field(default=None, min_length=1, max_length=96)
    enthalpy_kj_per_kg: float | None = Field(default=None, gt=0)
    enthalpy_u_rel: float | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=1000)

    _codes = field_validator("source_stream")(_code)
    _opt_codes = field_validator("material", "balance")(_opt_code)

    @field_validator("enthalpy_kj_per_kg", "enthalpy_u_rel")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        return check_finite(v, "number")


TABLES: dict[str, type[BaseModel]] = {"plan": PlanHeader, "parameters": PlanParameterRow, "changes": PlanChangeRow,
                                      "streams": PlanStreamRow}
"""The tables of a plan file and their row models (CSV file suffix, XLSX sheet, TOML table); ``streams`` is
optional (a plan without it is valid)."""


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One bad field of one row of a plan file (the header row of CSV/XLSX is row 1)."""

    file: str
    row: int | str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.reason}"


class PlanError(CarbonmetError, ValueError):
    """A plan file was refused; ``problems`` lists every bad field (file, row, field, reason)."""

    def __init__(self, file: str, problems: list[PlanProblem]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:200])
        super().__init__(f"{file}: 监测计划有 {len(problems)} 处错误 / monitoring plan has {len(problems)} "
                         f"problem(s):\n{lines}")


@dataclass(frozen=True, slots=True)
class MonitoringPlan:
    """A version of an enterprise's monitoring plan: header, parameter rows, change log and (optional) the
    kind of each source stream (``streams``: empty in plans written before the table existed)."""

    header: PlanHeader
    parameters: tuple[PlanParameterRow, ...]
    changes: tuple[PlanChangeRow, ...] = ()
    streams: tuple[PlanStreamRow, ...] = ()

    @property
    def enterprise(self) -> str:
        return self.header.enterprise

    @property
    def version(self) -> int:
        return self.header.version

    def rows_for(self, source_stream: str) -> list[PlanParameterRow]:
        """Parameter rows of one source stream."""
        return [r for r in self.parameters if r.source_stream == source_stream]

    def stream(self, code: str) -> PlanStreamRow | None:
        """The ``streams`` row of a source stream (its kind, material, form …); None if the plan gives none."""
        return next((r for r in self.streams if r.source_stream == code), None)

    def model(self) -> Enterprise:
        """The enterprise model the plan describes (site → emission source → source stream → parameter)."""
        tree: dict[str, dict[str, dict[str, list[Parameter]]]] = {}
        for r in self.parameters:
            tree.setdefault(r.site_code, {}).setdefault(r.emission_source, {}).setdefault(r.source_stream, []).append(
                Parameter(r.parameter, r.unit, ParameterSource(r.source, r.ref), r.valid_from, r.valid_to))
        return Enterprise(self.enterprise, tuple(
            Site(s, tuple(EmissionSource(e, tuple(SourceStream(st, tuple(ps)) for st, ps in streams.items()))
                          for e, streams in sources.items()))
            for s, sources in tree.items()))

    def point_refs(self) -> set[str]:
        """Metering point ids the plan names (as parameter sources)."""
        return {r.ref for r in self.parameters if r.source == "point"}

    def instrument_refs(self) -> set[str]:
        """Instrument ids the plan names."""
        return {i for r in self.parameters for i in r.instruments}


def _is_mass(unit: str) -> bool:
    """Whether a (valid) unit text is a mass (t, kg): steam metered by mass needs an enthalpy."""
    try:
        return parse_unit(unit).dimensionality == parse_unit("kg").dimensionality
    except UnitError:  # pragma: no cover - units were checked by the row model
        return False


def _check_streams(plan: MonitoringPlan, fname: str, rownos: list[int | str]) -> list[PlanProblem]:
    """Rules of the ``streams`` table, each naming the streams file, row and field.

    One row per source stream, and only for a stream the parameter rows have; raw materials, products,
    by-products and wastes name their carbon-balance group, a residue names a ``fuel_combustion`` stream
    of the plan; a fuel names its material; heat whose activity data is a mass gives the steam's
    enthalpy. Fields that mean nothing for a kind (a form for a non-fuel, an enthalpy for a non-heat
    stream, a balance for a stream in no balance) are refused rather than silently ignored.
    """
    out: list[PlanProblem] = []
    by_code: dict[str, tuple[int | str, PlanStreamRow]] = {}
    ad_units: dict[str, set[str]] = {}
    for pr in plan.parameters:
        if pr.parameter == "activity_data":
            ad_units.setdefault(pr.source_stream, set()).add(pr.unit)
    has_params = {pr.source_stream for pr in plan.parameters}
    for n, r in zip(rownos, plan.streams, strict=True):
        if r.source_stream in by_code:
            out.append(PlanProblem(fname, n, "source_stream", f"源流 {r.source_stream} 已在第 {by_code[r.source_stream][0]} "
                                   f"行给出 / stream {r.source_stream} is already given (row {by_code[r.source_stream][0]})"))
        else:
            by_code[r.source_stream] = (n, r)
        if r.source_stream not in has_params:
            out.append(PlanProblem(fname, n, "source_stream", f"源流 {r.source_stream} 没有参数行 / stream "
                                   f"{r.source_stream} has no parameter rows in the plan"))
    groups_with_input = {r.balance for r in plan.streams if r.kind == "raw_material" and r.balance}
    for n, r in zip(rownos, plan.streams, strict=True):
        def bad(field_: str, reason: str, n: int | str = n) -> None:
            out.append(PlanProblem(fname, n, field_, reason))

        if r.kind in BALANCE_KINDS:
            if r.balance is None:
                bad("balance", f"{r.kind} 须注明所属碳平衡 / a {r.kind} stream names its carbon-balance group "
                    "(balance, e.g. gasification)")
            elif r.balance not in groups_with_input:
                bad("balance", f"碳平衡 {r.balance} 没有原料 / carbon-balance group {r.balance!r} has no "
                    "raw_material stream")
        elif r.kind == "residue":
            fuel = by_code.get(r.balance or "")
            if r.balance is None:
                bad("balance", "灰渣须注明其燃料源流 / a residue names the fuel_combustion stream whose oxidation "
                    "it measures (balance)")
            elif fuel is None or fuel[1].kind != "fuel_combustion":
                bad("balance", f"{r.balance!r} 不是本计划的化石燃料燃烧源流 / is not a fuel_combustion stream of "
                    "this plan's streams table")
        elif r.balance is not None:
            bad("balance", f"{r.kind} 不参与碳平衡 / a {r.kind} stream belongs to no carbon balance: leave balance "
                "empty")
        if r.kind == "fuel_combustion" and r.material is None:
            bad("material", "化石燃料须注明燃料品种 / a fuel_combustion stream names its material (the fuel's key "
                "in the default-value tables, e.g. bituminous_coal)")
        if r.form is not None and r.kind != "fuel_combustion":
            bad("form", f"form 只用于化石燃料燃烧 / form applies to fuel_combustion streams, not {r.kind}")
        if r.kind in HEAT_KINDS:
            mass = sorted(u for u in ad_units.get(r.source_stream, ()) if _is_mass(u))
            if mass and r.enthalpy_kj_per_kg is None:
                bad("enthalpy_kj_per_kg", f"热力以质量计量 ({', '.join(mass)}) 须给出蒸汽焓值 / heat metered as a "
                    "mass needs the steam's specific enthalpy at the supply condition [kJ/kg]")
        elif r.enthalpy_kj_per_kg is not None:
            bad("enthalpy_kj_per_kg", f"焓值只用于热力 / an enthalpy applies to heat streams, not {r.kind}")
        if r.enthalpy_u_rel is not None and r.enthalpy_kj_per_kg is None:
            bad("enthalpy_u_rel", "没有焓值的不确定度 / an uncertainty without an enthalpy")
    return out


def _check(plan: MonitoringPlan, fname: str, rownos: list[int | str], sfile: str = "",
           srownos: list[int | str] | None = None) -> list[PlanProblem]:
    """Cross-row rules: one row per (stream, parameter) at a time; the change log covers the version;
    the streams table's rules (:func:`_check_streams`, rows numbered by ``srownos`` in ``sfile``)."""
    out: list[PlanProblem] = []
    seen: dict[tuple[str, str], list[tuple[int | str, PlanParameterRow]]] = {}
    for n, r in zip(rownos, plan.parameters, strict=True):
        for m, other in seen.get(r.key, []):
            a0, a1 = r.valid_from or date.min, r.valid_to or date.max
            b0, b1 = other.valid_from or date.min, other.valid_to or date.max
            if a0 < b1 and b0 < a1:
                out.append(PlanProblem(fname, n, "parameter", f"{r.source_stream}/{r.parameter} is already given "
                                       f"for an overlapping period (row {m})"))
        seen.setdefault(r.key, []).append((n, r))
    if plan.version > 1 and not any(c.version == plan.version for c in plan.changes):
        out.append(PlanProblem(fname, "changes", "version", f"version {plan.version} has no change-log entry "
                               "(修订记录: who, when, why)"))
    for c in plan.changes:
        if c.version > plan.version:
            out.append(PlanProblem(fname, "changes", "version", f"change for version {c.version} is after the plan's "
                                   f"version {plan.version}"))
    if plan.streams:
        out += _check_streams(plan, sfile or fname, srownos if srownos is not None else
                              [f"streams[{i}]" for i in range(1, len(plan.streams) + 1)])
    return out


# --- reading -------------------------------------------------------------------------------------
def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date() if v.time() == datetime.min.time() else v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        return v.strip() or None
    return v


def _validate(fname: str, table: str, rows: Iterable[tuple[int | str, dict[str, Any]]],
              problems: list[PlanProblem]) -> Iterator[tuple[int | str, BaseModel]]:
    model = TABLES[table]
    for n, data in rows:
        unknown = [k for k in data if k not in model.model_fields]
        for k in unknown:
            problems.append(PlanProblem(fname, n, k, f"unknown column for table {table}"))
        try:
            yield n, model.model_validate({k: v for k, v in data.items() if v is not None and k not in unknown})
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"]) or "row"
                problems.append(PlanProblem(fname, n, loc, err["msg"]))


def _plan_error(exc: TabularError) -> PlanError:
    return PlanError(exc.file, [PlanProblem(exc.file, "-" if exc.row is None else exc.row, exc.field, exc.reason)])


def _sheet_rows(sh: Sheet) -> list[tuple[int | str, dict[str, Any]]]:
    """A sheet read by :mod:`carbonmet.tabular` → (row, {column: cell}); a broken row refuses the file."""
    if sh.issues:
        raise PlanError(sh.name, [PlanProblem(sh.name, i.row, i.field, f"{i.code}: {i.detail}") for i in sh.issues])
    return [(n, {h: _cell(v) for h, v in zip(sh.header, cells, strict=True) if h}) for n, cells in sh.rows]


def _csv_rows(path: Path) -> list[tuple[int | str, dict[str, Any]]]:
    try:
        data = path.read_bytes()
        if not data.strip():
            return []
        return _sheet_rows(read_csv(data, str(path)))
    except TabularError as exc:
        raise _plan_error(exc) from None


def _csv_tables(path: Path) -> dict[str, tuple[str, list[tuple[int | str, dict[str, Any]]]]]:
    """``<name>-plan.csv``, ``<name>-parameters.csv``, ``<name>-changes.csv`` beside each other."""
    stem = path.stem
    prefix = stem.rsplit("-", 1)[0] if stem.rsplit("-", 1)[-1] in TABLES else stem
    out = {}
    for t in TABLES:
        p = path.with_name(f"{prefix}-{t}.csv")
        if p.exists():
            out[t] = (str(p), _csv_rows(p))
    return out


def _xlsx_tables(path: Path) -> dict[str, tuple[str, list[tuple[int | str, dict[str, Any]]]]]:
    try:
        sheets = read_xlsx(path, sheets="all")
    except TabularError as exc:
        raise _plan_error(exc) from None
    return {(sh.title or "").strip().lower(): (sh.name, _sheet_rows(sh)) for sh in sheets}


def _toml_tables(path: Path) -> dict[str, tuple[str, list[tuple[int | str, dict[str, Any]]]]]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:  # TOML is UTF-8 by definition
        raise PlanError(str(path), [PlanProblem(str(path), "-", "encoding",
                                                f"not UTF-8 (byte {exc.start}): save the plan as UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(str(path), [PlanProblem(str(path), "-", "toml", str(exc))]) from None
    out: dict[str, tuple[str, list[tuple[int | str, dict[str, Any]]]]] = {}
    for t in TABLES:
        v = doc.get(t)
        if v is None:
            continue
        items = [v] if isinstance(v, dict) else v
        if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
            kind = "[plan]" if t == "plan" else f"[[{t}]]"
            raise PlanError(str(path), [PlanProblem(str(path), t, "toml", f"{t} must be a {kind} table, "
                                                    f"found {type(v).__name__}")])
        out[t] = (str(path), [(f"{t}[{i}]" if t != "plan" else "plan", {k: _cell(x) for k, x in d.items()})
                              for i, d in enumerate(items, start=1)])
    return out


def read_plan(path: str | Path) -> MonitoringPlan:
    """Read a monitoring plan from TOML, XLSX or CSV (docs/formats/monitoring-plan.md).

    Parameters
    ----------
    path : str or Path
        ``*.toml`` (tables ``[plan]``, ``[[parameters]]``, ``[[changes]]``, optional ``[[streams]]``),
        ``*.xlsx`` (sheets ``plan``, ``parameters``, ``changes``, optional ``streams``) or one of
        ``<name>-plan.csv``, ``<name>-parameters.csv``, ``<name>-changes.csv``, ``<name>-streams.csv``
        (the others are read from beside it when present).

    Raises
    ------
    PlanError
        Listing every bad field as ``file:row:field: reason`` (CSV/XLSX: spreadsheet row, header =
        1; TOML: ``parameters[n]``, the n-th ``[[parameters]]`` table, ``streams[n]`` likewise).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            tables = _toml_tables(p)
        elif suffix in (".xlsx", ".xlsm"):
            tables = _xlsx_tables(p)
        elif suffix == ".csv":
            tables = _csv_tables(p)
        else:
            raise PlanError(str(p), [PlanProblem(str(p), "-", "file", f"unsupported file type {suffix!r} "
                                                 "(TOML, XLSX or CSV)")])
    except OSError as exc:
        raise PlanError(str(p), [PlanProblem(str(p), "-", "file", f"cannot read: {exc}")]) from None
    problems: list[PlanProblem] = []
    for t in tables:
        if t not in TABLES:
            problems.append(PlanProblem(tables[t][0], 1, "sheet", f"unknown table {t!r} ({', '.join(TABLES)})"))
    for t in ("plan", "parameters"):
        if t not in tables or not tables[t][1]:
            problems.append(PlanProblem(str(p), "-", t, f"the plan has no {t} table (or it is empty)"))
    if problems:
        raise PlanError(str(p), problems)
    hfile, hrows = tables["plan"]
    if len(hrows) != 1:
        raise PlanError(hfile, [PlanProblem(hfile, "-", "plan", f"one header row expected, found {len(hrows)}")])
    headers = [h for _, h in _validate(hfile, "plan", hrows, problems)]
    pfile, prows = tables["parameters"]
    params = list(_validate(pfile, "parameters", prows, problems))
    cfile, crows = tables.get("changes", (str(p), []))
    changes = [c for _, c in _validate(cfile, "changes", crows, problems)]
    sfile, srows = tables.get("streams", (str(p), []))
    streams = list(_validate(sfile, "streams", srows, problems))
    if problems:
        raise PlanError(str(p), problems)
    plan = MonitoringPlan(headers[0], tuple(r for _, r in params), tuple(changes),  # type: ignore[arg-type,misc]
                          tuple(r for _, r in streams))  # type: ignore[misc]
    problems = _check(plan, pfile, [n for n, _ in params], sfile, [n for n, _ in streams])
    if problems:
        raise PlanError(str(p), problems)
    return plan


# --- writing -------------------------------------------------------------------------------------
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | date):
        return v.isoformat() if isinstance(v, date) else repr(v)
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def _toml_table(name: str, row: BaseModel, array: bool) -> str:
    lines = [f"[[{name}]]" if array else f"[{name}]"]
    for k, v in row.model_dump().items():
        if v is None or v == ():
            continue
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def plan_to_toml(plan: MonitoringPlan) -> str:
    """The plan as TOML text in the documented format (:func:`read_plan` reads it back unchanged)."""
    parts = ["# monitoring plan (数据质量控制计划); format: docs/formats/monitoring-plan.md\n",
             _toml_table("plan", plan.header, False)]
    parts += [_toml_table("changes", c, True) for c in plan.changes]
    parts += [_toml_table("streams", r, True) for r in plan.streams]
    parts += [_toml_table("parameters", r, True) for r in plan.parameters]
    return "\n".join(parts)


def plan_tables(plan: MonitoringPlan) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The plan as tables (columns, rows) for CSV/XLSX or database rows; instruments joined by ``;``.

    ``streams`` is one of the tables only when the plan has stream rows (a plan without them is written
    as before)."""
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}
    tables: list[tuple[str, list[BaseModel]]] = [("plan", [plan.header]), ("parameters", list(plan.parameters)),
                                                 ("changes", list(plan.changes))]
    if plan.streams:
        tables.append(("streams", list(plan.streams)))
    for t, rows in tables:
        cols = list(TABLES[t].model_fields)
        out[t] = (cols, [[";".join(v) if isinstance(v, tuple) else v for v in r.model_dump().values()] for r in rows])
    return out


# --- diff ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class ParameterChange:
    """What happened to one (source stream, parameter) between two plan versions."""

    source_stream: str
    parameter: str
    change: Literal["added", "removed", "changed"]
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class StreamChange:
    """What happened to one source stream's ``streams`` row (its kind, material, …) between two versions."""

    source_stream: str
    change: Literal["added", "removed", "changed"]
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """Differences between two plan versions: header fields, parameters and stream rows added, removed, changed."""

    old_version: int
    new_version: int
    header: tuple[FieldChange, ...] = ()
    parameters: tuple[ParameterChange, ...] = field(default_factory=tuple)
    streams: tuple[StreamChange, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.header or self.parameters or self.streams)

    def rows(self) -> list[dict[str, str]]:
        """One flat row per changed field (change, source_stream, parameter, field, old, new), for tables.

        Stream rows come last, with change ``stream-added``, ``stream-removed`` or ``stream-changed`` and an
        empty parameter."""
        def txt(v: Any) -> str:
            if v is None:
                return ""
            if isinstance(v, tuple):
                return ";".join(v)
            return v.isoformat() if isinstance(v, date) else str(v)

        out = [{"change": "header", "source_stream": "", "parameter": "", "field": f.field, "old": txt(f.old),
                "new": txt(f.new)} for f in self.header]
        for pc in self.parameters:
            if not pc.fields:
                out.append({"change": pc.change, "source_stream": pc.source_stream, "parameter": pc.parameter,
                            "field": "", "old": "", "new": ""})
            for f in pc.fields:
                out.append({"change": pc.change, "source_stream": pc.source_stream, "parameter": pc.parameter,
                            "field": f.field, "old": txt(f.old), "new": txt(f.new)})
        for sc in self.streams:
            change = f"stream-{sc.change}"
            if not sc.fields:
                out.append({"change": change, "source_stream": sc.source_stream, "parameter": "", "field": "",
                            "old": "", "new": ""})
            for f in sc.fields:
                out.append({"change": change, "source_stream": sc.source_stream, "parameter": "", "field": f.field,
                            "old": txt(f.old), "new": txt(f.new)})
        return out


def _fields(a: BaseModel | None, b: BaseModel | None, skip: tuple[str, ...] = ()) -> tuple[FieldChange, ...]:
    da = a.model_dump() if a is not None else {}
    db = b.model_dump() if b is not None else {}
    ref = a if a is not None else b
    names = list(type(ref).model_fields) if ref is not None else []
    return tuple(FieldChange(n, da.get(n), db.get(n)) for n in names if n not in skip and da.get(n) != db.get(n))


def diff(old: MonitoringPlan, new: MonitoringPlan) -> PlanDiff:
    """What changed from ``old`` to ``new``: header fields, parameters (by source stream and kind) and
    stream rows (by source stream) added, removed, or changed field by field. Rows with several validity
    periods are matched by (source_stream, parameter, valid_from). Pure; the plans are not modified."""

    def keyed(p: MonitoringPlan) -> dict[tuple[str, str, date | None], PlanParameterRow]:
        return {(r.source_stream, r.parameter, r.valid_from if _multi(p, r) else None): r for r in p.parameters}

    def _multi(p: MonitoringPlan, r: PlanParameterRow) -> bool:
        return sum(1 for x in p.parameters if x.key == r.key) > 1

    a, b = keyed(old), keyed(new)
    changes: list[ParameterChange] = []
    for k in sorted(set(a) | set(b), key=lambda k: (k[0], k[1], k[2] or date.min)):
        ra, rb = a.get(k), b.get(k)
        if ra is None:
            changes.append(ParameterChange(k[0], k[1], "added", _fields(None, rb)))
        elif rb is None:
            changes.append(ParameterChange(k[0], k[1], "removed", _fields(ra, None)))
        else:
            f = _fields(ra, rb)
            if f:
                changes.append(ParameterChange(k[0], k[1], "changed", f))
    sa = {r.source_stream: r for r in old.streams}
    sb = {r.source_stream: r for r in new.streams}
    streams: list[StreamChange] = []
    for code in sorted(set(sa) | set(sb)):
        ra_, rb_ = sa.get(code), sb.get(code)
        if ra_ is None:
            streams.append(StreamChange(code, "added", _fields(None, rb_)))
        elif rb_ is None:
            streams.append(StreamChange(code, "removed", _fields(ra_, None)))
        elif f := _fields(ra_, rb_):
            streams.append(StreamChange(code, "changed", f))
    return PlanDiff(old.version, new.version, _fields(old.header, new.header), tuple(changes), tuple(streams))
