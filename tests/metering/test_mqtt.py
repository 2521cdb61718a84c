"""MQTT against the real Mosquitto (127.0.0.1:1883): QoS 1, persistent sessions, a connection cut in the
middle (through a TCP proxy in the test, so the shared broker is not touched), and a kill -9 of the
ingesting process. Nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from carbonmet.metering import Catalog, Store
from carbonmet.metering.mqtt import (
    Incoming,
    MqttListener,
    PayloadError,
    ingest_messages,
    parse_payload,
    reading_payload,
)

BROKER = ("127.0.0.1", 1883)
T0 = datetime(2025, 1, 1, tzinfo=UTC)



mqtt = pytest.mark.mqtt


def _msg(i: int) -> bytes:
    ts = (T0 + timedelta(minutes=i)).isoformat()
    return reading_payload(f"dev-{i}", [{"point_id": "E01.GAS", "ts": ts, "value": 1000.0 + i, "unit": "Nm3/h"}])


def test_payload_scheme() -> None:
    key, rs = parse_payload("t", _msg(3))
    assert key == "mqtt:t:dev-3" and rs[0].value == 1003.0 and rs[0].ts == T0 + timedelta(minutes=3)
    key2, rs2 = parse_payload("t", b'{"point_id": "P", "ts": "2025-01-01T08:00:00+08:00", "value": 2}')
    assert key2.startswith("mqtt:t:sha256:") and rs2[0].point_id == "P"
    for bad in (b"\xff", b"[1]", b'{"readings": 3}', b'{"readings": [{"ts": 5, "value": 1}]}',
                b'{"ts": "2025-01-01T00:00:00Z", "value": "7"}'):
        with pytest.raises(PayloadError):
            parse_payload("t", bad)


def test_bad_payload_quarantined_and_redelivery_is_duplicate(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    msgs = [Incoming("t", _msg(1)), Incoming("t", b"not json"), Incoming("t", _msg(1))]
    r1 = ingest_messages(st_, catalog, msgs)
    assert (r1.received, r1.stored, r1.quarantined, r1.duplicates) == (3, 1, 1, 1)
    assert r1.by_reason == {"bad_payload": 1}
    r2 = ingest_messages(st_, catalog, msgs[:2])  # the broker re-delivers both
    assert (r2.received, r2.stored, r2.quarantined, r2.duplicates) == (2, 0, 0, 2)
    assert st_.quarantine().num_rows == 1


def test_undecodable_payloads_are_quarantined_not_fatal(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 10: a 400-digit value (OverflowError), a 5,000-digit one (ValueError: int digits
    limit), deeply nested JSON (RecursionError) and 1e999 (inf) are each quarantined as bad_payload; the
    good message of the same group is stored."""
    st_ = Store(tmp_path)
    head = b'{"msg_id":"%d","point_id":"E01.GAS","ts":"2025-01-01T08:00:00+08:00","value":'
    bad = [head % 1 + b"1" + b"0" * 400 + b"}", head % 2 + b"1" * 5000 + b"}", b"[" * 100_000,
           head % 3 + b"1e999}"]
    msgs = [Incoming("carbonmet/v1/readings/E01/x", p) for p in bad] + [Incoming("t", _msg(1))]
    rep = ingest_messages(st_, catalog, msgs)
    assert (rep.received, rep.stored, rep.quarantined) == (5, 1, 4) and rep.by_reason == {"bad_payload": 4}
    for p in bad:
        with pytest.raises(PayloadError):
            parse_payload("t", p)
    again = ingest_messages(st_, catalog, msgs)  # re-delivered: all duplicates, nothing raised
    assert again.duplicates == 5


