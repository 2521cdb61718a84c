"""Plain data read from and written to a DCC (数字校准证书): frozen dataclasses, no XML."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from pint.errors import DimensionalityError, OffsetUnitCalculusError

from carbonmet.quantities import UnitError, parse_unit, ureg
from carbonmet.quantities.rules import check_coverage_factor, check_finite

from ._dsi import canonical_unit_text, dsi_to_pint, to_dsi
from ._errors import DccError, DsiUnitError

#: Values allowed in ``coreData/performanceLocation`` (DCC 3.x).
PERFORMANCE_LOCATIONS = ("laboratory", "customer", "laboratoryBranch", "customerBranch", "other")
#: Values allowed in ``identification/issuer`` (DCC 3.x).
ISSUERS = ("manufacturer", "calibrationLaboratory", "customer", "owner", "other")
#: Values allowed in ``statement/conformity`` (DCC 3.x).
CONFORMITY = ("pass", "fail", "conditionalPass", "conditionalFail", "noPass", "noFail")


@dataclass(frozen=True)
class DccIdentification:
    """An identification of an item, a standard or the certificate (serial no., asset no., order no.).

    ``issuer`` is one of :data:`ISSUERS`; a serial number (出厂编号) is issued by the ``manufacturer``.
    """

    issuer: str
    value: str
    name: str = ""


@dataclass(frozen=True)
class DccContact:
    """A party (laboratory, customer, manufacturer) with its address fields as given."""

    name: str
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    street_no: str | None = None
    post_code: str | None = None
    city: str | None = None
    state: str | None = None
    country_code: str | None = None
    further: str | None = None

    @property
    def has_location(self) -> bool:
        return any(
            v is not None
            for v in (
                self.street,
                self.street_no,
                self.post_code,
                self.city,
                self.state,
                self.country_code,
                self.further,
            )
        )


@dataclass(frozen=True)
class DccPerson:
    """A responsible person (签发/核验/校准人员)."""

    name: str
    role: str | None = None
    main_signer: bool = False


@dataclass(frozen=True)
class DccItem:
    """The calibrated item (被校计量器具)."""

    name: str
    manufacturer: str | None = None
    model: str | None = None
    identifications: tuple[DccIdentification, ...] = ()

    @property
    def serial(self) -> str | None:
        """The manufacturer's serial number (出厂编号), if one is given."""
        for ident in self.identifications:
            if ident.issuer == "manufacturer":
                return ident.value
        return None


@dataclass(frozen=True)
class DccCertificateRef:
    """Reference to another certificate (``dcc:certificate``, a hashType): the standard's own certificate.

    ``referral_id`` is that certificate's number; ``procedure``/``value`` its hash, if stated.
    """

    referral_id: str
    referral: str = ""
    procedure: str = ""
    value: str = ""


@dataclass(frozen=True)
class DccEquipment:
    """Measuring equipment used: the reference standard(s) (计量标准) of the calibration.

    The registry uses these for the traceability chain: ``identifications`` name the standard,
    ``certificate`` its own calibration certificate.
    """

    name: str
    ref_type: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    identifications: tuple[DccIdentification, ...] = ()
    certificate: DccCertificateRef | None = None


@dataclass(frozen=True)
class DccMethod:
    """A method or procedure used (校准规范, e.g. ``JJG 1030-2007``)."""

    name: str
    norms: tuple[str, ...] = ()
    ref_type: str | None = None


@dataclass(frozen=True)
class DccStatement:
    """A statement (conformity, traceability, recalibration …) from ``administrativeData/statements``."""

    ref_type: str | None = None
    text: str = ""
    conformity: str | None = None
    norms: tuple[str, ...] = ()
    traceable: bool | None = None
    date: date | None = None


def _same_unit(a: str, b: str) -> bool:
    ua, ub = parse_unit(a), parse_unit(b)
    if ua == ub:
        return True
    if ua.dimensionality != ub.dimensionality:
        return False
    try:
        return math.isclose(ureg.Quantity(1.0, ua).to(ub).magnitude, 1.0, rel_tol=1e-12)
    except (DimensionalityError, OffsetUnitCalculusError):  # °C vs K never compare as the same unit
        return False


