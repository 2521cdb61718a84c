"""Product footprints of the reference region (seed 7) against the true cradle-to-gate footprints."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.footprint import check_product_footprint
from carbonmet.services import (
    Scope,
    ServiceError,
    Workspace,
    footprint_enterprise,
    footprint_report,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
)

YEAR = 2025


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("fp")
    reg = root / "region"
    db = root / "r.db"
    with Workspace(f"sqlite:///{db}", store_root=reg) as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=4, year=YEAR, seed=7, resolution="hour")
        c = Scope.centre()
        import_registry(ws, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, c, f)
        import_lab(ws, c, [reg / "lab" / "lab.csv"])
    yield reg, db


def _truth(reg: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (reg / "truth" / "footprints.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["enterprise"], r["product"]): r for r in csv.DictReader(fh)}


@pytest.mark.parametrize(("enterprise", "product"), [("E01", "methanol"), ("E02", "polyethylene"),
                                                     ("E02", "polypropylene"), ("E04", "meg")])
def test_each_plant_footprint_lies_within_its_uncertainty_of_the_truth(region: tuple[Path, Path], enterprise: str,
                                                                       product: str) -> None:
    reg, db = region
    true = _truth(reg)[(enterprise, product)]
    with Workspace(f"sqlite:///{db}", store_root=reg) as ws:
        out = footprint_enterprise(ws, Scope.enterprise(enterprise), enterprise, YEAR, product)
    fp = out.footprint
    t = float(true["cradle_to_gate_t_per_t"])
    assert abs(fp.value - t) <= 2 * fp.u_measurement                    # the plant's own measurements
    assert abs(fp.value - t) <= 2 * fp.u and fp.u > fp.u_measurement    # and with background factors uncertain
    on_site = fp.by_stage["gasification"] + fp.by_stage["utilities"]   # carbon balance + fuels burned on site
    assert on_site == pytest.approx(float(true["direct_t_per_t"]), rel=0.03)
    assert fp.by_stage["gasification"] > fp.by_stage["utilities"] > 0
    assert fp.captured == pytest.approx(float(true["recovered_co2_t_per_t"]), rel=0.1, abs=1e-9)
    assert check_product_footprint(out.pact) == []
    assert out.pact["pcf"]["geographyCountrySubdivision"] in {"CN-NM", "CN-SN", "CN-NX"}
    assert out.pact["companyName"].endswith("有限公司")


def test_a_product_the_plant_does_not_make_or_without_a_rule_is_refused(region: tuple[Path, Path]) -> None:
    reg, db = region
    with Workspace(f"sqlite:///{db}", store_root=reg) as ws:
        with pytest.raises(ServiceError, match="makes no meg"):
            footprint_enterprise(ws, Scope.centre(), "E01", YEAR, "meg")
        with pytest.raises(ServiceError, match="no rule"):
            footprint_enterprise(ws, Scope.centre(), "E03", YEAR, "diesel")


def test_the_command_writes_the_pact_document_and_json(region: tuple[Path, Path], tmp_path: Path) -> None:
    reg, db = region
    pact = tmp_path / "pf.json"
    r = CliRunner().invoke(app, ["footprint", "E01", "--product", "methanol", "--year", str(YEAR), "--db",
                                 f"sqlite:///{db}", "--store", str(reg), "--pact", str(pact), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    doc = json.loads(pact.read_text("utf-8"))
    assert check_product_footprint(doc) == []
    assert doc["pcf"]["pcfExcludingBiogenicUptake"] == d["pact"]["pcf"]["pcfExcludingBiogenicUptake"]
    assert d["unit"] == "kgCO2e/kg" and d["allocation"] == "mass" and len(d["allocation_sensitivity"]) == 4
    again = CliRunner().invoke(app, ["footprint", "E01", "--product", "methanol", "--year", str(YEAR), "--db",
                                     f"sqlite:///{db}", "--store", str(reg), "--json"])
    assert json.loads(again.output)["pact"] == d["pact"]                  # the same inputs, the same document


def test_the_footprint_report_holds_the_iso_14067_sections_and_repeats_byte_for_byte(region: tuple[Path, Path],
                                                                                      tmp_path: Path) -> None:
    from pypdf import PdfReader

    reg, db = region
    with Workspace(f"sqlite:///{db}", store_root=reg) as ws:
        a = footprint_report(ws, Scope.centre(), "E02", YEAR, "polyethylene", tmp_path / "a", ("html", "xlsx", "pdf"))
        b = footprint_report(ws, Scope.centre(), "E02", YEAR, "polyethylene", tmp_path / "b", ("html", "xlsx", "pdf"))
    html = Path(a["files"]["html"]).read_text("utf-8")
    for heading in ("功能单位与系统边界", "各阶段贡献", "数据与数据质量", "分配敏感性", "不确定度", "captured CO2"):
        assert heading in html
    for f in ("html", "xlsx", "pdf"):
        assert Path(a["files"][f]).read_bytes() == Path(b["files"][f]).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(a["files"]["pdf"]).pages)
    assert "产品碳足迹报告" in text and "聚乙烯" in text
