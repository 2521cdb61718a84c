"""Should an open table format (Delta Lake, via ``deltalake``) replace the store's own journal? (issue 17, point 3)

The same readings go into today's store (:class:`carbonmet.metering.Store`: hive-partitioned Parquet, SQLite
journal, ``flock``) and into a Delta table partitioned the same way (``enterprise``, ``point``, ``month``),
in the same run:

(a) streaming: small durable batches one after another, as an HJ 212 server or MQTT listener writes them
    (each batch one commit); batches per second;
(b) bulk: one file import of ``BULK`` rows;
(c) many writers: ``WRITERS`` processes appending at once to one store / one table; rows stored, time
    (including each process's start);
(d) a writer killed with SIGKILL in the middle of its appends, ``KILLS`` times: is the table still readable,
    and does it hold exactly the committed batches?
(e) the monthly query (per point and month: count, sum, mean) with DuckDB over the small files of (a)+(b),
    then after compaction (``Store.compact`` / ``DeltaTable.optimize.compact`` + ``vacuum``).

What Delta does not do for us is listed in the result (raw archive, quarantine, message keys, cursors: the
journal's other duties). docs/formats/readings.md records the decision.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from carbonmet.metering import Catalog, PointInfo, RawReading, Store, readings_to_batch

POINTS = [f"E{e:02d}.P{p}" for e in range(1, 3) for p in range(4)]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
_DELTA_SCHEMA = pa.schema([("enterprise", pa.string()), ("point", pa.string()), ("month", pa.string()),
                           ("ts", pa.timestamp("us", tz="UTC")), ("value", pa.float64()), ("flag", pa.string()),
                           ("source", pa.string()), ("batch", pa.string())])


def _catalog() -> Catalog:
    return Catalog({p: PointInfo(p, p[:3], "Nm3/h", "rate", quantity="normal_volume_flow", carrier="natural_gas")
                    for p in POINTS})


def _batch(b: int, per_point: int) -> list[RawReading]:
    """Batch ``b``: ``per_point`` minutes for every point, minutes after the batches before it."""
    return [RawReading(T0 + timedelta(minutes=b * per_point + i), 100.0 + (b * per_point + i) % 17,
                       point_id=p, unit="Nm3/h")
            for p in POINTS for i in range(per_point)]


def _delta_table(readings: list[RawReading], batch_id: str) -> pa.Table:
    ts = [r.ts for r in readings]
    return pa.Table.from_pydict({
        "enterprise": [str(r.point_id)[:3] for r in readings], "point": [r.point_id for r in readings],
        "month": [t.strftime("%Y-%m") for t in ts], "ts": ts, "value": [r.value for r in readings],
        "flag": ["N"] * len(readings), "source": ["measured"] * len(readings), "batch": [batch_id] * len(readings),
    }, schema=_DELTA_SCHEMA)


def _delta_append(uri: str, table: pa.Table, app_id: str | None = None, version: int = 0) -> None:
    from deltalake import CommitProperties, Transaction, write_deltalake

    props = CommitProperties(app_transactions=[Transaction(app_id, version)]) if app_id else None
    write_deltalake(uri, table, mode="append", partition_by=["enterprise", "point", "month"],
                    commit_properties=props)


def _files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.parquet"))


def _monthly_ours(root: Path) -> tuple[float, list[tuple[Any, ...]]]:
    t0 = time.perf_counter()
    rows = duckdb.sql(
        f"SELECT point, month, count(*), round(sum(value), 6) FROM read_parquet('{root}/readings/*/*/*/*.parquet', "
        "hive_partitioning=true) GROUP BY ALL ORDER BY ALL").fetchall()
    return time.perf_counter() - t0, rows


def _monthly_delta(uri: str) -> tuple[float, list[tuple[Any, ...]]]:
    from deltalake import DeltaTable

    t0 = time.perf_counter()
    ds = DeltaTable(uri).to_pyarrow_dataset()  # noqa: F841 — read by DuckDB's replacement scan
    rows = duckdb.sql("SELECT point, month, count(*), round(sum(value), 6) FROM ds GROUP BY ALL ORDER BY ALL").fetchall()
    return time.perf_counter() - t0, rows


# one writer process: appends batches first..first+n-1, printing each committed batch id (after it is durable)
_WRITER = """
import sys
sys.path.insert(0, sys.argv[5])
from bench.bench_table_format import _batch, _catalog, _delta_append, _delta_table
from carbonmet.metering import Store
kind, where, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cat = _catalog()
st = Store(where) if kind == "store" else None
for b in range(first, first + n):
    rs = _batch(b, 3)
    if st is not None:
        st.ingest_readings(rs, f"b{b}", cat, source="bench")
    else:
        _delta_append(where, _delta_table(rs, f"b{b}"), app_id=f"w{first}", version=b)
    print(f"b{b}", flush=True)
