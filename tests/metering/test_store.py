"""Validation and the store: every row stored, quarantined or a duplicate; idempotent; durable layout."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmet.metering import Catalog, RawReading, Store, file_batch_id, readings_to_batch, store_generation
from carbonmet.metering.readers import read_csv_bytes
from carbonmet.metering.rules import default_rules, is_rollover
from carbonmet.metering.schemas import READINGS_SCHEMA

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _r(point: str | None, minute: int, value: float | None, **kw: object) -> RawReading:
    return RawReading(ts=T0 + timedelta(minutes=minute), value=value, point_id=point, **kw)  # type: ignore[arg-type]


def _ingest(store: Store, catalog: Catalog, readings: list[RawReading], batch: str):
    return store.ingest_readings(readings, batch, catalog, source="test", raw=repr(readings).encode())


def test_each_reason_and_counts_add_up(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    rs = [
        _r("E01.GAS", 0, 1200.0),  # stored
        _r("E01.GAS", 1, 1.3, unit="kNm3/h"),  # stored, converted
        _r("E01.GAS", 2, 9000.0),  # out_of_range (FM-1 0..5000)
        _r("E01.GAS", 3, 1000.0, unit="t"),  # unit_not_convertible
        _r("E01.GAS", 4, 1000.0, unit="bogus"),  # unknown_unit
        _r("E01.GAS", 5, 1000.0, flag="Q"),  # invalid_flag
        _r("E09.NONE", 6, 1.0),  # unknown_point
        _r(None, 7, 1.0, serial="NOPE"),  # unknown_device
        _r(None, 8, 1100.0, serial="FM-2"),  # device_not_installed (FM-2 from 2025-03-01)
        _r(None, 9, 1100.0, serial="FM-1"),  # stored via serial
        _r(None, 10, 1.0),  # no_point
        _r("E01.GAS", 11, None),  # missing_value
        _r("E01.GAS", 0, 1200.0),  # duplicate inside the batch
        _r("E01.GAS", 1, 999.0),  # conflicting_duplicate inside the batch
    ]
    rep = _ingest(st_, catalog, rs, "b1")
    assert rep.received == len(rs) == rep.stored + rep.quarantined + rep.duplicates
    assert (rep.stored, rep.duplicates) == (3, 1)
    assert rep.by_reason == {
        "out_of_range": 1, "unit_not_convertible": 1, "unknown_unit": 1, "invalid_flag": 1, "unknown_point": 1,
        "unknown_device": 1, "device_not_installed": 1, "no_point": 1, "missing_value": 1, "conflicting_duplicate": 1,
    }
    stored = st_.readings("E01.GAS")
    assert stored.column("value").to_pylist() == [1200.0, 1300.0, 1100.0]
    q = st_.quarantine()
    assert q.num_rows == rep.quarantined
    assert set(q.column("reason").to_pylist()) == set(rep.by_reason)
    assert all(q.column("detail").to_pylist())
    # the raw input is archived
    assert len(list((tmp_path / "raw" / "test").glob("*/*.bin"))) == 1


def test_reingest_same_batch_is_idempotent(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    data = ("point_id,ts,value\n" + "".join(
        f"E01.GAS,2025-01-01T08:{m:02d}:00+08:00,{1000 + m}\n" for m in range(30)) + "E01.GAS,bad,1\n").encode()
    b = read_csv_bytes(data, "f.csv")
    r1 = st_.ingest(b, file_batch_id(data), catalog, source="file", raw=data)
    r2 = st_.ingest(b, file_batch_id(data), catalog, source="file", raw=data)
    assert (r1.stored, r1.quarantined) == (30, 1)
    assert r2.already_ingested and r2.duplicates == 31 and r2.stored == 0
    # the same readings under another batch id (a re-exported file): duplicates by (point, ts, value)
    data2 = data.replace(b"\nE01.GAS,bad,1\n", b"\n")
    r3 = st_.ingest(read_csv_bytes(data2, "g.csv"), file_batch_id(data2), catalog, source="file", raw=data2)
    assert (r3.stored, r3.duplicates, r3.quarantined) == (0, 30, 0)
    assert st_.readings("E01.GAS").num_rows == 30
    assert st_.quarantine().num_rows == 1
    # a reopened store knows the batch (journal on disk)
    st2 = Store(tmp_path)
    assert st2.is_ingested(file_batch_id(data))


def test_conflicting_value_against_store(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0)], "a")
    rep = _ingest(st_, catalog, [_r("E01.GAS", 0, 1001.0), _r("E01.GAS", 0, 1000.0)], "b")
    assert rep.by_reason == {"conflicting_duplicate": 1} and rep.duplicates == 1


def test_totaliser_rollover_and_decrease(tmp_path: Path, catalog: Catalog) -> None:
    rules = default_rules()
    assert is_rollover(99_990.0, 5.0, rules) and not is_rollover(50_000.0, 5.0, rules)
    st_ = Store(tmp_path)
    vals = [99_980.0, 99_990.0, 5.0, 15.0, 10.0, 25.0]  # rollover at 3rd, decrease at 5th
    rep = _ingest(st_, catalog, [_r("E01.COAL", i, v) for i, v in enumerate(vals)], "t1")
    assert rep.by_reason == {"totaliser_decrease": 1}
    assert {n.check for n in rep.notices} >= {"rollover", "totaliser_decrease"}
    assert st_.readings("E01.COAL").column("value").to_pylist() == [99_980.0, 99_990.0, 5.0, 15.0, 25.0]
    # a later batch is checked against the stored neighbours
    rep2 = _ingest(st_, catalog, [_r("E01.COAL", 6, 20.0), _r("E01.COAL", 7, 30.0)], "t2")
    assert rep2.by_reason == {"totaliser_decrease": 1} and rep2.stored == 1
    # a single spike in a batch is the reading rejected, not everything after it
    rep3 = _ingest(st_, catalog, [_r("E01.COAL", 8, 31.0), _r("E01.COAL", 9, 5_000.0), _r("E01.COAL", 10, 32.0),
                                  _r("E01.COAL", 11, 33.0)], "t3")
    assert rep3.by_reason == {"totaliser_decrease": 1} and rep3.stored == 3
    assert 5_000.0 not in st_.readings("E01.COAL").column("value").to_pylist()


def test_spike_quarantined_flatline_and_late_data_flagged(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    rng = np.random.default_rng(1)
    vals = list(1000 + rng.normal(0, 5, 60))
    vals[30] = 4900.0  # in range, but 780 σ off
    rep = _ingest(st_, catalog, [_r("E01.GAS", i, v) for i, v in enumerate(vals)], "s1")
    assert rep.by_reason == {"spike": 1}
    flat = [_r("E01.GAS", 100 + i, 1234.0) for i in range(40)]
    rep2 = _ingest(st_, catalog, flat, "s2")
    assert rep2.stored == 40 and any(n.check == "flatline" and n.count == 40 for n in rep2.notices)
    rep3 = _ingest(st_, catalog, [_r("E01.GAS", 61, 1001.0)], "s3")  # older than newest stored
    assert rep3.stored == 1 and any(n.check == "out_of_order" for n in rep3.notices)
    rep4 = _ingest(st_, catalog, [_r("E01.GAS", 200 + i * (30 if i == 5 else 1), 1000.0 + i) for i in range(10)], "s4")
    assert any(n.check == "gap" for n in rep4.notices)


def test_outage_and_restart_are_not_spikes(tmp_path: Path, catalog: Catalog) -> None:
    """Regression (lead, from the demo): a plant trip drops the flow to zero for hours and then comes back;
    those are real readings and must be stored, while an isolated excursion is still quarantined."""
    st_ = Store(tmp_path)
    rng = np.random.default_rng(2)
    vals = list(1000 + rng.normal(0, 5, 120))
    vals[40:52] = [0.0] * 12  # a 12-reading outage
    vals[52:56] = [250.0, 500.0, 750.0, 900.0]  # restart ramp
    vals[90] = 3000.0  # one isolated excursion
    rep = _ingest(st_, catalog, [_r("E01.GAS", i, v) for i, v in enumerate(vals)], "o1")
    assert rep.by_reason == {"spike": 1} and rep.stored == 119
    assert 3000.0 not in st_.readings("E01.GAS").column("value").to_pylist()


def test_reads_and_dedups_against_partitions_written_by_others(tmp_path: Path, catalog: Catalog) -> None:
    """The reference dataset writes READINGS_SCHEMA files straight into the layout, no journal."""
    d = tmp_path / "readings" / "enterprise=E01" / "point=E01.GAS" / "month=2025-01"
    d.mkdir(parents=True)
    ts = [T0 + timedelta(minutes=m) for m in range(5)]
    t = pa.table(
        {"ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "value": [1000.0, 1001, 1002, 1003, 1004],
         "flag": pa.array(["N"] * 5).dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
         "source": pa.array(["measured"] * 5).dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string())),
         "batch": ["refdata-1"] * 5},
        schema=READINGS_SCHEMA,
    )
    pq.write_table(t, d / "refdata.parquet")
    st_ = Store(tmp_path)
    assert st_.readings("E01.GAS").column("value").to_pylist() == [1000.0, 1001, 1002, 1003, 1004]
    rep = _ingest(st_, catalog, [_r("E01.GAS", 2, 1002.0), _r("E01.GAS", 9, 1005.0)], "x")
    assert (rep.stored, rep.duplicates) == (1, 1)


def test_crashed_batch_files_are_removed_on_open(tmp_path: Path, catalog: Catalog) -> None:
    """A batch journaled as 'writing' (process died before commit) leaves no readings behind."""
    st_ = Store(tmp_path)
    _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0)], "ok")
    orphan = tmp_path / "readings/enterprise=E01/point=E01.GAS/month=2025-01/part-orphan.parquet"
    pq.write_table(pq.read_table(next(orphan.parent.glob("part-*.parquet"))).slice(0, 0), orphan)
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("INSERT INTO batches (batch_id, state, files) VALUES ('dead', 'writing', ?)",
               (json.dumps([str(orphan.relative_to(tmp_path))]),))
    db.commit()
    db.close()
    st_.close()
    st2 = Store(tmp_path)
    assert not orphan.exists()
    assert not st2.is_ingested("dead")
    assert st2.readings("E01.GAS").num_rows == 1


def test_layout_matches_docs(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0), _r("E01.GAS", 60 * 24 * 40, 1000.0)], "lay")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "readings").rglob("*.parquet"))
    assert [f.rsplit("/", 1)[0] for f in files] == [
        "readings/enterprise=E01/point=E01.GAS/month=2025-01",
        "readings/enterprise=E01/point=E01.GAS/month=2025-02",
    ]
    assert pq.read_schema(tmp_path / files[0]) == READINGS_SCHEMA


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["E01.GAS", "E01.COAL", "E02.CO2", "NOPE", None]),
            st.integers(0, 50),
            st.one_of(st.none(), st.floats(-10, 6000, allow_nan=False)),
            st.sampled_from(["N", "N", "N", "C", "S", "Z"]),
        ),
        max_size=60,
    )
)
def test_counts_always_add_up_and_reingest_is_all_duplicates(
    tmp_path_factory: pytest.TempPathFactory, catalog: Catalog, rows: list[tuple]
) -> None:
    root = tmp_path_factory.mktemp("prop")
    st_ = Store(root)
    rs = [_r(p, m, v, flag=f) for p, m, v, f in rows]
    rep = _ingest(st_, catalog, rs, "p1")
    assert rep.received == len(rs) == rep.stored + rep.quarantined + rep.duplicates
    assert sum(rep.by_reason.values()) == rep.quarantined
    stored = sum(st_.readings(p).num_rows for p in catalog)
    assert stored == rep.stored
    # the same readings in a new batch: nothing new is stored, nothing quarantined twice is lost
    rep2 = _ingest(st_, catalog, rs, "p2")
    assert rep2.stored == 0
    assert rep2.received == rep2.stored + rep2.quarantined + rep2.duplicates
    assert sum(st_.readings(p).num_rows for p in catalog) == stored
    batch = readings_to_batch(rs)
    assert batch.num_rows == len(rs)


def test_compaction_merges_small_files_and_survives_a_crash(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    for i in range(10):  # ten streaming batches → ten files in one partition
        _ingest(st_, catalog, [_r("E01.GAS", i, 1000.0 + i)], f"s{i}")
    part = tmp_path / "readings/enterprise=E01/point=E01.GAS/month=2025-01"
    assert len(list(part.glob("*.parquet"))) == 10
    assert st_.compact(min_files=8) == 1
    files = list(part.glob("*.parquet"))
    assert len(files) == 1 and pq.read_schema(files[0]) == READINGS_SCHEMA
    got = st_.readings("E01.GAS")
    assert got.column("value").to_pylist() == [1000.0 + i for i in range(10)]
    assert len(set(got.column("batch").to_pylist())) == 10  # rows keep their batch
    # after compaction the store still detects duplicates
    assert _ingest(st_, catalog, [_r("E01.GAS", 3, 1003.0)], "again").duplicates == 1
    # a crash after the swap was journaled but before the old files were deleted
    for i in range(10, 12):
        _ingest(st_, catalog, [_r("E01.GAS", i, 1000.0 + i)], f"s{i}")
    names = sorted(p.name for p in part.glob("*.parquet"))
    merged = pa.concat_tables([pq.read_table(part / n) for n in names]).sort_by("ts")
    pq.write_table(merged, part / "part-cmerged.parquet")
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("INSERT INTO compactions VALUES (?, 'swap', 'part-cmerged.parquet', ?)",
               (str(part.relative_to(tmp_path)), json.dumps(names)))
    db.commit()
    db.close()
    st_.close()
    st2 = Store(tmp_path)
    assert [p.name for p in part.glob("*.parquet")] == ["part-cmerged.parquet"]
    assert st2.readings("E01.GAS").column("value").to_pylist() == [1000.0 + i for i in range(12)]


def test_rollover_modulus_when_previous_reading_is_in_the_last_unit(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 1: M = 10^(floor(log10 prev)+1); 999 999.7 → 0.5 of a 6-digit register is a rollover."""
    rules = default_rules()
    assert is_rollover(999_999.5, 0.3, rules) and is_rollover(999_999.7, 0.5, rules)
    assert is_rollover(99_990.0, 5.0, rules) and not is_rollover(1000.0, 5.0, rules)  # 1000 is in a 10^4 register
    st_ = Store(tmp_path)
    vals = [999_998.1, 999_998.9, 999_999.7, 0.5, 1.3, 2.1, 50.0, 5000.0]
    for i, v in enumerate(vals):  # streamed, one reading per batch
        rep = _ingest(st_, catalog, [_r("E01.COAL", 60 * i, v)], f"s{i}")
        assert rep.stored == 1, (v, rep.by_reason)