def _floats(name: str, values: tuple[float, ...], n: int, *, nonneg: bool = False) -> None:
    if len(values) not in (0, n):
        raise DccError(f"{name} has {len(values)} entries for {n} values")
    for v in values:
        if not isinstance(v, (int, float)):
            raise DccError(f"{name} entry {v!r} is not a finite number")
        try:
            check_finite(v, name)  # the one finite-number rule, shared with registry import
        except ValueError as exc:
            raise DccError(str(exc)) from None
        if nonneg and v < 0:
            raise DccError(f"{name} entry {v!r} is negative")


@dataclass(frozen=True)
class DccResult:
    """One numeric quantity of a DCC result (a ``dcc:quantity`` with ``si:real`` / ``si:realListXMLList``).

    Attributes
    ----------
    name : str
        Quantity name (or the enclosing result's name when the quantity has none).
    values : tuple of float
        The value(s), one per calibration point.
    unit : str
        D-SI unit as written in the file (``"\\percent"``). Given ``pint_unit`` only, it is derived.
    pint_unit : str
        Canonical carbonmet unit text (``"%"``, ``"m ** 3 / h"``) as :func:`carbonmet.quantities.format_unit`
        writes it; given in any form :func:`carbonmet.quantities.parse_unit` accepts, it is canonicalised
        and must mean the same unit as ``unit``; it is then replaced by the text derived from ``unit``
        (``"kWh"`` → ``"h * kW"``), so that equal units always compare equal.
    ref_type : str or None
        ``refType`` of the quantity (``basic_measurementError``, ``basic_referenceValue`` …).
    measurement_result, result : str
        Names of the enclosing ``dcc:measurementResult`` and ``dcc:result``; when blank they are
        filled with ``result`` and ``name`` respectively.
    expanded_uncertainty : tuple of float
        Expanded uncertainty U per value [same unit as the values] (empty if not stated).
    coverage_factor, coverage_probability : tuple of float
        k and p per value (empty if not stated).
    standard_uncertainty : tuple of float
        Standard uncertainty u per value, from ``standardMU`` / a coverage interval (empty otherwise).
    coverage_interval : tuple of (float, float)
        (min, max) per value, from ``coverageIntervalMU`` / ``coverageInterval``.
    distribution : tuple of str
        Stated distribution per value (``normal``, ``rectangular`` …), empty if not stated.
    conditions : tuple of DccCondition
        Influence conditions (temperature, pressure …) that apply to this quantity.
    path : str
        Element path in the source document (not compared).
    """

    name: str
    values: tuple[float, ...]
    unit: str = ""
    pint_unit: str = ""
    ref_type: str | None = None
    measurement_result: str = ""
    result: str = ""
    expanded_uncertainty: tuple[float, ...] = ()
    coverage_factor: tuple[float, ...] = ()
    coverage_probability: tuple[float, ...] = ()
    standard_uncertainty: tuple[float, ...] = ()
    coverage_interval: tuple[tuple[float, float], ...] = ()
    distribution: tuple[str, ...] = ()
    conditions: tuple[DccCondition, ...] = ()
    path: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n = len(self.values)
        if n == 0:
            raise DccError(f"result {self.name!r} has no values")
        # blank enclosing names are filled from the inner ones, so a written and re-read result is equal
        if not self.result:
            object.__setattr__(self, "result", self.name)
        if not self.measurement_result:
            object.__setattr__(self, "measurement_result", self.result)
        _floats("values", self.values, n)
        if not self.unit and not self.pint_unit:
            raise DccError(f"result {self.name!r} has no unit")
        if not self.unit:
            object.__setattr__(self, "unit", to_dsi(self.pint_unit))
        from_dsi = dsi_to_pint(self.unit)
        if self.pint_unit and self.pint_unit != from_dsi:
            try:
                canonical = canonical_unit_text(self.pint_unit)
            except UnitError as exc:
                raise DsiUnitError(f"unknown unit {self.pint_unit!r}", token=self.pint_unit) from exc
            if not _same_unit(canonical, from_dsi):
                raise DccError(
                    f"pint_unit {self.pint_unit!r} is not the D-SI unit {self.unit!r} ({from_dsi})"
                )
        # pint_unit is always the text derived from the D-SI unit, so equal units compare equal
        object.__setattr__(self, "pint_unit", from_dsi)
        _floats("expanded_uncertainty", self.expanded_uncertainty, n, nonneg=True)
        _floats("coverage_factor", self.coverage_factor, n)
        _floats("coverage_probability", self.coverage_probability, n)
        _floats("standard_uncertainty", self.standard_uncertainty, n, nonneg=True)
        if len(self.coverage_interval) not in (0, n):
            raise DccError(f"coverage_interval has {len(self.coverage_interval)} entries for {n} values")
        if len(self.distribution) not in (0, n):
            raise DccError(f"distribution has {len(self.distribution)} entries for {n} values")
        for k in self.coverage_factor:
            try:
                check_coverage_factor(k, "coverage factor")  # the one k >= 1 rule, shared with registry import
            except ValueError as exc:
                raise DccError(str(exc)) from None
        for p in self.coverage_probability:
            if not 0 <= p <= 1:
                raise DccError(f"coverage probability {p!r} is outside [0, 1]")
        if self.expanded_uncertainty and (self.standard_uncertainty or self.coverage_interval):
            raise DccError("give either an expanded uncertainty or a standard uncertainty, not both")
        if self.coverage_interval and not (self.standard_uncertainty and self.coverage_probability):
            raise DccError("a coverage interval needs standard_uncertainty and coverage_probability")

    def u(self) -> tuple[float, ...]:
        """Standard uncertainties [unit of the values]: ``U/k`` when U and k are stated, else ``u``; else ``()``."""
        if self.expanded_uncertainty and self.coverage_factor:
            return tuple(U / k for U, k in zip(self.expanded_uncertainty, self.coverage_factor, strict=True))
        return self.standard_uncertainty


