"""CEMS use cases (碳监测与比对): the CEMS leg of an enterprise-year, its comparison with the account, and the
validation of both against generated regions with known truth."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from carbonmet.accounting import Account, gather
from carbonmet.cems import CemsError, Comparison, cems_account, cems_points, cems_streams, compare_accounts
from carbonmet.registry.models import Certificate, Instrument
from carbonmet.sites import load_plan

from ._accounting import account_enterprise
from ._errors import NotInScope, ServiceError
from ._metering import point_catalog
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_CEMS = "CEMS emissions 直接监测排放"


@use_case("read")
def cems_enterprise(ws: Workspace, scope: Scope, enterprise: str, year: int, *, rule_set: str = "hjt75_2007",
                    method: str = "both", trials: int = 100_000, seed: int | None = 0) -> Account:
    """The CEMS leg of ``enterprise`` for ``year`` (:func:`carbonmet.cems.cems_account`) from its current plan,
    the readings store and the registry's certificates.

    Raises
    ------
    NotInScope
        The enterprise is not in the read scope, or it has no stored monitoring plan.
    ServiceError
        The plan monitors no stream continuously, or a flow/concentration unit the chain does not take.
    """
    scope.check_read(enterprise, _CEMS, enterprise)
    cat = point_catalog(ws, scope)
    with ws.session() as s:
        plan = load_plan(s, enterprise)
        if plan is None:
            raise NotInScope("monitoring plan 监测计划", enterprise)
        try:
            pts = cems_points(plan)
        except CemsError as exc:
            raise ServiceError(str(exc)) from None
        data = gather(s, ws.store(), cat, plan, year, [], tz=ws.time_zone, points=pts)
    try:
        return cems_account(data, rule_set=rule_set, method=method, trials=trials, seed=seed)  # type: ignore[arg-type]
    except CemsError as exc:
        raise ServiceError(str(exc)) from None


def _recalibrations(ws: Workspace, plan: Any, year: int) -> list[dict[str, Any]]:
    """Calibrations during ``year`` of the instruments on the plan's CEMS flow and concentration points."""
    monitored, _ = cems_streams(plan)
    by_inst: dict[str, str] = {}
    for cs in monitored:
        for p in (cs.flow_point, cs.conc_point):
            for r in plan.parameters:
                if r.ref == p:
                    for i in r.instruments:
                        by_inst[i] = p
    if not by_inst:
        return []
    with ws.session() as s:
        rows = s.execute(select(Instrument.code, Certificate.cert_no, Certificate.calibration_date)
                         .join(Certificate, Certificate.instrument_id == Instrument.id)
                         .where(Instrument.code.in_(sorted(by_inst)))
                         .where(Certificate.calibration_date >= date(year, 1, 1))
                         .where(Certificate.calibration_date < date(year + 1, 1, 1))).all()
    return [{"instrument": code, "point": by_inst[code], "date": d.isoformat(), "certificate": no}
            for code, no, d in sorted(rows, key=lambda r: (r[2], r[0]))]


@use_case("read")
def compare_enterprise(ws: Workspace, scope: Scope, enterprise: str, year: int, *, rule_set: str = "hjt75_2007",
                       method: str = "lpu", trials: int = 20_000, seed: int | None = 0) -> Comparison:
    """CEMS against the account of ``enterprise`` for ``year`` on the direct-emission boundary, per month and
    for the year (:func:`carbonmet.cems.compare_accounts`), with the step test at every recalibration of a CEMS
    instrument during the year."""
    cems = cems_enterprise(ws, scope, enterprise, year, rule_set=rule_set, method=method, trials=trials, seed=seed)
    acc = account_enterprise(ws, scope, enterprise, year, method=method, trials=trials, seed=seed)
    with ws.session() as s:
        plan = load_plan(s, enterprise)
    return compare_accounts(cems, acc, recalibrations=_recalibrations(ws, plan, year))


