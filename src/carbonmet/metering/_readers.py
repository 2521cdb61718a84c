"""Readers: CSV / XLSX files and lists of :class:`RawReading` → one columnar input batch (读数导入).

Every reader produces a table with :data:`BATCH_SCHEMA`: one row per received record, nothing dropped.
A field that cannot be parsed leaves ``ts`` or ``value`` null and names the problem in ``error``; the
validator quarantines such rows with that reason. Only problems with the file as a whole (missing
required column, unreadable file) raise :class:`ReadError`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..tabular import (
    DEFAULT_LIMITS,
    Limits,
    RowIssue,
    Sheet,
    TabularError,
    check_header,
    detect_encoding,
    read_csv,
)
from ..tabular import read_xlsx as read_tabular_xlsx
from ._errors import ReadError
from ._types import RawReading

#: Columns of an input batch (before validation).
BATCH_SCHEMA = pa.schema(
    [
        pa.field("point_id", pa.string()),
        pa.field("serial", pa.string()),
        pa.field("ts", pa.timestamp("us", tz="UTC")),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("flag", pa.string()),
        pa.field("origin", pa.string()),
        pa.field("error", pa.string()),  # parse problem code, null if none
        pa.field("raw_ts", pa.string()),
        pa.field("raw_value", pa.string()),
        pa.field("line", pa.int64()),  # row/line in a file (origin is then the file name), else null
    ]
)

_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which input column holds which field (defaults: docs/formats/readings.md)."""

    point_id: str = "point_id"
    serial: str = "serial"
    ts: str = "ts"
    value: str = "value"
    unit: str = "unit"
    flag: str = "flag"

    @classmethod
    def parse(cls, text: str | Sequence[str] | None) -> ColumnMap:
        """From ``"ts=时间,value=读数"`` (field=column pairs, comma-separated, or a list of pairs)."""
        if not text:
            return cls()
        items = text.split(",") if isinstance(text, str) else [p for t in text for p in t.split(",")]
        known = {f.name for f in fields(cls)}
        kw: dict[str, str] = {}
        for item in items:
            if not item.strip():
                continue
            key, sep, col = item.partition("=")
            key, col = key.strip(), col.strip()
            if not sep or key not in known or not col:
                raise ReadError(
                    f"column mapping {item!r}: expected FIELD=COLUMN with FIELD one of {', '.join(sorted(known))}"
                )
            kw[key] = col
        return cls(**kw)


