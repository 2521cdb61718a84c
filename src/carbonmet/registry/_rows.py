"""Validated input rows of the registry (one pydantic model per import table).

The same models serve file import, the CLI and (later) the REST API, so a record is checked the
same way whichever door it comes in by. Columns: docs/formats/registry-import.md.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..quantities import UnitError, parse_unit
from ..quantities.rules import (
    CERTIFICATE_WINDOW,
    check_code,
    check_coverage_factor,
    check_finite,
    unescape_spreadsheet_text,
)

# numbers typed into text columns (serial 001234 saved by Excel as 1234.0 is still refused: see _cell)
_OPT = ConfigDict(str_strip_whitespace=True, extra="forbid", coerce_numbers_to_str=True)


class _Row(BaseModel):
    """Base of the row models: text escaped by the safe spreadsheet writer (``'=…``) reads back as written."""

    model_config = _OPT

    @model_validator(mode="before")
    @classmethod
    def _unescape(cls, data: object) -> object:
        if isinstance(data, dict):
            return {k: unescape_spreadsheet_text(v) if isinstance(v, str) else v for k, v in data.items()}
        return data


def _check_unit(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    try:
        parse_unit(v)
    except UnitError as exc:
        raise ValueError(str(exc)) from exc
    return v


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _code(v: str | None) -> str | None:
    """The one identifier rule (:func:`carbonmet.quantities.rules.check_code`) for code columns."""
    if v is None:
        return None
    try:
        return check_code(v, "code")
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("code: ")) from None


def _finite(v: float | None) -> float | None:
    """The one finite-number rule: NaN and ±inf are refused (an empty cell is the way to say "none")."""
    try:
        return check_finite(v, "number")
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("number: ")) from None


def _label(v: str | None) -> str | None:
    """A free identifier (certificate no., serial): any printable text, but no control characters."""
    if v is not None and any(unicodedata.category(ch).startswith("C") for ch in v):
        raise ValueError(f"不能含控制字符 / must not contain control characters: {v!r}")
    return v


def _cert_date(v: date | None) -> date | None:
    if v is not None:
        CERTIFICATE_WINDOW.check(v, "date")
    return v


def _date_only(v: object) -> object:
    """A date column takes dates only: pydantic would read 0 or "0" as 1970-01-01 (Unix seconds); bool is an int too."""
    if isinstance(v, int | float) or (isinstance(v, str) and _NUMBER.fullmatch(v.strip())):
        raise ValueError(f"须为日期 YYYY-MM-DD / must be a date YYYY-MM-DD, got the number {v!r}")
    return v


def _k(v: float | None) -> float | None:
    """The one coverage-factor rule shared with DCC import: finite and k ≥ 1."""
    try:
        return check_coverage_factor(v, "k")
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("k: ")) from None


class OrganisationRow(_Row):
    org_code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["enterprise", "metrology_institute", "verifier", "regulator"]
    region: str | None = Field(default=None, max_length=200)
    industry: str | None = Field(default=None, max_length=64)

    _codes = field_validator("org_code")(_code)


class SiteRow(_Row):
    site_code: str = Field(min_length=1, max_length=64)
    org_code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)

    _codes = field_validator("site_code", "org_code")(_code)


class PointRow(_Row):
    point_id: str = Field(min_length=1, max_length=96)
    site_code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: str = Field(min_length=1, max_length=48)
    carrier: str = Field(min_length=1, max_length=64)
    unit: str = Field(max_length=48)
    reading_kind: Literal["total", "rate", "sample", "interval"]
    level: Literal["L1", "L2", "L3"] | None = None
    source_stream: str | None = Field(default=None, max_length=96)
    hj212_mn: str | None = Field(default=None, max_length=32)
    hj212_code: str | None = Field(default=None, max_length=32)
    #: declared consumption or power of the unit/equipment metered here (JJF 1356-2012 Table B.2), judged
    #: against GB 17167-2006 Tables 1-2 (which secondary units and equipment are "main")
    energy_use: float | None = Field(default=None, ge=0)
    energy_use_unit: str | None = Field(default=None, max_length=48)

    _unit = field_validator("unit", "energy_use_unit")(_check_unit)
    _codes = field_validator("point_id", "site_code", "source_stream")(_code)
    _labels = field_validator("hj212_mn", "hj212_code")(_label)
    _numbers = field_validator("energy_use")(_finite)

    @model_validator(mode="after")
    def _energy_use_pair(self) -> PointRow:
        if (self.energy_use is None) != (self.energy_use_unit is None):
            raise ValueError("energy_use and energy_use_unit go together (both or neither)")
        return self


