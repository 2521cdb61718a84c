"""The measured-quantity type: value, unit, standard uncertainty and provenance.

Every number carbonmet reports to a user as a measurement or an emission figure is a
:class:`MeasuredQuantity` (计量结果: 量值、单位、标准不确定度、溯源信息).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from ._errors import CarbonmetError
from ._units import convert, format_unit, parse_unit


class Source(StrEnum):
    """How a value was obtained."""

    MEASURED = "measured"  # 实测: from readings of a registered instrument or a lab analysis
    DEFAULT = "default"  # 缺省值: from a published default-value table
    CALCULATED = "calculated"  # 计算: a measurement model over other quantities
    SUBSTITUTED = "substituted"  # 替代: filled for missing data by a rule
    DECLARED = "declared"  # 申报: stated by a party, not measured here


class Shape(StrEnum):
    """Shape of the distribution a standard uncertainty was evaluated with (分布类型).

    Carried by a :class:`MeasuredQuantity` so that a measurement model takes the quantity in
    with the distribution it came from (JCGM 101 §6.4).
    """

    NORMAL = "normal"  # 正态: u = U/k from a calibration certificate (GUM §4.3.4)
    RECTANGULAR = "rectangular"  # 矩形/均匀: u = MPE/√3 from a verification, half-width √3·u (GUM §4.3.7)
    TRIANGULAR = "triangular"  # 三角: half-width √6·u (GUM §4.3.9)
    T = "t"  # t 分布: type A mean of n indications, u = s/√n, ν = n − 1 (JCGM 101 §6.4.9)


class CertificateKind(StrEnum):
    """Kind of certificate a figure comes from."""

    CALIBRATION = "calibration"  # 校准: states U and k → normal, u = U/k
    VERIFICATION = "verification"  # 检定: states conformity to an MPE → rectangular, u = MPE/√3


class Evidence(StrEnum):
    """Evidence mark of a constant or a default (see shared/domain/README.md)."""

    VERIFIED = "V"  # read in the official or cited source
    CORROBORATED = "C"  # found in secondary sources, consistent
    UNVERIFIED = "M"  # from memory / not checked against the official text
    DERIVED = "D"  # own arithmetic from stated inputs


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a quantity comes from (溯源信息).

    Attributes
    ----------
    source : Source
        Measured, default, calculated, substituted or declared.
    instruments : tuple of str
        Registry ids (or serial numbers) of the instruments whose readings produced it.
    certificates : tuple of str
        Certificate numbers that cover those instruments over ``period``.
    period : tuple of datetime or None
        Data period ``(start, end)``, end exclusive.
    method : str
        Method or model name (e.g. ``"GB/T 32151.10-2015 §…"``, ``"sum of hourly totals"``).
    reference : str
        Publication or table a default came from, with clause and year.
    evidence : Evidence or None
        Evidence mark for defaults and constants.
    inputs : tuple of str
        Ids of the quantities a calculated value was computed from.
    note : str
        Free text (completeness, substitutions, warnings).
    """

    source: Source = Source.MEASURED
    instruments: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()
    period: tuple[datetime, datetime] | None = None
    method: str = ""
    reference: str = ""
    evidence: Evidence | None = None
    inputs: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["source"] = self.source.value
        d["evidence"] = self.evidence.value if self.evidence else None
        d["instruments"], d["certificates"], d["inputs"] = (
            list(self.instruments),
            list(self.certificates),
            list(self.inputs),
        )
        d["period"] = [p.isoformat() for p in self.period] if self.period else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Provenance:
        period = d.get("period")
        return cls(
            source=Source(d.get("source", "measured")),
            instruments=tuple(d.get("instruments", ())),
            certificates=tuple(d.get("certificates", ())),
            period=(datetime.fromisoformat(period[0]), datetime.fromisoformat(period[1])) if period else None,
            method=d.get("method", ""),
            reference=d.get("reference", ""),
            evidence=Evidence(d["evidence"]) if d.get("evidence") else None,
            inputs=tuple(d.get("inputs", ())),
            note=d.get("note", ""),
        )


