"""MQTT reader: subscribe with QoS 1 and a persistent session, acknowledge only what is durable.

Topic and payload scheme (docs/metering.md)::

    topic    carbonmet/v1/readings/<enterprise>/<device>      (subscription: carbonmet/v1/readings/#)
    payload  {"msg_id": "<unique per message, e.g. device-sequence>",
              "readings": [{"point_id": "E01.GAS", "ts": "2025-01-01T08:00:00+08:00",
                            "value": 1200.5, "unit": "Nm3/h", "flag": "N"},
                           {"serial": "FM-1", "ts": "…", "value": 1.2}]}

A single reading may be sent without the ``readings`` array (its fields at the top level). Topic and
``msg_id`` make the idempotency key; the SHA-256 of the payload is committed with it. A message whose
key and content were committed before is counted as duplicates, however often the broker (or the
device) re-sends it. New content under a key already used (a device whose message counter restarted
after a reboot) is not a duplicate: it is quarantined whole as ``msg_id_conflict`` (kept, not lost;
its re-deliveries are then duplicates). Without ``msg_id`` the key is the topic and the SHA-256 of the
payload. A message that cannot be decoded in any way is quarantined (``bad_payload``).

Access control (ACL, on in :class:`MqttListener`): the ``<enterprise>`` segment of the topic must own
every point a message writes (the point's enterprise in the catalogue; a reading by ``serial``: the
enterprise of a point the instrument is installed at). Readings of another enterprise's point, and every
reading of a topic outside the scheme, are quarantined as ``topic_acl``. Authentication is the broker's:
the listener connects with ``username``/``password`` and TLS (``tls_ca``, ``tls_cert``, ``tls_key``).

The subscriber turns off paho's automatic acknowledgement: a batch of messages is written to the
store (fsync, journal commit) first and only then are their PUBACKs sent. A crash before that leaves the
messages unacknowledged, and the broker re-delivers them to the same client id (clean_session=False).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import math
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiomqtt
import pyarrow as pa

from ._errors import MeteringError
from ._readers import BATCH_SCHEMA, readings_to_batch
from ._store import IngestReport, Store
from ._types import PointInfo, RawReading

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "carbonmet/v1/readings/#"
TOPIC_PREFIX = "carbonmet/v1/readings/"
#: quarantine reasons of this reader
MSG_ID_CONFLICT = "msg_id_conflict"
TOPIC_ACL = "topic_acl"


class PayloadError(MeteringError, ValueError):
    """An MQTT payload does not follow the scheme."""


class BrokerRefused(MeteringError, PermissionError):
    """The connection is refused for good, so reconnecting would not help: the broker refused the listener's
    credentials (CONNACK: bad user name or password, not authorised), or with TLS the broker's certificate
    does not verify against the given CA (wrong CA, expired, another host name) or the port does not speak
    TLS."""


#: CONNACK codes meaning "your credentials are refused": MQTT 3.1.1 (4, 5) and MQTT 5 (134, 135).
_AUTH_REFUSED = {4, 5, 134, 135}


def _refused_code(exc: BaseException) -> int | None:
    if not isinstance(exc, aiomqtt.MqttCodeError):
        return None
    rc = exc.rc
    code = getattr(rc, "value", rc)
    return code if isinstance(code, int) and code in _AUTH_REFUSED else None


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an aiomqtt connection error that no retry can mend, else None.

    A certificate that does not verify, and a port that does not speak TLS (``WRONG_VERSION_NUMBER``),
    are fatal; an interrupted handshake (EOF, reset) is a lost connection like any other.
    """
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return e
        if isinstance(e, ssl.SSLError) and getattr(e, "reason", None) == "WRONG_VERSION_NUMBER":
            return e
        e = e.__cause__ or e.__context__
    return None


def _tls_context(ca: str, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """The client TLS context of a listener: the broker's certificate must verify against ``ca`` alone (not
    the system's CAs) and name the host connected to; ``cert``/``key`` authenticate the client.

    Raises
    ------
    ValueError
        A file that cannot be read or holds no certificate/key, naming the option and the file.
    """
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"tls_ca {ca}: 无法读取 CA 证书 cannot read the CA certificate: {exc}") from None
    if cert is not None:
        try:
            ctx.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"tls_cert {cert} / tls_key {key}: 无法读取客户端证书或私钥 cannot read the client "
                             f"certificate or key: {exc}") from None
    return ctx