def zone(name: str | None) -> tzinfo | None:
    """A time zone by IANA name (``Asia/Shanghai``) or None."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReadError(f"unknown time zone {name!r}") from None


# --- field parsing (vectorised, with an element-wise fallback that names the bad values) --------------


def _parse_ts_py(s: str | None, default_tz: tzinfo | None) -> tuple[datetime | None, str | None]:
    if s is None or not s.strip():
        return None, "missing_timestamp"
    try:
        t = datetime.fromisoformat(s.strip())
    except ValueError:
        return None, "bad_timestamp"
    if t.tzinfo is None:
        if default_tz is None:
            return None, "naive_timestamp"
        t = t.replace(tzinfo=default_tz)
    return t, None


def _parse_ts(text: pa.Array, default_tz: tzinfo | None) -> tuple[pa.Array, list[tuple[int, str]]]:
    """Strings → timestamp[us, UTC]; returns the array and (row, error code) for unparseable rows."""
    out: list[pa.Array] = []
    errors: list[tuple[int, str]] = []
    typ = pa.timestamp("us", tz="UTC")
    for start in range(0, len(text), _CHUNK):
        chunk = text.slice(start, _CHUNK)
        try:
            arr = pc.cast(chunk, typ)
            if arr.null_count == 0:
                out.append(arr)
                continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        vals: list[datetime | None] = []
        for i, s in enumerate(chunk.to_pylist()):
            t, err = _parse_ts_py(s, default_tz)
            vals.append(t)
            if err:
                errors.append((start + i, err))
        out.append(pa.array(vals, type=typ))
    return (pa.concat_arrays(out) if out else pa.array([], type=typ)), errors


def _parse_value_py(s: str | None) -> tuple[float | None, str | None]:
    if s is None or not s.strip():
        return None, "missing_value"
    try:
        v = float(s.strip())
    except ValueError:
        return None, "bad_value"
    if not math.isfinite(v):
        return None, "bad_value"
    return v, None


def _parse_values(text: pa.Array) -> tuple[pa.Array, list[tuple[int, str]]]:
    out: list[pa.Array] = []
    errors: list[tuple[int, str]] = []
    for start in range(0, len(text), _CHUNK):
        chunk = text.slice(start, _CHUNK)
        try:
            arr = pc.cast(chunk, pa.float64())
            if arr.null_count == 0 and pc.all(pc.is_finite(arr)).as_py() in (True, None):
                out.append(arr)
                continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        vals: list[float | None] = []
        for i, s in enumerate(chunk.to_pylist()):
            v, err = _parse_value_py(s)
            vals.append(v)
            if err:
                errors.append((start + i, err))
        out.append(pa.array(vals, type=pa.float64()))
    return (pa.concat_arrays(out) if out else pa.array([], type=pa.float64())), errors


def _blank_to_null(a: pa.Array) -> pa.Array:
    t = pc.utf8_trim_whitespace(a)
    return pc.if_else(pc.equal(t, ""), pa.scalar(None, pa.string()), t)


def columns_to_batch(
    cols: dict[str, pa.Array], n: int, origins: pa.Array, mapping: ColumnMap, default_tz: tzinfo | None, where: str,
    lines: pa.Array | None = None, row_errors: dict[int, str] | None = None,
) -> pa.Table:
    """Columns of strings (named as in the input) → a :data:`BATCH_SCHEMA` table.

    ``row_errors`` ({row index: code}) marks rows the file reader found broken as a whole (surplus cells,
    a truncated last row); that code wins over a field's parse error.
    """
    m = mapping
    if m.ts not in cols:
        raise ReadError(f"{where}: required column {m.ts!r} (ts) missing; columns: {', '.join(cols)}")
    if m.value not in cols:
        raise ReadError(f"{where}: required column {m.value!r} (value) missing; columns: {', '.join(cols)}")
    if m.point_id not in cols and m.serial not in cols:
        raise ReadError(f"{where}: need a {m.point_id!r} (point_id) or {m.serial!r} (serial) column")
    null = pa.nulls(n, pa.string())

    def col(name: str) -> pa.Array:
        return _blank_to_null(cols[name]) if name in cols else null

    raw_ts, raw_value = cols[m.ts], cols[m.value]
    ts, ts_err = _parse_ts(raw_ts, default_tz)
    value, v_err = _parse_values(raw_value)
    err: list[str | None] = [None] * n
    for i, e in v_err:
        err[i] = e
    for i, e in ts_err:  # a bad timestamp is reported before a bad value
        err[i] = e
    for i, e in (row_errors or {}).items():  # a broken row is reported before its fields
        err[i] = e
    flag = col(m.flag)
    flag = pc.fill_null(flag, "N") if flag.null_count else flag
    return pa.Table.from_arrays(
        [col(m.point_id), col(m.serial), ts, value, col(m.unit), flag, origins,
         pa.array(err, type=pa.string()), raw_ts, raw_value,
         lines if lines is not None else pa.nulls(n, pa.int64())],
        schema=BATCH_SCHEMA,
    )


def _origins(name: str, first_line: int, n: int) -> tuple[pa.Array, pa.Array]:
    """(origin = file name, line numbers); ``name:line`` is composed only for quarantined rows."""
    return pa.repeat(pa.scalar(name, pa.string()), n), pa.array(np.arange(first_line, first_line + n, dtype=np.int64))


def _issue_errors(issues: Iterable[RowIssue], index_of: dict[int, int]) -> dict[int, str]:
    """Row issues of the reader → {batch index: error code} (the row is then quarantined with that reason)."""
    return {index_of[i.row]: i.code for i in issues if i.row in index_of}


def _sheet_to_batch(sheet: Sheet, mapping: ColumnMap, default_tz: tzinfo | None, origin: str, where: str) -> pa.Table:
    names = [h or f"_col{i}" for i, h in enumerate(sheet.header)]
    n = len(sheet.rows)
    cols = {h: pa.array([_cell_text(r[1][j]) for r in sheet.rows], type=pa.string()) for j, h in enumerate(names)}
    rownos = [r[0] for r in sheet.rows]
    lines = pa.array(rownos, type=pa.int64())
    origins = pa.repeat(pa.scalar(origin, pa.string()), n)
    row_errors = _issue_errors(sheet.issues, {r: i for i, r in enumerate(rownos)})
    return columns_to_batch(cols, n, origins, mapping, default_tz, where, lines, row_errors)


def read_csv_bytes(
    data: bytes, name: str, mapping: ColumnMap | None = None, default_tz: tzinfo | None = None,
    limits: Limits | None = None,
) -> pa.Table:
    """Parse CSV content (header row) into an input batch; origins are ``name:line``.

    The encoding, header and limits follow :mod:`carbonmet.tabular` (UTF-8 with/without BOM, UTF-16 with
    BOM, GB18030; duplicate column names refused). A large valid UTF-8 file is parsed by pyarrow; a file
    whose rows do not fit its header (surplus cells, a truncated last row) is read row by row and those
    rows are quarantined with reason ``surplus_cells`` or ``truncated_row``.
    """
    mapping = mapping or ColumnMap()
    lim = limits or DEFAULT_LIMITS
    try:
        if len(data) > lim.max_bytes:
            raise TabularError(name, None, "limit", f"{len(data)} bytes, over the limit of {lim.max_bytes}")
        enc = detect_encoding(data, name)
        if enc == "utf-8":
            body = data
        elif enc == "utf-8-sig":
            body = data[3:]
        else:
            body = data.decode(enc).encode("utf-8")
        first = body.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        try:
            raw_header = next(csv.reader([first]), [])
        except csv.Error as exc:  # a bare CR inside the header line (old Mac line ends): as carbonmet.tabular says
            raise TabularError(name, 1, "csv", f"malformed CSV: {exc}") from None
        if not any(h.strip() for h in raw_header):
            raise TabularError(name, 1, "header", "empty file or no header row")
        check_header(raw_header, name, lim)
        header = [h.strip() or f"_col{i}" for i, h in enumerate(raw_header)]
        table = _fast_csv(body, header, lim)
        if table is None:  # rows that do not fit the header, an over-long field, a quoted line break in the header
            return _sheet_to_batch(read_csv(data, name, lim), mapping, default_tz, name, name)
    except TabularError as exc:
        raise ReadError(str(exc)) from None
    n = table.num_rows
    if n > lim.max_rows:
        raise ReadError(str(TabularError(name, lim.max_rows + 2, "limit", f"more than {lim.max_rows} rows")))
    cols = {h: table.column(h).combine_chunks() if n else pa.array([], pa.string()) for h in header}
    origins, lines = _origins(name, 2, n)
    row_errors: dict[int, str] = {}
    if n and not body.endswith((b"\n", b"\r")):
        row_errors[n - 1] = "truncated_row"  # no line end after the last row: the file was cut inside it
    return columns_to_batch(cols, n, origins, mapping, default_tz, name, lines, row_errors)


def _fast_csv(body: bytes, header: list[str], lim: Limits) -> pa.Table | None:
    """pyarrow's CSV parser for a file whose rows all fit the header, else None (read row by row)."""
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    for h in header:
        col = table.column(h)
        if col.length() and (pc.max(pc.utf8_length(col)).as_py() or 0) > lim.max_field_chars:
            return None
        if h.startswith("_col") and col.length() and pc.any(pc.not_equal(pc.utf8_trim_whitespace(col), "")).as_py():
            return None  # cells under a blank header: the row-by-row reader names them
    return table


