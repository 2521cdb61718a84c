"""One header/row reader for CSV and XLSX, used by readings ingest, registry import and plan files."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._errors import Limits, RowIssue, TabularError

DEFAULT_LIMITS = Limits()

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

#: share of non-ASCII characters outside GB 2312 above which GB18030-decoded text is taken for another
#: encoding (Big5 decoded as GBK gives about 60 %; simplified-Chinese text well under 5 %)
_FOREIGN_SHARE = 0.25


def _gb2312(c: str) -> bool:
    try:
        c.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def detect_encoding(data: bytes, name: str) -> str:
    """The text encoding of a CSV file, by one rule (编码识别).

    UTF-8 with or without BOM; UTF-16 only with its BOM; otherwise GB18030 (which includes GBK and
    GB 2312) when the bytes decode and the text reads as simplified Chinese. Anything else (Big5,
    UTF-32, Latin-1 with bytes GB18030 cannot place, binary) is refused.

    Returns
    -------
    str
        A Python codec name: ``utf-8``, ``utf-8-sig``, ``utf-16`` or ``gb18030``.

    Raises
    ------
    TabularError
        Naming the file and the encoding problem (field ``encoding``).
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            if enc == "utf-32":
                raise TabularError(name, None, "encoding", "编码不支持 UTF-32; 请另存为 UTF-8 / UTF-32 is not "
                                   "supported; save the file as UTF-8")
            try:
                data.decode(enc)
            except UnicodeDecodeError as exc:
                raise TabularError(name, None, "encoding", f"not valid {enc.upper()} text after its byte order "
                                   f"mark (byte {exc.start})") from None
            return enc
    if b"\x00" in data:
        raise TabularError(name, None, "encoding", "编码无法识别 / not a text file in UTF-8 or GB18030 (NUL bytes; "
                           "UTF-16 needs its byte order mark)")
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise TabularError(name, None, "encoding", f"编码无法识别 / neither UTF-8 (bad byte at {utf8_error}) nor "
                           "GB18030 text; save the file as UTF-8") from None
    wide = [c for c in text if ord(c) > 0x7F]
    foreign = sum(1 for c in wide if not _gb2312(c) or 0xE000 <= ord(c) <= 0xF8FF)
    if wide and foreign / len(wide) > _FOREIGN_SHARE:
        try:
            data.decode("big5")
            guess = "it reads as Big5 (traditional Chinese)"
        except UnicodeDecodeError:
            guess = "it is another encoding"
        raise TabularError(name, None, "encoding", f"编码无法识别 / not UTF-8, and as GB18030 {foreign} of "
                           f"{len(wide)} characters are not simplified Chinese: {guess}; save the file as UTF-8")
    return "gb18030"


def decode_text(data: bytes, name: str) -> str:
    """Bytes → text by :func:`detect_encoding` (a BOM is removed)."""
    return data.decode(detect_encoding(data, name))


