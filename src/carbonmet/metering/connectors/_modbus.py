"""Modbus TCP poller for meters (电能表、流量计 Modbus 轮询), over ``pymodbus``.

Every ``interval_s`` the poller reads each configured register of a device and stores one reading per register,
time-stamped with the poll slot (the interval's start, UTC). The key is the device, the register and the slot,
so a slot polled twice (a restart within the same interval) counts once. A meter cannot be asked about the past:
a poll that fails (meter down, network lost) is counted in :attr:`ModbusPoller.missed` and logged, never
invented; a totaliser register (kWh, m³) carries the consumption across the gap, so no energy is lost.

Register map (data; :func:`read_register_map`)::

    point_id,address,type,table,word_order,scale,unit
    E01.ELEC,0,uint32,holding,big,0.1,kWh
    E01.POWER,2,float32,holding,big,1,kW

``type``: int16, uint16, int32, uint32, int64, uint64, float32, float64; ``table``: holding or input;
``word_order``: big (high word first) or little; ``scale`` multiplies the raw number.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import RawReading
from ._base import ConnectorError, Intake, Record, config_rows, reconnecting, wait_or_stop

log = logging.getLogger(__name__)

#: registers per type
WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "uint64": 4, "float32": 2, "float64": 4}


@dataclass(frozen=True, slots=True)
class Register:
    """One value of a device: where it is, how to decode it, which point it reports."""

    point_id: str
    address: int
    type: str = "uint16"
    table: str = "holding"
    word_order: str = "big"
    scale: float = 1.0
    unit: str | None = None


def read_register_map(text: str, name: str = "<registers>") -> list[Register]:
    """Parse a register map (CSV with a header ``point_id,address[,type,table,word_order,scale,unit]``).

    Raises
    ------
    ConnectorError
        Naming the file, line and field: unknown type/table/word order, an address outside 0–65535 (or one whose
        registers run past it), a scale that is not a finite number, an empty point id, a point listed twice.
    """
    out: list[Register] = []
    seen: set[str] = set()
    for where, d in config_rows(text, name, ("point_id", "address"), "无寄存器 no registers (header point_id,address,…)"):
        point = d["point_id"]
        if not point:
            raise ConnectorError(f"{where}: point_id: 为空 empty")
        if point in seen:
            raise ConnectorError(f"{where}: point_id: {point} 重复 listed twice")
        typ = (d.get("type") or "uint16").lower()
        if typ not in WIDTH:
            raise ConnectorError(f"{where}: type: 未知 unknown {typ!r} ({', '.join(WIDTH)})")
        table = (d.get("table") or "holding").lower()
        if table not in ("holding", "input"):
            raise ConnectorError(f"{where}: table: 应为 must be holding or input, not {table!r}")
        order = (d.get("word_order") or "big").lower()
        if order not in ("big", "little"):
            raise ConnectorError(f"{where}: word_order: 应为 must be big or little, not {order!r}")
        try:
            address = int(d["address"])
        except ValueError:
            raise ConnectorError(f"{where}: address: 不是整数 not an integer: {d['address']!r}") from None
        if not 0 <= address <= 65536 - WIDTH[typ]:
            raise ConnectorError(f"{where}: address: {address} 超出 outside 0–{65536 - WIDTH[typ]} for {typ}")
        try:
            scale = float(d.get("scale") or 1)
        except ValueError:
            raise ConnectorError(f"{where}: scale: 不是数 not a number: {d.get('scale')!r}") from None
        if not math.isfinite(scale) or scale == 0:
            raise ConnectorError(f"{where}: scale: 须为非零有限数 must be finite and non-zero")
        seen.add(point)
        out.append(Register(point, address, typ, table, order, scale, d.get("unit") or None))
    if not out:
        raise ConnectorError(f"{name}: 无寄存器 no registers below the header")
    return out


class ModbusPoller:
    """Poll a Modbus TCP device's registers every ``interval_s`` seconds into the store.

    Parameters
    ----------
    host, port : str, int
        The device (or gateway).
    registers : sequence of Register
        What to read.
    device_id : int
        Modbus unit / slave id.
    interval_s : float
        Poll interval [s]; readings are time-stamped with the slot start.
    timeout_s, reconnect_s : float
        Request timeout, and wait before reconnecting [s].
    """

    source = "modbus"
    raw_ext = ".jsonl"

    def __init__(self, host: str, port: int, registers: Sequence[Register], *, device_id: int = 1,
                 interval_s: float = 60.0, timeout_s: float = 2.0, reconnect_s: float = 1.0) -> None:
        if not registers:
            raise ConnectorError("registers: 无寄存器 no registers to read")
        if interval_s <= 0:
            raise ConnectorError(f"interval_s: 须为正 must be positive, not {interval_s}")
        self.host, self.port, self.registers, self.device_id = host, port, list(registers), device_id
        self.interval_s, self.timeout_s, self.reconnect_s = interval_s, timeout_s, reconnect_s
        self.polls = 0
        self.missed = 0
        self.connections = 0

    @property
    def device(self) -> str:
        return f"modbus:{self.host}:{self.port}/{self.device_id}"

    async def run(self, intake: Intake, stop: asyncio.Event) -> None:
        last_slot: list[int | None] = [None]  # the slot polled (or missed) last, across reconnections

        async def session() -> None:
            from pymodbus.client import AsyncModbusTcpClient

            client = AsyncModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0)
            try:
                if not await client.connect():
                    raise ConnectionError(f"{self.device}: 无法连接 cannot connect")
                self.connections += 1
                while not stop.is_set():
                    slot = int(time.time() // self.interval_s)
                    if slot != last_slot[0]:
                        await self._poll(intake, client, slot)
                        last_slot[0] = slot
                    await wait_or_stop(stop, (slot + 1) * self.interval_s - time.time())
            finally:
                client.close()

        def missed() -> None:  # the meter or the link down: the slot counts as missed once
            slot = int(time.time() // self.interval_s)
            if slot != last_slot[0]:
                self.missed += 1
                last_slot[0] = slot

        await reconnecting(stop, session, label=f"Modbus {self.device}", reconnect_s=self.reconnect_s, on_error=missed)

    async def _poll(self, intake: Intake, client: object, slot: int) -> None:
        from pymodbus.client import AsyncModbusTcpClient

        ts = datetime.fromtimestamp(slot * self.interval_s, UTC)
        records: list[Record] = []
        for reg in self.registers:
            read = client.read_holding_registers if reg.table == "holding" else client.read_input_registers  # type: ignore[attr-defined]
            res = await read(reg.address, count=WIDTH[reg.type], device_id=self.device_id)
            if res.isError():
                raise ConnectionError(f"{self.device}: register {reg.address}: {res}")
            dtype = getattr(AsyncModbusTcpClient.DATATYPE, reg.type.upper())
            number = AsyncModbusTcpClient.convert_from_registers(res.registers, dtype, word_order=reg.word_order)  # type: ignore[arg-type]
            value = float(number) * reg.scale  # type: ignore[arg-type]
            key = f"{self.device}|{reg.table}:{reg.address}|{ts.isoformat()}"
            raw = json.dumps({"address": reg.address, "table": reg.table, "registers": list(res.registers),
                              "type": reg.type, "slot": ts.isoformat()}).encode("utf-8")
            reading = RawReading(ts=ts, value=value if math.isfinite(value) else None, point_id=reg.point_id,
                                 unit=reg.unit, origin=key)
            records.append(Record(self.device, key, (reading,), raw))
        await intake.submit(records, origin=f"{self.device} slot {ts.isoformat()}")
        self.polls += 1