def read_xlsx(
    path: Path, mapping: ColumnMap | None = None, default_tz: tzinfo | None = None, limits: Limits | None = None
) -> pa.Table:
    """Read the first sheet of a workbook (header row first); origins are ``file[sheet]:row``."""
    mapping = mapping or ColumnMap()
    try:
        (sheet,) = read_tabular_xlsx(path, limits or DEFAULT_LIMITS, "first")
    except TabularError as exc:
        raise ReadError(str(exc)) from None
    return _sheet_to_batch(sheet, mapping, default_tz, f"{path.name}[{sheet.title}]", str(path))


def _cell_text(c: object) -> str | None:
    if c is None:
        return None
    if isinstance(c, datetime):
        return c.isoformat()
    return str(c)


def read_file(
    path: Path, mapping: ColumnMap | None = None, default_tz: tzinfo | None = None, limits: Limits | None = None
) -> pa.Table:
    """Read a CSV or XLSX readings file into an input batch (by file extension), within ``limits``."""
    suffix = path.suffix.lower()
    lim = limits or DEFAULT_LIMITS
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, mapping, default_tz, lim)
    if suffix in (".csv", ".txt", ""):
        try:
            size = path.stat().st_size
            if size > lim.max_bytes:
                raise ReadError(f"{path}:limit: {size} bytes, over the limit of {lim.max_bytes}")
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"{path}: cannot read: {exc}") from None
        return read_csv_bytes(data, path.name, mapping, default_tz, lim)
    raise ReadError(f"{path}: unknown file type {suffix!r} (expected .csv or .xlsx)")


