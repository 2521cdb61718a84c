"""``carbonmet connect modbus`` against a real Modbus TCP meter on loopback, and the configuration errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

HERE = Path(__file__).parent
POINTS = ("point_id,site_code,name,quantity,carrier,unit,reading_kind,level,source_stream\n"
          "E01.ELEC,E01-S1,电,energy,electricity,kWh,total,L1,power\n"
          "E01.POWER,E01-S1,功率,power,electricity,kW,rate,L1,power\n")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connect_modbus_polls_a_meter_into_the_store(tmp_path: Path) -> None:
    port = _port()
    meter = subprocess.Popen([sys.executable, str(HERE / "modbus_meter.py"), str(port), str(time.time() - 50)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert meter.stdout is not None and meter.stdout.readline().startswith("ready")
        (tmp_path / "points.csv").write_text(POINTS, encoding="utf-8")
        (tmp_path / "map.csv").write_text("point_id,address,type,scale,unit\nE01.ELEC,0,uint32,0.1,kWh\n"
                                          "E01.POWER,2,float32,1,kW\n", encoding="utf-8")
        r = CliRunner().invoke(app, ["connect", "modbus", "--host", "127.0.0.1", "--port", str(port), "--registers",
                                     str(tmp_path / "map.csv"), "--store", str(tmp_path / "s"), "--points",
                                     str(tmp_path / "points.csv"), "--interval", "0.2", "--seconds", "6", "--json"])
    finally:
        meter.kill()
        meter.wait()
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["polls"] >= 3 and d["stored"] == 2 * d["polls"] and d["quarantined"] == 0 and d["missed"] == 0


def test_connect_names_the_bad_line_of_a_register_map(tmp_path: Path) -> None:
    (tmp_path / "map.csv").write_text("point_id,address,type\nE01.ELEC,0,int128\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["connect", "modbus", "--host", "127.0.0.1", "--registers", str(tmp_path / "map.csv"),
                                 "--store", str(tmp_path / "s")])
    assert r.exit_code == 2 and "map.csv:2: type" in r.output.replace("\n", "")  # rich wraps long paths
