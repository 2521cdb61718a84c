"""Web API under load: the region-overview and enterprise endpoints at a fixed request rate, from another process.

Set-up: the reference region (12 enterprises, 2025, hourly; ``quick``: 2) generated and loaded the way the demo
loads it (registry CSV, monitoring plans, lab results; users ``regulator`` and ``e01``), kept under the system
temp directory keyed by :data:`VERSION` and the size. The app (:func:`carbonmet.web.create_app` over that
workspace) runs in its own process under uvicorn on 127.0.0.1 (one worker; uvicorn's ``auto`` loop and HTTP
parser — uvloop and httptools, both dependencies — as ``carbonmet serve`` and ``carbonmet demo`` run it). Each endpoint gets a fresh server process, and each of its paths is
requested once before the timed run (warm: the first account of an enterprise-year computes it; later ones come
from the services' per-process cache, see docs/web.md).

Load: a separate process (this module with ``load``) drives an open loop: request *i* is due at t0 + i/rate,
whatever happened to the earlier ones; at most :data:`CONNECTIONS` are in flight on keep-alive HTTP/1.1
connections (a small asyncio client of our own: no client library's cost in the figures); a request waiting for a
free connection counts its wait in its latency (latency = answer time − due time, so a slow server cannot hide
behind a slow client); a request without an answer after :data:`TIMEOUT_S` is an error, as is any status but 200.

Endpoints (each on its own, ``rate`` req/s for ``seconds``):
- ``organisations`` — ``GET /api/v1/organisations`` as the regulator (the region overview's list);
- ``due`` — ``GET /api/v1/due?today=2025-12-31`` as the regulator (the overview's overdue count, all of the region);
- ``account`` — ``GET /api/v1/accounts/E01/2025`` as the enterprise user e01 (LPU, the enterprise page's figures);
- ``accounts_all`` — the 12 enterprises' accounts in turn as the regulator (what the overview's chart needs).

Baseline, same run and same load: a FastAPI app with one route returning a constant JSON object, under the same
uvicorn settings in its own process, before and after the endpoints. Figures: p50/p90/p99/max latency [ms],
errors, achieved rate; ratio of each endpoint's p50 and p99 to the worse baseline's; the server's CPU time per
request and the time its threads waited for a CPU; the generator's own lateness and its wait for a CPU (what the
machine's other work took from the measurement). Server and generator each run in a session of their own (their
own scheduling group); ``BENCH_WEB_NICE`` sets the groups' nice value (see :data:`NICE`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

VERSION = "web-bench-1"
YEAR = 2025
PASSWORD = "bench-password-1"
SECRET = "bench-secret-" + "w" * 40
CONNECTIONS = 32
TIMEOUT_S = 10.0
#: uvicorn worker processes of the app (``BENCH_WEB_WORKERS``); each keeps its own caches (docs/web.md).
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "1"))
#: Nice value of the server's and the load generator's scheduling groups (``BENCH_WEB_NICE``, default 0; negative
#: needs root). Each of the two runs in a session of its own, so with the kernel's autogroups each is one group
#: sharing the CPUs fairly with the machine's other sessions; on a machine shared with other work, a negative value
#: gives them the CPU when they need it, as a server on a machine of its own has it. The baseline runs with the same
#: value; the result records it, and the time each process waited for a CPU.
NICE = int(os.environ.get("BENCH_WEB_NICE", "0"))
HERE = Path(__file__).resolve().parent


# --- the region -----------------------------------------------------------------------------------------------
def _region(enterprises: int) -> tuple[Path, dict[str, Any]]:
    from carbonmet import services
    from carbonmet.services import Scope, Workspace

    root = Path(tempfile.gettempdir()) / f"carbonmet-bench-{VERSION}-{enterprises}"
    done = root / "done.json"
    if done.exists():
        return root, {**json.loads(done.read_text()), "reused_cached_data": True}
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    t0 = time.perf_counter()
    reg = root / "region"
    centre = Scope.centre(actor="bench")
    with Workspace(f"sqlite:///{root / 'registry.db'}", store_root=reg, home=root / "home") as ws:
        services.generate_region(
            ws, centre, reg, enterprises=enterprises, year=YEAR, seed=7, resolution="hour"
        )
        services.import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            services.import_plan(ws, centre, f)
        services.import_lab(ws, centre, [reg / "lab" / "lab.csv"])
        services.create_user(ws, centre, "regulator", PASSWORD, "regulator")
        services.create_user(ws, centre, "e01", PASSWORD, "enterprise", org="E01")
    info = {
        "enterprises": enterprises,
        "build_s": round(time.perf_counter() - t0, 1),
        "data_dir": str(root),
        "version": VERSION,
    }
    done.write_text(json.dumps(info))
    return root, {**info, "reused_cached_data": False}


# --- the servers (child processes) ----------------------------------------------------------------------------
def _serve(kind: str, root: str, port: int) -> None:
    import uvicorn

    factory = "bench.bench_web:baseline_app" if kind == "baseline" else "bench.bench_web:bench_app"
    if WORKERS > 1:  # uvicorn starts the workers from an import string: the app is built in each of them
        os.environ["CARBONMET_BENCH_WEB_ROOT"] = root
        uvicorn.run(factory, factory=True, workers=WORKERS, host="127.0.0.1", port=port, log_level="warning",
                    access_log=False)
        return
    app = baseline_app() if kind == "baseline" else bench_app(root)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def baseline_app() -> Any:
    """The baseline: a FastAPI app with one route returning a constant JSON object."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/api/v1/constant")
    def constant() -> dict[str, Any]:
        return {"org_code": "E01", "value": 1.0}

    return app


