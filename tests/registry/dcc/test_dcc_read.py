"""Reading DCC XML: two hand-written documents and malformed input.

``gp_temperature_pt100_v3.2.0.xml`` follows the structure of the PTB/GEMIMEG-II "Good Practice"
temperature DCC (German mandatory language, si:hybrid in K and °C, D-SI 2.1 si:expandedUncXMLList);
``gas_flow_meter_v3.3.0.xml`` is a Chinese gas-flow-meter calibration in DCC 3.3.0 / D-SI 2.2 form.
Expected values below are the ones typed into those files (their header says where the structure
comes from).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from carbonmet.quantities import CarbonmetError, parse_unit, ureg
from carbonmet.registry.dcc import DccError, DsiUnitError, read_dcc, write_dcc

DATA = Path(__file__).parents[2] / "data" / "dcc"
GP_TEMPERATURE = DATA / "gp_temperature_pt100_v3.2.0.xml"
GAS_FLOW = DATA / "gas_flow_meter_v3.3.0.xml"


# --- a document in the PTB "Good Practice" temperature structure -------------------------------
def test_gp_temperature_core_data_items_and_parties() -> None:
    c = read_dcc(GP_TEMPERATURE)
    assert c.unique_identifier == "TK-2024-0917"
    assert c.schema_version == "3.2.0"
    assert c.begin_performance_date == date(2024, 9, 10)
    assert c.end_performance_date == c.calibration_date == date(2024, 9, 12)
    assert c.issue_date is None
    assert c.performance_location == "laboratory"
    assert c.country_code == "DE"
    assert c.languages == ("de", "en") and c.mandatory_languages == ("de",)
    # texts are taken in the mandatory language
    assert c.items[0].name == "Widerstandsthermometer Pt 100"
    assert c.items[0].manufacturer == "Fühlerbau Beispiel AG"
    assert c.items[0].model == "RTD-4W-300"
    assert c.items[0].serial == "F-88213"
    assert [i.issuer for i in c.items[0].identifications] == ["manufacturer", "customer"]
    assert c.calibration_laboratory.name == "Kalibrierlabor Beispiel GmbH"
    assert c.laboratory_code == "D-K-00000-01-00"
    assert (c.calibration_laboratory.street, c.calibration_laboratory.street_no) == ("Messweg", "7")
    assert c.customer.further == "Kunden Nr. 4711"
    assert [(p.name, p.main_signer) for p in c.resp_persons] == [
        ("Erika Beispiel", True),
        ("Max Probe", False),
    ]
    assert c.raw == GP_TEMPERATURE.read_bytes()


def test_gp_temperature_statements_methods_and_the_standard_used() -> None:
    c = read_dcc(GP_TEMPERATURE)
    conformity, recal = c.statements
    assert (conformity.ref_type, conformity.conformity) == ("basic_conformity", "pass")
    assert (recal.ref_type, recal.date) == ("basic_recalibration", date(2025, 9, 12))
    assert c.methods[0].norms == ("DKD-R 5-1:2018",)
    (std,) = c.equipment
    assert std.ref_type == "basic_normalUsed"
    assert std.identifications[0].value == "N-SPRT-03"
    assert std.certificate is not None
    assert std.certificate.referral_id == "PTB-7.4-2023-118"
    assert (std.certificate.procedure, std.certificate.value) == ("SHA256", "9f2c1e0d")


def test_gp_temperature_results_hybrid_and_deprecated_expanded_unc_list() -> None:
    c = read_dcc(GP_TEMPERATURE)
    ref, measured, error = c.results
    # si:hybrid: the first machine-readable member (kelvin) is the one read
    assert ref.ref_type == "basic_referenceValue"
    assert ref.values == (273.160, 323.152, 373.147, 423.141)
    assert (ref.unit, ref.pint_unit) == ("\\kelvin", "K")
    assert measured.values == (273.18, 323.19, 373.20, 423.22)
    # D-SI 2.1 si:expandedUncXMLList with k and p given once for all points
    assert error.name == "Messabweichung"
    assert error.result == "Messergebnisse" and error.measurement_result == "Messergebnisse"
    assert error.values == (0.020, 0.038, 0.053, 0.079)
    assert error.expanded_uncertainty == (0.030, 0.030, 0.035, 0.040)
    assert error.coverage_factor == (2.0,) * 4
    assert error.coverage_probability == (0.95,) * 4
    assert error.distribution == ("normal",) * 4
    assert error.u() == pytest.approx((0.015, 0.015, 0.0175, 0.020))
    assert c.results_by_ref_type("basic_measurementError") == (error,)
    # influence conditions of the measurementResult apply to each of its quantities
    (ambient,) = error.conditions
    assert ambient.ref_type == "basic_temperature"
    assert [(q.ref_type, q.values, q.pint_unit) for q in ambient.quantities] == [
        ("basic_temperatureMin", (293.5,), "K"),
        ("basic_temperatureMax", (296.0,), "K"),
    ]
    # the text-only quantity is not lost silently: it is listed, and raw keeps it
    assert len(c.unsupported) == 1 and "dcc:noQuantity" in c.unsupported[0]
    assert "dcc:quantity[4]" in c.unsupported[0]


# --- the carbon-metrology example: gas flow meter, errors in %, U in %, k = 2 --------------------
def test_gas_flow_meter_certificate() -> None:
    c = read_dcc(GAS_FLOW)
    assert c.unique_identifier == "LLJZ2025-03-0117"
    assert (c.begin_performance_date, c.end_performance_date) == (date(2025, 3, 10), date(2025, 3, 11))
    assert c.issue_date == date(2025, 3, 14)
    assert c.receipt_date == date(2025, 3, 3)
    assert c.items[0].name == "气体涡轮流量计" and c.items[0].serial == "TB2301-0457"
    assert c.calibration_laboratory.name == "示例省计量测试研究院"
    assert c.laboratory_code == "CNAS L0000"
    assert c.customer.name == "示例煤制甲醇有限公司"
    assert [p.role for p in c.resp_persons if p.main_signer] == ["批准人"]
    traceability = c.statements[0]
    assert traceability.traceable is True and traceability.text.startswith("本次校准")
    assert c.statements[1].norms == ("JJG 1037-2008",) and c.statements[1].conformity == "pass"
    std = c.equipment[0]
    assert std.ref_type == "basic_normalUsed"
    assert std.certificate is not None and std.certificate.referral_id == "[2023]国量标蒙证字第0099号"
    assert (std.certificate.procedure, std.certificate.value) == ("", "")  # "none" in the file
    assert c.equipment[1].certificate is None


def test_gas_flow_meter_errors_u_and_k() -> None:
    c = read_dcc(GAS_FLOW)
    (flow,) = c.results_by_ref_type("basic_referenceValue")
    (error,) = c.results_by_ref_type("basic_measurementError")
    assert flow.values == (20.0, 40.0, 100.0, 160.0, 200.0, 250.0)
    assert flow.unit == "\\metre\\tothe{3}\\per\\hour"  # as written in the file
    assert parse_unit(flow.pint_unit) == parse_unit("m**3/h")
    assert error.values == (0.62, 0.35, 0.18, -0.05, -0.12, -0.21)
    assert (error.unit, error.pint_unit) == ("\\percent", "%")
    assert error.expanded_uncertainty == (0.32, 0.30, 0.28, 0.28, 0.28, 0.28)
    assert error.coverage_factor == (2.0,) * 6
    assert error.coverage_probability == (0.95,) * 6
    assert max(abs(e) for e in error.values) <= 1.0  # class 1.0 of JJG 1037-2008 within qt..qmax
    temp, pressure = error.conditions
    assert temp.quantities[0].pint_unit == "°C" and temp.quantities[0].standard_uncertainty == (0.3,)
    assert ureg.Quantity(pressure.quantities[0].values[0], parse_unit(pressure.quantities[0].pint_unit)).to(
        "Pa"
    ).magnitude == pytest.approx(88620.0)
    (factor,) = c.results_by_ref_type("basic_meterFactor")
    assert factor.name == "仪表系数"  # an unnamed quantity takes its result's name
    assert (
        factor.values == (1432.7,)
        and factor.expanded_uncertainty == (4.0,)
        and factor.coverage_factor == (2.0,)
    )
    assert parse_unit(factor.pint_unit) == parse_unit("1/m**3")


def test_source_may_be_bytes_xml_text_or_a_path_string() -> None:
    a = read_dcc(GAS_FLOW)
    assert read_dcc(GAS_FLOW.read_bytes()) == a
    assert read_dcc(GAS_FLOW.read_text(encoding="utf-8").replace('encoding="UTF-8"', "")) == a
    assert read_dcc(str(GAS_FLOW)) == a


# --- malformed input: a clear error naming the element path -----------------------------------------
def _gas(old: str, new: str) -> bytes:
    text = GAS_FLOW.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


def test_bad_unit_token_names_the_path_line_and_token() -> None:
    bad = _gas("<si:unitXMLList>\\percent</si:unitXMLList>", "<si:unitXMLList>\\kilogramm</si:unitXMLList>")
    with pytest.raises(DsiUnitError) as exc:
        read_dcc(bad)
    e = exc.value
    assert e.token == "\\kilogramm"
    assert e.path.endswith(
        "dcc:result[1]/dcc:data/dcc:list/dcc:quantity[2]/si:realListXMLList/si:unitXMLList"
    )
    assert e.line is not None and "\\kilogramm" in bad.decode().splitlines()[e.line - 1]
    assert "dcc:result[1]" in str(e) and "\\kilogramm" in str(e)


def test_bad_exponent_in_an_si_real_unit() -> None:
    bad = _gas("<si:unit>\\metre\\tothe{-3}</si:unit>", "<si:unit>\\metre\\tothe{x}</si:unit>")
    with pytest.raises(DsiUnitError) as exc:
        read_dcc(bad)
    assert exc.value.token == "\\tothe{x}"
    assert exc.value.path.endswith("dcc:result[2]/dcc:data/dcc:quantity/si:real/si:unit")


def test_missing_unique_identifier() -> None:
    bad = _gas("<dcc:uniqueIdentifier>LLJZ2025-03-0117</dcc:uniqueIdentifier>", "")
    with pytest.raises(DccError, match="dcc:uniqueIdentifier") as exc:
        read_dcc(bad)
    assert exc.value.path.endswith("dcc:administrativeData/dcc:coreData")


def test_empty_unique_identifier() -> None:
    bad = _gas(
        "<dcc:uniqueIdentifier>LLJZ2025-03-0117</dcc:uniqueIdentifier>",
        "<dcc:uniqueIdentifier> </dcc:uniqueIdentifier>",
    )
    with pytest.raises(DccError, match="empty") as exc:
        read_dcc(bad)
    assert exc.value.path.endswith("dcc:coreData/dcc:uniqueIdentifier")


@pytest.mark.parametrize(
    ("old", "new", "path_end", "token"),
    [
        ("0.62 0.35 0.18", "0.62 abc 0.18", "dcc:quantity[2]/si:realListXMLList/si:valueXMLList", "abc"),
        ("<si:value>1432.7</si:value>", "<si:value>1,432.7</si:value>", "si:real/si:value", "1,432.7"),
        ("<si:value>1432.7</si:value>", "<si:value>NaN</si:value>", "si:real/si:value", "NaN"),
        (
            "<si:valueExpandedMU>4.0</si:valueExpandedMU>",
            "<si:valueExpandedMU>4.0 U</si:valueExpandedMU>",
            "si:expandedMU/si:valueExpandedMU",
            "4.0 U",
        ),
    ],
)
def test_non_numeric_values(old: str, new: str, path_end: str, token: str) -> None:
    with pytest.raises(DccError, match="non-numeric") as exc:
        read_dcc(_gas(old, new))
    assert exc.value.path.endswith(path_end)
    assert exc.value.token == token


def test_uncertainty_list_of_the_wrong_length() -> None:
    bad = _gas("0.32 0.30 0.28 0.28 0.28 0.28", "0.32 0.30 0.28")
    with pytest.raises(DccError, match="3 entries for 6 values") as exc:
        read_dcc(bad)
    assert exc.value.path.endswith("si:expandedMUXMLList/si:valueExpandedMUXMLList")


def test_expanded_uncertainty_without_coverage_factor() -> None:
    bad = _gas("<si:coverageFactor>2</si:coverageFactor>", "")
    with pytest.raises(DccError, match="si:coverageFactor") as exc:
        read_dcc(bad)
    assert exc.value.path.endswith("si:measurementUncertaintyUnivariate/si:expandedMU")


def test_coverage_factor_below_one() -> None:
    bad = _gas("<si:coverageFactor>2</si:coverageFactor>", "<si:coverageFactor>0.5</si:coverageFactor>")
    with pytest.raises(DccError, match="below 1") as exc:
        read_dcc(bad)
    assert exc.value.path.endswith("dcc:result[2]/dcc:data/dcc:quantity/si:real")


def test_bad_date() -> None:
    bad = _gas("<dcc:beginPerformanceDate>2025-03-10", "<dcc:beginPerformanceDate>10.03.2025")
    with pytest.raises(DccError, match="not a date") as exc:
        read_dcc(bad)
    assert exc.value.path.endswith("dcc:coreData/dcc:beginPerformanceDate")


def test_wrong_root_element() -> None:
    with pytest.raises(DccError, match="not dcc:digitalCalibrationCertificate") as exc:
        read_dcc(b'<?xml version="1.0"?><certificate xmlns="urn:example"><id>1</id></certificate>')
    assert exc.value.token == "{urn:example}certificate"


def test_old_dcc_namespace_is_a_wrong_root() -> None:
    old_ns = "https://intranet.ptb.de/fileadmin/dokumente/intranet/abteilungen/abteilung_1/Digitaler_Kalibrierschein/DCC"
    bad = _gas('xmlns:dcc="https://ptb.de/dcc"', f'xmlns:dcc="{old_ns}"')
    with pytest.raises(DccError, match="not dcc:digitalCalibrationCertificate"):
        read_dcc(bad)


@pytest.mark.parametrize(
    "junk", [b"this is not XML", b"", b"<dcc:digitalCalibrationCertificate", b"\x00\xff\xfe"]
)
def test_not_xml_at_all(junk: bytes) -> None:
    with pytest.raises(DccError, match="not well-formed XML") as exc:
        read_dcc(junk)
    assert isinstance(exc.value, CarbonmetError)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xml"
    with pytest.raises(DccError, match="nope.xml"):
        read_dcc(missing)


def test_error_from_a_file_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.xml"
    f.write_bytes(
        _gas("<si:unitXMLList>\\percent</si:unitXMLList>", "<si:unitXMLList>\\prozent</si:unitXMLList>")
    )
    with pytest.raises(DsiUnitError) as exc:
        read_dcc(f)
    assert exc.value.source == str(f) and str(f) in str(exc.value)


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    doc = _gas(
        "<dcc:uniqueIdentifier>LLJZ2025-03-0117</dcc:uniqueIdentifier>",
        "<dcc:uniqueIdentifier>&xxe;</dcc:uniqueIdentifier>",
    ).replace(
        b"<dcc:digitalCalibrationCertificate",
        f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<dcc:digitalCalibrationCertificate'.encode(),
        1,
    )
    try:
        c = read_dcc(doc)
    except DccError:
        return  # refused: fine
    assert "TOP-SECRET" not in c.unique_identifier


# --- every univariate uncertainty form of D-SI 2.1 / 2.2 on an si:real (SI_Format.xsd 2.1.0 and 2.2) --
_METER_FACTOR_UNC = """<si:measurementUncertaintyUnivariate>
                  <si:expandedMU>
                    <si:valueExpandedMU>4.0</si:valueExpandedMU>
                    <si:coverageFactor>2</si:coverageFactor>
                    <si:coverageProbability>0.95</si:coverageProbability>
                  </si:expandedMU>
                </si:measurementUncertaintyUnivariate>"""


@pytest.mark.parametrize(
    ("unc", "expected"),
    [
        (
            (
                "<si:expandedUnc><si:uncertainty>3.0</si:uncertainty><si:coverageFactor>2</si:coverageFactor>"
                "<si:coverageProbability>0.95</si:coverageProbability><si:distribution>normal</si:distribution>"
                "</si:expandedUnc>"
            ),
            {"expanded_uncertainty": (3.0,), "coverage_factor": (2.0,), "distribution": ("normal",)},
        ),
        (
            (
                "<si:coverageInterval><si:standardUnc>1.5</si:standardUnc><si:intervalMin>1429.8</si:intervalMin>"
                "<si:intervalMax>1435.6</si:intervalMax><si:coverageProbability>0.95</si:coverageProbability>"
                "</si:coverageInterval>"
            ),
            {
                "standard_uncertainty": (1.5,),
                "coverage_interval": ((1429.8, 1435.6),),
                "coverage_probability": (0.95,),
            },
        ),
        (
            (
                "<si:measurementUncertaintyUnivariate><si:coverageIntervalMU><si:valueStandardMU>1.5</si:valueStandardMU>"
                "<si:intervalMin>1429.8</si:intervalMin><si:intervalMax>1435.6</si:intervalMax>"
                "<si:coverageProbability>0.95</si:coverageProbability><si:distribution>t</si:distribution>"
                "</si:coverageIntervalMU></si:measurementUncertaintyUnivariate>"
            ),
            {
                "standard_uncertainty": (1.5,),
                "coverage_interval": ((1429.8, 1435.6),),
                "distribution": ("t",),
            },
        ),
        (
            (
                "<si:measurementUncertaintyUnivariate><si:standardMU><si:valueStandardMU>2.1</si:valueStandardMU>"
                "<si:distribution>rectangular</si:distribution></si:standardMU></si:measurementUncertaintyUnivariate>"
            ),
            {"standard_uncertainty": (2.1,), "distribution": ("rectangular",), "expanded_uncertainty": ()},
        ),
        ("", {"expanded_uncertainty": (), "standard_uncertainty": (), "coverage_factor": ()}),
    ],
    ids=["expandedUnc", "coverageInterval", "coverageIntervalMU", "standardMU", "none"],
)
def test_uncertainty_forms_on_si_real(unc: str, expected: dict[str, object]) -> None:
    (factor,) = read_dcc(_gas(_METER_FACTOR_UNC, unc)).results_by_ref_type("basic_meterFactor")
    assert factor.values == (1432.7,)
    for field, value in expected.items():
        assert getattr(factor, field) == value, field
    # and each form survives our own write → read
    assert read_dcc(write_dcc(read_dcc(_gas(_METER_FACTOR_UNC, unc)))) == read_dcc(
        _gas(_METER_FACTOR_UNC, unc)
    )


def test_standard_mu_xml_list_and_si_constant() -> None:
    text = GAS_FLOW.read_text(encoding="utf-8")
    text = re.sub(
        r"<si:measurementUncertaintyUnivariateXMLList>.*?</si:measurementUncertaintyUnivariateXMLList>",
        "<si:measurementUncertaintyUnivariateXMLList><si:standardMUXMLList><si:valueStandardMUXMLList>"
        "0.16 0.15 0.14 0.14 0.14 0.14</si:valueStandardMUXMLList></si:standardMUXMLList>"
        "</si:measurementUncertaintyUnivariateXMLList>",
        text,
        count=1,
        flags=re.DOTALL,
    )
    text = re.sub(
        r"<si:real>\s*<si:value>1432.7</si:value>.*?</si:real>",
        "<si:constant><si:value>1432.7</si:value><si:unit>\\\\metre\\\\tothe{-3}</si:unit>"
        "<si:valueStandardMU>2.0</si:valueStandardMU></si:constant>",
        text,
        count=1,
        flags=re.DOTALL,
    )
    c = read_dcc(text.encode("utf-8"))
    (error,) = c.results_by_ref_type("basic_measurementError")
    assert (
        error.standard_uncertainty == (0.16, 0.15, 0.14, 0.14, 0.14, 0.14)
        and error.expanded_uncertainty == ()
    )
    (factor,) = c.results_by_ref_type("basic_meterFactor")
    assert factor.values == (1432.7,) and factor.standard_uncertainty == (2.0,)
    assert factor.unit == "\\metre\\tothe{-3}"


def test_hybrid_reads_the_first_member_with_a_d_si_unit() -> None:
    # a hybrid may list a non-SI unit first (D-SI marks those with '|'); the SI member is the one read
    doc = GP_TEMPERATURE.read_bytes().replace(
        b"<si:hybrid>\n                  <si:realListXMLList>\n                    <si:valueXMLList>273.160",
        b"<si:hybrid>\n                  <si:realListXMLList><si:valueXMLList>491.69 581.67 671.66 761.65</si:valueXMLList>"
        b"<si:unitXMLList>|degreeRankine</si:unitXMLList></si:realListXMLList>"
        b"<si:realListXMLList>\n                    <si:valueXMLList>273.160",
        1,
    )
    ref = read_dcc(doc).results[0]
    assert ref.values[0] == 273.160 and ref.unit == "\\kelvin"


def test_hybrid_without_any_d_si_member_is_an_error() -> None:
    doc = GP_TEMPERATURE.read_bytes().replace(b"\\kelvin</si:unitXMLList>", b"|K</si:unitXMLList>", 1)
    doc = doc.replace(b"\\degreecelsius</si:unitXMLList>", b"|degC</si:unitXMLList>", 1)
    with pytest.raises(DsiUnitError, match="non-D-SI") as exc:
        read_dcc(doc)
    assert "si:hybrid/si:realListXMLList[1]/si:unitXMLList" in exc.value.path
