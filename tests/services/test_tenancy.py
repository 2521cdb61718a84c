"""Tenancy: every public use case, called by E01 and by E02, reads and writes nothing of the other.

``CHECKS`` holds one check per use case; :func:`test_every_use_case_has_a_tenancy_check` fails when a
function is added to ``carbonmet.services.__all__`` without a check here, so no unscoped use case can
be added unnoticed. Read checks use one shared region per database (SQLite and PostgreSQL); write
checks get a region of their own.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import math
import statistics
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from carbonmet import services
from carbonmet.db import AuditEntry, generate_key
from carbonmet.metering import RawReading
from carbonmet.metering.hj212 import Message, build, decode, encode
from carbonmet.metering.mqtt import MqttListener, ingest_messages, reading_payload
from carbonmet.quantities import CO2_PER_C
from carbonmet.registry import verify_logger_password
from carbonmet.registry.models import Certificate
from carbonmet.services import (
    OUT_OF_SCOPE,
    USE_CASES,
    AccessDenied,
    CarbonmetError,
    NotInScope,
    Scope,
    ServiceError,
    Workspace,
)
from carbonmet.sites import PlanError

from .conftest import ENTERPRISES, write_registry

TZ = ZoneInfo("Asia/Shanghai")
JAN = (datetime(2025, 1, 1, tzinfo=TZ), datetime(2025, 2, 1, tzinfo=TZ))
DCC = Path(__file__).parents[1] / "data" / "dcc" / "gas_flow_meter_v3.3.0.xml"
RATA_EXAMPLE = Path(__file__).parents[2] / "examples" / "rata-E05-STACK3-flow.csv"
MODEL = """
[model]
output = "E"
expression = "AD * EF"
unit = "t"

[inputs.AD]
distribution = "rectangular"
value = 1000.0
mpe = 5.0
unit = "t"

[inputs.EF]
distribution = "normal"
value = 2.0
U = 0.04
k = 2
"""


def _other(org: str) -> str:
    return next(e for e in ENTERPRISES if e != org)


def _audit_head(ws: Workspace) -> int:
    with ws.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


# --- read checks: own data is there, nothing of the other enterprise or of C01 is ------------------
def check_list_organisations(ws: Workspace, me: str, other: str) -> None:
    assert [o["org_code"] for o in services.list_organisations(ws, Scope.enterprise(me))] == [me]


def check_list_sites(ws: Workspace, me: str, other: str) -> None:
    assert {s["org_code"] for s in services.list_sites(ws, Scope.enterprise(me))} == {me}


def check_list_points(ws: Workspace, me: str, other: str) -> None:
    assert [p["point_id"] for p in services.list_points(ws, Scope.enterprise(me))] == [f"{me}.COAL"]


def check_list_instruments(ws: Workspace, me: str, other: str) -> None:
    rows = services.list_instruments(ws, Scope.enterprise(me))
    assert [(r["instrument_id"], r["org_code"], r["point_id"]) for r in rows] == [(f"BS-{me}", me, f"{me}.COAL")]


def check_get_instrument(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    assert services.get_instrument(ws, scope, f"S-{me}")["instrument_id"] == f"BS-{me}"
    for ref in (f"BS-{other}", f"S-{other}", "NO-SUCH"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.get_instrument(ws, scope, ref)


def check_list_certificates(ws: Workspace, me: str, other: str) -> None:
    certs = services.list_certificates(ws, Scope.enterprise(me))
    assert [(c["cert_no"], c["owner_org"]) for c in certs] == [(f"C01-{me}-2024", me)]  # not C01's own


def check_get_certificate(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    assert services.get_certificate(ws, scope, f"C01-{me}-2024")["subject"] == f"BS-{me}"
    for no in (f"C01-{other}-2024", "C01-STD-2023"):
        with pytest.raises(NotInScope):
            services.get_certificate(ws, scope, no)


def check_due_items(ws: Workspace, me: str, other: str) -> None:
    items = services.due_items(ws, Scope.enterprise(me), date(2025, 1, 10), 30)
    assert [(i.instrument, i.org, i.status) for i in items] == [(f"BS-{me}", me, "due")]
    both = services.due_items(ws, Scope.of([me, other]), date(2025, 1, 10), 30)
    assert {i.org for i in both} == {me, other}  # a two-organisation scope sees both, not one


def check_point_coverage(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    cov = services.point_coverage(ws, scope, f"{me}.COAL", date(2025, 1, 1), date(2025, 2, 1))
    assert cov.certificates == [f"C01-{me}-2024"] and [g.start for g in cov.gaps] == [date(2025, 1, 21)]
    with pytest.raises(NotInScope):
        services.point_coverage(ws, scope, f"{other}.COAL", date(2025, 1, 1), date(2025, 2, 1))


def check_trace_standard(ws: Workspace, me: str, other: str) -> None:
    r = services.trace_standard(ws, Scope.enterprise(me), "WRK-MASS", date(2023, 12, 1), date(2024, 2, 1))
    assert [c.cert_no for c in r.certificates] == [f"C01-{me}-2024"]
    assert [i.subject for i in r.instruments] == [f"BS-{me}"]
    assert [p.point for p in r.data_periods] == [f"{me}.COAL"]
    full = services.trace_standard(ws, Scope.centre(), "WRK-MASS", date(2023, 12, 1), date(2024, 2, 1))
    assert {p.point for p in full.data_periods} == {f"{e}.COAL" for e in ENTERPRISES}


def check_point_catalog(ws: Workspace, me: str, other: str) -> None:
    cat = services.point_catalog(ws, Scope.enterprise(me))
    assert list(cat) == [f"{me}.COAL"] and {p.enterprise for p in cat.values()} == {me}
    assert not cat.knows_serial(f"S-{other}")


def check_readings_summary(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    rows = services.readings_summary(ws, scope, f"{me}.COAL", *JAN)
    assert [(r.point_id, r.value_measured) for r in rows] == [(f"{me}.COAL", pytest.approx(744 * 100.0))]
    with pytest.raises(NotInScope):
        services.readings_summary(ws, scope, f"{other}.COAL", *JAN)


def check_monthly_point_totals(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    t = services.monthly_point_totals(ws, scope, 2025)
    assert set(t.column("point_id").to_pylist()) == {f"{me}.COAL"} and t.num_rows == 12
    assert t.column("value_measured")[0].as_py() == pytest.approx(744 * 100.0)
    with pytest.raises(NotInScope):
        services.monthly_point_totals(ws, scope, 2025, points=[f"{other}.COAL"])


def check_point_activity(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    act = services.point_activity(ws, scope, f"{me}.COAL", *JAN)
    assert act.total.value == pytest.approx(74400.0) and act.total.provenance.instruments == (f"BS-{me}",)
    with pytest.raises(NotInScope):
        services.point_activity(ws, scope, f"{other}.COAL", *JAN)


def check_point_readings(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    assert services.point_readings(ws, scope, f"{me}.COAL").num_rows == 31 * 24 + 1
    with pytest.raises(NotInScope):
        services.point_readings(ws, scope, f"{other}.COAL")


def check_list_quarantine(ws: Workspace, me: str, other: str) -> None:
    rows = services.list_quarantine(ws, Scope.enterprise(me))
    assert [(r["point_id"], r["reason"]) for r in rows] == [(f"{me}.COAL", "invalid_flag")]
    assert services.list_quarantine(ws, Scope.enterprise(me), reason="unknown_point") == []
    assert {r["point_id"] for r in services.list_quarantine(ws, Scope.centre())} == {f"{e}.COAL" for e in ENTERPRISES}


def check_evaluate_model(ws: Workspace, me: str, other: str) -> None:
    # reads no organisation's records: the result is the same for every scope
    path = ws.store_root.parent / f"model-{me}.toml"  # type: ignore[union-attr]
    path.write_text(MODEL, encoding="utf-8")
    ev = services.evaluate_model(ws, Scope.enterprise(me), path, "lpu")
    ref = services.evaluate_model(ws, Scope.centre(), path, "lpu")
    assert ev.lpu is not None and ref.lpu is not None
    assert (ev.lpu.value, ev.lpu.u) == (ref.lpu.value, ref.lpu.u) == (pytest.approx(2000.0), ref.lpu.u)


def check_verify_audit_log(ws: Workspace, me: str, other: str) -> None:
    with pytest.raises(AccessDenied, match="only the centre"):
        services.verify_audit_log(ws, Scope.enterprise(me))
    assert services.verify_audit_log(ws, Scope.centre())["ok"] is True


@functools.cache
def _audit_key() -> Path:
    """The operator's key of the shared regions (one key per audit log)."""
    key = Path(tempfile.mkdtemp()) / "audit.pem"
    generate_key(key)
    return key


def check_sign_audit_head(ws: Workspace, me: str, other: str) -> None:
    with pytest.raises(AccessDenied, match="only the centre"):
        services.sign_audit_head(ws, Scope.enterprise(me))
    key = _audit_key()
    signer = Workspace(engine=ws.engine, audit_key=key)
    assert services.sign_audit_head(signer, Scope.centre())["seq"] > 0


