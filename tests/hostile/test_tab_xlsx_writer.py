"""The harness's fast XLSX writer (sheet XML filled into openpyxl's own template parts) gives the workbook
openpyxl's writer gives: every cell reads back the same, in every sheet, typed or not."""

from __future__ import annotations

import io

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from .tab_mutate import HOSTILE_CELLS, fast, mutated_rows, xlsx_bytes, xlsx_bytes_openpyxl

HEADER = ["point_id", "ts", "value"]
ROWS = [["E01.COAL", "2025-01-01T00:00:00+08:00", "1000.25"], ["E01.GAS", "2025-01-01T01:00:00Z", "12"]]
EXTRA = ("#N/A", "#DIV/0!", "=SUM(A1:A2)", "= ", "\r\n", " x ", "\x7f", "\uffff", "a\x0bb", "y" * 40000)


def _read(data: bytes) -> dict[str, tuple[str, list[tuple[object, ...]]]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {ws.title: (ws.calculate_dimension(), [tuple(r) for r in ws.iter_rows(values_only=True)])
                for ws in wb.worksheets}
    finally:
        wb.close()


@fast
@given(grids=st.lists(mutated_rows(HEADER, ROWS, EXTRA), min_size=1, max_size=3),
       titles=st.lists(st.sampled_from(["readings", "sites", "points", "plan", "参数"]), min_size=3, max_size=3,
                       unique=True),
       typed=st.booleans())
def test_the_fast_writer_reads_back_as_openpyxls_workbook(grids: list[list[list[str]]], titles: list[str],
                                                          typed: bool) -> None:
    sheets = dict(zip(titles, grids, strict=False))
    assert _read(xlsx_bytes(sheets, typed)) == _read(xlsx_bytes_openpyxl(sheets, typed))


def test_every_hostile_cell_reads_back_as_openpyxls() -> None:
    grid = [HEADER, *[[c, c, c] for c in (*HOSTILE_CELLS, *EXTRA)], [], ["", "", ""], ["tail"]]
    for typed in (False, True):
        assert _read(xlsx_bytes({"readings": grid}, typed)) == _read(xlsx_bytes_openpyxl({"readings": grid}, typed))


def test_the_bytes_are_the_same_every_time() -> None:
    grid = [HEADER, *ROWS]
    assert xlsx_bytes({"readings": grid}, True) == xlsx_bytes({"readings": grid}, True)
