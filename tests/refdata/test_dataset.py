"""The written dataset (4 enterprises, one per route, hourly): formats, ground truth, faults, error statistics.

Ranges cite shared/domain/coal_chemical_facts.md (CCF); formats docs/formats/*.md and docs/refdata.md.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from carbonmet.db import make_engine, migrate, session_scope
from carbonmet.metering import Store, read_file
from carbonmet.metering.hj212 import Framer, build_point_map, decode, to_raw_readings
from carbonmet.metering.schemas import READINGS_SCHEMA
from carbonmet.refdata import Manifest
from carbonmet.registry import (
    catalog_from_files,
    catalog_from_registry,
    due_list,
    import_files,
    period_coverage,
    trace_back,
)
from carbonmet.registry.dcc import read_dcc

from ._stats import instrument_stats


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _us(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1_000_000)


# ------------------------------------------------------------------------------------------ ground truth


def test_truth_carbon_balance_closes_per_enterprise(region: tuple[Path, Manifest]) -> None:
    root, _ = region
    cin: dict[str, float] = defaultdict(float)
    cout: dict[str, float] = defaultdict(float)
    monthly: dict[tuple[str, str], float] = defaultdict(float)
    for r in _csv(root / "truth/carbon_streams.csv"):
        if r["carbon_t"] == "":
            continue
        c = float(r["carbon_t"])
        if r["period"] == "2025":
            (cin if r["direction"] == "in" else cout)[r["enterprise"]] += c
        else:
            monthly[(r["enterprise"], r["stream"])] += c
    assert set(cin) == {"E01", "E02", "E03", "E04"}
    for e, c_in in cin.items():
        assert abs(c_in - cout[e]) / c_in < 1e-4  # < 0.01 %
    annual = {(r["enterprise"], r["stream"]): float(r["carbon_t"]) for r in _csv(root / "truth/carbon_streams.csv")
              if r["period"] == "2025" and r["carbon_t"] != ""}
    for k, v in annual.items():
        assert monthly[k] == pytest.approx(v, rel=1e-6, abs=1e-3)


def test_truth_intensities_in_published_ranges(region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    rows = {r["enterprise"]: r for r in _csv(root / "truth/enterprises.csv")}
    assert {r["route"] for r in rows.values()} == {"ctm", "cto", "ctl", "cteg"}
    for r in rows.values():
        lo, hi = map(float, r["target_direct"].split(";"))
        assert lo <= float(r["intensity_direct_gross"]) <= hi, r["enterprise"]  # CCF §0
        lo, hi = map(float, r["target_cradle_to_gate"].split(";"))
        gross_fp = float(r["footprint_cradle_to_gate"]) + float(r["recovered_co2_t"]) / float(r["production_main_t"])
        assert lo <= gross_fp <= hi, r["enterprise"]  # CCF §0 cradle-to-gate
    assert [e["enterprise"] for e in manifest.enterprises_list] == sorted(rows)
    factors = {r["factor"]: r for r in _csv(root / "truth/footprint_factors.csv")}
    assert factors["grid"]["value"] == "0.5703" and factors["grid"]["evidence"] == "V"
    assert all(r["evidence"] for r in factors.values())


def test_lab_results_agree_with_true_coal_lots(region: tuple[Path, Manifest]) -> None:
    root, _ = region
    lots = {(r["enterprise"], r["stream"], r["from"]): r for r in _csv(root / "truth/coal_lots.csv")}
    lab = [r for r in _csv(root / "lab/lab.csv") if r["analyte"] == "ncv" and r["unit"] == "MJ/kg"]
    assert len(lab) == len(lots)
    z = []
    for r in lab:
        e, _, pid = r["point_id"].partition(".")
        stream = "gasifier_coal" if pid.startswith("GASIFIER") else "boiler_coal"
        t = lots[(e, stream, r["sampled_from"])]
        z.append((float(r["value"]) - float(t["ncv_mj_per_kg"])) / (float(r["U"]) / float(r["k"])))
    # calorimeter systematic error (class 0.2) plus the stated U: centred and of unit-ish spread
    assert abs(float(np.mean(z))) < 1.0 and 0.6 < float(np.std(z)) < 1.6


# ------------------------------------------------------------------------------------------ formats


def test_readings_store_layout_and_schema(region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    files = sorted((root / "readings").glob("enterprise=*/point=*/month=*/part-refdata.parquet"))
    assert len(files) == manifest.counts["parquet_files"]
    for f in files[:: max(1, len(files) // 40)]:
        assert pq.read_schema(f).remove_metadata() == READINGS_SCHEMA
        md = pq.ParquetFile(f).metadata
        assert md.num_row_groups == 1
    con = duckdb.connect()
    n = con.execute(f"select count(*) from read_parquet('{root}/readings/*/*/*/*.parquet', hive_partitioning=true)")
    assert n.fetchone()[0] == manifest.counts["readings"]
    # partitions are the UTC month of ts, as the metering store writes them
    bad = con.execute(f"""select count(*) from read_parquet('{root}/readings/*/*/*/*.parquet', hive_partitioning=true)
                        where strftime(ts at time zone 'UTC', '%Y-%m') <> month""").fetchone()[0]
    assert bad == 0


def test_registry_files_import_into_the_registry(region: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, manifest = region
    engine = make_engine(f"sqlite:///{tmp_path / 'reg.sqlite'}")
    migrate(engine)
    reports = import_files(engine, sorted((root / "registry").glob("*.csv")))
    applied = {t: n for r in reports for t, n in r.tables.items()}
    for table in ("organisations", "sites", "points", "standards", "instruments", "certificates"):
        assert applied[table] == len(_csv(root / f"registry/{table}.csv"))
    # the registry's own queries find what the manifest says was injected
    (oot,) = manifest.out_of_tolerance
    with session_scope(engine) as session:
        tr = trace_back(session, oot["standard_code"], date.fromisoformat(oot["window_from"]),
                        date.fromisoformat(oot["window_to"]))
        found = {c.cert_no for c in tr.certificates if c.subject_kind == "instrument"}
        assert found == {a["cert_no"] for a in oot["affected_certificates"]}
        due = {d.instrument: d.status for d in due_list(session, date(2025, 12, 31), within_days=0)}
    assert {"overdue", "does_not_conform"} <= {f["kind"] for f in manifest.noncompliance}
    for f in manifest.noncompliance:
        if f["kind"] == "overdue":
            assert due[f["instrument_id"]] == "overdue"
        if f["kind"] == "does_not_conform":
            assert due[f["instrument_id"]] == "failed"
    wb = load_workbook(root / "registry/registry.xlsx", read_only=True)
    assert wb.sheetnames == ["organisations", "sites", "points", "standards", "instruments", "certificates"]
    for name in wb.sheetnames:
        rows = list(wb[name].iter_rows(values_only=True))
        assert len(rows) - 1 == len(_csv(root / f"registry/{name}.csv"))


def test_calibrated_instead_of_verified_is_what_the_registry_finds(region: tuple[Path, Manifest],
                                                                   engine: Engine) -> None:
    """Mandatory instruments (强制检定) are verified, except the injected "calibrated instead of verified"
    finding; the registry's due list, coverage and metering catalogue find exactly the manifest's list."""
    root, manifest = region
    found = [f for f in manifest.noncompliance if f["kind"] == "calibrated_not_verified"]
    assert 1 <= len(found) <= 2
    injected = {f["instrument_id"] for f in found}
    inst = {r["instrument_id"]: r for r in _csv(root / "registry/instruments.csv")}
    certs = [c for c in _csv(root / "registry/certificates.csv") if c["subject_kind"] == "instrument"]
    mandatory_calibrated = {c["subject"] for c in certs
                            if inst[c["subject"]]["legal_category"] == "mandatory" and c["kind"] == "calibration"}
    assert mandatory_calibrated == injected
    assert any(c["kind"] == "verification" and inst[c["subject"]]["type"] == "gas_flow_meter" for c in certs)
    import_files(engine, sorted((root / "registry").glob("*.csv")))
    with session_scope(engine) as session:
        due = {d.instrument: d for d in due_list(session, date(2025, 12, 31), within_days=0)}
        catalog = catalog_from_registry(session)
        coverage = {f["instrument_id"]: period_coverage(session, f["point_id"], date.fromisoformat(f["start"]),
                                                        date.fromisoformat(f["end"])) for f in found}
    assert {i for i, d in due.items() if d.reason is not None} == injected
    for f in found:
        d = due[f["instrument_id"]]
        assert d.status == "overdue" and d.due is None and d.reason is not None and "检定" in d.reason
        cov = coverage[f["instrument_id"]]
        assert not cov.covered and cov.certificates == [] and cov.notes
        assert [(g.start.isoformat(), g.end.isoformat()) for g in cov.gaps] == [(f["start"], f["end"])]
        (ip,) = catalog[f["point_id"]].instruments
        assert ip.instrument_id == f["instrument_id"] and ip.certificates == ()


def test_traceability_chain_is_three_standards_deep(region: tuple[Path, Manifest]) -> None:
    root, _ = region
    std = {r["standard_code"]: r for r in _csv(root / "registry/standards.csv")}
    certs = {r["cert_no"]: r for r in _csv(root / "registry/certificates.csv")}
    inst_cert = next(c for c in certs.values() if c["subject_kind"] == "instrument" and "@" in c["standards_used"])
    levels = []
    code, no = inst_cert["standards_used"].split("@")
    while True:
        levels.append(std[code]["level"])
        up = certs.get(no) if no else None
        if up is None:
            up = next((c for c in certs.values() if c["subject"] == code), None)
        if up is None or not up["standards_used"]:
            break
        code, _, no = up["standards_used"].partition("@")
    assert levels == ["working", "primary", "national"]


def test_csv_input_and_cems_minute_ingest_into_the_store(region: tuple[Path, Manifest], tmp_path: Path) -> None:
    root, manifest = region
    reg = root / "registry"
    catalog = catalog_from_files(reg / "points.csv", reg / "instruments.csv", reg / "certificates.csv", reg / "sites.csv")
    store = Store(tmp_path / "store")
    path = root / manifest.outputs["cems"]["minute_csv"]
    batch = read_file(path)
    rep = store.ingest(batch, "refdata-test", catalog, source="file")
    n_lines = sum(1 for _ in path.open(encoding="utf-8")) - 1
    assert rep.received == n_lines == batch.num_rows
    assert rep.stored + rep.quarantined + rep.duplicates == rep.received


def test_hj212_log_is_the_minute_data(region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    info = manifest.outputs["cems"]
    reg = root / "registry"
    catalog = catalog_from_files(reg / "points.csv")
    pmap = build_point_map(catalog.values())
    frames = Framer().feed((root / info["hj212_log"]).read_bytes())
    assert len(frames) == info["hj212_packets"] > 0
    minute = {(r["point_id"], _us(r["ts"])): (float(r["value"]), r["flag"]) for r in _csv(root / info["minute_csv"])}
    n = 0
    for raw, reason in frames[:: max(1, len(frames) // 500)]:
        assert reason is None
        pk = decode(raw)
        assert pk.cn == "2051" and pk.st == "31"
        for rd in to_raw_readings(pk, pmap):
            v, flag = minute[(rd.point_id, int(rd.ts.timestamp() * 1_000_000))]
            assert rd.value == pytest.approx(v, rel=1e-5) and rd.flag == flag
            n += 1
    assert n > 0


def test_dcc_certificates_read_back(region: tuple[Path, Manifest]) -> None:
    root, _ = region
    certs = {r["cert_no"]: r for r in _csv(root / "registry/certificates.csv")}
    files = sorted((root / "registry/dcc").glob("*.xml"))
    assert 1 <= len(files) <= 6
    for f in files:
        d = read_dcc(f.read_bytes())
        row = certs[d.unique_identifier]
        err = d.results_by_ref_type("basic_measurementError")[0]
        assert float(row["as_found_error"]) == pytest.approx(float(np.mean(err.values)), abs=1e-3)
        assert err.expanded_uncertainty[0] == pytest.approx(float(row["U"]))
        assert d.items[0].serial in {r["serial"] for r in _csv(root / "registry/instruments.csv")}


# ------------------------------------------------------------------------------------------ faults


def test_manifest_lists_faults_findings_and_the_out_of_tolerance_standard(region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    assert Manifest.read(root).seed == 11 and manifest.version.startswith("refdata-")
    kinds = {f["kind"] for f in manifest.faults}
    assert {"gap", "stuck", "spike", "maintenance", "drift"} <= kinds
    assert {f["kind"] for f in manifest.noncompliance} >= {"nonconforming_class", "does_not_conform"}
    for f in manifest.noncompliance:
        assert f["rule"].startswith("GB 17167-2006")
    (oot,) = manifest.out_of_tolerance
    assert oot["window_from"] < oot["window_to"] == oot["found_on"]
    certs = {r["cert_no"]: r for r in _csv(root / "registry/certificates.csv")}
    assert certs[oot["finding_certificate"]]["subject"] == oot["standard_code"]
    assert float(certs[oot["finding_certificate"]]["as_found_error"]) > oot["tolerance_rel_pct"]
    for a in oot["affected_certificates"]:
        assert certs[a["cert_no"]]["standards_used"].startswith(oot["standard_code"] + "@")
        assert oot["window_from"] <= a["calibration_date"] < oot["window_to"]


def test_injected_faults_are_in_the_data(region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    con = duckdb.connect()
    points = sorted({f["point_id"] for f in manifest.faults})
    files = [str(p) for pid in points for p in (root / "readings").glob(f"enterprise=*/point={pid}/month=*/*.parquet")]
    con.execute(f"""create table m as select point, epoch_us(ts) as t, value, flag::varchar as flag
                    from read_parquet({files!r}, hive_partitioning=true)""")
    for f in manifest.faults:
        q = "from m where point = ? and t >= ? and t < ?"
        args = [f["point_id"], _us(f["start"]), _us(f["end"])]
        if f["kind"] == "gap":
            assert con.execute("select count(*) " + q, args).fetchone()[0] == 0
        elif f["kind"] == "stuck":
            assert con.execute("select count(distinct value) " + q, args).fetchone()[0] == 1
        elif f["kind"] == "maintenance":
            flags = {r[0] for r in con.execute("select distinct flag " + q, args).fetchall()}
            assert flags == {"M"}
        elif f["kind"] == "spike":
            (v,) = con.execute("select value " + q, args).fetchone()
            prev = con.execute("select value from m where point = ? and t < ? order by t desc limit 1",
                               args[:2]).fetchone()[0]
            assert v > 2.0 * prev


def test_the_wastewater_instruments_come_after_the_others_and_carry_no_injected_fault(
        region: tuple[Path, Manifest]) -> None:
    """refdata-1.3 added a wastewater flow meter per enterprise and a TOC analyser per provincial institute. They
    are drawn after every earlier instrument (the highest numbers) and are no candidates for the faults and findings
    a seed injects, so adding them left the earlier instruments' draws and the injected faults where they were."""
    root, manifest = region
    inst = _csv(root / "registry/instruments.csv")
    new = [r for r in inst if r["type"] == "toc_analyser" or r["point_id"].endswith(".WASTEWATER")]
    provinces = {r["org_code"] for r in _csv(root / "registry/organisations.csv") if r["org_code"].endswith("-IMT")}
    assert len(new) == manifest.enterprises + len(provinces)
    assert all(r["legal_category"] == "mandatory" and r["type"] == "liquid_flow_meter" for r in new
               if r["point_id"])  # electromagnetic meter, verified (检定)

    def number(r: dict[str, str]) -> int:
        return int(r["instrument_id"].rsplit("-I", 1)[1])

    wave2 = [r for r in inst if r["point_id"].endswith(WAVE2_SUFFIXES)]  # refdata-1.6, numbered after these
    assert min(map(number, new)) > max(number(r) for r in inst if r not in new and r not in wave2)
    named = {x for f in manifest.faults + manifest.noncompliance for x in (f.get("point_id"), f.get("instrument_id"))}
    assert not named & ({r["instrument_id"] for r in new} | {r["point_id"] for r in new if r["point_id"]})