"""


def _writers(kind: str, where: str, writers: int, per_writer: int) -> dict[str, Any]:
    here = str(Path(__file__).resolve().parent.parent)
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, kind, where, str(w * 1000), str(per_writer), here],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(writers)]
    outs = [p.communicate(timeout=600) for p in procs]
    seconds = time.perf_counter() - t0
    failed = [err[-300:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode != 0]
    acked = sum(len(out.split()) for out, _ in outs)
    return {"writers": writers, "batches_each": per_writer, "seconds": round(seconds, 3),
            "batches_per_s": round(acked / seconds, 1), "acknowledged_batches": acked, "failed_writers": len(failed),
            "errors": failed[:2]}


def _stored_rows(kind: str, where: str) -> int:
    if kind == "store":
        return int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{where}/readings/*/*/*/*.parquet')").fetchall()[0][0])
    from deltalake import DeltaTable

    return int(DeltaTable(where).to_pyarrow_dataset().count_rows())


def _kill_runs(kind: str, base: Path, kills: int) -> dict[str, Any]:
    """A writer is killed after a random-ish number of acknowledged batches; what is stored must be exactly the
    acknowledged batches plus at most the one in flight (never acknowledged, so re-sent: counted as at most one)."""
    here = str(Path(__file__).resolve().parent.parent)
    exact, readable, partial = 0, 0, 0
    unreadable: list[str] = []
    for k in range(kills):
        where = str(base / f"{kind}-kill-{k}")
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, kind, where, "0", "200", here],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        acked = 0
        assert proc.stdout is not None
        while acked < 3 + k:
            if not proc.stdout.readline():
                break
            acked += 1
        time.sleep(0.003 * k)  # land the kill at different points of the next batch
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        acked += len(rest.split())
        try:
            rows = _stored_rows(kind, where)
        except Exception as exc:  # noqa: BLE001 — an unreadable table is what is being counted
            unreadable.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        readable += 1
        per_batch = len(POINTS) * 3
        if kind == "store":
            Store(where)  # a restart undoes the batch in flight (never acknowledged)
            rows = _stored_rows(kind, where)
        if rows == acked * per_batch:
            exact += 1
        elif rows == (acked + 1) * per_batch:
            partial += 1  # the batch in flight committed but its acknowledgement was lost
    return {"kills": kills, "readable_after": readable, "exactly_the_acknowledged": exact,
            "one_unacknowledged_batch_committed": partial, "unreadable": unreadable}


def run(quick: bool = False) -> dict[str, Any]:
    stream_batches = 60 if quick else 300
    per_point = 3
    bulk_minutes = 2_000 if quick else 60_000
    writers, per_writer = (2, 10) if quick else (4, 40)
    kills = 3 if quick else 8
    cat = _catalog()
    tmp = Path(tempfile.mkdtemp(prefix="cm-tablefmt-"))
    out: dict[str, Any] = {"points": len(POINTS), "readings_per_stream_batch": len(POINTS) * per_point}
    try:
        store_root, delta_uri = tmp / "store", str(tmp / "delta")
        st = Store(store_root)
        batches = [_batch(b, per_point) for b in range(stream_batches)]
        t0 = time.perf_counter()
        for b, rs in enumerate(batches):
            st.ingest_readings(rs, f"s{b}", cat, source="bench")
        ours_s = time.perf_counter() - t0
        tables = [_delta_table(rs, f"s{b}") for b, rs in enumerate(batches)]
        t0 = time.perf_counter()
        for b, t in enumerate(tables):
            _delta_append(delta_uri, t, app_id="stream", version=b)
        delta_s = time.perf_counter() - t0
        out["streaming"] = {"batches": stream_batches, "ours_batches_per_s": round(stream_batches / ours_s, 1),
                            "delta_batches_per_s": round(stream_batches / delta_s, 1),
                            "ratio_ours_vs_delta": round(delta_s / ours_s, 3),
                            "note": "ours also validates each reading against the catalog and archives the raw batch"}

        bulk = [RawReading(T0 + timedelta(days=400, minutes=i), 50.0 + i % 11, point_id=p, unit="Nm3/h")
                for p in POINTS for i in range(bulk_minutes // len(POINTS))]
        arrow_batch = readings_to_batch(bulk)  # both sides start from an Arrow table
        t0 = time.perf_counter()
        rep = st.ingest(arrow_batch, "bulk", cat, source="bench")
        ours_b = time.perf_counter() - t0
        dt = _delta_table(bulk, "bulk")
        t0 = time.perf_counter()
        _delta_append(delta_uri, dt)
        delta_b = time.perf_counter() - t0
        out["bulk"] = {"rows": len(bulk), "stored": rep.stored, "ours_s": round(ours_b, 3), "delta_s": round(delta_b, 3),
                       "ratio_ours_vs_delta": round(ours_b / delta_b, 3),
                       "note": "both from an Arrow table; ours validates every row against the catalog (range, unit "
                               "conversion, dedupe against stored readings) and archives the raw input"}

        q_ours, rows_ours = _monthly_ours(store_root)
        q_delta, rows_delta = _monthly_delta(delta_uri)
        files_ours, files_delta = _files(store_root / "readings"), _files(Path(delta_uri))
        t0 = time.perf_counter()
        st.compact(min_files=2)
        c_ours = time.perf_counter() - t0
        from deltalake import DeltaTable

        t0 = time.perf_counter()
        d = DeltaTable(delta_uri)
        d.optimize.compact()
        d.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
        c_delta = time.perf_counter() - t0
        q2_ours, rows2_ours = _monthly_ours(store_root)
        q2_delta, rows2_delta = _monthly_delta(delta_uri)
        out["monthly_query"] = {
            "same_result": rows_ours == rows_delta == rows2_ours == rows2_delta, "groups": len(rows_ours),
            "small_files": {"ours_files": files_ours, "delta_files": files_delta, "ours_s": round(q_ours, 4),
                            "delta_s": round(q_delta, 4)},
            "compaction": {"ours_s": round(c_ours, 3), "delta_s": round(c_delta, 3)},
            "compacted": {"ours_files": _files(store_root / "readings"), "delta_files": _files(Path(delta_uri)),
                          "ours_s": round(q2_ours, 4), "delta_s": round(q2_delta, 4)},
        }

        conc: dict[str, Any] = {}
        for kind in ("store", "delta"):
            where = str(tmp / f"{kind}-many")
            r = _writers(kind, where, writers, per_writer)
            r["rows_stored"] = _stored_rows(kind, where)
            r["rows_expected"] = writers * per_writer * len(POINTS) * 3
            conc[kind] = r
        out["many_writers"] = conc
        out["kill_9"] = {kind: _kill_runs(kind, tmp, kills) for kind in ("store", "delta")}
        out["delta_lacks"] = [
            "raw archive of every input as received", "quarantine of rejected rows with reason",
            "message-key idempotency (MQTT msg ids, HJ 212 frame hashes) beyond one app id's version",
            "source cursors committed with the batch", "validation against stored data (conflicting re-sends)",
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["note"] = ("same machine, same run; a shared 2-core machine (other jobs running): ratios, not absolute "
                   "figures, are the result. DuckDB reads Delta through deltalake's Arrow dataset (its delta "
                   "extension needs a download this machine cannot make).")
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
