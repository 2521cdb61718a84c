"""``carbonmet cems rata``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

EXIT_FAILED = 3  # a QA test failed (the input was good)

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rata-E05-STACK3-flow.csv"


def test_the_example_prints_the_table_and_passes() -> None:
    r = runner.invoke(app, ["cems", "rata", str(EXAMPLE)])
    assert r.exit_code == 0, r.output
    assert "相对准确度 RA" in r.output and "3.2936" in r.output and "通过 PASS" in r.output and "ec_co2" in r.output


def test_json_carries_the_numbers_rule_set_clause_and_mark() -> None:
    r = runner.invoke(app, ["cems", "rata", str(EXAMPLE), "--json", "--rule-set", "part75"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    res = doc["results"][0]
    assert doc["passed"] and len(doc["sha256"]) == 64
    assert abs(res["rata"]["ra_pct"] - 3.2936) < 1e-4 and res["rata"]["n"] == 9
    assert res["rata"]["rule_set"] == "part75" and res["rata"]["evidence"] == "M" and "§3.3" in res["rata"]["clause"]
    assert res["bias"]["direction"] == "low" and abs(res["bias"]["baf"] - 1.027347) < 1e-6


def test_bad_input_exits_2_naming_file_row_and_field(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",14.9,14.4,", ",14.9,abc,")  # run 3, row 4 of the file
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["cems", "rata", str(bad)])
    assert r.exit_code == 2
    assert "bad.csv:4:cems" in r.output.replace("\n", "")
    # fewer than 9 runs
    short = tmp_path / "short.csv"
    short.write_text("\n".join(EXAMPLE.read_text(encoding="utf-8").splitlines()[:9]) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["cems", "rata", str(short)])
    flat = r.output.replace("\n", "")  # the console wraps long lines
    assert r.exit_code == 2 and "short.csv:run: flow" in flat and "8 paired runs of flow, at least 9" in flat


def test_a_run_outside_the_data_period_exits_2() -> None:
    r = runner.invoke(app, ["cems", "rata", str(EXAMPLE), "--period-start", "2025-06-03T10:00:00+08:00",
                            "--period-end", "2025-06-30T00:00:00+08:00"])
    assert r.exit_code == 2 and ":2:start" in r.output.replace("\n", "")
    r = runner.invoke(app, ["cems", "rata", str(EXAMPLE), "--period-start", "2025-06-01T00:00:00+08:00"])
    assert r.exit_code == 2 and "--period-end" in r.output


def test_a_failing_rata_exits_3(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    # the CEMS reads 3 m/s low on every run: RA ≈ 20 % > 10 % and |d̄| 3 > 0.6 m/s
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[6] = f"{float(cells[5]) - 3.0:.1f}"
        out.append(",".join(cells))
    p = tmp_path / "fail.csv"
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["cems", "rata", str(p)])
    assert r.exit_code == EXIT_FAILED and "不通过 FAIL" in r.output
