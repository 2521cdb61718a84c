"""Writing DCC 3.3.0 and reading it back.

Structural check: ``tests/data/dcc/schema/dcc_subset.xsd`` + ``si_subset.xsd`` are carbonmet's own
subset of PTB dcc.xsd 3.3.0 / D-SI 2.2 (element order and required elements of what we write). The
official XSDs are LGPL-3 and could be vendored, but 3.3.0 imports D-SI 2.2 (which imports QUDT) and
XML-DSig; that set is not in the repository, so the official validation is not run here.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from carbonmet.registry.dcc import (
    DccCertificate,
    DccCertificateRef,
    DccCondition,
    DccContact,
    DccEquipment,
    DccError,
    DccIdentification,
    DccItem,
    DccMethod,
    DccPerson,
    DccResult,
    DccStatement,
    DsiUnitError,
    read_dcc,
    write_dcc,
)

DATA = Path(__file__).parents[2] / "data" / "dcc"
FILES = [DATA / "gp_temperature_pt100_v3.2.0.xml", DATA / "gas_flow_meter_v3.3.0.xml"]


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "schema" / "dcc_subset.xsd")))


def _belt_scale_certificate(**changes: object) -> DccCertificate:
    """A belt-scale (电子皮带秤) calibration as a metrology institute would issue it (values invented)."""
    ambient = DccCondition(
        "环境温度",
        "basic_temperature",
        (DccResult("环境温度", (18.5,), pint_unit="degree_Celsius", standard_uncertainty=(0.5,)),),
    )
    results = (
        DccResult(
            "物料流量",
            (200.0, 500.0, 800.0),
            pint_unit="t/h",
            ref_type="basic_referenceValue",
            measurement_result="实物校准",
            result="累计误差",
            conditions=(ambient,),
        ),
        DccResult(
            "累计示值误差",
            (0.21, -0.08, 0.12),
            pint_unit="%",
            ref_type="basic_measurementError",
            measurement_result="实物校准",
            result="累计误差",
            expanded_uncertainty=(0.10, 0.10, 0.12),
            coverage_factor=(2.0, 2.0, 2.0),
            coverage_probability=(0.95, 0.95, 0.95),
            distribution=("normal",) * 3,
            conditions=(ambient,),
        ),
        DccResult(
            "零点稳定性",
            (0.05,),
            pint_unit="%",
            ref_type="basic_zeroStability",
            measurement_result="零点",
            coverage_interval=((0.02, 0.08),),
            standard_uncertainty=(0.015,),
            coverage_probability=(0.95,),
        ),
        DccResult(
            "皮带速度",
            (2.5,),
            unit="\\metre\\per\\second",
            measurement_result="零点",
            standard_uncertainty=(0.01,),
        ),
    )
    base = DccCertificate(
        unique_identifier="PDC2025-0042",
        begin_performance_date=date(2025, 5, 6),
        end_performance_date=date(2025, 5, 6),
        calibration_laboratory=DccContact(
            "示例市计量检定测试所", email="lab@example.invalid", city="包头", country_code="CN"
        ),
        customer=DccContact("示例煤化工有限公司", city="鄂尔多斯", state="内蒙古自治区", country_code="CN"),
        items=(
            DccItem(
                "电子皮带秤",
                manufacturer="示例衡器",
                model="ICS-17A",
                identifications=(DccIdentification("manufacturer", "BS-2207", "出厂编号"),),
            ),
        ),
        results=results,
        laboratory_code="CNAS L9999",
        issue_date=date(2025, 5, 9),
        resp_persons=(DccPerson("陈某", "校准员"), DccPerson("周某", "批准人", main_signer=True)),
        statements=(
            DccStatement("basic_conformity", "累计误差符合0.5级要求", "pass", ("JJG 195-2019",)),
            DccStatement("basic_recalibration", "建议复校日期", date=date(2026, 5, 6)),
        ),
        equipment=(
            DccEquipment(
                "实物标准砝码及料斗秤",
                "basic_normalUsed",
                model="HS-10t",
                identifications=(DccIdentification("calibrationLaboratory", "STD-BS-02"),),
                certificate=DccCertificateRef("JL2024-1188", referral="料斗秤校准证书"),
            ),
        ),
        methods=(DccMethod("连续累计自动衡器（电子皮带秤）检定规程", ("JJG 195-2019",)),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_write_then_read_gives_an_equal_certificate(schema: etree.XMLSchema) -> None:
    cert = _belt_scale_certificate()
    xml = write_dcc(cert)
    back = read_dcc(xml)
    assert back == cert
    assert back.raw == xml and back.schema_version == "3.3.0"
    assert schema.validate(etree.fromstring(xml)), schema.error_log
    # what a registry needs, read back from the XML
    (err,) = back.results_by_ref_type("basic_measurementError")
    assert err.values == (0.21, -0.08, 0.12) and err.pint_unit == "%"
    assert err.expanded_uncertainty == (0.10, 0.10, 0.12) and err.coverage_factor == (2.0,) * 3
    assert back.equipment[0].certificate == DccCertificateRef("JL2024-1188", referral="料斗秤校准证书")
    assert back.results[3].unit == "\\metre\\per\\second" and back.results[3].pint_unit == "m / s"


def test_written_document_has_the_required_administrative_data() -> None:
    root = etree.fromstring(write_dcc(_belt_scale_certificate()))
    ns = {"dcc": "https://ptb.de/dcc", "si": "https://ptb.de/si"}
    assert root.get("schemaVersion") == "3.3.0"
    assert (
        root.xpath("string(//dcc:dccSoftware/dcc:software/dcc:name/dcc:content)", namespaces=ns)
        == "carbonmet"
    )
    core = root.find("dcc:administrativeData/dcc:coreData", ns)
    assert core.findtext("dcc:countryCodeISO3166_1", namespaces=ns) == "CN"
    assert [e.text for e in core.findall("dcc:usedLangCodeISO639_1", ns)] == ["zh", "en"]
    assert [e.text for e in core.findall("dcc:mandatoryLangCodeISO639_1", ns)] == ["zh"]
    assert core.findtext("dcc:uniqueIdentifier", namespaces=ns) == "PDC2025-0042"
    assert core.findtext("dcc:performanceLocation", namespaces=ns) == "laboratory"
    # multi-point results as si:realListXMLList with D-SI 2.2 expandedMU, k given once
    lst = root.xpath("//dcc:quantity[@refType='basic_measurementError']/si:realListXMLList", namespaces=ns)[0]
    assert lst.findtext("si:unitXMLList", namespaces=ns) == "\\percent"
    mu = lst.find("si:measurementUncertaintyUnivariateXMLList/si:expandedMUXMLList", ns)
    assert mu.findtext("si:valueExpandedMUXMLList", namespaces=ns) == "0.1 0.1 0.12"
    assert mu.findtext("si:coverageFactorXMLList", namespaces=ns) == "2.0"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_read_write_read_is_stable(path: Path, schema: etree.XMLSchema) -> None:
    first = read_dcc(path)
    xml = write_dcc(first)
    assert schema.validate(etree.fromstring(xml)), schema.error_log
    second = read_dcc(xml)
    assert second == first
    assert write_dcc(second) == xml  # byte-identical from then on


def test_conditions_shared_by_a_measurement_result_are_written_once() -> None:
    xml = write_dcc(_belt_scale_certificate())
    root = etree.fromstring(xml)
    ns = {"dcc": "https://ptb.de/dcc"}
    assert len(root.xpath("//dcc:measurementResult[1]/dcc:influenceConditions", namespaces=ns)) == 1
    assert not root.xpath("//dcc:quantity/dcc:influenceConditions", namespaces=ns)


# --- what the writer refuses -----------------------------------------------------------------------
def _with_result(**changes: object) -> DccCertificate:
    cert = _belt_scale_certificate()
    return dataclasses.replace(cert, results=(dataclasses.replace(cert.results[1], **changes),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cert", "message"),
    [
        (_with_result(coverage_probability=()), "coverage_factor and coverage_probability"),
        (
            _belt_scale_certificate(items=(DccItem("电子皮带秤"),)),
            "needs at least one identification",
        ),
        (_belt_scale_certificate(customer=DccContact("无地址客户")), "needs a location"),
        (_belt_scale_certificate(resp_persons=()), "responsible person"),
        (_belt_scale_certificate(results=()), "at least one result"),
        (_belt_scale_certificate(performance_location=None), "performanceLocation"),
        (
            _belt_scale_certificate(statements=(DccStatement("basic_conformity", conformity="合格"),)),
            "conformity",
        ),
    ],
)
def test_writer_refuses_what_the_schema_requires(cert: DccCertificate, message: str) -> None:
    with pytest.raises(DccError, match=message):
        write_dcc(cert)


def test_result_construction_is_checked() -> None:
    with pytest.raises(DsiUnitError, match="no D-SI form"):
        DccResult("排放量", (1.0,), pint_unit="tCO2")
    with pytest.raises(DccError, match="2 entries for 3 values"):
        DccResult("e", (1.0, 2.0, 3.0), pint_unit="%", expanded_uncertainty=(0.1, 0.2))
    with pytest.raises(DccError, match="not the D-SI unit"):
        DccResult("e", (1.0,), unit="\\kelvin", pint_unit="degree_Celsius")
    with pytest.raises(DccError, match="negative"):
        DccResult("e", (1.0,), pint_unit="%", standard_uncertainty=(-0.1,))
    with pytest.raises(DccError, match="not a finite number"):
        DccResult("e", (float("nan"),), pint_unit="%")
    with pytest.raises(DccError, match="uniqueIdentifier"):
        _belt_scale_certificate(unique_identifier="  ")


# --- property: any well-formed result list survives write → read ----------------------------------
_finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
_units = st.sampled_from(["%", "m**3/h", "t/h", "kg", "kWh", "MPa", "degree_Celsius", "1", "g/kWh", "L/min"])


@st.composite
def _results(draw: st.DrawFn) -> DccResult:
    n = draw(st.integers(1, 6))
    values = tuple(draw(st.lists(_finite, min_size=n, max_size=n)))
    kind = draw(st.sampled_from(["none", "expanded", "standard"]))
    extra: dict[str, object] = {}
    if kind == "expanded":
        extra["expanded_uncertainty"] = tuple(draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)))
        k = draw(st.floats(1, 10))
        extra["coverage_factor"] = (
            (k,) * n
            if draw(st.booleans())
            else tuple(draw(st.lists(st.floats(1, 10), min_size=n, max_size=n)))
        )
        extra["coverage_probability"] = (draw(st.floats(0, 1)),) * n
    elif kind == "standard":
        extra["standard_uncertainty"] = tuple(draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n)))
    name = draw(st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=12))
    return DccResult(
        name,
        values,
        pint_unit=draw(_units),
        ref_type=draw(st.sampled_from([None, "basic_measurementError"])),
        **extra,
    )  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(_results(), min_size=1, max_size=4))
def test_any_results_survive_a_round_trip(results: list[DccResult]) -> None:
    cert = _belt_scale_certificate(results=tuple(results))
    assert read_dcc(write_dcc(cert)) == cert
