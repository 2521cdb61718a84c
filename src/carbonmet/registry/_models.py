"""SQLAlchemy 2 models of the registry (计量器具与溯源登记).

Organisations own sites, sites hold measurement points; instruments are installed at points over
periods; certificates are of two distinct kinds — 检定 (verification: conforms or not against the
MPE, valid until a date) and 校准 (calibration: errors with expanded uncertainty U and k); each
certificate records the measurement standards (and which certificate of each standard) used, which
is the edge the traceability chain and reverse traceability walk.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base

ORG_KINDS = ("enterprise", "metrology_institute", "verifier", "regulator")
READING_KINDS = ("total", "rate", "sample", "interval")
CERT_KINDS = ("verification", "calibration")
SIGNATURE_STATUSES = ("valid", "invalid", "unsigned", "signer_untrusted", "signer_revoked")  # dcc._signature
CONCLUSIONS = ("conforms", "does_not_conform")
STANDARD_LEVELS = ("national", "primary", "working")
INSTRUMENT_STATUSES = ("in_service", "spare", "out_of_service", "scrapped")


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS}", name="ck_org_kind"),)


class Site(Base):
    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    org: Mapped[Organisation] = relationship()


class MeasurementPoint(Base):
    """A place where a quantity of a carrier is measured (计量点)."""

    __tablename__ = "measurement_point"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(96), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[str] = mapped_column(String(48))
    carrier: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(48))
    reading_kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(8))
    source_stream: Mapped[str | None] = mapped_column(String(96))
    hj212_mn: Mapped[str | None] = mapped_column(String(32))
    hj212_code: Mapped[str | None] = mapped_column(String(32))
    # declared consumption or power of the unit/equipment metered here (GB 17167 Tables 1-2 thresholds)
    energy_use: Mapped[float | None] = mapped_column(Float)
    energy_use_unit: Mapped[str | None] = mapped_column(String(48))
    site: Mapped[Site] = relationship()
    __table_args__ = (CheckConstraint(f"reading_kind IN {READING_KINDS}", name="ck_point_reading_kind"),)


class Instrument(Base):
    """A measuring instrument (计量器具)."""

    __tablename__ = "instrument"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(96), unique=True)
    serial: Mapped[str] = mapped_column(String(96), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    type: Mapped[str] = mapped_column(String(48), index=True)
    maker: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    range_low: Mapped[float | None] = mapped_column(Float)
    range_high: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(48))
    accuracy_class: Mapped[str | None] = mapped_column(String(32))
    mpe_rel: Mapped[float | None] = mapped_column(Float)
    mpe_abs: Mapped[float | None] = mapped_column(Float)
    resolution: Mapped[float | None] = mapped_column(Float)
    legal_category: Mapped[str | None] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24), default="in_service")
    interval_months: Mapped[int | None] = mapped_column(Integer)
    org: Mapped[Organisation] = relationship()
    installations: Mapped[list[Installation]] = relationship(
        back_populates="instrument", order_by="Installation.installed_from"
    )
    __table_args__ = (CheckConstraint(f"status IN {INSTRUMENT_STATUSES}", name="ck_instrument_status"),)


class Installation(Base):
    """An instrument at a point over a period: the history of moves (安装/迁移记录)."""

    __tablename__ = "installation"
    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("measurement_point.id"), index=True)
    installed_from: Mapped[date | None] = mapped_column(Date)
    installed_to: Mapped[date | None] = mapped_column(Date)  # exclusive; None = still there
    instrument: Mapped[Instrument] = relationship(back_populates="installations")
    point: Mapped[MeasurementPoint] = relationship()


class MeasurementStandard(Base):
    """A measurement standard (计量标准装置) used to verify or calibrate other items."""

    __tablename__ = "measurement_standard"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(96), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    holder_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[str | None] = mapped_column(String(64))
    range_text: Mapped[str | None] = mapped_column(String(200))
    uncertainty_text: Mapped[str | None] = mapped_column(String(200))
    approval_no: Mapped[str | None] = mapped_column(String(96))
    holder: Mapped[Organisation] = relationship()
    __table_args__ = (CheckConstraint(f"level IN {STANDARD_LEVELS}", name="ck_standard_level"),)


class Certificate(Base):
    """A verification (检定) or calibration (校准) certificate of an instrument or of a standard."""

    __tablename__ = "certificate"
    id: Mapped[int] = mapped_column(primary_key=True)
    cert_no: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instrument.id"))
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("measurement_standard.id"))
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    calibration_date: Mapped[date] = mapped_column(Date)
    issue_date: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    conclusion: Mapped[str | None] = mapped_column(String(24))
    as_found_error: Mapped[float | None] = mapped_column(Float)
    as_left_error: Mapped[float | None] = mapped_column(Float)
    error_unit: Mapped[str | None] = mapped_column(String(48))
    expanded_u: Mapped[float | None] = mapped_column(Float)
    coverage_factor: Mapped[float | None] = mapped_column(Float)
    coverage_probability: Mapped[float | None] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(String(16), default="import")
    dcc_xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    # the XML signature of a DCC as checked on import (None: not a DCC); see carbonmet.registry.dcc
    signature_status: Mapped[str | None] = mapped_column(String(20))
    signature_reason: Mapped[str | None] = mapped_column(Text)
    signature_signer: Mapped[str | None] = mapped_column(Text)
    # the operator's reason for accepting a DCC whose signature check failed (who: the audit entry's actor)
    signature_accepted: Mapped[str | None] = mapped_column(Text)
    instrument: Mapped[Instrument | None] = relationship()
    standard: Mapped[MeasurementStandard | None] = relationship(foreign_keys=[standard_id])
    issuer: Mapped[Organisation] = relationship()
    standards_used: Mapped[list[CertificateStandard]] = relationship(
        back_populates="certificate", cascade="all, delete-orphan", foreign_keys="CertificateStandard.certificate_id"
    )
    results: Mapped[list[CertificateResult]] = relationship(
        back_populates="certificate", cascade="all, delete-orphan", order_by="CertificateResult.position"
    )
    __table_args__ = (
        CheckConstraint(f"kind IN {CERT_KINDS}", name="ck_cert_kind"),
        CheckConstraint(
            "(instrument_id IS NULL) <> (standard_id IS NULL)", name="ck_cert_one_subject"
        ),
        CheckConstraint(
            "kind <> 'verification' OR (conclusion IS NOT NULL AND "
            "(valid_until IS NOT NULL OR conclusion = 'does_not_conform'))",
            name="ck_verification_has_conclusion",
        ),
        CheckConstraint("kind <> 'calibration' OR expanded_u IS NOT NULL", name="ck_calibration_has_u"),
        CheckConstraint(f"signature_status IS NULL OR signature_status IN {SIGNATURE_STATUSES}",
                        name="ck_cert_signature_status"),
        Index("ix_cert_instrument_date", "instrument_id", "calibration_date"),
        Index("ix_cert_standard_date", "standard_id", "calibration_date"),
    )


class CertificateStandard(Base):
    """Edge: a certificate was issued using a standard (and that standard's certificate in force)."""

    __tablename__ = "certificate_standard"
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("measurement_standard.id"))
    standard_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    certificate: Mapped[Certificate] = relationship(back_populates="standards_used", foreign_keys=[certificate_id])
    standard: Mapped[MeasurementStandard] = relationship()
    standard_certificate: Mapped[Certificate | None] = relationship(foreign_keys=[standard_certificate_id])
    __table_args__ = (
        UniqueConstraint("certificate_id", "standard_id", name="uq_cert_standard"),
        Index("ix_certstd_standard", "standard_id", "certificate_id"),
    )


class CertificateResult(Base):
    """One calibration point of a certificate (nominal, indicated error, U, k) — from DCC or entry."""

    __tablename__ = "certificate_result"
    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    ref_type: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(48))
    expanded_u: Mapped[float | None] = mapped_column(Float)
    coverage_factor: Mapped[float | None] = mapped_column(Float)
    coverage_probability: Mapped[float | None] = mapped_column(Float)
    certificate: Mapped[Certificate] = relationship(back_populates="results")


class StandardIncident(Base):
    """A standard found out of tolerance (超差): the trigger of a reverse trace."""

    __tablename__ = "standard_incident"
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("measurement_standard.id"), index=True)
    last_good: Mapped[date] = mapped_column(Date)
    found_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    standard: Mapped[MeasurementStandard] = relationship()