WAVE2_SUFFIXES = (".COAL_YARD_G", ".COAL_YARD_B", ".SHIP", ".TANK")


def test_the_books_instruments_come_last_carry_no_fault_and_their_surveys_match_the_truth(
        region: tuple[Path, Manifest]) -> None:
    """refdata-1.6 added the plant's books: a stock survey per coal yard, and per Coriolis-metered product a
    shipments weighbridge and a tank gauge. They are numbered after every earlier instrument, no fault is drawn
    among them, and every survey reading is the true stock within 5 stated u (certificate and per-survey error)."""
    root, manifest = region
    inst = _csv(root / "registry/instruments.csv")
    new = [r for r in inst if r["point_id"].endswith(WAVE2_SUFFIXES)]
    n_prod = sum(1 for r in _csv(root / "registry/points.csv") if r["point_id"].endswith(".TANK"))
    assert len(new) == 2 * manifest.enterprises + 2 * n_prod and n_prod >= 1

    def number(r: dict[str, str]) -> int:
        return int(r["instrument_id"].rsplit("-I", 1)[1])

    assert min(map(number, new)) > max(number(r) for r in inst if r not in new)
    named = {x for f in manifest.faults + manifest.noncompliance for x in (f.get("point_id"), f.get("instrument_id"))}
    assert not named & ({r["instrument_id"] for r in new} | {r["point_id"] for r in new})
    truth = {(r["point_id"], r["ts"]): float(r["stock_t"]) for r in _csv(root / "truth/stocks.csv")}
    assert len(truth) == 13 * (2 * manifest.enterprises + n_prod)
    con = duckdb.connect()
    for pid in {p for p, _ in truth}:
        rows = con.execute("SELECT ts, value FROM read_parquet(?) ORDER BY ts",
                           [f"{root}/readings/enterprise={pid.split('.')[0]}/point={pid}/*/*.parquet"]).fetchall()
        assert len(rows) == 13, pid
        trues = [v for (p, _), v in sorted(truth.items()) if p == pid]
        rel = 0.03 if pid.endswith(("COAL_YARD_G", "COAL_YARD_B")) else 0.005  # survey: u 1 % + 1.5 %; tank 0.2 % + 0.3 %
        for (_, v), t in zip(rows, trues, strict=True):
            assert abs(v - t) <= 5 * rel * t, (pid, v, t)


