"""The enterprise's annual emission report (企业年度排放报告) as it submits it: one row per source stream and month.

One row model (:class:`ReportRow`) for the reference-data writer and the reader (docs/formats/report.md);
every problem of a file raises :class:`ReportFileError` naming file, row and field; nothing is half-read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..tabular import TabularError, read_table
from ._errors import ReportFileError

ParameterSource = Literal["lab", "default", "supplier", "estimate", ""]
ActivitySource = Literal["measured", "invoice", "estimate"]

#: allowed units of every unit column (the units the monitoring plans use)
UNITS: dict[str, tuple[str, ...]] = {
    "unit": ("t", "Nm3", "MWh", "GJ"),
    "ncv_unit": ("MJ/kg", "MJ/Nm3", ""),
    "carbon_content_unit": ("%", "kg/Nm3", ""),
    "emission_factor_unit": ("tCO2/MWh", "tCO2/GJ", ""),
}
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CO2_PER_C = 44.0095 / 12.011  # ACC §1.3 [V-calc]


def _ids(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, list | tuple):
        return tuple(str(x).strip() for x in v if str(x).strip())
    return tuple(x.strip() for x in re.split(r"[;\s]+", str(v)) if x.strip())


class ReportRow(BaseModel):
    """One row of an emission report: a source stream in a month, its activity data, the parameters used (each
    with its source and the lab samples it rests on) and the emissions the enterprise computed [tCO2]."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    enterprise: str = Field(min_length=1, max_length=64)
    period: str = Field(min_length=7, max_length=7)
    stream: str = Field(min_length=1, max_length=96)
    amount: float = Field(ge=0)
    unit: str
    activity_source: ActivitySource = "measured"
    ncv: float | None = Field(default=None, gt=0)
    ncv_unit: str = ""
    ncv_source: ParameterSource = ""
    ncv_samples: tuple[str, ...] = ()
    carbon_content: float | None = Field(default=None, ge=0)
    carbon_content_unit: str = ""
    carbon_content_source: ParameterSource = ""
    carbon_samples: tuple[str, ...] = ()
    oxidation_rate: float | None = Field(default=None, gt=0, le=100)
    oxidation_rate_source: ParameterSource = ""
    emission_factor: float | None = Field(default=None, ge=0)
    emission_factor_unit: str = ""
    emission_factor_source: ParameterSource = ""
    emissions_tco2: float

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        if not _PERIOD.match(v):
            raise ValueError(f"{v!r} is not a month YYYY-MM")
        return v

    @field_validator("ncv_samples", "carbon_samples", mode="before")
    @classmethod
    def _samples(cls, v: Any) -> tuple[str, ...]:
        return _ids(v)

    @field_validator("amount", "ncv", "carbon_content", "oxidation_rate", "emission_factor", "emissions_tco2")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @field_validator("unit", "ncv_unit", "carbon_content_unit", "emission_factor_unit")
    @classmethod
    def _unit(cls, v: str, info: Any) -> str:
        allowed = UNITS[info.field_name]
        if v not in allowed:
            raise ValueError(f"unit {v!r} is not one of {', '.join(repr(a) for a in allowed if a)}")
        return v

    def computed_emissions(self) -> float:
        """The row's emissions recomputed from its own figures [tCO2]: amount × emission factor, or amount ×
        carbon content × 44/12 × oxidation rate (carbon content in % or kg/Nm³; oxidation 100 % when not given).

        References
        ----------
        GB/T 32151.10-2023 (fuel combustion: AD × CC × OF × 44/12; purchased electricity and heat: AD × EF) [C].
        """
        if self.emission_factor is not None:
            return self.amount * self.emission_factor
        if self.carbon_content is None:
            return 0.0
        c = self.carbon_content / (100.0 if self.carbon_content_unit == "%" else 1000.0)
        of = 1.0 if self.oxidation_rate is None else self.oxidation_rate / 100.0
        return self.amount * c * _CO2_PER_C * of

    def cells(self) -> list[Any]:
        """The row's values in column order, as written to a file (sample ids joined by ``;``)."""
        out: list[Any] = []
        for k in REPORT_COLUMNS:
            v = getattr(self, k)
            out.append(";".join(v) if isinstance(v, tuple) else v)
        return out


