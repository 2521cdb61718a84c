"""Monthly deposits of one enterprise of the reference region, the real way: registry import, plans, lab import,
the readings store, :func:`carbonmet.services.account_enterprise`, then the deposit use cases and the CLI.

The deposit files are written here with tiny evidence files: every metered amount from the readings store's
monthly aggregation (independent of the accounting engine), the carbon contents from the account's lot-weighted
monthly means, rounded as a ledger or a lab summary would be and in the plan's units (carbon content in %, the
gas's in kg/Nm3).
Two things are done on purpose: March's boiler coal is deposited 2 % low, and December is not deposited at all.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.deposits import month_end
from carbonmet.services import (
    Scope,
    Workspace,
    account_enterprise,
    deposit_check,
    deposit_month,
    deposit_proof,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    list_deposits,
    readings_summary,
    show_plan,
    verify_audit_log,
)

YEAR = 2025
E = "E01"
TZ = ZoneInfo("Asia/Shanghai")
LOW = ("boiler_coal", "activity_data", "2025-03")  # deposited 2 % low
LATE = "2025-07"  # deposited after its deadline
NOT_DEPOSITED = "2025-12"


def _figures(ws: Workspace, acc: dict[str, Any]) -> dict[str, list[tuple[str, str, float, str, str]]]:
    """Per month: (stream, parameter, value, unit, evidence kind) as the enterprise deposits them.

    Amounts come from the metering store's monthly aggregation of every metered activity-data point of the plan
    (what a ledger of the meters says, independent of the accounting engine); carbon contents from the account's
    lot-weighted monthly means (in % or kg/Nm3, the plan's units).
    """
    out: dict[str, list[tuple[str, str, float, str, str]]] = {}
    z = ZoneInfo(ws.time_zone)
    for r in show_plan(ws, Scope.centre(), E).parameters:
        if r.parameter == "activity_data" and r.source == "point":
            for a in readings_summary(ws, Scope.centre(), r.ref, datetime(YEAR, 1, 1, tzinfo=z),
                                      datetime(YEAR + 1, 1, 1, tzinfo=z), "month"):
                out.setdefault(a.period_start.strftime("%Y-%m"), []).append(
                    (r.source_stream, "activity_data", round(a.value_measured + a.value_substituted, 3), a.unit,
                     "meter_record"))

    def carbon(stream: str, periods: list[dict[str, Any]], scale: float, unit: str, nd: int) -> None:
        for p in periods:
            if p["value"] is not None:
                out[p["period"]].append((stream, "carbon_content", round(p["value"] * scale, nd), unit, "lab_report"))

    for s in acc["streams"]:
        act, fac = s["activity"], s["factor"]
        for name, it in (act.get("items") or {}).items():
            carbon(name, it["carbon_periods"], 100.0, "%", 5)
        if fac.get("carbon_unit") == "1":
            carbon(s["name"], fac["carbon_content_periods"], 100.0, "%", 5)
        elif fac.get("carbon_unit") == "t/Nm3":
            carbon(s["name"], fac["carbon_content_periods"], 1000.0, "kg/Nm3", 7)
    return out


def _write(d: Path, month: str, rows: list[tuple[str, str, float, str, str]]) -> Path:
    """``<E>-<YYYY-MM>.csv`` with a ledger and a lab summary (tiny text files) as its evidence."""
    d.mkdir(parents=True, exist_ok=True)
    ledger, lab = d / f"ledger-{month}.txt", d / f"lab-{month}.txt"
    ledger.write_text("".join(f"{s} {v} {u}\n" for s, p, v, u, _ in rows if p == "activity_data"), encoding="utf-8")
    lab.write_text("".join(f"{s} {p} {v} {u}\n" for s, p, v, u, _ in rows if p != "activity_data"), encoding="utf-8")
    path = d / f"{E}-{month}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["source_stream", "parameter", "value", "unit", "evidence", "evidence_kind", "note"])
        for s, p, v, u, kind in rows:
            w.writerow([s, p, v, u, (ledger if p == "activity_data" else lab).name, kind, ""])
    return path


@dataclass
class Region:
    root: Path
    ws: Workspace
    url: str
    account: dict[str, Any]
    files: dict[str, Path]


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    root = tmp_path_factory.mktemp("deposits-region")
    reg = root / "region"
    url = f"sqlite:///{root / 'r.db'}"
    with Workspace(url, store_root=reg, home=root / "home") as ws:
        generate_region(ws, Scope.nobody(), reg, enterprises=1, year=YEAR, seed=7, resolution="hour")
        centre = Scope.centre()
        import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(ws, centre, f)
        import_lab(ws, centre, [reg / "lab" / "lab.csv"])
        acc = account_enterprise(ws, centre, E, YEAR, method="lpu").to_dict()
        files: dict[str, Path] = {}
        for month, rows in sorted(_figures(ws, acc).items()):
            if month == LOW[2]:
                rows = [(s, p, round(v * 0.98, 3) if (s, p) == LOW[:2] else v, u, k) for s, p, v, u, k in rows]
            files[month] = _write(root / "upload" / month, month, rows)
        for month, f in files.items():
            if month == NOT_DEPOSITED:
                continue
            due = month_end(month) + timedelta(days=25 if month == LATE else 10)
            deposit_month(ws, Scope.enterprise(E), E, month, f, now=datetime(due.year, due.month, due.day, 9,
                                                                               tzinfo=TZ))
        yield Region(root, ws, url, acc, files)


def test_the_account_finds_the_injected_difference_and_the_month_never_deposited(region: Region) -> None:
    chk = deposit_check(region.ws, Scope.enterprise(E), E, YEAR, today=date(2026, 1, 25))
    assert chk.account is not None and chk.account_error is None
    assert chk.account["value"] == pytest.approx(region.account["total"]["value"])
    compared = [d for d in chk.findings if d.kind == "compared"]
    assert [(d.source_stream, d.parameter, d.month) for d in compared] == [LOW]
    assert compared[0].relative == pytest.approx(-0.02, abs=1e-6) and compared[0].exceeds
    missing = {d.month for d in chk.findings if d.kind == "not_deposited"}
    assert missing == {NOT_DEPOSITED}
    # every other month: the deposits agree with the account within the rounding of the deposited figures
    clean = [d for d in chk.differences if d.kind == "compared" and (d.source_stream, d.parameter, d.month) != LOW]
    assert len(clean) > 11 * 8 and max(abs(d.relative or 0.0) for d in clean) < 1e-4
    # carbon content deposited in % is compared with the account's mass fraction
    coal_c = next(d for d in clean if (d.source_stream, d.parameter, d.month) == ("boiler_coal", "carbon_content",
                                                                                  "2025-01"))
    assert coal_c.deposited_unit == "%" and coal_c.unit == "1" and 0.3 < coal_c.deposit_value < 0.9  # type: ignore[operator]


def test_status_shows_on_time_late_and_missing_months(region: Region) -> None:
    chk = deposit_check(region.ws, Scope.centre(), E, YEAR, today=date(2026, 1, 25), account=region.account)
    assert {(d.source_stream, d.parameter, d.month) for d in chk.findings if d.kind == "compared"} == {LOW}
    by_month: dict[str, set[str]] = {}
    for r in chk.status:
        by_month.setdefault(r.month, set()).add(r.status)
    assert by_month[LATE] <= {"late", "missing"} and "late" in by_month[LATE]
    assert "missing" in by_month[NOT_DEPOSITED] and by_month[NOT_DEPOSITED] == {"missing"}
    assert "on_time" in by_month["2025-01"]
    # what the plan asks monthly and nobody deposited here (NCV of the lots) is missing every month
    ncv = {r.status for r in chk.status if (r.source_stream, r.parameter) == ("boiler_coal", "ncv")}
    assert ncv == {"missing"}
    # amounts the account does not carry (ash, flare gas) are deposited but not compared
    assert {(d.source_stream, d.kind) for d in chk.differences if d.source_stream in ("boiler_ash", "flare")} == {
        ("boiler_ash", "not_in_account"), ("flare", "not_in_account")}
    early = deposit_check(region.ws, Scope.centre(), E, YEAR, today=date(2026, 1, 10), account=region.account)
    assert {r.status for r in early.status if r.month == NOT_DEPOSITED} == {"not_due"}


def test_the_proof_rehashes_and_the_audit_log_reconciles(region: Region) -> None:
    deposits = list_deposits(region.ws, Scope.enterprise(E), E, YEAR)
    proof = deposit_proof(region.ws, Scope.enterprise(E), E, YEAR)
    assert proof.ok and len(proof.entries) == len(deposits) > 100
    assert all(e.rehash_ok and e.logged_ok and all(x.rehash_ok for x in e.evidence) for e in proof.entries)
    assert verify_audit_log(region.ws, Scope.centre())["ok"]


def _cli(region: Region, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, [*args, "--db", region.url])
    return r.exit_code, r.output


def test_cli_add_refuses_a_bad_file_with_exit_2_and_corrects_with_a_reason(region: Region,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONMET_HOME", str(region.root / "home"))
    src = region.files[LOW[2]]
    text = src.read_text(encoding="utf-8")
    bad = src.with_name("bad.csv")
    bad.write_text(text.replace("boiler_coal,activity_data,", "boiler_coal,activity_dat,"), encoding="utf-8")
    code, out = _cli(region, "deposit", "add", E, LOW[2], str(bad), "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    row = 1 + next(i for i, ln in enumerate(text.splitlines()) if ln.startswith("boiler_coal,activity_data,"))
    assert [(p["row"], p["field"]) for p in problems] == [(row, "parameter")] and problems[0]["file"] == str(bad)
    # the correction: the true figure, with a reason
    true = next(v for s, p, v, _, _ in _figures(region.ws, region.account)[LOW[2]] if (s, p) == LOW[:2])
    lines = text.splitlines()
    header = lines[0] + ",reason"
    rows = [ln + "," for ln in lines[1:]]
    rows = [f"boiler_coal,activity_data,{true},t,{ln.split(',')[4]},ledger,,皮带秤台账更正 ledger corrected"
            if ln.startswith("boiler_coal,activity_data,") else ln for ln in rows]
    fixed = src.with_name("fixed.csv")
    fixed.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    code, out = _cli(region, "deposit", "add", E, LOW[2], str(fixed), "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert [d["key"] for d in doc["stored"]] == [f"{E}/{LOW[2]}/boiler_coal/activity_data/v2"]
    assert doc["stored"][0]["status"] == "late"  # a correction made today, long after the deadline
    code, out = _cli(region, "deposit", "list", E, "--year", str(YEAR), "--json")
    versions = [(d["version"], d["value"]) for d in json.loads(out) if (d["source_stream"], d["parameter"],
                                                                        d["month"]) == LOW]
    assert code == 0 and versions == [(1, pytest.approx(true * 0.98, abs=1e-3)), (2, true)]
    # the account (as saved by `carbonmet account --json`) now agrees with the deposits in March
    saved = region.root / "account.json"
    saved.write_text(json.dumps(region.account), encoding="utf-8")
    args = ("deposit", "check", E, "--year", str(YEAR), "--account", str(saved), "--today", "2026-01-25")
    code, out = _cli(region, *args, "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert [d for d in doc["differences"] if d["finding"] and d["kind"] == "compared"] == []
    missing = [d for d in doc["differences"] if d["finding"]]
    assert {d["month"] for d in missing} == {NOT_DEPOSITED} and doc["findings"] == len(missing)
    assert doc["rules"]["enterprise_days"] == {"value": 20, "evidence": "V", "source": pytest.approx(
        doc["rules"]["enterprise_days"]["source"]), "reason": ""}
    code, out = _cli(region, *args)
    assert code == 0 and "存证状态 deposit status" in out and f"差异 findings: {len(missing)}" in out
    code, out = _cli(region, "deposit", "proof", E, "--year", str(YEAR))
    assert code == 0 and "chain: ok" in out
