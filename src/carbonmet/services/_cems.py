"""CEMS use cases (碳监测与比对): the CEMS leg of an enterprise-year, its comparison with the account, and the
validation of both against generated regions with known truth."""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

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
        "clean_runs": 0, "clean_false_alarms": 0,
        "injected": 0, "detected": 0, "named": 0, "in_candidates": 0, "wrong_named": 0, "undetectable": 0,
        "z2_raw": 0.0, "z2_reconciled": 0.0})
    gross_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.stacks_covered / self.stacks if self.stacks else math.nan

    def to_dict(self) -> dict[str, Any]:
        b = dict(self.balance)
        if b["flows"]:
            b["rms_rel_raw"] = math.sqrt(b["rms_rel_raw"] / b["flows"])
            b["rms_rel_reconciled"] = math.sqrt(b["rms_rel_reconciled"] / b["flows"])
            b["rms_z_raw"] = math.sqrt(b.pop("z2_raw") / b["flows"])
            b["rms_z_reconciled"] = math.sqrt(b.pop("z2_reconciled") / b["flows"])
        return {"runs": self.runs, "stacks": self.stacks, "stacks_covered": self.stacks_covered,
                "coverage": self.coverage, "confusion": self.confusion, "by_leg": self.table,
                "suspects_right": self.suspects_right,
                "balance": b, "gross_errors": self.gross_rows, "rows": self.rows}


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


def _balance_check(v: CemsValidation, e: str, cmp: Comparison, plan: Any, carbon: dict[tuple[str, str], float],
                   rng: Any, run: int) -> None:
    """Reconciled against raw and truth, and the systematic-bias test with and without an injected gross error
    on every meter that can carry one."""
    from carbonmet.cems import plant_balance, reconcile_plant, systematic_bias_test

    assert cmp.legs is not None
    try:
        pb = plant_balance(cmp.legs[1], cmp.legs[0], plan)
    except CemsError:
        return
    pr = reconcile_plant(pb)
    an = pr.annual
    b = v.balance
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
    clean = systematic_bias_test(pb)
    b["clean_runs"] += 1
    b["clean_false_alarms"] += bool(clean["detected"])
    if clean["detected"]:
        return  # a plant whose balance already fails tells nothing about an injected error
    u_rel = np.sqrt(np.diagonal(pb.cov_year)) / pb.x.sum(axis=0)
    mdb = {m["flow"]: m["minimum_detectable_bias"] for m in clean["meters"]}
    for k, nm in enumerate(names):
        size = max(GROSS_SIGMAS * float(u_rel[k]), GROSS_OVER_MDB * mdb[nm])
        if size > GROSS_MAX_BIAS:
            b["undetectable"] += 1
            continue
        bias = float(rng.choice([-1.0, 1.0])) * size
        t = systematic_bias_test(pb, bias={nm: bias})
        b["injected"] += 1
        b["detected"] += t["detected"]
        b["named"] += t["named"] == nm
        b["in_candidates"] += nm in t["candidates"]
        b["wrong_named"] += t["named"] is not None and t["named"] != nm
        v.gross_rows.append({"run": run, "enterprise": e, "meter": nm, "bias": round(bias, 5),
                             "u_rel": round(float(u_rel[k]), 5), "detected": t["detected"], "named": t["named"],
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
                        _balance_check(v, e, cmp, plan, carbon, rng, r)
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

    def three_way(self) -> dict[str, Any]:
        """CEMS ↔ accounting ↔ reconciled balance per month and for the year (:func:`carbonmet.cems.three_way`)."""
        from carbonmet.cems import three_way

        return three_way(self.comparison, self.reconciliation)

    def to_dict(self) -> dict[str, Any]:
        return self.reconciliation.to_dict() | {"systematic_bias_test": self.bias_test,
                                                 "three_way": self.three_way()}


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
    try:
        pb = plant_balance(cmp.legs[1], cmp.legs[0], plan)
    except CemsError as exc:
        raise ServiceError(str(exc)) from None
    return BalanceResult(reconcile_plant(pb), systematic_bias_test(pb), cmp)
