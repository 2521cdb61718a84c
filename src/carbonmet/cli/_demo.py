"""``carbonmet demo`` — build the demo region (``carbonmet.demo``), then serve it with the web app until Ctrl-C.

Thin: the demo's steps are :func:`carbonmet.demo.build` (services only); here the options are parsed, the app is
made with :func:`carbonmet.web.create_app` over the demo's workspace and served by uvicorn, and the URL, the
logins and the time from process start to "ready" are printed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import console, fail

if TYPE_CHECKING:
    import uvicorn

    from carbonmet.demo import DemoSite
    from carbonmet.services import Workspace

_T_IMPORT = time.perf_counter()


def process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; elsewhere since this module was imported)."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(stat[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time in clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - started, 0.0)
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _T_IMPORT


def _announce_when_started(server: uvicorn.Server, on_ready: Callable[[], None]) -> None:
    """Call ``on_ready`` once uvicorn listens (nothing if it stops first)."""
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        on_ready()


def demo_cmd(
    no_serve: Annotated[
        bool,
        typer.Option("--no-serve", help="只构建不启动服务 build everything, do not serve (CI and scripts)"),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="监听地址 address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 port")] = 8000,
    out: Annotated[Path, typer.Option("--out", help="演示数据目录 demo directory (emptied first)")] = Path(
        "demo-out"
    ),
) -> None:
    """演示 The demo: generate the reference region, load registry, readings and lab data, compute everything,
    create one demo user per role, then serve the platform on http://HOST:PORT (Ctrl-C stops it)."""
    from carbonmet import demo

    site = demo.build(out)
    if site is None:
        fail("演示检查未通过 a demo check failed (see above)", 1)
    if no_serve:
        demo.print_logins(site.logins)
        console.print(
            f"[bold green]就绪 ready[/] in {process_age():.0f} s (未启动服务 not served: --no-serve)"
        )
        return

    from carbonmet.services import CarbonmetError

    try:
        server, ws = demo_server(site, host, port)
    except CarbonmetError as exc:
        fail(str(exc), 2)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"

    def ready() -> None:
        demo.print_logins(site.logins, url)
        console.print(
            f"[bold green]就绪 ready[/] in {process_age():.0f} s (自进程启动 from process start) — "
            "Ctrl-C 停止 stops",
            highlight=False,
        )

    threading.Thread(target=_announce_when_started, args=(server, ready), daemon=True).start()
    try:
        server.run()
    finally:
        ws.close()
    if not server.started:
        fail(f"无法在 {host}:{port} 启动服务 could not serve on {host}:{port} (port in use?)", 2)


def demo_server(
    site: DemoSite, host: str = "127.0.0.1", port: int = 8000
) -> tuple[uvicorn.Server, Workspace]:
    """The uvicorn server of the web app over the demo's workspace (its registry, the region's readings store,
    a token key generated into its home), and that workspace (close it after the server stopped).

    ``server.run()`` serves until Ctrl-C (or ``server.should_exit = True`` from another thread).
    """
    import uvicorn

    from carbonmet.services import Workspace
    from carbonmet.web import WebConfig, create_app, secret_for

    ws = Workspace(site.database_url, store_root=site.store_root, home=site.home)
    try:
        api = create_app(ws, WebConfig(secret=secret_for(ws)))
    except BaseException:
        ws.close()
        raise
    return uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="warning")), ws


def register(app_: typer.Typer) -> None:
    """Add ``demo`` to the ``carbonmet`` command."""
    app_.command("demo")(demo_cmd)
