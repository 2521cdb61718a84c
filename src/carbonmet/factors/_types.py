"""The value types of the factors package: one default value and one fuel's defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass

from carbonmet.quantities import CO2_PER_C, Evidence, MeasuredQuantity, Provenance, Shape, Source

from ._errors import FactorError

#: Evidence marks a default may carry (shared/domain/README.md and accounting_2025.md header):
#: V verified in the source; V-calc own arithmetic; D derived; C corroborated by two or more secondary sources;
#: C-single one secondary source; C-weak a weak secondary source; M memory; ? unverified; A assumption.
EVIDENCE_MARKS: tuple[str, ...] = ("V", "V-calc", "D", "C", "C-single", "C-weak", "M", "?", "A")

#: Marks that make a value "unverified": it must stay marked in every output that uses it.
UNVERIFIED_MARKS: frozenset[str] = frozenset({"C-weak", "M", "?", "A"})

# strength order: a value computed from several inputs carries the weakest of their marks
_RANK = {"V": 0, "V-calc": 0, "D": 1, "C": 2, "C-single": 3, "C-weak": 4, "M": 5, "A": 5, "?": 6}

_TO_QUANTITY_EVIDENCE = {"V": Evidence.VERIFIED, "V-calc": Evidence.DERIVED, "D": Evidence.DERIVED,
                         "C": Evidence.CORROBORATED, "C-single": Evidence.CORROBORATED}

#: Flag on a value loaded from a profile whose attribution is disputed (never a default).
FLAG_DISPUTED = "disputed_profile"
#: Flag on a value reached through a generic subject alias (``coal`` → ``bituminous_coal``).
FLAG_SUBJECT_ALIAS = "subject_alias"
#: Flag on a value a declared profile borrows from another lineage (its mark is capped).
FLAG_BORROWED = "borrowed_lineage"
#: Flag on a grid factor used for an accounting year after the years its notice covers.
FLAG_CARRIED_FORWARD = "carried_forward"
#: Flag on a value computed from other defaults (emission factor = NCV × CC × OF × 44/12, …).
FLAG_DERIVED = "derived"


def weakest(*marks: str) -> str:
    """The weakest of several evidence marks (a product of defaults is no better than its worst input)."""
    return max(marks, key=lambda m: _RANK[m])


@dataclass(frozen=True, slots=True)
class FactorValue:
    """One default value (缺省值) with its profile, unit, documented uncertainty and provenance.

    Attributes
    ----------
    profile : str
        Profile the value was loaded through (``"GB/T 32151.10-2023"``, ``"MEE/grid"``, ``"IPCC-AR5"``).
    parameter : str
        ``"ncv"`` (低位发热量), ``"carbon_content_per_heat"`` (单位热值含碳量), ``"oxidation_rate"`` (碳氧化率),
        ``"emission_factor"`` (排放因子), ``"carbon_content"`` (含碳量) or ``"gwp"`` (全球增温潜势).
    subject : str
        Canonical subject key: a fuel (``"bituminous_coal"``), product (``"methanol"``), grid scope
        (``"national"``), heat carrier (``"steam"``) or gas (``"CH4"``).
    value : float
        The value in ``unit``.
    unit : str
        Canonical unit: NCV ``GJ/t`` or ``GJ/Nm3``; carbon per heat ``tC/GJ``; oxidation rate ``1`` (fraction);
        product carbon content ``1`` (mass fraction); fuel carbon content ``tC/t`` or ``tC/Nm3``; grid ``tCO2/MWh``;
        heat ``tCO2/GJ``; fuel emission factor ``tCO2/t`` or ``tCO2/Nm3``; GWP ``1``.
    u_rel : float
        Relative standard uncertainty [-] documented for this class of default (``data/uncertainty.csv``); never nan.
    u_source : str
        Where ``u_rel`` comes from, with its evidence mark.
    source : str
        Publication or transcription the value comes from.
    clause : str
        Table, row or section.
    evidence : str
        Evidence mark, one of :data:`EVIDENCE_MARKS`.
    u_shape : str
        Distribution of the uncertainty (``"normal"`` or ``"rectangular"``).
    year : int or None
        Data year of a grid factor (``None`` otherwise).
    note : str
        Corrections, alias used, notice coverage, carried-forward warning.
    flags : tuple of str
        Machine-readable warnings: :data:`FLAG_DISPUTED`, :data:`FLAG_SUBJECT_ALIAS`, :data:`FLAG_BORROWED`,
        :data:`FLAG_CARRIED_FORWARD`, :data:`FLAG_DERIVED`.
    """

    profile: str
    parameter: str
    subject: str
    value: float
    unit: str
    u_rel: float
    u_source: str
    source: str
    clause: str
    evidence: str
    u_shape: str = "normal"
    year: int | None = None
    note: str = ""
    flags: tuple[str, ...] = ()

    @property
    def unverified(self) -> bool:
        """True when the value must stay marked: evidence M, ?, A or C-weak, or loaded from a disputed profile."""
        return self.evidence in UNVERIFIED_MARKS or FLAG_DISPUTED in self.flags

    @property
    def ref(self) -> str:
        """Reference that :func:`carbonmet.factors.resolve` turns back into this value.

        ``"<profile>/<parameter>/<subject>"``, with ``"/<year>"`` appended for a grid factor
        (``"MEE/grid/emission_factor/national/2022"``).
        """
        base = f"{self.profile}/{self.parameter}/{self.subject}"
        return f"{base}/{self.year}" if self.year is not None else base

    @property
    def u(self) -> float:
        """Standard uncertainty in ``unit``: ``|value| · u_rel``."""
        return abs(self.value) * self.u_rel

    def quantity(self, name: str = "") -> MeasuredQuantity:
        """The value as a measured quantity with default (缺省值) provenance.

        Parameters
        ----------
        name : str
            Quantity id; defaults to :attr:`ref`.

        Returns
        -------
        MeasuredQuantity
            value and unit as here, ``u = |value| · u_rel``, shape from ``u_shape``, provenance
            ``Source.DEFAULT`` whose reference names profile, source and clause and whose note carries the exact
            evidence mark, the uncertainty's source and any flags.
        """
        note = f"evidence [{self.evidence}]; u: {self.u_source}"
        if self.note:
            note += f"; {self.note}"
        if self.flags:
            note += f"; flags: {', '.join(self.flags)}"
        prov = Provenance(
            source=Source.DEFAULT,
            method=f"default value ({self.profile})",
            reference=f"{self.ref}: {self.source}; {self.clause}",
            evidence=_TO_QUANTITY_EVIDENCE.get(self.evidence, Evidence.UNVERIFIED)
            if FLAG_DISPUTED not in self.flags else Evidence.UNVERIFIED,
            note=note,
        )
        return MeasuredQuantity(value=self.value, unit=self.unit, u=self.u, provenance=prov, name=name or self.ref,
                                shape=Shape(self.u_shape))


@dataclass(frozen=True, slots=True)
class FuelDefaults:
    """The three defaults of one fuel in one profile (燃料缺省值): NCV, carbon per heat, oxidation rate.

    Attributes
    ----------
    subject : str
        Fuel key (``"bituminous_coal"``).
    amount_unit : str
        Unit the fuel is consumed in: ``"t"`` or ``"Nm3"``.
    ncv : FactorValue
        Net calorific value (低位发热量) [GJ/t or GJ/Nm3].
    carbon_content_per_heat : FactorValue
        Carbon per unit heat (单位热值含碳量) [tC/GJ].
    oxidation_rate : FactorValue
        Carbon oxidation rate (碳氧化率) [1].
    name_zh : str
        Chinese name as the table prints it (``"烟煤"``).
    """

    subject: str
    amount_unit: str
    ncv: FactorValue
    carbon_content_per_heat: FactorValue
    oxidation_rate: FactorValue
    name_zh: str = ""

    def emission_factor(self, co2_per_c: float = CO2_PER_C) -> tuple[float, str]:
        """CO2 emission factor per amount unit of the fuel.

        .. math:: EF = NCV \\cdot CC \\cdot OF \\cdot M_{CO_2}/M_C

        Parameters
        ----------
        co2_per_c : float
            Ratio CO2/C [tCO2/tC]. Default :data:`carbonmet.quantities.CO2_PER_C` = 44.0095/12.011 = 3.664191
            (IUPAC 2021 molar masses), the ratio carbonmet uses everywhere. The standards print "44/12"
            (3.666667, :data:`carbonmet.factors.CO2_PER_C_PRINTED`), which gives EFs 0.0676 % higher — the EF
            column of accounting_2025 §1.3 was computed with it.

        Returns
        -------
        tuple of (float, str)
            EF and its unit, ``"tCO2/t"`` or ``"tCO2/Nm3"`` (× 10⁴ for tCO2/10⁴Nm³).

        References
        ----------
        GB/T 32151.10 / GB/T 32150-2015: E = Σ AD·NCV·CC·OF·44/12 (accounting_methods §1.3).
        """
        if not (math.isfinite(co2_per_c) and co2_per_c > 0):
            raise FactorError(f"co2_per_c must be finite and > 0, got {co2_per_c}")
        ef = self.ncv.value * self.carbon_content_per_heat.value * self.oxidation_rate.value * co2_per_c
        return ef, f"tCO2/{self.amount_unit}"
