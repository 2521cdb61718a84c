"""``carbonmet account`` and ``carbonmet validate accounting`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "inventory-ctm.toml"


def test_account_inventory_json_and_xlsx(tmp_path: Path) -> None:
    x = tmp_path / "a.xlsx"
    r = runner.invoke(app, ["account", "--inventory", str(EXAMPLE), "--json", "--trials", "20000", "--xlsx", str(x)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert {"value", "u", "U", "k", "unit", "interval"} <= d["total"].keys() and d["total"]["mcm"]["trials"] == 20000
    assert [s["name"] for s in d["streams"]] == ["gasification", "boiler_coal", "natural_gas", "purchased_electricity"]
    assert d["budget"] and d["improve"] and x.stat().st_size > 0


def test_account_inventory_rejected_file_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace('fuel = "bituminous_coal"', 'fuel = "unobtainium"'),
                   encoding="utf-8")
    r = runner.invoke(app, ["account", "--inventory", str(bad), "--json"])
    assert r.exit_code == 2
    d = json.loads(r.output)
    assert d["ok"] is False and any(p["field"] == "fuel" and p["where"] == "streams[2]" for p in d["problems"])
    r = runner.invoke(app, ["account"])
    assert r.exit_code == 2


def test_validate_accounting_prints_coverage(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    r = runner.invoke(app, ["validate", "accounting", "--runs", "1", "--enterprises", "2", "--seed", "21",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "enterprise-years" in r.output and "%" in r.output
    v = json.loads(out.read_text(encoding="utf-8"))
    assert v["enterprise_years"] == 2 and len(v["rows"]) == 2
    for row in v["rows"]:
        assert row["inside"] == (abs(row["value"] - row["truth"]) <= row["U"]) and abs(row["z"]) < 5
