"""An instrument's covering certificate as a measured quantity, on SQLite and PostgreSQL.

Sample registry (tests/registry/data): FM1 gas flow meter, calibrations ORD-2023/2024/2025-FM1 with
U = 0.5 % (k = 2), each valid one year from 1 September; BS1 belt scale under mandatory verification,
MPE 0.5 %, verified by ORD-JD-2024-BS1 (conforms) 2024-08-01 … 2025-07-31; FM2 calibrated 2024-07-15.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy import Engine, select

from carbonmet.db import session_scope
from carbonmet.quantities import MeasuredQuantity, Shape
from carbonmet.registry import instrument_certificates, instrument_states, instrument_uncertainty
from carbonmet.registry.errors import FieldError
from carbonmet.registry.models import Certificate, Instrument, Organisation
from carbonmet.registry.rows import CertificateRow, InstrumentRow
from carbonmet.registry.rules import certificate_states
from carbonmet.registry.write import upsert_certificate, upsert_instrument


def _q(engine: Engine, instrument: str, on: date, **kw: object) -> MeasuredQuantity:
    with session_scope(engine) as s:
        return instrument_uncertainty(s, instrument, on, **kw)  # type: ignore[arg-type]


def test_calibrated_instrument_gives_u_from_U_over_k(sample: Engine) -> None:
    q = _q(sample, "FM1", date(2025, 1, 1))
    assert (q.value, q.unit, q.u, q.shape) == (0.0, "%", pytest.approx(0.5 / 2), Shape.NORMAL)
    assert q.provenance.instruments == ("FM1",) and q.provenance.certificates == ("ORD-2024-FM1",)
    assert "calibration" in q.provenance.method and "2024-09-01" in q.provenance.note
    # the newest certificate covering the day is used, by serial as well as by id
    assert _q(sample, "FM-0001", date(2025, 10, 1)).provenance.certificates == ("ORD-2025-FM1",)
    # a figure in % scales with a value in another unit
    flow = _q(sample, "FM1", date(2025, 1, 1), value=2000.0, unit="m3/h", name="Q")
    assert (flow.u, flow.name, flow.unit) == (pytest.approx(2000.0 * 0.005 / 2), "Q", "m3/h")


def test_verified_instrument_gives_u_from_mpe_over_sqrt3(sample: Engine) -> None:
    q = _q(sample, "BS1", date(2025, 1, 1))
    assert (q.u, q.shape) == (pytest.approx(0.5 / math.sqrt(3)), Shape.RECTANGULAR)
    assert q.provenance.instruments == ("BS1",) and q.provenance.certificates == ("ORD-JD-2024-BS1",)
    assert "verification" in q.provenance.method and "MPE" in q.provenance.method
    mass = _q(sample, "BS1", date(2025, 1, 1), value=10_000.0, unit="t")
    assert mass.u == pytest.approx(10_000.0 * 0.005 / math.sqrt(3))


def test_mandatory_instrument_with_only_a_calibration_is_not_evaluated(sample: Engine) -> None:
    with session_scope(sample) as s:
        upsert_instrument(s, InstrumentRow(serial="FM-0001", instrument_id="FM1", org_code="E01",
                                           type="gas_flow_meter", legal_category="mandatory"))
    q = _q(sample, "FM1", date(2025, 1, 1))
    assert math.isnan(q.u) and q.provenance.certificates == ()
    assert "强制检定" in q.provenance.note and "ORD-2024-FM1" in q.provenance.note
    assert "not evaluated" in q.provenance.note


def test_no_certificate_is_nan_never_zero(sample: Engine) -> None:
    for inst, on in (("FM2", date(2024, 1, 1)), ("SP1", date(2025, 1, 1))):
        q = _q(sample, inst, on)
        assert math.isnan(q.u) and q.provenance.instruments == (inst,) and "no certificate" in q.provenance.note
    expired = _q(sample, "BS1", date(2025, 8, 15))
    assert math.isnan(expired.u) and "expired" in expired.provenance.note
    with pytest.raises(FieldError, match="NO-SUCH"):
        _q(sample, "NO-SUCH", date(2025, 1, 1))


def test_failed_verification_ends_the_cover(sample: Engine) -> None:
    with session_scope(sample) as s:
        upsert_certificate(s, CertificateRow(cert_no="ORD-JD-2025-BS1", kind="verification", subject="BS1",
                                             issuer_org="ORD", calibration_date=date(2025, 3, 1),
                                             conclusion="does_not_conform"))
    assert _q(sample, "BS1", date(2025, 2, 28)).provenance.certificates == ("ORD-JD-2024-BS1",)
    q = _q(sample, "BS1", date(2025, 4, 1))
    assert math.isnan(q.u) and "ORD-JD-2025-BS1" in q.provenance.note and "non-conforming" in q.provenance.note


def test_certificates_in_bulk_and_the_states_they_give(sample: Engine) -> None:
    periods = [(date(2024, 8, 1), date(2024, 9, 1)), (date(2025, 8, 1), date(2025, 9, 1))]
    codes = ["FM1", "FM2", "FM3", "BS1", "SP1"]
    with session_scope(sample) as s:
        ids = dict(s.execute(select(Instrument.code, Instrument.id).where(Instrument.code.in_(codes))).all())
        by_ids = instrument_certificates(s, ids.values())
        by_select = instrument_certificates(s, select(Instrument.id).where(Instrument.org_id.is_not(None)))
        insts = s.scalars(select(Instrument).where(Instrument.code.in_(codes))).all()
        states = instrument_states(s, codes, periods)
        assert certificate_states(insts, by_ids, periods) == states  # the same rules on the same certificates
        # a change not yet flushed is seen, as a query through the session would see it
        ord_id = s.scalars(select(Organisation.id).where(Organisation.code == "ORD")).one()
        s.add(Certificate(cert_no="ORD-JD-2025-BS1", kind="verification", instrument_id=ids["BS1"],
                          issuer_org_id=ord_id, calibration_date=date(2025, 7, 15), valid_until=date(2026, 7, 14),
                          conclusion="conforms"))
        assert instrument_certificates(s, [ids["BS1"]])[ids["BS1"]][-1].cert_no == "ORD-JD-2025-BS1"
        assert instrument_states(s, ["BS1"], periods)["BS1"].uncovered_days == (0, 0)
    assert by_ids == {i: by_select[i] for i in ids.values() if i in by_select}
    assert [c.cert_no for c in by_ids[ids["FM1"]]] == ["ORD-2023-FM1", "ORD-2024-FM1", "ORD-2025-FM1"]  # oldest first
    assert ids["SP1"] not in by_ids  # no certificate: absent
    assert all(c.instrument_id == i for i, cs in by_ids.items() for c in cs)
    assert states["FM1"].state == "ok" and states["FM1"].certificates == ("ORD-2023-FM1", "ORD-2024-FM1")
    assert states["BS1"].state == "overdue" and states["BS1"].uncovered_days == (0, 31)  # expired 2025-07-31
