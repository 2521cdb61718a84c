"""The shared CSV/XLSX reader: one encoding rule, duplicate headers refused, bounded, row issues named."""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from carbonmet.tabular import (
    Limits,
    TabularError,
    check_header,
    detect_encoding,
    read_csv,
    read_table,
    read_xlsx,
)


def hostile_xlsx(path: Path, header: list[str], row: list[object]) -> Path:
    """A small workbook whose sheet declares A1:XFD1048576 and has a cell at XFD1048576 (about 5 KB)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                x = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', data.decode())
                x = x.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t>'
                              "</is></c></row></sheetData>")
                data = x.encode()
            zout.writestr(item, data)
    return path


def test_duplicate_header_names_both_columns() -> None:
    with pytest.raises(TabularError, match=r"f\.csv:1:value: .*columns 3 and 4") as e:
        check_header(["point_id", "ts", "value", " value "], "f.csv")
    assert (e.value.file, e.value.row, e.value.field) == ("f.csv", 1, "value")


def test_encodings_utf8_bom_utf16_gbk_are_read_alike() -> None:
    text = "点位,时间,读数\r\nE01.GAS,2025-01-01T00:00:00+08:00,1.5\r\n"
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("utf-16"),
                 text.encode("gbk")):
        sheet = read_csv(data, "f.csv")
        assert sheet.header == ("点位", "时间", "读数")
        assert sheet.rows == [(2, ["E01.GAS", "2025-01-01T00:00:00+08:00", "1.5"])]
    assert detect_encoding(text.encode("gbk"), "f.csv") == "gb18030"


def test_D15_big5_is_refused_not_decoded_as_gb18030_mojibake() -> None:
    data = "計量點,溫度,壓力\r\n儀表編號,檢定證書,有效期\r\n".encode("big5")
    with pytest.raises(TabularError, match=r"f\.csv:encoding: .*Big5") as e:
        read_csv(data, "f.csv")
    assert e.value.row is None


def test_utf16_without_bom_and_binary_are_refused_as_encoding_problems() -> None:
    with pytest.raises(TabularError, match="encoding"):
        read_csv("a,b\r\n1,2\r\n".encode("utf-16-le"), "f.csv")
    with pytest.raises(TabularError, match="encoding"):
        read_csv(bytes(range(256)) * 4, "f.csv")


def test_D11_csv_field_over_the_limit_is_an_error_naming_row_and_column() -> None:
    data = b"point_id,ts,value\r\nP1," + b"x" * (200 * 1024) + b",1\r\n"
    with pytest.raises(TabularError, match=r"f\.csv:2:ts: field of 204800 characters"):
        read_csv(data, "f.csv")
    big = read_csv(data, "f.csv", Limits(max_field_chars=300 * 1024))  # the limit is the user's to raise
    assert len(big.rows[0][1][1]) == 200 * 1024


def test_D24_surplus_cells_and_truncated_last_row_are_row_issues() -> None:
    sheet = read_csv(b"a,b\r\n1,2\r\n3,4,5\r\n6,7", "f.csv")
    assert [r for r, _ in sheet.rows] == [2, 3, 4]
    assert [(i.row, i.code) for i in sheet.issues] == [(3, "surplus_cells"), (4, "truncated_row")]
    assert "column 3" in sheet.issues[0].field


def test_limits_on_rows_and_bytes_name_the_limit() -> None:
    data = b"a\r\n" + b"1\r\n" * 50
    with pytest.raises(TabularError, match=r"f\.csv:12:limit: more than 10 rows"):
        read_csv(data, "f.csv", Limits(max_rows=10))
    with pytest.raises(TabularError, match="bytes, over the limit"):
        read_csv(data, "f.csv", Limits(max_bytes=20))


def test_D2_xlsx_with_a_hostile_dimension_is_refused_quickly(tmp_path: Path) -> None:
    path = hostile_xlsx(tmp_path / "h.xlsx", ["point_id", "ts", "value"], ["P1", "2025-01-01T00:00:00+08:00", 1.0])
    assert path.stat().st_size < 8000
    t0 = time.monotonic()
    with pytest.raises(TabularError, match=r"h\.xlsx\[Sheet\]:1048576:limit: 16384 cells"):
        read_xlsx(path)
    assert time.monotonic() - t0 < 30  # was unbounded (≈ 1.7·10¹⁰ padded cells)
    with pytest.raises(TabularError, match="more than 1000 rows"):
        read_xlsx(path, Limits(max_rows=1000))


def test_D12_truncated_xlsx_is_a_file_error(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])  # type: ignore[union-attr]
    good = tmp_path / "good.xlsx"
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(TabularError, match=r"bad\.xlsx:file: .*not a readable XLSX workbook"):
        read_table(bad)


def test_xlsx_duplicate_header_and_surplus_cells(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "r"
    ws.append(["ts", "value", "ts"])
    p = tmp_path / "d.xlsx"
    wb.save(p)
    with pytest.raises(TabularError, match=r"d\.xlsx\[r\]:1:ts: .*columns 1 and 3"):
        read_xlsx(p)
    ws.delete_rows(1)
    ws.append(["ts", "value"])
    ws.append(["2025-01-01", 1, "stray"])
    wb.save(p)
    (sheet,) = read_xlsx(p)
    assert sheet.rows == [(2, ["2025-01-01", 1])]
    assert [(i.row, i.code) for i in sheet.issues] == [(2, "surplus_cells")]


def test_a_workbook_without_worksheets_is_an_error_naming_the_file(tmp_path: Path) -> None:
    # found by the long hostile run of readings XLSX (68 127 cases in): a mutated workbook whose <sheets> list is
    # empty made read_xlsx return no sheet, and the readings reader failed unpacking it (ValueError)
    wb = openpyxl.Workbook()
    wb.active.append(["point_id", "ts", "value"])  # type: ignore[union-attr]
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data, flags=re.DOTALL)
            zout.writestr(info, data)
    p = tmp_path / "nosheet.xlsx"
    p.write_bytes(out.getvalue())
    with pytest.raises(TabularError, match="no worksheet") as ei:
        read_xlsx(p)
    assert str(p) in str(ei.value)
    from carbonmet.metering import ReadError, read_file

    with pytest.raises(ReadError, match="no worksheet"):
        read_file(p)