def message_key(topic: str, payload: bytes, doc: Any = None) -> str:
    """Idempotency key of a message: ``mqtt:<topic>:<msg_id>``, or ``mqtt:<topic>:sha256:<hash of payload>``
    without a ``msg_id``. The topic names the device, so two devices using the same ``msg_id`` sequence
    never collide."""
    if isinstance(doc, dict):
        mid = doc.get("msg_id")
        if isinstance(mid, str | int) and not isinstance(mid, bool):
            try:
                text = str(mid)
            except ValueError:  # an integer too long to print
                text = ""
            if text:
                return f"mqtt:{topic}:{text}"
    return f"mqtt:{topic}:sha256:" + hashlib.sha256(payload).hexdigest()


def content_key(key: str, payload: bytes) -> str:
    """The key committed with a message's idempotency key: ``<key>#sha256:<hash of payload>``."""
    return f"{key}#sha256:{hashlib.sha256(payload).hexdigest()}"


def topic_enterprise(topic: str) -> str | None:
    """The ``<enterprise>`` segment of ``carbonmet/v1/readings/<enterprise>/<device>``, or ``None``."""
    if not topic.startswith(TOPIC_PREFIX):
        return None
    parts = topic[len(TOPIC_PREFIX):].split("/")
    return parts[0] if len(parts) >= 2 and parts[0] and all(parts) else None


def _owners(catalog: Mapping[str, PointInfo]) -> dict[str, set[str]]:
    """Instrument serial → enterprises of the points it is (or was) installed at."""
    out: dict[str, set[str]] = {}
    for info in catalog.values():
        for ip in info.instruments:
            out.setdefault(ip.serial, set()).add(info.enterprise)
    return out


def _acl_refusal(topic_org: str | None, r: RawReading, catalog: Mapping[str, PointInfo],
                 by_serial: dict[str, set[str]]) -> str | None:
    """Why the topic may not write reading ``r`` (``None``: it may, or the point is unknown to the catalogue)."""
    if topic_org is None:
        return "主题不符合 carbonmet/v1/readings/<enterprise>/<device>  topic outside the scheme"
    if r.point_id is not None:
        info = catalog.get(r.point_id)
        owners = {info.enterprise} if info is not None else set()
    else:
        owners = by_serial.get(r.serial or "", set())
    if owners and topic_org not in owners:
        who = ", ".join(sorted(owners))
        return f"主题单位 {topic_org} 无权写入 {who} 的计量点 / topic enterprise {topic_org} does not own the point ({who})"
    return None


def _reading(obj: Any, origin: str) -> RawReading:
    if not isinstance(obj, dict):
        raise PayloadError(f"{origin}: a reading must be a JSON object")
    ts_text = obj.get("ts")
    if not isinstance(ts_text, str):
        raise PayloadError(f"{origin}: 'ts' must be an ISO 8601 string")
    try:
        ts = datetime.fromisoformat(ts_text)
    except ValueError:
        raise PayloadError(f"{origin}: 'ts' is not ISO 8601: {ts_text!r}") from None
    value = obj.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise PayloadError(f"{origin}: 'value' must be a number or null")
    if value is not None:
        try:
            value = float(value)
        except OverflowError:
            raise PayloadError(f"{origin}: 'value' is too large for a number") from None
        if not math.isfinite(value):
            raise PayloadError(f"{origin}: 'value' must be finite")
    for k in ("point_id", "serial", "unit", "flag"):
        if obj.get(k) is not None and not isinstance(obj[k], str):
            raise PayloadError(f"{origin}: {k!r} must be a string")
    return RawReading(
        ts=ts,
        value=value,
        point_id=obj.get("point_id"),
        serial=obj.get("serial"),
        unit=obj.get("unit"),
        flag=obj.get("flag") or "N",
        origin=origin,
    )