#: Chinese names of the ledger nodes and flows, by side.
_LEDGER_ZH = {"in": ("煤场", "进厂计量(轨道衡)", "库存变化(盘存)"), "out": ("成品罐区", "出厂计量(汽车衡)", "库存变化(罐存)")}
_SEED_KEYS: tuple[str, ...] = ("clean_runs", "clean_false_alarms", "nameable_injected", "nameable_detected", "nameable_named",
              "nameable_in_candidates", "detect_only_injected", "detect_only_detected", "detect_only_named",
              "detect_only_in_candidates", "wrong_named")
_SIDE: dict[str, Literal["in", "out"]] = {"raw_material": "in", "fuel_combustion": "in", "product": "out", "by_product": "out"}


def _stock_ledgers(ws: Workspace, scope: Scope, plan: Any, year: int) -> tuple[list[Any], list[dict[str, str]]]:
    """The books beside the plant meters of ``plan``'s enterprise for ``year`` (煤场/罐区台账), as
    :class:`carbonmet.cems.StockLedger`: for every stream the plan meters by mass, the registry's other points
    of the same stream — weighings at the fence (``interval``) and stock surveys (``sample``, mass) — with the
    fence's monthly sums, the surveys at the opening and each month's close, and the certificates' u.

    Returns
    -------
    ledgers, notes
        The ledgers, and why a stream with some of these points has none (``stream``, ``reason``).
    """
    from carbonmet.accounting import months
    from carbonmet.cems import StockLedger, survey_repeatability
    from carbonmet.metering import aggregate
    from carbonmet.registry import instrument_states

    cat = point_catalog(ws, scope)
    ent = plan.enterprise
    z = ZoneInfo(ws.time_zone)
    start, end = datetime(year, 1, 1, tzinfo=z), datetime(year + 1, 1, 1, tzinfo=z)
    bounds = [datetime(year + (m // 12), m % 12 + 1, 1, tzinfo=z) for m in range(13)]
    planned = {r.ref for r in plan.parameters}
    kinds = {r.source_stream: r.kind for r in plan.streams}
    meters: dict[str, tuple[str, tuple[str, ...]]] = {}
    for r in plan.parameters:
        if r.source == "point" and r.parameter == "activity_data" and r.ref in cat and cat[r.ref].quantity == "mass":
            meters.setdefault(r.source_stream, (r.ref, tuple(r.instruments)))
    store = ws.store()
    ledgers, notes = [], []

    def inst_of(pid: str) -> list[str]:
        return sorted({i.instrument_id for i in cat[pid].instruments})

    for stream, (meter, meter_inst) in meters.items():
        extra = [p for p in cat.values() if p.enterprise == ent and p.source_stream == stream
                 and p.point_id not in planned and p.quantity == "mass"]
        fence = [p.point_id for p in extra if p.reading_kind == "interval"]
        survey = [p.point_id for p in extra if p.reading_kind == "sample"]
        side = _SIDE.get(kinds.get(stream, ""))
        if not fence and not survey:
            continue
        if not fence or not survey or side is None:
            notes.append({"stream": stream, "reason": "台账不全 (缺进出厂计量或盘存) / the books lack a fence weighing or a "
                          "stock survey" if side else "不是入厂物料或产品 / neither a material received nor a product"})
            continue
        fpt, spt = fence[0], survey[0]
        agg = {(a.point_id, a.period_start.month): a.value_measured
               for a in aggregate(store, cat, [meter], start, end, "month", tz=ws.time_zone)}
        mass = np.array([agg.get((meter, m), math.nan) for m in range(1, 13)])
        # the fence's monthly sums of valid (flag N) weighings, added in time order (the same bits every run)
        ft = store.readings(fpt, start, end, cat)
        fen = np.zeros(12)
        for t, val, flag in zip(ft.column("ts").to_pylist(), ft.column("value").to_pylist(),
                                ft.column("flag").to_pylist(), strict=True):
            if flag == "N" and val is not None:
                fen[t.astimezone(z).month - 1] += float(val)
        tab = store.readings(spt, start - timedelta(days=2), end + timedelta(days=2), cat)
        ts = [t.timestamp() for t in tab.column("ts").to_pylist()]
        vals = tab.column("value").to_numpy(zero_copy_only=False)
        stock = np.full(13, math.nan)
        for k, b in enumerate(bounds):
            d = np.abs(np.array(ts) - b.timestamp()) if ts else np.array([])
            if d.size and d.min() <= 36 * 3600:
                stock[k] = float(vals[int(np.argmin(d))])
        with ws.session() as s:
            ids = inst_of(fpt) + inst_of(spt)
            states = instrument_states(s, ids, months(year))
            types = dict(s.execute(select(Instrument.code, Instrument.type).where(Instrument.code.in_(ids))).all())
        fu = [states[i].u_rel / 100.0 for i in inst_of(fpt) if i in states]
        su = [states[i].u_rel / 100.0 for i in inst_of(spt) if i in states]
        why = ("盘存缺期 / a survey is missing" if not np.all(np.isfinite(stock)) else
               "计量器具无有效证书 / an instrument has no certificate giving u" if not fu or not su
               or not all(map(math.isfinite, fu + su)) else "")
        try:
            rep = max(survey_repeatability(types[i]) for i in inst_of(spt))
        except (CemsError, KeyError, ValueError) as exc:
            why = why or str(exc)
        if why:
            notes.append({"stream": stream, "reason": why})
            continue
        node_zh, fence_zh, stock_zh = _LEDGER_ZH[side]
        led = StockLedger(stream, side, np.where(np.isfinite(mass), mass, 0.0), tuple(meter_inst), fen,
                          f"instrument:{inst_of(fpt)[0]}", max(fu), stock, f"instrument:{inst_of(spt)[0]}", max(su),
                          rep, {"fence": inst_of(fpt), "stock": inst_of(spt)}, {})
        ledgers.append(dataclasses.replace(led, labels_zh={led.node: f"{stream} {node_zh}",
                                                           led.fence_flow: f"{stream} {fence_zh}",
                                                           led.stock_flow: f"{stream} {stock_zh}"}))
    return ledgers, notes


@use_case("read")
def stock_ledgers(ws: Workspace, scope: Scope, enterprise: str, year: int) -> tuple[list[Any], list[dict[str, str]]]:
    """The coal-yard and product-tank books of ``enterprise`` for ``year`` (:class:`carbonmet.cems.StockLedger`)
    that :func:`balance_enterprise` adds to the plant balance, and why a stream has none.

    Raises
    ------
    NotInScope
        The enterprise is not in the read scope, or it has no stored monitoring plan.
    """
    scope.check_read(enterprise, "煤场与罐区台账 coal-yard and tank books", enterprise)
    with ws.session() as s:
        plan = load_plan(s, enterprise)
    if plan is None:
        raise NotInScope("monitoring plan 监测计划", enterprise)
    return _stock_ledgers(ws, scope, plan, year)


@dataclass
class CemsValidation:
    """CEMS totals and comparison verdicts of generated regions against their truth (CEMS 验证)."""

    runs: int
    stacks: int = 0
    stacks_covered: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    confusion: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fn": 0, "fp": 0, "tn": 0})
    table: dict[str, dict[str, int]] = field(default_factory=lambda: {
        k: {"flagged": 0, "not_flagged": 0} for k in ("cems", "accounting", "healthy")})
    suspects_right: int = 0
    balance: dict[str, Any] = field(default_factory=lambda: {
        "flows": 0, "closer": 0, "covered": 0, "rms_rel_raw": 0.0, "rms_rel_reconciled": 0.0,
        "clean_runs": 0, "clean_false_alarms": 0, "undetectable": 0, **{k: 0 for k in _SEED_KEYS[2:]},
        "z2_raw": 0.0, "z2_reconciled": 0.0})
    balance_without_books: dict[str, Any] = field(default_factory=lambda: {
        "flows": 0, "closer": 0, "covered": 0, "rms_rel_raw": 0.0, "rms_rel_reconciled": 0.0,
        "z2_raw": 0.0, "z2_reconciled": 0.0})
    by_seed: dict[int, dict[str, int]] = field(default_factory=dict)
    not_nameable: dict[str, dict[str, Any]] = field(default_factory=dict)
    real_faults: dict[str, dict[str, int]] = field(default_factory=dict)
    ledger_notes: list[dict[str, str]] = field(default_factory=list)
    gross_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.stacks_covered / self.stacks if self.stacks else math.nan

    def to_dict(self) -> dict[str, Any]:
        def fin(src: dict[str, Any]) -> dict[str, Any]:
            b = dict(src)
            if b["flows"]:
                b["rms_rel_raw"] = math.sqrt(b["rms_rel_raw"] / b["flows"])
                b["rms_rel_reconciled"] = math.sqrt(b["rms_rel_reconciled"] / b["flows"])
                b["rms_z_raw"] = math.sqrt(b.pop("z2_raw") / b["flows"])
                b["rms_z_reconciled"] = math.sqrt(b.pop("z2_reconciled") / b["flows"])
            return b

        return {"runs": self.runs, "stacks": self.stacks, "stacks_covered": self.stacks_covered,
                "coverage": self.coverage, "confusion": self.confusion, "by_leg": self.table,
                "suspects_right": self.suspects_right,
                "balance": fin(self.balance), "balance_without_books": fin(self.balance_without_books),
                "balance_by_seed": {str(k): x for k, x in sorted(self.by_seed.items())},
                "not_nameable": self.not_nameable, "real_faults": self.real_faults,
                "ledger_notes": self.ledger_notes,
                "gross_errors": self.gross_rows, "rows": self.rows}


def _faults(region: Path) -> dict[str, list[dict[str, Any]]]:
    """Injected measurement faults per enterprise (manifest.json): drifting instruments and instruments calibrated
    against the out-of-tolerance standard, each with the leg it sits on — ``cems`` (flow or CO2 of a monitored
    stream) or ``accounting`` (any other metered point)."""
    m = json.loads((region / "manifest.json").read_text(encoding="utf-8"))
    out: dict[str, list[dict[str, Any]]] = {}

    def leg(p: str) -> str:
        return "cems" if p.endswith((".FLOW", ".CO2")) and ".CO2_RECOVERED." not in p else "accounting"

    for f in m["faults"]:
        if f["kind"] == "drift":
            out.setdefault(f["enterprise"], []).append({"kind": "drift", "point": f["point_id"],
                                                        "instrument": f["instrument_id"], "leg": leg(f["point_id"])})
    for ev in m["out_of_tolerance"]:
        for a in ev["affected_certificates"]:
            p = a["point_id"]
            out.setdefault(p.split(".")[0], []).append({"kind": "out_of_tolerance_standard", "point": p,
                                                        "instrument": a["instrument_id"], "leg": leg(p)})
    return out


def _failed_meters(region: Path) -> dict[str, list[dict[str, Any]]]:
    """Meters kept in service after failing their verification (manifest ``noncompliance``,
    ``does_not_conform``): biased beyond their MPE, as the balance should find."""
    m = json.loads((region / "manifest.json").read_text(encoding="utf-8"))
    out: dict[str, list[dict[str, Any]]] = {}
    for f in m["noncompliance"]:
        if f["kind"] == "does_not_conform":
            out.setdefault(f["enterprise"], []).append({"kind": "failed_verification", "point": f["point_id"],
                                                        "instrument": f["instrument_id"], "leg": "accounting"})
    return out


def _stream_truth(region: Path, year: int, column: str = "co2_t") -> dict[tuple[str, str], float]:
    with (region / "truth" / "carbon_streams.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["enterprise"], r["stream"]): float(r[column]) for r in csv.DictReader(fh)
                if r["period"] == str(year) and r[column]}


#: Injected gross error of the balance validation: the larger of this many times the meter's own relative
#: standard uncertainty of the annual flow and GROSS_OVER_MDB times the balance's minimum detectable bias for the
#: meter; meters where that exceeds GROSS_MAX_BIAS [-] are counted as undetectable by the balance.
GROSS_SIGMAS = 5.0
GROSS_OVER_MDB = 1.2
GROSS_MAX_BIAS = 0.20


def _closeness(b: dict[str, Any], e: str, pb: Any, an: Any, carbon: dict[tuple[str, str], float]) -> None:
    """Reconciled against raw and truth for the flows of ``pb`` with a true annual carbon."""
    names = list(pb.network.measured_names)
    for j, nm in enumerate(an.names):
        if nm not in names or (e, nm) not in carbon or carbon[(e, nm)] <= 0:
            continue
        k = names.index(nm)
        true = carbon[(e, nm)]
        raw, rec, u = float(an.raw[k]), float(an.value[j]), float(an.u[j])
        b["flows"] += 1
        b["closer"] += abs(rec - true) <= abs(raw - true)
        b["covered"] += abs(rec - true) <= 1.959963984540054 * u
        b["rms_rel_raw"] += ((raw - true) / true) ** 2
        b["rms_rel_reconciled"] += ((rec - true) / true) ** 2
        raw_u = float(an.raw_u[k])
        b["z2_raw"] += ((raw - true) / raw_u) ** 2
        b["z2_reconciled"] += ((rec - true) / raw_u) ** 2


def _balance_check(v: CemsValidation, e: str, cmp: Comparison, plan: Any, carbon: dict[tuple[str, str], float],
                   rng: Any, run: int, ledgers: list[Any], faults: list[dict[str, Any]]) -> None:
    """Reconciled against raw and truth (with the plant's books and, for the record, without), the
    systematic-bias test on the plant as generated (a real fault on a balance meter named or not; an alarm
    elsewhere is a false alarm), and with an injected gross error on every meter that can carry one: at the
    larger of its detectable and nameable size when that is ≤ :data:`GROSS_MAX_BIAS` (must be named alone),
    else at its detectable size (must be detected; its nearest twin is printed), else counted undetectable."""
    from carbonmet.cems import plant_balance, reconcile_plant, systematic_bias_test

    assert cmp.legs is not None
    try:
        pb = plant_balance(cmp.legs[1], cmp.legs[0], plan, ledgers)
        pb0 = plant_balance(cmp.legs[1], cmp.legs[0], plan)
    except CemsError:
        return
    b = v.balance
    _closeness(b, e, pb, reconcile_plant(pb).annual, carbon)
    _closeness(v.balance_without_books, e, pb0, reconcile_plant(pb0).annual, carbon)
    seed_row = v.by_seed.setdefault(run, {k: 0 for k in _SEED_KEYS})
    names = list(pb.network.measured_names)
    bad = {f["instrument"]: f["kind"] for f in faults}
    faulty = [nm for nm in names if set(pb.instruments.get(nm, [])) & set(bad)]
    clean = systematic_bias_test(pb)
    if faulty:
        # how far off the faulty meter's flow really is over the year (raw against the true carbon), against
        # what the balance can detect and name for it
        meters = {m["flow"]: m for m in clean["meters"]}
        sums = pb.x.sum(axis=0)
        for nm in faulty:
            m = meters[nm]
            true = carbon.get((e, nm))
            off = float(sums[names.index(nm)] / true - 1.0) if true else math.nan
            mnb = m["minimum_nameable_bias"]
            cls = ("nameable" if mnb is not None and abs(off) >= mnb else
                   "detectable" if abs(off) >= m["minimum_detectable_bias"] else "below_detection")
            r = v.real_faults.setdefault(cls, {"faults": 0, "detected": 0, "named": 0, "in_candidates": 0})
            r["faults"] += 1
            r["detected"] += bool(clean["detected"])
            r["named"] += clean["named"] == nm
            r["in_candidates"] += nm in clean["candidates"]
            v.gross_rows.append({"run": run, "enterprise": e, "real_fault": nm, "class": cls,
                                 "kinds": sorted({bad[i] for i in pb.instruments[nm] if i in bad}),
                                 "off_true_pct": round(100 * off, 3), "mdb_pct": round(100 * m["minimum_detectable_bias"], 3),
                                 "mnb_pct": None if mnb is None else round(100 * mnb, 3),
                                 "detected": clean["detected"], "named": clean["named"],
                                 "candidates": clean["candidates"]})
        return  # a plant carrying a real fault tells nothing more about an injected one
    b["clean_runs"] += 1
    b["clean_false_alarms"] += bool(clean["detected"])
    seed_row["clean_runs"] += 1
    seed_row["clean_false_alarms"] += bool(clean["detected"])
    if clean["detected"]:
        return  # a plant whose balance already fails tells nothing about an injected error
    u_rel = np.sqrt(np.diagonal(pb.cov_year)) / np.abs(pb.x.sum(axis=0))
    meters = {m["flow"]: m for m in clean["meters"]}
    for k, nm in enumerate(names):
        m = meters[nm]
        detect = max(GROSS_SIGMAS * float(u_rel[k]), GROSS_OVER_MDB * m["minimum_detectable_bias"])
        mnb = m["minimum_nameable_bias"]
        name = max(detect, GROSS_OVER_MDB * mnb) if mnb is not None else math.inf
        klass = "nameable" if name <= GROSS_MAX_BIAS else "detect_only" if detect <= GROSS_MAX_BIAS else None
        if klass is None:
            b["undetectable"] += 1
            continue
        size = name if klass == "nameable" else detect
        bias = float(rng.choice([-1.0, 1.0])) * size
        t = systematic_bias_test(pb, bias={nm: bias})
        wrong = t["named"] is not None and t["named"] != nm
        for d in (b, seed_row):
            d[f"{klass}_injected"] += 1
            d[f"{klass}_detected"] += t["detected"]
            d[f"{klass}_named"] += t["named"] == nm
            d[f"{klass}_in_candidates"] += nm in t["candidates"]
            d["wrong_named"] += wrong
        if klass == "detect_only":
            tw = v.not_nameable.setdefault(nm, {"count": 0, "nearest": {}, "size_pct": []})
            tw["count"] += 1
            tw["nearest"][m["nearest"]] = tw["nearest"].get(m["nearest"], 0) + 1
            tw["size_pct"].append(round(100 * (GROSS_OVER_MDB * mnb if mnb is not None else math.inf), 1)
                                  if mnb is not None else None)
        v.gross_rows.append({"run": run, "enterprise": e, "meter": nm, "class": klass, "bias": round(bias, 5),
                             "u_rel": round(float(u_rel[k]), 5), "nameable_from": mnb, "nearest": m["nearest"],
                             "rho": m["rho"], "detected": t["detected"], "named": t["named"],
                             "candidates": t["candidates"]})



@use_case("none")
def validate_cems(ws: Workspace, scope: Scope, runs: int, *, enterprises: int = 12, year: int = 2025,
                  seed: int = 2000, rule_set: str = "hjt75_2007", progress: Callable[[int, int], None] | None = None,
                  balance: bool = True) -> CemsValidation:
    """Generate ``runs`` seeded regions and, through the real path (registry, plans, lab, store), count how often
    each monitored stream's CEMS 95 % interval covers its true emissions (stacks whose flow monitor or analyser
    carries an injected fault left out), and tabulate the comparison's flag against the injected faults
    (confusion table: enterprise with a faulty CEMS monitor / a faulty meter of the account / no fault × flagged). With ``balance``, reconcile every plant's
    carbon balance: are the reconciled annual flows closer to the truth than the raw ones, do their 95 % intervals
    cover it, and — on plants whose balance passes — is a gross error of :data:`GROSS_SIGMAS` times a meter's own
    relative uncertainty, injected on each meter in turn, named by the systematic-bias test? Touches no data of
    ``ws``."""
    from carbonmet.refdata import generate

    from ._lab import import_lab
    from ._plans import import_plan
    from ._registry import import_registry

    v = CemsValidation(runs)
    for r in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            region = Path(tmp) / "region"
            generate(region, enterprises=enterprises, year=year, seed=seed + r, resolution="hour")
            centre = Scope.centre()
            faulty = _faults(region)
            broken = _failed_meters(region)
            truth = _stream_truth(region, year)
            carbon = _stream_truth(region, year, "carbon_t")
            rng = np.random.default_rng(seed + r)
            with Workspace(f"sqlite:///{Path(tmp) / 'v.db'}", store_root=region) as w:
                import_registry(w, centre, sorted((region / "registry").glob("*.csv")))
                for f in sorted((region / "plans").glob("*.toml")):
                    import_plan(w, centre, f)
                import_lab(w, centre, [region / "lab" / "lab.csv"])
                for e in sorted({k[0] for k in truth}):
                    cmp = compare_enterprise(w, centre, e, year, rule_set=rule_set, seed=r)
                    assert cmp.legs is not None
                    cems = cmp.legs[0]
                    if balance:
                        with w.session() as ss:
                            plan = load_plan(ss, e)
                        ledgers, notes = _stock_ledgers(w, centre, plan, year)
                        v.ledger_notes += [{"run": str(r), "enterprise": e, **n} for n in notes]
                        _balance_check(v, e, cmp, plan, carbon, rng, seed + r, ledgers,
                                       faulty.get(e, []) + broken.get(e, []))
                    bad_points = {f["point"] for f in faulty.get(e, []) if f["leg"] == "cems"}
                    for s in cems.streams:
                        pts = {s.activity.get("flow_point"), s.activity.get("conc_point")}
                        if s.name == "flare" or pts & bad_points or (e, s.name) not in truth:
                            continue
                        val, u = cems.figures([s])
                        inside = abs(float(val[-1]) - truth[(e, s.name)]) <= 1.959963984540054 * float(u[-1])
                        v.stacks += 1
                        v.stacks_covered += inside
                    legs = {f["leg"] for f in faulty.get(e, [])}
                    flagged = cmp.flagged
                    row = "cems" if "cems" in legs else "accounting" if legs else "healthy"
                    v.table[row]["flagged" if flagged else "not_flagged"] += 1
                    key = ("tp" if flagged else "fn") if legs else ("fp" if flagged else "tn")
                    v.confusion[key] += 1
                    right = bool(set(cmp.suspects) & {f["instrument"] for f in faulty.get(e, [])})
                    v.suspects_right += right
                    y = cmp.year_row
                    v.rows.append({"run": r, "seed": seed + r, "enterprise": e, "faults": faulty.get(e, []),
                                   "flagged": flagged, "En": y["En"], "relative_deviation_pct":
                                   y["relative_deviation_pct"], "stability_p": cmp.stability.get("p"),
                                   "change_over_year_pct": cmp.stability.get("change_over_year_pct"),
                                   "suspects": cmp.suspects, "suspect_right": right})
        if progress is not None:
            progress(r + 1, runs)
    return v


@dataclass
class BalanceResult:
    """The plant's carbon balance of an enterprise-year, reconciled (碳平衡协调): monthly and annual
    reconciliation, the systematic-bias test over the year, and the comparison it came from."""

    reconciliation: Any  # carbonmet.cems.PlantReconciliation
    bias_test: dict[str, Any]
    comparison: Comparison
    ledger_notes: list[dict[str, str]] = field(default_factory=list)  # streams whose books could not be used

    def three_way(self) -> dict[str, Any]:
        """CEMS ↔ accounting ↔ reconciled balance per month and for the year (:func:`carbonmet.cems.three_way`)."""
        from carbonmet.cems import three_way

        return three_way(self.comparison, self.reconciliation)

    def to_dict(self) -> dict[str, Any]:
        return self.reconciliation.to_dict() | {"systematic_bias_test": self.bias_test,
                                                 "three_way": self.three_way(), "ledger_notes": self.ledger_notes}


@use_case("read")
def balance_enterprise(ws: Workspace, scope: Scope, enterprise: str, year: int, *,
                       rule_set: str = "hjt75_2007") -> BalanceResult:
    """Reconcile the carbon balance of ``enterprise`` for ``year`` from its account and CEMS leg
    (:func:`carbonmet.cems.plant_balance`, :func:`carbonmet.cems.reconcile_plant`,
    :func:`carbonmet.cems.systematic_bias_test`)."""
    from carbonmet.cems import plant_balance, reconcile_plant, systematic_bias_test

    cmp = compare_enterprise(ws, scope, enterprise, year, rule_set=rule_set)
    assert cmp.legs is not None
    with ws.session() as s:
        plan = load_plan(s, enterprise)
    ledgers, notes = _stock_ledgers(ws, scope, plan, year)
    try:
        pb = plant_balance(cmp.legs[1], cmp.legs[0], plan, ledgers)
    except CemsError as exc:
        raise ServiceError(str(exc)) from None
    return BalanceResult(reconcile_plant(pb), systematic_bias_test(pb), cmp, notes)
