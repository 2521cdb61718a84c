"""Plain data of the reference region: enterprises, points, instruments, certificates, faults, manifest."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from ._errors import RefdataError

Resolution = Literal["hour", "minute"]


@dataclass(frozen=True, slots=True)
class Enterprise:
    """One synthetic enterprise (重点排放单位) and its plant parameters."""

    code: str
    name: str
    route: str  # ctm, cto, ctl, cteg
    industry: str  # coal_to_methanol, …
    region_key: str
    region: str
    province: str
    capacity_t: float  # main product [t/a]
    utilisation: float  # target share of capacity
    efficiency: float  # factor on specific carbon / heat needs
    purchased_steam_t_per_t: float
    recovered_share: float  # of process CO2
    n_stacks: int
    gasifier_basin: str
    boiler_basin: str
    sites: tuple[tuple[str, str], ...]  # (site_code, name): main process site, utilities site


@dataclass(frozen=True, slots=True)
class Point:
    """A measurement point (计量点) as written to ``points.csv`` plus what the generator needs."""

    point_id: str
    enterprise: str
    site_code: str
    name: str
    quantity: str
    carrier: str
    unit: str
    reading_kind: Literal["total", "rate", "sample", "interval"]
    level: str
    source_stream: str
    instrument_type: str  # key in constants [instrument_type]
    signal: str  # key of the true series in the enterprise truth
    schedule: str  # "clock" (every step), "daily", "lot_g", "lot_b" (interval points), "lab" (samples)
    gb17167_role: str = ""
    hj212_mn: str = ""
    hj212_code: str = ""
    wave: int = 0  # 0: points of refdata ≤ 1.2; 1: added in 1.3 (wastewater). See ``_region.in_draw_order``.


@dataclass(frozen=True, slots=True)
class Instrument:
    """A measuring instrument (计量器具) with the error the generator gives it."""

    instrument_id: str
    serial: str
    org_code: str
    type_key: str
    registry_type: str
    maker: str
    model: str
    range_low: float
    range_high: float
    unit: str
    accuracy_class: str
    mpe_rel: float | None  # [%]
    resolution: float
    legal_category: str
    point_id: str
    installed_from: date
    cert_kind: str  # verification / calibration
    u_rel: float  # standard uncertainty stated by its certificate [%]
    noise_rel: float  # repeatability of one minute reading [%] (0 when absolute)
    noise_abs: float  # repeatability of one minute reading [unit] (0 when relative)
    systematic_rel: float  # true systematic error [%] drawn from the certificate's statement
    error_model: str  # rectangular | normal | nonconforming | traced_to_oot | drift
    drift_start_h: int = -1  # hour index where drift starts (-1: none)
    drift_rel_per_year: float = 0.0  # [%] per year (``drift_year_hours``) after the start
    drift_year_hours: int = 0  # hours of the calendar year the drift rate refers to (8760, or 8784 in a leap year)
    lab_point: str = ""  # ``<org>.LAB.<suffix>`` of a laboratory instrument (it has no readings point)


@dataclass(frozen=True, slots=True)
class Standard:
    standard_code: str
    name: str
    holder_org: str
    level: str  # national, primary, working
    family: str
    province: str
    range: str
    uncertainty: str
    certificate_no: str


@dataclass(frozen=True, slots=True)
class Certificate:
    cert_no: str
    kind: str
    subject: str
    subject_kind: str
    issuer_org: str
    calibration_date: date
    valid_until: date | None
    conclusion: str | None = None
    as_found_error: float | None = None
    as_left_error: float | None = None
    error_unit: str | None = None
    U: float | None = None
    k: float | None = None
    standards_used: str = ""


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault or finding, with where it is."""

    kind: str  # gap, stuck, spike, drift, maintenance, nonconforming_class, overdue, does_not_conform,
    #            calibrated_not_verified, standard_out_of_tolerance
    enterprise: str
    point_id: str = ""
    instrument_id: str = ""
    start: str = ""  # ISO 8601 with offset
    end: str = ""  # exclusive
    detail: str = ""
    rule: str = ""
    start_h: int = -1
    end_h: int = -1
    factor: float = 0.0


@dataclass
class Manifest:
    """What was generated, from which seed, and every fault and non-compliance injected (清单)."""

    version: str
    seed: int
    year: int
    enterprises: int
    resolution: str
    generator: str
    enterprises_list: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    noncompliance: list[dict[str, Any]] = field(default_factory=list)
    out_of_tolerance: list[dict[str, Any]] = field(default_factory=list)
    misstatements: list[dict[str, Any]] = field(default_factory=list)  # injected into reports/<E>.csv
    outputs: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path | str) -> Manifest:
        """Read ``manifest.json`` written by :func:`carbonmet.refdata.generate`."""
        p = Path(path)
        if p.is_dir():
            p = p / "manifest.json"
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError("top level is not an object")
            m = cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise RefdataError(f"{p}: not a refdata manifest: {exc}") from exc
        for name, kind in (("version", str), ("seed", int), ("year", int), ("enterprises", int),
                           ("resolution", str), ("faults", list), ("noncompliance", list), ("counts", dict)):
            if not isinstance(getattr(m, name), kind):
                raise RefdataError(f"{p}: not a refdata manifest: field {name!r} is not {kind.__name__}")
        return m