def readings_to_batch(readings: Iterable[RawReading]) -> pa.Table:
    """A list of :class:`RawReading` (HJ 212, MQTT, REST) → an input batch."""
    pid: list[str | None] = []
    ser: list[str | None] = []
    ts: list[datetime | None] = []
    val: list[float | None] = []
    unit: list[str | None] = []
    flag: list[str] = []
    origin: list[str] = []
    err: list[str | None] = []
    raw_ts: list[str | None] = []
    raw_val: list[str | None] = []
    for r in readings:
        e = None
        t: datetime | None = r.ts
        if not isinstance(t, datetime):
            t, e = None, "bad_timestamp"
        elif t.tzinfo is None:
            t, e = None, "naive_timestamp"
        v = r.value
        if e is None:
            if v is None:
                e = "missing_value"
            elif not isinstance(v, int | float) or not math.isfinite(float(v)):
                v, e = None, "bad_value"
        pid.append(r.point_id or None)
        ser.append(r.serial or None)
        ts.append(t)
        val.append(None if v is None else float(v))
        unit.append(r.unit or None)
        flag.append(r.flag or "N")
        origin.append(r.origin)
        err.append(e)
        raw_ts.append(r.ts.isoformat() if isinstance(r.ts, datetime) else str(r.ts))
        raw_val.append(None if r.value is None else repr(r.value))
    return pa.Table.from_arrays(
        [pa.array(pid, pa.string()), pa.array(ser, pa.string()), pa.array(ts, pa.timestamp("us", tz="UTC")),
         pa.array(val, pa.float64()), pa.array(unit, pa.string()), pa.array(flag, pa.string()),
         pa.array(origin, pa.string()), pa.array(err, pa.string()), pa.array(raw_ts, pa.string()),
         pa.array(raw_val, pa.string()), pa.nulls(len(origin), pa.int64())],
        schema=BATCH_SCHEMA,
    )


def file_batch_id(content: bytes) -> str:
    """Idempotency key of an input file: ``file:<sha256 of its bytes>`` (the same file is stored once)."""
    import hashlib

    return "file:" + hashlib.sha256(content).hexdigest()
