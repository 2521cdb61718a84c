"""Mutations of valid tabular files for the hostile-input harness (issue 10 §4).

A case is a valid file (header + rows of cells) with a few mutations applied: at the cell level
(hostile values: extreme numbers and dates, formula-looking text, path-like codes, huge fields within
the limits), the line level (delete, duplicate, swap, duplicated header column) and the byte level
(flip, insert, truncate, another encoding). The fast subset runs in ``make test``; the slow run is
opt-in: set ``CARBONMET_HOSTILE_EXAMPLES`` (e.g. 100000) and run ``pytest -m slow tests/hostile``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime

import openpyxl
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

FAST_EXAMPLES = 60
ENV = "CARBONMET_HOSTILE_EXAMPLES"

#: examples of the slow run (0 when the variable is unset: the slow harness is then skipped)
SLOW_EXAMPLES = int(os.environ.get(ENV, "0") or 0)

fast = settings(max_examples=FAST_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
slow_settings = settings(max_examples=max(SLOW_EXAMPLES, 1), deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
#: the slow harness: marked ``slow`` and opt-in (``make test`` runs every marker, so it skips without the variable)
slow = pytest.mark.skipif(SLOW_EXAMPLES <= 0, reason=f"set {ENV}=N to run N generated cases")

HOSTILE_CELLS: tuple[str, ...] = (
    "", " ", "\t", "NaN", "nan", "inf", "-inf", "1e309", "-1e308", "1e-320", "-0", "0x10", "1_000", "1,5",
    "１２３", "٣", "+", "-", ".", "1e", "9" * 400,
    "9999-12-31", "0001-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "1970-01-01T00:00:00Z",
    "2025-02-30", "2025-13-01", "2025-01-01T24:00:00", "2025-01-01T12:00:00+14:00", "2025-01-01T12:00:00-99:00",
    "2099-01-01", "1900-02-29", "yesterday", "2025/01/01", "20250101",
    "=1+1", "=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3",
    "../../../etc/passwd", "..", "/tmp/x", "C:\\Windows\\x", "E01/../../x", "E01\\..\\x", "a\x00b", "\x1b[31m",
    "'", '"', '""', "a,b", "a\nb", "a\rb", "\ufeff", "\u202e", "中文字段", "😀", "x" * 5000,
    "True", "None", "null", "[1]", "{}", "-- ;DROP TABLE x", "' OR 1=1 --",
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gb18030", "latin-1", "utf-16-le", "cp1252")


def to_csv(rows: Sequence[Sequence[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@st.composite
def mutated_rows(draw: st.DrawFn, header: Sequence[str], rows: Sequence[Sequence[str]],
                 extra_cells: Sequence[str] = ()) -> list[list[str]]:
    """The grid (header first) with 0–4 cell/line mutations."""
    grid = [list(header)] + [list(r) for r in rows]
    cells = st.sampled_from(HOSTILE_CELLS + tuple(extra_cells))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("cell", "cell", "cell", "text", "delete", "dup", "swap", "dup_header",
                                   "drop_col", "extra_col", "blank_header", "short_row", "long_row")))
        n = len(grid)
        i = draw(st.integers(0, n - 1)) if n else 0
        if op in ("cell", "text") and n and grid[i]:
            j = draw(st.integers(0, len(grid[i]) - 1))
            grid[i][j] = draw(cells) if op == "cell" else draw(st.text(max_size=20))
        elif op == "delete" and n:
            del grid[i]
        elif op == "dup" and n:
            grid.insert(i, list(grid[i]))
        elif op == "swap" and n > 1:
            k = draw(st.integers(0, n - 1))
            grid[i], grid[k] = grid[k], grid[i]
        elif op == "dup_header" and n and grid[0]:
            j = draw(st.integers(0, len(grid[0]) - 1))
            for r in grid:
                r.append(r[j] if j < len(r) else "")
        elif op == "drop_col" and n and grid[0]:
            j = draw(st.integers(0, len(grid[0]) - 1))
            for r in grid:
                if j < len(r):
                    del r[j]
        elif op == "extra_col" and n:
            name = draw(st.sampled_from(("note", "备注", "=1+1", "", "../x")))
            grid[0].append(name)
            for r in grid[1:]:
                r.append(draw(cells))
        elif op == "blank_header" and n and grid[0]:
            grid[0][draw(st.integers(0, len(grid[0]) - 1))] = ""
        elif op == "short_row" and n and grid[i]:
            grid[i] = grid[i][:-1]
        elif op == "long_row" and n:
            grid[i] = grid[i] + [draw(cells)]
    return grid


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """Byte-level mutations: flip/insert/delete bytes, truncate, CR/LF changes, another encoding."""
    b = bytearray(data)
    if draw(st.integers(0, 5)) == 0:
        try:
            b = bytearray(data.decode("utf-8").encode(draw(st.sampled_from(ENCODINGS)), errors="replace"))
        except UnicodeDecodeError:
            pass
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(("flip", "insert", "delete", "truncate", "crlf", "cr", "nul")))
        pos = draw(st.integers(0, max(len(b) - 1, 0)))
        if op == "flip" and b:
            b[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            b[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and b:
            del b[pos:pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del b[pos:]
        elif op == "crlf":
            b = bytearray(bytes(b).replace(b"\n", b"\r\n"))
        elif op == "cr":
            b = bytearray(bytes(b).replace(b"\n", b"\r"))
        elif op == "nul":
            b[pos:pos] = b"\x00"
    return bytes(b)


def hostile_csv(header: Sequence[str], rows: Sequence[Sequence[str]], extra_cells: Sequence[str] = ()
                ) -> st.SearchStrategy[bytes]:
    """CSV bytes: the valid file mutated at cell/line level, then (sometimes) at byte level."""

    def enc(grid: list[list[str]]) -> st.SearchStrategy[bytes]:
        raw = to_csv(grid).encode("utf-8")
        return st.one_of(st.just(raw), mutated_bytes(raw))

    return mutated_rows(header, rows, extra_cells).flatmap(enc)


def assert_names(message: str, names: Sequence[str], what: str) -> None:
    """A refusal message must name the file (one of ``names``)."""
    assert any(n in message for n in names), f"{what}: the error does not name the file: {message!r}"


Check = Callable[[bytes], None]


def xlsx_bytes(sheets: dict[str, list[list[str]]], typed: bool) -> bytes:
    """A workbook with one sheet per entry (numbers as numbers when ``typed``), reproducible bytes."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for title, grid in sheets.items():
        ws = wb.create_sheet(title)
        for r in grid:
            row: list[object] = []
            for c in r:
                if typed:  # numbers as numbers, as Excel stores them
                    try:
                        row.append(float(c))
                        continue
                    except ValueError:
                        pass
                row.append(c)
            try:
                ws.append(row)
            except IllegalCharacterError:  # openpyxl refuses control characters: keep the case, blank the cell
                ws.append(["" if isinstance(c, str) and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in c)
                           else c for c in row])
    wb.properties.created = wb.properties.modified = datetime(2025, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue())


def _fixed_zip_times(raw: bytes) -> bytes:
    """The same workbook bytes on every run (zip entry times fixed): hypothesis replays cases exactly."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", body)
            zout.writestr(zipfile.ZipInfo(item.filename, (2025, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


@st.composite
def damaged_xlsx(draw: st.DrawFn, raw: bytes) -> bytes:
    """Sometimes the zip bytes mutated, sometimes the first sheet's XML edited (dimension, row numbers)."""
    k = draw(st.integers(0, 5))
    if k == 0:
        return draw(mutated_bytes(raw))
    if k == 1:
        zin = zipfile.ZipFile(io.BytesIO(raw))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zout:
            for item in zin.infolist():
                body = zin.read(item.filename)
                if item.filename.endswith("sheet1.xml"):
                    body = body.replace(b'r="2"', draw(st.sampled_from(
                        [b'r="1048576"', b'r="0"', b'r="-1"', b'r="1"', b'r="x"', b'r="99999999999"'])), 1)
                    body = body.replace(b"<dimension ", b'<dimension ref="A1:XFD1048576" x="', 1)
                zout.writestr(zipfile.ZipInfo(item.filename, (2025, 1, 1, 0, 0, 0)), body)
        return out.getvalue()
    return raw