def parse_payload(topic: str, payload: bytes) -> tuple[str, list[RawReading]]:
    """Decode one message: (idempotency key, readings).

    Raises
    ------
    PayloadError
        Not UTF-8 JSON, or not following the scheme (the message is then quarantined whole).
    """
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"mqtt:{topic}: not UTF-8 JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # integers of > 4300 digits, nesting too deep
        raise PayloadError(f"mqtt:{topic}: JSON not decodable: {type(exc).__name__}: {str(exc)[:200]}") from None
    key = message_key(topic, payload, doc)
    if not isinstance(doc, dict):
        raise PayloadError(f"{key}: payload must be a JSON object")
    items = doc.get("readings")
    if items is None:
        items = [doc]
    if not isinstance(items, list):
        raise PayloadError(f"{key}: 'readings' must be an array")
    return key, [_reading(o, f"{key}#{i}") for i, o in enumerate(items)]


def reading_payload(msg_id: str, readings: Sequence[Mapping[str, Any]]) -> bytes:
    """Encode a payload of the scheme (for devices, gateways and tests)."""
    return json.dumps({"msg_id": msg_id, "readings": list(readings)}, ensure_ascii=False).encode("utf-8")


@dataclass(slots=True)
class Incoming:
    """One received message (as far as the store needs it)."""

    topic: str
    payload: bytes


def ingest_messages(
    store: Store, catalog: Mapping[str, PointInfo], messages: Sequence[Incoming], *, acl: bool = False
) -> IngestReport:
    """Store a group of MQTT messages as one batch; return when durable.

    Messages whose key and content are already committed (re-deliveries) and repeats inside the group
    count as duplicates; new content under a used key is quarantined whole (``msg_id_conflict``);
    undecodable messages are quarantined as one record each (``bad_payload``). Any error decoding one
    message quarantines that message only: one bad message never stops the others (nor, re-delivered
    by the broker, the listener).

    Parameters
    ----------
    acl : bool
        Enforce "the topic's enterprise owns the point": readings refused go to quarantine as
        ``topic_acl`` (:class:`MqttListener` turns it on).
    """
    decoded: list[tuple[str, list[RawReading] | None, str, Incoming]] = []
    for m in messages:
        try:
            key, rs = parse_payload(m.topic, m.payload)
            decoded.append((key, rs, "", m))
        except PayloadError as exc:
            decoded.append((message_key(m.topic, m.payload), None, str(exc), m))
        except Exception as exc:  # noqa: BLE001 - whatever a payload does, it is quarantined, not fatal
            decoded.append((message_key(m.topic, m.payload), None,
                            f"mqtt:{m.topic}: {type(exc).__name__}: {str(exc)[:200]}", m))
    contents = [content_key(k, m.payload) for k, _, _, m in decoded]
    known = store.known_keys([k for k, *_ in decoded] + contents)
    seen: set[str] = set()
    dup = 0
    fresh: list[tuple[str, list[RawReading] | None, str, Incoming]] = []
    conflicts: list[tuple[str, Incoming]] = []
    for item, ck in zip(decoded, contents, strict=True):
        key, maybe = item[0], item[1]
        hashed = ":sha256:" in key  # no msg_id: the key is the content
        if ck in known or ck in seen or (hashed and (key in known or key in seen)):
            dup += len(maybe) if maybe is not None else 1
            continue
        if not hashed and (key in known or key in seen):
            conflicts.append((ck, item[3]))
            seen.add(ck)
            continue
        seen.update((key, ck))
        fresh.append(item)
    report = IngestReport("mqtt", "mqtt", received=dup, duplicates=dup)
    if not fresh and not conflicts:
        return report
    readings: list[RawReading] = []
    refused: list[tuple[RawReading, str]] = []
    by_serial = _owners(catalog) if acl else {}
    for _, msg_readings, _, m in fresh:
        if msg_readings is None:
            continue
        org = topic_enterprise(m.topic)
        for r in msg_readings:
            why = _acl_refusal(org, r, catalog, by_serial) if acl else None
            if why is None:
                readings.append(r)
            else:
                refused.append((r, why))
    q_schema = pa.schema(list(BATCH_SCHEMA) + [pa.field("reason", pa.string()), pa.field("detail", pa.string())])
    rows: list[dict[str, Any]] = [
        {"origin": f"mqtt:{m.topic}", "error": "bad_payload", "raw_value": m.payload.decode("utf-8", "replace")[:2000],
         "reason": "bad_payload", "detail": err}
        for k, rs, err, m in fresh if rs is None
    ]
    rows += [
        {"origin": f"mqtt:{m.topic}", "error": MSG_ID_CONFLICT, "raw_value": m.payload.decode("utf-8", "replace")[:2000],
         "reason": MSG_ID_CONFLICT,
         "detail": f"{ck.split('#sha256:')[0]}: 消息号已用于其他内容 msg_id already used for other content "
                   "(device counter reset?)"}
        for ck, m in conflicts
    ]
    if refused:
        acl_rows = readings_to_batch([r for r, _ in refused]).to_pylist()
        for row, (_, why) in zip(acl_rows, refused, strict=True):
            row.update(reason=TOPIC_ACL, detail=why)
        rows += acl_rows
    extra = pa.Table.from_pylist(rows, schema=q_schema) if rows else None
    keys = sorted({k for k, *_ in fresh} | {content_key(k, m.payload) for k, _, _, m in fresh} | {ck for ck, _ in conflicts})
    batch_id = "mqtt:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
    raw = "\n".join(
        [json.dumps({"topic": m.topic, "key": k, "payload_b64": base64.b64encode(m.payload).decode()})
         for k, _, _, m in fresh]
        + [json.dumps({"topic": m.topic, "key": ck, "payload_b64": base64.b64encode(m.payload).decode()})
           for ck, m in conflicts]
    ).encode()
    n = len(fresh) + len(conflicts)
    stored = store.ingest(readings_to_batch(readings), batch_id, catalog, source="mqtt", raw=raw, raw_ext=".jsonl",
                     keys=keys, extra_quarantine=extra, origin=f"{n} message(s)")
    report.merge(stored)
    report.batch_id = batch_id
    return report


