"""``carbonmet hj212 set-password`` and ``serve`` with passwords from the registry (D7) and the range
check with ``--points`` and ``--instruments`` (D20), each a real server process over loopback."""

from __future__ import annotations

import asyncio
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.metering import Store
from carbonmet.metering.hj212 import build, decode, encode
from carbonmet.registry import catalog_from_files

from .test_hj212_server import read_answers

MN = "010000A8900016F000169DC0"
POINTS = ("point_id,site_code,name,quantity,carrier,unit,reading_kind,hj212_mn,hj212_code\n"
          f"E01.STACK1.FLOW,E01-S1,烟气流量,flow,flue_gas,Nm3/h,rate,{MN},a00000@2011\n")


def frame(qn_ms: int, pw: str, value: str = "1200.5") -> bytes:
    head = {"QN": f"20250301120000{qn_ms:03d}", "ST": "31", "CN": "2011", "PW": pw, "MN": MN, "Flag": 5}
    return encode(build(head, [{"DataTime": "20250301120000"}, {"a00000-Rtd": value, "a00000-Flag": "N"}]))


@contextmanager
def serving(*args: str) -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-m", "carbonmet", "hj212", "serve", "--host", "127.0.0.1",
                             "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, f"server did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
        m = re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline())
        assert m is not None, proc.stderr.read() if proc.poll() is not None else ""
        yield int(m.group(1))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def exchange(port: int, frames: list[bytes]) -> list[bytes]:
    async def client() -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"".join(frames))
        answers = await read_answers(reader, len(frames), timeout=30)
        writer.close()
        return answers

    return asyncio.run(client())


def test_D7_hj212_serve_checks_passwords_from_the_registry(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'reg.db'}"
    (tmp_path / "organisations.csv").write_text("org_code,name,kind\nE01,甲,enterprise\n", encoding="utf-8")
    (tmp_path / "sites.csv").write_text("site_code,org_code,name\nE01-S1,E01,甲厂区\n", encoding="utf-8")
    (tmp_path / "points.csv").write_text(POINTS, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["registry", "import", "--db", db, *(str(tmp_path / f) for f in
                                                                ("organisations.csv", "sites.csv", "points.csv"))])
    assert r.exit_code == 0, r.output
    pw = tmp_path / "pw.txt"
    pw.write_text("Ab1-x\n", encoding="utf-8")
    r = runner.invoke(app, ["hj212", "set-password", MN, "--password-file", str(pw), "--db", db])
    assert r.exit_code == 0 and MN in r.output, r.output
    r = runner.invoke(app, ["hj212", "set-password", "FFFF", "--password-file", str(pw), "--db", db])
    assert r.exit_code == 2 and "FFFF" in r.output  # no point carries this MN
    pw.write_text("has space\n", encoding="utf-8")
    r = runner.invoke(app, ["hj212", "set-password", MN, "--password-file", str(pw), "--db", db])
    assert r.exit_code == 2 and "password" in r.output
    store = tmp_path / "store"
    with serving("--db", db, "--store", str(store)) as port:
        answers = exchange(port, [frame(1, ""), frame(2, "123456"), frame(3, "Ab1-x")])
    got = [(decode(a).cn, tuple(decode(a).cp_fields())) for a in answers]
    assert got == [("9011", (("QnRtn", "3"),)), ("9011", (("QnRtn", "3"),)), ("9014", ())]
    st = Store(store)
    cat = catalog_from_files(tmp_path / "points.csv", sites=tmp_path / "sites.csv")
    assert st.readings("E01.STACK1.FLOW", catalog=cat).column("value").to_pylist() == [1200.5]
    reasons = st.quarantine().column("reason").to_pylist()
    # the two refused frames are quarantined (the second combined with the first within reject_window)
    assert reasons and all("bad_password" in x for x in reasons) and reasons[0].startswith("bad_password")


def test_D20_hj212_serve_points_with_instruments_checks_the_range(tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text(POINTS, encoding="utf-8")
    instruments = tmp_path / "instruments.csv"
    instruments.write_text("serial,org_code,type,range_low,range_high,unit,point_id,installed_from\n"
                           "FM-1,E01,gas_flow_meter,0,5000,Nm3/h,E01.STACK1.FLOW,2024-01-01\n", encoding="utf-8")
    store = tmp_path / "store"
    with serving("--points", str(points), "--instruments", str(instruments), "--no-password-check",
                 "--store", str(store)) as port:
        answers = exchange(port, [frame(1, "123456", "-5")])
    assert decode(answers[0]).cn == "9014"
    q = Store(store).quarantine()
    assert q.column("reason").to_pylist() == ["out_of_range"] and q.column("value").to_pylist() == [-5.0]
