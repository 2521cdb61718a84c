"""Instruments under mandatory verification (强制检定) are covered by verification certificates only.

The sample registry's FM1 (gas flow meter at E01.NG_IN) carries calibration certificates only
(ORD-2023-FM1 2023-09-01…2024-09-01, ORD-2024-FM1 2024-09-01…2025-09-01, ORD-2025-FM1 2025-09-01…2026-09-01).
Each test sets its legal category and checks the due list, the coverage of its point's data period and
the metering catalogue, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import pytest
from sqlalchemy import Engine, select

from carbonmet.db import session_scope
from carbonmet.registry import DueItem, catalog_from_registry, due_list, period_coverage
from carbonmet.registry.models import Certificate
from carbonmet.registry.rows import CertificateRow, InstrumentRow
from carbonmet.registry.rules import certificate_counts, certificate_covers
from carbonmet.registry.write import upsert_certificate, upsert_instrument


def _set_category(engine: Engine, category: Literal["mandatory", "non_mandatory"] | None) -> None:
    with session_scope(engine) as s:
        upsert_instrument(s, InstrumentRow(serial="FM-0001", instrument_id="FM1", org_code="E01",
                                           type="gas_flow_meter", legal_category=category))


def _verify(engine: Engine, cert_no: str, day: date, valid_until: date | None,
            conclusion: Literal["conforms", "does_not_conform"] = "conforms") -> None:
    with session_scope(engine) as s:
        upsert_certificate(s, CertificateRow(cert_no=cert_no, kind="verification", subject="FM1", issuer_org="ORD",
                                             calibration_date=day, valid_until=valid_until,
                                             conclusion=conclusion))


def _fm1(engine: Engine, today: date, within: int = 30) -> DueItem:
    with session_scope(engine) as s:
        return {i.instrument: i for i in due_list(s, today, within_days=within, include_ok=True)}["FM1"]


def test_certificate_rule_in_one_place(sample: Engine) -> None:
    assert certificate_counts("verification", "mandatory")
    assert not certificate_counts("calibration", "mandatory")
    assert certificate_counts("calibration", "non_mandatory") and certificate_counts("calibration", None)
    with session_scope(sample) as s:
        (fm1_cal,) = [c for c in s.scalars(select(Certificate).where(Certificate.cert_no == "ORD-2024-FM1"))]
        assert certificate_covers(fm1_cal, None) and certificate_covers(fm1_cal, "non_mandatory")
        assert not certificate_covers(fm1_cal, "mandatory")


def test_mandatory_with_calibrations_only_is_overdue_and_uncovered(sample: Engine) -> None:
    _set_category(sample, "mandatory")
    with session_scope(sample) as s:
        items = {i.instrument: i for i in due_list(s, date(2025, 10, 1), within_days=30)}
        cov = period_coverage(s, "E01.NG_IN", date(2024, 1, 1), date(2025, 1, 1))
        cat = catalog_from_registry(s)
    fm1 = items["FM1"]  # listed without include_ok: its calibration (valid to 2026-09-01) is no cover
    assert fm1.status == "overdue" and fm1.due is None and fm1.days_left is None
    assert fm1.last_certificate == "ORD-2025-FM1" and fm1.last_calibrated == date(2025, 9, 1)
    assert fm1.reason is not None and "ORD-2025-FM1" in fm1.reason and "检定" in fm1.reason
    assert fm1.reason.index("强制检定") < fm1.reason.index("mandatory verification")  # zh-CN first
    assert fm1.to_dict()["reason"] == fm1.reason
    assert items["BS1"].reason is None  # a verified mandatory instrument: as before
    assert not cov.covered and cov.certificates == [] and cov.instruments == ["FM1"]
    assert [(g.start, g.end) for g in cov.gaps] == [(date(2024, 1, 1), date(2025, 1, 1))]
    assert len(cov.notes) == 2 and all(n.startswith("FM1: 强制检定") for n in cov.notes)
    assert [n.split("校准证书 ")[1].split(" ")[0] for n in cov.notes] == ["ORD-2023-FM1", "ORD-2024-FM1"]
    assert cov.to_dict()["notes"] == cov.notes
    (inst,) = cat["E01.NG_IN"].instruments
    assert inst.instrument_id == "FM1" and inst.certificates == ()


def test_mandatory_with_a_verification_is_covered(sample: Engine) -> None:
    _set_category(sample, "mandatory")
    _verify(sample, "JD-2024-FM1", date(2024, 1, 1), date(2025, 12, 31))
    with session_scope(sample) as s:
        cov = period_coverage(s, "E01.NG_IN", date(2024, 1, 1), date(2026, 1, 1))
        cat = catalog_from_registry(s)
        listed = {i.instrument for i in due_list(s, date(2025, 10, 1), within_days=30)}
    assert cov.covered and cov.certificates == ["JD-2024-FM1"]  # the later calibrations do not end it
    (inst,) = cat["E01.NG_IN"].instruments
    assert inst.certificates == (("JD-2024-FM1", date(2024, 1, 1), date(2025, 12, 31)),)
    assert "FM1" not in listed  # verified until 2025-12-31: not due within 30 days of 2025-10-01
    ok = _fm1(sample, date(2025, 10, 1))
    assert ok.status == "ok" and ok.due == date(2025, 12, 31)
    assert ok.last_certificate == "ORD-2025-FM1" and ok.reason is not None and "ORD-2025-FM1" in ok.reason
    soon = _fm1(sample, date(2025, 12, 15))
    assert soon.status == "due" and soon.days_left == 16
    late = _fm1(sample, date(2026, 1, 5))
    assert late.status == "overdue" and late.due == date(2025, 12, 31)
    # a verification newer than every calibration: nothing left to explain
    _verify(sample, "JD-2025-FM1", date(2025, 12, 20), date(2026, 12, 19))
    renewed = _fm1(sample, date(2026, 1, 5))
    assert renewed.status == "ok" and renewed.reason is None
    assert renewed.last_certificate == "JD-2025-FM1"


def test_calibration_after_a_failed_verification_does_not_restore_a_mandatory_instrument(sample: Engine) -> None:
    _set_category(sample, "mandatory")
    _verify(sample, "JD-2024-FM1", date(2024, 1, 1), date(2025, 12, 31))
    _verify(sample, "TZ-2025-FM1", date(2025, 3, 1), None, "does_not_conform")
    with session_scope(sample) as s:
        cov = period_coverage(s, "E01.NG_IN", date(2025, 1, 1), date(2026, 1, 1))
    assert [(g.start, g.end) for g in cov.gaps] == [(date(2025, 3, 1), date(2026, 1, 1))]
    fm1 = _fm1(sample, date(2025, 10, 1))
    assert fm1.status == "failed" and fm1.reason is not None and "ORD-2025-FM1" in fm1.reason


@pytest.mark.parametrize("category", ["non_mandatory", None])
def test_non_mandatory_and_unknown_accept_calibrations(
    sample: Engine, category: Literal["non_mandatory"] | None
) -> None:
    _set_category(sample, category)
    with session_scope(sample) as s:
        cov = period_coverage(s, "E01.NG_IN", date(2024, 1, 1), date(2025, 1, 1))
        cat = catalog_from_registry(s)
        listed = {i.instrument for i in due_list(s, date(2025, 10, 1), within_days=30)}
    assert cov.covered and cov.certificates == ["ORD-2023-FM1", "ORD-2024-FM1"] and cov.notes == []
    (inst,) = cat["E01.NG_IN"].instruments
    assert [c[0] for c in inst.certificates] == ["ORD-2023-FM1", "ORD-2024-FM1", "ORD-2025-FM1"]
    assert "FM1" not in listed
    fm1 = _fm1(sample, date(2025, 10, 1))
    assert fm1.status == "ok" and fm1.due == date(2026, 9, 1) and fm1.reason is None