class MqttListener:
    """Subscribe to readings and store them; acknowledge (PUBACK) only after the batch is durable.

    Parameters
    ----------
    store, catalog
        Where to store, and the known points.
    host, port
        Broker address.
    topic : str
        Subscription filter.
    client_id : str
        Fixed client id: with ``clean_session=False`` the broker keeps the session (subscription and
        unacknowledged QoS 1 messages) across disconnects and restarts.
    max_batch : int
        Messages per store batch.
    linger_s : float
        Wait this long after the first message of a batch for more [s].
    compact_every : int
        Merge small partition files (:meth:`Store.compact`) every this many batches; 0: never.
    username, password : str, optional
        Credentials the broker checks (MQTT CONNECT); without TLS they cross the network in clear.
    tls_ca : str, optional
        CA certificate file: connect with TLS and verify the broker's certificate (and that it names
        ``host``) against it alone. The files are read when the listener is made.
    tls_cert, tls_key : str, optional
        Client certificate and key for brokers that authenticate clients by certificate (needs ``tls_ca``).

    Raises
    ------
    ValueError
        Inconsistent options, or TLS files that cannot be read (naming the file).
    acl : bool
        The topic's enterprise must own each point written (default ``True``); see the module notes.
    """

    def __init__(
        self,
        store: Store,
        catalog: Mapping[str, PointInfo],
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        topic: str = DEFAULT_TOPIC,
        client_id: str = "carbonmet-ingest",
        max_batch: int = 500,
        linger_s: float = 0.05,
        reconnect_s: float = 0.5,
        keepalive: int = 10,
        compact_every: int = 0,
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        acl: bool = True,
    ) -> None:
        if (tls_cert is not None or tls_key is not None) and tls_ca is None:
            raise ValueError("tls_cert/tls_key 需要 tls_ca  need tls_ca (the broker's CA)")
        if password is not None and username is None:
            raise ValueError("password 需要 username  needs a username")
        self.username, self.password, self.acl = username, password, acl
        self.tls_ca, self.tls_cert, self.tls_key = tls_ca, tls_cert, tls_key
        self._tls = _tls_context(tls_ca, tls_cert, tls_key) if tls_ca is not None else None
        self.store, self.catalog = store, catalog
        self.host, self.port, self.topic, self.client_id = host, port, topic, client_id
        self.max_batch, self.linger_s, self.reconnect_s, self.keepalive = max_batch, linger_s, reconnect_s, keepalive
        self.compact_every = compact_every
        self.batches = 0
        self.totals = IngestReport("mqtt-total", "mqtt")
        self.messages = 0
        self.connections = 0
        self._on_subscribed: Callable[[], None] | None = None

    async def run(
        self,
        stop: asyncio.Event | None = None,
        on_report: Callable[[IngestReport], None] | None = None,
        max_messages: int | None = None,
        on_subscribed: Callable[[], None] | None = None,
    ) -> IngestReport:
        """Run until ``stop`` is set (or ``max_messages`` were handled); reconnect after broker loss.

        ``on_report`` is called after each durable, acknowledged batch; ``on_subscribed`` after each
        (re)subscription.

        Raises
        ------
        BrokerRefused
            The broker refused the credentials, or its TLS certificate does not verify against ``tls_ca``
            (or the port does not speak TLS): retrying would not help.
        """
        stop = stop or asyncio.Event()
        self._on_subscribed = on_subscribed
        while not stop.is_set():
            try:
                await self._session(stop, on_report, max_messages)
            except aiomqtt.MqttError as exc:
                if (code := _refused_code(exc)) is not None:
                    raise BrokerRefused(
                        f"MQTT 代理拒绝连接 broker {self.host}:{self.port} refused the credentials of user"
                        f" {self.username!r} (CONNACK {code}: {exc})"
                    ) from None
                if (tls := _tls_failure(exc)) is not None:
                    raise BrokerRefused(
                        f"TLS: 代理证书未通过验证 the TLS connection to broker {self.host}:{self.port} failed: "
                        f"{getattr(tls, 'verify_message', '') or tls.reason} (CA file {self.tls_ca}; "
                        f"{tls})"
                    ) from None
                log.warning("MQTT connection lost (%s); reconnecting", exc)
                try:
                    await asyncio.wait_for(stop.wait(), self.reconnect_s)
                except TimeoutError:
                    pass
        return self.totals

    async def _session(
        self, stop: asyncio.Event, on_report: Callable[[IngestReport], None] | None, max_messages: int | None
    ) -> None:
        client = aiomqtt.Client(self.host, self.port, identifier=self.client_id, clean_session=False,
                                keepalive=self.keepalive, timeout=5, username=self.username,
                                password=self.password, tls_context=self._tls)
        # acknowledge only after the data are durable (set before connecting: queued messages arrive at once)
        client._client.manual_ack_set(True)
        try:
            await self._consume(client, stop, on_report, max_messages)
        finally:
            fut = getattr(client, "_disconnected", None)  # mark aiomqtt's disconnect future as seen
            if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
                fut.exception()

    async def _consume(
        self, client: aiomqtt.Client, stop: asyncio.Event,
        on_report: Callable[[IngestReport], None] | None, max_messages: int | None,
    ) -> None:
        async with client:
            self.connections += 1
            await client.subscribe(self.topic, qos=1)
            if self._on_subscribed is not None:
                self._on_subscribed()
            it = client.messages.__aiter__()
            while not stop.is_set():
                get = asyncio.ensure_future(it.__anext__())
                stopper = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({get, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if get not in done:
                    get.cancel()
                    break
                stopper.cancel()
                batch = [get.result()]
                if self.linger_s > 0:
                    await asyncio.sleep(self.linger_s)
                while len(batch) < self.max_batch and len(client.messages) > 0:
                    batch.append(await it.__anext__())
                incoming = [Incoming(str(m.topic), bytes(m.payload) if isinstance(m.payload, bytes | bytearray)
                                     else str(m.payload).encode()) for m in batch]
                report = await asyncio.to_thread(ingest_messages, self.store, self.catalog, incoming, acl=self.acl)
                for m in batch:  # durable now: acknowledge, in the order received
                    if m.qos > 0:
                        client._client.ack(m.mid, m.qos)
                self.totals.merge(report)
                del self.totals.notices[:-100]
                self.messages += len(batch)
                if on_report is not None:
                    on_report(report)
                self.batches += 1
                if self.compact_every and self.batches % self.compact_every == 0:
                    await asyncio.to_thread(self.store.compact)
                if max_messages is not None and self.messages >= max_messages:
                    stop.set()
