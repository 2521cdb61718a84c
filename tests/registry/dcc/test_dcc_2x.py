"""DCC 2.x and elements carbonmet does not read: the rest is read, what was not read is listed with its path.

``dcc_2_4_0_no_quantity.xml`` (tests/data/dcc) is written by hand in the DCC 2.4.0 / D-SI 1.x structure of PTB's published 2.4.0 examples
(the silicon-sphere certificate): ``si:expandedUnc``, a ``dcc:noQuantity`` nominal value and marking beside the
measured mass, a ``dcc:text`` remark in the data, a D-SI 1.x ``si:list``, and an element from a later schema
that no version here knows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from carbonmet.registry.dcc import DccError, read_dcc

PUBLISHED = Path(__file__).parents[2] / "data" / "dcc" / "published"

DCC_24 = (Path(__file__).parents[2] / "data" / "dcc" / "dcc_2_4_0_no_quantity.xml").read_text(encoding="utf-8")


def test_dcc_2x_with_no_quantity_reads_what_it_can_and_lists_the_rest() -> None:
    c = read_dcc(DCC_24.encode())
    assert c.schema_version == "2.4.0" and c.unique_identifier == "ZL2024-0815"
    got = {(r.name, r.values, r.pint_unit) for r in c.results}
    assert got == {("示值误差", (0.40,), "%"), ("流量点[0]", (10.0,), "m ** 3 / h"), ("流量点[1]", (40.0,), "m ** 3 / h")}
    err = next(r for r in c.results if r.name == "示值误差")
    assert err.expanded_uncertainty == (0.30,) and err.coverage_factor == (2.0,)
    unread = "\n".join(c.unsupported)
    assert len(c.unsupported) == 5, unread
    assert "dcc:quantity[1]/dcc:noQuantity: dcc:noQuantity '1 kg' not read" in unread
    assert "dcc:quantity[2]/dcc:noQuantity: dcc:noQuantity '无 none' not read" in unread
    assert "dcc:data/dcc:text: dcc:text '按 JJG 99 测量 / measured per JJG 99' not read" in unread
    assert "si:list/si:complex: si:complex not read (only si:real members of an si:list are read)" in unread
    assert "{https://ptb.de/dcc}futureQuantity" in unread or "dcc:futureQuantity" in unread


def test_dcc_2x_imports_through_the_service_with_a_not_read_list(engine: Engine) -> None:
    from carbonmet.registry import import_files
    from carbonmet.services import Scope, Workspace, import_dcc_certificate

    _small_registry(engine, import_files)
    ws = Workspace(engine=engine)
    out = import_dcc_certificate(ws, Scope.centre(), DCC_24.encode(), issuer="PROV-LAB")
    assert out["cert_no"] == "ZL2024-0815" and out["instrument"] == "FT-NG-01"
    assert out["U"] == pytest.approx(0.30) and out["unit_display"] == "%"
    assert out["results"] == 3
    assert len(out["not_read"]) == 5 and any("noQuantity '1 kg'" in n for n in out["not_read"])
    assert out["signature"]["status"] == "unsigned" and out["signature"]["flag"] is None


def _small_registry(engine: Engine, import_files: object) -> None:
    from carbonmet.db import session_scope
    from carbonmet.registry.rows import InstrumentRow, OrganisationRow
    from carbonmet.registry.write import upsert_instrument, upsert_organisation

    with session_scope(engine) as s:
        upsert_organisation(s, OrganisationRow(org_code="PROV-LAB", name="示例省计量测试研究院",
                                               kind="metrology_institute"))
        upsert_organisation(s, OrganisationRow(org_code="E01", name="甲煤化有限公司", kind="enterprise"))
        upsert_instrument(s, InstrumentRow(serial="TB2301-0457", instrument_id="FT-NG-01", org_code="E01",
                                           type="gas_flow_meter"))
        upsert_instrument(s, InstrumentRow(serial="PT100-77", instrument_id="TT-01", org_code="E01",
                                           type="temperature_sensor"))


def test_resistance_in_base_units_is_shown_as_ohm(engine: Engine) -> None:
    """The published GEMIMEG resistance-thermometer DCC states R in kg·m²/(A²·s³): shown as Ω, stored as read."""
    from carbonmet.registry import import_files
    from carbonmet.services import Scope, Workspace, get_certificate, import_dcc_certificate

    _small_registry(engine, import_files)
    ws = Workspace(engine=engine)
    xml = (PUBLISHED / "dcc_gp_temperatur_resistance_v12.xml").read_bytes()
    out = import_dcc_certificate(ws, Scope.centre(), xml, instrument="TT-01", issuer="PROV-LAB")
    cert = get_certificate(ws, Scope.centre(), out["cert_no"])
    by_unit = {r["unit"]: r["unit_display"] for r in cert["results"]}
    assert by_unit["kg * m ** 2 / A ** 2 / s ** 3"] == "Ω"
    assert by_unit["K"] == "K" and by_unit["1 / K"] == "1/K"


# --- fuzz: unknown or broken elements in the data never end in a traceback ------------------------------------
_TAGS = st.sampled_from(["dcc:noQuantity", "dcc:text", "dcc:formula", "dcc:byteData", "dcc:xml", "dcc:quantity",
                         "dcc:list", "si:real", "si:list", "si:hybrid", "si:complex", "si:realListXMLList",
                         "dcc:somethingNew", "si:value", "si:unit", "dcc:name"])
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@st.composite
def _fragment(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(_TAGS)
    if depth < 2 and draw(st.booleans()):
        inner = "".join(draw(st.lists(_fragment(depth + 1), max_size=3)))
    else:
        from xml.sax.saxutils import escape

        inner = escape(draw(_TEXT))
    return f"<{tag}>{inner}</{tag}>"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_fragment(), min_size=1, max_size=4), st.sampled_from(["list", "quantity"]))
def test_fuzz_unknown_and_broken_elements_give_results_or_a_clear_error(frags: list[str], where: str) -> None:
    anchor = "<dcc:futureQuantity>" if where == "list" else "<dcc:noQuantity><dcc:content>1 kg</dcc:content>"
    doc = DCC_24.replace(anchor, "".join(frags) + anchor, 1)
    try:
        c = read_dcc(doc.encode())
    except DccError as exc:  # a known element with a bad value: the message names where
        assert exc.path.startswith("dcc:digitalCalibrationCertificate") or exc.line is not None
        assert str(exc)
        return
    assert any(r.name == "示值误差" for r in c.results)  # what was readable was read
    assert all(": " in u and "not read" in u for u in c.unsupported)
