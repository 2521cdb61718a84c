"""Hostile readings files (issue 10): refused or quarantined with a reason, never mixed up or hung."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from carbonmet.metering import ReadError, read_file
from carbonmet.metering.readers import read_csv_bytes

HEAD = ["point_id", "ts", "value"]
ROWS = [["E01.GAS", f"2025-01-01T0{h}:00:00+08:00", f"{10 + h}.5"] for h in range(3)]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("dup", ["value", "ts"])
def test_D1_xlsx_duplicated_header_is_refused(tmp_path: Path, dup: str) -> None:
    path = _xlsx(tmp_path / "r.xlsx", [[*HEAD, dup], *[[*r, r[HEAD.index(dup)]] for r in ROWS]])
    with pytest.raises(ReadError, match=rf"r\.xlsx\[Sheet\]:1:{dup}: .*duplicate column name.*columns \d and 4"):
        read_file(path)


def test_D1_csv_duplicated_header_is_refused_the_same_way() -> None:
    data = ("point_id,ts,value,value\r\n" + "".join(",".join([*r, r[2]]) + "\r\n" for r in ROWS)).encode()
    with pytest.raises(ReadError, match=r"r\.csv:1:value: .*columns 3 and 4"):
        read_csv_bytes(data, "r.csv")


def test_D2_xlsx_declaring_the_whole_sheet_is_refused_not_hung(tmp_path: Path) -> None:
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(HEAD)  # type: ignore[union-attr]
    wb.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    path = tmp_path / "h.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                x = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', data.decode())
                data = x.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>1</t>'
                                 "</is></c></row></sheetData>").encode()
            zout.writestr(item, data)
    assert path.stat().st_size < 8000
    with pytest.raises(ReadError, match=r"h\.xlsx\[Sheet\]:1048576:limit"):
        read_file(path)


def test_D11_csv_field_over_128_KiB_is_a_clear_error() -> None:
    data = b"point_id,ts,value\r\nE01.GAS,2025-01-01T00:00:00+08:00," + b"9" * (129 * 1024) + b"\r\n"
    with pytest.raises(ReadError, match=r"big\.csv:2:value: field of 132096 characters, over the limit"):
        read_csv_bytes(data, "big.csv")


@pytest.mark.parametrize("enc", ["gbk", "utf-16", "utf-8-sig"])
def test_D23_gbk_and_utf16_readings_are_read_like_utf8(enc: str) -> None:
    text = "点位,时间,读数\r\n" + "".join(",".join(r) + "\r\n" for r in ROWS)
    from carbonmet.metering import ColumnMap

    b = read_csv_bytes(text.encode(enc), "r.csv", ColumnMap.parse("point_id=点位,ts=时间,value=读数"))
    assert b.column("value").to_pylist() == [10.5, 11.5, 12.5]
    assert b.column("error").null_count == 3


def test_D23_unknown_encoding_is_called_an_encoding_problem() -> None:
    data = ("point_id,ts,value\r\n計量點,2025-01-01T00:00:00+08:00,1\r\n溫度壓力,2025-01-01T00:00:00+08:00,2\r\n"
            ).encode("big5")
    with pytest.raises(ReadError, match=r"r\.csv:encoding: .*Big5"):
        read_csv_bytes(data, "r.csv")
    with pytest.raises(ReadError, match=r"r\.csv:encoding"):
        read_csv_bytes("point_id,ts,value\r\n".encode("utf-16-le"), "r.csv")  # UTF-16 without its BOM


def test_D24_surplus_cells_are_quarantined_not_dropped() -> None:
    lines = [",".join(HEAD), ",".join(ROWS[0]), ",".join([*ROWS[1], "stray"]), ",".join(ROWS[2])]
    b = read_csv_bytes(("\r\n".join(lines) + "\r\n").encode(), "r.csv")
    assert b.column("error").to_pylist() == [None, "surplus_cells", None]
    assert b.column("line").to_pylist() == [2, 3, 4]


def test_D24_file_truncated_inside_its_last_row_is_quarantined() -> None:
    full = "\r\n".join([",".join(HEAD), *(",".join(r) for r in ROWS)]) + "\r\n"
    cut = full.encode()[:-4]  # "12.5\r\n" cut to "12"
    b = read_csv_bytes(cut, "r.csv")
    assert b.column("error").to_pylist() == [None, None, "truncated_row"]
    short = full.encode()[: full.index("12.5") - 1]  # cut before the last field: a short row
    b = read_csv_bytes(short, "r.csv")
    assert b.column("error").to_pylist()[-1] == "truncated_row"
    assert read_csv_bytes(full.encode(), "r.csv").column("error").null_count == 3  # a whole file is fine
