"""MQTT hostile input: a device whose message counter restarts (D16), a topic writing another
enterprise's point (D7, ACL) and broker authentication (D7) against a second Mosquitto started here
on a free loopback port with a password file and ``allow_anonymous false``."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from carbonmet.metering import Catalog, Store
from carbonmet.metering.mqtt import (
    MSG_ID_CONFLICT,
    TOPIC_ACL,
    BrokerRefused,
    Incoming,
    MqttListener,
    ingest_messages,
    reading_payload,
    topic_enterprise,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
E01 = "carbonmet/v1/readings/E01/gw1"
E02 = "carbonmet/v1/readings/E02/gw1"


def gas(msg_id: str, minute: int, value: float) -> bytes:
    ts = (T0 + timedelta(minutes=minute)).isoformat()
    return reading_payload(msg_id, [{"point_id": "E01.GAS", "ts": ts, "value": value, "unit": "Nm3/h"}])


def test_D16_mqtt_counter_reset_is_a_conflict_not_a_duplicate(tmp_path: Path, catalog: Catalog) -> None:
    st = Store(tmp_path)
    before = [gas(f"seq-{i}", i, 1000.0 + i) for i in range(3)]
    r1 = ingest_messages(st, catalog, [Incoming(E01, p) for p in before])
    assert (r1.received, r1.stored, r1.duplicates) == (3, 3, 0)
    # the device reboots, its counter starts again at 0: new readings under used msg_ids
    after = [gas(f"seq-{i}", 60 + i, 2000.0 + i) for i in range(2)]
    r2 = ingest_messages(st, catalog, [Incoming(E01, p) for p in after] + [Incoming(E01, before[2])])
    assert (r2.received, r2.stored, r2.quarantined, r2.duplicates) == (3, 0, 2, 1)
    assert r2.by_reason == {MSG_ID_CONFLICT: 2}
    q = st.quarantine()
    kept = [row for row in q.to_pylist() if row["reason"] == MSG_ID_CONFLICT]
    assert sorted(row["detail"].split(": ")[0] for row in kept) == [f"mqtt:{E01}:seq-0", f"mqtt:{E01}:seq-1"]
    assert sorted(("2000.0" in row["raw_value"], "2001.0" in row["raw_value"]) for row in kept) == [
        (False, True), (True, False)]  # the new content is kept whole, not lost
    # the broker re-delivers the conflicting messages: now duplicates, nothing quarantined twice
    r3 = ingest_messages(st, catalog, [Incoming(E01, p) for p in after])
    assert (r3.received, r3.duplicates, r3.quarantined) == (2, 2, 0)
    # inside one group too: two contents under one msg_id → the second is a conflict
    r4 = ingest_messages(st, catalog, [Incoming(E01, gas("x", 200, 1.0)), Incoming(E01, gas("x", 201, 2.0))])
    assert (r4.stored, r4.quarantined, r4.by_reason) == (1, 1, {MSG_ID_CONFLICT: 1})


def test_D7_mqtt_topic_of_another_enterprise_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    st = Store(tmp_path)
    ts = T0.isoformat()
    own = reading_payload("a", [{"point_id": "E02.CO2", "ts": ts, "value": 12.0}])
    foreign = reading_payload("b", [{"point_id": "E01.GAS", "ts": ts, "value": 1200.0},
                                    {"serial": "FM-1", "ts": (T0 + timedelta(minutes=1)).isoformat(), "value": 1.0},
                                    {"point_id": "E02.CO2", "ts": (T0 + timedelta(minutes=1)).isoformat(),
                                     "value": 13.0}])
    rep = ingest_messages(st, catalog, [Incoming(E02, own), Incoming(E02, foreign),
                                        Incoming("carbonmet/v1/readings/E01", own)], acl=True)
    assert (rep.received, rep.stored, rep.quarantined) == (5, 2, 3) and rep.by_reason == {TOPIC_ACL: 3}
    assert st.readings("E01.GAS", catalog=catalog).num_rows == 0
    details = [r["detail"] for r in st.quarantine().to_pylist()]
    assert sum("topic enterprise E02 does not own the point (E01)" in d for d in details) == 2
    assert sum("topic outside the scheme" in d for d in details) == 1
    assert topic_enterprise(E02) == "E02" and topic_enterprise("carbonmet/v1/readings/E01") is None


# --- a second broker, password-protected ----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[int]:
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto and mosquitto_passwd are needed")
    pwfile = tmp_path / "passwd"
    pwfile.touch(mode=0o600)
    for user, pw in (("ingest", "in-secret"), ("gw-e01", "gw-secret")):
        subprocess.run(["mosquitto_passwd", "-b", str(pwfile), user, pw], check=True, capture_output=True)
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {pwfile}\n"
                    f"persistence false\nuser {getpass.getuser()}\n", encoding="utf-8")  # no privilege drop
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    out = proc.stdout.read() if proc.stdout else b""
                    pytest.fail(f"second mosquitto did not start: {out!r}")
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_D7_mqtt_broker_refuses_missing_and_wrong_credentials(secured_broker: int, tmp_path: Path,
                                                              catalog: Catalog) -> None:
    port = secured_broker
    for creds in ({}, {"username": "ingest", "password": "wrong"}):
        lis = MqttListener(Store(tmp_path / "s0"), catalog, "127.0.0.1", port, topic=E01,
                           client_id=f"x-{uuid.uuid4().hex[:6]}", **creds)  # type: ignore[arg-type]
        with pytest.raises(BrokerRefused, match="refused the credentials"):
            asyncio.run(asyncio.wait_for(lis.run(), 20))
        assert lis.messages == 0 and lis.connections == 0

    async def publish_without_credentials() -> None:
        async with aiomqtt.Client("127.0.0.1", port, identifier="anon", timeout=5):
            pass

    with pytest.raises(aiomqtt.MqttError):
        asyncio.run(publish_without_credentials())


def test_D7_mqtt_right_credentials_work_over_loopback_and_acl_applies(secured_broker: int, tmp_path: Path,
                                                                       catalog: Catalog) -> None:
    port = secured_broker
    st = Store(tmp_path / "store")
    lis = MqttListener(st, catalog, "127.0.0.1", port, topic="carbonmet/v1/readings/#", client_id="ingest-1",
                       username="ingest", password="in-secret", linger_s=0.05)

    async def main() -> None:
        stop = asyncio.Event()
        subscribed = asyncio.Event()
        task = asyncio.create_task(lis.run(stop, max_messages=2, on_subscribed=subscribed.set))
        await asyncio.wait_for(subscribed.wait(), 10)
        async with aiomqtt.Client("127.0.0.1", port, identifier="gw", username="gw-e01", password="gw-secret",
                                  timeout=5) as c:
            await c.publish(E01, gas("m1", 0, 1200.0), qos=1)
            await c.publish(E02, gas("m1", 1, 9999.0), qos=1)  # an E02 topic writing an E01 point
        await asyncio.wait_for(task, 20)

    asyncio.run(main())
    assert lis.connections == 1 and lis.messages == 2
    assert st.readings("E01.GAS", catalog=catalog).column("value").to_pylist() == [1200.0]
    assert lis.totals.by_reason == {TOPIC_ACL: 1}
    assert (lis.totals.received, lis.totals.stored, lis.totals.quarantined) == (2, 1, 1)


def test_listener_options_are_checked(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="tls_ca"):
        MqttListener(Store(tmp_path), catalog, tls_cert="c.pem")
    with pytest.raises(ValueError, match="username"):
        MqttListener(Store(tmp_path), catalog, password="p")


def test_D7_mqtt_listen_cli_takes_credentials(secured_broker: int, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from carbonmet.cli import app

    points = tmp_path / "points.csv"
    points.write_text("point_id,site_code,name,quantity,carrier,unit,reading_kind\n"
                      "E01.GAS,E01,gas,normal_volume_flow,natural_gas,Nm3/h,rate\n", encoding="utf-8")
    pw = tmp_path / "pw"
    base = ["mqtt", "listen", "--store", str(tmp_path / "store"), "--points", str(points), "--host", "127.0.0.1",
            "--port", str(secured_broker), "--max-messages", "1", "--client-id", "cli-1"]
    pw.write_text("wrong\n", encoding="utf-8")
    r = CliRunner().invoke(app, [*base, "--username", "ingest", "--password-file", str(pw)])
    assert r.exit_code == 1 and "refused the credentials" in r.output, r.output
    r = CliRunner().invoke(app, [*base, "--password-file", str(pw)])
    assert r.exit_code == 2 and "username" in r.output, r.output