@dataclass(frozen=True)
class DccCondition:
    """An influence condition (影响量/环境条件) with its numeric quantities (e.g. min/max temperature)."""

    name: str
    ref_type: str | None = None
    quantities: tuple[DccResult, ...] = ()


@dataclass(frozen=True)
class DccCertificate:
    """The content of a PTB Digital Calibration Certificate that carbonmet uses.

    Attributes
    ----------
    unique_identifier : str
        Certificate number (证书编号), ``coreData/uniqueIdentifier``.
    begin_performance_date, end_performance_date : date
        Calibration date(s) (校准日期).
    calibration_laboratory : DccContact
        Issuing laboratory; ``laboratory_code`` its accreditation/lab code if given.
    customer : DccContact
    items : tuple of DccItem
        The calibrated item(s).
    results : tuple of DccResult
        Every numeric quantity of ``measurementResults`` in document order.
    equipment : tuple of DccEquipment
        Measuring equipment (standards) used, collected from every level of the document.
    schema_version : str
        ``schemaVersion`` of the source document (not compared; :func:`write_dcc` always writes 3.3.0).
    raw : bytes
        The source XML, byte for byte (not compared); empty for a certificate built in code.
    unsupported : tuple of str
        ``path: reason`` of quantities carbonmet did not read (text, complex, si:list …); not compared.
    """

    unique_identifier: str
    begin_performance_date: date
    end_performance_date: date
    calibration_laboratory: DccContact
    customer: DccContact
    items: tuple[DccItem, ...]
    results: tuple[DccResult, ...] = ()
    schema_version: str = field(default="3.3.0", compare=False)
    laboratory_code: str | None = None
    performance_location: str | None = "laboratory"
    issue_date: date | None = None
    receipt_date: date | None = None
    country_code: str = "CN"
    languages: tuple[str, ...] = ("zh", "en")
    mandatory_languages: tuple[str, ...] = ("zh",)
    resp_persons: tuple[DccPerson, ...] = ()
    statements: tuple[DccStatement, ...] = ()
    equipment: tuple[DccEquipment, ...] = ()
    methods: tuple[DccMethod, ...] = ()
    raw: bytes = field(default=b"", compare=False, repr=False)
    unsupported: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.unique_identifier.strip():
            raise DccError("certificate has no uniqueIdentifier")
        if self.end_performance_date < self.begin_performance_date:
            raise DccError(
                f"endPerformanceDate {self.end_performance_date} is before beginPerformanceDate "
                f"{self.begin_performance_date}"
            )

    @property
    def calibration_date(self) -> date:
        """The date the calibration was completed (``endPerformanceDate``)."""
        return self.end_performance_date

    def results_by_ref_type(self, ref_type: str) -> tuple[DccResult, ...]:
        """Results whose ``refType`` list contains ``ref_type`` (e.g. ``"basic_measurementError"``)."""
        return tuple(r for r in self.results if r.ref_type and ref_type in r.ref_type.split())
