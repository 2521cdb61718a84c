"""`make demo` runs the main job end to end (generate → registry → ingest → due/trace → uncertainty → audit →
accounts → CEMS → footprints → demo users) through the services only, with a model built from measured
quantities; `carbonmet demo --no-serve` does all of it without serving."""

import ast
import inspect
import io
import json
import re
from pathlib import Path

import pytest
import uvicorn
from rich.console import Console
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.demo import DEMO_PASSWORD, VERIFIER_ORGS
from carbonmet.footprint import check_product_footprint
from carbonmet.quantities import CO2_PER_C
from carbonmet.services import Scope, Workspace, authenticate, list_users


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def test_demo_calls_only_the_services_and_builds_no_distribution_by_hand() -> None:
    from carbonmet import demo

    source = inspect.getsource(demo)
    assert "Normal(" not in source and "type_a(" not in source and ".add(" not in source
    assert not re.search(r"\(\s*(\w+)\.value\s*,\s*\1\.u\s*[,)]", source)  # no D(x.value, x.u)
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            imported.add(("." * node.level) + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    carbonmet = {m for m in imported if m.startswith((".", "carbonmet"))}
    assert carbonmet <= {".services", ".quantities"}, carbonmet  # .quantities: a type name for annotations only
    assert not {m for m in imported if m.split(".")[0] in ("sqlalchemy", "pyarrow", "duckdb")}


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from carbonmet import demo

    buf = io.StringIO()
    monkeypatch.setattr(demo, "console", Console(file=buf, width=400, color_system=None))
    monkeypatch.chdir(tmp_path)

    def no_serving(*args: object, **kwargs: object) -> None:
        raise AssertionError("--no-serve started a server")

    monkeypatch.setattr(uvicorn.Server, "run", no_serving)
    monkeypatch.setattr(uvicorn.Server, "serve", no_serving)
    cli = CliRunner().invoke(app, ["demo", "--no-serve", "--out", str(tmp_path / "demo-out")])
    assert cli.exit_code == 0, (cli.output, buf.getvalue()[-3000:])
    assert re.search(r"就绪 ready\s+in \d+ s \(未启动服务 not served: --no-serve\)", cli.output), cli.output
    assert (tmp_path / "demo-out" / "registry.db").stat().st_size > 0
    assert any((tmp_path / "demo-out" / "store" / "readings").rglob("*.parquet"))
    report = tmp_path / "demo-out" / "reports"
    assert (report / "account-E01-2025.pdf").read_bytes().startswith(b"%PDF-")
    assert (report / "account-E01-2025.xlsx").stat().st_size > 0
    pact = tmp_path / "demo-out" / "pact"
    docs = sorted(p.name for p in pact.glob("*.json"))
    assert "E01-methanol.json" in docs and len(docs) >= 4
    assert all(check_product_footprint(json.loads((pact / d).read_text("utf-8"))) == [] for d in docs)
    out = buf.getvalue()

    # counts add up; the trace back matches the manifest; the audit chain and the tables are intact
    m = re.search(r"received ([\d,]+) = 入库 stored ([\d,]+) \+ 隔离 quarantined ([\d,]+) \+ 重复 duplicates ([\d,]+)",
                  out)
    assert m is not None
    received, stored, quarantined, duplicates = (_num(g) for g in m.groups())
    assert received == stored + quarantined + duplicates > 0
    assert "matches the manifest: 是 yes" in out and "matches the manifest: 否 NO" not in out
    # every enterprise of the region has its monitoring plan stored, and E01's lists its parameters' sources
    plans = re.search(r"monitoring plans: (\d+) 家企业.*E01: (\d+) 个参数 parameters", out)
    assert plans is not None and int(plans.group(1)) == 12 and int(plans.group(2)) > 0
    assert "due list: " in out and "完整 intact" in out and "tables match the log: 是 yes" in out

    # the carbon into the boilers, with the truth inside the Monte Carlo interval
    tc = re.search(r"carbon into boilers: LPU ([\d,]+) ± ([\d,]+) tC .*→ (在区间内 inside|在区间外 OUTSIDE)", out)
    assert tc is not None and tc.group(3) == "在区间内 inside"
    # and as CO2 through CO2_PER_C: tCO2 = tC × 44/12 (molar masses 44.0095/12.0107) within the printed rounding
    co2 = re.search(r"as CO2 .*: LPU ([\d,]+) ± ([\d,]+) tCO2", out)
    assert co2 is not None
    c, u_c, e, u_e = _num(tc.group(1)), _num(tc.group(2)), _num(co2.group(1)), _num(co2.group(2))
    assert abs(e - c * CO2_PER_C) <= 0.5 * CO2_PER_C + 0.5
    assert abs(u_e - u_c * CO2_PER_C) <= 0.5 * CO2_PER_C + 0.5
    assert e / c == pytest.approx(44 / 12, rel=1e-3)

    # the budget names where every input comes from: instrument, certificate, period
    budget = {m.group(1): m.group(2) for m in re.finditer(r"budget (\w+): .* 来源 source: (.*)", out)}
    assert set(budget) == {"FC", "C_ar", "d_an"}
    assert re.search(r"器具 instrument E01-I\d+; 证书 certificate \S+", budget["FC"])
    assert "期间 period 2025-01-01 … 2026-01-01" in budget["FC"]
    analyser = re.search(r"化验仪器 analyser (\S+)\)", out)
    assert analyser is not None
    assert f"器具 instrument {analyser.group(1)}" in budget["C_ar"] and "type A" in budget["C_ar"]
    assert f"器具 instrument {analyser.group(1)}" in budget["d_an"]
    assert re.search(r"证书 certificate \S+; calibration certificate", budget["d_an"])

    # the demo ends with the region's accounts: all twelve intervals hold the truth, budget and improve shown
    m = re.search(r"(\d+)/(\d+) 个区间包含真值 intervals contain the truth", out)
    assert m is not None and m.group(1) == m.group(2) == "12", out[-3000:]
    assert "E01 不确定度预算 budget" in out and "E01 改进建议 what to improve" in out
    assert "E07 boiler_coal: E07-I0170" in out and "E10 boiler_coal: E10-I0263" in out

    # then CEMS against the accounts: the drifting flow monitor's enterprise and the ones calibrated against the
    # out-of-tolerance standard are flagged, the step naming E12's vent flow meter; the balance and its diagram
    m = re.search(r"标记 flagged: ([E\d, ]+); 注入的 CEMS 流量漂移 injected CEMS flow drift: (E\d+)", out)
    assert m is not None, out[-3000:]
    flagged = set(m.group(1).split(", "))
    assert m.group(2) in flagged and {"E03", "E12"} <= flagged
    assert "E12-I0334" in out
    assert re.search(r"E05 碳平衡 carbon balance: χ² = [\d.]+ \(dof \d+\)", out)
    assert (tmp_path / "demo-out" / "carbon-flows-E05.png").read_bytes()[:4] == b"\x89PNG"

    # one demo user per role, stored through the users use cases; the verifier reads its two enterprises only
    with Workspace(f"sqlite:///{tmp_path / 'demo-out' / 'registry.db'}") as ws:
        users = {u["username"]: u for u in list_users(ws, Scope.centre())}
        assert {"centre", "regulator", "verifier"} | {f"e{i:02d}" for i in range(1, 13)} <= set(users)
        assert {users[n]["role"] for n in ("centre", "regulator", "verifier", "e01")} == {
            "centre", "regulator", "verifier", "enterprise"}
        verifier = authenticate(ws, Scope.nobody(), username="verifier", password=DEMO_PASSWORD)
        assert verifier.scope.read == frozenset(VERIFIER_ORGS) == {"E01", "E05"}
        assert authenticate(ws, Scope.nobody(), username="e07", password=DEMO_PASSWORD).scope.read == {"E07"}
    assert "demo logins" in out and re.search(rf"verifier\s+│\s+{DEMO_PASSWORD}\s+│", out)
