"""MQTT over TLS end to end (D7): a throwaway CA and server certificate made here, a second Mosquitto with a TLS
listener (and password authentication) on a free loopback port; ``mqtt listen --tls-ca`` connects and stores,
and a CA that did not sign the broker's certificate is refused at once with a clear error."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import ipaddress
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.metering import Catalog, Store
from carbonmet.metering.mqtt import BrokerRefused, MqttListener, reading_payload

TOPIC = "carbonmet/v1/readings/E01/gw1"
POINTS = "point_id,site_code,name,quantity,carrier,unit,reading_kind\nE01.GAS,E01,gas,normal_volume_flow,natural_gas,Nm3/h,rate\n"
USER, PASSWORD = "ingest", "in-secret"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(obj: x509.Certificate) -> bytes:
    return obj.public_bytes(serialization.Encoding.PEM)


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _server_cert(d: Path) -> None:
    """ca.pem (the broker's CA), server.pem/server.key (for 127.0.0.1 and localhost), other-ca.pem (a CA that
    signed nothing of this broker)."""
    ca_key, ca = _ca("carbonmet test CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(_pem(ca))
    (d / "server.pem").write_bytes(_pem(cert))
    (d / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    (d / "server.key").chmod(0o600)
    (d / "other-ca.pem").write_bytes(_pem(_ca("someone else's CA")[1]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """(port, directory with ca.pem and other-ca.pem) of a Mosquitto that speaks only TLS and wants a password."""
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto and mosquitto_passwd are needed")
    d = tmp_path / "tls"
    d.mkdir()
    _server_cert(d)
    pwfile = d / "passwd"
    pwfile.touch(mode=0o600)
    for user, pw in ((USER, PASSWORD), ("gw-e01", "gw-secret")):
        subprocess.run(["mosquitto_passwd", "-b", str(pwfile), user, pw], check=True, capture_output=True)
    port = _free_port()
    conf = d / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\ncafile {d / 'ca.pem'}\ncertfile {d / 'server.pem'}\n"
                    f"keyfile {d / 'server.key'}\nallow_anonymous false\npassword_file {pwfile}\n"
                    f"persistence false\nuser {getpass.getuser()}\n", encoding="utf-8")
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
                    pytest.fail(f"TLS mosquitto did not start: {out!r}")
                time.sleep(0.05)
        yield port, d
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _publish_retained(port: int, ca: Path, payload: bytes) -> None:
    """A gateway publishes over TLS; retained, so the listener gets it as soon as it subscribes."""

    async def go() -> None:
        async with aiomqtt.Client("127.0.0.1", port, identifier="gw", username="gw-e01", password="gw-secret",
                                  tls_params=aiomqtt.TLSParameters(ca_certs=str(ca)), timeout=5) as c:
            await c.publish(TOPIC, payload, qos=1, retain=True)

    asyncio.run(go())


def _cli(tmp_path: Path, port: int, ca: Path, *extra: str) -> tuple[int, str, BaseException | None]:
    points = tmp_path / "points.csv"
    points.write_text(POINTS, encoding="utf-8")
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["mqtt", "listen", "--store", str(tmp_path / "store"), "--points", str(points),
                                 "--host", "127.0.0.1", "--port", str(port), "--topic", TOPIC, "--max-messages", "1",
                                 "--client-id", "cli-tls", "--username", USER, "--password-file", str(pw),
                                 "--tls-ca", str(ca), "--json", *extra])
    return r.exit_code, r.output, r.exception


def test_D7_mqtt_listen_over_tls_connects_and_stores(tls_broker: tuple[int, Path], tmp_path: Path,
                                                     catalog: Catalog) -> None:
    port, d = tls_broker
    _publish_retained(port, d / "ca.pem", reading_payload("m1", [{"point_id": "E01.GAS",
                                                                  "ts": "2025-01-01T00:00:00+00:00",
                                                                  "value": 1200.0, "unit": "Nm3/h"}]))
    code, out, exc = _cli(tmp_path, port, d / "ca.pem")
    assert code == 0 and exc is None, out
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert lines[-1]["totals"]["stored"] == 1 and lines[-1]["totals"]["received"] == 1
    assert any("subscribed" in x for x in lines)
    assert Store(tmp_path / "store").readings("E01.GAS", catalog=catalog).column("value").to_pylist() == [1200.0]


def test_D7_mqtt_listen_with_a_wrong_ca_is_refused_with_a_clear_error(tls_broker: tuple[int, Path],
                                                                      tmp_path: Path, catalog: Catalog) -> None:
    port, d = tls_broker
    t0 = time.monotonic()
    code, out, exc = _cli(tmp_path, port, d / "other-ca.pem")
    flat = out.replace("\n", "")
    assert code == 1 and isinstance(exc, SystemExit), out  # a clear error, not a traceback or a retry loop
    assert "TLS" in flat and f"127.0.0.1:{port}" in flat and "certificate verify failed" in flat, out
    assert "other-ca.pem" in flat
    assert time.monotonic() - t0 < 10  # refused at once: retrying cannot make the certificate verify
    assert not list((tmp_path / "store" / "readings").rglob("*.parquet"))
    # the same through the API: BrokerRefused, nothing received
    lis = MqttListener(Store(tmp_path / "s2"), catalog, "127.0.0.1", port, topic=TOPIC, client_id="api-tls",
                       username=USER, password=PASSWORD, tls_ca=str(d / "other-ca.pem"))
    with pytest.raises(BrokerRefused, match="TLS"):
        asyncio.run(asyncio.wait_for(lis.run(), 20))
    assert lis.connections == 0 and lis.messages == 0


def test_D7_mqtt_listen_tls_files_that_cannot_be_read_are_named(tmp_path: Path, catalog: Catalog) -> None:
    not_a_cert = tmp_path / "ca.pem"
    not_a_cert.write_text("no certificate here\n", encoding="utf-8")
    for ca in (not_a_cert, tmp_path / "missing.pem"):
        with pytest.raises(ValueError, match=rf"tls_ca {ca}"):
            MqttListener(Store(tmp_path / "s"), catalog, tls_ca=str(ca))
        code, out, _ = _cli(tmp_path, 1, ca)
        assert code == 2 and str(ca) in out.replace("\n", ""), out
