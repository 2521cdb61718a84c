"""Accounting use cases (碳核算): an enterprise-year from its plan and data, an inventory file, and the
statistical validation against generated regions with known truth."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carbonmet.accounting import (
    Account,
    account_from_data,
    account_inventory,
    affected_tonnes,
    gather,
    read_inventory,
)
from carbonmet.lab import query_results
from carbonmet.sites import load_plan

from ._cache import LRUCache, registry_version
from ._deps import store_generation
from ._errors import NotInScope, ServiceError
from ._metering import point_catalog
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_ACCOUNT = "emission account 排放核算"
_LOT = timedelta(days=7)  # a lot sampled before 1 January may stand for the first hours of the year


#: Computed results kept per process (least recently used first out): gathered data and accounts.
_CACHE_SIZE = 64  # an E01 data set with its LPU + MCM account holds ~8.5 MB: ≤ ~0.5 GB in all
_cache: LRUCache[Any] = LRUCache(_CACHE_SIZE)


def _data_version(ws: Workspace) -> tuple[Any, ...]:
    """What an enterprise-year's inputs depend on, cheaply: the database and the head of its audit log (every
    write to plans, registry, certificates, lab results and factors appends an entry), and the readings store
    and its journal (every committed ingest, from any process)."""
    if ws.store_root is None:
        raise ServiceError("工作区未配置数据存储目录 / the workspace has no readings store (store_root)")
    root = ws.store_root.absolute()
    return (*registry_version(ws), str(root), store_generation(root), ws.time_zone, ws.catalog_files)


def _cached(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    return _cache.get_or_compute(key, compute)


@use_case("read")
def account_enterprise(ws: Workspace, scope: Scope, enterprise: str, year: int, *, method: str = "both",
                       trials: int = 100_000, seed: int | None = 0, profile: str | None = None) -> Account:
    """The account of ``enterprise`` for ``year`` from its current monitoring plan, the readings store, its
    laboratory results and the registry's certificates.

    The gathered data and the account are kept in a bounded per-process cache keyed by the enterprise, year,
    profile, the caller's read set, the method, trials and seed, and the data version (the audit log's head and
    the readings store's journal, :func:`_data_version`): any audited write or committed ingest makes a new key,
    so a cached answer is the one a fresh computation would give. With ``seed=None`` (a fresh Monte Carlo draw
    each time) the account is computed anew. Treat the returned account as read-only.

    Raises
    ------
    NotInScope
        The enterprise is not in the read scope, or it has no stored monitoring plan.
    ServiceError
        The plan does not say which streams are fuels, materials or products (no ``streams`` table).
    """
    scope.check_read(enterprise, _ACCOUNT, enterprise)
    base = ("gather", enterprise, year, profile, scope.read, scope.all_access, scope.read_all, _data_version(ws))

    def gathered() -> Any:
        cat = point_catalog(ws, scope)
        z = ZoneInfo(ws.time_zone)
        with ws.session() as s:
            plan = load_plan(s, enterprise)
            if plan is None:
                raise NotInScope("monitoring plan 监测计划", enterprise)
            lab = query_results(s, enterprise=enterprise, start=datetime(year, 1, 1, tzinfo=z) - _LOT,
                                end=datetime(year + 1, 1, 1, tzinfo=z))
            return gather(s, ws.store(), cat, plan, year, lab, tz=ws.time_zone, profile=profile)

    def computed() -> Account:
        try:
            return account_from_data(_cached(base, gathered), method=method, trials=trials,  # type: ignore[arg-type]
                                     seed=seed)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None

    if seed is None:
        return computed()
    return _cached((*base, "account", method, trials, seed), computed)  # type: ignore[no-any-return]


@use_case("none")
def account_inventory_file(ws: Workspace, scope: Scope, path: str | Path, *, method: str = "both",
                           trials: int = 100_000, seed: int | None = 0) -> Account:
    """The account of a stand-alone inventory file (docs/inventory.md); reads no stored data.

    Raises
    ------
    carbonmet.accounting.InventoryError
        Every problem of the file with place and field; nothing is computed.
    """
    return account_inventory(read_inventory(path), method=method, trials=trials, seed=seed)  # type: ignore[arg-type]


@dataclass
class Validation:
    """Interval coverage of generated enterprise-years (核算区间覆盖率验证)."""

    runs: int
    enterprise_years: int = 0
    covered: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    covered_independent: int = 0
    flagged: int = 0
    flagged_outside: int = 0
    unflagged_outside: int = 0

    @property
    def coverage(self) -> float:
        return self.covered / self.enterprise_years if self.enterprise_years else math.nan

    @property
    def coverage_independent(self) -> float:
        return self.covered_independent / self.enterprise_years if self.enterprise_years else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "enterprise_years": self.enterprise_years, "covered": self.covered,
                "coverage": self.coverage, "coverage_independent_periods": self.coverage_independent,
                "flagged": self.flagged, "flagged_outside": self.flagged_outside,
                "unflagged_outside": self.unflagged_outside, "rows": self.rows}


@use_case("none")
def validate_accounting(ws: Workspace, scope: Scope, runs: int, *, enterprises: int = 12, year: int = 2025,
                        seed: int = 1000, method: str = "lpu", progress: Callable[[int, int], None] | None = None,
                        keep: Path | None = None) -> Validation:
    """Generate ``runs`` seeded regions, account every enterprise-year through the real path (registry import,
    plans, lab import, store, accounting) in a throw-away workspace, and count how often the 95 % interval
    covers the true total — also under the independent-periods assumption, to show what the correlated
    treatment of systematic errors is worth. Touches no data of ``ws`` (tenancy ``none``)."""
    from carbonmet.refdata import generate

    from ._lab import import_lab
    from ._plans import import_plan
    from ._registry import import_registry

    v = Validation(runs)
    for r in range(runs):
        with tempfile.TemporaryDirectory(dir=keep) as tmp:
            root = Path(tmp)
            region = root / "region"
            generate(region, enterprises=enterprises, year=year, seed=seed + r, resolution="hour")
            centre = Scope.centre()
            with Workspace(f"sqlite:///{root / 'v.db'}", store_root=region) as w:
                import_registry(w, centre, sorted((region / "registry").glob("*.csv")))
                for f in sorted((region / "plans").glob("*.toml")):
                    import_plan(w, centre, f)
                import_lab(w, centre, [region / "lab" / "lab.csv"])
                truth = _truth(region)
                for e in sorted(truth):
                    acc = account_enterprise(w, centre, e, year, method=method, trials=20_000, seed=r)
                    tot = acc.total
                    true = truth[e]
                    lo, hi = tot["interval"]
                    inside = lo <= true <= hi
                    u_ind = acc.u_independent_periods()
                    inside_ind = abs(tot["value"] - true) <= tot["k"] * u_ind
                    flagged = not tot["valid"]
                    v.enterprise_years += 1
                    v.covered += inside
                    v.covered_independent += inside_ind
                    v.flagged += flagged
                    v.flagged_outside += flagged and not inside
                    v.unflagged_outside += (not flagged) and not inside
                    v.rows.append({"run": r, "seed": seed + r, "enterprise": e, "value": tot["value"], "u": tot["u"],
                                   "U": tot["U"], "truth": true, "z": (tot["value"] - true) / tot["u"] if tot["u"] else
                                   math.nan, "inside": inside, "inside_independent": inside_ind, "valid": tot["valid"]})
        if progress is not None:
            progress(r + 1, runs)
    return v


def _truth(region: Path) -> dict[str, float]:
    """True total per enterprise: direct emitted + purchased electricity + purchased steam [tCO2]."""
    import csv

    with (region / "truth" / "enterprises.csv").open(encoding="utf-8", newline="") as fh:
        return {r["enterprise"]: float(r["direct_emitted_co2_t"]) + float(r["indirect_electricity_co2_t"])
                + float(r["indirect_steam_co2_t"]) for r in csv.DictReader(fh)}


@use_case("read")
def trace_accounts(ws: Workspace, scope: Scope, standard: str, date_from: date, date_to: date, year: int,
                   error_rel: float, *, max_depth: int = 25) -> dict[str, Any]:
    """Reverse traceability down to tonnes (超差追溯到排放量): the standard's affected data periods (as
    :func:`trace_standard` finds them, seen from the scope) and, for every enterprise-year account that reads an
    affected instrument, the tonnes it measured in the affected window and how the stream and the total (value
    and u) would move if its readings were ``error_rel`` [-] off.

    Points that feed no account (CEMS stacks and vents, checked by the CEMS comparison instead) are listed as such.
    """
    from ._registry import trace_standard

    tr = trace_standard(ws, scope, standard, date_from, date_to, max_depth=max_depth)
    cat = point_catalog(ws, scope)
    by_ent: dict[str, list[Any]] = {}
    for p in tr.data_periods:
        info = cat.get(p.point)
        if info is not None:
            by_ent.setdefault(info.enterprise, []).append(p)
    accounts: list[dict[str, Any]] = []
    not_accounted: list[dict[str, Any]] = []
    for e, periods in sorted(by_ent.items()):
        try:
            acc = account_enterprise(ws, scope, e, year, method="lpu")
        except (NotInScope, ServiceError) as exc:
            not_accounted += [{"point": p.point, "instrument": p.instrument, "reason": str(exc)} for p in periods]
            continue
        for p in periods:
            y0, y1 = date(year, 1, 1), date(year + 1, 1, 1)
            if p.start >= y1 or (p.end is not None and p.end <= y0):
                continue
            rows = affected_tonnes(acc, p.instrument, p.start, p.end, error_rel)
            if rows:
                accounts += [r | {"point": p.point, "certificate": p.certificate} for r in rows]
            else:
                not_accounted.append({"point": p.point, "instrument": p.instrument,
                                      "reason": "该计量点不参与核算 (直接监测/比对用) / the point feeds no accounted stream "
                                                "(measured emission, for the CEMS comparison)"})
    return {"trace": tr.to_dict(), "year": year, "error_rel": error_rel, "accounts": accounts,
            "not_accounted": not_accounted}
