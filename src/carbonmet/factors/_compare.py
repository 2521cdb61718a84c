"""Measured factors and the comparison of one product's factor across regions (实测因子与区域因子比对).

:func:`measured_factor` turns a measured quantity (an enterprise's tCO2 per t of product from its metering and lab
data, with its uncertainty and provenance) into a factor record of basis ``measured``. :func:`compare_regions`
judges each regional factor against the measured one, and each pair of regional factors against each other, by the
normalised error E_n with the combined expanded uncertainty (k = 2):

.. math:: E_n = \\frac{x_a - x_b}{\\sqrt{U_a^2 + U_b^2}}, \\qquad |E_n| \\le 1 \\text{ satisfactory}

(:func:`carbonmet.uncertainty.compare`; ISO 13528:2022 §9.7, JJF 1117-2010). A lognormal factor enters with
u = value · √(e^{σ²} − 1). The factors are taken as independent (different sources); a factor without a numeric
uncertainty cannot be judged and is reported as such, never compared with u = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from carbonmet.quantities import MeasuredQuantity, UnitError, conversion_factor, format_unit
from carbonmet.uncertainty import compare

from ._errors import FactorError
from ._records import Distribution, FactorRecord


def measured_factor(
    q: MeasuredQuantity,
    *,
    product: str,
    region: str,
    year: int,
    flow_unit: str,
    gas: str = "CO2",
    gwp_set: str = "",
    technology: str = "",
    owner: str | None = None,
    source: str = "",
    note: str = "",
) -> FactorRecord:
    """A factor record (basis ``measured``, 实测) from a measured quantity.

    Parameters
    ----------
    q : MeasuredQuantity
        The measured factor: value and unit (e.g. ``tCO2/t``), its standard uncertainty ``u`` (finite; a measured
        factor without an evaluated uncertainty is refused) and provenance (instruments, certificates, period,
        method), which becomes the record's source.
    product, region, year, flow_unit, gas, gwp_set, technology : as in :class:`FactorRecord`
    owner : str, optional
        The enterprise whose data it is (a stored measured factor is read through its scope).
    source : str, optional
        Overrides the source text built from the provenance.
    note : str

    Returns
    -------
    FactorRecord
        Normal distribution with ``u = q.u`` (or the quantity's shape: rectangular → uniform, triangular), evidence
        ``D`` (derived from stated, measured inputs).

    Raises
    ------
    FactorError
        u is nan or negative, or the unit does not fit the gas and the flow.
    """
    if not (math.isfinite(q.u) and q.u >= 0):
        raise FactorError(
            f"measured factor {product}/{region}/{year}: its uncertainty is not evaluated (u = {q.u}); "
            "a measured factor needs one / 实测因子须有不确定度"
        )
    prov = q.provenance
    parts = [prov.method or "measured", prov.reference]
    if prov.instruments:
        parts.append("instruments " + ", ".join(prov.instruments))
    if prov.certificates:
        parts.append("certificates " + ", ".join(prov.certificates))
    if prov.period is not None:
        parts.append(f"period {prov.period[0].date()} – {prov.period[1].date()}")
    text = source or "; ".join(p for p in parts if p)
    shape = str(q.shape) if q.shape is not None else "normal"
    if shape == "rectangular" and q.u > 0:
        half = math.sqrt(3.0) * q.u
        dist = Distribution(shape="uniform", minimum=q.value - half, maximum=q.value + half)
    elif shape == "triangular" and q.u > 0:
        half = math.sqrt(6.0) * q.u
        dist = Distribution(shape="triangular", minimum=q.value - half, mode=q.value, maximum=q.value + half)
    else:
        dist = Distribution(shape="normal", u=q.u)
    try:
        return FactorRecord(
            product=product,
            technology=technology,
            region=region,
            year=year,
            gas=gas,
            gwp_set=gwp_set,
            value=q.value,
            unit=q.unit,
            flow_unit=flow_unit,
            basis="measured",
            source=text or "measured",
            clause=q.name,
            evidence="D",
            distribution=dist,
            owner=owner,
            note=note,
        )
    except ValueError as exc:
        raise FactorError(f"measured factor {product}/{region}/{year}: {exc}") from None


@dataclass(frozen=True, slots=True)
class FactorDifference:
    """One pair judged: ``a − b`` in ``unit`` with the combined expanded uncertainty and E_n.

    ``en`` and ``satisfactory`` are None when one side has no numeric uncertainty (``reason`` says which).
    """

    a: str
    b: str
    value_a: float
    value_b: float
    unit: str
    difference: float
    relative: float
    U_combined: float
    en: float | None
    satisfactory: bool | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "unit": self.unit,
            "difference": self.difference,
            "relative": self.relative,
            "U_combined": None if math.isnan(self.U_combined) else self.U_combined,
            "en": self.en,
            "satisfactory": self.satisfactory,
            "reason": self.reason,
        }


@dataclass
class RegionalComparison:
    """One product's factors across regions, each against the measured factor and against each other."""

    product: str
    unit: str
    k: float
    factors: list[FactorRecord]
    measured: FactorRecord | None
    versus_measured: list[FactorDifference] = field(default_factory=list)
    between_regions: list[FactorDifference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "unit": self.unit,
            "k": self.k,
            "factors": [f.to_dict() for f in self.factors],
            "measured": self.measured.to_dict() if self.measured is not None else None,
            "versus_measured": [d.to_dict() for d in self.versus_measured],
            "between_regions": [d.to_dict() for d in self.between_regions],
        }


def _label(r: FactorRecord) -> str:
    return r.ref


def _in(r: FactorRecord, unit: str) -> tuple[float, float]:
    try:
        f = conversion_factor(r.unit, unit)
    except UnitError as exc:
        raise FactorError(f"factor {r.ref} in {r.unit} cannot be compared in {unit}: {exc}") from None
    return r.value * f, r.u * f


def _judge(a: FactorRecord, b: FactorRecord, unit: str, k: float) -> FactorDifference:
    xa, ua = _in(a, unit)
    xb, ub = _in(b, unit)
    d = xa - xb
    rel = d / xb if xb != 0 else math.nan
    missing = [f"{r.ref} has no numeric uncertainty" for r, u in ((a, ua), (b, ub)) if not math.isfinite(u)]
    if missing:
        return FactorDifference(
            _label(a), _label(b), xa, xb, unit, d, rel, math.nan, None, None, "; ".join(missing)
        )
    U = k * math.sqrt(ua * ua + ub * ub)
    if U == 0:
        return FactorDifference(
            _label(a),
            _label(b),
            xa,
            xb,
            unit,
            d,
            rel,
            0.0,
            None,
            None,
            "both uncertainties are zero: E_n undefined",
        )
    c = compare(MeasuredQuantity(xa, unit, ua), MeasuredQuantity(xb, unit, ub), k=k, shared=False)
    return FactorDifference(_label(a), _label(b), xa, xb, unit, d, rel, U, c.en, c.en_satisfactory)


def compare_factors(
    factors: Sequence[FactorRecord],
    measured: FactorRecord | None = None,
    *,
    k: float = 2.0,
    unit: str | None = None,
) -> RegionalComparison:
    """Judge factors against a measured factor and against each other (pure: records in, differences out).

    Parameters
    ----------
    factors : sequence of FactorRecord
        One product's factors (e.g. one per region).
    measured : FactorRecord, optional
        The measured factor (实测) to judge each against.
    k : float
        Coverage factor of the expanded uncertainties (2).
    unit : str, optional
        Unit of the comparison (default: the measured factor's, else the first factor's).

    Raises
    ------
    FactorError
        No factors, factors of different products, or units that do not convert.
    """
    if not factors:
        raise FactorError("nothing to compare: no factors")
    products = {f.product for f in factors} | ({measured.product} if measured is not None else set())
    if len(products) > 1:
        raise FactorError(f"factors of different products cannot be compared: {', '.join(sorted(products))}")
    u_ = format_unit(unit or (measured.unit if measured is not None else factors[0].unit))
    out = RegionalComparison(factors[0].product, u_, k, list(factors), measured)
    if measured is not None:
        out.versus_measured = [_judge(f, measured, u_, k) for f in factors]
    for i, a in enumerate(factors):
        for b in factors[i + 1 :]:
            out.between_regions.append(_judge(a, b, u_, k))
    return out


def compare_regions(
    session: Any,
    product: str,
    regions: Sequence[str],
    *,
    measured: FactorRecord | None = None,
    year: int | None = None,
    technology: str | None = None,
    gas: str | None = None,
    owners: Any = (),
    k: float = 2.0,
) -> RegionalComparison:
    """One product's factor in each of ``regions`` (from the store and the packaged data), judged against the
    measured factor and against each other.

    Parameters
    ----------
    session : Session or None
        The factor database (None: packaged factors only).
    product : str
    regions : sequence of str
        At least one; each must have exactly one factor after the filters (the latest data year when ``year`` is
        not given; the latest stored version).
    measured : FactorRecord, optional
        From :func:`measured_factor`, or a stored measured record.
    year, technology, gas : optional filters.
    owners : as in :func:`carbonmet.factors.find`.
    k : float

    Raises
    ------
    FactorError
        A region without a factor, or with several (naming the technologies or gases to choose from).
    """
    from ._store import find

    if not regions:
        raise FactorError("compare_regions: give at least one region")
    chosen: list[FactorRecord] = []
    for region in regions:
        cands = [
            r
            for r in find(
                session,
                product=product,
                region=region,
                year=year,
                technology=technology,
                gas=gas,
                owners=owners,
            )
            if r.basis != "measured"
        ]
        if not cands:
            raise FactorError(
                f"no {product} factor for region {region!r}" + (f" in {year}" if year is not None else "")
            )
        latest = max(r.year for r in cands)
        cands = [r for r in cands if r.year == latest]
        stored = {r.key for r in cands if r.store == "db"}
        cands = [r for r in cands if r.store == "db" or r.key not in stored]  # a stored version wins
        if len(cands) > 1:
            opts = ", ".join(sorted(f"technology={r.technology!r} gas={r.gas}" for r in cands))
            raise FactorError(
                f"{product} in {region!r} ({latest}) has {len(cands)} factors; choose one: {opts}"
            )
        chosen.append(cands[0])
    return compare_factors(chosen, measured, k=k)
