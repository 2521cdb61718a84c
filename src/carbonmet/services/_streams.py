"""Long-running receivers bound to a scope: the HJ 212 TCP server and the MQTT listener (实时接入).

Each use case builds the receiver with its sink writing through :class:`ScopedStore`: readings of
points outside the caller's write scope are quarantined (``out_of_scope``) as in
:func:`ingest_files`, never stored. Without a readings store the HJ 212 server writes JSON lines
(accepted messages and rejected frames, fsynced before the answer); readings outside the write scope
then go to the rejects file with reason ``out_of_scope``.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._credentials import password_checker
from ._deps import (
    AcceptancePolicy,
    Connector,
    HJ212Server,
    Intake,
    Message,
    MqttListener,
    RawReading,
    ServerLimits,
    build_point_map,
    encode,
    run_connector,
    start_server,
    store_sink,
    store_times,
)
from ._errors import ServiceError
from ._metering import OUT_OF_SCOPE, _all_points, refused_org, scoped_store
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


class _JsonLines:
    """An append-only JSON-lines file, each line flushed and fsynced before the call returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()  # connections write from worker threads

    def _write(self, line: str) -> None:
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    async def write(self, doc: dict[str, Any]) -> None:
        await asyncio.to_thread(self._write, json.dumps(doc, ensure_ascii=False) + "\n")


def _reading_json(r: RawReading) -> dict[str, Any]:
    return {"point_id": r.point_id, "serial": r.serial, "ts": r.ts.isoformat(), "value": r.value, "unit": r.unit,
            "flag": r.flag, "origin": r.origin}


class JsonLinesSink:
    """HJ 212 sink and reject callbacks writing JSON lines, with readings outside the scope refused.

    ``sink(readings, message)`` appends the message (frames and readings of the write scope) to
    ``out``; readings of other enterprises' points go to ``rejects`` as one line with reason
    ``out_of_scope`` and the organisation. ``reject(raw, reason)`` appends a rejected frame.
    """

    def __init__(self, out: Path, rejects: Path, ws: Workspace, scope: Scope) -> None:
        self._out, self._rejects = _JsonLines(out), _JsonLines(rejects)
        self._full, self._scope = _all_points(ws), scope

    async def sink(self, readings: list[RawReading], message: Message) -> None:
        frames = [(p.raw or encode(p)).decode("utf-8") for p in message.parts]
        mine: list[RawReading] = []
        refused: dict[str, list[RawReading]] = {}
        for r in readings:
            org = refused_org(self._full, self._scope, r.point_id, r.serial)
            if org is None:
                mine.append(r)
            else:
                refused.setdefault(org, []).append(r)
        now = datetime.now(UTC).isoformat()
        for org, rs in sorted(refused.items()):
            await self._rejects.write({
                "received": now, "reason": OUT_OF_SCOPE,
                "detail": f"无权写入单位 {org} 的计量点 / no write access to organisation {org}",
                "raw": "".join(frames), "readings": [_reading_json(r) for r in rs]})
        await self._out.write({"received": now, "mn": message.mn, "qn": message.qn, "cn": message.cn,
                               "complete": message.complete, "frames": frames,
                               "readings": [_reading_json(r) for r in mine]})

    async def reject(self, raw: bytes, reason: str) -> None:
        await self._rejects.write({"received": datetime.now(UTC).isoformat(), "reason": reason, "raw_hex": raw.hex(),
                                   "raw": raw.decode("utf-8", "replace")})


