"""The data files themselves: every row cites its source, clause and evidence and holds a finite positive value; the
fingerprint is stable; a malformed file is refused naming file, line and field."""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import carbonmet.factors
from carbonmet.factors import EVIDENCE_MARKS, FactorError, check_data, data_version, default_profile, profiles

DATA = Path(carbonmet.factors.__file__).parent / "data"
CSV_VALUE = {"fuels.csv": ("ncv", "cc", "of"), "products.csv": ("value",), "heat.csv": ("value",),
             "grid.csv": ("value",), "gwp.csv": ("value",), "uncertainty.csv": ("u_rel",)}
ATOMIC_WEIGHT = {"C": 12.011, "H": 1.008, "O": 15.999, "N": 14.007, "S": 32.06}  # IUPAC 2021 (abridged)


def _rows(name: str) -> list[dict[str, str]]:
    lines = [ln for ln in (DATA / name).read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines))


#: The factor database's tables (pedigree matrix, basic uncertainties, seed regional factors).
FACTOR_DB_FILES = ("pedigree.csv", "basic_uncertainty.csv", "regional_factors.csv")


def test_the_data_directory_holds_exactly_the_fingerprinted_files() -> None:
    assert sorted(p.name for p in DATA.iterdir() if p.is_file()) == sorted([*CSV_VALUE, "profiles.toml",
                                                                            *FACTOR_DB_FILES])


@pytest.mark.parametrize("name", FACTOR_DB_FILES)
def test_every_factor_database_row_cites_source_clause_and_evidence(name: str) -> None:
    rows = _rows(name)
    assert rows
    for i, row in enumerate(rows):
        assert all(row[k] for k in ("source", "clause", "evidence")), f"{name} row {i + 1}"
        assert row["evidence"] in EVIDENCE_MARKS, f"{name} row {i + 1}"


def test_a_factor_database_file_with_a_bad_row_is_refused_by_check_data(tmp_path: Path) -> None:
    d = tmp_path / "data"
    shutil.copytree(DATA, d)
    f = d / "regional_factors.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("2.63,kgCO2e/kg,kg", "2.63,kgCO2e/MWh,kg"), encoding="utf-8")
    with pytest.raises(FactorError, match=r"regional_factors\.csv:\d+:unit: unit 'kgCO2e/MWh' does not fit"):
        check_data(d)
    shutil.copy(DATA / "regional_factors.csv", f)
    p = d / "pedigree.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("ecoinvent_v3,temporal,5,,0.04", "ecoinvent_v3,temporal,5,,-0.04"),
                 encoding="utf-8")
    with pytest.raises(FactorError, match=r"pedigree\.csv:\d+: field 'variance' must be ≥ 0"):
        check_data(d)


@pytest.mark.parametrize("name", sorted(CSV_VALUE))
def test_every_row_cites_source_clause_and_evidence_and_holds_a_finite_value(name: str) -> None:
    rows = _rows(name)
    assert rows
    for i, row in enumerate(rows):
        where = f"{name} row {i + 1}"
        assert all(row[k] for k in ("source", "clause", "evidence")), where
        assert row["evidence"] in EVIDENCE_MARKS, where
        for key in CSV_VALUE[name]:
            x = float(row[key])
            assert math.isfinite(x), where
            # zero only where it is exact: a carbon-free product, or the conventional u of a GWP set
            zero_ok = (name == "products.csv" and row["composition"] == "carbon_free") or (
                name == "uncertainty.csv" and row["parameter"] in ("gwp", "carbon_content"))
            assert x > 0 or (zero_ok and x == 0), f"{where}: {key} = {x}"


def test_every_profile_cites_its_source_clause_and_evidence() -> None:
    doc = tomllib.loads((DATA / "profiles.toml").read_text(encoding="utf-8"))
    for t in doc["profile"] + doc["subject_alias"]:
        assert t["source"] and t["clause"] and t["evidence"] in EVIDENCE_MARKS, t


def _carbon_fraction(formula: str) -> float:
    parts = [(el, int(n or 1)) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula)]
    total = sum(ATOMIC_WEIGHT[el] * n for el, n in parts)
    return sum(ATOMIC_WEIGHT[el] * n for el, n in parts if el == "C") / total


def test_product_carbon_contents_follow_from_their_formula() -> None:
    p = default_profile()
    checked = 0
    for row in _rows("products.csv"):
        if row["formula"]:
            value = p.get("carbon_content", row["subject"]).value
            assert value == pytest.approx(_carbon_fraction(row["formula"]), abs=5e-5), row["subject"]
            checked += 1
    assert checked >= 14
    assert _carbon_fraction("CH4O") == pytest.approx(0.37485, abs=1e-5)  # methanol 37.49 %


