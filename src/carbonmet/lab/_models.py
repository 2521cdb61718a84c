"""SQLAlchemy models of stored lab data (化验数据存储), on :class:`carbonmet.db.Base`.

* ``lab_import`` — one row per imported (or refused) file: name, SHA-256, the file's bytes as received,
  row counts, when, who, status, the enterprises it belongs to;
* ``lab_result`` — one row per stored result, unique by (enterprise, sample_id, analyte), linked to its
  sample point and its analyser instrument in the registry; never updated;
* ``lab_quarantine`` — one row per refused row of a file: its row number, the (first) refused field, the reason
  code, every reason (``field: reason; …``), the raw row as JSON.

Times are stored in UTC without offset (``DateTime`` means the same on SQLite and PostgreSQL) and read
back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

IMPORT = "lab_import"
RESULT = "lab_result"
QUARANTINE = "lab_quarantine"

IMPORT_STATUSES = ("stored", "rejected")
BASES = ("ar", "ad", "d")


class LabImportRow(Base):
    """One lab file as received (化验文件导入记录)."""

    __tablename__ = IMPORT
    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    enterprises: Mapped[str] = mapped_column(Text)  # organisation codes joined by ";"
    row_count: Mapped[int] = mapped_column(Integer)
    stored_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer)
    quarantined_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[str] = mapped_column(String(40))  # ISO 8601, UTC
    actor: Mapped[str] = mapped_column(String(96))
    raw_ext: Mapped[str] = mapped_column(String(16))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (
        CheckConstraint(f"status IN {IMPORT_STATUSES}", name="ck_lab_import_status"),
        CheckConstraint("row_count = stored_count + duplicate_count + quarantined_count", name="ck_lab_import_counts"),
    )


class LabResultRow(Base):
    """One stored laboratory result (化验结果); never updated (a different value is quarantined)."""

    __tablename__ = RESULT
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey(f"{IMPORT}.id"))
    file_row: Mapped[int] = mapped_column(Integer)
    enterprise: Mapped[str] = mapped_column(String(64))
    sample_id: Mapped[str] = mapped_column(String(96))
    point_id: Mapped[str] = mapped_column(String(96))
    point_ref: Mapped[int] = mapped_column(ForeignKey("measurement_point.id"))
    sampled_from: Mapped[datetime] = mapped_column(DateTime)
    sampled_to: Mapped[datetime] = mapped_column(DateTime)
    analyte: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(48))
    expanded_u: Mapped[float] = mapped_column(Float)
    coverage_factor: Mapped[float] = mapped_column(Float)
    lab_org: Mapped[str] = mapped_column(String(64))
    instrument_id: Mapped[str] = mapped_column(String(96))
    instrument_ref: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    method: Mapped[str] = mapped_column(String(200))
    report_no: Mapped[str] = mapped_column(String(96))
    sampled_by: Mapped[str | None] = mapped_column(String(96))
    reference_material: Mapped[str | None] = mapped_column(String(200))
    replicates: Mapped[int | None] = mapped_column(Integer)
    batch: Mapped[str | None] = mapped_column(String(96))
    moisture_basis: Mapped[str] = mapped_column(String(2))
    analysed_on: Mapped[date | None] = mapped_column(Date)
    flags: Mapped[str] = mapped_column(String(200))  # flag kinds joined by ";" ("" if none), as at import
    __table_args__ = (
        UniqueConstraint("enterprise", "sample_id", "analyte"),
        CheckConstraint("sampled_from <= sampled_to", name="ck_lab_result_window"),
        CheckConstraint("expanded_u >= 0 AND coverage_factor >= 1", name="ck_lab_result_uncertainty"),
        CheckConstraint(f"moisture_basis IN {BASES}", name="ck_lab_result_basis"),
        Index("ix_lab_result_point_time", "enterprise", "point_id", "sampled_from"),
        Index("ix_lab_result_import", "import_id"),
    )


class LabQuarantineRow(Base):
    """One refused row of a lab file (化验数据隔离区): where, why, and the row as it was."""

    __tablename__ = QUARANTINE
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey(f"{IMPORT}.id"), index=True)
    file_row: Mapped[int | None] = mapped_column(Integer)
    enterprise: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    raw_row: Mapped[str] = mapped_column(Text)  # the row's cells as a JSON object (column → text)
