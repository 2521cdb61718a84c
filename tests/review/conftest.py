"""A hand-built registry for the review tests: one enterprise, one instrument per case, every certificate
written out below with the date that decides it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from carbonmet.services import Scope, Workspace, import_registry, record_incident

REGISTRY = {
    "organisations": "org_code,name,kind,region,industry\n"
                     "C01,示例市计量检测中心,metrology_institute,示例市,\n"
                     "E01,甲煤化有限公司,enterprise,示例市,coal_chemical\n",
    "sites": "site_code,org_code,name\nE01-S1,E01,甲厂区\n",
    "points": "point_id,site_code,name,quantity,carrier,unit,reading_kind,level,source_stream\n"
              "E01.COAL_OK,E01-S1,入炉煤甲,mass,raw_coal,t,total,L2,gasifier_coal\n"
              "E01.COAL_BAD,E01-S1,入炉煤乙,mass,fuel_coal,t,total,L2,boiler_coal\n"
              "E01.COAL_FAIL,E01-S1,入炉煤丙,mass,raw_coal,t,total,L2,gasifier_coal\n"
              "E01.ELEC,E01-S1,关口电能表,electric_energy,electricity,MWh,total,L1,purchased_electricity\n"
              "E01.ELEC2,E01-S1,关口电能表二,electric_energy,electricity,MWh,total,L1,purchased_electricity\n"
              "E01.NG,E01-S1,天然气,normal_volume,natural_gas,Nm3,total,L1,natural_gas\n"
              "E01.FLARE,E01-S1,火炬气,normal_volume,syngas,Nm3,total,L2,flare\n"
              "E01.FLARE2,E01-S1,火炬气二,normal_volume,syngas,Nm3,total,L2,flare\n"
              "E01.TEMP,E01-S1,烟温,temperature,flue_gas,degC,rate,L3,stack\n",
    "standards": "standard_code,name,holder_org,level,quantity\nWRK-FLOW,气体流量工作标准,C01,working,gas_flow\n",
    "instruments": "serial,instrument_id,org_code,type,unit,accuracy_class,mpe_rel,legal_category,point_id,"
                   "installed_from,status\n"
                   "S1,I-OK,E01,belt_scale,t/h,0.5,0.5,mandatory,E01.COAL_OK,2020-01-01,in_service\n"
                   "S2,I-BELT-BAD,E01,belt_scale,t/h,1,1.0,mandatory,E01.COAL_BAD,2020-01-01,in_service\n"
                   "S3,I-FAIL,E01,belt_scale,t/h,0.5,0.5,mandatory,E01.COAL_FAIL,2020-01-01,in_service\n"
                   "S4,I-ELEC,E01,electricity_meter,MW,0.5S,,mandatory,E01.ELEC,2020-01-01,in_service\n"
                   "S5,I-ELEC2,E01,electricity_meter,MW,1.0,1.0,mandatory,E01.ELEC2,2020-01-01,in_service\n"
                   "S6,I-CAL,E01,gas_flow_meter,Nm3/h,2.0,,mandatory,E01.NG,2020-01-01,in_service\n"
                   "S7,I-OOT,E01,gas_flow_meter,Nm3/h,1.5,1.5,non_mandatory,E01.FLARE,2020-01-01,in_service\n"
                   "S8,I-ERR,E01,gas_flow_meter,Nm3/h,1.5,1.5,non_mandatory,E01.FLARE2,2020-01-01,in_service\n"
                   "S9,I-NONE,E01,thermometer,degC,1.0,,non_mandatory,E01.TEMP,2020-01-01,in_service\n"
                   "S10,I-SPARE,E01,belt_scale,t/h,2,2.0,mandatory,,,spare\n",
    "certificates": "cert_no,kind,subject,subject_kind,issuer_org,calibration_date,valid_until,conclusion,"
                    "as_found_error,as_left_error,U,k,error_unit,standards_used\n"
                    "C-STD,calibration,WRK-FLOW,standard,C01,2024-06-01,2025-05-31,,,,0.1,2,%,\n"
                    "V-OK,verification,I-OK,instrument,C01,2024-07-01,2025-06-30,conforms,,,,,,\n"
                    "V-BAD,verification,I-BELT-BAD,instrument,C01,2025-01-10,2026-01-09,conforms,,,,,,\n"
                    "V-FAIL1,verification,I-FAIL,instrument,C01,2024-09-01,2025-08-31,conforms,,,,,,\n"
                    "V-FAIL2,verification,I-FAIL,instrument,C01,2025-03-01,,does_not_conform,,,,,,\n"
                    "V-ELEC,verification,I-ELEC,instrument,C01,2025-01-10,2030-01-09,conforms,,,,,,\n"
                    "V-ELEC2,verification,I-ELEC2,instrument,C01,2025-01-10,2030-01-09,conforms,,,,,,\n"
                    "X-CAL,calibration,I-CAL,instrument,C01,2025-01-15,2027-01-14,,,,1.0,2,%,\n"
                    "X-OOT,calibration,I-OOT,instrument,C01,2025-04-10,2026-04-09,,1.8,1.8,0.6,2,%,WRK-FLOW\n"
                    "X-ERR,calibration,I-ERR,instrument,C01,2025-02-10,2026-02-09,,2.2,2.2,0.6,2,%,WRK-FLOW\n",
}


def write_registry(d: Path) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for table, body in REGISTRY.items():
        (d / f"{table}.csv").write_text(body, encoding="utf-8")
        out.append(d / f"{table}.csv")
    return out


@pytest.fixture(scope="module")
def hand_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("review")
    with Workspace(f"sqlite:///{root / 'r.db'}", store_root=root / "store") as ws:
        centre = Scope.centre()
        import_registry(ws, centre, write_registry(root / "registry"))
        # the working flow standard was found out of tolerance on 1 May; last good on 1 April
        record_incident(ws, centre, "WRK-FLOW", date(2025, 4, 1), date(2025, 5, 1), "超差")
        yield ws


