"""Every enterprise of the reference region has a monitoring plan that imports cleanly and names only
points, lab streams and instruments that exist in the generated registry and lab files."""

from __future__ import annotations

import csv
from pathlib import Path

from carbonmet.refdata import Manifest
from carbonmet.sites import read_plan


def _csv(p: Path) -> list[dict[str, str]]:
    with p.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_enterprise_has_a_consistent_plan(region: tuple[Path, Manifest]) -> None:
    root, manifest = region
    assert "plans" in manifest.outputs and manifest.counts["points"] > 0
    points = {r["point_id"]: r for r in _csv(root / "registry/points.csv")}
    instruments = {r["instrument_id"]: r for r in _csv(root / "registry/instruments.csv")}
    lab_points = {r["point_id"] for r in _csv(root / "lab/lab.csv")}
    enterprises = [e["enterprise"] for e in manifest.enterprises_list]
    assert len(enterprises) == manifest.enterprises
    for ent in enterprises:
        plan = read_plan(root / "plans" / f"{ent}.toml")
        assert plan.enterprise == ent and plan.version == 1 and plan.changes
        for r in plan.parameters:
            if r.source == "point":
                p = points[r.ref]
                assert p["unit"] == r.unit and p["source_stream"] == r.source_stream
                assert all(instruments[i]["point_id"] == r.ref for i in r.instruments)
            elif r.source == "lab":
                assert r.ref in lab_points and points[r.ref]["reading_kind"] == "sample"
                assert all(i in instruments and not instruments[i]["point_id"] for i in r.instruments)
            else:
                assert not r.instruments and "/" in r.ref
            assert r.site_code.startswith(ent)
        by = {(r.source_stream, r.parameter): r for r in plan.parameters}
        coal = by[("gasifier_coal", "activity_data")]
        assert coal.source == "point" and instruments[coal.instruments[0]]["type"] == "belt_scale"
        assert by[("gasifier_coal", "carbon_content")].source == "lab"
        assert by[("boiler_coal", "ncv")].source == "lab"
        assert by[("boiler_coal", "oxidation_rate")].source == "default"
        # every stack's CEMS flow and CO2 are in the plan
        cems = {p for p, r in points.items() if r["hj212_code"] in ("a00000", "a05001") and p.startswith(ent + ".")}
        assert cems <= plan.point_refs()