REPORT_COLUMNS: tuple[str, ...] = tuple(ReportRow.model_fields)
REQUIRED_COLUMNS = ("enterprise", "period", "stream", "amount", "unit", "emissions_tco2")


@dataclass
class Report:
    """An emission report read from a file: the rows with their row numbers in the file (header = 1)."""

    file: str
    enterprise: str
    year: int
    rows: list[ReportRow] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)

    def row_of(self, stream: str, period: str) -> tuple[int, ReportRow] | None:
        for n, r in zip(self.row_numbers, self.rows, strict=True):
            if r.stream == stream and r.period == period:
                return n, r
        return None

    def streams(self) -> list[str]:
        return list(dict.fromkeys(r.stream for r in self.rows))


def read_report(path: str | Path, *, name: str | None = None) -> Report:
    """Read an emission report (CSV or XLSX, docs/formats/report.md).

    Raises
    ------
    ReportFileError
        Missing column, a bad cell (number, unit, period, source), more than one enterprise or year, or a
        stream-month given twice — naming file, row and field.
    """
    label = name or str(path)
    try:
        sheet = read_table(path)[0]
    except TabularError as exc:
        raise ReportFileError(exc.file, exc.row, exc.field, exc.reason) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in sheet.header]
    if missing:
        raise ReportFileError(label, 1, missing[0], f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in sheet.header if c not in REPORT_COLUMNS]
    if unknown:
        raise ReportFileError(label, 1, unknown[0], f"unknown column; expected some of {', '.join(REPORT_COLUMNS)}")
    if sheet.issues:
        i = sheet.issues[0]
        raise ReportFileError(label, i.row, i.field, f"{i.code}: {i.detail}")
    rows: list[ReportRow] = []
    numbers: list[int] = []
    seen: dict[tuple[str, str], int] = {}
    for rowno, cells in sheet.rows:
        raw = {c: (None if v is None or (isinstance(v, str) and not v.strip()) else v)
               for c, v in zip(sheet.header, cells, strict=True)}
        data = {k: v for k, v in raw.items() if v is not None}
        for k in ("ncv_unit", "carbon_content_unit", "emission_factor_unit", "ncv_source", "carbon_content_source",
                  "oxidation_rate_source", "emission_factor_source"):
            data.setdefault(k, "")
        try:
            row = ReportRow.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            fld = str(err["loc"][0]) if err["loc"] else "row"
            raise ReportFileError(label, rowno, fld, f"{err['msg']} (got {raw.get(fld)!r})") from None
        key = (row.stream, row.period)
        if key in seen:
            raise ReportFileError(label, rowno, "period",
                                  f"stream {row.stream!r} month {row.period} already given in row {seen[key]}")
        seen[key] = rowno
        if rows and row.enterprise != rows[0].enterprise:
            raise ReportFileError(label, rowno, "enterprise",
                                  f"{row.enterprise!r}: a report is one enterprise's ({rows[0].enterprise!r})")
        if rows and row.period[:4] != rows[0].period[:4]:
            raise ReportFileError(label, rowno, "period", f"{row.period}: a report is one year ({rows[0].period[:4]})")
        for pfx in ("ncv", "carbon_content", "emission_factor"):
            if getattr(row, pfx) is not None and not getattr(row, f"{pfx}_unit"):
                raise ReportFileError(label, rowno, f"{pfx}_unit", f"{pfx} is given without its unit")
        rows.append(row)
        numbers.append(rowno)
    if not rows:
        raise ReportFileError(label, None, "rows", "the report has no rows")
    return Report(label, rows[0].enterprise, int(rows[0].period[:4]), rows, numbers)