def test_the_uncertainty_table_gives_every_class_a_number_and_a_reason() -> None:
    for row in _rows("uncertainty.csv"):
        assert len(row["basis"]) > 40 and row["shape"] in ("normal", "rectangular"), row
        if row["evidence"] == "A":
            assert "assumption" in row["source"] or row["source"] == "convention", row


def test_data_version_is_a_stable_12_hex_fingerprint_across_processes() -> None:
    v = data_version()
    assert re.fullmatch(r"[0-9a-f]{12}", v) and data_version() == v
    other = subprocess.run([sys.executable, "-c", "import carbonmet.factors as f; print(f.data_version())"],
                           capture_output=True, text=True, check=True, timeout=120)
    assert other.stdout.strip() == v


# --------------------------------------------------------------------------- malformed copies of the data files


def _mutate(text: str, old: str, new: str) -> tuple[str, int]:
    """Replace the first ``old`` by ``new``; return the text and the 1-based line of the change."""
    i = text.index(old)
    return text[:i] + new + text[i + len(old):], text.count("\n", 0, i) + 1


MUTATIONS = [
    # a 10× slip in the carbon content column: the published EF is no longer reproduced
    ("fuels.csv", "S1,bituminous_coal,烟煤,solid,t,19.570,GJ/t,26.1,", "S1,bituminous_coal,烟煤,solid,t,19.570,GJ/t,2.61,",
     r"fuels\.csv:{line}: NCV × CC × OF × 44/12 = .* does not reproduce ef_published"),
    ("grid.csv", "tCO2/MWh,生态环境部办公厅《关于做好2023", "MWh,生态环境部办公厅《关于做好2023",
     r"grid\.csv:{line}: field 'unit': unit 'MWh' cannot be read as 'tCO2/MWh'"),
    ("products.csv", "methanol,甲醇,CH4O,pure,37.49,%", "methanol,甲醇,CH4O,pure,137.49,%",
     r"products\.csv:{line}: field 'value': carbon mass fraction 1\.3749 exceeds 1"),
    ("heat.csv", "0.11,tCO2/GJ,default heat factor used by several public carbon tools (guideline text not seen),",
     "0.11,tCO2/GJ,,",
     r"heat\.csv:{line}: field 'source' is empty"),
    ("gwp.csv", "AR5,N2O,265,1,IPCC AR5 WG1 (2013) Ch. 8", "AR5,N2O,-265,1,IPCC AR5 WG1 (2013) Ch. 8",
     r"gwp\.csv:{line}: field 'value' must be > 0, got -265"),
    ("fuels.csv", "表C.1 褐煤; accounting_2025 §1.3,C,", "表C.1 褐煤; accounting_2025 §1.3,X,",
     r"fuels\.csv:{line}: field 'evidence' is 'X'; expected one of V, V-calc"),
    ("profiles.toml", 'default = "GB/T 32151.10-2023"', 'default = "unattributed-A"',
     r"default 'unattributed-A' must be an undisputed defaults profile"),
    ("products.csv", "meg,乙二醇,", "meg,甲醇,", r"the name '甲醇' is given to both 'methanol' and 'meg'"),
    ("uncertainty.csv", "oxidation_rate,class:solid,", "oxidation_rate,class:solids,",
     r"uncertainty\.csv: no default uncertainty for oxidation_rate/anthracite \(class 'solid'\)"),
]


def test_the_package_data_passes_check_data_and_declares_the_same_profiles() -> None:
    assert [p.name for p in check_data(DATA)] == [p.name for p in profiles()]


@pytest.mark.parametrize(("name", "old", "new", "pattern"), MUTATIONS, ids=[m[0] + "-" + str(i)
                                                                          for i, m in enumerate(MUTATIONS)])
def test_a_malformed_data_file_is_refused_naming_file_line_and_field(tmp_path: Path, name: str, old: str, new: str,
                                                                      pattern: str) -> None:
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    text, line = _mutate((copy / name).read_text(encoding="utf-8"), old, new)
    (copy / name).write_text(text, encoding="utf-8")
    with pytest.raises(FactorError) as err:
        check_data(copy)
    assert re.search(pattern.format(line=line), str(err.value)), str(err.value)


def test_a_missing_or_non_utf8_file_is_refused_naming_it(tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    (copy / "gwp.csv").unlink()
    with pytest.raises(FactorError, match="gwp.csv: missing from the data directory"):
        check_data(copy)
    (copy / "gwp.csv").write_bytes("set,gas\n".encode("gbk") + "中".encode("gbk"))
    with pytest.raises(FactorError, match="gwp.csv: not UTF-8 text"):
        check_data(copy)
