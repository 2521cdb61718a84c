"""OPC UA client for plant historians and DCS (OPC UA 历史数据读取), over ``asyncua``.

The connector reads each configured node's *history* (HistoryRead, raw values) from a cursor onwards, not
only its current value: what the historian recorded while the connection (or this process) was down is read
after the reconnect, so nothing is lost. Each value's key is the endpoint, the node and its source timestamp,
so a value read twice (the cursor is inclusive: the last value of one read is the first of the next) counts
once. The cursor (the last source timestamp stored) is committed with the batch it follows.

Configuration (a node list as data; :func:`read_opcua_nodes`)::

    node_id,point_id,unit
    ns=2;i=1001,E01.GAS,Nm3/h

Limits: the server must historize the nodes (``Historizing``); a value whose source timestamp is earlier than
the cursor when it reaches the historian (a late back-fill) is not read; more than ``max_values`` values with
one source timestamp would stall the cursor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import RawReading
from ._base import ConnectorError, Intake, Record, config_rows, reconnecting, wait_or_stop

log = logging.getLogger(__name__)

#: default start of a node's history when no cursor is stored yet
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OpcUaNode:
    """One historized variable and the measurement point it reports."""

    node_id: str
    point_id: str
    unit: str | None = None


def read_opcua_nodes(text: str, name: str = "<nodes>") -> list[OpcUaNode]:
    """Parse a node list (CSV ``node_id,point_id[,unit]`` with a header; ``#`` comments).

    Raises
    ------
    ConnectorError
        Naming the file, line and field: a missing header column, an empty or malformed node id, an empty point
        id, a node listed twice.
    """
    out: list[OpcUaNode] = []
    seen: set[str] = set()
    for where, d in config_rows(text, name, ("node_id", "point_id"), "无节点 no nodes (header node_id,point_id[,unit])"):
        node, point = d["node_id"], d["point_id"]
        if not node.startswith("ns=") or ";" not in node or "=" not in node.split(";", 1)[1]:
            raise ConnectorError(f"{where}: node_id: 应为 must be like ns=2;i=1001 or ns=2;s=FT101, not {node!r}")
        if not point:
            raise ConnectorError(f"{where}: point_id: 为空 empty")
        if node in seen:
            raise ConnectorError(f"{where}: node_id: {node} 重复 listed twice")
        seen.add(node)
        out.append(OpcUaNode(node, point, d.get("unit") or None))
    if not out:
        raise ConnectorError(f"{name}: 无节点 no nodes below the header")
    return out


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class OpcUaConnector:
    """Read the history of OPC UA nodes into the store, resuming from the committed cursor.

    Parameters
    ----------
    endpoint : str
        ``opc.tcp://host:port[/path]``.
    nodes : sequence of OpcUaNode
        What to read.
    poll_s : float
        Wait between reads when nothing new came [s].
    max_values : int
        Values per node per history read (one batch).
    start : datetime, optional
        Where a node's history starts when no cursor is stored (default 2000-01-01).
    reconnect_s, timeout_s : float
        Wait before reconnecting, and the request timeout [s].
    """

    source = "opcua"
    raw_ext = ".jsonl"

    def __init__(self, endpoint: str, nodes: Sequence[OpcUaNode], *, poll_s: float = 1.0, max_values: int = 1000,
                 start: datetime | None = None, reconnect_s: float = 1.0, timeout_s: float = 4.0) -> None:
        if not endpoint.startswith("opc.tcp://"):
            raise ConnectorError(f"endpoint: 应为 must start with opc.tcp://, not {endpoint!r}")
        if not nodes:
            raise ConnectorError("nodes: 无节点 no nodes to read")
        self.endpoint, self.nodes = endpoint, list(nodes)
        self.poll_s, self.max_values, self.start = poll_s, max_values, start or EPOCH
        self.reconnect_s, self.timeout_s = reconnect_s, timeout_s
        self.connections = 0
        self.reconnects = 0
        self.values = 0

    def cursor_name(self, node: OpcUaNode) -> str:
        return f"opcua:{self.endpoint}|{node.node_id}"

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        async def session() -> None:
            from asyncua import Client

            client = Client(self.endpoint, timeout=self.timeout_s)
            await client.connect()
            try:
                self.connections += 1
                handles = [client.get_node(n.node_id) for n in self.nodes]
                while not stop.is_set():
                    got = 0
                    for spec, handle in zip(self.nodes, handles, strict=True):
                        got += await self._read(intake, spec, handle)
                    if got == 0:
                        await wait_or_stop(stop, self.poll_s)
            finally:
                try:
                    await asyncio.wait_for(client.disconnect(), self.timeout_s)
                except Exception:  # noqa: BLE001 - the server is gone: nothing to close politely
                    client.disconnect_socket()

        def count() -> None:
            self.reconnects += 1

        await reconnecting(stop, session, label=f"OPC UA {self.endpoint}", reconnect_s=self.reconnect_s, on_error=count)

    async def _read(self, intake: Intake, spec: OpcUaNode, handle: Any) -> int:
        name = self.cursor_name(spec)
        cur = await asyncio.to_thread(intake.cursor, name)
        start = datetime.fromisoformat(cur) if cur else self.start
        values = await handle.read_raw_history(start, datetime.now(UTC) + timedelta(days=1),
                                               numvalues=self.max_values, return_bounds=False)
        records = [r for dv in values if (r := self._record(spec, dv)) is not None]
        if not records:
            return 0
        last = max(r.readings[0].ts for r in records)
        rep = await intake.submit(records, cursor=(name, last.isoformat()), origin=f"opcua:{spec.node_id}")
        self.values += len(records)
        return rep.received - rep.duplicates

    def _record(self, spec: OpcUaNode, dv: Any) -> Record | None:
        ts = dv.SourceTimestamp or dv.ServerTimestamp
        if ts is None:
            return None
        ts = _aware(ts)
        raw_value = dv.Value.Value if dv.Value is not None else None
        value: float | None
        try:
            value = float(raw_value) if raw_value is not None and not isinstance(raw_value, str) else None
        except (TypeError, ValueError):
            value = None
        if value is not None and not math.isfinite(value):
            value = None
        status = dv.StatusCode
        good = status is None or status.is_good()
        key = f"opcua:{self.endpoint}|{spec.node_id}|{ts.isoformat()}"
        raw = json.dumps({"node": spec.node_id, "value": repr(raw_value), "source_ts": ts.isoformat(),
                          "server_ts": _aware(dv.ServerTimestamp).isoformat() if dv.ServerTimestamp else None,
                          "status": getattr(status, "name", str(status))}, ensure_ascii=False).encode("utf-8")
        reading = RawReading(ts=ts, value=value, point_id=spec.point_id, unit=spec.unit,
                             flag="N" if good else "D", origin=f"{key};status={getattr(status, 'name', status)}")
        return Record(f"opcua:{self.endpoint}|{spec.node_id}", key, (reading,), raw)

