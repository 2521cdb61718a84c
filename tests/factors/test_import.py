"""Factor files (CSV and XLSX, one row model) and olca-schema JSON-LD packages: read all or nothing, every problem
named by file, row (or process and exchange) and field."""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from carbonmet.db import AuditEntry, session_scope
from carbonmet.factors import FactorImportError, find, read_factor_file, save_factors
from carbonmet.factors.olca import read_olca_package
from carbonmet.services import AccessDenied, Scope, Workspace, import_factors, list_factors

OLCA = Path(__file__).parents[1] / "data" / "olca" / "methanol"
HEADER = (
    "product,technology,region,year,gas,gwp_set,value,unit,flow_unit,basis,source,evidence,distribution,sigma,"
    "u,pedigree,basic_class"
)
ROWS = [
    "methanol,coal_gasification,shaanxi,2024,CO2e,AR5,3.05,kgCO2e/kg,kg,literature,a study,C,,,,(2;3;2;1;3),demand",
    "electricity,,ningxia,2022,CO2,,0.70,kgCO2/kWh,kWh,default,a notice,V,normal,,0.02,,",
    "coal,mining,shanxi,2022,CH4,,4.5,kg/t,t,literature,a paper,M,lognormal,0.4,,,",
]


def _csv(tmp: Path, rows: list[str], name: str = "f.csv", header: str = HEADER) -> Path:
    p = tmp / name
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def _xlsx(tmp: Path, rows: list[str], name: str = "f.xlsx") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER.split(","))
    for r in rows:
        cells: list[object] = []
        for c in r.split(","):
            try:
                cells.append(float(c) if c and not c.startswith("(") else c or None)
            except ValueError:
                cells.append(c)
        ws.append(cells)
    p = tmp / name
    wb.save(p)
    return p


def test_csv_and_xlsx_read_to_the_same_records(tmp_path: Path) -> None:
    a = read_factor_file(_csv(tmp_path, ROWS))
    b = read_factor_file(_xlsx(tmp_path, ROWS))
    assert [r.content() for r in a.records] == [r.content() for r in b.records]
    meoh = a.records[0]
    assert meoh.distribution.shape == "lognormal" and meoh.pedigree == (2, 3, 2, 1, 3)
    # σ from the pedigree: basic (ln 1.05 / 2)² + 0.0006 + 0.0006 + 0.0002 + 0 + 0.008, kept apart from the scores
    assert meoh.distribution.sigma == pytest.approx(math.sqrt((math.log(1.05) / 2) ** 2 + 0.0094))
    assert meoh.basic_variance == pytest.approx((math.log(1.05) / 2) ** 2)
    assert a.rows == [f"{tmp_path / 'f.csv'}:{i}" for i in (2, 3, 4)]


@pytest.mark.parametrize(
    ("row", "field", "match"),
    [
        (
            "methanol,,x,2024,CO2,,2.8,tCO2/MWh,t,literature,s,C,normal,,0.1,,",
            "unit",
            "does not fit the flow",
        ),
        (
            "methanol,,x,2024,CO2e,AR5,2.8,kgCO2e/kg,kg,literature,s,C,,,,(2;-1;1;1;1),demand",
            "pedigree",
            "out of range",
        ),
        (
            "methanol,,x,2024,CO2e,AR5,2.8,kgCO2e/kg,kg,literature,s,C,,,,(2;3;1;1;7),demand",
            "pedigree",
            "out of range",
        ),
        ("methanol,,x,2024,CO2e,,2.8,kgCO2e/kg,kg,literature,s,C,normal,,0.1,,", "gwp_set", "gwp_set"),
        ("methanol,,x,2024,CO2,,abc,tCO2/t,t,literature,s,C,normal,,0.1,,", "value", "not a number"),
        ("methanol,,x,2024,CO2,,2.8,tCO2/t,t,guessed,s,C,normal,,0.1,,", "basis", "measured"),
        ("methanol,,x,2024,CO2,,2.8,tCO2/t,t,literature,s,Z,normal,,0.1,,", "evidence", "evidence mark"),
        ("methanol,,x,2024,CO2,,2.8,tCO2/t,t,literature,s,C,normal,,,,", "u", "needs u"),
        ("methanol,,x,2024,CO2,,2.8,tCO2/t,t,literature,s,C,lognormal,,,,", "sigma", "needs sigma"),
        (
            "methanol,,x,2024,CO2,,2.8,tCO2/t,t,literature,s,C,,,,(1;1;1;1;1),volcano",
            "basic_class",
            "unknown exchange",
        ),
        (",,x,2024,CO2,,2.8,tCO2/t,t,literature,s,C,normal,,0.1,,", "product", "required"),
    ],
)
def test_a_bad_row_is_named_by_file_row_and_field(tmp_path: Path, row: str, field: str, match: str) -> None:
    good = ROWS[1]
    with pytest.raises(FactorImportError) as ei:
        read_factor_file(_csv(tmp_path, [good, row]))
    probs = ei.value.problems
    assert [(p.row, p.field) for p in probs] == [("3", field)], probs
    assert match in probs[0].reason and probs[0].file.endswith("f.csv")
    assert "nothing imported" in str(ei.value)


