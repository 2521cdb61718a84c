"""Decision rules with measurement uncertainty (符合性判定规则): pass, fail or inconclusive.

Pure functions; no database. Three rules:

- ``simple`` — simple acceptance (ILAC-G8:09/2019 §4.2.1, guard band w = 0): pass when the measured value lies
  within the tolerance limits (limits included), fail otherwise; never inconclusive.
- ``guarded`` — guard-banded acceptance (ILAC-G8:09/2019 §4.2.2 and its non-binary form §4.2.3), w = ``f`` × U:
  pass when the value lies at least w inside every limit, fail when it lies w or more outside a limit, and
  inconclusive in between (the zones where the uncertainty straddles the limit).
- ``jjf1094`` — the verification rule of JJF 1094 (测量仪器特性评定) as the project notes give it [R]: when
  U95 ≤ MPEV/3 the uncertainty is ignored (``simple``); otherwise 合格 when |Δ| ≤ MPEV − U95, 不合格 when
  |Δ| ≥ MPEV + U95, 待定 in between (``guarded`` with w = U). Only for a symmetric limit ±MPEV.

Every :class:`Decision` says which rule was applied (``applied`` — ``jjf1094`` resolves to ``simple`` or
``guarded``), the guard band used and the acceptance limits, so a finding can quote them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Verdict = Literal["pass", "fail", "inconclusive"]
Rule = Literal["simple", "guarded", "jjf1094"]
RULES: tuple[str, ...] = ("simple", "guarded", "jjf1094")

_ZH = {"pass": "合格", "fail": "不合格", "inconclusive": "待定"}


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a decision rule.

    Attributes
    ----------
    verdict : {"pass", "fail", "inconclusive"}
    rule : str
        The rule asked for (``simple``, ``guarded``, ``jjf1094``).
    applied : str
        The rule actually applied (``simple`` or ``guarded``; ``jjf1094`` resolves to one of them).
    value, U : float
        Measured value (or indication error) and its expanded uncertainty (≈ 95 %), same unit.
    lower, upper : float or None
        Tolerance limits (``None`` = no limit on that side).
    guard_band : float
        w, in the value's unit (0 for simple acceptance).
    accept_lower, accept_upper : float or None
        Acceptance limits: the tolerance limits moved w inwards.
    """

    verdict: Verdict
    rule: str
    applied: str
    value: float
    U: float
    lower: float | None
    upper: float | None
    guard_band: float
    accept_lower: float | None
    accept_upper: float | None

    @property
    def message(self) -> str:
        """The verdict in words, zh-CN first, English second."""
        lim = _limits_text(self.lower, self.upper)
        return (f"{_ZH[self.verdict]}（{self.applied} 判定规则，保护带 w = {self.guard_band:g}）：测得值 {self.value:g}，"
                f"U = {self.U:g}，允许范围 {lim} / {self.verdict} ({self.applied} rule, guard band w = "
                f"{self.guard_band:g}): value {self.value:g}, U = {self.U:g}, tolerance {lim}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}


def _limits_text(lower: float | None, upper: float | None) -> str:
    if lower is not None and upper is not None:
        return f"[{lower:g}, {upper:g}]"
    if upper is not None:
        return f"≤ {upper:g}"
    return f"≥ {lower:g}"


def _check(value: float, U: float, lower: float | None, upper: float | None, guard_fraction: float) -> None:
    if lower is None and upper is None:
        raise ValueError("a decision needs at least one tolerance limit (lower or upper)")
    if not math.isfinite(value):
        raise ValueError(f"measured value must be finite, got {value!r}")
    if not (math.isfinite(U) and U >= 0):
        raise ValueError(f"expanded uncertainty U must be finite and ≥ 0, got {U!r}")
    if lower is not None and upper is not None and lower > upper:
        raise ValueError(f"lower limit {lower} is above upper limit {upper}")
    if not (math.isfinite(guard_fraction) and guard_fraction >= 0):
        raise ValueError(f"guard fraction must be finite and ≥ 0, got {guard_fraction!r}")


def decide(value: float, U: float, *, lower: float | None = None, upper: float | None = None,
           rule: Rule = "guarded", guard_fraction: float = 1.0) -> Decision:
    """Judge ``value`` (expanded uncertainty ``U``) against a one- or two-sided tolerance.

    Parameters
    ----------
    value : float
        Measured value or indication error, in the unit of the limits.
    U : float
        Expanded uncertainty (k = 2, ≈ 95 %) of ``value`` [same unit].
    lower, upper : float, optional
        Tolerance limits (inclusive); give one (one-sided limit) or both (two-sided).
    rule : {"simple", "guarded", "jjf1094"}
        The decision rule (module docstring). ``jjf1094`` needs a symmetric two-sided limit.
    guard_fraction : float
        ``guarded`` only: w = ``guard_fraction`` × U (ILAC-G8: commonly w = U).

    Returns
    -------
    Decision

    Notes
    -----
    Zones with w ≥ 0 and an upper limit TU (a lower limit mirrors it): pass when value ≤ TU − w; fail when
    value ≥ TU + w (for w > 0) or value > TU (w = 0); inconclusive otherwise. A two-sided limit narrower than
    2w has no pass zone: a value inside it is inconclusive.

    References
    ----------
    ILAC-G8:09/2019 §4.2 (binary simple acceptance; guard band AL = TL − w; non-binary statements);
    JJF 1094 (U95 ≤ MPEV/3; |Δ| ≤ MPEV − U95 合格, |Δ| ≥ MPEV + U95 不合格) [R].
    """
    _check(value, U, lower, upper, guard_fraction)
    if rule not in RULES:
        raise ValueError(f"unknown decision rule {rule!r}; expected one of {', '.join(RULES)}")
    applied = rule
    w = 0.0
    if rule == "jjf1094":
        if lower is None or upper is None or not math.isclose(-lower, upper, rel_tol=1e-12, abs_tol=0.0):
            raise ValueError("the jjf1094 rule needs a symmetric limit ±MPEV (lower = −upper)")
        applied = "simple" if U <= upper / 3.0 else "guarded"
        w = 0.0 if applied == "simple" else U
    elif rule == "guarded":
        w = guard_fraction * U
    acc_lo = None if lower is None else lower + w
    acc_hi = None if upper is None else upper - w
    inside = (acc_lo is None or value >= acc_lo) and (acc_hi is None or value <= acc_hi)
    if w == 0.0:
        verdict: Verdict = "pass" if inside else "fail"
    else:
        # (value beyond the limit itself too: TU + w may round to TU when w is tiny)
        outside = ((lower is not None and value <= lower - w and value < lower)
                   or (upper is not None and value >= upper + w and value > upper))
        verdict = "fail" if outside else ("pass" if inside else "inconclusive")
    return Decision(verdict, rule, applied, value, U, lower, upper, w, acc_lo, acc_hi)


def decide_mpe(error: float, U: float, mpe: float, *, rule: Rule = "jjf1094",
               guard_fraction: float = 1.0) -> Decision:
    """Judge an instrument's indication error (示值误差) ``error`` with expanded uncertainty ``U`` against its
    maximum permissible error ±``mpe`` (最大允许误差, same unit, e.g. % of the indication).

    The two-sided limit [−MPE, +MPE] under ``rule`` (default ``jjf1094``); see :func:`decide`.
    """
    if not (math.isfinite(mpe) and mpe > 0):
        raise ValueError(f"MPE must be finite and > 0, got {mpe!r}")
    return decide(error, U, lower=-mpe, upper=mpe, rule=rule, guard_fraction=guard_fraction)
