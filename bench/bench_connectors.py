"""Readings per second into the store through the connectors: OPC UA and Modbus beside HJ 212, same run.

Each source runs on loopback against a real server: the OPC UA connector reads the history of an asyncua server
(SQLite history, written before the clock starts; ``tests/metering/connectors/opcua_historian.py``), the Modbus
poller polls a pymodbus device as fast as it answers (``modbus_meter.py``), and HJ 212 frames go to the HJ 212
connector's server one after another, each waiting for its 9014. Every reading ends durable in a real
:class:`~carbonmet.metering.Store` (fsync and journal commit per batch), so the figures include the store.

Baseline, same run: the same readings put into a fresh store with :meth:`Store.ingest_readings` directly, in
batches of the same size as the connector made (no transport, no protocol). ``ratio`` = connector / baseline:
how much of the store's own speed the transport leaves.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from carbonmet.metering import PointInfo, RawReading, Store
from carbonmet.metering.connectors import (
    HJ212Connector,
    ModbusPoller,
    OpcUaConnector,
    OpcUaNode,
    Register,
    run_connector,
)

SERVERS = Path(__file__).parents[1] / "tests" / "metering" / "connectors"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _catalog(points: list[str], unit: str = "Nm3/h", kind: str = "rate") -> dict[str, PointInfo]:
    return {p: PointInfo(p, "E01", unit, kind) for p in points}  # type: ignore[arg-type]


def _spawn(args: list[str], until: str = "ready") -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert p.stdout is not None
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"{args[0]} ended before {until!r}")
        if line.startswith(until):
            return p


def _baseline(tmp: Path, readings: list[RawReading], catalog: dict[str, PointInfo], batch: int) -> float:
    store = Store(tmp / "baseline")
    t = time.perf_counter()
    for i in range(0, len(readings), batch):
        store.ingest_readings(readings[i : i + batch], f"base:{i}", catalog, source="bench")
    return len(readings) / (time.perf_counter() - t)


def _figure(n: int, seconds: float, base: float, **extra: Any) -> dict[str, Any]:
    rate = n / seconds
    return {"readings": n, "seconds": round(seconds, 3), "readings_per_s": round(rate, 1),
            "baseline_readings_per_s": round(base, 1), "ratio": round(rate / base, 3), **extra}


def bench_opcua(tmp: Path, quick: bool) -> dict[str, Any]:
    n, nodes = (300, 2) if quick else (2000, 4)
    port = _port()
    server = _spawn([str(SERVERS / "opcua_historian.py"), str(port), str(tmp / "h.db"), str(n), "0", str(nodes)],
                    until="done")
    points = [f"E01.N{k}" for k in range(nodes)]
    spec = [OpcUaNode(f"ns=2;i={1001 + k}", points[k]) for k in range(nodes)]
    store = Store(tmp / "opcua")
    try:
        async def go() -> tuple[float, Any]:
            conn = OpcUaConnector(f"opc.tcp://127.0.0.1:{port}", spec, poll_s=0.05, max_values=500)
            stop = asyncio.Event()
            task = asyncio.create_task(run_connector(conn, store, _catalog(points), stop=stop))
            while conn.connections == 0:  # the session is set up before the clock starts
                await asyncio.sleep(0.005)
            t = time.perf_counter()
            while conn.values < n * nodes:  # values counted once their batch is durable
                await asyncio.sleep(0.005)
            dt = time.perf_counter() - t
            stop.set()
            return dt, await task

        seconds, intake = asyncio.run(go())
    finally:
        server.kill()
        server.wait()
    readings = [RawReading(T0 + timedelta(seconds=i), float(i), p) for p in points for i in range(n)]
    base = _baseline(tmp, readings, _catalog(points), 500)
    assert sum(store.readings(p).num_rows for p in points) == n * nodes
    return _figure(n * nodes, seconds, base, batches=intake.batches, batch_size=500,
                   note="history read of historized nodes, from the first read to the last durable batch (session set up before)")


def bench_modbus(tmp: Path, quick: bool) -> dict[str, Any]:
    seconds = 3.0 if quick else 10.0
    port = _port()
    server = _spawn([str(SERVERS / "modbus_meter.py"), str(port), str(time.time() - 100)])
    regs = [Register("E01.ELEC", 0, "uint32", scale=0.1), Register("E01.POWER", 2, "float32")]
    catalog = {"E01.ELEC": PointInfo("E01.ELEC", "E01", "kWh", "total"),
               "E01.POWER": PointInfo("E01.POWER", "E01", "kW", "rate")}
    store = Store(tmp / "modbus")
    try:
        async def go() -> tuple[float, int, ModbusPoller, Any]:
            poller = ModbusPoller("127.0.0.1", port, regs, interval_s=0.001, timeout_s=2)
            stop = asyncio.Event()
            task = asyncio.create_task(run_connector(poller, store, catalog, stop=stop))
            while poller.polls == 0:
                await asyncio.sleep(0.01)
            p0, t = poller.polls, time.perf_counter()
            await asyncio.sleep(seconds)
            p1, dt = poller.polls, time.perf_counter() - t
            stop.set()
            intake = await task
            return dt, (p1 - p0) * len(regs), poller, intake

        dt, n, poller, _intake = asyncio.run(go())  # type: ignore[misc]
    finally:
        server.kill()
        server.wait()
    readings = [RawReading(T0 + timedelta(milliseconds=i), float(i), "E01.ELEC" if i % 2 == 0 else "E01.POWER")
                for i in range(max(n, 2))]
    base = _baseline(tmp, readings, catalog, len(regs))
    return _figure(n, dt, base, polls=poller.polls, missed=poller.missed, batch_size=len(regs),
                   note="one poll = one read per register + one durable batch; bounded by the device round trips")


def bench_hj212(tmp: Path, quick: bool) -> dict[str, Any]:
    from carbonmet.metering.hj212 import build, build_point_map, encode

    n = 150 if quick else 600
    codes = ["a21026", "a21002", "a19001"]
    mn = "010000A8900016F000169DC0"
    pts = [PointInfo(f"E01.{c}", "E01", "mg/m3", "rate", hj212_mn=mn, hj212_code=f"{c}-Rtd@2011") for c in codes]
    frames = []
    for i in range(n):
        t = T0 + timedelta(minutes=i) + timedelta(hours=8)
        qn = t.strftime("%Y%m%d%H%M%S") + "000"
        frames.append(encode(build({"QN": qn, "ST": "32", "CN": "2011", "PW": "123456", "MN": mn, "Flag": 5},
                                   [{"DataTime": qn[:14]}] + [{f"{c}-Rtd": f"{i % 90 + 1}.5", f"{c}-Flag": "N"}
                                                              for c in codes])))
    store = Store(tmp / "hj212")
    catalog = {p.point_id: p for p in pts}

    async def go() -> float:
        started = asyncio.Event()
        conn = HJ212Connector("127.0.0.1", 0, build_point_map(pts), on_start=lambda s: started.set())
        stop = asyncio.Event()
        task = asyncio.create_task(run_connector(conn, store, catalog, stop=stop))
        await started.wait()
        reader, writer = await asyncio.open_connection("127.0.0.1", conn.server.port)
        t = time.perf_counter()
        for fr in frames:
            writer.write(fr)
            await writer.drain()
            await reader.readuntil(b"\r\n")  # the 9014: sent once the packet is durable
        dt = time.perf_counter() - t
        writer.close()
        stop.set()
        await task
        return dt

    dt = asyncio.run(go())
    readings = [RawReading(T0 + timedelta(minutes=i), 1.5, f"E01.{c}") for i in range(n) for c in codes]
    base = _baseline(tmp, readings, catalog, len(codes))
    return _figure(n * len(codes), dt, base, packets=n, batch_size=len(codes),
                   note="one packet at a time, each answered after its batch is durable")


def run(quick: bool = False) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-connectors-"))
    try:
        out = {"hj212": bench_hj212(tmp, quick), "opcua": bench_opcua(tmp, quick), "modbus": bench_modbus(tmp, quick)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["note"] = ("readings/s into a real store on loopback (2-core machine shared with other jobs: noisy); "
                   "baseline = Store.ingest_readings of the same readings in batches of the connector's size, same run")
    return out
