"""Plain data of the lab package: results, rejects, flags, frequency findings, import reports, errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from typing import Any, Literal

from ..quantities import CarbonmetError

MoistureBasis = Literal["ar", "ad", "d"]
"""Moisture basis of a coal analysis: as received (收到基), air-dried (空气干燥基), dry (干燥基)."""

FlagKind = Literal["reused_sample_id", "c_ncv_inconsistent", "no_valid_certificate"]
"""What a flag says: a sample id used for two samples; carbon content inconsistent with the NCV of the same
sample; an analyser without a valid certificate on the analysis date."""


class LabError(CarbonmetError, ValueError):
    """A lab file cannot be read as a table of results at all (unreadable, unknown encoding, a required
    column missing, an unknown column). ``file``, ``row`` (header = 1; None for the whole file), ``field`` and
    ``reason`` say what and where; row-level problems are :class:`LabReject` records instead."""

    def __init__(self, file: str, row: int | None, field: str, reason: str) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason
        where = file if row is None else f"{file}:{row}"
        super().__init__(f"{where}:{field}: {reason}")


@dataclass(frozen=True, slots=True)
class LabResult:
    """One laboratory result (化验结果): one analyte of one physical sample, traceable to its analyser.

    Attributes
    ----------
    sample_id : str
        The laboratory's sample number (样品编号). The results of one physical sample are found by
        :attr:`sample_key`, not by ``sample_id`` (a lab may number each analysis).
    point_id : str
        The registered sample point (采样点) of the source stream, e.g. ``E01.GASIFIER_COAL.LAB``.
    enterprise : str
        Organisation code of the enterprise the stream belongs to ("" until resolved from the registry).
    sampled_from, sampled_to : datetime
        Sampling window (aware; ``sampled_from <= sampled_to``): a lot, a day's composite, a month's.
    analyte : str
        ``ncv``, ``carbon_content``, ``moisture`` … (``analytes.csv``).
    value : float
        Result in the analyte's canonical unit ``unit`` (``MJ/kg``, ``%``, ``MJ/Nm3``, ``kg/Nm3``).
    unit : str
        Canonical unit of ``value`` and ``U``.
    U : float
        Expanded uncertainty the laboratory states [unit], ``U >= 0``.
    k : float
        Its coverage factor (``k >= 1``).
    lab_org : str
        Organisation code of the laboratory (the enterprise's own lab or a contracted one).
    instrument_id : str
        Registry id of the analyser (calorimeter, CHN analyser, chromatograph …); its certificate gives the
        analyser's part of the uncertainty.
    method : str
        Standard method (``GB/T 213-2008``).
    report_no : str
        Test report number (检测报告编号).
    sampled_by, reference_material, batch : str or None
        Who took the sample; the reference material lot used (标准物质批号); the delivery batch (批次).
    replicates : int or None
        Number of parallel determinations (平行测定次数) averaged into ``value``.
    moisture_basis : {"ar", "ad", "d"}
        Basis of the result (default ``ar``, as received).
    analysed_on : date or None
        Day of the analysis, if the file gives it.
    flags : tuple of str
        Flag kinds recorded when the result was stored (:data:`FlagKind`).
    row : int or None
        Row of the file the result came from (not compared).
    """

    sample_id: str
    point_id: str
    enterprise: str
    sampled_from: datetime
    sampled_to: datetime
    analyte: str
    value: float
    unit: str
    U: float
    k: float
    lab_org: str
    instrument_id: str
    method: str
    report_no: str
    sampled_by: str | None = None
    reference_material: str | None = None
    replicates: int | None = None
    batch: str | None = None
    moisture_basis: MoistureBasis = "ar"
    analysed_on: date | None = None
    flags: tuple[str, ...] = ()
    row: int | None = dc_field(default=None, compare=False)

    @property
    def u(self) -> float:
        """Standard uncertainty ``U / k`` [unit] (GUM §6.2.1)."""
        return self.U / self.k

    @property
    def sample_key(self) -> tuple[str, datetime, datetime]:
        """(point_id, sampled_from, sampled_to): what identifies one physical sample."""
        return (self.point_id, self.sampled_from, self.sampled_to)

    def content(self) -> tuple[Any, ...]:
        """Everything stored of a result except its flags and row (equal content: a duplicate)."""
        return (self.sample_id, self.point_id, self.enterprise, self.sampled_from, self.sampled_to, self.analyte,
                self.value, self.unit, self.U, self.k, self.lab_org, self.instrument_id, self.method,
                self.report_no, self.sampled_by, self.reference_material, self.replicates, self.batch,
                self.moisture_basis, self.analysed_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id, "point_id": self.point_id, "enterprise": self.enterprise,
            "sampled_from": self.sampled_from.isoformat(), "sampled_to": self.sampled_to.isoformat(),
            "analyte": self.analyte, "value": self.value, "unit": self.unit, "U": self.U, "k": self.k,
            "u": self.u, "lab_org": self.lab_org, "instrument_id": self.instrument_id, "method": self.method,
            "report_no": self.report_no, "sampled_by": self.sampled_by,
            "reference_material": self.reference_material, "replicates": self.replicates, "batch": self.batch,
            "moisture_basis": self.moisture_basis,
            "analysed_on": self.analysed_on.isoformat() if self.analysed_on else None, "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class LabReject:
    """One refused field of one row (or a conflict with a stored result): where, what, why.

    ``code`` is a short reason code (``out_of_range``, ``unit_mismatch``, ``unknown_point``, ``conflict`` …,
    listed in docs/formats/lab.md); ``reason`` says it in zh-CN then English; ``raw`` is the row as read
    (column → text), kept in the quarantine; ``enterprise`` is whom the row belongs to, when known.
    """

    file: str
    row: int | None
    field: str
    code: str
    reason: str
    raw: Mapping[str, str | None] = dc_field(default_factory=dict, compare=False)
    enterprise: str | None = None

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        return f"{where}:{self.field}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "field": self.field, "code": self.code, "reason": self.reason,
                "enterprise": self.enterprise}


@dataclass(frozen=True)
class LabFile:
    """What :func:`read_lab_file` made of one file: every data row is a result or is rejected.

    ``rows`` counts the data rows read (blank rows are not rows); ``rejects`` may hold several problems of
    one row, :attr:`rejected_rows` counts the rows. ``rows == len(results) + rejected_rows`` always.
    ``raw_rows`` maps each data row number to its cells as text (what a quarantine keeps).
    """

    file: str
    sha256: str
    rows: int
    results: tuple[LabResult, ...]
    rejects: tuple[LabReject, ...]
    raw: bytes = dc_field(default=b"", repr=False, compare=False)
    raw_rows: Mapping[int, Mapping[str, str | None]] = dc_field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rows != len(self.results) + self.rejected_rows:
            raise ValueError(f"{self.file}: counts do not add up: {self.rows} rows != {len(self.results)} results "
                             f"+ {self.rejected_rows} rejected rows")

    @property
    def rejected_rows(self) -> int:
        """Number of distinct data rows with at least one reject."""
        return len({r.row for r in self.rejects if r.row is not None})

    @property
    def enterprises(self) -> tuple[str, ...]:
        """Enterprises the file's rows belong to (known ones only), sorted."""
        found = {r.enterprise for r in self.results if r.enterprise}
        found |= {r.enterprise for r in self.rejects if r.enterprise}
        return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class LabFlag:
    """A stored result that needs a look (not a rejection): kind, which result, why (zh-CN, English).

    ``related`` names the other samples involved (the other use of a reused sample id, the NCV of the sample
    a carbon content was compared with); ``value`` is the figure the check computed (C/NCV in tC/GJ for
    ``c_ncv_inconsistent``), nan when none.
    """

    kind: FlagKind
    enterprise: str
    sample_id: str
    point_id: str
    analyte: str
    sampled_from: datetime
    sampled_to: datetime
    detail: str
    related: tuple[str, ...] = ()
    value: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "enterprise": self.enterprise, "sample_id": self.sample_id,
                "point_id": self.point_id, "analyte": self.analyte, "sampled_from": self.sampled_from.isoformat(),
                "sampled_to": self.sampled_to.isoformat(), "detail": self.detail, "related": list(self.related),
                "value": None if math.isnan(self.value) else self.value}