def bench_app(root: str | None = None) -> Any:
    """The app over the bench region at ``root`` (default ``$CARBONMET_BENCH_WEB_ROOT``; a uvicorn factory)."""
    from carbonmet.services import Workspace
    from carbonmet.web import WebConfig, create_app

    r = Path(root or os.environ["CARBONMET_BENCH_WEB_ROOT"])
    ws = Workspace(f"sqlite:///{r / 'registry.db'}", store_root=r / "region", home=r / "home")
    return create_app(ws, WebConfig(secret=SECRET))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its live children (the uvicorn workers) [s]."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            f = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d.name) == pid or int(f[1]) == pid:
            total += (int(f[11]) + int(f[12])) / tick
    return total


def _run_delay_seconds(pid: int) -> float:
    """Time the threads of process ``pid`` and of its live children spent runnable but waiting for a CPU [s]
    (``/proc/<pid>/task/<tid>/schedstat``, second field): what other work on the machine took from them."""
    total = 0.0
    pids = [pid] + [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _parent(int(d.name)) == pid]
    for p in pids:
        try:
            tasks = list(Path(f"/proc/{p}/task").iterdir())
        except OSError:
            continue
        for t in tasks:
            try:
                total += int((t / "schedstat").read_text().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
    return total


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _renice(pid: int) -> None:
    """Give the scheduling group (autogroup) of the session led by ``pid`` the nice value :data:`NICE`."""
    if NICE:
        Path(f"/proc/{pid}/autogroup").write_text(str(NICE))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(kind: str, root: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_web", "serve", kind, str(root), str(port)], cwd=HERE.parent,
        start_new_session=True,
    )
    _renice(proc.pid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- the load generator (child process) -----------------------------------------------------------------------
async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.lower() == "content-length"
    )
    return status, await reader.readexactly(length)


async def _drive(
    port: int, paths: list[str], token: str | None, rate: float, seconds: float
) -> dict[str, Any]:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    raws = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n".encode() for p in paths]
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    lat: list[float] = []
    lag: list[float] = []  # the generator's own lateness: a request's task starting after its due time
    errors: dict[str, int] = {}
    loop = asyncio.get_running_loop()

    async def one(i: int, due: float) -> None:
        lag.append(loop.time() - due)
        conn = None
        try:
            async with asyncio.timeout(TIMEOUT_S - max(0.0, loop.time() - due)):
                conn = await pool.get()
                status, _ = await _request(*conn, raws[i % len(raws)])
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
            lat.append(loop.time() - due)
            pool.put_nowait(conn)
        except Exception as exc:  # noqa: BLE001 — a timeout or a broken connection: an error, a fresh connection
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if conn is not None:
                conn[1].close()
                pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    n = int(rate * seconds)
    d0 = _run_delay_seconds(os.getpid())
    t0 = loop.time() + 0.05
    tasks = []
    for i in range(n):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    wall = loop.time() - t0
    waited = _run_delay_seconds(os.getpid()) - d0
    a = np.array(lat) * 1e3
    g = np.array(lag) * 1e3
    pct = (lambda q: round(float(np.percentile(a, q)), 2)) if len(a) else (lambda q: None)
    return {
        "requests": n,
        "answered": len(lat),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "offered_rate": rate,
        "achieved_rate": round(len(lat) / wall, 1),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(float(a.max()), 2) if len(a) else None,
        "mean_ms": round(float(a.mean()), 2) if len(a) else None,
        "generator_lag_p50_ms": round(float(np.percentile(g, 50)), 2),
        "generator_lag_p99_ms": round(float(np.percentile(g, 99)), 2),
        "generator_lag_max_ms": round(float(g.max()), 2),
        "generator_run_queue_ms_per_s": round(waited * 1e3 / wall, 1),
    }


def _load(port: int, paths: list[str], token: str | None, rate: float, seconds: float) -> dict[str, Any]:
    """Run the load generator in its own process and read its JSON answer."""
    cmd = [
        sys.executable,
        "-m",
        "bench.bench_web",
        "load",
        str(port),
        json.dumps(paths),
        token or "",
        str(rate),
        str(seconds),
    ]
    with subprocess.Popen(cmd, cwd=HERE.parent, stdout=subprocess.PIPE, text=True, start_new_session=True) as proc:
        _renice(proc.pid)
        try:
            out, _ = proc.communicate(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if proc.returncode:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _measured(proc: subprocess.Popen[bytes], port: int, paths: list[str], token: str | None, rate: float,
              seconds: float) -> dict[str, Any]:
    """One load run against the server ``proc`` with its CPU time per request and the time it waited for a CPU."""
    c0, d0 = _cpu_seconds(proc.pid), _run_delay_seconds(proc.pid)
    res = _load(port, paths, token, rate, seconds)
    res["server_cpu_ms_per_request"] = round((_cpu_seconds(proc.pid) - c0) * 1e3 / max(1, res["answered"]), 3)
    res["server_run_queue_ms_per_s"] = round((_run_delay_seconds(proc.pid) - d0) * 1e3 / seconds, 1)
    return res


def _baseline(root: Path, rate: float, seconds: float) -> dict[str, Any]:
    import httpx

    proc, port = _start("baseline", root)
    try:
        httpx.get(f"http://127.0.0.1:{port}/api/v1/constant", timeout=60).raise_for_status()  # warm
        return _measured(proc, port, ["/api/v1/constant"], None, rate, seconds)
    finally:
        _stop(proc)


def _token(port: int, user: str) -> str:
    import httpx

    r = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data={"username": user, "password": PASSWORD},
        timeout=60,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def run(quick: bool = False) -> dict[str, Any]:
    import httpx
    import uvicorn

    enterprises = 2 if quick else 12
    rate, seconds = (50.0, 5.0) if quick else (200.0, 60.0)
    root, data = _region(enterprises)
    codes = [f"E{i:02d}" for i in range(1, enterprises + 1)]
    endpoints = {
        "organisations": (["/api/v1/organisations"], "regulator"),
        "due": ([f"/api/v1/due?today={YEAR}-12-31"], "regulator"),
        "account": ([f"/api/v1/accounts/E01/{YEAR}"], "e01"),
        "accounts_all": ([f"/api/v1/accounts/{c}/{YEAR}" for c in codes], "regulator"),
    }
    result: dict[str, Any] = {
        "data": data,
        "load": {
            "rate_per_s": rate,
            "seconds": seconds,
            "connections": CONNECTIONS,
            "timeout_s": TIMEOUT_S,
            "client": "open loop, own asyncio HTTP/1.1 client, separate process",
        },
        "server": f"uvicorn {uvicorn.__version__}, {WORKERS} worker process(es), loop and http 'auto' (uvloop, "
        "httptools when installed), 127.0.0.1",
        "workers": WORKERS,
        "nice": NICE,
        "endpoints": {},
    }
    result["baseline"] = _baseline(root, rate, seconds)
    for name, (paths, user) in endpoints.items():
        # a fresh server per endpoint: requests an earlier phase left queued (timed out at the client, still
        # being served) must not load the next one; the cache starts empty, so the warm-up computes
        proc, port = _start("app", root)
        try:
            token = _token(port, user)
            warm = []
            for p in paths:  # warm: the first request of each path, timed on its own (cold cache)
                for i in range(1 if WORKERS == 1 else 6 * WORKERS):  # new connections: every worker gets some
                    t0 = time.perf_counter()
                    r = httpx.get(
                        f"http://127.0.0.1:{port}{p}", headers={"Authorization": f"Bearer {token}"}, timeout=300
                    )
                    r.raise_for_status()
                    if i == 0:
                        warm.append(time.perf_counter() - t0)
            res = _measured(proc, port, paths, token, rate, seconds)
            res["first_request_s"] = round(max(warm), 3)
            result["endpoints"][name] = res
        finally:
            _stop(proc)
    # the baseline again after the endpoints: the machine's load drifts over the minutes of a run; the ratios are
    # to the worse (higher p99) of the two
    result["baseline_after"] = _baseline(root, rate, seconds)
    b = max(result["baseline"], result["baseline_after"], key=lambda r: r["p99_ms"] or 0.0)
    for res in result["endpoints"].values():
        res["ratio_p50_to_baseline"] = round(res["p50_ms"] / b["p50_ms"], 2) if res["p50_ms"] else None
        res["ratio_p99_to_baseline"] = round(res["p99_ms"] / b["p99_ms"], 2) if res["p99_ms"] else None
    result["goal"] = "p99 < 100 ms and 0 errors at 200 req/s for 60 s"
    result["goal_met"] = {
        k: bool(v["errors"] == 0 and v["p99_ms"] is not None and v["p99_ms"] < 100)
        for k, v in result["endpoints"].items()
    }
    b_ok = all(r["errors"] == 0 and r["p99_ms"] is not None and r["p99_ms"] < 100
               for r in (result["baseline"], result["baseline_after"]))
    result["baseline_goal_met"] = bool(b_ok)  # False: the machine itself could not keep the goal for a constant
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        _serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "load":
        port, paths, token, rate, seconds = sys.argv[2:7]
        print(
            json.dumps(
                asyncio.run(_drive(int(port), json.loads(paths), token or None, float(rate), float(seconds)))
            )
        )