@use_case("write")
async def start_hj212_server(
    ws: Workspace, scope: Scope, host: str, port: int, *, out: str | Path | None = None,
    rejects: str | Path | None = None, strict: bool | None = None, limits: ServerLimits | None = None,
    check_passwords: bool = True, policy: AcceptancePolicy | None = None,
) -> HJ212Server:
    """Start the HJ 212-2017 TCP server receiving data loggers into the workspace (数采仪接收).

    The server answers 9014 only after the readings are durable. Data loggers are mapped to points by
    ``hj212_mn``/``hj212_code`` over every known point; readings of points outside the write scope are
    quarantined as ``out_of_scope`` (never stored).

    Parameters
    ----------
    host, port : str, int
        Where to listen; port 0 picks a free port (``server.port``).
    out, rejects : path, optional
        Without a readings store in the workspace: JSON-lines files of accepted messages and of
        rejected frames (both required then).
    strict : bool, optional
        ``True``: every logger under the ``strict`` acceptance policy (2005-style, 14-character MN, oversize …
        refused with the reasons and quarantined); ``False`` or not given: the default accept-and-flag policy.
        Ignored when ``policy`` is given.
    policy : AcceptancePolicy, optional
        The acceptance policy per logger (:func:`carbonmet.metering.hj212.load_policy`): deviations from
        HJ 212-2017 are accepted and counted with each batch (``flag``) or refused (``strict``) per MN or
        enterprise.
    limits : ServerLimits, optional
        Timeouts and limits (HJ 212-2017 Table 1 defaults); ``backfill_hours`` > 0 needs the store.
    check_passwords : bool
        ``True`` (default): every packet's PW is checked against the logger's password in the registry
        (:func:`set_hj212_password`); a wrong or empty PW, or a logger without a password, is answered
        9011 QnRtn=3 and nothing of it is stored. ``False`` turns authentication off: anyone who reaches
        the port and knows an MN writes data (only for a closed test network).

    Returns
    -------
    HJ212Server
        Listening; ``await server.serve_forever()`` or ``await server.close()``.
    """
    limits = limits if limits is not None else ServerLimits()
    if policy is None:
        policy = AcceptancePolicy(default="strict" if strict else "flag")
    full = _all_points(ws)
    check = password_checker(ws) if check_passwords else None
    point_map = build_point_map(list(full.values()))
    if ws.store_root is not None:
        target = scoped_store(ws, scope)
        sink, reject = store_sink(target, target.catalog)
        stored = store_times(ws.store(), target.catalog)
        return await start_server(host, port, sink, point_map, reject=reject, limits=limits,
                                  stored_times=stored, check_password=check, policy=policy)
    if out is None or rejects is None:
        raise ServiceError("请给出 --store 或 --out 与 --rejects  give --store, or both --out and --rejects")
    if limits.backfill_hours > 0:
        raise ServiceError("--backfill-hours 需要 --store  needs --store (to know what is missing)")
    js = JsonLinesSink(Path(out), Path(rejects), ws, scope)
    return await start_server(host, port, js.sink, point_map, reject=js.reject, limits=limits,
                              check_password=check, policy=policy)


@use_case("write")
def mqtt_listener(
    ws: Workspace, scope: Scope, host: str = "127.0.0.1", port: int = 1883, **options: Any
) -> MqttListener:
    """An MQTT listener (QoS 1, persistent session) storing into the workspace's readings store (订阅接入).

    Messages are acknowledged only once their batch is durable. Readings of points outside the write
    scope are quarantined as ``out_of_scope``. ``options`` are those of
    :class:`carbonmet.metering.MqttListener` (``topic``, ``client_id``, ``max_batch``, ``compact_every`` …).

    Returns
    -------
    MqttListener
        Not yet connected: ``await listener.run(stop, on_report, max_messages, on_subscribed)``.
    """
    target = scoped_store(ws, scope)
    return MqttListener(target, target.catalog, host, port, **options)  # type: ignore[arg-type]


@use_case("write")
async def connect_source(ws: Workspace, scope: Scope, connector: Connector, *, stop: asyncio.Event | None = None) -> Intake:
    """Run a connector (OPC UA, Modbus, HJ 212, MQTT, files, or one of your own) into the workspace's store (数据接口接入).

    The connector's records are validated against the points of the write scope, stored or quarantined, and
    made durable before the connector acknowledges them (:mod:`carbonmet.metering.connectors`). Readings of
    points outside the write scope are quarantined as ``out_of_scope``, never stored.

    Returns
    -------
    Intake
        When the connector stopped (``stop`` set, or it ran out of input): the counts (``totals``,
        ``records``, ``batches``, ``rejects``, ``failures``).
    """
    if ws.store_root is None:
        raise ServiceError("需要数据存储目录 a readings store (--store) is needed")
    target = scoped_store(ws, scope)
    return await run_connector(connector, target, target.catalog, stop=stop)
