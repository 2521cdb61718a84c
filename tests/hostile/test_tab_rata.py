"""Hostile-input harness, paired-run (RATA) files CSV and XLSX (fast variant).

Every generated case (a valid paired-run file mutated at cell, line and byte level) is either read whole into a
:class:`RataFile` whose series are each at least 9 runs in one canonical unit with finite values, or refused with
:class:`RataFileError` naming the file and a field — never another exception.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from carbonmet.cems.qa import RataFileError, read_rata_file

from .tab_mutate import damaged_xlsx, fast, hostile_csv, mutated_rows, xlsx_bytes

#: the workbook cases cost more each: a smaller fast subset (the CSV cases exercise the same row rules)
fast_xlsx = fast.__class__(fast, max_examples=15)

HEADER = ["run", "start", "end", "parameter", "unit", "reference", "cems", "reference_method"]
ROWS = [[str(i), f"2025-06-03T{8 + i:02d}:00:00+08:00", f"2025-06-03T{8 + i:02d}:30:00+08:00", "flow", "m/s",
         f"{15.0 + 0.1 * i:.1f}", f"{14.6 + 0.1 * i:.1f}", "GB/T 16157-1996"] for i in range(1, 11)]
EXTRA = ("m3/h", "%", "%vol", "ppm", "co2", "moisture", "CO2", "0", "-1", "1e6", "15.0", "2025-06-03T09:00:00",
         "2099-01-01T00:00:00+08:00", "1989-01-01T00:00:00Z", "HJ 1240-2021 FTIR")


def _check(path: Path) -> None:
    try:
        f = read_rata_file(path)
    except RataFileError as exc:
        assert "hostile" in exc.file and exc.field and exc.reason, f"refusal does not name file and field: {exc}"
        assert exc.problems and all(f and r for _, f, r in exc.problems)
        event("refused")
        return
    assert f.rows >= sum(len(s.runs) for s in f.series) and f.series
    for s in f.series:
        assert len(s.runs) >= 9 and s.unit
        for r in s.runs:
            assert math.isfinite(r.reference) and math.isfinite(r.cems) and r.row is not None
            assert r.start is not None and r.end is not None and r.start < r.end
    event("read")


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-rata")


@st.composite
def hostile_xlsx(draw: st.DrawFn) -> bytes:
    grid = draw(mutated_rows(HEADER, ROWS, EXTRA))
    return draw(damaged_xlsx(xlsx_bytes({"rata": grid}, draw(st.booleans()))))


def test_the_valid_file_reads_whole(tmp_path: Path) -> None:
    (tmp_path / "rata.xlsx").write_bytes(xlsx_bytes({"rata": [HEADER, *ROWS]}, True))
    f = read_rata_file(tmp_path / "rata.xlsx")
    assert (f.rows, len(f.get("flow").runs)) == (10, 10)


@fast
@given(data=hostile_csv(HEADER, ROWS, EXTRA))
def test_hostile_rata_csv_is_read_or_refused_naming_the_field(cases: Path, data: bytes) -> None:
    p = cases / "hostile.csv"
    p.write_bytes(data)
    _check(p)


@fast_xlsx
@given(data=hostile_xlsx())
def test_hostile_rata_xlsx_is_read_or_refused_naming_the_field(cases: Path, data: bytes) -> None:
    p = cases / "hostile.xlsx"
    p.write_bytes(data)
    _check(p)