# ------------------------------------------------------------------------------------------ error statistics


@pytest.mark.slow
def test_measured_minus_truth_matches_the_certificates(region: tuple[Path, Manifest]) -> None:
    """δ̂ per instrument recovers the recorded δ, δ/u is ~N(0,1) across instruments, noise sd as stated."""
    root, _ = region
    stats = instrument_stats(root)
    # stock surveys (refdata 1.6) read 13 times a year with a per-survey error of 0.3–1.5 %: their δ cannot be
    # recovered to 0.05 %; test_the_books_instruments_come_last_… checks them against the truth instead
    clean = [s for s in stats if s["model"] in ("normal", "rectangular")
             and not s["point_id"].endswith((".COAL_YARD_G", ".COAL_YARD_B", ".TANK"))]
    assert len(clean) >= 80
    for s in clean:
        assert s["dhat"] == pytest.approx(s["delta"], abs=0.03 + 0.02 * s["u"]), s["point_id"]
    z = np.array([s["dhat"] / s["u"] for s in clean])
    se = 1.0 / np.sqrt(z.size)
    assert abs(z.mean()) < 4 * se
    assert 1 - 5 * se / np.sqrt(2) < z.std(ddof=1) < 1 + 5 * se / np.sqrt(2)
    for s in clean:
        if s["sd"] is None or s["noise_abs"] or s["n"] < 1000:
            continue
        per_min = s["noise_rel"] if s["kind"] == "interval" else s["noise_rel"] / np.sqrt(60)
        if s["kind"] == "interval":  # one weighing: noise plus quantisation of ~0.1 % loads is part of the spread
            assert 0.8 * per_min < s["sd"] < 3.0 * per_min, s["point_id"]
        else:
            assert s["sd"] == pytest.approx(per_min, rel=0.15), s["point_id"]
    # the instruments traced to the out-of-tolerance standard carry its error in the data
    oot = [s for s in stats if s["model"] == "traced_to_oot"]
    for s in oot:
        assert s["dhat"] - s["delta"] > 0.0
