"""Many ingest processes, one store (issue 17, point 4).

Every process that writes holds the store's exclusive file lock for the whole batch (journal row
``writing`` → files → commit), so a ``writing`` row seen by a process that holds the lock belongs to a
process that died mid-batch. The other processes keep running: they must neither count nor compact
the dead batch's files, and the restarted sender's batch must then be stored exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from carbonmet.metering import Catalog, PointInfo, RawReading, Store
from carbonmet.metering.hj212 import build, decode, encode
from carbonmet.metering.mqtt import reading_payload

T0 = datetime(2025, 3, 1, tzinfo=UTC)
CATALOG = Catalog({
    "E01.GAS": PointInfo("E01.GAS", "E01", "Nm3/h", "rate", quantity="normal_volume_flow", carrier="natural_gas"),
})


def _readings(first: int, n: int) -> list[RawReading]:
    return [RawReading(T0 + timedelta(minutes=i), 1000.0 + i, point_id="E01.GAS", unit="Nm3/h")
            for i in range(first, first + n)]


# A writer that dies (SIGKILL, nothing flushed or undone) right after the first readings file of its batch
# is in place: the journal holds the batch as ``writing`` and its file lies in the partition.
_DIES_MID_BATCH = """
import os, signal, sys
from datetime import UTC, datetime, timedelta
from carbonmet.metering import Catalog, PointInfo, RawReading, Store
real_replace = os.replace
def replace(src, dst, *a, **k):
    real_replace(src, dst, *a, **k)
    if "/readings/" in str(dst) and str(dst).endswith(".parquet"):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
t0 = datetime(2025, 3, 1, tzinfo=UTC)
cat = Catalog({"E01.GAS": PointInfo("E01.GAS", "E01", "Nm3/h", "rate", quantity="normal_volume_flow",
                                    carrier="natural_gas")})
rs = [RawReading(t0 + timedelta(minutes=i), 1000.0 + i, point_id="E01.GAS", unit="Nm3/h")
      for i in range(100, 110)]
