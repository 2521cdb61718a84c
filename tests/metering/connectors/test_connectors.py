"""The connector interface, and the OPC UA and Modbus connectors against real servers over loopback.

The servers run as separate processes (``opcua_historian.py``, ``modbus_meter.py`` beside this file) so that a
test can kill them (SIGKILL, mid-stream) and start them again; the connector must reconnect, and the store must
end with every value exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.metering import PointInfo, RawReading, Store
from carbonmet.metering.connectors import (
    ConnectorError,
    FileConnector,
    HJ212Connector,
    Intake,
    ModbusPoller,
    OpcUaConnector,
    OpcUaNode,
    Record,
    Register,
    read_opcua_nodes,
    read_register_map,
    run_connector,
)

HERE = Path(__file__).parent
T0 = datetime(2026, 3, 1, tzinfo=UTC)  # the historian's first source timestamp (opcua_historian.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _catalog() -> dict[str, PointInfo]:
    pts = [
        PointInfo("E01.FLOW", "E01", "Nm3/h", "rate", quantity="normal_volume_flow", carrier="natural_gas"),
        PointInfo("E01.FLOW2", "E01", "Nm3/h", "rate", quantity="normal_volume_flow", carrier="natural_gas"),
        PointInfo("E01.ELEC", "E01", "kWh", "total", quantity="energy", carrier="electricity"),
        PointInfo("E01.POWER", "E01", "kW", "rate", quantity="power", carrier="electricity"),
    ]
    return {p.point_id: p for p in pts}


# ------------------------------------------------------------------------------------------- the interface


class ListConnector:
    """The smallest connector: hands over prepared groups of records, one ``submit`` each."""

    source = "test"

    def __init__(self, groups: list[list[Record]]) -> None:
        self.groups = groups
        self.acked: list[int] = []

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        for i, g in enumerate(self.groups):
            await intake.submit(g, cursor=("test:cursor", str(i)))
            self.acked.append(i)  # acknowledged only after submit returned (durable)


def _rec(i: int, value: float = 1.0, point: str = "E01.FLOW", dev: tuple[str, ...] = ()) -> Record:
    r = RawReading(ts=T0 + timedelta(minutes=i), value=value, point_id=point, origin=f"t#{i}")
    return Record("test:dev", f"test:{i}", (r,), f"v={value}".encode(), dev)


def test_intake_stores_counts_dedupes_by_key_and_commits_the_cursor(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    groups = [[_rec(0), _rec(1, dev=("x_dev",))], [_rec(1), _rec(2), _rec(2)], [_rec(3, point="NOPE")]]
    conn = ListConnector(groups)
    intake = asyncio.run(run_connector(conn, store, _catalog()))
    t = intake.totals
    # 6 records: 3 stored, 2 duplicates (key seen before / twice in one call), 1 quarantined (unknown point)
    assert (t.received, t.stored, t.duplicates, t.quarantined) == (6, 3, 2, 1)
    assert t.deviations == {"x_dev": 1} and conn.acked == [0, 1, 2]
    assert store.cursor("test:cursor") == "2" and intake.batches == 3
    assert store.readings("E01.FLOW").column("value").to_pylist() == [1.0, 1.0, 1.0]
    # the same records again (a connector restarted from an older position): all duplicates, nothing doubled
    again = asyncio.run(run_connector(ListConnector(groups), store, _catalog()))
    assert again.totals.duplicates == 6 and again.totals.stored == 0
    assert store.readings("E01.FLOW").num_rows == 3
    raw = b"".join(p.read_bytes() for p in (tmp_path / "s" / "raw" / "test").rglob("*.jsonl"))
    assert b'"key": "test:0"' in raw and b'"raw": "v=1.0"' in raw  # every record archived as received


def test_a_failing_store_leaves_nothing_and_the_connector_does_not_acknowledge(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")

    class Broken:
        def __getattr__(self, name: str):
            return getattr(store, name)

        def ingest(self, *a, **k):
            raise OSError("disk full")

    conn = ListConnector([[_rec(0)]])
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(run_connector(conn, Broken(), _catalog()))  # type: ignore[arg-type]
    assert conn.acked == [] and store.readings("E01.FLOW").num_rows == 0 and store.cursor("test:cursor") is None


def test_the_file_and_hj212_transports_run_as_connectors(tmp_path: Path) -> None:
    from carbonmet.metering.hj212 import build, build_point_map, encode

    f = tmp_path / "flow.csv"
    f.write_text("point_id,ts,value\n" + "".join(f"E01.FLOW,2026-03-01T0{h}:00:00+08:00,{h}.5\n" for h in range(4)),
                 encoding="utf-8")
    store = Store(tmp_path / "s")
    fc = FileConnector([f, f])
    intake = asyncio.run(run_connector(fc, store, _catalog()))
    assert (intake.totals.stored, intake.totals.duplicates) == (4, 4)

    pts = [PointInfo("E01.FLOW2", "E01", "Nm3/h", "rate", hj212_mn="010000A8900016F000169DC0",
                     hj212_code="a21026-Rtd@2011")]
    frames = [encode(build({"QN": f"20260301000{i}00000", "ST": "32", "CN": "2011", "PW": "123456",
                            "MN": "010000A8900016F000169DC0", "Flag": 5},
                           [{"DataTime": f"20260301000{i}00"}, {"a21026-Rtd": f"{i}.5", "a21026-Flag": "N"}]))
              for i in range(5)]

    async def go() -> Intake:
        stop = asyncio.Event()
        started = asyncio.Event()
        conn = HJ212Connector("127.0.0.1", 0, build_point_map(pts), on_start=lambda s: started.set())
        task = asyncio.create_task(run_connector(conn, store, _catalog(), stop=stop))
        await started.wait()
        reader, writer = await asyncio.open_connection("127.0.0.1", conn.server.port)
        for fr in frames + frames[:1]:  # the last one re-sent: a duplicate
            writer.write(fr)
            await writer.drain()
            assert b"CN=9014" in await reader.readuntil(b"\r\n")  # answered only after it is durable
        writer.close()
        stop.set()
        return await task

    hj = asyncio.run(go())
    assert (hj.totals.received, hj.totals.stored, hj.totals.duplicates) == (6, 5, 1)
    assert store.readings("E01.FLOW2").num_rows == 5


# ------------------------------------------------------------------------------------------------ Modbus


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline() if p.stdout else ""
    assert line.startswith("ready"), f"server did not start: {line!r}"
    return p


def _kill(p: subprocess.Popen[str]) -> None:
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
    p.wait(10)


@pytest.mark.slow
def test_modbus_poller_survives_a_killed_meter_nothing_lost_or_doubled(tmp_path: Path) -> None:
    port = _free_port()
    t0 = time.time() - 1000
    registers = [Register("E01.ELEC", 0, "uint32", scale=0.1, unit="kWh"),
                 Register("E01.POWER", 2, "float32", unit="kW")]
    store = Store(tmp_path / "s")
    meter = _spawn([str(HERE / "modbus_meter.py"), str(port), str(t0)])

    async def go() -> tuple[ModbusPoller, Intake]:
        poller = ModbusPoller("127.0.0.1", port, registers, interval_s=0.2, timeout_s=1.0, reconnect_s=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(run_connector(poller, store, _catalog(), stop=stop))
        nonlocal meter
        while poller.polls < 8:
            await asyncio.sleep(0.05)
        _kill(meter)  # mid-stream
        missed = poller.missed
        while poller.missed == missed:
            await asyncio.sleep(0.05)
        meter = await asyncio.to_thread(_spawn, [str(HERE / "modbus_meter.py"), str(port), str(t0)])
        polls = poller.polls
        while poller.polls < polls + 8:
            await asyncio.sleep(0.05)
        stop.set()
        return poller, await task

    try:
        poller, intake = asyncio.run(go())
        # and a second poller restarted in the same slots: everything it reads again is a duplicate
    finally:
        _kill(meter)
    elec = store.readings("E01.ELEC")
    ts = elec.column("ts").to_pylist()
    assert poller.connections >= 2 and poller.missed >= 1
    assert len(ts) == len(set(ts)) == poller.polls == intake.totals.stored // 2  # one reading a poll, none doubled
    values = elec.column("value").to_pylist()
    assert values == sorted(values)  # the totaliser only rises, across the gap too
    # the value at each slot is what the meter's counter said then: 10 counts a second since t0, 0.1 kWh a count
    for t, v in zip(ts, values, strict=True):
        assert v == pytest.approx((t.timestamp() - t0) * 10 * 0.1, abs=0.2 * 10 * 0.1 + 0.11)
    assert store.quarantine().num_rows == 0


# ------------------------------------------------------------------------------------------------ OPC UA


@pytest.mark.slow
def test_opcua_connector_reads_the_history_across_a_killed_server_and_a_restarted_client(tmp_path: Path) -> None:
    n = 60
    port = _free_port()
    db = tmp_path / "history.db"
    args = [str(HERE / "opcua_historian.py"), str(port), str(db), str(n), "0.05", "2"]
    nodes = [OpcUaNode("ns=2;i=1001", "E01.FLOW", "Nm3/h"), OpcUaNode("ns=2;i=1002", "E01.FLOW2", "Nm3/h")]
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    store = Store(tmp_path / "s")
    server = _spawn(args)

    def stored() -> int:
        return store.readings("E01.FLOW").num_rows

    async def go() -> list[OpcUaConnector]:
        nonlocal server
        conns = []
        for round_ in range(2):
            conn = OpcUaConnector(endpoint, nodes, poll_s=0.1, max_values=7, reconnect_s=0.3, timeout_s=3)
            conns.append(conn)
            stop = asyncio.Event()
            task = asyncio.create_task(run_connector(conn, store, _catalog(), stop=stop))
            if round_ == 0:
                while stored() < 10:
                    await asyncio.sleep(0.05)
                _kill(server)  # the historian dies mid-stream, values not yet read stay in its history
                server = await asyncio.to_thread(_spawn, args)
                while stored() < 25:
                    await asyncio.sleep(0.05)
                task.cancel()  # and the client is killed too, between two reads
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                while stored() < n:
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.5)  # more would show up now if anything were doubled
                stop.set()
                await task
        return conns

    try:
        conns = asyncio.run(asyncio.wait_for(go(), 240))
    finally:
        _kill(server)
    assert conns[0].reconnects >= 1
    for point, offset in (("E01.FLOW", 0.0), ("E01.FLOW2", 0.1)):
        t = store.readings(point)
        assert t.column("ts").to_pylist() == [T0 + timedelta(seconds=i) for i in range(n)]
        assert t.column("value").to_pylist() == pytest.approx([i + offset for i in range(n)])
    assert store.quarantine().num_rows == 0


# --------------------------------------------------------------------------------------- configuration files


def test_register_map_and_node_list_errors_name_the_line_and_field() -> None:
    ok = read_register_map("point_id,address,type,scale,unit\nE01.ELEC,0,uint32,0.1,kWh\nE01.POWER,2,float32,,kW\n")
    assert ok[0] == Register("E01.ELEC", 0, "uint32", "holding", "big", 0.1, "kWh") and ok[1].scale == 1.0
    for text, where in [
        ("point_id,address,type\nA,0,int128\n", "m.csv:2: type"),
        ("point_id,address\nA,70000\n", "m.csv:2: address"),
        ("point_id,address,type\nA,65535,uint32\n", "m.csv:2: address"),
        ("point_id,address,scale\nA,1,nan\n", "m.csv:2: scale"),
        ("point_id,address\nA,1\nA,2\n", "m.csv:3: point_id"),
        ("point,address\n", "m.csv:1: 缺少列"),
    ]:
        with pytest.raises(ConnectorError, match=re.escape(where)):
            read_register_map(text, "m.csv")
    assert read_opcua_nodes("node_id,point_id\nns=2;i=1001,E01.FLOW\n") == [OpcUaNode("ns=2;i=1001", "E01.FLOW")]
    for text, where in [
        ("node_id,point_id\nFT101,E01.FLOW\n", "n.csv:2: node_id"),
        ("node_id,point_id\nns=2;i=1,\n", "n.csv:2: point_id"),
        ("node_id,point_id\nns=2;i=1,A\nns=2;i=1,B\n", "n.csv:3: node_id"),
    ]:
        with pytest.raises(ConnectorError, match=re.escape(where)):
            read_opcua_nodes(text, "n.csv")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_the_configuration_parsers_give_a_result_or_a_located_error(text: str) -> None:
    for parse in (read_register_map, read_opcua_nodes):
        try:
            out = parse("point_id,address,type\n" + text if parse is read_register_map else
                        "node_id,point_id\n" + text, "fz.csv")
        except ConnectorError as exc:
            assert str(exc).startswith("fz.csv")
        else:
            assert out and all(x.point_id for x in out)


@pytest.mark.mqtt
def test_the_mqtt_listener_runs_as_a_connector(tmp_path: Path) -> None:
    import uuid

    import aiomqtt

    from carbonmet.metering.connectors import MqttConnector
    from carbonmet.metering.mqtt import reading_payload

    u = uuid.uuid4().hex[:8]
    topic = f"carbonmet/v1/readings/E01/conn-{u}"
    payloads = [reading_payload(f"m{i}", [{"point_id": "E01.FLOW", "ts": (T0 + timedelta(minutes=i)).isoformat(),
                                           "value": 10.0 + i}]) for i in range(5)]
    store = Store(tmp_path / "s")

    async def go() -> Intake:
        subscribed = asyncio.Event()
        conn = MqttConnector("127.0.0.1", 1883, topic=f"carbonmet/v1/readings/E01/conn-{u}", client_id=f"conn-{u}",
                             linger_s=0.01)
        stop = asyncio.Event()
        task = asyncio.create_task(run_connector(conn, store, _catalog(), stop=stop))
        while conn.listener is None or conn.listener.connections == 0:
            await asyncio.sleep(0.05)
        subscribed.set()
        await asyncio.sleep(0.3)
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"pub-{u}") as c:
            for p in payloads + payloads[:2]:  # two re-sent: duplicates
                await c.publish(topic, p, qos=1)
        while store.readings("E01.FLOW").num_rows < 5:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        stop.set()
        return await task

    intake = asyncio.run(asyncio.wait_for(go(), 60))
    assert (intake.totals.stored, intake.totals.duplicates) == (5, 2) and intake.batches >= 1
    assert store.readings("E01.FLOW").column("value").to_pylist() == [10.0 + i for i in range(5)]