def test_every_bad_row_is_reported_not_only_the_first(tmp_path: Path) -> None:
    bad = "methanol,,x,2024,CO2,,2.8,tCO2/MWh,t,literature,s,C,normal,,0.1,,"
    with pytest.raises(FactorImportError) as ei:
        read_factor_file(_csv(tmp_path, [bad, ROWS[1], bad.replace(",x,", ",y,"), ROWS[1]]))
    assert [(p.row, p.field) for p in ei.value.problems] == [("2", "unit"), ("4", "unit"), ("5", "product")]


def test_an_unknown_or_missing_column_refuses_the_file(tmp_path: Path) -> None:
    with pytest.raises(FactorImportError, match="unknown column"):
        read_factor_file(_csv(tmp_path, ROWS, header=HEADER + ",colour"))
    with pytest.raises(FactorImportError, match="missing column.*evidence"):
        read_factor_file(
            _csv(tmp_path, [], header="product,region,year,gas,value,unit,flow_unit,basis,source")
        )


def test_an_import_is_all_or_nothing_across_files(engine: Engine, tmp_path: Path) -> None:
    ws = Workspace(engine=engine)
    good = _csv(tmp_path, ROWS, "good.csv")
    bad = _csv(
        tmp_path, [ROWS[0].replace("(2;3;2;1;3)", "(2;3;2;1;-3)").replace("shaanxi", "gansu")], "bad.csv"
    )
    with session_scope(engine) as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(FactorImportError, match=r"bad\.csv:2:pedigree"):
        import_factors(ws, Scope.centre(), [good, bad])
    with pytest.raises(AccessDenied):
        import_factors(ws, Scope.enterprise("E01"), [good])
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert find(s, packaged=False) == []
    rep = import_factors(ws, Scope.centre(), [good])
    assert len(rep[0].stored) == 3
    stored = [r for r in list_factors(ws, Scope.nobody(), product="coal") if r.store != "packaged"]
    assert [r.value for r in stored] == [4.5]
    changed = _csv(tmp_path, [ROWS[0].replace("3.05", "3.15")], "changed.csv")
    assert [r.rsplit("/", 1)[1] for r in import_factors(ws, Scope.centre(), [changed])[0].stored] == ["v2"]


# --- olca-schema JSON-LD -----------------------------------------------------------------------------------------
def test_an_olca_package_reads_processes_flows_and_exchanges() -> None:
    pkg = read_olca_package(OLCA)
    procs = {p.name: p for p in pkg.processes}
    meoh = procs["methanol production, coal gasification"]
    assert meoh.location == "China" and meoh.reference is not None and meoh.reference.flow_name == "Methanol"
    ex = {e.flow_name: e for e in meoh.exchanges}
    coal = ex["Hard coal"]
    assert coal.is_input and coal.amount == 1.5 and coal.unit == "t" and coal.amount_ref == 1500.0
    assert (
        coal.reference_unit == "kg"
        and coal.default_provider == "proc-coal"
        and coal.dq_entry == (2, 3, 1, 2, 3)
    )
    assert coal.uncertainty is not None and coal.uncertainty.distribution().sigma == pytest.approx(
        math.log(1.1)
    )
    elec = ex["Electricity, grid"]
    assert elec.amount_ref == pytest.approx(800 * 3.6) and elec.reference_unit == "MJ"
    assert elec.uncertainty is not None and elec.uncertainty.distribution().u == 40.0
    co2 = ex["Carbon dioxide, fossil"].uncertainty
    assert co2 is not None and co2.distribution().shape == "triangular" and co2.params["mode"] == 2800.0
    ch4 = ex["Methane, fossil"]
    assert ch4.uncertainty is not None and ch4.uncertainty.distribution().shape == "uniform"
    assert ch4.dq_entry == (3, None, 2, 2, 4) and not ch4.is_input and ch4.flow_type == "ELEMENTARY_FLOW"
    assert set(pkg.flows) == {"flow-methanol", "flow-coal", "flow-co2", "flow-ch4", "flow-electricity"}