def check_header(cells: Iterable[Any], name: str, limits: Limits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """Header cells → stripped column names; trailing blank names dropped; duplicates refused.

    Raises
    ------
    TabularError
        On a repeated column name (naming both columns, 1-based) or too many columns.
    """
    header = [("" if c is None else str(c)).strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    if len(header) > limits.max_columns:
        raise TabularError(name, 1, "header", f"{len(header)} columns, over the limit of {limits.max_columns}")
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        if not h:
            continue
        if h in seen:
            raise TabularError(name, 1, h, f"表头重复 / duplicate column name {h!r}: columns {seen[h]} and {i}")
        seen[h] = i
    return tuple(header)


@dataclass
class Sheet:
    """One table read from a file: header, non-blank rows (numbered as in the file, header = 1), issues."""

    name: str  # the file, or ``file[sheet]`` for a workbook sheet
    title: str | None  # the sheet's title (XLSX), None for CSV
    header: tuple[str, ...]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # cells padded to the header's width
    issues: list[RowIssue] = field(default_factory=list)


class _Budget:
    """Counts rows and cells against :class:`Limits` and checks the clock now and then."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name, self.limits = name, limits
        self.rows = self.cells = 0
        self.t0 = time.monotonic()

    def row(self, rowno: int, width: int) -> None:
        lim = self.limits
        self.rows += 1
        self.cells += width
        if rowno > lim.max_rows + 1 or self.rows > lim.max_rows + 1:
            raise TabularError(self.name, rowno, "limit", f"more than {lim.max_rows} rows")
        if width > lim.max_columns:
            raise TabularError(self.name, rowno, "limit", f"{width} cells in the row, over the limit of "
                               f"{lim.max_columns}")
        if self.cells > lim.max_cells:
            raise TabularError(self.name, rowno, "limit", f"more than {lim.max_cells} cells")
        if self.rows % 1024 == 0 and time.monotonic() - self.t0 > lim.max_seconds:
            raise TabularError(self.name, rowno, "limit", f"reading took over {lim.max_seconds:g} s")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _fit(sheet: Sheet, rowno: int, cells: Sequence[Any], limits: Limits) -> list[Any]:
    """Cells → the header's width; surplus cells and cells under a blank header are a row issue."""
    header = sheet.header
    width = len(header)
    for i, c in enumerate(cells):
        if isinstance(c, str) and len(c) > limits.max_field_chars:
            col = header[i] if i < width and header[i] else f"column {i + 1}"
            raise TabularError(sheet.name, rowno, col, f"field of {len(c)} characters, over the limit of "
                               f"{limits.max_field_chars}")
    surplus = [i for i, c in enumerate(cells) if (i >= width or not header[i]) and not _blank(c)]
    if surplus:
        sheet.issues.append(RowIssue(rowno, f"column {surplus[0] + 1}", "surplus_cells",
                                     f"{len(surplus)} cell(s) beyond the header or under a blank header "
                                     f"(first: column {surplus[0] + 1}, {str(cells[surplus[0]])[:40]!r})"))
    out = list(cells[:width])
    if len(out) < width:
        out.extend([None] * (width - len(out)))
    return out


def read_csv(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> Sheet:
    """Read CSV bytes into a :class:`Sheet` (header in the first row; blank rows skipped, counted).

    Raises
    ------
    TabularError
        Unknown encoding, duplicate header, no header, a limit exceeded or malformed CSV — naming the
        file, row and field.
    """
    if len(data) > limits.max_bytes:
        raise TabularError(name, None, "limit", f"{len(data)} bytes, over the limit of {limits.max_bytes}")
    text = decode_text(data, name)
    # the csv module's own field limit (a process-wide setting) must not fire first: its error names no
    # column. A field cannot be longer than the file, which is bounded by max_bytes.
    want = min(max(limits.max_bytes, limits.max_field_chars + 1), 2**31 - 1)
    if csv.field_size_limit() < want:
        csv.field_size_limit(want)
    reader = csv.reader(io.StringIO(text))
    budget = _Budget(name, limits)
    try:
        first = next(reader, None)
        if first is None or not any(c.strip() for c in first):
            raise TabularError(name, 1, "header", "empty file or no header row")
        sheet = Sheet(name, None, check_header(first, name, limits))
        rowno = 1
        for rowno, cells in enumerate(reader, start=2):
            budget.row(rowno, len(cells))
            if not any(c.strip() for c in cells):
                continue
            sheet.rows.append((rowno, _fit(sheet, rowno, cells, limits)))
    except csv.Error as exc:
        raise TabularError(name, budget.rows + 2, "csv", f"malformed CSV: {exc}") from None
    if sheet.rows and not text.endswith(("\n", "\r")) and sheet.rows[-1][0] == rowno:
        sheet.issues.append(RowIssue(rowno, sheet.header[-1] or "row", "truncated_row",
                                     "the last row has no line end: the file was probably cut inside it"))
    return sheet


def read_limited(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a file, refused before they are read when there are more than ``limits.max_bytes``.

    The size is taken from the file system first (a file over the limit costs no memory); then at most
    ``max_bytes + 1`` bytes are read, so a file that grew since, or a special file whose size the file
    system does not know, is refused too without reading on.

    Raises
    ------
    TabularError
        Field ``limit`` naming the file, its size and the limit; field ``file`` when it cannot be read.
    """
    p = Path(path)
    cap = limits.max_bytes
    try:
        size = p.stat().st_size
        if size > cap:
            raise TabularError(str(p), None, "limit", f"{size} bytes, over the limit of {cap} bytes")
        with p.open("rb") as fh:
            want = size + 1
            data = fh.read(want)
            if len(data) == want:  # larger than the file system said: read on, still bounded
                data += fh.read(cap + 1 - len(data))
    except OSError as exc:
        raise TabularError(str(p), None, "file", f"cannot read: {exc}") from None
    if len(data) > cap:
        raise TabularError(str(p), None, "limit", f"more than {cap} bytes, over the limit of {cap} bytes")
    return data


def _check_zip(path: Path, name: str, limits: Limits) -> None:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise TabularError(name, None, "limit", f"{size} bytes, over the limit of {limits.max_bytes}")
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise TabularError(name, None, "file", f"不是可读的 XLSX 工作簿 / not a readable XLSX workbook: {exc}") from None
    if total > limits.max_bytes:
        raise TabularError(name, None, "limit", f"{total} bytes uncompressed, over the limit of {limits.max_bytes}")


def read_xlsx(
    path: str | Path,
    limits: Limits = DEFAULT_LIMITS,
    sheets: Literal["first", "all"] = "first",
    cell: Callable[[Any, str], Any] | None = None,
) -> list[Sheet]:
    """Read the first (or every) sheet of a workbook, header in row 1 of each.

    The sheet's declared dimension is ignored (a hostile ``A1:XFD1048576`` would make a reader pad a
    billion cells): only cells present are read, within :class:`Limits`.

    Parameters
    ----------
    cell : callable, optional
        ``cell(value, number_format) -> value`` applied to every data cell (e.g. a percentage shown as
        ``1.0%``); without it the stored values are read (faster).

    Raises
    ------
    TabularError
        A file that is not a readable workbook (truncated, not a zip), a duplicate header, a limit
        exceeded — naming the file (``file[sheet]``), row and field.
    """
    from openpyxl import load_workbook

    p = Path(path)
    _check_zip(p, str(p), limits)
    t0 = time.monotonic()
    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except TabularError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile, KeyError, XML, InvalidFile errors
        raise TabularError(str(p), None, "file", f"不是可读的 XLSX 工作簿 / not a readable XLSX workbook: "
                           f"{type(exc).__name__}: {exc}") from None
    out: list[Sheet] = []
    try:
        for ws in wb.worksheets[:1] if sheets == "first" else wb.worksheets:
            name = f"{p}[{ws.title}]"
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # do not trust <dimension>: read the cells that are there
            budget = _Budget(name, limits)
            budget.t0 = t0
            try:
                it = ws.iter_rows(values_only=cell is None)
                sheet: Sheet | None = None
                for rowno, row in enumerate(it, start=1):
                    budget.row(rowno, len(row))
                    if cell is None:
                        vals: Sequence[Any] = row
                    else:
                        vals = [cell(c.value, getattr(c, "number_format", "") or "") for c in row]
                    if sheet is None:
                        sheet = Sheet(name, ws.title, check_header(vals, name, limits))
                        continue
                    if all(_blank(v) for v in vals):
                        continue
                    sheet.rows.append((rowno, _fit(sheet, rowno, vals, limits)))
            except TabularError:
                raise
            except Exception as exc:  # noqa: BLE001 - damaged sheet XML inside a readable zip
                raise TabularError(name, budget.rows or None, "file", f"damaged worksheet: "
                                   f"{type(exc).__name__}: {exc}") from None
            if sheet is not None:
                out.append(sheet)
            elif sheets == "first":
                raise TabularError(name, 1, "header", f"empty sheet {ws.title!r}")
    finally:
        wb.close()
    if not out and not wb.worksheets:  # e.g. <sheets/> emptied: found by the long hostile run of readings XLSX
        raise TabularError(str(p), None, "file", "工作簿没有工作表 / the workbook has no worksheet")
    return out


def read_table(
    path: str | Path,
    limits: Limits = DEFAULT_LIMITS,
    sheets: Literal["first", "all"] = "first",
    cell: Callable[[Any, str], Any] | None = None,
) -> list[Sheet]:
    """Read a CSV (one sheet) or XLSX (first or every sheet) file by its suffix.

    Raises
    ------
    TabularError
        Unsupported suffix, unreadable file, or any problem :func:`read_csv` / :func:`read_xlsx` refuse.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(p, limits, sheets, cell)
    if suffix in (".csv", ".txt", ""):
        return [read_csv(read_limited(p, limits), str(p), limits)]
    raise TabularError(str(p), None, "file", f"unknown file type {suffix!r} (expected .csv or .xlsx)")
