"""The emission-factor record (排放因子记录): one row model for file import, the store, the CLI and the API.

A factor is keyed by product (the flow it is per), technology (route; may be empty), region, year, gas and GWP set;
it carries value and unit, the flow's reference unit (its quantity kind), basis (measured 实测 | default 缺省值 |
literature 文献), source and source version, a numeric distribution, the pedigree scores, an evidence mark and —
once stored — a version number. The unit must fit the gas and the flow: ``tCO2/MWh`` for CO2 per MWh of
electricity, ``kgCO2e/kg`` for a CO2e footprint per kg of product, ``kg/t`` for CH4 per tonne (a gas other than
CO2 or CO2e is a plain mass).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carbonmet.quantities import (
    Evidence,
    MeasuredQuantity,
    Provenance,
    Shape,
    Source,
    UnitError,
    is_convertible,
)

from ._errors import FactorError
from ._pedigree import INDICATORS, check_scores, format_dq_entry, lognormal_u_rel, pedigree_sigma
from ._types import EVIDENCE_MARKS, UNVERIFIED_MARKS

Basis = Literal["measured", "default", "literature"]
Shapes = Literal["lognormal", "normal", "triangular", "uniform", "none"]

#: The numerator unit a factor's unit must be convertible to, per gas (others: plain mass).
_GAS_MASS = {"CO2": "tCO2", "CO2e": "tCO2e"}
_TO_QUANTITY_EVIDENCE = {
    "V": Evidence.VERIFIED,
    "V-calc": Evidence.DERIVED,
    "D": Evidence.DERIVED,
    "C": Evidence.CORROBORATED,
    "C-single": Evidence.CORROBORATED,
}
#: Longest key the audit log holds (``audit_log.entity_key``), version suffix included.
KEY_MAX = 128


def gas_mass_unit(gas: str) -> str:
    """The mass unit a factor of ``gas`` is expressed in: tCO2 for CO2, tCO2e for CO2e, t for any other gas."""
    return _GAS_MASS.get(gas, "t")


def unit_fits(unit: str, gas: str, flow_unit: str) -> bool:
    """Whether ``unit`` is a mass of ``gas`` per a quantity of the flow's kind (``flow_unit``)."""
    try:
        return is_convertible(unit, f"{gas_mass_unit(gas)}/({flow_unit})")
    except UnitError:
        return False


