"""What a comparison pilot report is made of (试点报告数据): plain dicts the caller gives, per enterprise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._errors import ReportError

#: Enterprises a comparison pilot needs at least (the pilot definition of the issue: ≥ 3 enterprises).
MIN_ENTERPRISES = 3


@dataclass
class PilotEnterprise:
    """One enterprise of the pilot.

    Attributes
    ----------
    enterprise : str
        Organisation code (e.g. ``E05``).
    comparison : dict
        ``carbonmet.cems.Comparison.to_dict()``: periods rows (cems, u_cems, accounting, u_accounting, difference,
        En, …) [tCO2], verdict, stability, steps, suspects, measured_parameter_share.
    cems : dict
        The CEMS leg's ``Account.to_dict()`` [tCO2].
    hours : list of dict
        ``carbonmet.cems.stream_hours`` of the CEMS leg: valid, substituted and stopped hours per stream.
    balance : dict, optional
        The reconciled carbon balance (``BalanceResult.to_dict()``: flows raw/reconciled [tC], annual χ² test,
        monthly closure, ``systematic_bias_test``, ``three_way``); None when the plant has no balance.
    flow_png : bytes, optional
        The carbon-flow diagram (碳流图) as PNG.
    sources : dict
        What the figures came from (plan version, accounting profile, method), shown under Data.
    verified : dict, optional
        CEMS against the verified account of the year (``carbonmet.cems.compare_verified`` plus ``run_key``,
        ``verified_by``, ``verified_at``), when a verification run of the year is stored.
    """

    enterprise: str
    comparison: dict[str, Any]
    cems: dict[str, Any]
    hours: list[dict[str, Any]] = field(default_factory=list)
    balance: dict[str, Any] | None = None
    flow_png: bytes | None = None
    sources: dict[str, str] = field(default_factory=dict)
    verified: dict[str, Any] | None = None

    @property
    def months(self) -> list[dict[str, Any]]:
        """The monthly rows of the comparison (the year row left out)."""
        return list(self.comparison["periods"][:-1])

    @property
    def year_row(self) -> dict[str, Any]:
        return dict(self.comparison["periods"][-1])

    @property
    def three_way(self) -> dict[str, Any] | None:
        return None if self.balance is None else self.balance.get("three_way")


@dataclass
class PilotData:
    """The comparison pilot of one year (碳监测与碳核算比对验证试点).

    Attributes
    ----------
    year : int
    enterprises : list of PilotEnterprise
        At least :data:`MIN_ENTERPRISES`, each once.
    rule_set : str
        The CEMS missing-data substitution rule set the legs were computed with.
    qa : list of dict
        QA results (RATA etc., each a ``to_dict()`` or ``{"rata": …, "bias": …}`` with ``enterprise`` where
        known); empty when none were given.

    Raises
    ------
    ReportError
        Fewer than :data:`MIN_ENTERPRISES` enterprises, one repeated, or a comparison of another enterprise or
        year, or without periods (the message names the enterprise and the field).
    """

    year: int
    enterprises: list[PilotEnterprise]
    rule_set: str = "hjt75_2007"
    qa: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        codes = [e.enterprise for e in self.enterprises]
        if len(codes) < MIN_ENTERPRISES:
            raise ReportError(f"试点至少需要 {MIN_ENTERPRISES} 家企业, 给出 {len(codes)} 家 / a comparison pilot needs at "
                              f"least {MIN_ENTERPRISES} enterprises, got {len(codes)}: {', '.join(codes) or '—'}")
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ReportError(f"企业重复 / enterprises: {', '.join(dup)} given more than once")
        for e in self.enterprises:
            c = e.comparison
            if c.get("enterprise") != e.enterprise:
                raise ReportError(f"{e.enterprise}: comparison.enterprise is {c.get('enterprise')!r} / 比对结果不属于该企业")
            if c.get("year") != self.year:
                raise ReportError(f"{e.enterprise}: comparison.year is {c.get('year')!r}, the pilot's year is "
                                  f"{self.year} / 比对年度与试点年度不一致")
            if not c.get("periods") or len(c["periods"]) < 2:
                raise ReportError(f"{e.enterprise}: comparison.periods has no monthly rows / 比对结果没有月度数据")
            if e.balance is not None and e.balance.get("year") not in (None, self.year):
                raise ReportError(f"{e.enterprise}: balance.year is {e.balance.get('year')!r}, the pilot's year is "
                                  f"{self.year} / 碳平衡年度与试点年度不一致")

    @property
    def k(self) -> float:
        """Coverage factor of E_n and of the error bars [-] (from the comparisons)."""
        return float(self.enterprises[0].comparison.get("k", 2.0))
