"""``carbonmet hj212 decode|encode`` as a field engineer uses them (in-process Typer runner)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

# HJ 212-2017 Appendix A example frame
EXAMPLE = (
    "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&RtdInterval=30&&1C80\r\n"
)
runner = CliRunner()


def test_decode_shows_fields_and_crc_ok() -> None:
    res = runner.invoke(app, ["hj212", "decode", EXAMPLE.replace("\r\n", "\\r\\n")])
    assert res.exit_code == 0, res.output
    assert "CRC 1C80 ok" in res.output and "设置实时数据间隔" in res.output


def test_decode_bad_crc_says_expected_and_exits_1() -> None:
    res = runner.invoke(app, ["hj212", "decode", EXAMPLE.replace("1C80", "1C08")])
    assert res.exit_code == 1
    assert "expected" in res.output and "1C80" in res.output


def test_decode_json_then_encode_gives_the_same_bytes(tmp_path: Path) -> None:
    res = runner.invoke(app, ["hj212", "decode", EXAMPLE, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] and doc["crc"] == "1C80" and doc["flag"] == {"value": 5, "ack": True, "split": False, "version": 1}
    (tmp_path / "p.json").write_text(res.stdout, encoding="utf-8")
    enc = runner.invoke(app, ["hj212", "encode", "--json", str(tmp_path / "p.json")])
    assert enc.exit_code == 0, enc.output
    assert enc.stdout_bytes == EXAMPLE.encode()


def test_decode_file_with_several_frames_and_junk(tmp_path: Path) -> None:
    f = tmp_path / "capture.txt"
    f.write_bytes(EXAMPLE.encode() + b"noise" + EXAMPLE.encode().replace(b"1C80", b"0000"))
    res = runner.invoke(app, ["hj212", "decode", "--file", str(f), "--json"])
    assert res.exit_code == 1
    docs = json.loads(res.stdout)
    assert [d["ok"] for d in docs] == [True, False, False]
    assert "outside" in docs[1]["error"] and docs[2]["kind"] == "bad_crc"


def test_encode_rejects_an_invalid_packet(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(
        json.dumps({"header": {"QN": "2016", "ST": "32", "CN": "2011", "PW": "1", "MN": "X", "Flag": 5}, "cp": []}),
        encoding="utf-8",
    )
    res = runner.invoke(app, ["hj212", "encode", "--json", str(tmp_path / "p.json")])
    assert res.exit_code == 1 and "QN" in res.output
