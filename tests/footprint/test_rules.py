"""Product rules as data: the four packaged rules, and a local rule directory checked before use."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from carbonmet.footprint.rules import ALLOCATIONS, RuleError, load_rules, product_rule, product_rules


def test_the_packaged_rules_cover_methanol_meg_polyethylene_and_polypropylene() -> None:
    rules = product_rules()
    assert set(rules) == {"methanol", "meg", "polyethylene", "polypropylene"}
    for r in rules.values():
        assert r.boundary == "cradle-to-gate" and r.declared_unit == "kilogram"
        assert r.allocation in ALLOCATIONS and set(r.allocation_alternatives) <= set(ALLOCATIONS)
        assert {"direct_emissions", "purchased_electricity", "coal", "main_product"} <= set(r.required_items())
        assert 0 < r.property("carbon_fraction").value < 1
        assert "pcr_text_unseen" in r.flags          # no PCR text has been read yet: every rule says so
    assert product_rule("polyethylene").co_products == ("polypropylene",)
    assert product_rule("methanol").property("carbon_fraction").value == pytest.approx(12.011 / 32.042, abs=5e-5)


def test_an_unverified_property_stays_marked() -> None:
    r = product_rule("methanol")
    assert r.property("lhv_mj_per_kg").unverified and "unverified:lhv_mj_per_kg" in r.flags
    assert not r.property("carbon_fraction").unverified
    with pytest.raises(RuleError, match="properties.price"):
        r.property("price")


def _copy_rules(tmp: Path) -> Path:
    """A local rule directory holding copies of the packaged methanol and MEG rules."""
    d = tmp / "rules"
    d.mkdir()
    for name in ("methanol.toml", "meg.toml"):
        (d / name).write_text((resources.files("carbonmet.footprint") / "data" / "rules" / name).read_text("utf-8"),
                              encoding="utf-8")
    return d


@pytest.mark.parametrize(("old", "new", "where"), [
    ('allocation = "mass"', 'allocation = "volume"', "meg.toml: rule.allocation"),
    ('declared_unit = "kilogram"', 'declared_unit = "tonne"', "meg.toml: rule.declared_unit"),
    ('stage = "grid"', 'stage = "moon"', "meg.toml: inputs[1].stage"),
    ('origin = "metering"', 'origin = "rumour"', "meg.toml: inputs[5].origin"),
    ('product = "meg"', 'product = "methanol"', "methanol.toml: rule.product"),  # second of two for one product
    ('declared_unit_amount = 1', 'declared_unit_amount = 0', "meg.toml: rule.declared_unit_amount"),
    ('cas = "107-21-1"', '', "meg.toml: rule.cas"),
    ('gwp = "AR5"', 'gwp = [', "meg.toml: toml"),
])
def test_a_bad_local_rule_is_refused_naming_the_file_and_field(tmp_path: Path, old: str, new: str,
                                                                where: str) -> None:
    d = _copy_rules(tmp_path)
    f = d / "meg.toml"
    text = f.read_text("utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RuleError) as e:
        load_rules(d)
    assert str(e.value).startswith(where)


def test_a_good_local_rule_directory_loads(tmp_path: Path) -> None:
    assert set(load_rules(_copy_rules(tmp_path))) == {"methanol", "meg"}
    with pytest.raises(RuleError, match="no product rules"):
        load_rules(tmp_path / "rules" / "..")
