"""``carbonmet connect opcua|modbus`` — run a connector into the readings store (数据接口接入)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import typer

from ._common import DbOpt, OrgOpt, console, fail, print_json, scope, workspace

app = typer.Typer(help="数据接口 — OPC UA historians/DCS and Modbus TCP meters into the readings store",
                  no_args_is_help=True)

_STORE = typer.Option(..., "--store", help="数据存储目录 readings store directory")
_POINTS = typer.Option(None, "--points", help="计量点 points.csv; default: the registry database")
_SECONDS = typer.Option(None, "--seconds", help="运行秒数后退出 stop after this many seconds (default: until Ctrl-C)")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"无法读取 cannot read {path}: {exc}", 2)


def _run(connector: Any, store: Path, points: Path | None, seconds: float | None, org: str | None, db: str | None,
         as_json: bool) -> None:
    from carbonmet.services import CarbonmetError, connect_source

    async def go() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if seconds is not None:
            loop.call_later(seconds, stop.set)
        with workspace(db, store, points=points) as ws:
            return await connect_source(ws, scope(org), connector, stop=stop)

    try:
        intake = asyncio.run(go())
    except CarbonmetError as exc:
        fail(str(exc), 2)
    d = intake.totals.to_dict() | {"records": intake.records, "batches": intake.batches, "rejects": intake.rejects}
    d |= {k: getattr(connector, k) for k in ("connections", "reconnects", "polls", "missed") if hasattr(connector, k)}
    if as_json:
        print_json(d)
        return
    console.print(f"接收 received {d['received']}, 入库 stored {d['stored']}, 隔离 quarantined {d['quarantined']}, "
                  f"重复 duplicates {d['duplicates']}; 批次 batches {d['batches']}")
    extra = {k: d[k] for k in ("connections", "reconnects", "polls", "missed") if k in d}
    if extra:
        console.print("  " + ", ".join(f"{k} {v}" for k, v in extra.items()))


@app.command("opcua")
def opcua_cmd(
    endpoint: str = typer.Option(..., "--endpoint", help="opc.tcp://host:port"),
    nodes: Path = typer.Option(..., "--nodes", help="节点表 CSV node_id,point_id[,unit]"),
    store: Path = _STORE,
    points: Path | None = _POINTS,
    poll_s: float = typer.Option(5.0, "--poll", min=0.01, help="无新数据时的等待秒数 wait when nothing new [s]"),
    seconds: float | None = _SECONDS,
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """读取 OPC UA 历史数据  Read the history of OPC UA nodes from the committed cursor (nothing lost across restarts)."""
    from carbonmet.metering.connectors import ConnectorError, OpcUaConnector, read_opcua_nodes

    try:
        conn = OpcUaConnector(endpoint, read_opcua_nodes(_read(nodes), str(nodes)), poll_s=poll_s)
    except ConnectorError as exc:
        fail(str(exc), 2)
    _run(conn, store, points, seconds, org, db, as_json)


@app.command("modbus")
def modbus_cmd(
    host: str = typer.Option(..., "--host", help="设备地址 device or gateway host"),
    registers: Path = typer.Option(..., "--registers", help="寄存器表 CSV point_id,address,type,table,word_order,scale,unit"),
    store: Path = _STORE,
    port: int = typer.Option(502, "--port", help="端口 port"),
    device_id: int = typer.Option(1, "--device-id", min=0, max=255, help="从站地址 unit id"),
    interval: float = typer.Option(60.0, "--interval", min=0.01, help="轮询间隔秒数 poll interval [s]"),
    points: Path | None = _POINTS,
    seconds: float | None = _SECONDS,
    org: str | None = OrgOpt,
    db: str | None = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="机器可读输出 machine-readable output"),
) -> None:
    """轮询 Modbus TCP 仪表  Poll a Modbus TCP meter's registers every --interval seconds into the store."""
    from carbonmet.metering.connectors import ConnectorError, ModbusPoller, read_register_map

    try:
        conn = ModbusPoller(host, port, read_register_map(_read(registers), str(registers)), device_id=device_id,
                            interval_s=interval)
    except ConnectorError as exc:
        fail(str(exc), 2)
    _run(conn, store, points, seconds, org, db, as_json)
