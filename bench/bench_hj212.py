"""HJ 212 server throughput over loopback vs a plain asyncio echo server, same client, same packets.

The server under test runs in its own process (one core: one event loop), the client in this one.
Each of ``CONNECTIONS`` connections plays a data logger sending real-time uploads (CN=2011, Flag=5:
answer required, six factor codes, ≈ 300 bytes) with up to ``WINDOW`` packets unanswered; a packet
counts when its 9014 answer (or, for the echo server, its echo) has come back. Zero loss means
every packet was answered and the server's sink counted every message and reading.

The machine is shared, so besides wall-clock packets/s the server process's own CPU time is
measured: packets per server CPU-second is the "per core" figure that load from others inflates least.

The sink only counts (it measures the protocol path, not a disk: the CLI's JSON-lines sink fsyncs
per message and is bounded by the disk instead). The codec alone is timed too (µs per packet).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from typing import Any

from carbonmet.metering import PointInfo
from carbonmet.metering.hj212 import build, build_point_map, decode, encode, to_raw_readings

MN_BASE = "010000A8900016F0001{:05X}"
CODES = ["a21026", "a21002", "a19001", "a00000", "a01012", "a05001"]
CONNECTIONS = 8
WINDOW = 32


def _points(connections: int) -> list[PointInfo]:
    return [
        PointInfo(f"E{c:02d}.{code}", f"E{c:02d}", "mg/m3", "rate", hj212_mn=MN_BASE.format(c), hj212_code=code)
        for c in range(connections)
        for code in CODES
    ]


def _frames(conn: int, n: int) -> list[bytes]:
    out = []
    for i in range(n):
        t = 1_000_000 + i
        qn = f"2025030{1 + (t // 86400) % 9}{(t // 3600) % 24:02d}{(t // 60) % 60:02d}{t % 60:02d}{i % 1000:03d}"
        cp: list[dict[str, str]] = [{"DataTime": qn[:14]}]
        for k, code in enumerate(CODES):
            cp.append({f"{code}-Rtd": f"{(i * 7 + k * 13) % 500 + 0.25:.2f}", f"{code}-Flag": "N"})
        head = {"QN": qn, "ST": "31", "CN": "2011", "PW": "123456", "MN": MN_BASE.format(conn), "Flag": 5}
        out.append(encode(build(head, cp)))
    return out


def _serve(kind: str, conn: Any, connections: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        counts = {"messages": 0, "readings": 0}
        if kind == "hj212":
            from carbonmet.metering.hj212 import start_server

            async def sink(readings: list, message: Any) -> None:
                counts["messages"] += 1
                counts["readings"] += len(readings)

            server = await start_server("127.0.0.1", 0, sink, build_point_map(_points(connections)))
            port = server.port
            stats = server.stats
        else:

            class Echo(asyncio.Protocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    self.transport = transport  # type: ignore[assignment]

                def data_received(self, data: bytes) -> None:
                    self.transport.write(data)  # type: ignore[attr-defined]

            srv = await loop.create_server(Echo, "127.0.0.1", 0)
            port = srv.sockets[0].getsockname()[1]
            stats = None
        conn.send(port)
        await loop.run_in_executor(None, conn.recv)  # "start": the client is about to send
        cpu0 = time.process_time()
        conn.send("ready")
        await loop.run_in_executor(None, conn.recv)  # wait for "stop"
        counts["cpu_seconds"] = round(time.process_time() - cpu0, 3)
        if stats is not None:
            counts.update(answers=stats.answers, rejects=stats.rejects, packets=stats.packets)
        conn.send(counts)

    asyncio.run(main())


async def _client(port: int, per_conn: list[list[bytes]]) -> tuple[float, int]:
    async def one(frames: list[bytes]) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n, sent, got, tail = len(frames), 0, 0, b""
        while got < n:
            if sent < n and sent - got < WINDOW:
                k = min(n, got + WINDOW)
                writer.write(b"".join(frames[sent:k]))
                sent = k
            data = await reader.read(65536)
            if not data:
                break
            got += (tail + data).count(b"\r\n")
            tail = data[-1:] if data[-1:] == b"\r" else b""
        writer.close()
        await writer.wait_closed()
        return got

    t0 = time.perf_counter()
    got = await asyncio.gather(*(one(f) for f in per_conn))
    return time.perf_counter() - t0, sum(got)


def _run_one(kind: str, per_conn: list[list[bytes]]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(kind, child, len(per_conn)), daemon=True)
    proc.start()
    try:
        port = parent.recv()
        parent.send("start")
        parent.recv()
        seconds, answered = asyncio.run(_client(port, per_conn))
        parent.send("stop")
        counts = parent.recv()
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
    n = sum(len(f) for f in per_conn)
    cpu = counts.get("cpu_seconds") or float("nan")
    return {"packets": n, "answered": answered, "loss": n - answered, "seconds": round(seconds, 3),
            "packets_per_s": round(n / seconds), "packets_per_server_cpu_s": round(n / cpu),
            "server": counts}


def _codec_us(frames: list[bytes]) -> dict[str, float]:
    """CPU µs per packet of decode, mapping and encode alone (after a warm-up)."""
    pm = build_point_map(_points(CONNECTIONS))
    for f in frames[:50]:
        to_raw_readings(decode(f), pm)
    t0 = time.process_time()
    packets = [decode(f) for f in frames]
    t1 = time.process_time()
    for p in packets:
        to_raw_readings(p, pm)
    t2 = time.process_time()
    for p in packets:
        encode(p)
    t3 = time.process_time()
    n = len(frames)
    return {"decode_us": round((t1 - t0) / n * 1e6, 2), "to_raw_readings_us": round((t2 - t1) / n * 1e6, 2),
            "encode_us": round((t3 - t2) / n * 1e6, 2)}


def run(quick: bool = False) -> dict[str, Any]:
    per = 250 if quick else 12_500  # packets per connection (total 2 000 quick, 100 000 full)
    per_conn = [_frames(c, per) for c in range(CONNECTIONS)]
    frame_bytes = len(per_conn[0][0])
    codec = _codec_us(per_conn[0][: min(per, 5000)])
    echo = _run_one("echo", per_conn)
    hj = _run_one("hj212", per_conn)
    n = hj["packets"]
    zero_loss = (
        hj["loss"] == 0
        and hj["server"]["messages"] == n
        and hj["server"]["answers"] == n
        and hj["server"]["readings"] == n * len(CODES)
        and echo["loss"] == 0
    )
    return {
        "what": "HJ 212 packets/s over loopback (server in 1 process = 1 core), answers 9014 after the sink",
        "connections": CONNECTIONS,
        "window": WINDOW,
        "frame_bytes": frame_bytes,
        "hj212": hj,
        "baseline_echo": echo,
        "ratio_to_echo": round(hj["packets_per_s"] / echo["packets_per_s"], 3),
        "ratio_to_echo_per_server_cpu_s": round(
            hj["packets_per_server_cpu_s"] / echo["packets_per_server_cpu_s"], 3
        ),
        "zero_loss": zero_loss,
        "goal_packets_per_s": 10_000,
        "codec": codec,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
