"""A Modbus TCP energy meter for the tests and the benchmark (run as a separate process so it can be killed).

``python modbus_meter.py PORT T0`` serves device id 1 with an active-energy totaliser in holding registers
0-1 (UINT32, big-endian words, 0.1 kWh per count) and an active power in registers 2-3 (FLOAT32, kW). The
totaliser is a function of the wall clock (10 counts per second since ``T0``, Unix seconds), so a meter
restarted after a kill goes on from where it would have been, like a real meter's non-volatile counter.
"""

from __future__ import annotations

import asyncio
import struct
import sys
import time

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def registers(t0: float, now: float) -> list[int]:
    """The four holding registers at time ``now``: totaliser (UINT32) then power (FLOAT32)."""
    count = int((now - t0) * 10) & 0xFFFFFFFF
    power = 36.0 + (count % 7)
    hi, lo = count >> 16, count & 0xFFFF
    p_hi, p_lo = struct.unpack(">HH", struct.pack(">f", power))
    return [hi, lo, p_hi, p_lo]


async def main(port: int, t0: float) -> None:
    async def action(function_code: int, start_address: int, address: int, count: int,
                     current_registers: list[int], set_values: object) -> None:
        regs = registers(t0, time.time())
        for i, r in enumerate(regs):
            if i < len(current_registers):
                current_registers[i] = r

    device = SimDevice(id=1, simdata=[SimData(0, count=4, values=0, datatype=DataType.REGISTERS)], action=action)
    server = ModbusTcpServer(device, address=("127.0.0.1", port))
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
