"""Reading lab files: every row a result or refused naming file, row, field and reason; counts add up; units
converted to the analyte's canonical unit; GBK and XLSX files; hostile rows never raise."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carbonmet.lab import LabError, LabFile, analytes, read_lab_file

HEADER = ["sample_id", "point_id", "sampled_from", "sampled_to", "analyte", "value", "unit", "U", "k", "lab_org",
          "instrument_id", "method", "report_no"]
NCV = {"sample_id": "S1", "point_id": "E01.COAL.LAB", "sampled_from": "2025-03-01T00:00:00+08:00",
       "sampled_to": "2025-03-02T00:00:00+08:00", "analyte": "ncv", "value": "22.70", "unit": "MJ/kg", "U": "0.12",
       "k": "2", "lab_org": "E01", "instrument_id": "CAL-1", "method": "GB/T 213-2008", "report_no": "R-2025-001"}
CARBON = {**NCV, "sample_id": "S2", "analyte": "carbon_content", "value": "59.93", "unit": "%", "U": "0.5",
          "instrument_id": "CHN-1", "method": "GB/T 30733-2014", "report_no": "R-2025-002"}


def _write(path: Path, rows: list[dict[str, str]], header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    cols = header or list(dict.fromkeys(k for r in rows for k in r)) or HEADER
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _check_counts(lf: LabFile) -> None:
    assert lf.rows == len(lf.results) + lf.rejected_rows
    for rej in lf.rejects:
        assert rej.file == lf.file and rej.row is not None and rej.row >= 2 and rej.field and rej.reason
        assert str(rej).startswith(f"{lf.file}:{rej.row}:{rej.field}: ")


def test_a_clean_file_gives_one_result_per_row_in_canonical_units(tmp_path: Path) -> None:
    kj = {**NCV, "sample_id": "S3", "value": "22700", "unit": "kJ/kg", "U": "120"}  # GB/T 213 also reports J/g
    lf = read_lab_file(_write(tmp_path / "lab.csv", [NCV, CARBON, kj]), enterprise="E01")
    _check_counts(lf)
    assert (lf.rows, len(lf.results), lf.rejects) == (3, 3, ())
    ncv, carbon, converted = lf.results
    assert (ncv.value, ncv.unit, ncv.U, ncv.k, ncv.u) == (22.70, "MJ/kg", 0.12, 2.0, 0.06)
    assert (converted.value, converted.unit) == (pytest.approx(22.70), "MJ/kg")
    assert converted.U == pytest.approx(0.12)  # U is converted with the value
    assert (carbon.analyte, carbon.value, carbon.unit, carbon.enterprise) == ("carbon_content", 59.93, "%", "E01")
    assert ncv.sample_key == carbon.sample_key == ("E01.COAL.LAB", datetime(2025, 2, 28, 16, tzinfo=UTC),
                                                  datetime(2025, 3, 1, 16, tzinfo=UTC))
    assert ncv.sampled_from.utcoffset() == timedelta(hours=8)  # aware, as written
    assert (ncv.moisture_basis, ncv.replicates, ncv.batch, ncv.row) == ("ar", None, None, 2)


def test_a_carbon_content_of_150_percent_is_refused_naming_row_and_field(tmp_path: Path) -> None:
    bad = {**CARBON, "sample_id": "S9", "value": "150"}
    lf = read_lab_file(_write(tmp_path / "lab.csv", [NCV, bad]))
    _check_counts(lf)
    assert [r.sample_id for r in lf.results] == ["S1"]
    (rej,) = lf.rejects
    assert (rej.row, rej.field, rej.code) == (3, "value", "out_of_range")
    assert "150" in rej.reason and "0–100 %" in rej.reason and str(rej).startswith(f"{tmp_path / 'lab.csv'}:3:value:")
    assert rej.raw["value"] == "150"  # the row as read, for the quarantine


def test_an_ncv_given_in_percent_is_a_unit_mismatch(tmp_path: Path) -> None:
    lf = read_lab_file(_write(tmp_path / "lab.csv", [{**NCV, "unit": "%"}]))
    (rej,) = lf.rejects
    assert (rej.row, rej.field, rej.code) == (2, "unit", "unit_mismatch")
    assert "MJ/kg | MJ/Nm3" in rej.reason


# one bad value per case → the field and the reason code named
CASES = [
    ("sample_id", "S 1", "sample_id", "bad_code"),
    ("sample_id", "", "sample_id", "missing"),
    ("point_id", "E01..LAB", "point_id", "bad_code"),
    ("sampled_from", "yesterday", "sampled_from", "bad_timestamp"),
    ("sampled_from", "2025-03-01T00:00:00", "sampled_from", "naive_timestamp"),
    ("sampled_from", "1989-12-31T00:00:00+08:00", "sampled_from", "implausible_timestamp"),
    ("sampled_to", "2199-01-01T00:00:00+08:00", "sampled_to", "implausible_timestamp"),
    ("sampled_to", "2025-02-28T00:00:00+08:00", "sampled_to", "window_order"),
    ("analyte", "calorific", "analyte", "unknown_analyte"),
    ("value", "twenty", "value", "bad_number"),
    ("value", "nan", "value", "not_finite"),
    ("value", "1e999", "value", "not_finite"),
    ("value", "-1", "value", "out_of_range"),
    ("unit", "furlong", "unit", "unit_mismatch"),
    ("unit", "MJ/Nm3", "value", None),  # a gas NCV of 22.7 MJ/Nm3 is plausible: no reject
    ("U", "-0.1", "U", "negative_u"),
    ("U", "inf", "U", "not_finite"),
    ("k", "0.5", "k", "bad_k"),
    ("k", "", "k", "missing"),
    ("lab_org", "", "lab_org", "missing"),
    ("instrument_id", "CAL 1", "instrument_id", "bad_code"),
    ("method", "GB/T\x07213", "method", "bad_text"),
    ("report_no", "R" * 97, "report_no", "bad_text"),
    ("replicates", "2.5", "replicates", "bad_replicates"),
    ("replicates", "0", "replicates", "bad_replicates"),
    ("moisture_basis", "wet", "moisture_basis", "bad_basis"),
    ("analysed_on", "2025-02-01", "analysed_on", "analysed_before_sampling"),
    ("analysed_on", "03/02/2025", "analysed_on", "bad_date"),
    ("enterprise", "E02", "enterprise", "enterprise_mismatch"),
]


@pytest.mark.parametrize(("column", "value", "field", "code"), CASES)
def test_each_rejection_names_its_field_and_reason(tmp_path: Path, column: str, value: str, field: str,
                                                   code: str | None) -> None:
    row = {**NCV, column: value}
    lf = read_lab_file(_write(tmp_path / "lab.csv", [row, CARBON], [*HEADER, "replicates", "moisture_basis",
                                                                   "analysed_on", "enterprise"]), enterprise="E01")
    _check_counts(lf)
    if code is None:
        assert not lf.rejects
        return
    assert [(r.row, r.field, r.code) for r in lf.rejects] == [(2, field, code)]
    assert " / " in lf.rejects[0].reason  # zh-CN first, English second
    assert [r.sample_id for r in lf.results] == ["S2"]


def test_optional_columns_are_kept(tmp_path: Path) -> None:
    row = {**CARBON, "sampled_by": "张三", "reference_material": "GBW11104l", "replicates": "2", "batch": "T-0317",
           "moisture_basis": "收到基", "analysed_on": "2025-03-02", "note": "复检"}
    (r,) = read_lab_file(_write(tmp_path / "lab.csv", [row])).results
    assert (r.sampled_by, r.reference_material, r.replicates, r.batch, r.moisture_basis) == (
        "张三", "GBW11104l", 2, "T-0317", "ar")
    assert r.analysed_on is not None and r.analysed_on.isoformat() == "2025-03-02"


def test_analyte_aliases_and_spreadsheet_escaped_text_are_read(tmp_path: Path) -> None:
    row = {**CARBON, "analyte": "元素碳含量", "method": "'=GB/T 30733"}
    (r,) = read_lab_file(_write(tmp_path / "lab.csv", [row])).results
    assert (r.analyte, r.method) == ("carbon_content", "=GB/T 30733")


def test_a_gbk_file_is_read(tmp_path: Path) -> None:
    row = {**CARBON, "sampled_by": "李四", "method": "GB/T 30733-2014 仪器法", "analyte": "碳含量"}
    path = _write(tmp_path / "lab-gbk.csv", [NCV, row], [*HEADER, "sampled_by"], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    lf = read_lab_file(path)
    assert [(r.analyte, r.sampled_by) for r in lf.results] == [("ncv", None), ("carbon_content", "李四")]
    assert lf.results[1].method == "GB/T 30733-2014 仪器法"


def test_an_xlsx_file_with_date_cells_needs_its_time_zone(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["S1", "E01.COAL.LAB", datetime(2025, 3, 1), datetime(2025, 3, 2), "ncv", 22.7, "MJ/kg", 0.12, 2,
               "E01", "CAL-1", "GB/T 213-2008", 20250001])
    path = tmp_path / "lab.xlsx"
    wb.save(path)
    strict = read_lab_file(path)
    assert {(r.field, r.code) for r in strict.rejects} == {("sampled_from", "naive_timestamp"),
                                                           ("sampled_to", "naive_timestamp")}
    assert strict.file.endswith("lab.xlsx[Sheet]")
    (r,) = read_lab_file(path, time_zone="Asia/Shanghai").results
    assert r.sampled_from == datetime(2025, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    assert (r.report_no, r.k) == ("20250001", 2.0)


@pytest.mark.parametrize(("header", "field"), [
    ([c for c in HEADER if c != "U"], "U"),
    ([*HEADER, "remarks"], "remarks"),
    ([*HEADER, "value"], "value"),  # duplicate column
])
def test_a_file_that_is_not_a_table_of_results_raises_naming_the_column(tmp_path: Path, header: list[str],
                                                                      field: str) -> None:
    with pytest.raises(LabError) as exc:
        read_lab_file(_write(tmp_path / "lab.csv", [NCV], header))
    assert (exc.value.row, exc.value.field) == (1, field)
    assert str(exc.value).startswith(f"{tmp_path / 'lab.csv'}:1:{field}: ")


def test_a_row_with_surplus_cells_or_cut_short_is_refused(tmp_path: Path) -> None:
    text = ",".join(HEADER) + "\n" + ",".join(NCV[c] for c in HEADER) + ",extra\n" + \
        ",".join(CARBON[c] for c in HEADER)  # no line end: the file was cut
    path = tmp_path / "lab.csv"
    path.write_text(text, encoding="utf-8")
    lf = read_lab_file(path)
    assert [(r.row, r.code) for r in lf.rejects] == [(2, "surplus_cells"), (3, "truncated_row")]
    _check_counts(lf)


def test_the_analyte_table_has_a_source_and_a_mark_on_every_row() -> None:
    table = analytes()
    assert {"ncv", "carbon_content", "moisture", "ash", "volatiles", "hydrogen", "sulfur", "co2", "co", "ch4",
            "c2h6", "h2"} <= set(table)
    assert [r.unit for r in table["ncv"]] == ["MJ/kg", "MJ/Nm3"]
    assert [(r.minimum, r.maximum) for r in table["carbon_content"] if r.unit == "%"] == [(0.0, 100.0)]
    for rows in table.values():
        for r in rows:
            assert r.source and r.evidence and r.minimum <= r.maximum


# --- hostile rows: never a traceback, counts always add up ------------------------------------------------
_SPECIAL = ["", " ", "nan", "-inf", "1e400", "-0", "0", "100.0000001", "=1+1", "'=x", "２２.７", "1_000", "\u3000",
            "2025-02-30T00:00:00+08:00", "2025-03-01T24:00:00+08:00", "9999-12-31T23:59:59+14:00", "E01.COAL.LAB",
            "MJ/Nm3", "kJ/kg", "kcal/kg", "%(V/V)", "kg/Nm3", "ppm", "°C", "m**99999999", "co2", "ar", "d", "x" * 300,
            "\u200b", "\"", "a,b", "line\nbreak", "\r"]
_cell = st.one_of(st.sampled_from(_SPECIAL), st.text(max_size=40),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from([NCV, CARBON]),
                               st.dictionaries(st.sampled_from([*HEADER, "replicates", "batch", "analysed_on",
                                                                "moisture_basis"]), _cell, max_size=4)),
                     min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_mutated_rows_never_raise_and_counts_add_up(tmp_path_factory: pytest.TempPathFactory,
                                                    rows: list[tuple[dict[str, str], dict[str, str]]],
                                                    encoding: str) -> None:
    data = [{**base, **mut} for base, mut in rows]
    path = tmp_path_factory.mktemp("h") / "lab.csv"
    try:
        _write(path, data, [*HEADER, "replicates", "batch", "analysed_on", "moisture_basis"], encoding)
    except UnicodeEncodeError:
        return  # text GB18030 cannot carry (lone surrogates): not a file anyone can write
    try:
        lf = read_lab_file(path, enterprise="E01")
    except LabError as exc:  # a NUL or a stray CR can make the file not CSV text at all: a clean error
        assert str(exc).startswith(str(path))
        return
    _check_counts(lf)
    assert lf.rows <= len(data)
    for r in lf.results:
        rows_of = [x for x in analytes()[r.analyte] if x.unit == r.unit]
        assert rows_of and rows_of[0].minimum <= r.value <= rows_of[0].maximum
        assert r.U >= 0 and r.k >= 1 and r.sampled_from <= r.sampled_to
