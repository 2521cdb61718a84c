"""An olca-schema package (the hand-written methanol fixture) as a product system of the engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from carbonmet.factors.olca import read_olca_package
from carbonmet.footprint import FootprintError, Lca
from carbonmet.footprint.olca import system_from_olca

OLCA = Path(__file__).parents[1] / "data" / "olca" / "methanol"


def test_the_package_solves_to_the_hand_value_under_each_gwp_set() -> None:
    # per kg methanol: 2800 kg CO2 / 1000 kg = 2.8 kg CO2; CH4 0.2/1000 kg on site + 1.5 kg coal × 4.5/1000 kg
    # at the mine = 0.00695 kg CH4; AR5: 2.8 + 0.00695 × 28 = 2.9946; AR6 (fossil methane 29.8): 3.00711
    pkg = read_olca_package(OLCA)
    for gwp_set, expected, ch4 in (("AR5", 2.9946, "CH4"), ("AR6", 3.00711, "CH4_fossil")):
        o = system_from_olca(pkg, gwp_set=gwp_set)
        r = o.system.footprint({o.products["proc-methanol"]: 1.0})
        assert r.score == pytest.approx(expected, rel=1e-12)
        assert r.inventory == pytest.approx({"CO2": 2.8, ch4: 0.00695}, rel=1e-12)


def test_what_is_not_modelled_is_listed_and_can_be_refused() -> None:
    pkg = read_olca_package(OLCA)
    o = system_from_olca(pkg)
    assert len(o.not_modelled) == 2 and all("Electricity, grid" in n and "cut off" in n for n in o.not_modelled)
    with pytest.raises(FootprintError, match="no process of the package provides 'Electricity, grid'"):
        system_from_olca(pkg, unlinked="error")


def test_the_exchanges_uncertainty_reaches_the_monte_carlo() -> None:
    pkg = read_olca_package(OLCA)
    o = system_from_olca(pkg, gwp_set="AR5")
    mc = Lca(o.system.matrices()).monte_carlo({"m": {o.products["proc-methanol"]: 1.0}}, iterations=2000, seed=4)
    s = mc.summary("m")
    # CO2 triangular 2600/2800/3100 per 1000 kg: mean 2833.3, sd 102.7 → dominant; the coal (GSD 1.1) and the
    # mine's methane (GSD 1.5) add a little
    assert s.mean == pytest.approx(2.8333 + 0.1946, rel=0.02)
    assert 0.09 < s.sd < 0.2


def test_a_process_without_a_quantitative_reference_is_named(tmp_path: Path) -> None:
    pkg_dir = tmp_path / "pkg"
    shutil.copytree(OLCA, pkg_dir)
    f = pkg_dir / "processes" / "proc-coal.json"
    d = json.loads(f.read_text("utf-8"))
    for ex in d["exchanges"]:
        ex.pop("isQuantitativeReference", None)
    f.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(FootprintError, match="hard coal mining.*0 quantitative reference"):
        system_from_olca(read_olca_package(pkg_dir))
