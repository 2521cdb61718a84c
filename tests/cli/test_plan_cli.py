"""``carbonmet plan …`` on a generated reference region: import, show every parameter with its source,
a changed plan becomes version 2 and ``plan diff`` shows exactly the change; bad files name file, row, field."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.refdata import generate
from carbonmet.sites import (
    MonitoringPlan,
    PlanChangeRow,
    PlanParameterRow,
    plan_tables,
    plan_to_toml,
    read_plan,
)

runner = CliRunner()
REGISTRY = ("organisations", "sites", "points", "standards", "instruments", "certificates")


def _run(db: str, *args: str) -> tuple[int, str]:
    r = runner.invoke(app, [*args, "--db", db])
    return r.exit_code, r.output


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One enterprise of the reference region, its registry imported (the plans not yet)."""
    out = tmp_path_factory.mktemp("region")
    generate(out, enterprises=1, year=2025, seed=11)
    return out


@pytest.fixture
def db(region: Path, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    code, out = _run(url, "registry", "import", *[str(region / "registry" / f"{t}.csv") for t in REGISTRY])
    assert code == 0, out
    return url


def _edited(plan: MonitoringPlan) -> tuple[MonitoringPlan, PlanParameterRow]:
    """Version 2: the gasifier coal's carbon content analysed daily instead of per batch, and a moisture
    parameter added to the boiler coal."""
    params = [r.model_copy(update={"frequency": "daily"})
              if (r.source_stream, r.parameter) == ("gasifier_coal", "carbon_content") else r for r in plan.parameters]
    assert params != list(plan.parameters)
    lab = next(r for r in plan.parameters if (r.source_stream, r.parameter) == ("boiler_coal", "ncv"))
    moisture = lab.model_copy(update={"parameter": "moisture", "unit": "%", "method": "GB/T 211-2017",
                                      "frequency": "per_batch"})
    change = PlanChangeRow(version=2, changed_on=date(2025, 3, 1), by="E01 碳排放管理员", reason="水分入计划 moisture added")
    return MonitoringPlan(plan.header.model_copy(update={"version": 2}), (*params, moisture),
                          (*plan.changes, change), plan.streams), moisture


def test_plan_show_lists_every_parameter_with_its_source(region: Path, db: str) -> None:
    path = region / "plans" / "E01.toml"
    plan = read_plan(path)
    code, out = _run(db, "plan", "import", str(path), "--json")
    assert code == 0, out
    doc = json.loads(out)["plans"][0]
    assert (doc["enterprise"], doc["version"], doc["created"], doc["parameters"]) == (
        "E01", 1, True, len(plan.parameters))

    code, out = _run(db, "plan", "show", "E01", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["parameters"] == [r.model_dump(mode="json") for r in plan.parameters]
    assert {r["source"] for r in shown["parameters"]} == {"point", "lab", "default"}
    assert shown["streams"] == [r.model_dump(mode="json") for r in plan.streams] and plan.streams

    # the table as a person reads it (the real command, wide enough not to fold cells)
    env = {**os.environ, "CARBONMET_DATABASE_URL": db, "COLUMNS": "400"}
    r = subprocess.run([sys.executable, "-m", "carbonmet", "plan", "show", "E01"], check=False, capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "源流 source stream" in r.stdout and "负责 responsible" in r.stdout
    lines = r.stdout.splitlines()
    label = {"point": "计量点 point", "lab": "化验 lab", "default": "缺省值 default"}
    for p in plan.parameters:
        row = [ln for ln in lines if f" {p.source_stream} " in ln and f" {p.parameter} " in ln and f" {p.ref} " in ln]
        assert len(row) >= 1, (p.source_stream, p.parameter)
        assert label[p.source] in row[0] and p.frequency in row[0] and p.responsible in row[0]
        assert all(i in row[0] for i in p.instruments)
    # the streams table: each stream with its kind (zh-CN and English), material and balance
    assert "源流类别 source streams" in r.stdout and "类别 kind" in r.stdout
    kind_zh = {"raw_material": "原料", "fuel_combustion": "化石燃料燃烧", "residue": "灰渣", "product": "产品",
               "by_product": "副产品", "waste": "废弃物", "co2_recovered": "回收外供CO2", "purchased_electricity": "购入电力",
               "purchased_heat": "购入热力", "measured_emission": "直接监测排放"}
    for sr in plan.streams:
        row = [ln for ln in lines if f" {sr.source_stream} " in ln and f" {kind_zh[sr.kind]} {sr.kind} " in ln]
        assert len(row) == 1, sr.source_stream
        assert all(v in row[0] for v in (sr.material, sr.balance, sr.form) if v)


def test_an_edited_plan_becomes_version_2_and_diff_shows_exactly_the_edit(region: Path, db: str,
                                                                          tmp_path: Path) -> None:
    v1 = region / "plans" / "E01.toml"
    assert _run(db, "plan", "import", str(v1))[0] == 0
    new, moisture = _edited(read_plan(v1))
    v2 = tmp_path / "E01-v2.toml"
    v2.write_text(plan_to_toml(new), encoding="utf-8")

    code, out = _run(db, "plan", "import", str(v2), "--json")
    assert code == 0, out
    assert [(p["version"], p["created"]) for p in json.loads(out)["plans"]] == [(2, True)]
    code, out = _run(db, "plan", "import", str(v2), "--json")  # the same file again: nothing new
    assert [(p["version"], p["created"]) for p in json.loads(out)["plans"]] == [(2, False)]

    for args in ((), ("--from", "1", "--to", "2")):
        code, out = _run(db, "plan", "diff", "E01", *args, "--json")
        assert code == 0, out
        doc = json.loads(out)
        assert (doc["from"], doc["to"]) == (1, 2)
        rows = doc["changes"]
        assert [(r["field"], r["old"], r["new"]) for r in rows if r["change"] == "header"] == [("version", "1", "2")]
        assert [(r["source_stream"], r["parameter"], r["field"], r["old"], r["new"])
                for r in rows if r["change"] == "changed"] == [
            ("gasifier_coal", "carbon_content", "frequency", "per_batch", "daily")]
        added = [r for r in rows if r["change"] == "added"]
        assert {(r["source_stream"], r["parameter"]) for r in added} == {("boiler_coal", "moisture")}
        assert {r["field"] for r in added} == {k for k, v in moisture.model_dump().items() if v not in (None, ())}
        assert {r["change"] for r in rows} == {"header", "changed", "added"}

    code, out = _run(db, "plan", "show", "E01", "--version", "1", "--json")  # version 1 is kept as it was
    old = {(p["source_stream"], p["parameter"]): p for p in json.loads(out)["parameters"]}
    assert old[("gasifier_coal", "carbon_content")]["frequency"] == "per_batch"
    assert ("boiler_coal", "moisture") not in old

    code, out = _run(db, "plan", "list", "--json")
    assert [(v["enterprise"], v["version"]) for v in json.loads(out)] == [("E01", 1), ("E01", 2)]
    code, out = _run(db, "plan", "diff", "E01")
    assert code == 0 and "per_batch" in out and "moisture" in out

    # re-importing the old file would silently roll the plan back: it must say which version it has to be
    code, out = _run(db, "plan", "import", str(v1))
    assert code == 1 and "version" in out and "3" in out
    code, out = _run(db, "audit", "verify", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and doc["reconcile"]["rows"]["monitoring_plan"] == 2


def test_a_bad_plan_file_is_refused_naming_file_row_and_field(region: Path, db: str, tmp_path: Path) -> None:
    plan = read_plan(region / "plans" / "E01.toml")
    for t, (cols, rows) in plan_tables(plan).items():
        with (tmp_path / f"E01-{t}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for i, r in enumerate(rows):
                cells = ["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in r]
                if t == "parameters" and i == 1:  # spreadsheet row 3
                    cells[cols.index("unit")] = "bogus_unit"
                    cells[cols.index("frequency")] = "hourly"
                w.writerow(cells)
    code, out = _run(db, "plan", "import", str(tmp_path / "E01-plan.csv"), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert {(Path(p["file"]).name, p["row"], p["field"]) for p in doc["problems"]} == {
        ("E01-parameters.csv", 3, "unit"), ("E01-parameters.csv", 3, "frequency")}
    code, out = _run(db, "plan", "import", str(tmp_path / "E01-plan.csv"))
    assert code == 1 and "E01-parameters.csv:3:unit" in out.replace("\n", "")

    # a well-formed file naming a point that is not the enterprise's: the row and field are named too
    i = next(n for n, r in enumerate(plan.parameters) if r.source == "point" and n > 0)
    params = list(plan.parameters)
    params[i] = params[i].model_copy(update={"ref": "E01.NO_SUCH_POINT"})
    bad = MonitoringPlan(plan.header, tuple(params), plan.changes, plan.streams)
    f = tmp_path / "E01-bad-ref.toml"
    f.write_text(plan_to_toml(bad), encoding="utf-8")
    code, out = _run(db, "plan", "import", str(f), "--json")
    assert code == 1
    assert [(p["row"], p["field"]) for p in json.loads(out)["problems"]] == [(f"parameters[{i + 1}]", "ref")]

    # a plan of an enterprise the registry does not know
    other = tmp_path / "E99.toml"
    other.write_text(plan_to_toml(MonitoringPlan(plan.header.model_copy(update={"enterprise": "E99"}),
                                                 plan.parameters, plan.changes)), encoding="utf-8")
    code, out = _run(db, "plan", "import", str(other), "--json")
    assert code == 1
    assert [(p["row"], p["field"]) for p in json.loads(out)["problems"]] == [("plan", "enterprise")]
    code, out = _run(db, "plan", "list", "--json")
    assert json.loads(out) == []  # nothing of any refused file was stored
