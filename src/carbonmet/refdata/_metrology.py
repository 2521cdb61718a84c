"""Organisations, the traceability chain of standards, instruments and their certificates.

Chain (溯源链): national standard (NIM) → provincial primary standard → working standard (city institute)
→ instrument certificates, one chain per quantity family. Instruments under mandatory verification
(强制检定) get verification certificates (检定证书), the others calibration certificates (校准证书).
Findings are injected here and returned as :class:`Fault` records: instruments below the GB 17167-2006
Table 4 class, overdue certificates, a failed verification, mandatory instruments calibrated instead of
verified, and a working standard later found out of tolerance (with its date window).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from ._constants import constants
from ._errors import RefdataError
from ._region import TAG_METROLOGY, rng_for
from ._types import Certificate, Enterprise, Fault, Instrument, Point, Standard

PROVINCES = {
    "NM": ("内蒙古自治区", "NM-IMT", "内蒙古自治区计量测试研究院", "NM-CITY", "鄂尔多斯市计量检测研究所"),
    "NX": ("宁夏回族自治区", "NX-IMT", "宁夏回族自治区计量测试院", "NX-CITY", "银川市计量测试所"),
    "SN": ("陕西省", "SN-IMT", "陕西省计量科学研究院", "SN-CITY", "榆林市计量测试所"),
}
FAMILIES = {
    "mass": ("质量/衡器", "0–60 t", "U=0.01% k=2", "U=0.02% k=2", "U=0.05% k=2"),
    "gas_flow": ("气体流量", "10–20000 m3/h", "U=0.1% k=2", "U=0.25% k=2", "U=0.5% k=2"),
    "liquid_flow": ("液体流量", "0.5–500 t/h", "U=0.02% k=2", "U=0.05% k=2", "U=0.05% k=2"),
    "electric_energy": ("交流电能", "57.7–380 V, 0–100 A", "U=0.005% k=2", "U=0.01% k=2", "U=0.02% k=2"),
    "gas_analysis": ("气体成分(标准气体)", "0–100 %mol", "U=0.2% k=2", "U=0.5% k=2", "U=1% k=2"),
    "temperature": ("温度", "-40–300 °C", "U=0.01 °C k=2", "U=0.05 °C k=2", "U=0.1 °C k=2"),
    "heat": ("热量(苯甲酸量热标准)", "20–35 MJ/kg", "U=0.01% k=2", "U=0.05% k=2", "U=0.1% k=2"),
}
MAKERS = {
    "belt_scale": ("示例衡器厂 Maker-A", "ICS-17A"), "weighbridge": ("示例衡器厂 Maker-A", "SCS-100"),
    "rail_weighbridge": ("示例衡器厂 Maker-A", "GCU-100"), "liquid_flow_meter": ("示例流量仪表 Maker-B", "CMF-300"),
    "gas_flow_meter": ("示例流量仪表 Maker-B", "USM-8P"), "vent_flow_meter": ("示例流量仪表 Maker-B", "USM-8P-LD"),
    "steam_flow_meter": ("示例流量仪表 Maker-B", "VFM-200"), "electricity_meter": ("示例电表 Maker-C", "DTZ-0.2S"),
    "cems_flow_monitor": ("示例环境仪器 Maker-D", "PT-S200"), "cems_gas_analyser": ("示例环境仪器 Maker-D", "NDIR-CO2"),
    "o2_analyser": ("示例环境仪器 Maker-D", "ZR-O2"), "thermometer": ("示例环境仪器 Maker-D", "PT100"),
    "moisture_meter": ("示例环境仪器 Maker-D", "HUM-1"), "calorimeter": ("示例分析仪器 Maker-E", "BOMB-5E"),
    "carbon_analyser": ("示例分析仪器 Maker-E", "CHN-2"), "lab_balance": ("示例分析仪器 Maker-E", "AB-204"),
    "sulfur_analyser": ("示例分析仪器 Maker-E", "CLS-3"), "gas_chromatograph": ("示例分析仪器 Maker-E", "GC-9"),
    "wastewater_flow_meter": ("示例流量仪表 Maker-B", "EMF-150"), "toc_analyser": ("示例分析仪器 Maker-E", "TOC-1"),
    "stockpile_survey": ("示例测绘仪器 Maker-F", "LS-3D"), "tank_gauge": ("示例液位仪表 Maker-G", "SRG-900"),
}
# good (compliant) class per instrument type; non-compliant alternatives per GB 17167 role
_GOOD_CLASS = {
    "belt_scale": ("0.5", "0.2"), "weighbridge": ("III",), "rail_weighbridge": ("0.2", "0.5"),
    "liquid_flow_meter": ("0.1", "0.2"), "gas_flow_meter": ("1.5", "2.0"), "vent_flow_meter": ("2.0", "2.5"),
    "steam_flow_meter": ("1.5", "2.5"), "electricity_meter": ("0.2S", "0.5S"), "cems_flow_monitor": ("5",),
    "cems_gas_analyser": ("2",), "o2_analyser": ("2",), "thermometer": ("1.0",), "moisture_meter": ("5",),
    "calorimeter": ("0.2",), "carbon_analyser": ("1.0",), "lab_balance": ("I",), "sulfur_analyser": ("2.0",),
    "gas_chromatograph": ("1.0",), "wastewater_flow_meter": ("0.5", "1.0"), "toc_analyser": ("3",),
    "stockpile_survey": ("2", "3"), "tank_gauge": ("0.2", "0.3"),
}
# laboratory instruments (point ``<org>.LAB.<suffix>``, no readings): suffix -> (name, quantity, carrier, unit, type).
# Each enterprise's coal lab has the first four; each provincial institute (composites, natural gas) the last two,
# and since refdata-1.3 (wave 1) a TOC analyser for the wastewater samples.
LAB_INSTRUMENTS = {
    "CALORIMETER": ("化验室量热仪", "ncv", "raw_coal", "MJ/kg", "calorimeter"),
    "CARBON": ("化验室元素分析仪", "carbon_content", "raw_coal", "%", "carbon_analyser"),
    "BALANCE": ("化验室分析天平(水分、灰分)", "mass", "raw_coal", "g", "lab_balance"),
    "SULFUR": ("化验室库仑测硫仪", "sulfur", "raw_coal", "%", "sulfur_analyser"),
}
INSTITUTE_LAB_INSTRUMENTS = {
    "CARBON": ("元素分析仪(灰渣含碳量)", "carbon_content", "slag", "%", "carbon_analyser"),
    "GC": ("气相色谱仪(天然气组分)", "ncv", "natural_gas", "MJ/Nm3", "gas_chromatograph"),
}
INSTITUTE_LAB_INSTRUMENTS_WAVE1 = {
    "TOC": ("总有机碳分析仪(废水总碳)", "carbon_content", "wastewater", "%", "toc_analyser"),
}


def lab_instrument_point(org: str, suffix: str) -> str:
    """Point id of a laboratory instrument of ``org`` (an enterprise or a provincial institute)."""
    return f"{org}.LAB.{suffix}"
_BAD_CLASS = {"dynamic_weighing": "1", "electricity_class_i": "1.0", "natural_gas": "2.5", "steam": "4.0"}



@dataclass
class MetrologyResult:
    organisations: list[dict]
    standards: list[Standard]
    instruments: list[Instrument]
    certificates: list[Certificate]
    findings: list[Fault]
    oot_events: list[dict]
    bias_windows: dict[str, list[tuple[int, int, float]]]  # instrument_id -> (start_h, end_h, bias %)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    day = min(d.day, [31, 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
                      30, 31][m - 1])
    return date(y, m, day)


def _hour_of(d: date, year: int) -> int:
    return (d - date(year, 1, 1)).days * 24


def _check_legal_kinds(types: dict[str, dict]) -> None:
    """An instrument type under mandatory verification (强制检定) must be verified, not calibrated."""
    for name, t in types.items():
        if t["legal"] == "mandatory" and t["cert"] != "verification":
            raise RefdataError(f"constants.toml [instrument_type.{name}]: legal = \"mandatory\" needs "
                               f"cert = \"verification\", got {t['cert']!r} (a calibration does not satisfy 强制检定)")


def _pick_calibrated_not_verified(cands: list[Point], n: int, seed: int) -> set[str]:
    """Points whose mandatory instrument is calibrated instead of verified (injected finding).

    ``n`` of ``cands``, in different enterprises while possible, from a stream of their own so that the
    choice does not shift the other draws of the region.
    """
    rng = rng_for(seed, TAG_METROLOGY, 91)
    chosen: list[Point] = []
    pool = list(cands)
    while pool and len(chosen) < n:
        fresh = [p for p in pool if p.enterprise not in {c.enterprise for c in chosen}] or pool
        p = fresh[int(rng.integers(len(fresh)))]
        chosen.append(p)
        pool.remove(p)
    return {p.point_id for p in chosen}


def build(enterprises: list[Enterprise], points: list[Point], peaks: dict[str, float], seed: int,
          year: int) -> MetrologyResult:
    """Organisations, standards, instruments and certificates of the region.

    Parameters
    ----------
    peaks : dict
        ``point_id -> 95th percentile of the true hourly rate`` [point unit per h or point unit], for ranges.
    """
    c = constants()
    md = c["model"]
    OOT_AS_FOUND_REL = float(md["oot_as_found_rel_pct"])
    OOT_TOLERANCE_REL = float(md["oot_tolerance_rel_pct"])
    rng = rng_for(seed, TAG_METROLOGY)
    it = c["instrument_type"]
    _check_legal_kinds(it)
    fam_of = c["standard_family"]
    gb = c["gb17167"]
    y0 = date(year, 1, 1)
    y_end = date(year, 12, 31)
    provinces = sorted({e.province for e in enterprises})

    orgs: list[dict] = [
        {"org_code": e.code, "name": e.name, "kind": "enterprise", "region": e.region, "industry": e.industry}
        for e in enterprises
    ]
    orgs.append({"org_code": "NIM", "name": "中国计量科学研究院", "kind": "metrology_institute", "region": "北京市",
                 "industry": ""})
    for prov in provinces:
        pname, imt, imt_name, city, city_name = PROVINCES[prov]
        orgs.append({"org_code": imt, "name": imt_name, "kind": "metrology_institute", "region": pname, "industry": ""})
        orgs.append({"org_code": city, "name": city_name, "kind": "metrology_institute", "region": pname, "industry": ""})
        orgs.append({"org_code": f"{prov}-EEB", "name": f"{pname}生态环境厅", "kind": "regulator", "region": pname,
                     "industry": ""})
    orgs.append({"org_code": "VER01", "name": "示例碳排放核查机构", "kind": "verifier", "region": "北京市", "industry": ""})

    standards: list[Standard] = []
    certs: list[Certificate] = []
    seq = {"n": 0}

    def cert_no(issuer: str, d: date, kind: str) -> str:
        seq["n"] += 1
        return f"{issuer}-{d.year}-{'J' if kind == 'verification' else 'X'}{seq['n']:05d}"

    std_certs: dict[str, list[Certificate]] = {}
    for n_std, (fam, (fname, frange, u_nat, u_pri, u_work)) in enumerate(FAMILIES.items(), start=1):
        nat = Standard(f"NS-{fam.upper()}", f"{fname}国家计量基准/标准", "NIM", "national", fam, "", frange, u_nat,
                       f"国基证[{year - 8}]第{100 + n_std}号")
        standards.append(nat)
        for prov in provinces:
            _, imt, _, city, _ = PROVINCES[prov]
            pri = Standard(f"PS-{prov}-{fam.upper()}", f"{fname}社会公用计量标准(最高)", imt, "primary", fam, prov,
                           frange, u_pri, f"[{year - 5}]{prov}量标社证字第{n_std:03d}号")
            standards.append(pri)
            d_pri = y0 - timedelta(days=int(rng.integers(400, 700)))
            u_p = float(u_pri.split("=")[1].split("%")[0].split(" ")[0])
            pc = [Certificate(cert_no("NIM", d, "calibration"), "calibration", pri.standard_code, "standard", "NIM",
                              d, _add_months(d, 24) - timedelta(days=1), None, None, None,
                              "%" if "%" in u_pri else "degC", u_p, 2.0, nat.standard_code)
                  for d in (d_pri, _add_months(d_pri, 24))]
            std_certs[pri.standard_code] = pc
            certs += pc
            for w in (1, 2):
                ws = Standard(f"WS-{prov}-{fam.upper()}-{w}", f"{fname}工作计量标准 {w}", city, "working", fam, prov,
                              frange, u_work, f"[{year - 3}]{prov}量标社证字第{n_std:03d}{w}号")
                standards.append(ws)
                wl = []
                d1 = y0 - timedelta(days=int(rng.integers(30, 330)))
                for d in (d1, _add_months(d1, 12)):
                    pcert = max((x for x in pc if x.calibration_date <= d), key=lambda x: x.calibration_date)
                    wl.append(Certificate(cert_no(imt, d, "calibration"), "calibration", ws.standard_code, "standard",
                                          imt, d, _add_months(d, 12) - timedelta(days=1), None, None, None, "%",
                                          0.1 if fam != "temperature" else 0.05, 2.0,
                                          f"{pri.standard_code}@{pcert.cert_no}"))
                std_certs[ws.standard_code] = wl
                certs += wl

    # the working standard later found out of tolerance: a gas-flow standard of the most used province
    prov_count = {pv: sum(e.province == pv for e in enterprises) for pv in provinces}
    oot_prov = max(provinces, key=lambda pv: (prov_count[pv], pv))
    oot_code = f"WS-{oot_prov}-GAS_FLOW-1"
    oot_found = date(year, int(rng.integers(7, 10)), int(rng.integers(1, 28)))
    oot_last_ok = oot_found - timedelta(days=int(rng.integers(*md["oot_window_days"])))  # last intermediate check (期间核查) passed
    imt_oot = PROVINCES[oot_prov][1]
    oot_cert = Certificate(cert_no(imt_oot, oot_found, "calibration"), "calibration", oot_code, "standard", imt_oot,
                           oot_found, _add_months(oot_found, 12) - timedelta(days=1), None, OOT_AS_FOUND_REL, 0.05, "%",
                           0.1, 2.0, f"PS-{oot_prov}-GAS_FLOW@{std_certs[f'PS-{oot_prov}-GAS_FLOW'][0].cert_no}")
    certs.append(oot_cert)
    std_certs[oot_code].append(oot_cert)

    # ---- instruments: one per point with an instrument type, plus a calorimeter and a carbon analyser per lab
    by_ent = {e.code: e for e in enterprises}
    # wave-0 points and lab instruments draw first, in the order of refdata ≤ 1.2, and are the only candidates for
    # the injected findings; the points and lab instruments of wave 1 follow (their own ids, certificates, draws)
    inst_points = [p for p in points if p.instrument_type and p.wave == 0]
    wave1 = [p for p in points if p.instrument_type and p.wave == 1]
    wave2 = [p for p in points if p.instrument_type and p.wave == 2]  # refdata-1.6: stocks and shipments
    if any(p.wave > 2 for p in points):
        raise RefdataError("points of a wave above 2: extend _metrology.build")
    lab_pts = []
    org_province = {e.code: e.province for e in enterprises}
    for e in enterprises:
        for suffix, (name, qty, carrier, unit, typ) in LAB_INSTRUMENTS.items():
            lab_pts.append(Point(lab_instrument_point(e.code, suffix), e.code, e.sites[0][0], name, qty, carrier, unit,
                                 "sample", "", "", typ, "", "lab"))
    for prov in provinces:  # the provincial institute's own laboratory (composites of slag and ash, natural gas)
        imt = PROVINCES[prov][1]
        org_province[imt] = prov
        for suffix, (name, qty, carrier, unit, typ) in INSTITUTE_LAB_INSTRUMENTS.items():
            lab_pts.append(Point(lab_instrument_point(imt, suffix), imt, "", name, qty, carrier, unit, "sample", "", "",
                                 typ, "", "lab"))
    for prov in provinces:
        imt = PROVINCES[prov][1]
        for suffix, (name, qty, carrier, unit, typ) in INSTITUTE_LAB_INSTRUMENTS_WAVE1.items():
            wave1.append(Point(lab_instrument_point(imt, suffix), imt, "", name, qty, carrier, unit, "sample", "", "",
                               typ, "", "lab", wave=1))
    # choose non-compliant instruments: one per role, in different enterprises
    findings: list[Fault] = []
    bad: dict[str, str] = {}
    used_ent: set[str] = set()
    for role, bad_cls in _BAD_CLASS.items():
        fits = [p for p in inst_points if p.gb17167_role == role and bad_cls in it[p.instrument_type]["classes"]]
        cands = [p for p in fits if p.enterprise not in used_ent] or fits
        if cands:
            p = cands[int(rng.integers(len(cands)))]
            bad[p.point_id] = role
            used_ent.add(p.enterprise)
    belts = [p for p in inst_points if p.instrument_type == "belt_scale" and p.point_id not in bad]
    failed = belts[int(rng.integers(len(belts)))].point_id if belts else ""
    clock_verif = [p for p in inst_points if it[p.instrument_type]["cert"] == "verification" and p.schedule == "clock"
                   and p.point_id not in bad and p.point_id != failed]
    n_mid = min(3, max(0, len(clock_verif) - 1))
    overdue_mid = {clock_verif[i].point_id for i in rng.choice(len(clock_verif), size=n_mid, replace=False)}
    rest = [p for p in clock_verif if p.point_id not in overdue_mid]
    overdue_all = {rest[int(rng.integers(len(rest)))].point_id} if rest else set()
    # mandatory meters sent to a calibration laboratory instead of being verified (校准代替检定)
    cal_types = set(md["calibrated_not_verified_types"])
    cal_instead = _pick_calibrated_not_verified(
        [p for p in inst_points if p.instrument_type in cal_types and it[p.instrument_type]["legal"] == "mandatory"
         and p.point_id not in bad and p.point_id != failed and p.point_id not in overdue_mid | overdue_all],
        int(md["calibrated_not_verified"]), seed)

    instruments: list[Instrument] = []
    bias_windows: dict[str, list[tuple[int, int, float]]] = {}
    oot_events: list[dict] = []
    affected: list[dict] = []
    for n, p in enumerate(inst_points + lab_pts + wave1 + wave2):
        t = it[p.instrument_type]
        org = p.enterprise  # an enterprise, or a provincial institute for its own lab instruments
        prov = org_province[org]
        institute = org not in by_ent
        goods = _GOOD_CLASS[p.instrument_type]
        cls = _BAD_CLASS[bad[p.point_id]] if p.point_id in bad else goods[int(rng.integers(len(goods)))]
        grade = float(t["classes"][cls])
        kind = "calibration" if p.point_id in cal_instead else t["cert"]
        if kind == "verification":
            mpe = grade
            u = grade / np.sqrt(3.0)
            delta = float(rng.uniform(-mpe, mpe))
            model = "rectangular"
        else:
            mpe = grade
            u = grade / 2.0
            delta = float(rng.normal(0.0, u))
            model = "normal"
        if p.point_id == failed:
            delta = float(np.sign(rng.normal()) * md["failed_verification_error_factor"] * mpe)
            model = "nonconforming"
        peak = peaks.get(p.point_id, 0.0)
        hi = float(10 ** np.ceil(np.log10(max(peak * 1.3, 1e-3))) / 2) if peak > 0 else 100.0
        if peak * 1.3 > hi:
            hi *= 2
        if p.reading_kind == "total":
            unit = "MW" if p.unit == "MWh" else f"{p.unit}/h"
        else:
            unit = p.unit
        if p.schedule in ("daily", "lot_g", "lot_b"):
            hi = 100.0  # per weighing (wagon or truck)
        if p.schedule == "survey":
            hi = 1e6  # a whole coal yard or tank farm [t]
        if p.instrument_type in ("thermometer",):
            hi = 300.0
        if p.unit == "%":
            hi = 100.0
        maker, model_no = MAKERS[p.instrument_type]
        iid = f"{p.enterprise}-I{n + 1:04d}"
        serial = f"{model_no.split('-')[0]}{2015 + int(rng.integers(0, 9))}{int(rng.integers(10000, 99999))}{n:04d}"
        inst = Instrument(
            instrument_id=iid, serial=serial, org_code=org, type_key=p.instrument_type,
            registry_type=t.get("registry_type", p.instrument_type), maker=maker, model=model_no, range_low=0.0,
            range_high=hi, unit=unit, accuracy_class=cls, mpe_rel=mpe if kind == "verification" else None,
            resolution=float(t["resolution"]), legal_category=t["legal"],
            point_id=p.point_id if p.point_id.split(".")[1] != "LAB" else "",
            installed_from=date(year - int(rng.integers(2, 8)), int(rng.integers(1, 13)), int(rng.integers(1, 28))),
            cert_kind=kind, u_rel=float(u), noise_rel=float(t.get("noise_rel_pct", 0.0)),
            noise_abs=float(t.get("noise_abs", 0.0)), systematic_rel=delta, error_model=model,
            lab_point=p.point_id if p.schedule == "lab" else "",
        )
        instruments.append(inst)
        if p.point_id in bad:
            role = bad[p.point_id]
            findings.append(Fault("nonconforming_class", org, p.point_id, iid, detail=(
                f"accuracy class {cls} where GB 17167-2006 requires {gb[role]['max_mpe_rel']} ({role})"),
                rule=gb[role]["text"] + " (4.3.8)"))

        # ---- certificates: previous, last before the year, renewal in the year (unless overdue)
        iv = int(t["interval_months"])
        fam = fam_of[p.instrument_type]
        # the city institute calibrates enterprise instruments with its working standards; the provincial
        # institute calibrates its own lab instruments with its primary standard
        issuer = PROVINCES[prov][1] if institute else PROVINCES[prov][3]

        def std_ref(d: date, ws_pick: int, province: str = prov, fam: str = fam, own_lab: bool = institute) -> str:
            code = f"PS-{province}-{fam.upper()}" if own_lab else f"WS-{province}-{fam.upper()}-{ws_pick}"
            cands = [x for x in std_certs[code] if x.calibration_date <= d]
            if not cands:
                return code
            return f"{code}@{max(cands, key=lambda x: x.calibration_date).cert_no}"

        ws_pick = int(rng.integers(1, 3))
        if p.point_id in overdue_all:
            d_last = y0 - timedelta(days=iv * 30 + int(rng.integers(20, 60)))
        else:
            d_last = y0 - timedelta(days=int(rng.integers(1, max(2, iv * 30 - 20))))
        dates = [_add_months(d_last, -iv), d_last]
        renew = _add_months(d_last, iv) - timedelta(days=int(rng.integers(1, 20)))
        valid_last = _add_months(d_last, iv) - timedelta(days=1)
        if p.point_id == failed and renew > y_end:  # its failed verification falls in the year
            renew = date(year, int(rng.integers(4, 11)), int(rng.integers(1, 28)))
            d_last = _add_months(renew, -iv)
            dates = [_add_months(d_last, -iv), d_last]
        if renew <= y_end and p.point_id not in overdue_mid | overdue_all:
            dates.append(renew)
        if p.point_id in overdue_mid and valid_last > y_end:
            # make the overdue happen in the year: last certificate runs out in spring/summer
            d_last = _add_months(date(year, int(rng.integers(3, 8)), int(rng.integers(1, 28))), -iv)
            dates = [_add_months(d_last, -iv), d_last]
            valid_last = _add_months(d_last, iv) - timedelta(days=1)
        for j, d in enumerate(dates):
            vu = _add_months(d, iv) - timedelta(days=1)
            no = cert_no(issuer, d, kind)
            if kind == "verification":
                concl = "conforms"
                if p.point_id == failed and j == len(dates) - 1 and d >= y0:
                    concl = "does_not_conform"
                cert = Certificate(no, "verification", iid, "instrument", issuer, d, vu, concl, None, None, None, None,
                                   None, std_ref(d, ws_pick))
            else:
                cert = Certificate(no, "calibration", iid, "instrument", issuer, d, vu, None, None, None, "%",
                                   round(2.0 * u, 3), 2.0, std_ref(d, ws_pick))
            certs.append(cert)
            # traced to the out-of-tolerance standard inside its window?
            if (fam == "gas_flow" and prov == oot_prov and ws_pick == 1 and not institute
                    and oot_last_ok <= d < oot_found):
                nxt = dates[j + 1] if j + 1 < len(dates) else None
                end = min(nxt or date(year + 1, 1, 1), date(year + 1, 1, 1))
                s_h, e_h = max(0, _hour_of(d, year)), _hour_of(end, year)
                if e_h > 0:
                    bias_windows.setdefault(iid, []).append((s_h, e_h, OOT_AS_FOUND_REL))
                affected.append({"cert_no": no, "instrument_id": iid, "point_id": inst.point_id,
                                 "calibration_date": d.isoformat(), "bias_rel_pct_in_data": OOT_AS_FOUND_REL,
                                 "in_data_from": max(d, y0).isoformat(), "in_data_to": end.isoformat()})
                instruments[-1] = inst = replace(inst, error_model="traced_to_oot")
        if p.point_id in overdue_mid | overdue_all:
            findings.append(Fault("overdue", org, p.point_id, iid, start=(valid_last + timedelta(days=1)).isoformat(),
                                  end=date(year + 1, 1, 1).isoformat(),
                                  detail=f"last certificate valid until {valid_last.isoformat()}; no recalibration",
                                  rule="GB 17167-2006 5.3.6: instruments past their verification period must not be used",
                                  start_h=max(0, _hour_of(valid_last + timedelta(days=1), year))))
        if p.point_id in cal_instead:
            nos = [x.cert_no for x in certs if x.subject == iid]
            findings.append(Fault("calibrated_not_verified", org, p.point_id, iid, start=y0.isoformat(),
                                  end=date(year + 1, 1, 1).isoformat(), start_h=0,
                                  detail=(f"instrument under mandatory verification (强制检定) holds calibration "
                                          f"certificates only ({', '.join(nos)}); no verification (检定): its data "
                                          "are not covered"),
                                  rule=("GB 17167-2006 5.3.6 / 计量法 第九条: an instrument under mandatory verification "
                                        "must be verified; a calibration certificate does not satisfy it")))
        if p.point_id == failed:
            findings.append(Fault("does_not_conform", org, p.point_id, iid, start=dates[-1].isoformat(),
                                  detail=f"verification found error {delta:+.2f} % beyond MPE ±{mpe} %; instrument kept in service",
                                  rule="GB 17167-2006 5.3.6: failed instruments must not be used"))

    oot_events.append({
        "standard_code": oot_code,
        "holder_org": PROVINCES[oot_prov][3],
        "found_on": oot_found.isoformat(),
        "window_from": oot_last_ok.isoformat(),
        "window_to": oot_found.isoformat(),
        "as_found_error_rel_pct": OOT_AS_FOUND_REL,
        "tolerance_rel_pct": OOT_TOLERANCE_REL,
        "finding_certificate": oot_cert.cert_no,
        "detail": "working gas-flow standard found out of tolerance at its intermediate check; the last passed check "
                  "bounds the window. Instrument certificates issued with it inside the window are suspect: the "
                  "instruments carry the standard's error in the measured data while those certificates are in force.",
        "affected_certificates": affected,
    })
    findings.append(Fault("standard_out_of_tolerance", "", "", oot_code, start=oot_last_ok.isoformat(),
                          end=oot_found.isoformat(), detail=f"{len(affected)} instrument certificates affected",
                          rule="JJF 1033 / ISO/IEC 17025 7.10: nonconforming work, reverse traceability"))
    return MetrologyResult(orgs, standards, instruments, certs, findings, oot_events, bias_windows)