def check_export_audit_head(ws: Workspace, me: str, other: str) -> None:
    tmp = Path(tempfile.mkdtemp())
    key = _audit_key()
    signer = Workspace(engine=ws.engine, audit_key=key)
    services.sign_audit_head(signer, Scope.centre())
    with pytest.raises(AccessDenied, match="only the centre"):
        services.export_audit_head(signer, Scope.enterprise(me), tmp / "head.json")
    assert not (tmp / "head.json").exists()
    doc = services.export_audit_head(signer, Scope.centre(), tmp / "head.json")
    assert services.verify_audit_log(ws, Scope.centre(), signed_head=tmp / "head.json")["ok"] is True
    assert doc["seq"] > 0


def check_instrument_quantity(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    q = services.instrument_quantity(ws, scope, f"S-{me}", date(2025, 1, 10), value=1000.0, unit="t")
    assert q.u == pytest.approx(1000.0 * 0.005 / math.sqrt(3))  # verified, MPE 0.5 % → rectangular
    assert (q.provenance.instruments, q.provenance.certificates) == ((f"BS-{me}",), (f"C01-{me}-2024",))
    expired = services.instrument_quantity(ws, scope, f"BS-{me}", date(2025, 2, 1))
    assert math.isnan(expired.u) and "expired" in expired.provenance.note
    for ref in (f"BS-{other}", f"S-{other}", "NO-SUCH"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.instrument_quantity(ws, scope, ref, date(2025, 1, 10))


def check_type_a_quantity(ws: Workspace, me: str, other: str) -> None:
    # works on the caller's numbers: the same result for every scope
    values = [67.0, 66.5, 67.4, 66.9]
    q = services.type_a_quantity(ws, Scope.enterprise(me), values, "%", name="C", instruments=[f"BS-{me}"])
    ref = services.type_a_quantity(ws, Scope.nobody(), values, "%", name="C", instruments=[f"BS-{me}"])
    assert q == ref and q.dof == 3 and q.u == pytest.approx(statistics.stdev(values) / 2)


def check_evaluate_quantities(ws: Workspace, me: str, other: str) -> None:
    # the caller's own quantities (here: its own instrument's certificate): same result for every scope
    fc = services.instrument_quantity(ws, Scope.enterprise(me), f"BS-{me}", date(2025, 1, 10), value=1000.0,
                                      unit="t")
    cc = services.type_a_quantity(ws, Scope.enterprise(me), [0.60, 0.62, 0.61], "tC/t")
    args = ("FC * C * CO2_PER_C", {"FC": fc, "C": cc})
    ev = services.evaluate_quantities(ws, Scope.enterprise(me), *args, output="E", unit="tCO2", method="lpu")
    ref = services.evaluate_quantities(ws, Scope.nobody(), *args, output="E", unit="tCO2", method="lpu")
    assert ev.lpu is not None and ref.lpu is not None and ev.lpu.value == ref.lpu.value
    assert ev.lpu.value == pytest.approx(1000.0 * 0.61 * CO2_PER_C)
    assert ev.lpu.budget[0].provenance is not None and ev.lpu.budget[0].provenance.certificates == (f"C01-{me}-2024",)


_REGIONS: dict[str, str] = {}


def check_generate_region(ws: Workspace, me: str, other: str) -> None:
    # writes files only: nothing in the workspace changes, and every scope gets the same region
    head = _audit_head(ws)
    out = ws.store_root.parent / f"refregion-{me}"  # type: ignore[union-attr]
    m = services.generate_region(ws, Scope.enterprise(me), out, enterprises=1, seed=3)
    assert m.enterprises == 1 and any((out / "registry").glob("*.csv")) and _audit_head(ws) == head
    manifest = (out / "manifest.json").read_text(encoding="utf-8").replace(str(out), "<out>")
    assert _REGIONS.setdefault("seed3", manifest) == manifest
def check_registry_table(ws: Workspace, me: str, other: str) -> None:
    with pytest.raises(AccessDenied, match="only the centre"):
        services.registry_table(ws, Scope.enterprise(me), "instruments")
    cols, rows = services.registry_table(ws, Scope.centre(), "instruments")
    assert {r[cols.index("org_code")] for r in rows} == set(ENTERPRISES)


def check_export_registry(ws: Workspace, me: str, other: str) -> None:
    out = ws.store_root.parent / f"registry-{me}.xlsx"  # type: ignore[union-attr]
    with pytest.raises(AccessDenied, match="only the centre"):
        services.export_registry(ws, Scope.enterprise(me), out)
    assert not out.exists()
    assert services.export_registry(ws, Scope.centre(), out)["instruments"] == 2 and out.exists()


def check_export_dcc_certificate(ws: Workspace, me: str, other: str) -> None:
    scope = Scope.enterprise(me)
    # the own certificate passes the scope and reaches the exporter, which exports calibrations only
    with pytest.raises(CarbonmetError, match="verification") as own:
        services.export_dcc_certificate(ws, scope, f"C01-{me}-2024")
    assert not isinstance(own.value, NotInScope)
    for no in (f"C01-{other}-2024", "C01-STD-2023", "NO-SUCH"):
        with pytest.raises(NotInScope):
            services.export_dcc_certificate(ws, scope, no)


def check_compact_store(ws: Workspace, me: str, other: str) -> None:
    with pytest.raises(AccessDenied, match="only the centre"):
        services.compact_store(ws, Scope.enterprise(me))
    before = services.point_readings(ws, Scope.centre(), f"{me}.COAL").num_rows
    assert services.compact_store(ws, Scope.centre(), min_files=1) >= 0
    assert services.point_readings(ws, Scope.centre(), f"{me}.COAL").num_rows == before  # nothing changed


def check_convert_units(ws: Workspace, me: str, other: str) -> None:
    # touches no organisation's data: the same for every scope
    assert services.convert_units(ws, Scope.enterprise(me), 1.2, "万Nm3", "Nm3")[0] == pytest.approx(12000.0)
    assert services.convert_units(ws, Scope.nobody(), 1.0, "t", "kg")[0] == pytest.approx(1000.0)


def _factor_file(enterprises: tuple[str, ...] = tuple(ENTERPRISES)) -> Path:
    """A factor file with one measured electricity factor per enterprise (owner set) and one shared factor."""
    d = Path(tempfile.mkdtemp(prefix="factors-"))
    lines = ["product,region,year,gas,value,unit,flow_unit,basis,source,evidence,distribution,u,owner"]
    for i, e in enumerate(sorted(enterprises)):
        lines.append(f"electricity,{e},2022,CO2,{0.60 + 0.01 * i},tCO2/MWh,MWh,measured,captive plant meters,D,"
                     f"normal,0.02,{e}")
    lines.append("electricity,tenancy_shared,2022,CO2,0.55,tCO2/MWh,MWh,literature,a shared test row,A,normal,0.03,")
    f = d / "factors.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


def check_import_factors(ws: Workspace, me: str, other: str) -> None:
    f = _factor_file()
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match="only the centre"):
        services.import_factors(ws, Scope.enterprise(me), [f])
    assert _audit_head(ws) == head  # nothing read or kept
    rep = services.import_factors(ws, Scope.centre(), [f])
    assert len(rep[0].stored) + len(rep[0].unchanged) == len(ENTERPRISES) + 1
    again = services.import_factors(ws, Scope.centre(), [f])
    assert again[0].stored == []  # identical content: no new version


def check_list_factors(ws: Workspace, me: str, other: str) -> None:
    services.import_factors(ws, Scope.centre(), [_factor_file()])
    for scope in (Scope.enterprise(me), Scope.nobody()):
        rows = services.list_factors(ws, scope, product="electricity")
        assert rows and all(r.owner is None for r in rows)  # no enterprise's own measured factor, not even mine
        assert {me, other}.isdisjoint({r.region for r in rows})


def check_show_factor(ws: Workspace, me: str, other: str) -> None:
    services.import_factors(ws, Scope.centre(), [_factor_file()])
    scope = Scope.enterprise(me)
    assert services.show_factor(ws, scope, "electricity/-/tenancy_shared/2022/CO2/-")["value"] == 0.55
    for who in (me, other):
        with pytest.raises(CarbonmetError, match="no emission factor"):
            services.show_factor(ws, scope, f"electricity/-/{who}/2022/CO2/-")


def check_compare_factors(ws: Workspace, me: str, other: str) -> None:
    services.import_factors(ws, Scope.centre(), [_factor_file()])
    scope = Scope.enterprise(me)
    regions = ["north_china", "northwest", "east_china"]
    cmp = services.compare_factors(ws, scope, "electricity", regions, measured_owner=me, technology="statistical")
    assert cmp.measured is not None and cmp.measured.owner == me and len(cmp.versus_measured) == 3
    for who in (other, "NO-SUCH"):
        with pytest.raises(NotInScope):
            services.compare_factors(ws, scope, "electricity", regions, measured_owner=who, technology="statistical")


# --- write checks: the other enterprise's data is refused, naming it, and nothing is kept ----------
def check_import_registry(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    mine = tmp / "instruments-mine.csv"
    mine.write_text("serial,instrument_id,org_code,type\n"
                    f"N-{me},NEW-{me},{me},gas_flow_meter\n", encoding="utf-8")
    mixed = tmp / "instruments-mixed.csv"  # one own row and one of the other enterprise
    mixed.write_text("serial,instrument_id,org_code,type,status\n"
                     f"M-{me},MIX-{me},{me},gas_flow_meter,in_service\n"
                     f"S-{other},BS-{other},{other},belt_scale,spare\n", encoding="utf-8")
    steal = tmp / "instruments-steal.csv"  # moving the other's instrument into my organisation
    steal.write_text(f"serial,instrument_id,org_code,type\nS-{other},BS-{other},{me},belt_scale\n", encoding="utf-8")
    orgs = tmp / "organisations.csv"
    orgs.write_text(f"org_code,name,kind\n{other},改名,enterprise\n", encoding="utf-8")
    for f in (mixed, steal, orgs):
        head = _audit_head(ws)
        with pytest.raises(AccessDenied, match=f"organisation {other}"):
            services.import_registry(ws, scope, [mine, f])
        assert _audit_head(ws) == head  # nothing of either file was kept
    assert [i["instrument_id"] for i in services.list_instruments(ws, Scope.enterprise(other))] == [f"BS-{other}"]
    assert services.get_instrument(ws, Scope.enterprise(other), f"BS-{other}")["status"] == "in_service"
    reports = services.import_registry(ws, scope, [mine])
    assert reports[0].rows == 1
    assert services.get_instrument(ws, Scope.centre(), f"NEW-{me}")["org_code"] == me


def check_import_dcc_certificate(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    xml = DCC.read_bytes()
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match=f"organisation {other}"):
        services.import_dcc_certificate(ws, scope, xml, instrument=f"BS-{other}", issuer="C01")
    assert _audit_head(ws) == head
    out = services.import_dcc_certificate(ws, scope, xml, instrument=f"BS-{me}", issuer="C01")
    assert out["instrument"] == f"BS-{me}" and out["results"] > 0
    assert out["signature"]["status"] == "unsigned" and out["not_read"] == []
    # the same certificate number cannot be taken over by the other enterprise either
    with pytest.raises(AccessDenied, match=f"organisation {me}"):
        services.import_dcc_certificate(ws, Scope.enterprise(other), xml, instrument=f"BS-{other}", issuer="C01")
    with ws.session() as s:
        owner = s.scalar(select(Certificate).where(Certificate.cert_no == out["cert_no"]))
        assert owner is not None and owner.instrument is not None and owner.instrument.code == f"BS-{me}"


def check_recheck_dcc_signatures(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    xml = DCC.read_bytes()
    services.import_dcc_certificate(ws, Scope.enterprise(other), xml, instrument=f"BS-{other}", issuer="C01")
    head = _audit_head(ws)
    # the other's DCC is neither re-checked nor reported; nothing of mine to re-check yet
    assert services.recheck_dcc_signatures(ws, Scope.enterprise(me)) == []
    assert _audit_head(ws) == head
    with ws.session() as s:  # as if imported before signatures were checked: the re-check fills the status in
        c = s.scalar(select(Certificate).where(Certificate.cert_no == "LLJZ2025-03-0117"))
        assert c is not None
        c.signature_status = None
    rows = services.recheck_dcc_signatures(ws, Scope.enterprise(other))
    assert [(r["cert_no"], r["before"], r["status"]) for r in rows] == [("LLJZ2025-03-0117", None, "unsigned")]
    assert services.recheck_dcc_signatures(ws, Scope.nobody()) == []


def check_move_certificate(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    spare = tmp / "instruments.csv"  # a second instrument of each enterprise to move a certificate to
    spare.write_text("serial,instrument_id,org_code,type,unit,mpe_rel,legal_category,status\n"
                     + "".join(f"S2-{e},BS2-{e},{e},belt_scale,t/h,0.5,non_mandatory,spare\n" for e in ENTERPRISES),
                     encoding="utf-8")
    services.import_registry(ws, Scope.centre(), [spare])
    head = _audit_head(ws)
    # the other's certificate, or the own one to the other's instrument: neither is visible, nothing is written
    with pytest.raises(NotInScope):
        services.move_certificate(ws, scope, f"C01-{other}-2024", f"BS2-{other}", "wrong meter")
    with pytest.raises(NotInScope):
        services.move_certificate(ws, scope, f"C01-{me}-2024", f"BS2-{other}", "wrong meter")
    with pytest.raises(NotInScope):  # a standard's certificate belongs to the institute, not to me
        services.move_certificate(ws, scope, "C01-STD-2023", f"BS2-{me}", "wrong meter")
    assert _audit_head(ws) == head
    out = services.move_certificate(ws, scope, f"C01-{me}-2024", f"BS2-{me}", "登记错器具 wrong meter")
    assert out == {"cert_no": f"C01-{me}-2024", "from": f"BS-{me}", "to": f"BS2-{me}",
                   "reason": "登记错器具 wrong meter"}
    assert _audit_head(ws) == head + 1
    with ws.session() as s:
        owners = dict(s.execute(select(Certificate.cert_no, Certificate.instrument_id)).all())
        assert owners[f"C01-{other}-2024"] is not None
    assert services.get_certificate(ws, Scope.enterprise(other), f"C01-{other}-2024")["subject"] == f"BS-{other}"


def _feb(day: int) -> str:
    """``ts,value`` of a February reading continuing January's 100 t/h totaliser."""
    return f"2025-02-{day:02d}T00:00:00+08:00,{75400 + 2400 * (day - 1)}"


def check_ingest_files(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    feb = (datetime(2025, 2, 1, tzinfo=TZ), datetime(2025, 3, 1, tzinfo=TZ))
    f = tmp / "feb.csv"
    lines = ["point_id,serial,ts,value"]
    for e in ENTERPRISES:  # by point id and by instrument serial, continuing January's totaliser
        lines += [f"{e}.COAL,,{_feb(d)}" for d in range(2, 12)]
        lines += [f",S-{e},{_feb(d)}" for d in range(12, 17)]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    centre = Scope.centre()
    before = {e: services.point_readings(ws, centre, f"{e}.COAL", *feb).num_rows for e in ENTERPRISES}
    total, per_file = services.ingest_files(ws, scope, [f])
    assert (total.received, total.stored, total.quarantined, total.duplicates) == (30, 15, 15, 0), total.by_reason
    assert total.by_reason == {OUT_OF_SCOPE: 15}
    assert per_file[0].received == per_file[0].stored + per_file[0].quarantined + per_file[0].duplicates
    assert services.point_readings(ws, centre, f"{me}.COAL", *feb).num_rows == before[me] + 15
    assert services.point_readings(ws, centre, f"{other}.COAL", *feb).num_rows == before[other]  # nothing written
    # refused rows name the organisation, and only the centre sees them
    refused = [r for r in services.list_quarantine(ws, centre) if r["reason"] == OUT_OF_SCOPE]
    assert len(refused) == 15 and all(f"organisation {other}" in r["detail"] for r in refused)
    for e in ENTERPRISES:
        assert all(r["reason"] != OUT_OF_SCOPE for r in services.list_quarantine(ws, Scope.enterprise(e)))
    # the other enterprise's own file of the same readings is still stored (a different file, a new batch)
    g = tmp / f"{other}-feb.csv"
    g.write_text("point_id,ts,value\n" + "".join(f"{other}.COAL,{_feb(d)}\n" for d in range(2, 17)), encoding="utf-8")
    t2, _ = services.ingest_files(ws, Scope.enterprise(other), [g])
    assert t2.quarantined == 0 and t2.stored == t2.received


def check_record_incident(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    # a standard of my own; WRK-MASS is held by the institute C01
    std = tmp / "standards.csv"
    std.write_text(f"standard_code,name,holder_org,level,quantity\nSTD-{me},自有工作标准,{me},working,mass\n",
                   encoding="utf-8")
    services.import_registry(ws, Scope.centre(), [std])
    for scope, standard, org in ((Scope.enterprise(me), "WRK-MASS", "C01"),
                                 (Scope.enterprise(other), f"STD-{me}", me)):
        head = _audit_head(ws)
        with pytest.raises(AccessDenied, match=f"organisation {org}"):
            services.record_incident(ws, scope, standard, date(2024, 1, 1), date(2024, 2, 1), "超差")
        assert _audit_head(ws) == head  # nothing kept
    head = _audit_head(ws)
    inc = services.record_incident(ws, Scope.enterprise(me), f"STD-{me}", date(2024, 1, 1), date(2024, 2, 1), "超差")
    assert inc == {"standard": f"STD-{me}", "last_good": "2024-01-01", "found_on": "2024-02-01",
                   "description": "超差"}
    assert _audit_head(ws) == head + 1


# --- monitoring plans (监测计划): each enterprise's plan is its own ----------------------------------
def _plan_text(org: str, version: int = 1, frequency: str = "continuous") -> str:
    changes = "".join(f'[[changes]]\nversion = {v}\nchanged_on = 2025-0{v}-01\nby = "{org}"\nreason = "r{v}"\n\n'
                      for v in range(1, version + 1))
    return (f'[plan]\nenterprise = "{org}"\nversion = {version}\nvalid_from = 2025-01-01\n\n{changes}'
            f'[[parameters]]\nsite_code = "{org}-S1"\nemission_source = "boiler"\nsource_stream = "boiler_coal"\n'
            f'parameter = "activity_data"\nunit = "t"\nsource = "point"\nref = "{org}.COAL"\n'
            f'frequency = "{frequency}"\ninstruments = ["BS-{org}"]\nresponsible = "计量室"\n')


def _plans(ws: Workspace) -> None:
    """Versions 1 and 2 of each enterprise's plan, stored once per region (the read checks share it)."""
    if services.list_plans(ws, Scope.centre()):
        return
    d = ws.store_root.parent  # type: ignore[union-attr]
    for org in ENTERPRISES:
        for v, freq in ((1, "continuous"), (2, "daily")):
            f = d / f"plan-{org}-v{v}.toml"
            f.write_text(_plan_text(org, v, freq), encoding="utf-8")
            services.import_plan(ws, Scope.centre(), f)


def check_list_plans(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)
    assert [(v.enterprise, v.version) for v in services.list_plans(ws, Scope.enterprise(me))] == [(me, 1), (me, 2)]
    with pytest.raises(NotInScope):
        services.list_plans(ws, Scope.enterprise(me), other)


def check_show_plan(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)
    plan = services.show_plan(ws, Scope.enterprise(me), me, 1)
    assert (plan.enterprise, plan.version, [r.ref for r in plan.parameters]) == (me, 1, [f"{me}.COAL"])
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.show_plan(ws, Scope.enterprise(me), org)


def check_diff_plans(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)
    d = services.diff_plans(ws, Scope.enterprise(me), me)
    assert [(r["change"], r["field"], r["old"], r["new"]) for r in d.rows() if r["change"] != "header"] == [
        ("changed", "frequency", "continuous", "daily")]
    with pytest.raises(NotInScope):
        services.diff_plans(ws, Scope.enterprise(me), other)


def check_import_plan(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    theirs = tmp / f"{other}.toml"
    theirs.write_text(_plan_text(other), encoding="utf-8")
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match=f"organisation {other}"):
        services.import_plan(ws, scope, theirs)
    assert _audit_head(ws) == head and services.list_plans(ws, Scope.centre()) == []
    # my own plan naming the other enterprise's point and instrument is refused, naming row and field
    sneaky = tmp / f"{me}-sneaky.toml"
    sneaky.write_text(_plan_text(me).replace(f'"{me}.COAL"', f'"{other}.COAL"').replace(f'"BS-{me}"', f'"BS-{other}"'),
                      encoding="utf-8")
    with pytest.raises(PlanError) as exc:
        services.import_plan(ws, scope, sneaky)
    assert {(p.row, p.field) for p in exc.value.problems} == {("parameters[1]", "ref"),
                                                               ("parameters[1]", "instruments")}
    assert _audit_head(ws) == head
    mine = tmp / f"{me}.toml"
    mine.write_text(_plan_text(me), encoding="utf-8")
    v = services.import_plan(ws, scope, mine)
    assert (v.enterprise, v.version, v.created) == (me, 1, True)
    assert services.import_plan(ws, scope, mine).created is False  # the same content again: nothing new
    assert [x.enterprise for x in services.list_plans(ws, Scope.centre())] == [me]
# --- laboratory analyses (化验数据): each enterprise's results are its own --------------------------------
def _lab_registry(ws: Workspace, d: Path) -> None:
    """A coal sample point and a calorimeter per enterprise (imported by the centre)."""
    (d / "points.csv").write_text("point_id,site_code,name,quantity,carrier,unit,reading_kind,source_stream\n" + "".join(
        f"{e}.COAL.LAB,{e}-S1,入炉煤采样,ncv,raw_coal,MJ/kg,sample,boiler_coal\n" for e in ENTERPRISES), encoding="utf-8")
    (d / "instruments.csv").write_text("serial,instrument_id,org_code,type,unit,mpe_rel,legal_category,status\n" + "".join(
        f"CAL-S-{e},CAL-{e},{e},calorimeter,MJ/kg,0.2,mandatory,in_service\n" for e in ENTERPRISES), encoding="utf-8")
    services.import_registry(ws, Scope.centre(), [d / "points.csv", d / "instruments.csv"])


def _lab_file(path: Path, *orgs: str, value: float = 22.7, prefix: str = "S") -> Path:
    path.write_text(
        "sample_id,point_id,sampled_from,sampled_to,analyte,value,unit,U,k,lab_org,instrument_id,method,report_no\n"
        + "".join(f"{prefix}-{e},{e}.COAL.LAB,2025-01-05T00:00:00+08:00,2025-01-06T00:00:00+08:00,ncv,{value},MJ/kg,"
                  f"0.12,2,{e},CAL-{e},GB/T 213-2008,R-{prefix}-{e}\n" for e in orgs), encoding="utf-8")
    return path


@functools.cache
def _lab_region() -> Workspace:
    """The region's registry plus a sample point and a calorimeter per enterprise, and one NCV result each, in a
    SQLite database of its own: the shared read region must keep its exact point and instrument lists (other
    checks compare them). The database-level lab tests run on both backends in tests/lab."""
    d = Path(tempfile.mkdtemp())
    ws = Workspace(f"sqlite:///{d / 'lab.db'}")
    services.import_registry(ws, Scope.centre(), write_registry(d / "registry"))
    _lab_registry(ws, d)
    services.import_lab(ws, Scope.centre(), [_lab_file(d / "lab.csv", *ENTERPRISES)])
    return ws


def check_lab_results(ws: Workspace, me: str, other: str) -> None:
    ws = _lab_region()
    rows = services.lab_results(ws, Scope.enterprise(me), me, year=2025)
    assert [(r.sample_id, r.enterprise, r.instrument_id) for r in rows] == [(f"S-{me}", me, f"CAL-{me}")]
    for org in (other, "C01"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.lab_results(ws, Scope.enterprise(me), org)


def check_lab_findings(ws: Workspace, me: str, other: str) -> None:
    ws = _lab_region()
    found = services.lab_findings(ws, Scope.enterprise(me), me, 2025)
    assert found.results == 1 and {f.enterprise for f in found.flags} <= {me}
    assert [(f.kind, f.sample_id) for f in found.flags] == [("no_valid_certificate", f"S-{me}")]  # never calibrated
    with pytest.raises(NotInScope):
        services.lab_findings(ws, Scope.enterprise(me), other, 2025)


def check_import_lab(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    _lab_registry(ws, tmp)
    head = _audit_head(ws)
    # a file with a row of the other enterprise is refused whole, before anything of any file is written
    with pytest.raises(AccessDenied, match=f"organisation {other}"):
        services.import_lab(ws, scope, [_lab_file(tmp / "mine.csv", me), _lab_file(tmp / "both.csv", me, other)])
    assert _audit_head(ws) == head and services.lab_results(ws, Scope.centre(), me) == []
    # the other enterprise's point named as mine: refused naming row and field, kept in my quarantine
    sneaky = tmp / "sneaky.csv"
    sneaky.write_text(_lab_file(tmp / "x.csv", other).read_text(encoding="utf-8").replace(
        ",R-S-", ",R-X-"), encoding="utf-8")
    (f,) = services.import_lab(ws, scope, [sneaky], enterprise=me).files
    assert (f.status, f.enterprises, [(r.row, r.field) for r in f.rejects]) == ("rejected", (me,), [(2, "point_id")])
    assert services.lab_results(ws, Scope.centre(), other) == []
    (mine,) = services.import_lab(ws, scope, [tmp / "mine.csv"]).files
    assert (mine.status, mine.stored, mine.enterprises) == ("stored", 1, (me,))
    assert [r.enterprise for r in services.lab_results(ws, Scope.centre(), me)] == [me]


# --- monthly deposits (月度存证): each enterprise's deposits are its own -------------------------------------
FEB_10 = datetime(2025, 2, 10, 9, tzinfo=TZ)


def _deposit_file(d: Path, org: str) -> Path:
    """January's boiler-coal amount of ``org`` with its ledger as evidence."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "ledger.txt").write_text(f"{org} 2025-01 belt scale ledger: 74400 t\n", encoding="utf-8")
    f = d / f"{org}-2025-01.csv"
    f.write_text("source_stream,parameter,value,unit,evidence,evidence_kind\n"
                 "boiler_coal,activity_data,74400,t,ledger.txt,ledger\n", encoding="utf-8")
    return f


def _with_home(ws: Workspace, home: Path) -> Workspace:
    """The same database and store, with a home for the evidence files."""
    return Workspace(engine=ws.engine, store_root=ws.store_root, home=home)


def _deposits(ws: Workspace) -> None:
    """January deposited by each enterprise, once per region (the read checks share it)."""
    _plans(ws)
    if services.list_deposits(ws, Scope.centre(), ENTERPRISES[0], 2025):
        return
    root = ws.store_root.parent  # type: ignore[union-attr]
    w = _with_home(ws, root / "home")
    for org in ENTERPRISES:
        services.deposit_month(w, Scope.enterprise(org), org, "2025-01", _deposit_file(root / "deposits" / org, org),
                               now=FEB_10)


def check_list_deposits(ws: Workspace, me: str, other: str) -> None:
    _deposits(ws)
    mine = services.list_deposits(ws, Scope.enterprise(me), me, 2025)
    assert [d.key for d in mine] == [f"{me}/2025-01/boiler_coal/activity_data/v1"]
    for org in (other, "C01"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.list_deposits(ws, Scope.enterprise(me), org, 2025)


def check_deposit_check(ws: Workspace, me: str, other: str) -> None:
    _deposits(ws)
    chk = services.deposit_check(ws, Scope.enterprise(me), me, 2025, today=date(2025, 3, 1))
    assert [(r.source_stream, r.month, r.status) for r in chk.status if r.month <= "2025-02"] == [
        ("boiler_coal", "2025-01", "on_time"), ("boiler_coal", "2025-02", "not_due")]
    assert chk.account is None and chk.account_error  # this plan has no streams table: status only
    with pytest.raises(NotInScope):
        services.deposit_check(ws, Scope.enterprise(me), other, 2025)


def check_deposit_proof(ws: Workspace, me: str, other: str) -> None:
    _deposits(ws)
    proof = services.deposit_proof(ws, Scope.enterprise(me), me, 2025)
    assert [e.deposit.enterprise for e in proof.entries] == [me] and proof.ok
    with pytest.raises(NotInScope):
        services.deposit_proof(ws, Scope.enterprise(me), other, 2025)


def check_deposit_month(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    for org in ENTERPRISES:
        f = tmp / f"plan-{org}.toml"
        f.write_text(_plan_text(org), encoding="utf-8")
        services.import_plan(ws, Scope.centre(), f)
    w = _with_home(ws, tmp / "home")
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match=f"organisation {other}"):
        services.deposit_month(w, Scope.enterprise(me), other, "2025-01", _deposit_file(tmp / "theirs", other),
                               now=FEB_10)
    assert _audit_head(ws) == head and not (tmp / "home").exists()  # refused before anything was read or kept
    rep = services.deposit_month(w, Scope.enterprise(me), me, "2025-01", _deposit_file(tmp / "mine", me), now=FEB_10)
    assert [(d.key, d.status) for d in rep.stored] == [(f"{me}/2025-01/boiler_coal/activity_data/v1", "on_time")]
    assert _audit_head(ws) == head + 1
    assert services.list_deposits(ws, Scope.centre(), other, 2025) == []


def _march(day: int) -> datetime:
    return datetime(2025, 3, day, tzinfo=TZ)


def check_mqtt_listener(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    listener = services.mqtt_listener(ws, Scope.enterprise(me), "127.0.0.1", 1)
    assert set(listener.catalog) == {f"{me}.COAL"}
    payload = reading_payload("m1", [
        {"point_id": f"{e}.COAL", "ts": _march(d).isoformat(), "value": 100.0 * d} for e in ENTERPRISES
        for d in (2, 3)])
    assert isinstance(listener, MqttListener)
    # the listener's own batch step, without a broker: a message is anything with topic and payload
    msg = SimpleNamespace(topic="carbonmet/v1/readings/x", payload=payload)
    rep = ingest_messages(listener.store, listener.catalog, [msg])  # type: ignore[arg-type,list-item]
    assert (rep.received, rep.quarantined) == (4, 2) and rep.by_reason.get(OUT_OF_SCOPE) == 2
    march = (_march(1), _march(31))
    assert services.point_readings(ws, Scope.centre(), f"{other}.COAL", *march).num_rows == 0
    refused = [r for r in services.list_quarantine(ws, Scope.centre()) if r["reason"] == OUT_OF_SCOPE]
    assert len(refused) == 2 and all(f"organisation {other}" in r["detail"] for r in refused)


def _hj212_frame(mn: str, day: int, value: float) -> bytes:
    p = build({"QN": f"202503{day:02d}000000000", "ST": "31", "CN": "2061", "PW": "123456", "MN": mn, "Flag": "5"},
              [{"DataTime": f"202503{day:02d}000000"}, {"w01018-Avg": f"{value}", "w01018-Flag": "N"}])
    return encode(p)


def check_start_hj212_server(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    scope = Scope.enterprise(me)
    # the JSON-lines mode: readings of the other enterprise's point go to the rejects file
    out, rejects = tmp / "in.jsonl", tmp / "rejects.jsonl"
    no_store = Workspace(engine=ws.engine)

    async def feed(workspace: Workspace, readings: list[RawReading]) -> None:
        server = await services.start_hj212_server(workspace, scope, "127.0.0.1", 0, out=out, rejects=rejects)
        try:
            frame = _hj212_frame("AB" * 12, 2, 1.0)
            msg = Message((decode(frame),))
            await server.sink(readings, msg)
        finally:
            await server.close()

    readings = [RawReading(_march(2), 1.0, point_id=f"{e}.COAL", origin="hj212") for e in ENTERPRISES]
    asyncio.run(feed(no_store, readings))
    accepted = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    refused = [json.loads(ln) for ln in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["point_id"] for a in accepted for r in a["readings"]] == [f"{me}.COAL"]
    assert [(d["reason"], [r["point_id"] for r in d["readings"]]) for d in refused] == [
        (OUT_OF_SCOPE, [f"{other}.COAL"])]
    assert f"organisation {other}" in refused[0]["detail"]
    # the store mode: quarantined as out_of_scope, nothing stored for the other enterprise
    asyncio.run(feed(ws, readings))
    march = (_march(1), _march(31))
    assert services.point_readings(ws, Scope.centre(), f"{other}.COAL", *march).num_rows == 0
    assert services.point_readings(ws, Scope.centre(), f"{me}.COAL", *march).num_rows == 1
    refused_q = [r for r in services.list_quarantine(ws, Scope.centre()) if r["reason"] == OUT_OF_SCOPE]
    assert [r["point_id"] for r in refused_q] == [f"{other}.COAL"]


def check_set_hj212_password(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    # each enterprise's point carries its own data logger (MN); set by the centre
    mn = {e: f"{e}{'0' * 20}{i}" for i, e in enumerate(ENTERPRISES)}
    points = tmp / "points.csv"
    points.write_text("point_id,site_code,name,quantity,carrier,unit,reading_kind,hj212_mn\n" + "".join(
        f"{e}.COAL,{e}-S1,入炉煤,mass,raw_coal,t,total,{mn[e]}\n" for e in ENTERPRISES), encoding="utf-8")
    services.import_registry(ws, Scope.centre(), [points])
    scope = Scope.enterprise(me)
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match=f"organisation {other}"):
        services.set_hj212_password(ws, scope, mn[other], "abc123")
    assert _audit_head(ws) == head  # nothing written
    assert services.set_hj212_password(ws, scope, mn[me], "abc123") == {"mn": mn[me], "action": "set"}
    with ws.session() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.entity, entry.entity_key) == ("hj212_credential", mn[me])
        assert "abc123" not in entry.data  # only the salted hash is kept
        assert verify_logger_password(s, mn[me], "abc123") and not verify_logger_password(s, mn[other], "abc123")


# --- accounting (碳核算) ----------------------------------------------------------------------------
INVENTORY = Path(__file__).parents[2] / "examples" / "inventory-ctm.toml"


def check_account_enterprise(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)  # plans without a streams table: the own enterprise gets that far, the others not at all
    with pytest.raises(ServiceError, match="streams"):
        services.account_enterprise(ws, Scope.enterprise(me), me, 2025, method="lpu")
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.account_enterprise(ws, Scope.enterprise(me), org, 2025, method="lpu")


def check_account_enterprises(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)  # plans without a streams table: the own enterprise is reached (and refused for that), no other
    with pytest.raises(ServiceError, match="streams"):
        services.account_enterprises(ws, Scope.enterprise(me), None, 2025, method="lpu")
    with pytest.raises(ServiceError, match="streams"):
        services.account_enterprises(ws, Scope.enterprise(me), [me], 2025, method="lpu")
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.account_enterprises(ws, Scope.enterprise(me), [me, org], 2025, method="lpu")
    assert services.account_enterprises(ws, Scope.nobody(), None, 2025, method="lpu") == {}


def check_trace_accounts(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)
    r = services.trace_accounts(ws, Scope.enterprise(me), "WRK-MASS", date(2023, 12, 1), date(2024, 2, 1), 2025, 0.01)
    assert [p["point"] for p in r["trace"]["data_periods"]] == [f"{me}.COAL"]
    assert {n["point"] for n in r["not_accounted"]} == {f"{me}.COAL"} and r["accounts"] == []


def check_account_inventory_file(ws: Workspace, me: str, other: str) -> None:
    # reads no organisation's records: the same account for every scope
    a = services.account_inventory_file(ws, Scope.enterprise(me), INVENTORY, method="lpu")
    b = services.account_inventory_file(ws, Scope.nobody(), INVENTORY, method="lpu")
    assert a.total["value"] == b.total["value"] and a.total["u"] == b.total["u"]


def check_validate_accounting(ws: Workspace, me: str, other: str) -> None:
    # generates its own regions in a throw-away workspace: nothing of ws changes, any scope may call it
    head = _audit_head(ws)
    if "validate" not in _REGIONS:
        v = services.validate_accounting(ws, Scope.nobody(), 1, enterprises=1, seed=5)
        _REGIONS["validate"] = json.dumps(v.to_dict(), sort_keys=True, default=str)
    assert json.loads(_REGIONS["validate"])["enterprise_years"] == 1
    assert _audit_head(ws) == head


def check_rata_files(ws: Workspace, me: str, other: str) -> None:
    # files only: the same tests for every scope, nothing of ws read or changed
    head = _audit_head(ws)
    a = services.rata_files(ws, Scope.enterprise(me), [RATA_EXAMPLE])
    b = services.rata_files(ws, Scope.nobody(), [RATA_EXAMPLE])
    assert a == b and a[0]["parameters"]["flow"]["rata"]["passed"]
    assert _audit_head(ws) == head


# --- CEMS and comparison (碳监测与比对) ----------------------------------------------------------------------
def _cems_read(name: str) -> ReadCheck:
    def check(ws: Workspace, me: str, other: str) -> None:
        _plans(ws)  # plans without measured-emission streams: the own enterprise gets that far, the others not
        fn = getattr(services, name)
        with pytest.raises(ServiceError, match="monitors no stream|streams"):
            fn(ws, Scope.enterprise(me), me, 2025)
        for org in (other, "C01", "E99"):
            with pytest.raises(NotInScope, match="outside your read scope"):
                fn(ws, Scope.enterprise(me), org, 2025)
    return check


check_cems_enterprise = _cems_read("cems_enterprise")
check_compare_enterprise = _cems_read("compare_enterprise")
check_balance_enterprise = _cems_read("balance_enterprise")


def check_stock_ledgers(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)  # the own plan is read (its books may be empty); the others' are refused before anything is read
    ledgers, notes = services.stock_ledgers(ws, Scope.enterprise(me), me, 2025)
    assert isinstance(ledgers, list) and all(n["stream"] for n in notes)
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.stock_ledgers(ws, Scope.enterprise(me), org, 2025)


def check_validate_cems(ws: Workspace, me: str, other: str) -> None:
    # generates its own region in a throw-away workspace: nothing of ws changes, any scope may call it
    head = _audit_head(ws)
    if "validate_cems" not in _REGIONS:
        v = services.validate_cems(ws, Scope.nobody(), 1, enterprises=1, seed=5)
        _REGIONS["validate_cems"] = json.dumps(v.to_dict(), sort_keys=True, default=str)
    d = json.loads(_REGIONS["validate_cems"])
    assert sum(d["confusion"].values()) == 1 and d["stacks"] > 0
    assert _audit_head(ws) == head


def check_pilot_comparison(ws: Workspace, me: str, other: str) -> None:
    # every enterprise of the pilot must be readable: refused before anything is computed or written
    out = Path(tempfile.mkdtemp())
    for codes in ([me, other, "E99"], [other, "C01", "E99"]):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.pilot_comparison(ws, Scope.enterprise(me), codes, 2025, out)
    assert not any(out.iterdir())


# --- metrology review (碳计量审查) --------------------------------------------------------------------------------
def check_review_enterprise(ws: Workspace, me: str, other: str) -> None:
    # the own belt scale's verification ran out on 2025-01-20: overdue on 1 February, and only its own instruments
    res = services.review_enterprise(ws, Scope.enterprise(me), me, date(2025, 2, 1))
    assert {(f.rule_id, f.instrument) for f in res.findings} == {("CCM-CAL-01", f"BS-{me}")}
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.review_enterprise(ws, Scope.enterprise(me), org, date(2025, 2, 1))




# --- stored review/verification runs and findings (审查/核查记录与发现闭环) -------------------------------------------
def _runs(ws: Workspace) -> None:
    """One review run of each enterprise on 1 February (its belt scale overdue) and a verification run stored
    directly (the shared region's plans have no streams table to verify against), once per region."""
    from carbonmet.review import VerificationResult, VerifiedStream, load_verify_rules
    from carbonmet.review.runs import store_run

    if services.list_runs(ws, Scope.centre()):
        return
    for org in ENTERPRISES:
        services.run_review(ws, Scope.centre(), org, date(2025, 2, 1))
        res = VerificationResult(org, 2025, f"{org}.csv", "cn_ets", "v", ("cn_ets.csv",))
        res.streams = [VerifiedStream("boiler_coal", "t", 100.0, 110.0, 200.0, 220.0, -20.0, -9.09, 4.0, 11.0,
                                      "fail", ("2025-01",))]
        with ws.session() as s:
            store_run(s, res, load_verify_rules(), actor="centre")


def check_list_runs(ws: Workspace, me: str, other: str) -> None:
    _runs(ws)
    runs = services.list_runs(ws, Scope.enterprise(me))
    assert {(r.enterprise, r.kind) for r in runs} == {(me, "review"), (me, "verify")}
    assert services.list_runs(ws, Scope.regulator(), kind="review") != []
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.list_runs(ws, Scope.enterprise(me), org)


def check_list_findings(ws: Workspace, me: str, other: str) -> None:
    _runs(ws)
    rows = services.list_findings(ws, Scope.enterprise(me), kind="review", history=True)
    assert [(f["enterprise"], f["subject"]) for f in rows] == [(me, f"BS-{me}")]
    assert rows[0]["events"][0]["action"] == "opened"
    assert services.list_findings(ws, Scope.of(read=[me]), status="closed") == []
    with pytest.raises(NotInScope):
        services.list_findings(ws, Scope.enterprise(me), other)


def check_run_diff(ws: Workspace, me: str, other: str) -> None:
    _runs(ws)
    d = services.run_diff(ws, Scope.enterprise(me), me)
    assert d.run.enterprise == me and [x["instrument"] for x in d.new] == [f"BS-{me}"]
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.run_diff(ws, Scope.enterprise(me), org)
    other_run = next(r for r in services.list_runs(ws, Scope.centre(), other, "review"))
    with pytest.raises(NotInScope):  # another enterprise's run, named by id, reads like a missing one
        services.run_diff(ws, Scope.enterprise(me), me, run_id=other_run.id)


def check_verified_account(ws: Workspace, me: str, other: str) -> None:
    _runs(ws)
    acc = services.verified_account(ws, Scope.enterprise(me), me, 2025)
    assert (acc.enterprise, [(v.stream, v.verified_tco2) for v in acc.streams]) == (me, [("boiler_coal", 220.0)])
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.verified_account(ws, Scope.enterprise(me), org, 2025)


def check_run_review(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    # an enterprise does not store runs, not even of itself; the centre or an assigned verifier does
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match="assigned verifier"):
        services.run_review(ws, Scope.enterprise(me), me, date(2025, 2, 1))
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.run_review(ws, Scope.enterprise(me), org, date(2025, 2, 1))
    with pytest.raises(AccessDenied):  # the regulator reads every organisation and reviews none
        services.run_review(ws, Scope.regulator(), me, date(2025, 2, 1))
    with pytest.raises(NotInScope):  # a verifier assigned to me is not assigned to the other
        services.run_review(ws, Scope.of(read=[me], actor="ver"), other, date(2025, 2, 1))
    assert _audit_head(ws) == head
    run = services.run_review(ws, Scope.of(read=[me], actor="ver"), me, date(2025, 2, 1))
    assert (run.enterprise, run.actor, run.findings) == (me, "ver", 1)
    assert services.list_runs(ws, Scope.enterprise(other)) == []


def check_run_verify(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    report = tmp / f"{me}.csv"
    report.write_text(f"enterprise,period,stream,amount,unit,emissions_tco2\n{me},2025-01,boiler_coal,10,t,1\n",
                      encoding="utf-8")
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match="assigned verifier"):
        services.run_verify(ws, Scope.enterprise(me), me, 2025, report)
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.run_verify(ws, Scope.of(read=[me]), org, 2025, report)
    assert _audit_head(ws) == head


def _open_finding(ws: Workspace, org: str) -> int:
    run = services.run_review(ws, Scope.centre(), org, date(2025, 2, 1))
    assert run.findings == 1
    return int(services.list_findings(ws, Scope.centre(), org)[0]["id"])


def check_acknowledge_finding(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    mine, theirs = _open_finding(ws, me), _open_finding(ws, other)
    head = _audit_head(ws)
    with pytest.raises(NotInScope, match="outside your read scope"):
        services.acknowledge_finding(ws, Scope.enterprise(me), theirs)
    with pytest.raises(AccessDenied):  # the regulator reads, it acts on nothing
        services.acknowledge_finding(ws, Scope.regulator(), mine)
    assert _audit_head(ws) == head
    f = services.acknowledge_finding(ws, Scope.enterprise(me, actor=f"u-{me}"), mine, "会安排送检")
    assert (f["status"], f["acknowledged_by"]) == ("acknowledged", f"u-{me}")
    assert services.list_findings(ws, Scope.centre(), other)[0]["status"] == "open"


def check_close_finding(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    mine, theirs = _open_finding(ws, me), _open_finding(ws, other)
    head = _audit_head(ws)
    with pytest.raises(AccessDenied, match="assigned verifier"):  # the enterprise acknowledges, it does not close
        services.close_finding(ws, Scope.enterprise(me), mine, "送检了")
    for scope in (Scope.enterprise(me), Scope.of(read=[me])):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.close_finding(ws, scope, theirs, "送检了")
    assert _audit_head(ws) == head
    f = services.close_finding(ws, Scope.of(read=[me], actor="ver"), mine, "送检了", reference="C01-NEW")
    assert (f["status"], f["closed_by"], f["closure_reference"]) == ("closed", "ver", "C01-NEW")
    assert services.list_findings(ws, Scope.centre(), other)[0]["status"] == "open"


def check_review_campaign(ws: Workspace, me: str, other: str) -> None:
    # "all" is the own enterprise only; a list naming another (or the institute, or an unknown code) is refused
    # before anything is reviewed
    seen: list[str] = []
    res = services.review_campaign(ws, Scope.enterprise(me), "all", date(2025, 2, 1),
                                   progress=lambda i, n, e: seen.append(e))
    assert seen == [me] and list(res.results) == [me] and res.errors == {}
    assert {(f.rule_id, f.instrument) for f in res.results[me].findings} == {("CCM-CAL-01", f"BS-{me}")}
    for codes in ([me, other], ["C01"], "E99", f"{me},{other}"):
        seen.clear()
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.review_campaign(ws, Scope.enterprise(me), codes, date(2025, 2, 1),
                                     progress=lambda i, n, e: seen.append(e))
        assert seen == []


# --- reports (报告) ---------------------------------------------------------------------------------------------
def check_account_report(ws: Workspace, me: str, other: str) -> None:
    # the own enterprise gets as far as its account (plans without a streams table); the others not at all, and
    # nothing is written for anyone
    _plans(ws)
    out = Path(tempfile.mkdtemp()) / "out"
    with pytest.raises(ServiceError, match="streams"):
        services.account_report(ws, Scope.enterprise(me), me, 2025, out, method="lpu")
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.account_report(ws, Scope.enterprise(me), org, 2025, out, method="lpu")
    assert not out.exists()


def check_review_report(ws: Workspace, me: str, other: str) -> None:
    out = Path(tempfile.mkdtemp())
    res = services.review_report(ws, Scope.enterprise(me), me, date(2025, 2, 1), out, ("html", "xlsx"))
    page = Path(res["files"]["html"]).read_text(encoding="utf-8")
    assert f"BS-{me}" in page and f"BS-{other}" not in page and res["findings"] == 1
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.review_report(ws, Scope.enterprise(me), org, date(2025, 2, 1), out / org)
        assert not (out / org).exists()


def check_capability_report(ws: Workspace, me: str, other: str) -> None:
    out = Path(tempfile.mkdtemp())
    res = services.capability_report(ws, Scope.enterprise(me), "all", date(2025, 2, 1), out / "own", ("html", "xlsx"))
    page = Path(res["files"]["html"]).read_text(encoding="utf-8")
    assert f"BS-{me}" in page and f"BS-{other}" not in page and other not in page
    assert res["totals"]["enterprises"] == 1 and res["totals"]["findings"] == 1
    for codes in ([me, other], [other], ["C01"], ["E99"]):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.capability_report(ws, Scope.enterprise(me), codes, 2025, out / "other")
        assert not (out / "other").exists()


def check_validate_review(ws: Workspace, me: str, other: str) -> None:
    # generates its own region in a throw-away workspace: nothing of ws changes, any scope may call it
    head = _audit_head(ws)
    if "validate_review" not in _REGIONS:
        v = services.validate_review(ws, Scope.nobody(), 1, enterprises=1, seed=5)
        _REGIONS["validate_review"] = json.dumps(v.to_dict(), sort_keys=True, default=str)
    d = json.loads(_REGIONS["validate_review"])
    assert d["runs"] == 1 and d["seeds"][0]["seed"] == 5
    assert _audit_head(ws) == head


def check_footprint_enterprise(ws: Workspace, me: str, other: str) -> None:
    _plans(ws)  # the own enterprise's plan has no streams table: it gets as far as its account, the others not at all
    with pytest.raises(ServiceError, match="streams"):
        services.footprint_enterprise(ws, Scope.enterprise(me), me, 2025, "methanol")
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.footprint_enterprise(ws, Scope.enterprise(me), org, 2025, "methanol")


def check_pact_footprints(ws: Workspace, me: str, other: str) -> None:
    # the plans here have no streams table: no enterprise has a footprint to exchange; the list is empty for
    # every scope and names no organisation (the positive case: tests/web/test_pact.py over a generated region)
    _plans(ws)
    head = _audit_head(ws)
    mine = services.pact_footprints(ws, Scope.enterprise(me), [2025])
    assert mine == [] and services.pact_footprints(ws, Scope.centre(), [2025]) == []
    assert _audit_head(ws) == head


def check_pact_footprint(ws: Workspace, me: str, other: str) -> None:
    # another enterprise's id reads exactly like an id that does not exist (and like one of the own enterprise
    # that has no footprint here)
    from carbonmet.footprint.pact import exchange_id

    _plans(ws)
    messages = []
    for org in (other, me):
        pf = exchange_id(org, "methanol", 2025)
        with pytest.raises(NotInScope) as exc:
            services.pact_footprint(ws, Scope.enterprise(me), pf, [2025])
        messages.append(str(exc.value).replace(pf, "<id>"))
    assert messages[0] == messages[1] and other not in messages[0]


def check_footprint_report(ws: Workspace, me: str, other: str) -> None:
    # the own enterprise gets as far as its account (no streams table); the others not at all; nothing written
    _plans(ws)
    out = Path(tempfile.mkdtemp()) / "fp"
    with pytest.raises(ServiceError, match="streams"):
        services.footprint_report(ws, Scope.enterprise(me), me, 2025, "methanol", out)
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.footprint_report(ws, Scope.enterprise(me), org, 2025, "methanol", out)
    assert not out.exists()


def check_validate_footprint(ws: Workspace, me: str, other: str) -> None:
    # generates its own region in a throw-away workspace: nothing of ws changes, any scope may call it
    head = _audit_head(ws)
    if "validate_footprint" not in _REGIONS:
        v = services.validate_footprint(ws, Scope.nobody(), 1, enterprises=1, seed=5)
        _REGIONS["validate_footprint"] = json.dumps(v.to_dict(), sort_keys=True, default=str)
    d = json.loads(_REGIONS["validate_footprint"])
    assert d["runs"] == 1 and d["footprints"] == 1 and d["rows"][0]["product"] == "methanol"
    assert _audit_head(ws) == head
# --- users, roles and API keys (用户与角色) ------------------------------------------------------------------
PW = "correct horse battery"


def check_create_user(ws: Workspace, me: str, other: str) -> None:
    with pytest.raises(AccessDenied, match="only the centre"):
        services.create_user(ws, Scope.enterprise(me), f"mine-{me}", PW, "centre")
    with pytest.raises(AccessDenied, match="only the centre"):
        services.create_user(ws, Scope.regulator(), f"mine-{me}", PW, "enterprise", org=me)
    made = services.create_user(ws, Scope.centre(), f"user-{me}", PW, "enterprise", org=me)
    assert made == {"username": f"user-{me}", "role": "enterprise", "org_code": me, "display_name": f"user-{me}"}
    with pytest.raises(ServiceError, match="E99"):
        services.create_user(ws, Scope.centre(), f"ghost-{me}", PW, "enterprise", org="E99")


def check_assign_verifier(ws: Workspace, me: str, other: str) -> None:
    services.create_user(ws, Scope.centre(), f"ver-{me}", PW, "verifier")
    with pytest.raises(AccessDenied, match="only the centre"):
        services.assign_verifier(ws, Scope.enterprise(me), f"ver-{me}", me)
    assert services.assign_verifier(ws, Scope.centre(), f"ver-{me}", me)["created"] is True
    caller = services.authenticate(ws, Scope.nobody(), username=f"ver-{me}", password=PW)
    assert caller.scope.can_read(me) and not caller.scope.can_read(other) and not caller.scope.can_write(me)
    assert [o["org_code"] for o in services.list_organisations(ws, caller.scope)] == [me]


def check_list_users(ws: Workspace, me: str, other: str) -> None:
    for scope in (Scope.enterprise(me), Scope.regulator(), Scope.of([me])):
        with pytest.raises(AccessDenied, match="only the centre"):
            services.list_users(ws, scope)
    services.create_user(ws, Scope.centre(), f"listed-{me}", PW, "enterprise", org=me)
    rows = services.list_users(ws, Scope.centre())
    assert any(r["username"] == f"listed-{me}" and r["org_code"] == me for r in rows)
    assert "password_hash" not in json.dumps(rows) and "argon2" not in json.dumps(rows)


def check_authenticate(ws: Workspace, me: str, other: str) -> None:
    from carbonmet.services import AuthenticationFailed

    services.create_user(ws, Scope.centre(), f"auth-{me}", PW, "enterprise", org=me)
    caller = services.authenticate(ws, Scope.nobody(), username=f"auth-{me}", password=PW)
    assert (caller.role, caller.org_code, caller.scope.actor) == ("enterprise", me, f"auth-{me}")
    assert caller.scope.can_write(me) and not caller.scope.can_read(other)
    for kwargs in ({"username": f"auth-{me}", "password": PW + "x"}, {"username": "nobody-at-all", "password": PW},
                   {"api_key": "cmk_0123456789abcdef_nope"}, {"username": "nobody-at-all"}):
        with pytest.raises(AuthenticationFailed):
            services.authenticate(ws, Scope.nobody(), **kwargs)


def check_create_api_key(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    for org in (me, other):
        services.create_user(ws, Scope.centre(), f"key-{org}", PW, "enterprise", org=org)
    mine = services.authenticate(ws, Scope.nobody(), username=f"key-{me}", password=PW).scope
    head = _audit_head(ws)
    with pytest.raises(AccessDenied):
        services.create_api_key(ws, mine, f"key-{other}", "stolen")
    assert _audit_head(ws) == head
    made = services.create_api_key(ws, mine, f"key-{me}", "logger 1")
    via_key = services.authenticate(ws, Scope.nobody(), api_key=made["key"])
    assert (via_key.username, via_key.scope.write) == (f"key-{me}", frozenset({me}))
    with ws.session() as s:  # only the digest is stored, never the key
        from carbonmet.users import ApiKey

        stored = s.scalars(select(ApiKey)).all()
        assert made["key"] not in json.dumps([(k.key_id, k.secret_sha256) for k in stored])
    assert services.create_api_key(ws, Scope.centre(), f"key-{other}", "by the centre")["username"] == f"key-{other}"


def check_revoke_api_key(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    from carbonmet.services import AuthenticationFailed

    keys = {}
    for org in (me, other):
        services.create_user(ws, Scope.centre(), f"rk-{org}", PW, "enterprise", org=org)
        keys[org] = services.create_api_key(ws, Scope.centre(), f"rk-{org}", "device")
    mine = services.authenticate(ws, Scope.nobody(), username=f"rk-{me}", password=PW).scope
    head = _audit_head(ws)
    for key_id in (keys[other]["key_id"], "0" * 16):  # another user's key reads like a missing one
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.revoke_api_key(ws, mine, key_id)
    assert _audit_head(ws) == head
    assert services.authenticate(ws, Scope.nobody(), api_key=keys[other]["key"]).username == f"rk-{other}"
    assert services.revoke_api_key(ws, mine, keys[me]["key_id"])["revoked"] is True
    with pytest.raises(AuthenticationFailed):
        services.authenticate(ws, Scope.nobody(), api_key=keys[me]["key"])
    assert services.revoke_api_key(ws, Scope.centre(), keys[other]["key_id"])["revoked"] is True


def check_set_user_active(ws: Workspace, me: str, other: str) -> None:
    from carbonmet.services import AuthenticationFailed

    services.create_user(ws, Scope.centre(), f"off-{me}", PW, "enterprise", org=me)
    for scope in (Scope.enterprise(me), Scope.regulator()):
        with pytest.raises(AccessDenied, match="only the centre"):
            services.set_user_active(ws, scope, f"off-{me}", False)
    assert services.set_user_active(ws, Scope.centre(), f"off-{me}", False)["changed"] is True
    for kwargs in ({"username": f"off-{me}", "password": PW}, {"username": f"off-{me}"}):
        with pytest.raises(AuthenticationFailed):
            services.authenticate(ws, Scope.nobody(), **kwargs)
    services.set_user_active(ws, Scope.centre(), f"off-{me}", True)
    assert services.authenticate(ws, Scope.nobody(), username=f"off-{me}").org_code == me

# --- verification (碳核查) ------------------------------------------------------------------------------------------
def check_verify_enterprise(ws: Workspace, me: str, other: str) -> None:
    # the own enterprise gets as far as its account (plans without a streams table); the others not at all
    _plans(ws)
    report = Path(tempfile.mkdtemp()) / f"{me}.csv"
    report.write_text(f"enterprise,period,stream,amount,unit,emissions_tco2\n{me},2025-01,boiler_coal,10,t,1\n",
                      encoding="utf-8")
    with pytest.raises(ServiceError, match="streams"):
        services.verify_enterprise(ws, Scope.enterprise(me), me, 2025, report)
    for org in (other, "C01", "E99"):
        with pytest.raises(NotInScope, match="outside your read scope"):
            services.verify_enterprise(ws, Scope.enterprise(me), org, 2025, report)

def check_list_deviations(ws: Workspace, me: str, other: str) -> None:
    # a store of its own (the shared region's store stays as the other checks expect it)
    side = Workspace(engine=ws.engine, store_root=tempfile.mkdtemp(prefix="deviations-"))
    store = side.store()
    for e in ENTERPRISES:  # one batch per enterprise, accepted with a flagged deviation (a 2005-era logger)
        store.ingest_readings([RawReading(_march(2), 7000.0, f"{e}.COAL")], f"hj212:{e}", services.point_catalog(
            side, Scope.centre()), source="hj212", deviations={"mn_not_24_hex": 1})
    mine = services.list_deviations(side, Scope.enterprise(me))
    assert [(b["points"], b["deviations"]) for b in mine] == [([f"{me}.COAL"], {"mn_not_24_hex": 1})]
    assert {p for b in services.list_deviations(side, Scope.centre()) for p in b["points"]} == {
        f"{e}.COAL" for e in ENTERPRISES}


def check_connect_source(ws: Workspace, me: str, other: str, tmp: Path) -> None:
    from carbonmet.metering.connectors import Record

    class Both:
        source = "test"

        async def run(self, intake, stop) -> None:  # type: ignore[no-untyped-def]
            await intake.submit([Record(f"t:{e}", f"t:{e}:{d}", (RawReading(_march(d), 100.0 * d, f"{e}.COAL"),))
                                 for e in ENTERPRISES for d in (4, 5)])

    intake = asyncio.run(services.connect_source(ws, Scope.enterprise(me), Both()))
    assert (intake.totals.received, intake.totals.quarantined) == (4, 2)
    assert intake.totals.by_reason.get(OUT_OF_SCOPE) == 2
    march = (_march(1), _march(31))
    assert services.point_readings(ws, Scope.centre(), f"{other}.COAL", *march).num_rows == 0
    assert services.point_readings(ws, Scope.centre(), f"{me}.COAL", *march).num_rows == 2



def check_validate_verify(ws: Workspace, me: str, other: str) -> None:
    # generates its own region in a throw-away workspace: nothing of ws changes, any scope may call it
    head = _audit_head(ws)
    if "validate_verify" not in _REGIONS:
        v = services.validate_verify(ws, Scope.nobody(), 1, enterprises=1, seed=5)
        _REGIONS["validate_verify"] = json.dumps(v.to_dict(), sort_keys=True, default=str)
    d = json.loads(_REGIONS["validate_verify"])
    assert d["runs"] == 1 and d["seeds"][0]["seed"] == 5 and (d["precision"], d["recall"]) == (1.0, 1.0)
    assert _audit_head(ws) == head

ReadCheck = Callable[[Workspace, str, str], None]
WriteCheck = Callable[[Workspace, str, str, Path], None]
READ_CHECKS: dict[str, ReadCheck] = {
    n.removeprefix("check_"): f for n, f in dict(globals()).items()
    if n.startswith("check_") and len(inspect.signature(f).parameters) == 3
}
WRITE_CHECKS: dict[str, WriteCheck] = {
    n.removeprefix("check_"): f for n, f in dict(globals()).items()
    if n.startswith("check_") and len(inspect.signature(f).parameters) == 4
}


def _service_functions() -> set[str]:
    return {n for n in services.__all__ if inspect.isfunction(getattr(services, n))}


def test_every_use_case_has_a_tenancy_check() -> None:
    functions = _service_functions()
    assert functions == set(USE_CASES), "a public service function is not registered with @use_case"
    missing = functions - set(READ_CHECKS) - set(WRITE_CHECKS)
    assert not missing, f"use cases without a tenancy check in tests/services: {sorted(missing)}"
    assert {n for n, t in USE_CASES.items() if t == "write"} == set(WRITE_CHECKS)


def test_every_use_case_takes_workspace_and_scope_first() -> None:
    for name in _service_functions():
        params = list(inspect.signature(getattr(services, name)).parameters)
        assert params[:2] == ["ws", "scope"], name


@pytest.mark.parametrize("me", ENTERPRISES)
@pytest.mark.parametrize("name", sorted(READ_CHECKS))
def test_read_use_case_sees_only_its_own_organisation(region: Workspace, name: str, me: str) -> None:
    READ_CHECKS[name](region, me, _other(me))


@pytest.mark.parametrize("me", ENTERPRISES)
@pytest.mark.parametrize("name", sorted(WRITE_CHECKS))
def test_write_use_case_changes_only_its_own_organisation(
    fresh_region: Workspace, tmp_path: Path, name: str, me: str
) -> None:
    WRITE_CHECKS[name](fresh_region, me, _other(me), tmp_path)