def test_an_olca_package_lists_what_it_did_not_read() -> None:
    not_read = read_olca_package(OLCA).not_read
    assert "locations: 1 object(s) not read" in not_read and "dq_systems: 1 object(s) not read" in not_read
    assert {"Exchange.costValue", "Exchange.currency", "Process.exchangeDqSystem"} <= set(not_read)


def test_a_zipped_package_reads_like_the_directory(tmp_path: Path) -> None:
    z = tmp_path / "methanol.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in OLCA.rglob("*.json"):
            zf.write(f, f.relative_to(OLCA).as_posix())
    a, b = read_olca_package(OLCA), read_olca_package(z)
    assert {p.id: p.exchanges for p in a.processes} == {p.id: p.exchanges for p in b.processes}
    assert a.not_read == b.not_read


def _broken(tmp: Path, process: str, edit: object) -> Path:
    d = tmp / "pkg"
    shutil.copytree(OLCA, d)
    f = d / "processes" / process
    obj = json.loads(f.read_text(encoding="utf-8"))
    edit(obj)  # type: ignore[operator]
    f.write_text(json.dumps(obj), encoding="utf-8")
    return d


def test_a_dangling_flow_reference_names_the_process_and_the_flow(tmp_path: Path) -> None:
    def edit(p: dict) -> None:
        p["exchanges"][1]["flow"] = {"@type": "Flow", "@id": "flow-lignite", "name": "Lignite"}

    with pytest.raises(FactorImportError) as ei:
        read_olca_package(_broken(tmp_path, "proc-methanol.json", edit))
    (p,) = ei.value.problems
    assert (
        p.field == "flow" and "methanol production, coal gasification" in p.reason and "'Lignite'" in p.reason
    )
    assert "dangling reference" in p.reason and "exchange 2" in p.row


def test_a_unit_outside_the_flow_unit_group_is_refused(tmp_path: Path) -> None:
    def edit(p: dict) -> None:
        p["exchanges"][1]["unit"] = {"@type": "Unit", "@id": "u-kwh", "name": "kWh"}  # coal in kWh

    with pytest.raises(FactorImportError, match=r"unit 'kWh' of flow 'Hard coal'.*does not fit"):
        read_olca_package(_broken(tmp_path, "proc-methanol.json", edit))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda p: p["exchanges"][3].update(dqEntry="(1;2;-1;1;3)"), "dqEntry"),
        (lambda p: p["exchanges"][1]["uncertainty"].update(geomSd=0.5), "uncertainty.geomSd"),
        (lambda p: p["exchanges"][2]["uncertainty"].pop("sd"), "uncertainty.sd"),
        (lambda p: p["exchanges"][0].update(amount="one"), "amount"),
        (lambda p: p["exchanges"][1].update(defaultProvider={"@id": "proc-gone"}), "defaultProvider"),
    ],
)
def test_a_bad_exchange_refuses_the_whole_package(tmp_path: Path, edit: object, field: str) -> None:
    with pytest.raises(FactorImportError) as ei:
        read_olca_package(_broken(tmp_path, "proc-methanol.json", edit))
    assert [p.field for p in ei.value.problems] == [field]


def test_an_olca_import_is_checked_and_summarised_not_stored(engine: Engine) -> None:
    ws = Workspace(engine=engine)
    (rep,) = import_factors(ws, Scope.centre(), [OLCA])
    assert (
        rep.kind == "olca" and rep.package is not None and rep.package["exchanges"] == 8 and rep.stored == []
    )
    with session_scope(engine) as s:
        assert find(s, packaged=False) == []
        assert save_factors(s, [], actor="t").stored == ()