def test_instrument_replacement_breaks_the_register_sequence(tmp_path: Path) -> None:
    """Review finding 1: a replaced totaliser starts near zero; its readings are not decreases of the old one."""
    from datetime import date

    from carbonmet.sites import InstrumentPeriod, PointInfo

    cat = Catalog({"C": PointInfo("C", "E01", "t", "total", instruments=(
        InstrumentPeriod("BS-1", "BS-1", date(2024, 1, 1), date(2025, 3, 1)),
        InstrumentPeriod("BS-2", "BS-2", date(2025, 3, 1), None)))})
    st_ = Store(tmp_path)
    t0 = datetime(2025, 2, 26, 0, tzinfo=UTC)  # 08:00 Asia/Shanghai
    v1, v2 = 500_000.0, 0.0
    for d in range(6):
        t = t0 + timedelta(days=d)
        if d < 3:  # Feb 26–28 on BS-1; BS-2 from Mar 1 (local)
            v1 += 100.0
        else:
            v2 += 100.0
        rep = st_.ingest_readings([RawReading(t, v1 if d < 3 else v2, "C")], f"d{d}", cat, source="test")
        assert rep.stored == 1, rep.by_reason
    # a decrease within one installation is still quarantined
    rep = st_.ingest_readings([RawReading(t0 + timedelta(days=6), 50.0, "C")], "dec", cat, source="test")
    assert rep.by_reason == {"totaliser_decrease": 1}


