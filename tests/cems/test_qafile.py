"""Paired-run files (CSV and XLSX, one row model): the example reads, and every bad input names file, row, field."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from numpy.testing import assert_allclose

from carbonmet.cems.qa import RataFileError, rata, read_rata_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rata-E05-STACK3-flow.csv"
HEADER = ["run", "start", "end", "parameter", "unit", "reference", "cems", "reference_method"]
CST = ZoneInfo("Asia/Shanghai")


def _rows(n: int = 9, parameter: str = "co2", unit: str = "%") -> list[list[str]]:
    return [[str(i), f"2025-06-03T{8 + i:02d}:00:00+08:00", f"2025-06-03T{8 + i:02d}:30:00+08:00", parameter, unit,
             f"{12.0 + 0.1 * i:.1f}", f"{11.9 + 0.1 * i:.1f}", "HJ 1240-2021 FTIR"] for i in range(1, n + 1)]


def _csv(tmp: Path, rows: list[list[str]], header: list[str] = HEADER, name: str = "runs.csv") -> Path:
    p = tmp / name
    p.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return p


def _err(path: Path, **kw: object) -> RataFileError:
    with pytest.raises(RataFileError) as e:
        read_rata_file(path, **kw)  # type: ignore[arg-type]
    assert path.name in e.value.file
    return e.value


def test_the_example_file_reads_and_gives_the_worked_ra() -> None:
    f = read_rata_file(EXAMPLE)
    runs = f.get("flow")
    assert (f.rows, runs.unit, len(runs.runs), runs.runs[0].row) == (9, "m/s", 9, 2)
    assert runs.runs[0].reference_method == "GB/T 16157-1996 皮托管 Pitot tube"
    assert_allclose(rata(runs).ra_pct, 3.294, atol=1e-3)  # the worked example of test_qa.py


def test_csv_and_xlsx_read_the_same(tmp_path: Path) -> None:
    rows = _rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for r in rows:
        ws.append([float(c) if k in (5, 6) else c for k, c in enumerate(r)])
    wb.save(tmp_path / "runs.xlsx")
    a = read_rata_file(_csv(tmp_path, rows)).get("co2")
    b = read_rata_file(tmp_path / "runs.xlsx").get("co2")
    assert [(r.run, r.reference, r.cems, r.start) for r in a.runs] == [(r.run, r.reference, r.cems, r.start)
                                                                       for r in b.runs]


def test_fewer_than_nine_pairs_names_the_file_and_parameter(tmp_path: Path) -> None:
    e = _err(_csv(tmp_path, _rows(8)))
    assert e.row is None and e.field == "run" and "8" in e.reason and "co2" in e.reason


def test_unit_mismatch_between_reference_and_cems_columns(tmp_path: Path) -> None:
    header = ["run", "start", "end", "parameter", "reference_unit", "cems_unit", "reference", "cems"]
    rows = [[r[0], r[1], r[2], r[3], "%", "%vol", r[5], r[6]] for r in _rows()]
    assert read_rata_file(_csv(tmp_path, rows, header)).get("co2").unit == "%"  # %vol is an alias of %
    rows[3][5] = "mg/m3"
    e = _err(_csv(tmp_path, rows, header))
    assert (e.row, e.field) == (5, "cems_unit")


def test_a_unit_that_is_not_the_parameters(tmp_path: Path) -> None:
    rows = _rows()
    rows[2][4] = "m/s"
    e = _err(_csv(tmp_path, rows))
    assert (e.row, e.field) == (4, "unit") and "co2" in e.reason
    # one parameter in two units across rows
    rows = _rows(parameter="flow", unit="m/s")
    rows[6][4] = "m3/h"
    e = _err(_csv(tmp_path, rows))
    assert (e.row, e.field) == (8, "unit") and "row 2" in e.reason


@pytest.mark.parametrize(("col", "value", "field"), [
    (5, "twelve", "reference"), (6, "", "cems"), (6, "nan", "cems"), (5, "1e309", "reference"),
    (6, "150", "cems"),  # a CO2 volume fraction over 100 %
    (3, "ch4", "parameter"), (1, "2025-06-03 09:00", "start"), (2, "2025-06-03T08:00:00+08:00", "end"),
    (0, "../x", "run"), (7, "a\x07b", "reference_method"),
])
def test_a_bad_field_names_file_row_and_field(tmp_path: Path, col: int, value: str, field: str) -> None:
    rows = _rows()
    rows[4][col] = value
    e = _err(_csv(tmp_path, rows))
    assert (e.row, e.field) == (6, field), str(e)


def test_every_problem_is_listed_the_first_in_the_message(tmp_path: Path) -> None:
    rows = _rows(10)
    rows[1][5] = "x"
    rows[7][6] = "y"
    e = _err(_csv(tmp_path, rows))
    assert e.problems[:2] == ((3, "reference", e.problems[0][2]), (9, "cems", e.problems[1][2]))
    assert "+1 more" in str(e)


def test_a_run_outside_the_cems_data_period_is_refused(tmp_path: Path) -> None:
    p = _csv(tmp_path, _rows())
    period = (datetime(2025, 6, 3, 10, 0, tzinfo=CST), datetime(2025, 6, 30, tzinfo=CST))
    e = _err(p, period=period)
    assert (e.row, e.field) == (2, "start") and "CEMS" in e.reason
    period = (datetime(2025, 6, 1, tzinfo=CST), datetime(2025, 6, 3, 14, 0, tzinfo=CST))
    e = _err(p, period=period)
    assert e.field == "end" and e.row == 7  # run 6 ends 14:30
    assert read_rata_file(p, period=(datetime(2025, 6, 1, tzinfo=CST), datetime(2025, 7, 1, tzinfo=CST))).rows == 9


def test_columns_and_repeats(tmp_path: Path) -> None:
    e = _err(_csv(tmp_path, [r[:4] + r[5:] for r in _rows()], [h for h in HEADER if h != "unit"]))
    assert (e.row, e.field) == (1, "unit")
    e = _err(_csv(tmp_path, [[*r, "x"] for r in _rows()], [*HEADER, "colour"]))
    assert (e.row, e.field) == (1, "colour")
    rows = _rows(10)
    rows[9][0] = "3"
    e = _err(_csv(tmp_path, rows))
    assert (e.row, e.field) == (11, "run")
    # naive times are read in a named zone
    rows = _rows()
    for r in rows:
        r[1], r[2] = r[1][:19], r[2][:19]
    f = read_rata_file(_csv(tmp_path, rows), time_zone="Asia/Shanghai")
    assert f.get("co2").runs[0].start == datetime(2025, 6, 3, 9, tzinfo=CST)


def test_two_parameters_in_one_file(tmp_path: Path) -> None:
    rows = _rows() + [[f"F{r[0]}", *r[1:3], "flow", "m/s", "15.0", "15.9", "Pitot"] for r in _rows()]
    f = read_rata_file(_csv(tmp_path, rows))
    assert [s.parameter for s in f.series] == ["co2", "flow"] and len(f.sha256) == 64