class Distribution(BaseModel):
    """A factor's uncertainty distribution (分布): shape and parameters, all in the factor's unit.

    ``lognormal``: ``sigma`` (σ of ln, the value is the median); ``normal``: ``u`` (standard deviation);
    ``triangular``: ``minimum``, ``mode``, ``maximum``; ``uniform``: ``minimum``, ``maximum``; ``none``: no
    uncertainty evaluated (u is nan, never zero).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    shape: Shapes = "none"
    sigma: float | None = None
    u: float | None = None
    minimum: float | None = None
    mode: float | None = None
    maximum: float | None = None

    @model_validator(mode="after")
    def _params(self) -> Distribution:
        need = {
            "lognormal": ("sigma",),
            "normal": ("u",),
            "triangular": ("minimum", "mode", "maximum"),
            "uniform": ("minimum", "maximum"),
            "none": (),
        }[self.shape]
        for name in ("sigma", "u", "minimum", "mode", "maximum"):
            v = getattr(self, name)
            if name in need and v is None:
                raise ValueError(f"a {self.shape} distribution needs {name}")
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{name} must be finite, got {v}")
        if self.sigma is not None and self.sigma < 0:
            raise ValueError(f"sigma must be ≥ 0, got {self.sigma}")
        if self.u is not None and self.u < 0:
            raise ValueError(f"u must be ≥ 0, got {self.u}")
        if self.shape in ("triangular", "uniform"):
            lo, hi = self.minimum, self.maximum
            assert lo is not None and hi is not None
            mid = self.mode if self.mode is not None else lo
            if not lo <= mid <= hi or lo == hi:
                raise ValueError(
                    f"need minimum ≤ mode ≤ maximum and minimum < maximum, got {lo}, {self.mode}, {hi}"
                )
        return self

    def standard_uncertainty(self, value: float) -> float:
        """Standard uncertainty [factor's unit] of a factor of ``value`` under this distribution (nan for none).

        lognormal: |value| · √(e^{σ²} − 1); normal: u; triangular: √((a² + b² + c² − ab − ac − bc)/18);
        uniform: (b − a)/√12 (GUM §4.3.7, §4.3.9).
        """
        if self.shape == "lognormal":
            assert self.sigma is not None
            return abs(value) * lognormal_u_rel(self.sigma)
        if self.shape == "normal":
            assert self.u is not None
            return self.u
        if self.shape == "triangular":
            a, c, b = self.minimum, self.mode, self.maximum
            assert a is not None and b is not None and c is not None
            return math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0)
        if self.shape == "uniform":
            assert self.minimum is not None and self.maximum is not None
            return (self.maximum - self.minimum) / math.sqrt(12.0)
        return math.nan

    def params(self) -> dict[str, float]:
        """The parameters that are set."""
        return {k: v for k, v in self.model_dump().items() if k != "shape" and v is not None}


class FactorRecord(BaseModel):
    """One emission factor (排放因子), as imported, stored or read from the packaged profiles.

    Attributes
    ----------
    product : str
        The flow the factor is per (``methanol``, ``electricity``, ``bituminous_coal``).
    technology : str
        Route or variant (``grid_average``, ``coal_gasification``); empty when there is one.
    region : str
        ``CN``, ``north_china``, ``global`` … (a grid scope for electricity).
    year : int
        Data year.
    gas : str
        ``CO2``, ``CH4``, ``N2O`` …, or ``CO2e`` for a GWP-weighted total.
    gwp_set : str
        ``AR5``, ``AR6`` … for a CO2e factor; empty for a single gas.
    value : float
        The factor in ``unit`` (for a lognormal: the median).
    unit : str
        Mass of the gas per ``flow_unit``'s kind: ``tCO2/MWh``, ``kgCO2e/kg``.
    flow_unit : str
        Reference unit of the flow (``t``, ``MWh``, ``Nm3``): the quantity kind the unit must fit.
    basis : str
        ``measured`` (实测, from metering or lab data with its uncertainty), ``default`` (缺省值) or ``literature``.
    source, source_version, clause : str
        Publication (or measurement provenance), its edition/version, and table or section.
    evidence : str
        Evidence mark (``V``, ``C``, ``M``, ``?`` … — see ``docs/factors.md``).
    distribution : Distribution
        Numeric uncertainty.
    pedigree : tuple of 5 int or None, optional
        Data-quality scores 1 … 5 (reliability, completeness, temporal, geographical, technological); None
        per indicator for "n.a.".
    pedigree_table : str
        ``ecoinvent_v3`` or ``ciroth_2016`` (used when σ is computed from the pedigree).
    basic_variance : float, optional
        Basic variance of ln σ_b² (kept apart from the pedigree's additional variance).
    owner : str, optional
        The enterprise a measured factor belongs to (read through scope); None for the shared database.
    note : str
    version : int
        0 for a record not stored; n ≥ 1 once stored; for packaged records 0 and ``store = "packaged"``.
    store : str
        ``db`` (stored, append-only versions) or ``packaged`` (read-only, from the package's data files).
    data_version : str
        For a packaged record, the data files' fingerprint (``data_version()``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    product: str = Field(min_length=1, max_length=64)
    technology: str = Field(default="", max_length=48)
    region: str = Field(min_length=1, max_length=48)
    year: int = Field(ge=1950, le=2100)
    gas: str = Field(min_length=1, max_length=16)
    gwp_set: str = Field(default="", max_length=8)
    value: float
    unit: str = Field(min_length=1, max_length=32)
    flow_unit: str = Field(min_length=1, max_length=16)
    basis: Basis
    source: str = Field(min_length=1)
    source_version: str = ""
    clause: str = ""
    evidence: str
    distribution: Distribution = Distribution()
    pedigree: tuple[int | None, int | None, int | None, int | None, int | None] | None = None
    pedigree_table: str = "ecoinvent_v3"
    basic_variance: float | None = None
    owner: str | None = None
    note: str = ""
    version: int = Field(default=0, ge=0)
    store: Literal["db", "packaged"] = "db"
    data_version: str = ""

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError(f"value must be finite, got {v}")
        return v

    @field_validator("evidence")
    @classmethod
    def _mark(cls, v: str) -> str:
        if v not in EVIDENCE_MARKS:
            raise ValueError(f"evidence mark {v!r} is not one of {', '.join(EVIDENCE_MARKS)}")
        return v

    @field_validator("pedigree", mode="before")
    @classmethod
    def _scores(cls, v: Any) -> Any:
        if v is None or v == "":
            return None
        if isinstance(v, str):
            from ._pedigree import parse_dq_entry

            return parse_dq_entry(v, "pedigree")
        return check_scores(list(v), "pedigree")

    @field_validator("basic_variance")
    @classmethod
    def _basic(cls, v: float | None) -> float | None:
        if v is not None and not (math.isfinite(v) and v >= 0):
            raise ValueError(f"basic_variance must be finite and ≥ 0, got {v}")
        return v

    @model_validator(mode="after")
    def _fits(self) -> FactorRecord:
        if not unit_fits(self.unit, self.gas, self.flow_unit):
            raise ValueError(
                f"unit {self.unit!r} does not fit the flow: a factor of {self.gas} per {self.flow_unit} "
                f"is in {gas_mass_unit(self.gas)}/{self.flow_unit} or a unit convertible to it"
            )
        if self.gas == "CO2e" and not self.gwp_set:
            raise ValueError("a CO2e factor needs its gwp_set (AR5, AR6 …)")
        if self.gas != "CO2e" and self.gwp_set:
            raise ValueError(
                f"gwp_set {self.gwp_set!r} is given for a single gas ({self.gas}); leave it empty"
            )
        if self.basis == "measured" and self.distribution.shape == "none":
            raise ValueError("a measured factor needs its uncertainty (distribution)")
        if len(self.key) + 8 > KEY_MAX:
            raise ValueError(f"the factor key {self.key[:40]!r}… is too long for the audit log ({KEY_MAX})")
        return self

    # --- derived ---------------------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """``product/technology/region/year/gas/gwp_set`` (``-`` for an empty part): the versioned identity."""
        parts = (
            self.product,
            self.technology or "-",
            self.region,
            str(self.year),
            self.gas,
            self.gwp_set or "-",
        )
        return "/".join(parts)

    @property
    def ref(self) -> str:
        """The key with its version (``…/v2``), ``@packaged:<data_version>``, or `` (not stored)``."""
        if self.store == "packaged":
            return f"{self.key}@packaged:{self.data_version}"
        return f"{self.key}/v{self.version}" if self.version else f"{self.key} (not stored)"

    @property
    def unverified(self) -> bool:
        """True when the evidence mark is M, ?, A or C-weak."""
        return self.evidence in UNVERIFIED_MARKS

    @property
    def u(self) -> float:
        """Standard uncertainty in ``unit`` (nan when no distribution is given)."""
        return self.distribution.standard_uncertainty(self.value)

    def pedigree_sigma(self) -> Any:
        """:func:`carbonmet.factors.pedigree_sigma` of this record (None without pedigree and basic variance)."""
        if self.pedigree is None or self.basic_variance is None:
            return None
        return pedigree_sigma(self.pedigree, self.basic_variance, table=self.pedigree_table)

    def content(self) -> dict[str, Any]:
        """The content that decides whether a new version is needed (everything but version and store)."""
        d = self.model_dump(mode="json", exclude={"version", "store", "data_version"})
        return d

    def content_hash(self) -> str:
        """SHA-256 of :meth:`content` as canonical JSON."""
        text = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def quantity(self, name: str = "") -> MeasuredQuantity:
        """The factor as a measured quantity: value, unit, u, shape, provenance (default/measured/declared)."""
        src = {"measured": Source.MEASURED, "default": Source.DEFAULT, "literature": Source.DECLARED}[
            self.basis
        ]
        shape = {"normal": Shape.NORMAL, "triangular": Shape.TRIANGULAR, "uniform": Shape.RECTANGULAR}.get(
            self.distribution.shape
        )
        note = (
            f"evidence [{self.evidence}]; distribution {self.distribution.shape} {self.distribution.params()}"
        )
        if self.pedigree is not None:
            note += f"; pedigree {format_dq_entry(self.pedigree)} ({self.pedigree_table})"
        if self.note:
            note += f"; {self.note}"
        prov = Provenance(
            source=src,
            method=f"emission factor ({self.basis})",
            reference=f"{self.ref}: {self.source} {self.source_version}; {self.clause}".strip(),
            evidence=_TO_QUANTITY_EVIDENCE.get(self.evidence, Evidence.UNVERIFIED),
            note=note,
        )
        return MeasuredQuantity(
            value=self.value, unit=self.unit, u=self.u, provenance=prov, name=name or self.key, shape=shape
        )

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d.update(
            key=self.key, ref=self.ref, u=None if math.isnan(self.u) else self.u, unverified=self.unverified
        )
        if self.pedigree is not None:
            d["pedigree"] = format_dq_entry(self.pedigree)
        ps = self.pedigree_sigma()
        if ps is not None:
            d["pedigree_sigma"] = ps.to_dict()
        return d


def record_problem(exc: Exception) -> list[tuple[str, str]]:
    """(field, message) pairs of a pydantic ValidationError (or one ``("-", str(exc))``)."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return [("-", str(exc))]
    out: list[tuple[str, str]] = []
    for e in errors():
        loc = ".".join(str(p) for p in e.get("loc", ())) or "-"
        msg = str(e.get("msg", "")).removeprefix("Value error, ")
        out.append((loc, msg))
    return out


def raise_record_error(where: str, exc: Exception) -> None:
    """Turn a validation error into a :class:`FactorError` naming ``where`` and every field."""
    probs = "; ".join(f"{f}: {m}" for f, m in record_problem(exc))
    raise FactorError(f"{where}: {probs}") from None


__all__ = ["INDICATORS", "Distribution", "FactorRecord"]