class StandardRow(_Row):
    standard_code: str = Field(min_length=1, max_length=96)
    name: str = Field(min_length=1, max_length=200)
    holder_org: str = Field(min_length=1, max_length=64)
    level: Literal["national", "primary", "working"]
    quantity: str | None = Field(default=None, max_length=64)
    range: str | None = Field(default=None, max_length=200)
    uncertainty: str | None = Field(default=None, max_length=200)
    certificate_no: str | None = Field(default=None, max_length=96)

    _codes = field_validator("standard_code", "holder_org")(_code)
    _labels = field_validator("certificate_no")(_label)


class InstrumentRow(_Row):
    serial: str = Field(min_length=1, max_length=96)
    instrument_id: str | None = Field(default=None, max_length=96)
    org_code: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=48)
    maker: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    range_low: float | None = None
    range_high: float | None = None
    unit: str | None = Field(default=None, max_length=48)
    accuracy_class: str | None = Field(default=None, max_length=32)
    mpe_rel: float | None = Field(default=None, ge=0)
    mpe_abs: float | None = Field(default=None, ge=0)
    resolution: float | None = Field(default=None, ge=0)
    legal_category: Literal["mandatory", "non_mandatory"] | None = None
    point_id: str | None = Field(default=None, max_length=96)
    installed_from: date | None = None
    status: Literal["in_service", "spare", "out_of_service", "scrapped"] = "in_service"
    interval_months: int | None = Field(default=None, gt=0, le=240)

    _unit = field_validator("unit")(_check_unit)
    _codes = field_validator("instrument_id", "org_code", "point_id")(_code)
    _labels = field_validator("serial")(_label)
    _numbers = field_validator("range_low", "range_high", "mpe_rel", "mpe_abs", "resolution")(_finite)
    _dates = field_validator("installed_from")(_cert_date)
    _date_text = field_validator("installed_from", mode="before")(_date_only)

    @model_validator(mode="after")
    def _range_order(self) -> InstrumentRow:
        if self.range_low is not None and self.range_high is not None and self.range_low >= self.range_high:
            raise ValueError("range_low must be below range_high")
        return self

    @property
    def code(self) -> str:
        return self.instrument_id or self.serial


class CertificateRow(_Row):
    cert_no: str = Field(min_length=1, max_length=96)
    kind: Literal["verification", "calibration"]
    subject: str = Field(min_length=1, max_length=96)
    subject_kind: Literal["instrument", "standard"] = "instrument"
    issuer_org: str = Field(min_length=1, max_length=64)
    calibration_date: date
    issue_date: date | None = None
    valid_until: date | None = None
    conclusion: Literal["conforms", "does_not_conform"] | None = None
    as_found_error: float | None = None
    as_left_error: float | None = None
    error_unit: str | None = Field(default=None, max_length=48)
    U: float | None = Field(default=None, ge=0)
    k: float | None = None
    coverage_probability: float | None = Field(default=None, gt=0, lt=1)
    standards_used: str | None = None

    _unit = field_validator("error_unit")(_check_unit)
    _codes = field_validator("issuer_org")(_code)
    _labels = field_validator("cert_no", "subject")(_label)
    _numbers = field_validator("as_found_error", "as_left_error", "U", "coverage_probability")(_finite)
    _coverage = field_validator("k")(_k)
    _dates = field_validator("calibration_date", "issue_date", "valid_until")(_cert_date)
    _date_text = field_validator("calibration_date", "issue_date", "valid_until", mode="before")(_date_only)

    @model_validator(mode="after")
    def _kind_rules(self) -> CertificateRow:
        if self.kind == "verification":
            if self.conclusion is None:
                raise ValueError("a verification (检定) certificate needs a conclusion (conforms/does_not_conform)")
            if self.valid_until is None and self.conclusion == "conforms":
                raise ValueError("a conforming verification certificate needs valid_until (有效期至)")
        else:
            if self.U is None:
                raise ValueError("a calibration (校准) certificate needs its expanded uncertainty U")
            if self.conclusion is not None:
                raise ValueError("a calibration certificate gives no conformity conclusion; use kind=verification")
        if self.valid_until is not None and self.valid_until < self.calibration_date:
            raise ValueError("valid_until is before calibration_date")
        return self

    def standards(self) -> list[tuple[str, str | None]]:
        """Parse ``standards_used``: ``CODE`` or ``CODE@CERT_NO`` separated by ``;``."""
        out: list[tuple[str, str | None]] = []
        for part in (self.standards_used or "").split(";"):
            part = part.strip()
            if not part:
                continue
            code, _, cert = part.partition("@")
            out.append((code.strip(), cert.strip() or None))
        return out


ROW_MODELS: dict[str, type[BaseModel]] = {
    "organisations": OrganisationRow,
    "sites": SiteRow,
    "points": PointRow,
    "standards": StandardRow,
    "instruments": InstrumentRow,
    "certificates": CertificateRow,
}
#: Order in which tables are applied when several are imported together.
TABLE_ORDER = ("organisations", "sites", "points", "standards", "instruments", "certificates")