def test_failed_ingest_leaves_nothing_visible_and_a_resend_is_stored(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 7: the quarantine write fails (here: a file where its directory must go) after the
    partition files were written; the batch is undone, and the re-sent batch is stored, not 'duplicates'."""
    st_ = Store(tmp_path)
    rs = [_r("E01.GAS", i, 1000.0 + i) for i in range(5)] + [_r("E01.GAS", 10, None)]  # one row to quarantine
    blocker = tmp_path / "quarantine" / datetime.now(UTC).strftime("%Y-%m-%d")
    blocker.write_bytes(b"not a directory")
    with pytest.raises(OSError):
        _ingest(st_, catalog, rs, "b7")
    assert st_.readings("E01.GAS").num_rows == 0 and not list((tmp_path / "readings").rglob("*.parquet"))
    assert st_.journal() == [] and not st_.is_ingested("b7")
    blocker.unlink()
    rep = _ingest(st_, catalog, rs, "b7")
    assert (rep.stored, rep.duplicates, rep.quarantined) == (5, 0, 1)
    assert [(j["stored"], j["duplicates"]) for j in st_.journal()] == [(5, 0)]
    assert st_.readings("E01.GAS").num_rows == 5


def test_files_of_an_unfinished_batch_are_not_read(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 7: files of a batch journaled 'writing' (another process died) are neither read nor
    taken as stored readings for duplicate checks, before the next open removes them."""
    st_ = Store(tmp_path)
    _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0)], "ok")
    part = next((tmp_path / "readings").rglob("part-*.parquet"))
    orphan = part.parent / "part-orphan.parquet"
    t = pq.read_table(part)
    pq.write_table(t.set_column(0, "ts", pa.array([T0 + timedelta(minutes=1)], t.schema.field("ts").type)), orphan)
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("INSERT INTO batches (batch_id, state, files) VALUES ('dead', 'writing', ?)",
               (json.dumps([str(orphan.relative_to(tmp_path))]),))
    db.commit()
    db.close()
    assert st_.readings("E01.GAS").num_rows == 1
    assert str(orphan) not in st_.files(["E01.GAS"])
    rep = _ingest(st_, catalog, [_r("E01.GAS", 1, 1000.0)], "again")
    assert rep.stored == 1 and rep.duplicates == 0