class QuantityError(CarbonmetError, ValueError):
    """A measured quantity was built from inconsistent parts."""


@dataclass(frozen=True, slots=True)
class MeasuredQuantity:
    """A value with its unit, standard uncertainty and provenance (计量结果).

    Attributes
    ----------
    value : float
        Best estimate, in ``unit``.
    unit : str
        Unit text understood by :func:`carbonmet.quantities.parse_unit`.
    u : float
        Standard uncertainty (标准不确定度), in ``unit``; ``0.0`` for an exact constant,
        ``nan`` where it has not been evaluated (never silently zero).
    dof : float
        Degrees of freedom of ``u`` (``inf`` for type B with full knowledge).
    provenance : Provenance
        Where the value comes from.
    name : str
        Short id of the quantity (``"FC_gasifier_coal"``), stable across a calculation.
    shape : Shape or None
        Distribution ``u`` was evaluated with (:func:`from_mpe` → rectangular,
        :func:`from_expanded` → normal, :func:`from_type_a` → t); ``None`` when not stated.
        A measurement model uses it when it takes the quantity in as an input.
    """

    value: float
    unit: str
    u: float = math.nan
    dof: float = math.inf
    provenance: Provenance = field(default_factory=Provenance)
    name: str = ""
    shape: Shape | None = None

    def __post_init__(self) -> None:
        parse_unit(self.unit)  # raises UnitError on an unknown unit
        if self.shape is not None and not isinstance(self.shape, Shape):
            try:
                object.__setattr__(self, "shape", Shape(self.shape))
            except ValueError:
                raise QuantityError(
                    f"{self.name or 'quantity'}: unknown distribution shape {self.shape!r} "
                    f"(known: {', '.join(s.value for s in Shape)})"
                ) from None
        if not math.isnan(self.u) and self.u < 0:
            raise QuantityError(f"{self.name or 'quantity'}: negative standard uncertainty {self.u}")
        if self.dof <= 0:
            raise QuantityError(f"{self.name or 'quantity'}: degrees of freedom must be > 0, got {self.dof}")

    # --- derived views -----------------------------------------------------------------------
    @property
    def relative_u(self) -> float:
        """Relative standard uncertainty u/|value| [-] (``nan`` for a zero value)."""
        return self.u / abs(self.value) if self.value else math.nan

    def expanded(self, k: float = 2.0) -> float:
        """Expanded uncertainty U = k·u (扩展不确定度), in ``unit``."""
        return k * self.u

    def to(self, unit: str) -> MeasuredQuantity:
        """The same quantity expressed in another unit (value and u converted together)."""
        value = float(convert(self.value, self.unit, unit))
        # uncertainty is a difference: scale by the multiplicative part only (°C → K: factor 1)
        scale = float(convert(1.0, self.unit, unit) - convert(0.0, self.unit, unit))
        return replace(self, value=value, u=abs(self.u * scale), unit=format_unit(unit) if unit else unit)

    def magnitude_in(self, unit: str) -> float:
        """Value expressed in ``unit``."""
        return float(convert(self.value, self.unit, unit))

    def with_provenance(self, **changes: Any) -> MeasuredQuantity:
        """Copy with some provenance fields replaced."""
        return replace(self, provenance=replace(self.provenance, **changes))

    def __str__(self) -> str:
        if math.isnan(self.u):
            return f"{self.value:.6g} {self.unit} (u not evaluated)"
        return f"{self.value:.6g} ± {self.u:.2g} {self.unit} (k=1)"

    # --- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "u": None if math.isnan(self.u) else self.u,
            "dof": None if math.isinf(self.dof) else self.dof,
            "provenance": self.provenance.to_dict(),
        }
        if self.shape is not None:
            d["shape"] = self.shape.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasuredQuantity:
        return cls(
            value=float(d["value"]),
            unit=d["unit"],
            u=math.nan if d.get("u") is None else float(d["u"]),
            dof=math.inf if d.get("dof") is None else float(d["dof"]),
            provenance=Provenance.from_dict(d.get("provenance") or {}),
            name=d.get("name", ""),
            shape=Shape(d["shape"]) if d.get("shape") else None,
        )


