"""The stored deposits (存证记录), on :class:`carbonmet.db.Base`.

``monthly_deposit`` holds one row per version of one parameter of one enterprise-month, unique by its audit key
``deposit_key`` = ``<enterprise>/<month>/<source stream>/<parameter>/v<version>`` (the five columns; a row whose
columns disagree with its logged key is found by reconciliation). A row is written once and never
updated: a correction is the next version. The evidence list is kept as its canonical JSON text (name, SHA-256,
kind, size per file), the bytes in the evidence store.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

DEPOSIT = "monthly_deposit"
STATUSES = ("on_time", "late")
#: Longest audit key the log holds (``audit_log.entity_key``).
KEY_MAX = 128


class DepositRecord(Base):
    """One stored version of a monthly deposit (月度存证)."""

    __tablename__ = DEPOSIT
    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    enterprise: Mapped[str] = mapped_column(String(64), index=True)
    month: Mapped[str] = mapped_column(String(7))
    source_stream: Mapped[str] = mapped_column(String(96))
    parameter: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(48))
    evidence: Mapped[str] = mapped_column(Text)  # canonical JSON list of {name, sha256, kind, size}
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    uploaded_at: Mapped[str] = mapped_column(String(40))  # ISO 8601, UTC, microseconds
    deadline: Mapped[date] = mapped_column(Date)
    authority_deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    plan_version: Mapped[int] = mapped_column(Integer)
    source_file: Mapped[str] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_row: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        CheckConstraint("version >= 1", name="ck_monthly_deposit_version"),
        CheckConstraint(f"status IN {STATUSES}", name="ck_monthly_deposit_status"),
    )