Store(sys.argv[1]).ingest_readings(rs, "dead-batch", cat, source="test")
"""


def test_a_writer_killed_mid_batch_is_neither_counted_nor_compacted_by_the_live_ones(tmp_path: Path) -> None:
    root = tmp_path / "store"
    live = Store(root)  # opened before the crash: a long-running ingest process
    assert live.ingest_readings(_readings(0, 10), "live-1", CATALOG, source="test").stored == 10

    proc = subprocess.run([sys.executable, "-c", _DIES_MID_BATCH, str(root)], check=False, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    part = next((root / "readings").glob("enterprise=E01/point=E01.GAS/month=2025-03"))
    assert len(list(part.glob("*.parquet"))) == 2  # the dead batch's file is there

    # the live process goes on writing and compacting; its next batch overlaps nothing of the dead one
    assert live.ingest_readings(_readings(10, 10), "live-2", CATALOG, source="test").stored == 10
    live.compact(min_files=2)
    assert not live.is_ingested("dead-batch")
    values = live.readings("E01.GAS").column("value").to_pylist()
    assert sorted(values) == [1000.0 + i for i in range(20)], "the dead batch was never acknowledged"

    # the sender re-sends the batch to a restarted process: stored exactly once
    again = Store(root)
    report = again.ingest_readings(_readings(100, 10), "dead-batch", CATALOG, source="test")
    assert report.stored == 10 and report.duplicates == 0
    live.compact(min_files=2)
    values = Store(root).readings("E01.GAS").column("value").to_pylist()
    assert sorted(values) == [1000.0 + i for i in range(20)] + [1000.0 + i for i in range(100, 110)]
    assert os.listdir(part) and len(list(part.glob("*.parquet"))) == 1


# --- four ingest processes over loopback, one store ---------------------------------------------------
BROKER = ("127.0.0.1", 1883)
MN = {"E01": "010000A8900016F000169DC1", "E02": "010000A8900016F000169DC2"}
N_FRAMES, N_MESSAGES = 40, 120



def _points(d: Path) -> Path:
    p = d / "points.csv"
    rows = ["point_id,site_code,name,quantity,carrier,unit,reading_kind,hj212_mn,hj212_code"]
    for e in ("E01", "E02"):
        rows.append(f"{e}.GAS,{e},gas,normal_volume_flow,natural_gas,Nm3/h,rate,,")
        rows.append(f"{e}.STACK1.SO2,{e},SO2,concentration,flue_gas,mg/Nm3,rate,{MN[e]},a21026@2011")
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def _frame(e: str, i: int) -> bytes:
    """Minute ``i``'s real-time packet of enterprise ``e``'s logger (QN unique per packet, answer requested)."""
    t = T0 + timedelta(minutes=i)
    head = {"QN": t.strftime("%Y%m%d%H%M%S") + "000", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN[e],
            "Flag": 5}
    return encode(build(head, [{"DataTime": t.strftime("%Y%m%d%H%M%S")}, {"a21026-Rtd": f"{30 + i / 100:.2f}",
                                                                          "a21026-Flag": "N"}]))


def _message(e: str, i: int) -> bytes:
    ts = (T0 + timedelta(minutes=i)).isoformat()
    return reading_payload(f"{e}-dev-{i}", [{"point_id": f"{e}.GAS", "ts": ts, "value": 1000.0 + i, "unit": "Nm3/h"}])


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "carbonmet", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_line(proc: subprocess.Popen[str], pattern: str, timeout: float = 90) -> str:
    assert proc.stdout is not None
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            if re.search(pattern, line):
                return line
    raise AssertionError(f"no line matching {pattern!r}: {proc.stderr.read() if proc.poll() is not None else ''}")


def _hj212_server(store: Path, points: Path) -> tuple[subprocess.Popen[str], int]:
    proc = _start(["hj212", "serve", "--host", "127.0.0.1", "--port", "0", "--points", str(points),
                   "--no-password-check", "--store", str(store)])
    port = int(re.search(r"127\.0\.0\.1:(\d+)", _wait_line(proc, r"127\.0\.0\.1:\d+")).group(1))  # type: ignore[union-attr]
    return proc, port


def _mqtt_listener(store: Path, points: Path, topic: str, client_id: str) -> subprocess.Popen[str]:
    proc = _start(["mqtt", "listen", "--store", str(store), "--points", str(points), "--host", BROKER[0],
                   "--port", str(BROKER[1]), "--topic", topic, "--client-id", client_id, "--max-batch", "10",
                   "--compact-every", "2", "--json"])
    _wait_line(proc, r'"subscribed"')
    return proc


async def _send_frames(port: int, e: str, frames: range, kill: subprocess.Popen[str] | None = None,
                       after: int = 0) -> list[int]:
    """Send packets one at a time, each after the answer to the one before; the minutes answered.
    With ``kill``: SIGKILL that server once ``after`` packets were answered (the connection then breaks)."""
    answered: list[int] = []
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in frames:
            writer.write(_frame(e, i))
            await writer.drain()
            if kill is not None and len(answered) == after:
                os.kill(kill.pid, signal.SIGKILL)  # while this packet is being stored
            async with asyncio.timeout(30):
                line = await reader.readuntil(b"\r\n")
            answered.append(i)
            assert decode(line).qn.startswith((T0 + timedelta(minutes=i)).strftime("%Y%m%d%H%M"))
    except (asyncio.IncompleteReadError, ConnectionError):
        assert kill is not None, "only the killed server may break the connection"
    finally:
        writer.close()
    return answered


async def _publish(topic: str, payloads: list[bytes], client_id: str) -> None:
    async with aiomqtt.Client(*BROKER, identifier=client_id, clean_session=False, timeout=10) as c:
        for p in payloads:
            await c.publish(topic, p, qos=1, timeout=10)


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.mqtt
@pytest.mark.usefixtures("mqtt_broker")
def test_four_ingest_processes_one_store_kill_9_and_resend_every_acknowledged_reading_stored_once(
        tmp_path: Path) -> None:
    """Two HJ 212 servers and two MQTT listeners (compacting every two batches) write to one store at once;
    one server is killed mid-stream, restarted, and its logger re-sends everything: every reading that was
    acknowledged is stored exactly once, and so is every reading sent again."""
    store, points = tmp_path / "store", _points(tmp_path)
    u = uuid.uuid4().hex[:10]
    topics = {e: f"carbonmet/v1/readings/{e}/many-{u}" for e in ("E01", "E02")}
    procs: list[subprocess.Popen[str]] = []
    try:
        h1, p1 = _hj212_server(store, points)
        h2, p2 = _hj212_server(store, points)
        procs += [h1, h2]
        procs += [_mqtt_listener(store, points, topics[e], f"ingest-{e}-{u}") for e in ("E01", "E02")]

        async def first_round() -> tuple[list[int], list[int]]:
            killed, whole, *_ = await asyncio.gather(
                _send_frames(p1, "E01", range(N_FRAMES), kill=h1, after=15),
                _send_frames(p2, "E02", range(N_FRAMES)),
                *(_publish(topics[e], [_message(e, i) for i in range(N_MESSAGES)], f"pub-{e}-{u}")
                  for e in ("E01", "E02")),
            )
            return killed, whole

        killed, whole = asyncio.run(first_round())
        assert h1.wait(10) == -signal.SIGKILL
        assert len(killed) == 15 and whole == list(range(N_FRAMES))

        # the logger re-sends everything to the restarted server while the others still run
        h1b, p1b = _hj212_server(store, points)
        procs.append(h1b)
        assert asyncio.run(_send_frames(p1b, "E01", range(N_FRAMES))) == list(range(N_FRAMES))

        expected = {f"{e}.GAS": N_MESSAGES for e in ("E01", "E02")} | {f"{e}.STACK1.SO2": N_FRAMES
                                                                        for e in ("E01", "E02")}
        t_end = time.monotonic() + 90
        while time.monotonic() < t_end:
            if all(Store(store).readings(p).num_rows >= n for p, n in expected.items()):
                break
            time.sleep(0.5)
        time.sleep(0.5)  # late re-deliveries would show as doubles
    finally:
        _stop(procs)

    st = Store(store)
    for e in ("E01", "E02"):
        gas = st.readings(f"{e}.GAS").column("value").to_pylist()
        assert sorted(gas) == [1000.0 + i for i in range(N_MESSAGES)], f"{e}.GAS: each message once"
        so2 = st.readings(f"{e}.STACK1.SO2").column("value").to_pylist()
        assert sorted(so2) == [round(30 + i / 100, 2) for i in range(N_FRAMES)], f"{e} SO2: each packet once"
