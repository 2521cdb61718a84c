"""A plant historian for the tests and the benchmark: an asyncua OPC UA server whose variables are historized
in SQLite (run as a separate process so it can be killed and restarted).

``python opcua_historian.py PORT DB N INTERVAL_S [COUNT]`` serves ``opc.tcp://127.0.0.1:PORT`` with ``COUNT``
variables ``ns=2;i=1001``, ``ns=2;i=1002`` … (default one; numeric ids: the SQLite history names its tables after
them), and writes values ``i = 0 … N-1`` to each, value ``i + k/10``
(``k`` the node's index), source timestamp ``2026-03-01T00:00:00Z + i s``, one every ``INTERVAL_S`` seconds.
The history lives in ``DB``: a restarted server reads how far it got and goes on from there (the value a kill
interrupted before it was committed is written again, with the same timestamp). It prints ``ready`` once
listening and ``done`` when all values are written, then serves until killed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asyncua import Server, ua
from asyncua.server.history_sql import HistorySQLite

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def main(port: int, db: str, n: int, interval: float, count: int) -> None:
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    server = Server()
    # the standard address space, built once and cached beside the history (seconds saved on every restart)
    await server.init(shelf_file=Path(db).with_suffix(".shelf"))
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    storage = HistorySQLite(db)
    await storage.init()
    server.iserver.history_manager.set_storage(storage)
    idx = await server.register_namespace("urn:carbonmet:test-historian")
    assert idx == 2
    objects = server.nodes.objects
    plant = await objects.add_object(ua.NodeId(1000, idx), "Plant")
    variables = []
    for k in range(count):
        v = await plant.add_variable(ua.NodeId(1001 + k, idx), f"FT{101 + k}", ua.Variant(0.0, ua.VariantType.Double))
        variables.append(v)
    async with server:
        start = n
        for v in variables:
            # the historian records what it writes, with the source timestamp it was given (asyncua's own
            # historizing subscription would stamp values with the time it sampled them)
            await storage.new_historized_node(v.nodeid, None)
            got, _ = await storage.read_node_history(v.nodeid, (T0 - timedelta(days=1)).replace(tzinfo=None),
                                                    (T0 + timedelta(days=3650)).replace(tzinfo=None), 0)
            done = {round(float(dv.Value.Value)) for dv in got}
            start = min(start, next((i for i in range(n) if i not in done), n))
        print("ready", start, flush=True)
        for i in range(start, n):
            # naive UTC: asyncua's SQLite history stores the timestamp as sqlite3 TIMESTAMP text, which its reader
            # cannot parse back with a UTC offset
            ts = (T0 + timedelta(seconds=i)).replace(tzinfo=None)
            for k, v in enumerate(variables):
                dv = ua.DataValue(ua.Variant(i + k / 10, ua.VariantType.Double), SourceTimestamp=ts, ServerTimestamp=ts)
                await storage.save_node_value(v.nodeid, dv)
                await v.write_value(dv)
            await asyncio.sleep(interval)
        print("done", flush=True)
        while True:
            await asyncio.sleep(3600)


if __name__ == "__main__":
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), count))
