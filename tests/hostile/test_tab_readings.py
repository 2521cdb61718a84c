"""Hostile-input harness, readings CSV and XLSX (issue 10 §4).

Every generated case (a valid readings file, mutated) is either refused with :class:`ReadError` naming
the file, or read into a batch; the batch then goes through a real :class:`Store`, where
``received == stored + quarantined + duplicates`` and the readings stored before it are unchanged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from carbonmet.metering import ReadError, Store, file_batch_id, read_file
from carbonmet.metering.readers import read_csv_bytes
from carbonmet.sites import Catalog, InstrumentPeriod, PointInfo

from .tab_mutate import (
    damaged_xlsx,
    fast,
    hostile_csv,
    mutated_rows,
    slow,
    slow_settings,
    to_csv,
    xlsx_bytes,
)

CATALOG = Catalog(
    {
        "E01.COAL": PointInfo(
            "E01.COAL", "E01", "t", "total", quantity="mass", carrier="raw_coal",
            instruments=(InstrumentPeriod("BS-1", "BS-1", date(2024, 1, 1), None, 0, 2000, "t/h", 0.5,
                                          (("JL-2024-001", date(2024, 6, 1), date(2025, 6, 1)),)),),
        ),
        "E01.GAS": PointInfo("E01.GAS", "E01", "Nm3/h", "rate", quantity="normal_volume_flow",
                             carrier="natural_gas"),
        "E02.CO2": PointInfo("E02.CO2", "E02", "percent", "rate", quantity="concentration", carrier="flue_gas"),
    }
)
HEADER = ["point_id", "ts", "value", "unit", "flag"]
ROWS = (
    [["E01.COAL", f"2025-01-01T{h:02d}:00:00+08:00", f"{1000 + 2 * h}.25", "t", "N"] for h in range(6)]
    + [["E01.GAS", f"2025-01-01T{h:02d}:30:00Z", f"{400 + h}.5", "Nm3/h", ""] for h in range(4)]
    + [["E02.CO2", "2025-01-02T00:00:00+08:00", "12.5", "%", "M"], ["E02.CO2", "2025-01-02T01:00:00+08:00", "12.4", "", ""]]
)
EXTRA = ("E01.COAL", "E01.GAS", "E02.CO2", "E99.NOPE", "kg", "Nm3", "m3/h", "F", "D", "Z", "t/h",
         "2025-01-03T05:00:00+08:00", "2025-03-01T00:00:00Z", "2025-01-01T00:00:00+08:00", "7.5", "-3", "0")
BASE = to_csv([HEADER, *ROWS]).encode("utf-8")


class Harness:
    """One store with the valid file ingested first; a fresh one every ``ROTATE`` cases (bounded growth)."""

    ROTATE = 300

    def __init__(self, root: Path) -> None:
        self.root = root
        self.k = 0
        self._fresh()

    def _fresh(self) -> None:
        self.store = Store(self.root / f"store{self.k}")
        self.k += 1
        self.n = 0
        rep = self.store.ingest(read_csv_bytes(BASE, "base.csv"), file_batch_id(BASE), CATALOG, source="file")
        assert rep.stored == len(ROWS) and rep.quarantined == 0
        self.before = self._snapshot()

    def _snapshot(self) -> dict[str, list[tuple[object, object, object]]]:
        out = {}
        for p in CATALOG:
            t = self.store.readings(p)
            out[p] = sorted(zip(t.column("ts").to_pylist(), t.column("value").to_pylist(),
                                t.column("batch").to_pylist(), strict=True))
        return out

    def ingest(self, batch: object, content: bytes, name: str) -> None:
        if self.n >= self.ROTATE:
            self.store.close()
            self._fresh()
        self.n += 1
        rep = self.store.ingest(batch, file_batch_id(content), CATALOG, source="file", raw=content,  # type: ignore[arg-type]
                                raw_ext=Path(name).suffix, origin=name)
        if rep.already_ingested:
            return
        event(f"stored>0={rep.stored > 0} quarantined>0={rep.quarantined > 0} duplicates>0={rep.duplicates > 0}")
        assert rep.received == batch.num_rows  # type: ignore[attr-defined]
        assert rep.received == rep.stored + rep.quarantined + rep.duplicates
        after = self._snapshot()
        for p, rows in self.before.items():
            assert set(rows) <= set(after[p]), f"{name}: a reading stored before changed or vanished ({p})"
            # nothing stored twice for one timestamp
            ts = [r[0] for r in after[p]]
            assert len(ts) == len(set(ts)), f"{name}: two stored readings of {p} at one time"
        self.before = after


def _check_csv(data: bytes, h: Harness | None) -> None:
    try:
        batch = read_csv_bytes(data, "hostile.csv")
    except ReadError as exc:
        assert "hostile.csv" in str(exc), f"refusal does not name the file: {exc}"
        event("refused")
        return
    event("read")
    if h is not None:
        h.ingest(batch, data, "hostile.csv")


@st.composite
def hostile_xlsx(draw: st.DrawFn) -> bytes:
    grid = draw(mutated_rows(HEADER, ROWS, EXTRA))
    raw = xlsx_bytes({"readings": grid}, draw(st.booleans()))
    return draw(damaged_xlsx(raw))


def _check_xlsx(data: bytes, d: Path, h: Harness | None) -> None:
    path = d / "hostile.xlsx"
    path.write_bytes(data)
    try:
        batch = read_file(path)
    except ReadError as exc:
        assert "hostile.xlsx" in str(exc), f"refusal does not name the file: {exc}"
        event("refused")
        return
    event("read")
    if h is not None:
        h.ingest(batch, data, "hostile.xlsx")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    return Harness(tmp_path_factory.mktemp("hostile-readings"))


@pytest.fixture(scope="module")
def xdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-xlsx")


def test_the_valid_files_are_read_whole(tmp_path: Path) -> None:
    assert read_csv_bytes(BASE, "base.csv").num_rows == len(ROWS)
    p = tmp_path / "base.xlsx"
    p.write_bytes(xlsx_bytes({"readings": [HEADER, *[list(r) for r in ROWS]]}, True))
    assert read_file(p).num_rows == len(ROWS)


def test_csv_with_bare_cr_line_ends_is_refused_naming_the_header_not_a_csv_traceback() -> None:
    # found by the harness: old-Mac line ends (CR only) raised _csv.Error out of read_csv_bytes
    data = BASE.replace(b"\n", b"\r")
    with pytest.raises(ReadError, match=r"r\.csv:1:csv: malformed CSV"):
        read_csv_bytes(data, "r.csv")


@fast
@given(data=hostile_csv(HEADER, ROWS, EXTRA))
def test_hostile_readings_csv_is_refused_or_accounted_for(data: bytes, harness: Harness) -> None:
    _check_csv(data, harness)


@fast
@given(data=hostile_xlsx())
def test_hostile_readings_xlsx_is_refused_or_accounted_for(data: bytes, harness: Harness, xdir: Path) -> None:
    _check_xlsx(data, xdir, harness)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_csv(HEADER, ROWS, EXTRA))
def test_slow_hostile_readings_csv_parser(data: bytes) -> None:
    _check_csv(data, None)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_xlsx())
def test_slow_hostile_readings_xlsx_parser(data: bytes, xdir: Path) -> None:
    _check_xlsx(data, xdir, None)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_csv(HEADER, ROWS, EXTRA))
def test_slow_hostile_readings_csv_through_the_store(data: bytes, harness: Harness) -> None:
    _check_csv(data, harness)
