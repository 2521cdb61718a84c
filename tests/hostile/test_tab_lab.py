"""Hostile-input harness, laboratory result files CSV and XLSX (issue 11 §2).

Every generated case (a valid lab file, mutated at cell, line and byte level) is either read into a
:class:`LabFile` whose rows are each a result or refused naming file, row and field — and whose counts add up —
or refused as a whole with :class:`LabError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from carbonmet.lab import LabError, read_lab_file

from .tab_mutate import damaged_xlsx, fast, hostile_csv, mutated_rows, slow, slow_settings, xlsx_bytes

#: the workbook cases cost ~70 ms each: a smaller fast subset (the CSV cases exercise the same row rules)
fast_xlsx = fast.__class__(fast, max_examples=15)

HEADER = ["sample_id", "point_id", "sampled_from", "sampled_to", "analyte", "value", "unit", "U", "k", "lab_org",
          "instrument_id", "method", "report_no", "replicates", "batch", "moisture_basis", "analysed_on"]
ROWS = [
    ["S1", "E01.COAL.LAB", "2025-03-01T00:00:00+08:00", "2025-03-02T00:00:00+08:00", "ncv", "22.7", "MJ/kg", "0.12",
     "2", "E01", "CAL-1", "GB/T 213-2008", "R1", "2", "B1", "ar", "2025-03-02"],
    ["S2", "E01.COAL.LAB", "2025-03-01T00:00:00+08:00", "2025-03-02T00:00:00+08:00", "carbon_content", "59.9", "%",
     "0.5", "2", "E01", "CHN-1", "GB/T 30733-2014", "R2", "", "B1", "", ""],
    ["S3", "E01.NG.LAB", "2025-03-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00", "ch4", "94.1", "%", "0.2", "2",
     "NM-IMT", "GC-1", "GB/T 13610-2020", "R3", "", "", "", ""],
]
EXTRA = ("MJ/Nm3", "kJ/kg", "kg/Nm3", "g/kg", "%", "co2", "低位发热量", "ad", "收到基", "150", "-3", "0.0", "1", "E02",
         "2025-03-02T00:00:00", "2025-03-01T00:00:00+08:00", "2099-01-01T00:00:00+08:00", "1989-01-01T00:00:00Z")


def _check(path: Path) -> None:
    try:
        lf = read_lab_file(path, enterprise="E01")
    except LabError as exc:
        assert "hostile" in exc.file and exc.field and exc.reason, f"refusal does not name file and field: {exc}"
        event("refused")
        return
    assert lf.rows == len(lf.results) + lf.rejected_rows
    for r in lf.rejects:
        assert "hostile" in r.file and r.row is not None and r.field and r.code and r.reason, str(r)
    for res in lf.results:
        assert res.U >= 0 and res.k >= 1 and res.sampled_from <= res.sampled_to and res.enterprise == "E01"
    event("read" if not lf.rejects else "rows refused")


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-lab")


def _csv_case(d: Path, data: bytes) -> None:
    p = d / "hostile.csv"
    p.write_bytes(data)
    _check(p)


@st.composite
def hostile_xlsx(draw: st.DrawFn) -> bytes:
    grid = draw(mutated_rows(HEADER, ROWS, EXTRA))
    return draw(damaged_xlsx(xlsx_bytes({"lab": grid}, draw(st.booleans()))))


def _xlsx_case(d: Path, data: bytes) -> None:
    p = d / "hostile.xlsx"
    p.write_bytes(data)
    _check(p)


def test_the_valid_file_reads_whole(tmp_path: Path) -> None:
    (tmp_path / "lab.xlsx").write_bytes(xlsx_bytes({"lab": [HEADER, *ROWS]}, True))
    lf = read_lab_file(tmp_path / "lab.xlsx", enterprise="E01")
    assert (lf.rows, len(lf.results), lf.rejects) == (3, 3, ())


@fast
@given(data=hostile_csv(HEADER, ROWS, EXTRA))
def test_hostile_lab_csv_is_read_or_refused_naming_the_field(cases: Path, data: bytes) -> None:
    _csv_case(cases, data)


@fast_xlsx
@given(data=hostile_xlsx())
def test_hostile_lab_xlsx_is_read_or_refused_naming_the_field(cases: Path, data: bytes) -> None:
    _xlsx_case(cases, data)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_csv(HEADER, ROWS, EXTRA))
def test_slow_hostile_lab_csv(cases: Path, data: bytes) -> None:
    _csv_case(cases, data)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_xlsx())
def test_slow_hostile_lab_xlsx(cases: Path, data: bytes) -> None:
    _xlsx_case(cases, data)
