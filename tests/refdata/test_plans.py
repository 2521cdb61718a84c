"""Every enterprise of the reference region has a monitoring plan that imports cleanly and names only
points, lab streams and instruments that exist in the generated registry and lab files; it states the kind of
every one of its source streams (the streams table) as the accounting needs it."""

from __future__ import annotations

import csv
from pathlib import Path

from carbonmet.factors import resolve
from carbonmet.quantities import conversion_factor
from carbonmet.refdata import Manifest, constants
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
        assert by[("boiler_coal", "oxidation_rate")].ref.endswith("/oxidation_rate/bituminous_coal")
        assert by[("natural_gas", "oxidation_rate")].ref.endswith("/oxidation_rate/natural_gas")
        assert ("gasifier_coal", "oxidation_rate") not in by  # a carbon-balance raw material is not burned
        # every stack's CEMS flow and CO2 are in the plan
        cems = {p for p, r in points.items() if r["hj212_code"] in ("a00000", "a05001") and p.startswith(ent + ".")}
        assert cems <= plan.point_refs()


def test_every_stream_of_every_plan_has_its_kind(region: tuple[Path, Manifest]) -> None:
    """One streams row per source stream of the plan, kinds as the accounting treats them; products carry their
    carrier as material, a default carbon content and an activity-data row from their own point."""
    root, manifest = region
    points = {r["point_id"]: r for r in _csv(root / "registry/points.csv")}
    physics = constants()["physics"]
    seen_kinds: set[str] = set()
    for e in manifest.enterprises_list:
        plan = read_plan(root / "plans" / f"{e['enterprise']}.toml")  # read_plan applies every streams rule
        codes = [r.source_stream for r in plan.streams]
        assert sorted(codes) == sorted({r.source_stream for r in plan.parameters})
        kind = {r.source_stream: r for r in plan.streams}
        seen_kinds |= {r.kind for r in plan.streams}
        assert (kind["gasifier_coal"].kind, kind["gasifier_coal"].balance) == ("raw_material", "gasification")
        assert (kind["gasifier_slag"].kind, kind["gasifier_slag"].balance) == ("waste", "gasification")
        assert (kind["boiler_coal"].kind, kind["boiler_coal"].material, kind["boiler_coal"].form) == (
            "fuel_combustion", "bituminous_coal", "per_mass")
        assert (kind["boiler_ash"].kind, kind["boiler_ash"].balance) == ("residue", "boiler_coal")
        assert (kind["natural_gas"].material, kind["purchased_electricity"].material) == ("natural_gas", "national")
        for code, r in kind.items():
            if code.startswith("boiler_stack_") or code in ("rectisol_vent", "flare", "mto_regenerator"):
                assert r.kind == "measured_emission", code
            if r.kind in ("product", "by_product"):
                # the product's meter (shipments and tank gauging of refdata 1.6 cross-check it, outside the plan)
                (pt,) = [p for pid, p in points.items() if pid.startswith(f"{e['enterprise']}.")
                         and p["source_stream"] == code and p["quantity"] == "mass"
                         and not pid.endswith((".SHIP", ".TANK"))]
                assert r.balance == "gasification" and r.material == pt["carrier"]
                rows = {x.parameter: x for x in plan.rows_for(code)}
                assert rows["activity_data"].ref == pt["point_id"] and rows["activity_data"].unit == "t"
                assert rows["carbon_content"].source == "default"
                assert rows["carbon_content"].ref.endswith(f"/carbon_content/{pt['carrier']}")
        assert sum(r.kind == "product" for r in plan.streams) >= 1
        # the process wastewater leaves the balance as a waste: metered mass, monthly total-carbon analyses
        assert (kind["wastewater"].kind, kind["wastewater"].balance) == ("waste", "gasification")
        ww = {x.parameter: x for x in plan.rows_for("wastewater")}
        ent = e["enterprise"]
        assert (ww["activity_data"].source, ww["activity_data"].ref, ww["activity_data"].unit) == (
            "point", f"{ent}.WASTEWATER", "t")
        assert points[f"{ent}.WASTEWATER"]["carrier"] == "wastewater"
        assert (ww["carbon_content"].source, ww["carbon_content"].ref, ww["carbon_content"].frequency) == (
            "lab", f"{ent}.WASTEWATER.LAB", "monthly")
        if "purchased_steam" in kind:
            steam = kind["purchased_steam"]
            assert (steam.kind, steam.material, steam.enthalpy_kj_per_kg, steam.enthalpy_u_rel) == (
                "purchased_heat", "steam", physics["steam_enthalpy_kj_per_kg"], physics["steam_enthalpy_u_rel_pct"])
            assert steam.note is not None and "[A]" in steam.note
        if e["recovered_share"] > 0:
            assert kind["recovered_co2"].kind == "co2_recovered"
    assert {"raw_material", "product", "by_product", "waste", "residue", "fuel_combustion", "measured_emission",
            "purchased_electricity"} <= seen_kinds


def test_every_default_id_of_every_plan_resolves_in_its_rows_unit(region: tuple[Path, Manifest]) -> None:
    """The default-value ids the plans write (oxidation rates, product carbon contents, grid and steam factors) are
    ones the factors package resolves, and each value converts to the unit its plan row states."""
    root, manifest = region
    refs: dict[str, str] = {}
    for e in manifest.enterprises_list:
        plan = read_plan(root / "plans" / f"{e['enterprise']}.toml")
        refs |= {r.ref: r.unit for r in plan.parameters if r.source == "default"}
    assert any("/carbon_content/" in r for r in refs) and any("/oxidation_rate/" in r for r in refs)
    for ref, unit in sorted(refs.items()):
        v = resolve(ref)
        assert 0 <= v.value * conversion_factor(v.unit, unit) <= 100, ref
