"""The plan's optional streams table (源流类别): each source stream's kind, material, form, carbon-balance group
and steam enthalpy — read from TOML, CSV and XLSX alike, its rules refused naming file, row and field, diffed,
and a plan without it read, hashed and written exactly as before the table existed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carbonmet.sites import (
    STREAM_KINDS,
    MonitoringPlan,
    PlanError,
    PlanParameterRow,
    PlanStreamRow,
    diff,
    plan_hash,
    plan_tables,
    plan_to_toml,
    read_plan,
)

from .test_plan import PLAN, _row, _write_csv


def _stream(code: str, kind: str, **kw: object) -> PlanStreamRow:
    return PlanStreamRow.model_validate({"source_stream": code, "kind": kind, **kw})


def _ad(stream: str, unit: str = "t") -> PlanParameterRow:
    """The activity-data row of a stream, from its own metering point."""
    return _row(source_stream=stream, unit=unit, ref=f"E01.{stream.upper()}", instruments=(f"M-{stream}",))


#: A coal-to-methanol plan with a stream row for each kind the accounting distinguishes.
STREAMED = MonitoringPlan(
    PLAN.header,
    (*PLAN.parameters, _ad("gasifier_coal"), _ad("methanol"), _ad("gasifier_slag"), _ad("boiler_ash"),
     _ad("purchased_steam"), _ad("rectisol_vent", "Nm3")),
    PLAN.changes,
    (
        _stream("gasifier_coal", "raw_material", balance="gasification"),
        _stream("methanol", "product", balance="gasification", material="methanol"),
        _stream("gasifier_slag", "waste", balance="gasification"),
        _stream("boiler_coal", "fuel_combustion", material="bituminous_coal", form="per_mass"),
        _stream("boiler_ash", "residue", balance="boiler_coal"),
        _stream("natural_gas", "fuel_combustion", material="natural_gas", form="per_heat", note="管网气 pipeline"),
        _stream("purchased_steam", "purchased_heat", material="steam", enthalpy_kj_per_kg=2990.0,
                enthalpy_u_rel=2.0, note="supply-condition enthalpy [A]"),
        _stream("rectisol_vent", "measured_emission"),
    ),
)


def _xlsx(path: Path, plan: MonitoringPlan) -> Path:
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for t, (cols, rows) in plan_tables(plan).items():
        ws = wb.create_sheet(t)
        ws.append(cols)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_stream_kinds_are_the_thirteen_the_accounting_distinguishes() -> None:
    assert STREAM_KINDS == ("fuel_combustion", "raw_material", "product", "by_product", "waste", "residue",
                            "co2_recovered", "purchased_electricity", "exported_electricity", "purchased_heat",
                            "exported_heat", "measured_emission", "other")


def test_toml_csv_and_xlsx_read_the_same_streams(tmp_path: Path) -> None:
    toml = tmp_path / "E01.toml"
    toml.write_text(plan_to_toml(STREAMED), encoding="utf-8")
    assert "[[streams]]" in toml.read_text(encoding="utf-8")
    assert read_plan(toml) == STREAMED
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    assert read_plan(_write_csv(csv_dir, STREAMED)) == STREAMED
    assert read_plan(csv_dir / "E01-streams.csv") == STREAMED  # the streams file names the plan too
    assert read_plan(_xlsx(tmp_path / "E01.xlsx", STREAMED)) == STREAMED
    assert list(plan_tables(STREAMED)) == ["plan", "parameters", "changes", "streams"]


def test_a_plan_finds_the_stream_row_of_a_code() -> None:
    steam = STREAMED.stream("purchased_steam")
    assert steam is not None and (steam.kind, steam.enthalpy_kj_per_kg, steam.enthalpy_u_rel) == (
        "purchased_heat", 2990.0, 2.0)
    assert STREAMED.stream("flare") is None and PLAN.stream("boiler_coal") is None


def test_a_plan_without_streams_reads_hashes_and_writes_as_before(tmp_path: Path) -> None:
    """Pinned values computed with the code before the streams table existed (main at 6212c84)."""
    assert PLAN.streams == ()
    assert plan_hash(PLAN) == "1c64fbba9642f3c0bfb6d06e37f83a8df21070b7bd858b83cee374f6b4a83f4e"
    text = plan_to_toml(PLAN)
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "2ef1ae8323f7b2eaf154c0a900edc028047fc45773ab21e8b373032af4f40e11")
    assert list(plan_tables(PLAN)) == ["plan", "parameters", "changes"]
    f = tmp_path / "E01.toml"
    f.write_text(text, encoding="utf-8")
    assert read_plan(f) == PLAN
    # the streams content changes the hash; the order of stream rows does not
    assert plan_hash(STREAMED) != plan_hash(replace(STREAMED, streams=()))
    assert plan_hash(STREAMED) == plan_hash(replace(STREAMED, streams=tuple(reversed(STREAMED.streams))))
    assert plan_hash(replace(STREAMED, streams=())) == plan_hash(MonitoringPlan(STREAMED.header,
                                                                                STREAMED.parameters, PLAN.changes))


def _with(plan: MonitoringPlan, code: str, **update: object) -> MonitoringPlan:
    """``plan`` with the stream row of ``code`` changed (row models are not re-validated: the reader checks)."""
    return replace(plan, streams=tuple(r.model_copy(update=update) if r.source_stream == code else r
                                       for r in plan.streams))


def _row_of(code: str) -> int:
    """Spreadsheet row of a stream in the streams file of STREAMED (header = 1)."""
    return 2 + [r.source_stream for r in STREAMED.streams].index(code)


@pytest.mark.parametrize(
    ("plan", "row", "field", "reason"),
    [
        (replace(STREAMED, streams=(*STREAMED.streams, _stream("methanol", "by_product", balance="gasification"))),
         len(STREAMED.streams) + 2, "source_stream", r"stream methanol is already given \(row 3\)"),
        (_with(STREAMED, "methanol", balance=None), _row_of("methanol"), "balance", "names its carbon-balance group"),
        (_with(STREAMED, "gasifier_slag", balance="shift"), _row_of("gasifier_slag"), "balance",
         "'shift' has no raw_material stream"),
        (_with(STREAMED, "boiler_ash", balance="gasifier_coal"), _row_of("boiler_ash"), "balance",
         "not a fuel_combustion stream"),
        (_with(STREAMED, "boiler_ash", balance=None), _row_of("boiler_ash"), "balance", "names the fuel_combustion"),
        (_with(STREAMED, "boiler_coal", material=None), _row_of("boiler_coal"), "material", "names its material"),
        (_with(STREAMED, "purchased_steam", enthalpy_kj_per_kg=None, enthalpy_u_rel=None),
         _row_of("purchased_steam"), "enthalpy_kj_per_kg", r"heat metered as a mass needs .*enthalpy"),
        (_with(STREAMED, "natural_gas", enthalpy_u_rel=1.0), _row_of("natural_gas"), "enthalpy_u_rel",
         "uncertainty without an enthalpy"),
        (replace(STREAMED, streams=(*STREAMED.streams, _stream("flare", "measured_emission"))),
         len(STREAMED.streams) + 2, "source_stream", "flare has no parameter rows"),
        (_with(STREAMED, "methanol", form="per_mass"), _row_of("methanol"), "form", "not product"),
        (_with(STREAMED, "rectisol_vent", balance="gasification"), _row_of("rectisol_vent"), "balance",
         "belongs to no carbon balance"),
        (_with(STREAMED, "natural_gas", enthalpy_kj_per_kg=3000.0), _row_of("natural_gas"), "enthalpy_kj_per_kg",
         "applies to heat streams"),
    ],
)
def test_each_stream_rule_is_refused_naming_file_row_and_field(tmp_path: Path, plan: MonitoringPlan, row: int,
                                                               field: str, reason: str) -> None:
    with pytest.raises(PlanError) as exc:
        read_plan(_write_csv(tmp_path, plan))
    found = [(Path(p.file).name, p.row, p.field) for p in exc.value.problems]
    assert found == [("E01-streams.csv", row, field)]
    assert re.search(reason, exc.value.problems[0].reason), exc.value.problems[0].reason
    # TOML names the n-th [[streams]] table
    toml = tmp_path / "E01.toml"
    toml.write_text(plan_to_toml(plan), encoding="utf-8")
    with pytest.raises(PlanError) as exc2:
        read_plan(toml)
    assert [(p.row, p.field) for p in exc2.value.problems] == [(f"streams[{row - 1}]", field)]


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("kind", "fuel", r"E01-streams\.csv:5:kind: Input should be 'fuel_combustion'"),
        ("enthalpy_kj_per_kg", "-5", r"E01-streams\.csv:5:enthalpy_kj_per_kg: Input should be greater than 0"),
        ("enthalpy_kj_per_kg", "inf", r"E01-streams\.csv:5:enthalpy_kj_per_kg: .*not a finite number"),
        ("enthalpy_u_rel", "-1", r"E01-streams\.csv:5:enthalpy_u_rel: Input should be greater than or equal to 0"),
        ("form", "per_volume", r"E01-streams\.csv:5:form: Input should be 'per_heat' or 'per_mass'"),
        ("material", "bituminous coal", r"E01-streams\.csv:5:material: .*a code may hold only"),
        ("material", "x" * 65, r"E01-streams\.csv:5:material: String should have at most 64 characters"),
        ("balance", "=1+1", r"E01-streams\.csv:5:balance: .*a code may hold only"),
    ],
)
def test_a_bad_stream_cell_names_file_row_and_field(tmp_path: Path, column: str, value: str, match: str) -> None:
    with pytest.raises(PlanError, match=match):
        read_plan(_write_csv(tmp_path, STREAMED, {("streams", 5, column): value}))


def test_an_unknown_streams_column_is_named(tmp_path: Path) -> None:
    p = tmp_path / "E01.toml"
    p.write_text(plan_to_toml(STREAMED).replace('kind = "residue"', 'kind = "residue"\nfuel = "boiler_coal"'),
                 encoding="utf-8")
    with pytest.raises(PlanError, match=r"E01\.toml:streams\[5\]:fuel: unknown column for table streams"):
        read_plan(p)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.fixed_dictionaries({c: st.one_of(st.none(), st.sampled_from(["", "0", "-1", "nan", "1e400",
                                                                             "gasification", "boiler_coal"]),
                                                 st.sampled_from(STREAM_KINDS), st.text(max_size=12))
                                    for c in ("kind", "material", "form", "balance", "enthalpy_kj_per_kg",
                                              "enthalpy_u_rel")}))
def test_any_streams_row_reads_or_is_refused_naming_the_streams_file(tmp_path: Path,
                                                                     cells: dict[str, str | None]) -> None:
    """Whatever the cells of the purchased-steam row say, the plan reads or PlanError names that row's cells."""
    d = tmp_path / "h"
    d.mkdir(exist_ok=True)
    edit = {("streams", _row_of("purchased_steam"), k): ("" if v is None else v) for k, v in cells.items()}
    try:
        plan = read_plan(_write_csv(d, STREAMED, edit))
    except PlanError as exc:
        assert exc.problems
        for p in exc.problems:
            assert Path(p.file).name == "E01-streams.csv"
            assert p.row == _row_of("purchased_steam") or (p.row, p.field) == ("-", "encoding")  # a NUL byte
    else:
        steam = plan.stream("purchased_steam")
        assert steam is not None and steam.kind in STREAM_KINDS
        assert plan.parameters == STREAMED.parameters


