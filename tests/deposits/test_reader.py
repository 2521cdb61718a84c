"""Reading a monthly deposit file: every row checked against the month's plan; a bad row refuses the file and
each problem names file, row and field."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carbonmet.deposits import DepositError, read_deposit_file

from ._plan import COLUMNS, EVIDENCE, PLAN, good_rows, write_deposit


def _read(path: Path, month: str = "2025-03"):  # type: ignore[no-untyped-def]
    return read_deposit_file(path, enterprise="E01", month=month, plan=PLAN)


def test_a_good_file_reads_every_row_with_its_evidence_hashed(tmp_path: Path) -> None:
    f = write_deposit(tmp_path, good_rows(), evidence=EVIDENCE)
    df = _read(f)
    assert (df.enterprise, df.month, df.plan_version, len(df.rows)) == ("E01", "2025-03", 1, 4)
    assert df.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    coal = df.rows[0]
    assert (coal.row, coal.source_stream, coal.parameter, coal.value, coal.unit) == (
        2, "boiler_coal", "activity_data", 52956.69, "t")
    assert [(e.name, e.kind, e.sha256) for e in coal.evidence] == [
        ("ledger/coal-2025-03.txt", "ledger", hashlib.sha256(EVIDENCE["ledger/coal-2025-03.txt"]).hexdigest())]
    ng = df.rows[3]
    assert [(e.name, e.kind) for e in ng.evidence] == [("lab/ng-2025-03.txt", "lab_report"),
                                                       ("ledger/coal-2025-03.txt", "other")]
    assert df.rows[2].note == "月度加权 monthly weighted"


def test_xlsx_reads_the_same_rows(tmp_path: Path) -> None:
    csv_file = write_deposit(tmp_path, good_rows(), evidence=EVIDENCE)
    wb = Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))  # type: ignore[union-attr]
    for r in good_rows():
        ws.append([r.get(c) for c in COLUMNS])  # type: ignore[union-attr]
    wb.save(tmp_path / "E01-2025-03.xlsx")
    a, b = _read(csv_file), _read(tmp_path / "E01-2025-03.xlsx")
    assert [(r.source_stream, r.parameter, r.value, r.unit, r.evidence) for r in a.rows] == [
        (r.source_stream, r.parameter, r.value, r.unit, r.evidence) for r in b.rows]


def _bad(**change: object) -> list[dict[str, object]]:
    rows = good_rows()
    rows[1] = {**rows[1], **change}
    return rows


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"source_stream": "coke_oven_gas"}, "source_stream", "not a source stream"),
    ({"parameter": "moisture"}, "parameter", "has no parameter 'moisture'"),
    ({"unit": "t"}, "unit", "does not convert to the plan's unit '%'"),
    ({"unit": "bananas"}, "unit", "unknown unit"),
    ({"value": "nan"}, "value", "not a finite number"),
    ({"value": "inf"}, "value", "not a finite number"),
    ({"value": "-3"}, "value", "cannot be negative"),
    ({"value": "60,66"}, "value", "not a number"),
    ({"value": ""}, "value", "missing"),
    ({"evidence": "lab/missing.pdf"}, "evidence", "supporting file not found: 'lab/missing.pdf'"),
    ({"evidence": ""}, "evidence", "needs at least one supporting file"),
    ({"evidence": "../outside.txt"}, "evidence", "outside the deposit file's folder"),
    ({"evidence": "/etc/hostname"}, "evidence", "relative to the deposit file"),
    ({"evidence_kind": "photo"}, "evidence_kind", "unknown evidence kind 'photo'"),
    ({"evidence_kind": "lab_report;ledger"}, "evidence_kind", "2 kinds for 1 files"),
    ({"parameter": "activity_data", "unit": "t"}, "parameter", "given twice (first in row 2)"),
    ({"source_stream": "purchased_steam", "parameter": "activity_data", "unit": "t"}, "source_stream",
     "not a source stream"),  # in the plan only from July
    ({"source_stream": "a b"}, "source_stream", "a code may hold only"),
])
def test_a_bad_row_refuses_the_file_naming_row_and_field(tmp_path: Path, change: dict[str, object], field: str,
                                                          words: str) -> None:
    (tmp_path / "outside.txt").write_bytes(b"x")
    f = write_deposit(tmp_path / "dep", _bad(**change), evidence=EVIDENCE)
    with pytest.raises(DepositError) as exc:
        _read(f)
    assert [(p.file, p.row, p.field) for p in exc.value.problems] == [(str(f), 3, field)], exc.value.problems
    assert words in exc.value.problems[0].reason
    assert f"{f}:3:{field}:" in str(exc.value)


def test_the_same_stream_is_accepted_in_a_month_its_plan_row_is_valid(tmp_path: Path) -> None:
    rows = [{"source_stream": "purchased_steam", "parameter": "activity_data", "value": 1200, "unit": "kg",
             "evidence": "ledger/coal-2025-03.txt"}]
    df = _read(write_deposit(tmp_path, rows, evidence=EVIDENCE), month="2025-07")
    assert (df.rows[0].value, df.rows[0].unit, df.rows[0].plan_unit) == (1200.0, "kg", "t")


def test_every_problem_of_a_file_is_listed(tmp_path: Path) -> None:
    rows = good_rows()
    rows[0] = {**rows[0], "unit": "Nm3"}
    rows[3] = {**rows[3], "value": "NaN", "evidence": "nope.pdf"}
    f = write_deposit(tmp_path, rows, evidence=EVIDENCE)
    with pytest.raises(DepositError) as exc:
        _read(f)
    assert [(p.row, p.field) for p in exc.value.problems] == [(2, "unit"), (5, "value"), (5, "evidence")]


@pytest.mark.parametrize(("columns", "field", "words"), [
    (("source_stream", "parameter", "value", "evidence"), "unit", "missing column 'unit'"),
    ((*COLUMNS, "colour"), "colour", "unknown column 'colour'"),
])
def test_missing_and_unknown_columns_are_named(tmp_path: Path, columns: tuple[str, ...], field: str,
                                               words: str) -> None:
    f = write_deposit(tmp_path, good_rows(), evidence=EVIDENCE, columns=columns)
    with pytest.raises(DepositError) as exc:
        _read(f)
    assert [(p.row, p.field) for p in exc.value.problems] == [(1, field)]
    assert words in exc.value.problems[0].reason


def test_a_file_for_another_enterprise_or_a_bad_month_is_refused(tmp_path: Path) -> None:
    f = write_deposit(tmp_path, good_rows(), evidence=EVIDENCE)
    with pytest.raises(DepositError, match="the plan is E01's, not E02's"):
        read_deposit_file(f, enterprise="E02", month="2025-03", plan=PLAN)
    for month in ("2025-13", "2025-3", "25-03", "1999-12"):
        with pytest.raises(DepositError) as exc:
            _read(f, month=month)
        assert exc.value.problems[0].field == "month"


def test_an_empty_file_and_a_non_table_are_refused(tmp_path: Path) -> None:
    f = write_deposit(tmp_path, [], evidence=EVIDENCE)
    with pytest.raises(DepositError, match="the file has no rows"):
        _read(f)
    bad = tmp_path / "E01.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(DepositError) as exc:
        _read(bad)
    assert exc.value.problems[0].field == "file"


_cell = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.sampled_from(["boiler_coal", "natural_gas", "activity_data", "carbon_content", "t", "%",
                                   "kg/Nm3", "MJ/kg", "ledger/coal-2025-03.txt", "lab_report", "../x", ""]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(_cell, min_size=8, max_size=8), min_size=1, max_size=4))
def test_any_cells_read_or_are_refused_naming_the_file(tmp_path: Path, cells: list[list[str]]) -> None:
    """Whatever the cells hold, the reader returns checked rows or a DepositError whose every problem names the
    file and a row of it — never another exception."""
    d = tmp_path / "h"
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in cells]
    f = write_deposit(d, rows, evidence=EVIDENCE)  # type: ignore[arg-type]
    try:
        df = _read(f)
    except DepositError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file == str(f)
            assert p.row == "-" or (isinstance(p.row, int) and 1 <= p.row <= len(cells) + 1)
        return
    for r in df.rows:
        assert r.evidence and r.value >= 0
