"""Monitoring-plan use cases (监测计划): import a plan file as a new version, show, diff and list versions.

A plan belongs to its enterprise (the header's ``enterprise``, an organisation code of the registry):
importing needs that organisation in the write scope, reading it in the read scope. A plan is checked
against the registry before it is stored: every site and every metering or laboratory sample point it
names is the enterprise's, every instrument of a metering point one of its instruments, every
instrument of a laboratory stream a registered one (an outside laboratory may analyse) — otherwise the
file is refused naming the row and field, as for any other bad field.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbonmet.registry.models import Instrument, MeasurementPoint, Organisation, Site
from carbonmet.sites import (
    MonitoringPlan,
    PlanDiff,
    PlanError,
    PlanProblem,
    PlanVersion,
    diff,
    load_plan,
    plan_versions,
    read_plan,
    save_plan,
)

from ._errors import NotInScope, ServiceError
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_PLAN = "monitoring plan 监测计划"


def _parameters_file(path: Path) -> tuple[str, int]:
    """Where :func:`read_plan` numbers parameter rows: (file name, number of the first row)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        stem = path.stem
        prefix = stem.rsplit("-", 1)[0] if stem.rsplit("-", 1)[-1] in ("plan", "parameters", "changes",
                                                                       "streams") else stem
        return str(path.with_name(f"{prefix}-parameters.csv")), 2
    if suffix in (".xlsx", ".xlsm"):
        return f"{path}[parameters]", 2
    return str(path), 1  # TOML: parameters[1], parameters[2], …


def _check_against_registry(s: Session, plan: MonitoringPlan, path: Path) -> None:
    """Refuse a plan whose enterprise is not registered, or whose rows name points or instruments that
    are not the enterprise's (``file:row:field: reason`` for each)."""
    org = s.scalar(select(Organisation).where(Organisation.code == plan.enterprise))
    if org is None:
        raise PlanError(str(path), [PlanProblem(str(path), "plan", "enterprise",
                                                f"单位 {plan.enterprise!r} 未登记 / organisation {plan.enterprise!r} "
                                                "is not in the registry (import the registry first)")])
    points = set(s.scalars(select(MeasurementPoint.code).join(Site, Site.id == MeasurementPoint.site_id)
                           .where(Site.org_id == org.id)))
    sites = set(s.scalars(select(Site.code).where(Site.org_id == org.id)))
    instruments = set(s.scalars(select(Instrument.code).where(Instrument.org_id == org.id)))
    # a laboratory stream may be analysed by an outside laboratory's instruments: registered is enough
    lab = {i for r in plan.parameters if r.source == "lab" for i in r.instruments}
    analysers = set(s.scalars(select(Instrument.code).where(Instrument.code.in_(sorted(lab))))) if lab else set()
    fname, first = _parameters_file(path)
    problems: list[PlanProblem] = []
    for i, r in enumerate(plan.parameters):
        row = f"parameters[{i + first}]" if first == 1 else i + first
        if r.site_code not in sites:
            problems.append(PlanProblem(fname, row, "site_code", f"{r.site_code!r} 不是 {plan.enterprise} 的场所 / "
                                        f"is not a site of {plan.enterprise} in the registry"))
        if r.source in ("point", "lab") and r.ref not in points:
            problems.append(PlanProblem(fname, row, "ref", f"{r.ref!r} 不是 {plan.enterprise} 的计量点 / is not a "
                                        f"measurement point of {plan.enterprise} in the registry"))
        for inst in r.instruments:
            if r.source == "point" and inst not in instruments:
                problems.append(PlanProblem(fname, row, "instruments", f"{inst!r} 不是 {plan.enterprise} 的计量器具 / "
                                            f"is not an instrument of {plan.enterprise} in the registry"))
            elif r.source == "lab" and inst not in analysers:
                problems.append(PlanProblem(fname, row, "instruments", f"{inst!r} 未登记 / is not an instrument in "
                                            "the registry"))
    if problems:
        raise PlanError(str(path), problems)


@use_case("write")
def import_plan(ws: Workspace, scope: Scope, path: str | Path) -> PlanVersion:
    """Import a monitoring-plan file (TOML, XLSX or CSV) as its enterprise's next version (监测计划导入).

    Returns
    -------
    PlanVersion
        The version stored, or — ``created`` False — the current version when the file's content equals it.

    Raises
    ------
    AccessDenied
        The plan's enterprise is not in the write scope (checked before anything is read from the database).
    PlanError
        A bad file (``file:row:field: reason``), an enterprise not in the registry, a point, site or
        instrument that is not the enterprise's, or a changed plan not numbered as the next version.
    """
    p = Path(path)
    plan = read_plan(p)
    scope.check_write(plan.enterprise, "plan import 监测计划导入")  # early, before the registry is read
    with guarded_write(ws, scope, "plan import 监测计划导入") as s:
        _check_against_registry(s, plan, p)
        return save_plan(s, plan, scope.actor, source=str(p))


@use_case("read")
def show_plan(ws: Workspace, scope: Scope, enterprise: str, version: int | None = None) -> MonitoringPlan:
    """A stored version of an enterprise's plan (default: the current one); :class:`NotInScope` if the
    enterprise is not readable or has no such version."""
    scope.check_read(enterprise, _PLAN, enterprise)
    with ws.session() as s:
        plan = load_plan(s, enterprise, version)
    if plan is None:
        raise NotInScope(_PLAN, enterprise if version is None else f"{enterprise} v{version}")
    return plan


@use_case("read")
def diff_plans(ws: Workspace, scope: Scope, enterprise: str, old: int | None = None, new: int | None = None
               ) -> PlanDiff:
    """What changed between two stored versions (default: the one before the current, and the current).

    Raises
    ------
    NotInScope
        The enterprise is not readable, or a version does not exist.
    ServiceError
        Only one version is stored and no versions were named.
    """
    scope.check_read(enterprise, _PLAN, enterprise)
    with ws.session() as s:
        b = load_plan(s, enterprise, new)
        if b is None:
            raise NotInScope(_PLAN, enterprise if new is None else f"{enterprise} v{new}")
        want = old if old is not None else b.version - 1
        if want < 1:
            raise ServiceError(f"{enterprise} 只有第 {b.version} 版，无可比较的版本 / {enterprise} has only version "
                               f"{b.version}: nothing to compare it with")
        a = load_plan(s, enterprise, want)
    if a is None:
        raise NotInScope(_PLAN, f"{enterprise} v{want}")
    return diff(a, b)


@use_case("read")
def list_plans(ws: Workspace, scope: Scope, enterprise: str | None = None) -> list[PlanVersion]:
    """Stored plan versions of the enterprises in the read scope (or of one), oldest first per enterprise."""
    if enterprise is not None:
        scope.check_read(enterprise, _PLAN, enterprise)
    with ws.session() as s:
        return [v for v in plan_versions(s, enterprise) if scope.can_read(v.enterprise)]
