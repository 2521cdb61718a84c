"""``carbonmet --help`` stays fast: the command modules import typer and rich only; services, the
numerical stack and the database come in when a command runs."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import typer

from carbonmet.cli import app
from carbonmet.metering.hj212 import ServerLimits

HEAVY = ("numpy", "pint", "duckdb", "pyarrow", "sqlalchemy", "scipy", "carbonmet.services", "carbonmet.metering",
         "carbonmet.registry", "carbonmet.db")


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = ("import sys, carbonmet.cli; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert r.stdout.strip() == "[]"


def test_hj212_serve_defaults_are_the_servers_defaults() -> None:
    group = typer.main.get_command(app)
    serve = group.commands["hj212"].commands["serve"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in serve.params}
    limits = dataclasses.asdict(ServerLimits())
    shown = {k: defaults[k] for k in ("idle_timeout", "max_connections", "frame_timeout", "max_bad_bytes",
                                      "request_timeout")}
    assert shown == {k: limits[k] for k in shown}
    assert limits["exec_timeout"] == limits["request_timeout"]  # --request-timeout sets both
