"""Lab analyses: each result names its instrument, whose certificate covers the error common to all its samples.

Over a year, mean(lab − truth) of one instrument is its systematic error δ (averaging n samples removes only the
per-sample noise), so standardised by the certificate's u it is ~N(0, 1) across instruments; the stated U of a
single result (instrument u combined with the repeatability) covers |lab − truth| about 95 % of the time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import stats

from carbonmet.refdata import Manifest, constants, generate

COAL_ANALYTES = {"ncv": "ncv_mj_per_kg", "carbon_content": "carbon_pct", "moisture": "moisture_pct", "ash": "ash_pct",
                 "sulfur": "sulfur_pct"}


def _csv(p: Path) -> list[dict[str, str]]:
    with p.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _stated_u_rel(root: Path) -> dict[str, float]:
    """Standard uncertainty [%] the registry states for each instrument: MPE/√3 of a verification, U/k of the
    latest calibration certificate."""
    inst = {r["instrument_id"]: r for r in _csv(root / "registry/instruments.csv")}
    out: dict[str, float] = {}
    for c in sorted(_csv(root / "registry/certificates.csv"), key=lambda r: r["calibration_date"]):
        i = inst.get(c["subject"])
        if i is None:
            continue
        out[c["subject"]] = float(i["mpe_rel"]) / np.sqrt(3.0) if c["kind"] == "verification" else \
            float(c["U"]) / float(c["k"])
    return out


def _lab_vs_truth(root: Path) -> list[tuple[str, float, float, float, float]]:
    """(instrument_id, lab value, true value, stated U, k) of every result whose truth is known (coal lots, natural
    gas, monthly wastewater composites: true carbon ÷ true mass of the month)."""
    lots = {(r["enterprise"], r["stream"], r["from"]): r for r in _csv(root / "truth/coal_lots.csv")}
    water = {(r["enterprise"], r["period"]): float(r["carbon_t"]) / float(r["amount"]) * 100
             for r in _csv(root / "truth/carbon_streams.csv") if r["stream"] == "wastewater" and r["amount"]
             and float(r["amount"]) > 0}
    phys = constants()["physics"]
    ng = {"ncv": phys["ng_ncv_mj_per_nm3"], "carbon_content": phys["ng_ncv_mj_per_nm3"] * phys["ng_c_per_gj"]}
    out = []
    for r in _csv(root / "lab/lab.csv"):
        e, _, pid = r["point_id"].partition(".")
        if pid in ("GASIFIER_COAL.LAB", "BOILER_COAL.LAB"):
            stream = "gasifier_coal" if pid.startswith("GASIFIER") else "boiler_coal"
            truth = float(lots[(e, stream, r["sampled_from"])][COAL_ANALYTES[r["analyte"]]])
        elif pid == "NATURAL_GAS.LAB":
            truth = ng[r["analyte"]]
        elif pid == "WASTEWATER.LAB":
            truth = water[(e, r["sampled_from"][:7])]
        else:
            continue
        out.append((r["instrument_id"], float(r["value"]), truth, float(r["U"]), float(r["k"])))
    return out


def _check(root: Path) -> tuple[np.ndarray, float]:
    u_inst = _stated_u_rel(root)
    rows = _lab_vs_truth(root)
    assert rows and all(i in u_inst for i, *_ in rows)  # every lab result names a certified instrument
    by_inst: dict[str, list[tuple[float, float, float, float]]] = {}
    for i, v, t, U, k in rows:
        by_inst.setdefault(i, []).append((v, t, U, k))
    z = []
    for i, rs in sorted(by_inst.items()):
        a = np.array(rs)
        rel = (a[:, 0] - a[:, 1]) / a[:, 1]  # relative error of each result = δ + e/truth
        u_e = np.sqrt(np.maximum((a[:, 2] / a[:, 3]) ** 2 - (u_inst[i] / 100 * a[:, 0]) ** 2, 0.0)) / a[:, 1]
        sd_mean = np.sqrt((u_inst[i] / 100) ** 2 + np.sum(u_e ** 2) / len(rs) ** 2)  # δ does not average out
        z.append(float(rel.mean()) / sd_mean)
    a = np.array([(v, t, U / k * 2.0) for _, v, t, U, k in rows])
    coverage = float(np.mean(np.abs(a[:, 0] - a[:, 1]) <= a[:, 2]))
    return np.array(z), coverage


def test_lab_results_name_their_instrument_and_stated_u_covers_the_common_error(
        region: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, manifest = region
    inst = {r["instrument_id"]: r for r in _csv(root / "registry/instruments.csv")}
    lab = _csv(root / "lab/lab.csv")
    # the provincial institute's composites and gas analyses use the institute's own instruments
    for r in lab:
        assert inst[r["instrument_id"]]["org_code"] == r["lab_org"], r["sample_id"]
    # wastewater total carbon: monthly, by the institute's TOC analyser, a few hundred mg/kg (1 mg/kg = 0.0001 %)
    water = [r for r in lab if r["point_id"].endswith(".WASTEWATER.LAB")]
    assert {r["point_id"].split(".")[0] for r in water} == {e["enterprise"] for e in manifest.enterprises_list}
    assert all(inst[r["instrument_id"]]["type"] == "toc_analyser" and r["unit"] == "%" for r in water)
    assert all(0.01 < float(r["value"]) < 0.07 for r in water)
    z1, cov1 = _check(root)
    other = generate(tmp_path / "r", enterprises=3, year=2025, seed=5)
    z2, cov2 = _check(tmp_path / "r")
    assert other.enterprises == 3
    z = np.concatenate([z1, z2])
    # per instrument: mean(lab − truth)/u ~ N(0, 1) (chi-square of Σz² with a 0.1 % two-sided risk)
    assert len(z) >= 25
    s = float(np.sum(z ** 2))
    assert stats.chi2.ppf(0.0005, len(z)) < s < stats.chi2.ppf(0.9995, len(z)), z
    assert float(np.max(np.abs(z))) < 4.0
    # single results: the stated U (k = 2) covers the error about 95 % of the time
    for cov in (cov1, cov2):
        assert 0.92 < cov < 0.98, cov
