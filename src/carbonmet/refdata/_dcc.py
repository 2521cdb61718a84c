"""A few calibration certificates of the region as PTB DCC XML (数字校准证书), via carbonmet.registry.dcc.

The calibration results are the indication errors at three load points as the laboratory found them:
the instrument's systematic error plus the laboratory's measurement noise (``u = U/4``), stated with the
certificate's U (k = 2). The same certificates carry the mean error as ``as_found_error`` in
``certificates.csv`` so that both forms say the same thing.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..registry.dcc import (
    DccCertificate,
    DccCertificateRef,
    DccContact,
    DccEquipment,
    DccIdentification,
    DccItem,
    DccMethod,
    DccPerson,
    DccResult,
    DccStatement,
    write_dcc,
)
from ._constants import constants
from ._region import TAG_METROLOGY, rng_for
from ._types import Certificate, Instrument

_METHODS = {
    "liquid_flow_meter": "JJG 1038-2008 科里奥利质量流量计", "gas_flow_meter": "JJG 1030-2007 超声流量计",
    "vent_flow_meter": "JJG 1030-2007 超声流量计", "cems_gas_analyser": "JJG 968-2002 烟气分析仪",
    "cems_flow_monitor": "HJ 75-2017 / JJG 1030", "steam_flow_meter": "JJG 1029-2007 涡街流量计",
}
_NAMES = {
    "liquid_flow_meter": "质量流量计 Coriolis mass flow meter", "gas_flow_meter": "气体超声流量计 ultrasonic gas flow meter",
    "vent_flow_meter": "尾气超声流量计 vent ultrasonic flow meter", "cems_gas_analyser": "气体分析仪 gas analyser",
    "cems_flow_monitor": "烟气流速/流量监测仪 stack flow monitor", "steam_flow_meter": "蒸汽流量计 steam flow meter",
}
N_DCC = 6


def make_dcc(certs: list[Certificate], instruments: list[Instrument], org_names: dict[str, str], seed: int,
             year: int, oot_certs: set[str]) -> tuple[dict[str, bytes], list[Certificate]]:
    """Pick up to :data:`N_DCC` calibration certificates of the year (one per type, plus one traced to the
    out-of-tolerance standard) and write them as DCC XML.

    Returns
    -------
    files, certificates
        ``cert_no -> XML bytes`` and the certificate list with ``as_found_error``/``as_left_error`` filled
        for the chosen ones.
    """
    rng = rng_for(seed, TAG_METROLOGY, 77)
    inst = {i.instrument_id: i for i in instruments}
    cands = [c for c in certs if c.kind == "calibration" and c.subject_kind == "instrument" and c.subject in inst
             and c.calibration_date.year == year and inst[c.subject].type_key in _METHODS]
    chosen: list[Certificate] = []
    seen: set[str] = set()
    for c in sorted(cands, key=lambda x: (x.cert_no not in oot_certs, x.cert_no)):
        t = inst[c.subject].type_key
        key = "oot" if c.cert_no in oot_certs else t
        if key in seen:
            continue
        seen.add(key)
        chosen.append(c)
        if len(chosen) >= N_DCC:
            break
    files: dict[str, bytes] = {}
    found: dict[str, float] = {}
    for c in chosen:
        i = inst[c.subject]
        U = float(c.U or 0.0)
        points = (25.0, 50.0, 90.0)
        lab_sd = U * constants()["model"]["dcc_lab_noise_fraction_of_U"]
        errs = tuple(round(i.systematic_rel + float(rng.normal(0.0, lab_sd)), 3) for _ in points)
        found[c.cert_no] = round(float(np.mean(errs)), 3)
        lab = DccContact(name=org_names.get(c.issuer_org, c.issuer_org), city=org_names.get(c.issuer_org, ""),
                         country_code="CN")
        cust = DccContact(name=org_names.get(i.org_code, i.org_code), city="", country_code="CN",
                          further=i.org_code)
        std_code, _, std_cert = (c.standards_used or "").partition("@")
        dcc = DccCertificate(
            unique_identifier=c.cert_no,
            begin_performance_date=c.calibration_date,
            end_performance_date=c.calibration_date,
            calibration_laboratory=lab,
            customer=cust,
            items=(DccItem(name=_NAMES[i.type_key], manufacturer=i.maker, model=i.model, identifications=(
                DccIdentification("manufacturer", i.serial, "出厂编号 serial number"),
                DccIdentification("customer", i.instrument_id, "器具编号 instrument id"))),),
            results=(
                DccResult(name="校准点 calibration point (% of upper range value)", values=points, pint_unit="%",
                          ref_type="basic_referenceValue", result="示值误差 error of indication"),
                DccResult(name="相对示值误差 relative error of indication", values=errs, pint_unit="%",
                          ref_type="basic_measurementError", result="示值误差 error of indication",
                          expanded_uncertainty=(U,) * 3, coverage_factor=(2.0,) * 3,
                          coverage_probability=(0.95,) * 3),
            ),
            laboratory_code=c.issuer_org,
            issue_date=c.calibration_date,
            resp_persons=(DccPerson(name="校准员 A (synthetic)", role="校准 calibration"),
                          DccPerson(name="核验员 B (synthetic)", role="核验 review"),
                          DccPerson(name="批准人 C (synthetic)", role="批准 approval", main_signer=True)),
            statements=(DccStatement(ref_type="basic_validityRange", text="下次校准建议日期 recommended recalibration",
                                     date=c.valid_until),),
            equipment=(DccEquipment(name=f"计量标准 {std_code}", identifications=(
                DccIdentification("calibrationLaboratory", std_code, "标准装置编号 standard code"),),
                certificate=DccCertificateRef(referral_id=std_cert) if std_cert else None),),
            methods=(DccMethod(name=_METHODS[i.type_key], norms=(_METHODS[i.type_key].split(" ")[0] + " "
                                                                 + _METHODS[i.type_key].split(" ")[1],)),),
        )
        files[c.cert_no] = write_dcc(dcc)
    out = [replace(c, as_found_error=found[c.cert_no], as_left_error=found[c.cert_no]) if c.cert_no in found else c
           for c in certs]
    return files, out