def test_resent_reading_with_another_flag_is_a_conflict(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 11 (docs: a different value *or flag* is a conflict): N then D at the same time and
    value must not be counted as a duplicate (the fault flag would be lost)."""
    st_ = Store(tmp_path)
    assert _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0, flag="N")], "n").stored == 1
    rep = _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0, flag="D")], "d")
    assert (rep.stored, rep.duplicates, rep.by_reason) == (0, 0, {"conflicting_duplicate": 1})
    assert "flag" in st_.quarantine().column("detail").to_pylist()[0]
    again = _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0, flag="N")], "n2")  # same value and flag
    assert again.duplicates == 1


def test_D19_temporary_files_of_killed_processes_are_removed_on_open(tmp_path: Path, catalog: Catalog) -> None:
    """A writer killed (kill -9) between writing its ``.parquet.<pid>.tmp`` file and the rename leaves the
    file behind; the next open removes it. A temporary file of a running process is left alone."""
    st_ = Store(tmp_path)
    _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0)], "ok")
    st_.close()
    part = next((tmp_path / "readings/enterprise=E01/point=E01.GAS/month=2025-01").glob("part-*.parquet"))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = part.with_name(f".{part.name}.{child.pid}.tmp")
        dead.write_bytes(part.read_bytes()[:100])  # what the killed writer had got to
        raw_dead = tmp_path / "raw" / f".upload.csv.{child.pid}.tmp"
        raw_dead.write_bytes(b"ts,value\n")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    live = part.with_name(f".{part.name}.{os.getpid()}.tmp")
    live.write_bytes(b"in progress")
    st2 = Store(tmp_path)
    assert not dead.exists() and not raw_dead.exists()
    assert live.exists()
    assert st2.readings("E01.GAS").num_rows == 1
    st2.close()


def test_reading_while_another_thread_ingests_never_deadlocks(tmp_path: Path, catalog) -> None:
    # regression: a reader took the file lock then the thread lock, an ingest the thread lock then the file lock
    import threading

    from carbonmet.metering import RawReading

    store = Store(tmp_path / "s")
    t0 = datetime(2025, 2, 1, tzinfo=UTC)

    def write() -> None:
        for i in range(20):
            store.ingest_readings([RawReading(t0 + timedelta(hours=i), 100.0, "E01.GAS")], f"b{i}", catalog,
                                  source="test")

    w = threading.Thread(target=write, daemon=True)
    r = threading.Thread(target=lambda: [store.readings("E01.GAS") for _ in range(100)], daemon=True)
    w.start()
    r.start()
    w.join(120)
    r.join(120)
    assert not w.is_alive() and not r.is_alive(), "deadlock between a reader and an ingest"
    assert store.readings("E01.GAS").num_rows == 20


def test_store_generation_follows_commits_from_any_connection_and_a_replaced_journal(
        tmp_path: Path, catalog: Catalog) -> None:
    root = tmp_path / "s"
    assert store_generation(root) == (0, "")  # never opened
    st_ = Store(root)
    g0 = store_generation(root)
    assert g0[0] == 0
    assert store_generation(root) == g0  # unchanged: the kept connection answers
    _ingest(st_, catalog, [_r("E01.GAS", 0, 1000.0)], "b1")
    g1 = store_generation(root)
    assert g1[0] == 1 and g1 != g0
    # another process commits to the same journal
    code = ("import sys; from carbonmet.metering import Store, Catalog; from datetime import datetime, UTC; "
            "import pickle; cat = pickle.loads(sys.stdin.buffer.read()); "
            "from carbonmet.metering import RawReading; s = Store(sys.argv[1]); "
            "s.ingest_readings([RawReading(ts=datetime(2025, 1, 1, 1, tzinfo=UTC), value=1001.0, "
            "point_id='E01.GAS')], 'b2', cat, source='test', raw=b'x'); s.close()")
    subprocess.run([sys.executable, "-c", code, str(root)], input=pickle.dumps(catalog), check=True)
    assert store_generation(root)[0] == 2
    st_.close()
    # the store removed and made anew at the same place: the new journal is read, not the old one
    shutil.rmtree(root)
    assert store_generation(root) == (0, "")
    st3 = Store(root)
    assert store_generation(root)[0] == 0
    _ingest(st3, catalog, [_r("E01.GAS", 0, 1000.0)], "c1")
    assert store_generation(root)[0] == 1
    st3.close()