def from_expanded(value: float, unit: str, U: float, k: float = 2.0, **kwargs: Any) -> MeasuredQuantity:
    """Measured quantity from a certificate statement "U = …, k = …" (u = U/k).

    References
    ----------
    JJF 1059.1-2012 §5.3 / GUM §6: the expanded uncertainty is U = k·u_c.
    """
    if k <= 0:
        raise QuantityError(f"coverage factor must be > 0, got {k}")
    kwargs.setdefault("shape", Shape.NORMAL)
    return MeasuredQuantity(value=value, unit=unit, u=U / k, **kwargs)


def mpe_standard_uncertainty(mpe: float | None) -> float:
    """Standard uncertainty of a maximum permissible error ±MPE taken as a rectangular distribution.

    The one place in carbonmet that turns an MPE into a standard uncertainty; every other module calls it.

    .. math:: u = \\mathrm{MPE}/\\sqrt{3}

    Parameters
    ----------
    mpe : float or None
        Half-width of the permissible error, in the unit of the result (absolute) or in % (relative;
        the result is then in % too). ``None`` or nan: no MPE stated.

    Returns
    -------
    float
        u in the unit of ``mpe``; nan when no MPE is stated (never a silent zero).

    Raises
    ------
    QuantityError
        If ``mpe`` is negative or infinite.

    References
    ----------
    JJF 1059.1-2012 §4.3.3.4 (rectangular distribution, k = √3) / GUM §4.3.7.
    """
    if mpe is None or math.isnan(mpe):
        return math.nan
    if mpe < 0 or math.isinf(mpe):
        raise QuantityError(f"MPE must be finite and ≥ 0, got {mpe}")
    return mpe / _SQRT3


_SQRT3 = math.sqrt(3.0)


def from_mpe(value: float, unit: str, mpe: float, **kwargs: Any) -> MeasuredQuantity:
    """Measured quantity from a maximum permissible error, taken as a rectangular distribution.

    u = :func:`mpe_standard_uncertainty` (MPE/√3, JJF 1059.1-2012 §4.3.3.4 / GUM §4.3.7).
    """
    kwargs.setdefault("shape", Shape.RECTANGULAR)
    return MeasuredQuantity(value=value, unit=unit, u=mpe_standard_uncertainty(mpe), **kwargs)


def from_type_a(values: Sequence[float], unit: str, **kwargs: Any) -> MeasuredQuantity:
    """Measured quantity from n repeated indications: type A evaluation of their mean (A 类评定).

    value = x̄, u = s/√n, ν = n − 1, shape t.

    Parameters
    ----------
    values : sequence of float
        The n ≥ 2 indications (e.g. lab results of parallel samples), in ``unit``.
    unit : str
        Unit of the indications.
    **kwargs
        ``provenance``, ``name`` (passed to :class:`MeasuredQuantity`).

    Raises
    ------
    QuantityError
        Fewer than two values, or a non-finite value.

    References
    ----------
    GUM §4.2.3 / JJF 1059.1-2012 §4.2; JCGM 101 §6.4.9 (t distribution of the mean).
    """
    xs = [float(x) for x in values]
    who = kwargs.get("name") or "type A evaluation"
    if len(xs) < 2:
        raise QuantityError(f"{who}: needs at least 2 values, got {len(xs)}")
    bad = [i for i, x in enumerate(xs) if not math.isfinite(x)]
    if bad:
        raise QuantityError(f"{who}: value #{bad[0] + 1} is not finite ({xs[bad[0]]!r})")
    n = len(xs)
    return MeasuredQuantity(
        value=statistics.fmean(xs),
        unit=unit,
        u=statistics.stdev(xs) / math.sqrt(n),
        dof=float(n - 1),
        shape=Shape.T,
        **kwargs,
    )


_KIND_ALIASES = {
    "calibration": CertificateKind.CALIBRATION,
    "校准": CertificateKind.CALIBRATION,
    "verification": CertificateKind.VERIFICATION,
    "检定": CertificateKind.VERIFICATION,
}


