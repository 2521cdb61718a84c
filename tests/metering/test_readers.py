"""CSV/XLSX readers: fields parsed or named as bad, never dropped; property tests with hypothesis."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmet.metering import ColumnMap, RawReading, ReadError, read_file, readings_to_batch
from carbonmet.metering.readers import read_csv_bytes, zone


def _csv(rows: list[dict[str, str]], header: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def test_good_rows_parse_with_offsets_and_origins() -> None:
    data = _csv(
        [
            {"point_id": "P1", "ts": "2025-01-01T08:00:00+08:00", "value": "1.5", "unit": "t", "flag": "N"},
            {"point_id": "P1", "ts": "2025-01-01T00:01:00Z", "value": "-2e3", "unit": "", "flag": ""},
        ],
        ["point_id", "ts", "value", "unit", "flag"],
    )
    t = read_csv_bytes(data, "a.csv")
    assert t.column("ts").to_pylist() == [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 0, 1, tzinfo=UTC)]
    assert t.column("value").to_pylist() == [1.5, -2000.0]
    assert t.column("unit").to_pylist() == ["t", None]
    assert t.column("flag").to_pylist() == ["N", "N"]  # empty flag → N (docs/formats/readings.md)
    assert t.column("origin").to_pylist() == ["a.csv", "a.csv"] and t.column("line").to_pylist() == [2, 3]
    assert t.column("error").null_count == 2


def test_bad_fields_are_kept_with_an_error_code() -> None:
    data = _csv(
        [
            {"point_id": "P1", "ts": "2025-01-01T08:00:00", "value": "1"},
            {"point_id": "P1", "ts": "yesterday", "value": "1"},
            {"point_id": "P1", "ts": "", "value": "1"},
            {"point_id": "P1", "ts": "2025-01-01T08:00:00+08:00", "value": "1,5"},
            {"point_id": "P1", "ts": "2025-01-01T08:00:00+08:00", "value": ""},
            {"point_id": "P1", "ts": "2025-01-01T08:00:00+08:00", "value": "nan"},
        ],
        ["point_id", "ts", "value"],
    )
    t = read_csv_bytes(data, "b.csv")
    assert t.num_rows == 6
    assert t.column("error").to_pylist() == [
        "naive_timestamp", "bad_timestamp", "missing_timestamp", "bad_value", "missing_value", "bad_value",
    ]
    assert t.column("raw_value").to_pylist()[3] == "1,5"


def test_naive_times_accepted_with_a_default_zone() -> None:
    data = _csv([{"serial": "S", "ts": "2025-01-01 08:00:00", "value": "3"}], ["serial", "ts", "value"])
    t = read_csv_bytes(data, "c.csv", default_tz=zone("Asia/Shanghai"))
    assert t.column("ts").to_pylist() == [datetime(2025, 1, 1, tzinfo=UTC)]
    assert t.column("error").to_pylist() == [None]


def test_column_mapping_with_chinese_headers() -> None:
    data = _csv([{"计量点": "P1", "时间": "2025-01-01T08:00:00+08:00", "读数": "7"}], ["计量点", "时间", "读数"])
    t = read_csv_bytes(data, "d.csv", ColumnMap.parse("point_id=计量点,ts=时间,value=读数"))
    assert t.column("point_id").to_pylist() == ["P1"] and t.column("value").to_pylist() == [7.0]


def test_missing_required_column_names_file_and_columns() -> None:
    with pytest.raises(ReadError, match=r"e\.csv.*'value'"):
        read_csv_bytes(b"point_id,ts\nP1,2025-01-01T00:00:00Z\n", "e.csv")
    with pytest.raises(ReadError, match="point_id"):
        read_csv_bytes(b"ts,value\n2025-01-01T00:00:00Z,1\n", "e.csv")
    with pytest.raises(ReadError, match="FIELD=COLUMN"):
        ColumnMap.parse("tz=时间")


def test_xlsx_first_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "读数"
    ws.append(["point_id", "ts", "value", "unit"])
    ws.append(["P1", "2025-01-01T08:00:00+08:00", 12.5, "t"])
    ws.append([None, None, None, None])
    ws.append(["P1", datetime(2025, 1, 1, 9, 0), 13, "t"])  # naive datetime cell
    p = tmp_path / "r.xlsx"
    wb.save(p)
    t = read_file(p)
    assert t.column("value").to_pylist()[0] == 12.5
    assert t.column("origin").to_pylist() == ["r.xlsx[读数]"] * 2 and t.column("line").to_pylist() == [2, 4]
    assert t.column("error").to_pylist() == [None, "naive_timestamp"]
    t2 = read_file(p, default_tz=zone("Asia/Shanghai"))
    assert t2.column("ts").to_pylist()[1] == datetime(2025, 1, 1, 1, 0, tzinfo=UTC)


def test_readings_to_batch_flags_problems() -> None:
    t = readings_to_batch(
        [
            RawReading(ts=datetime(2025, 1, 1, tzinfo=UTC), value=1.0, point_id="P"),
            RawReading(ts=datetime(2025, 1, 1), value=1.0, point_id="P"),
            RawReading(ts=datetime(2025, 1, 1, tzinfo=UTC), value=None, point_id="P", flag="D"),
            RawReading(ts=datetime(2025, 1, 1, tzinfo=UTC), value=math.inf, point_id="P"),
        ]
    )
    assert t.column("error").to_pylist() == [None, "naive_timestamp", "missing_value", "bad_value"]


_offsets = st.sampled_from([0, 8 * 60, -5 * 60, 5 * 60 + 30])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
            _offsets,
            st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.sampled_from(["N", "C", "M", "S"]),
            st.text(alphabet="ABCxyz._-0123456789甲乙", min_size=1, max_size=8),
        ),
        max_size=40,
    )
)
def test_csv_round_trip_property(rows: list[tuple[datetime, int, float, str, str]]) -> None:
    """Whatever valid rows we write, we read back the same instants, values, flags and ids, in order."""
    out = []
    for ts, off, v, fl, pid in rows:
        aware = ts.replace(tzinfo=timezone(timedelta(minutes=off)))
        out.append({"point_id": pid, "ts": aware.isoformat(), "value": repr(v), "flag": fl})
    t = read_csv_bytes(_csv(out, ["point_id", "ts", "value", "flag"]), "p.csv")
    assert t.num_rows == len(rows)
    assert t.column("error").null_count == len(rows)
    for got_ts, got_v, got_f, got_p, (ts, off, v, fl, pid) in zip(
        t.column("ts").to_pylist(), t.column("value").to_pylist(), t.column("flag").to_pylist(),
        t.column("point_id").to_pylist(), rows,
    ):
        want = ts.replace(tzinfo=timezone(timedelta(minutes=off)))
        assert got_ts == want.astimezone(UTC)
        assert got_v == v
        assert got_f == fl
        assert got_p == pid.strip()


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_any_value_text_is_parsed_or_named(cells: list[str]) -> None:
    """Arbitrary text in the value column: each row is either a finite number or has a value error."""
    cells = [c.replace("\x00", "") for c in cells]
    out = [{"point_id": "P", "ts": "2025-01-01T00:00:00Z", "value": c} for c in cells]
    t = read_csv_bytes(_csv(out, ["point_id", "ts", "value"]), "q.csv")
    assert t.num_rows == len(cells)
    for v, e in zip(t.column("value").to_pylist(), t.column("error").to_pylist()):
        assert (v is not None and math.isfinite(v) and e is None) or (v is None and e in ("bad_value", "missing_value"))