FindingKind = Literal["missing_month", "missing_quarter", "missing_year", "batch_without_analysis"]


@dataclass(frozen=True, slots=True)
class FrequencyFinding:
    """A period (or a batch) in which a lab parameter of the monitoring plan has no result.

    ``period`` is ``2025-03`` (month), ``2025-Q2`` (quarter), ``2025`` (year) or the batch id.
    """

    enterprise: str
    source_stream: str
    point_id: str
    parameter: str
    frequency: str
    kind: FindingKind
    period: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "source_stream": self.source_stream, "point_id": self.point_id,
                "parameter": self.parameter, "frequency": self.frequency, "kind": self.kind, "period": self.period,
                "detail": self.detail}


ImportStatus = Literal["stored", "duplicate", "rejected"]


@dataclass(frozen=True)
class LabImport:
    """What happened to one lab file: ``rows == stored + duplicates + quarantined``.

    ``status``: ``stored`` (its new results are stored; conflicting rows quarantined), ``duplicate`` (every row
    was stored before: nothing written), ``rejected`` (a row was refused: no result of the file is stored,
    every row is quarantined — the refused ones with their reasons in ``rejects``, the others as
    ``file_rejected``). ``recorded`` says whether the import and its quarantine were written to the database
    (a file refused as a whole, or one whose owner the caller may not write, is only reported).
    """

    file: str
    sha256: str
    status: ImportStatus
    rows: int
    stored: int
    duplicates: int
    quarantined: int
    rejects: tuple[LabReject, ...] = ()
    flags: tuple[LabFlag, ...] = ()
    enterprises: tuple[str, ...] = ()
    import_id: int | None = None
    recorded: bool = False

    def __post_init__(self) -> None:
        if self.rows != self.stored + self.duplicates + self.quarantined:
            raise ValueError(f"{self.file}: counts do not add up: {self.rows} rows != {self.stored} stored + "
                             f"{self.duplicates} duplicates + {self.quarantined} quarantined")

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "status": self.status, "rows": self.rows,
                "stored": self.stored, "duplicates": self.duplicates, "quarantined": self.quarantined,
                "rejects": [r.to_dict() for r in self.rejects], "flags": [f.to_dict() for f in self.flags],
                "enterprises": list(self.enterprises), "import_id": self.import_id, "recorded": self.recorded}


@dataclass(frozen=True)
class LabImportReport:
    """The imports of several files (one transaction each): totals and per-file :class:`LabImport`."""

    files: tuple[LabImport, ...]

    @property
    def ok(self) -> bool:
        """No file was rejected."""
        return all(f.status != "rejected" for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def stored(self) -> int:
        return sum(f.stored for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def flags(self) -> tuple[LabFlag, ...]:
        return tuple(fl for f in self.files for fl in f.flags)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "stored": self.stored, "duplicates": self.duplicates,
                "quarantined": self.quarantined, "files": [f.to_dict() for f in self.files]}


@dataclass(frozen=True)
class LabFindings:
    """The checks of one enterprise's year: the flags of its stored results and the frequency findings
    against its monitoring plan (``plan_version`` None when no plan is stored: then no frequency check)."""

    enterprise: str
    year: int
    results: int
    flags: tuple[LabFlag, ...]
    frequency: tuple[FrequencyFinding, ...]
    plan_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "year": self.year, "results": self.results,
                "plan_version": self.plan_version, "flags": [f.to_dict() for f in self.flags],
                "frequency": [f.to_dict() for f in self.frequency]}
