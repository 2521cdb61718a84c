"""``carbonmet factors list|show|compare|import`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonmet.cli import app

runner = CliRunner()
OLCA = Path(__file__).parents[1] / "data" / "olca" / "methanol"
CSV = (
    "product,region,year,gas,gwp_set,value,unit,flow_unit,basis,source,evidence,distribution,u,pedigree,"
    "basic_class,owner\n"
    "electricity,E01,2022,CO2,,0.62,tCO2/MWh,MWh,measured,captive plant meters,D,normal,0.02,,,E01\n"
    "methanol,shaanxi,2023,CO2e,AR5,3.1,kgCO2e/kg,kg,literature,a study,A,,,(2;3;2;1;3),demand,\n"
)


def test_import_list_show_compare(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'db.sqlite'}"]
    f = tmp_path / "f.csv"
    f.write_text(CSV, encoding="utf-8")
    r = runner.invoke(app, ["factors", "import", str(f), str(OLCA), "--json", *db])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["files"][0]["stored"] == [
        "electricity/-/E01/2022/CO2/-/v1",
        "methanol/-/shaanxi/2023/CO2e/AR5/v1",
    ]
    assert (
        d["files"][1]["kind"] == "olca"
        and "locations: 1 object(s) not read" in d["files"][1]["package"]["not_read"]
    )
    r = runner.invoke(app, ["factors", "list", "--product", "methanol", "--json", *db])
    assert r.exit_code == 0 and "methanol/-/shaanxi/2023/CO2e/AR5/v1" in {
        x["ref"] for x in json.loads(r.output)
    }
    r = runner.invoke(app, ["factors", "show", "methanol/-/shaanxi/2023/CO2e/AR5", "--json", *db])
    assert r.exit_code == 0 and json.loads(r.output)["pedigree"] == "(2;3;2;1;3)"
    r = runner.invoke(
        app,
        [
            "factors",
            "compare",
            "electricity",
            "north_china",
            "northwest",
            "east_china",
            "--technology",
            "statistical",
            "--org",
            "E01",
            "--measured-owner",
            "E01",
            "--json",
            *db,
        ],
    )
    assert r.exit_code == 0, r.output
    assert [x["satisfactory"] for x in json.loads(r.output)["versus_measured"]] == [False, True, False]
    r = runner.invoke(
        app,
        ["factors", "compare", "electricity", "north_china", "--org", "E02", "--measured-owner", "E01", *db],
    )
    assert r.exit_code == 1 and "不在读取范围内" in r.output


def test_a_refused_import_exits_2_naming_row_and_field(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'db.sqlite'}"]
    f = tmp_path / "bad.csv"
    f.write_text(CSV.replace("(2;3;2;1;3)", "(2;3;-2;1;3)"), encoding="utf-8")
    r = runner.invoke(app, ["factors", "import", str(f), "--json", *db])
    assert r.exit_code == 2
    d = json.loads(r.output)
    assert d["ok"] is False and [(p["row"], p["field"]) for p in d["problems"]] == [("3", "pedigree")]
    r = runner.invoke(app, ["factors", "import", str(f), "--org", "E01", *db])
    assert r.exit_code != 0
