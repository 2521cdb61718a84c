"""The stored emission factors (排放因子库), on :class:`carbonmet.db.Base`.

``emission_factor`` holds one row per version of one factor key, unique by ``factor_ref`` =
``<product>/<technology>/<region>/<year>/<gas>/<gwp_set>/v<version>`` (the audit key). A row is written once and never
updated: a changed value is the next version.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carbonmet.db import Base

FACTOR = "emission_factor"
BASES = ("measured", "default", "literature")


class FactorRow(Base):
    """One stored version of an emission factor."""

    __tablename__ = FACTOR
    id: Mapped[int] = mapped_column(primary_key=True)
    factor_ref: Mapped[str] = mapped_column(String(128), unique=True)
    factor_key: Mapped[str] = mapped_column(String(128), index=True)
    product: Mapped[str] = mapped_column(String(64), index=True)
    technology: Mapped[str] = mapped_column(String(48))
    region: Mapped[str] = mapped_column(String(48))
    year: Mapped[int] = mapped_column(Integer)
    gas: Mapped[str] = mapped_column(String(16))
    gwp_set: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    flow_unit: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(Text)
    source_version: Mapped[str] = mapped_column(String(64))
    clause: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(String(8))
    distribution: Mapped[str] = mapped_column(Text)  # canonical JSON of the Distribution
    pedigree: Mapped[str | None] = mapped_column(String(40))  # "(2;3;1;2;5)"
    pedigree_table: Mapped[str] = mapped_column(String(16))
    basic_variance: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str] = mapped_column(Text)
    source_file: Mapped[str] = mapped_column(String(255))
    source_row: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        CheckConstraint("version >= 1", name="ck_emission_factor_version"),
        CheckConstraint(f"basis IN {BASES}", name="ck_emission_factor_basis"),
    )