def test_same_msg_id_from_two_devices_are_two_messages(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 12: the idempotency key includes the topic (the device)."""
    st_ = Store(tmp_path)
    ts = T0.isoformat()
    a = reading_payload("seq-1", [{"point_id": "E01.GAS", "ts": ts, "value": 1000.0}])
    b = reading_payload("seq-1", [{"point_id": "E02.CO2", "ts": ts, "value": 12.0}])
    rep = ingest_messages(st_, catalog, [Incoming("carbonmet/v1/readings/E01/dev1", a),
                                         Incoming("carbonmet/v1/readings/E02/dev2", b)])
    assert (rep.stored, rep.duplicates) == (2, 0)
    rep2 = ingest_messages(st_, catalog, [Incoming("carbonmet/v1/readings/E02/dev2", b)])
    assert (rep2.stored, rep2.duplicates) == (0, 1)


class CutProxy:
    """A TCP proxy that can drop every connection at once (a broker/network outage as the client sees it)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self.cuts = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _pipe(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            w.close()

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        br, bw = await asyncio.open_connection(*self.target)
        self.writers += [w, bw]
        try:
            await asyncio.gather(self._pipe(r, bw), self._pipe(br, w))
        except asyncio.CancelledError:
            pass

    def cut(self) -> None:
        self.cuts += 1
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


async def _publish_all(port: int, topic: str, payloads: list[bytes], client_id: str,
                       after_each: object = None) -> int:
    """QoS 1 publisher with a persistent session; re-publishes what was not acknowledged after a cut."""
    i, reconnects = 0, 0
    while i < len(payloads):
        try:
            async with aiomqtt.Client("127.0.0.1", port, identifier=client_id, clean_session=False,
                                      timeout=3) as c:
                while i < len(payloads):
                    await c.publish(topic, payloads[i], qos=1, timeout=3)
                    i += 1
                    if after_each is not None:
                        await after_each(i)  # type: ignore[operator]
        except aiomqtt.MqttError:
            reconnects += 1
            await asyncio.sleep(0.2)
    return reconnects


async def _wait_for(pred, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if pred():
            return True
        await asyncio.sleep(0.1)
    return pred()


@mqtt
@pytest.mark.usefixtures("mqtt_broker")
def test_connection_cut_mid_stream_nothing_lost_nothing_doubled(tmp_path: Path, catalog: Catalog) -> None:
    n = 300
    u = uuid.uuid4().hex[:10]
    topic = f"carbonmet/v1/readings/E01/test-{u}"

    async def main() -> tuple[MqttListener, int, int]:
        proxy = CutProxy(BROKER)
        await proxy.start()
        st_ = Store(tmp_path)
        listener = MqttListener(st_, catalog, "127.0.0.1", proxy.port, topic=topic,
                                client_id=f"ingest-{u}", max_batch=25, linger_s=0.01, reconnect_s=0.2)
        subscribed = asyncio.Event()
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop, on_subscribed=subscribed.set))
        await asyncio.wait_for(subscribed.wait(), 10)

        async def maybe_cut(i: int) -> None:
            if i in (n // 3, 2 * n // 3):  # two outages while messages are in flight both ways
                proxy.cut()

        reconnects = await _publish_all(proxy.port, topic, [_msg(i) for i in range(n)], f"pub-{u}", maybe_cut)
        await _wait_for(lambda: listener.totals.stored >= n, 30)
        await asyncio.sleep(0.5)  # let late re-deliveries arrive
        stop.set()
        await asyncio.wait_for(task, 10)
        cuts = proxy.cuts
        await proxy.close()
        return listener, reconnects, cuts

    listener, reconnects, cuts = asyncio.run(main())
    assert cuts == 2 and listener.connections >= 2 and reconnects >= 1
    st_ = Store(tmp_path)
    got = st_.readings("E01.GAS")
    values = got.column("value").to_pylist()
    assert len(values) == n, "nothing lost, nothing doubled"
    assert sorted(values) == [1000.0 + i for i in range(n)]
    t = listener.totals
    assert t.stored == n and t.quarantined == 0 and t.received == t.stored + t.duplicates


def _write_points(d: Path) -> Path:
    p = d / "points.csv"
    p.write_text("point_id,site_code,name,quantity,carrier,unit,reading_kind\n"
                 "E01.GAS,E01,gas,normal_volume_flow,natural_gas,Nm3/h,rate\n", encoding="utf-8")
    return p


_LISTENER = """
import asyncio, json, signal, sys
from carbonmet.metering import Store
from carbonmet.metering.mqtt import MqttListener
from carbonmet.registry import catalog_from_files
store, points, topic, client_id = sys.argv[1:5]
st = Store(store)
lis = MqttListener(st, catalog_from_files(points), "127.0.0.1", 1883, topic=topic, client_id=client_id, max_batch=20,
                   compact_every=2)
def out(d):
    sys.stdout.write(json.dumps(d) + "\\n"); sys.stdout.flush()
async def main():
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await lis.run(stop, lambda r: out(r.to_dict() | {"notices": []}), None, lambda: out({"subscribed": topic}))
asyncio.run(main())
"""


def _start_listener(store: Path, points: Path, topic: str, client_id: str) -> subprocess.Popen[str]:
    """The ingesting process (the listener ``carbonmet mqtt listen`` runs, without the CLI's imports), compacting
    partitions every two batches so that a kill can also land in a compaction."""
    return subprocess.Popen(
        [sys.executable, "-c", _LISTENER, str(store), str(points), topic, client_id],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _read_lines_until(proc: subprocess.Popen[str], pred, timeout: float) -> list[dict]:  # type: ignore[no-untyped-def]
    import selectors

    sel = selectors.DefaultSelector()
    assert proc.stdout is not None
    sel.register(proc.stdout, selectors.EVENT_READ)
    out: list[dict] = []
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if not sel.select(timeout=0.2):
            continue
        line = proc.stdout.readline()
        if not line:
            break
        out.append(json.loads(line))
        if pred(out):
            break
    sel.close()
    return out


@mqtt
@pytest.mark.usefixtures("mqtt_broker")
def test_kill_9_mid_stream_then_resend_every_acknowledged_reading_stored_once(tmp_path: Path) -> None:
    n = 200
    u = uuid.uuid4().hex[:10]
    topic = f"carbonmet/v1/readings/E01/crash-{u}"
    sub = topic
    store, points = tmp_path / "store", _write_points(tmp_path)
    payloads = [_msg(i) for i in range(n)]

    proc = _start_listener(store, points, sub, f"ingest-{u}")
    try:
        first = _read_lines_until(proc, lambda ls: any("subscribed" in x for x in ls), 20)
        assert any("subscribed" in x for x in first), proc.stderr.read() if proc.poll() is not None else first

        async def publish_and_kill() -> list[dict]:
            pub = asyncio.create_task(_publish_all(BROKER[1], topic, payloads, f"pub-{u}"))
            acked = await asyncio.to_thread(
                _read_lines_until, proc, lambda ls: sum(1 for x in ls if "batch_id" in x) >= 3, 20)
            os.kill(proc.pid, signal.SIGKILL)  # mid-stream: batches are being written and acknowledged
            await pub
            return acked

        acked = asyncio.run(publish_and_kill())
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    acked_batches = [x for x in acked if "batch_id" in x]
    assert acked_batches, "the listener acknowledged batches before the kill"
    acked_stored = sum(x["stored"] for x in acked_batches)

    # restart with the same client id (the broker re-delivers what was not acknowledged), and the
    # device re-sends everything as well
    proc = _start_listener(store, points, sub, f"ingest-{u}")
    try:
        assert any("subscribed" in x for x in _read_lines_until(proc, lambda ls: any("subscribed" in x for x in ls), 20))
        asyncio.run(_publish_all(BROKER[1], topic, payloads, f"pub-{u}"))
        t_end = time.monotonic() + 60
        st_ = Store(store)
        while time.monotonic() < t_end and st_.readings("E01.GAS").num_rows < n:
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    st_ = Store(store)
    values = st_.readings("E01.GAS").column("value").to_pylist()
    assert len(values) == n, "every reading stored exactly once"
    assert sorted(values) == [1000.0 + i for i in range(n)]
    assert acked_stored <= n
    journal_ids = {j["batch_id"] for j in st_.journal()}
    assert {x["batch_id"] for x in acked_batches} <= journal_ids, "acknowledged batches are committed"
    assert st_.quarantine().num_rows == 0
