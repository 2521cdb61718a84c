"""gather_many: one hourly aggregation over the plans of several enterprises gives each enterprise the PlanData
gather gives it alone (a generated region of three enterprises, hourly readings, the real registry and plans)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from carbonmet.accounting import PlanData, gather, gather_many, plan_data_from_table
from carbonmet.cems import cems_points
from carbonmet.lab import query_results
from carbonmet.metering import aggregate_table
from carbonmet.services import (
    Scope,
    Workspace,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    point_catalog,
)
from carbonmet.sites import load_plan

YEAR = 2025
TZ = "Asia/Shanghai"
ENTS = ("E01", "E02", "E03")


def _same(a: PlanData, b: PlanData, ids: set[str]) -> None:
    """Field by field; figures compared on every instrument id the plans name plus one unknown id."""
    assert a.plan == b.plan and a.year == b.year and a.period_labels == b.period_labels
    np.testing.assert_array_equal(a.hour_period, b.hour_period)
    np.testing.assert_array_equal(a.hour_start, b.hour_start)
    assert list(a.hourly) == list(b.hourly)
    for p, h in a.hourly.items():
        g = b.hourly[p]
        for f in dataclasses.fields(h):
            x, y = getattr(h, f.name), getattr(g, f.name)
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                np.testing.assert_array_equal(x, y, err_msg=f"{p}.{f.name}")
            else:
                assert x == y, (p, f.name)
    assert list(a.lab) == list(b.lab)
    assert a.profile == b.profile and a.inputs == b.inputs
    for i in sorted(ids) + ["NO-SUCH-INSTRUMENT"]:
        for role in ("instrument", "analyser"):
            fa, fb = a.figures(i, role), b.figures(i, role)
            assert (fa is None) == (fb is None), i
            if fa is not None and fb is not None:
                for f in dataclasses.fields(fa):
                    x, y = getattr(fa, f.name), getattr(fb, f.name)
                    if isinstance(x, np.ndarray):
                        np.testing.assert_array_equal(x, y)
                    elif isinstance(x, float) and np.isnan(x):
                        assert np.isnan(y)
                    else:
                        assert x == y, (i, f.name)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("many")
    reg = root / "region"
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg) as w:
        generate_region(w, Scope.nobody(), reg, enterprises=len(ENTS), year=YEAR, seed=7, resolution="hour")
        c = Scope.centre()
        import_registry(w, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(w, c, f)
        import_lab(w, c, [reg / "lab" / "lab.csv"])
        yield w


def test_gather_many_equals_gather_per_plan(ws: Workspace) -> None:
    cat = point_catalog(ws, Scope.centre())
    z = ZoneInfo(TZ)
    with ws.session() as s:
        plans = [load_plan(s, e) for e in ENTS]
        assert all(p is not None for p in plans)
        plans_ = [p for p in plans if p is not None]
        labs = {p.enterprise: query_results(s, enterprise=p.enterprise, start=datetime(YEAR, 1, 1, tzinfo=z),
                                            end=datetime(YEAR + 1, 1, 1, tzinfo=z)) for p in plans_}
        # the accounted streams' points (with lab results), and the CEMS points
        many = gather_many(s, ws.store(), cat, plans_, YEAR, labs, tz=TZ)
        many_cems = gather_many(s, ws.store(), cat, plans_, YEAR, tz=TZ,
                                points_by_enterprise={p.enterprise: cems_points(p) for p in plans_})
        assert list(many) == list(ENTS) and list(many_cems) == list(ENTS)
        for p in plans_:
            ids = {i for r in p.parameters for i in r.instruments}
            one = gather(s, ws.store(), cat, p, YEAR, labs[p.enterprise], tz=TZ)
            assert one.hourly, p.enterprise  # the check compares something
            _same(many[p.enterprise], one, ids)
            one_cems = gather(s, ws.store(), cat, p, YEAR, [], tz=TZ, points=cems_points(p))
            assert one_cems.hourly, p.enterprise
            _same(many_cems[p.enterprise], one_cems, ids)
            # an instrument of another enterprise has no figures in this enterprise's data (as in gather)
            other = {i for q in plans_ if q.enterprise != p.enterprise for r in q.parameters for i in r.instruments}
            assert all(many[p.enterprise].figures(i, "instrument") is None for i in other - ids)


def test_plan_data_from_table_takes_its_points_out_of_a_wider_table(ws: Workspace) -> None:
    """A region-wide table with its points in another order: the PlanData of one plan is the one its own table
    gives."""
    cat = point_catalog(ws, Scope.centre())
    z = ZoneInfo(TZ)
    start, end = datetime(YEAR, 1, 1, tzinfo=z), datetime(YEAR + 1, 1, 1, tzinfo=z)
    with ws.session() as s:
        plans = [p for p in (load_plan(s, e) for e in ENTS) if p is not None]
    pts = {p.enterprise: cems_points(p) for p in plans}
    wide = aggregate_table(ws.store(), cat, [q for v in pts.values() for q in v], start, end, "hour", tz=TZ)
    rows_in_time = wide.sort_by([("point_id", "descending"), ("period_start", "ascending")])
    for p in plans:
        own = aggregate_table(ws.store(), cat, pts[p.enterprise], start, end, "hour", tz=TZ)
        a = plan_data_from_table(p, YEAR, rows_in_time, cat, lambda i, r: None, tz=TZ, points=pts[p.enterprise])
        b = plan_data_from_table(p, YEAR, own, cat, lambda i, r: None, tz=TZ, points=pts[p.enterprise])
        assert len(b.hourly) == len(pts[p.enterprise])
        _same(a, b, set())
        # and the hourly amount is the table's value_measured of that point, hour by hour
        for q, h in b.hourly.items():
            col = own.filter(own.column("point_id").to_numpy(zero_copy_only=False) == q)
            np.testing.assert_array_equal(h.measured, col.column("value_measured").to_numpy())
