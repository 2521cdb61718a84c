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
    lines: pa.Array | None = None,
) -> pa.Table:
    """Columns of strings (named as in the input) → a :data:`BATCH_SCHEMA` table."""
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


def read_csv_bytes(
    data: bytes, name: str, mapping: ColumnMap | None = None, default_tz: tzinfo | None = None
) -> pa.Table:
    """Parse CSV content (UTF-8, header row) into an input batch; origins are ``name:line``."""
    mapping = mapping or ColumnMap()
    text_start = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    first = text_start.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    header = next(csv.reader([first]), [])
    if not header:
        raise ReadError(f"{name}: empty file or no header row")
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise ReadError(f"{name}:1: duplicate column names in header")
    try:
        table = pacsv.read_csv(
            io.BytesIO(text_start),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise ReadError(f"{name}: not a readable UTF-8 CSV file: {exc}") from None
    n = table.num_rows
    cols = {h: table.column(h).combine_chunks() if n else pa.array([], pa.string()) for h in header}
    origins, lines = _origins(name, 2, n)
    return columns_to_batch(cols, n, origins, mapping, default_tz, name, lines)


def read_xlsx(path: Path, mapping: ColumnMap | None = None, default_tz: tzinfo | None = None) -> pa.Table:
    """Read the first sheet of a workbook (header row first); origins are ``file[sheet]:row``."""
    import openpyxl

    mapping = mapping or ColumnMap()
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException
        raise ReadError(f"{path}: not a readable XLSX workbook: {exc}") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if not header_row:
            raise ReadError(f"{path}: empty sheet {ws.title!r}")
        header = [str(h).strip() if h is not None else f"_col{i}" for i, h in enumerate(header_row)]
        data: dict[str, list[str | None]] = {h: [] for h in header}
        for row in rows:
            if row is None or all(c is None for c in row):
                for h in header:  # keep line numbers aligned: blank rows are skipped but counted
                    data[h].append(None)
                continue
            for i, h in enumerate(header):
                c = row[i] if i < len(row) else None
                data[h].append(_cell_text(c))
        sheet = ws.title
    finally:
        wb.close()
    n = len(data[header[0]]) if header else 0
    keep = [i for i in range(n) if any(data[h][i] is not None for h in header)]
    cols = {h: pa.array([data[h][i] for i in keep], type=pa.string()) for h in header}
    lines = pa.array([i + 2 for i in keep], type=pa.int64())
    origins = pa.repeat(pa.scalar(f"{path.name}[{sheet}]", pa.string()), len(keep))
    return columns_to_batch(cols, len(keep), origins, mapping, default_tz, str(path), lines)


def _cell_text(c: object) -> str | None:
    if c is None:
        return None
    if isinstance(c, datetime):
        return c.isoformat()
    return str(c)


def read_file(path: Path, mapping: ColumnMap | None = None, default_tz: tzinfo | None = None) -> pa.Table:
    """Read a CSV or XLSX readings file into an input batch (by file extension)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, mapping, default_tz)
    if suffix in (".csv", ".txt", ""):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"{path}: cannot read: {exc}") from None
        return read_csv_bytes(data, path.name, mapping, default_tz)
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