def test_diff_lists_stream_rows_added_removed_and_changed() -> None:
    new = _with(STREAMED, "purchased_steam", enthalpy_kj_per_kg=2950.0, note=None)
    new = replace(new, streams=tuple(r for r in new.streams if r.source_stream != "rectisol_vent"))
    d = diff(STREAMED, new)
    assert d and not d.parameters and not d.header
    assert [(c.source_stream, c.change) for c in d.streams] == [("purchased_steam", "changed"),
                                                              ("rectisol_vent", "removed")]
    assert {(f.field, f.old, f.new) for f in d.streams[0].fields} == {
        ("enthalpy_kj_per_kg", 2990.0, 2950.0), ("note", "supply-condition enthalpy [A]", None)}
    flat = d.rows()
    assert {"change": "stream-changed", "source_stream": "purchased_steam", "parameter": "",
            "field": "enthalpy_kj_per_kg", "old": "2990.0", "new": "2950.0"} in flat
    assert {"change": "stream-removed", "source_stream": "rectisol_vent", "parameter": "", "field": "kind",
            "old": "measured_emission", "new": ""} in flat
    # a plan that gains its streams table: every stream row is added; parameters unchanged
    gained = diff(replace(STREAMED, streams=()), STREAMED)
    assert {c.change for c in gained.streams} == {"added"} and len(gained.streams) == len(STREAMED.streams)
    assert not diff(STREAMED, STREAMED)


def test_heat_metered_as_energy_needs_no_enthalpy(tmp_path: Path) -> None:
    params = tuple(r.model_copy(update={"unit": "GJ"}) if r.source_stream == "purchased_steam" else r
                   for r in STREAMED.parameters)
    plan = _with(replace(STREAMED, parameters=params), "purchased_steam", enthalpy_kj_per_kg=None, enthalpy_u_rel=None)
    f = tmp_path / "E01.toml"
    f.write_text(plan_to_toml(plan), encoding="utf-8")
    steam = read_plan(f).stream("purchased_steam")
    assert steam is not None and steam.enthalpy_kj_per_kg is None