def from_certificate(
    value: float,
    unit: str,
    *,
    kind: CertificateKind | str,
    expanded_u: float | None = None,
    coverage_factor: float | None = None,
    mpe: float | None = None,
    relative: bool = False,
    dof: float = math.inf,
    provenance: Provenance | None = None,
    name: str = "",
) -> MeasuredQuantity:
    """Measured quantity from what a certificate states: the one place a certificate becomes a u.

    * calibration (校准): the certificate states U and k → normal distribution, u = U/k
      (JJF 1059.1-2012 §4.3.3.2 / GUM §4.3.4, §6.2);
    * verification (检定): the instrument conforms to ±MPE → rectangular distribution,
      u = :func:`mpe_standard_uncertainty` (MPE/√3, JJF 1059.1-2012 §4.3.3.4 / GUM §4.3.7).

    A missing figure gives ``u = nan`` (never a silent zero) with a provenance note saying which
    figure is missing, so the quantity can still be carried and reported as "u not evaluated".

    Parameters
    ----------
    value : float
        The quantity's value (reading, correction, certified value), in ``unit``.
    unit : str
        Unit of ``value`` (and of ``expanded_u``/``mpe`` unless ``relative``).
    kind : CertificateKind or str
        ``"calibration"``/``"校准"`` or ``"verification"``/``"检定"``.
    expanded_u : float, optional
        Expanded uncertainty U of a calibration, in ``unit`` or in % of ``value``.
    coverage_factor : float, optional
        Coverage factor k of a calibration [-].
    mpe : float, optional
        Maximum permissible error (最大允许误差) of a verification, in ``unit`` or in % of ``value``.
    relative : bool
        ``expanded_u``/``mpe`` are relative, in % of |value|.
    dof : float
        Effective degrees of freedom a calibration certificate states (∞ when it states none).
    provenance : Provenance, optional
        Instrument, certificate and period the figure comes from.
    name : str
        Short id of the quantity.

    Raises
    ------
    QuantityError
        Unknown kind, k ≤ 0, or a negative U or MPE.
    """
    k_ind = _KIND_ALIASES.get(str(kind).strip().lower()) if isinstance(kind, str) else None
    if isinstance(kind, CertificateKind):
        k_ind = kind
    if k_ind is None:
        raise QuantityError(
            f"{name or 'certificate'}: kind must be 'calibration' (校准) or 'verification' (检定), got {kind!r}"
        )
    prov = provenance if provenance is not None else Provenance()
    scale = abs(value) / 100.0 if relative else 1.0
    per = " (% of value)" if relative else ""
    missing = ""
    if k_ind is CertificateKind.CALIBRATION:
        shape = Shape.NORMAL
        if expanded_u is None or math.isnan(expanded_u):
            missing = (
                "校准证书未给出扩展不确定度 U; the calibration certificate states no expanded uncertainty U"
            )
            u = math.nan
        elif coverage_factor is None or math.isnan(coverage_factor):
            missing = "校准证书未给出包含因子 k; the calibration certificate states no coverage factor k"
            u = math.nan
        else:
            if expanded_u < 0:
                raise QuantityError(
                    f"{name or 'certificate'}: expanded uncertainty U{per} must be ≥ 0, got {expanded_u}"
                )
            if coverage_factor <= 0:
                raise QuantityError(
                    f"{name or 'certificate'}: coverage factor must be > 0, got {coverage_factor}"
                )
            u = expanded_u * scale / coverage_factor
    else:
        shape = Shape.RECTANGULAR
        u_mpe = mpe_standard_uncertainty(mpe)
        if math.isnan(u_mpe):
            missing = "检定证书未给出最大允许误差 MPE; the verification certificate states no MPE"
        u = u_mpe * scale
    if missing:
        prov = replace(prov, note=f"{prov.note}; {missing}" if prov.note else missing)
    return MeasuredQuantity(
        value=value,
        unit=unit,
        u=u,
        dof=dof if k_ind is CertificateKind.CALIBRATION else math.inf,
        provenance=prov,
        name=name,
        shape=shape,
    )
