"""Pure review models over plain numbers: the whole measuring system's MPE, GB 17167 fit-out rates and the
thresholds that make a secondary unit or an equipment "main" (no database here)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..quantities import UnitError, convert, is_convertible

#: ways of combining the MPEs of a measuring system's components (GB 17167-2006 Table 4 note 1 "误差合成")
COMBINATIONS = ("rss", "linear")

FitOutVerdict = Literal["pass", "fail"]


def combine_mpe(mpes: Sequence[float], method: str = "rss") -> float:
    """Relative MPE of a measuring system from its components' (sensor, transmitter, secondary instrument).

    .. math::

        \\delta_{sys} = \\sqrt{\\sum_i \\delta_i^2} \\quad (\\text{rss}), \\qquad
        \\delta_{sys} = \\sum_i |\\delta_i| \\quad (\\text{linear})

    Parameters
    ----------
    mpes : sequence of float
        Components' relative MPEs [%] (an accuracy class read as its MPE in %), at least one, each ≥ 0.
    method : {"rss", "linear"}
        Root-sum-square (independent component errors) or the linear (worst-case) sum.

    Returns
    -------
    float
        The system's relative MPE [%]; one component: its own MPE.

    Raises
    ------
    ValueError
        No component, a negative or non-finite MPE, or an unknown method.

    References
    ----------
    GB 17167-2006 4.3.8 Table 4 note 1 (JJF 1356-2012 Table A.4 note 1): when the meter is a sensor (transmitter)
    plus a secondary instrument, the grade applies to the whole device or system; a system without a stated
    grade is judged by combining its components' grades "by error combination" (按误差合成方法合成) — the
    standard does not name the method; root-sum-square is the usual choice for independent errors
    (JJF 1059.1-2012 4.4), linear the conservative one.
    """
    if not mpes:
        raise ValueError("a measuring system has at least one component")
    vals = [float(m) for m in mpes]
    if any(not math.isfinite(v) or v < 0 for v in vals):
        raise ValueError(f"MPEs must be finite and ≥ 0, got {vals}")
    if method == "rss":
        return math.sqrt(sum(v * v for v in vals))
    if method == "linear":
        return sum(vals)
    raise ValueError(f"unknown combination {method!r}; expected one of {', '.join(COMBINATIONS)}")


@dataclass(frozen=True, slots=True)
class FitOutRate:
    """A GB 17167 fit-out rate (能源计量器具配备率) of one level and energy type of an enterprise.

    ``level`` is ``L1`` (进出用能单位), ``L2`` (进出主要次级用能单位) or ``L3`` (主要用能设备); ``carrier`` the energy
    type (the registry carriers of the rule, ``|``-joined); ``required_points`` the points that must be metered
    (N_l), ``equipped_points`` those with an in-service instrument on the review date (N_s); ``rate`` and
    ``required_rate`` in %; ``verdict`` ``pass`` or ``fail``. ``rule_id`` (the rule with the required rate) and
    ``unequipped`` (point codes without an instrument) are the evidence.
    """

    level: str
    carrier: str
    required_points: int
    equipped_points: int
    rate: float
    required_rate: float
    verdict: FitOutVerdict
    rule_id: str = ""
    unequipped: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["unequipped"] = list(self.unequipped)
        return d


def fitout_rate(required: int, equipped: int, required_rate: float) -> tuple[float, FitOutVerdict]:
    """Fit-out rate and verdict: :math:`R_p = N_s / N_l \\times 100\\,\\%` against the required rate.

    Parameters
    ----------
    required : int
        N_l, the points that must be metered (theoretical need) [-], ≥ 1.
    equipped : int
        N_s, those actually equipped [-], 0 … ``required``.
    required_rate : float
        Table 3's rate for the level and energy type [%].

    Returns
    -------
    (float, str)
        The rate [%] and ``pass`` when it reaches the required rate (a rate exactly at it passes), else ``fail``.
        The comparison is made on the counts (``100·N_s ≥ rate·N_l``), so 19 of 20 at 95 % passes exactly.

    References
    ----------
    GB 17167-2006 4.3.1 (definition), 4.3.5 and Table 3; JJF 1356-2012 A.1, A.5 and Table A.3.
    """
    if required < 1 or not 0 <= equipped <= required:
        raise ValueError(f"need 0 ≤ equipped ≤ required and required ≥ 1, got {equipped}/{required}")
    rate = 100.0 * equipped / required
    ok = 100 * equipped >= required_rate * required * (1 - 1e-12)
    return rate, "pass" if ok else "fail"


def is_main(energy_use: float | None, energy_use_unit: str | None, threshold: float,
            threshold_unit: str) -> bool | None:
    """Whether a unit or equipment is "main" (主要次级用能单位 / 主要用能设备): its declared energy use (or power)
    reaches the threshold.

    Parameters
    ----------
    energy_use : float or None
        Declared consumption or power [``energy_use_unit``].
    energy_use_unit : str or None
        Its unit (e.g. ``t/a``, ``t/h``, ``kW``, ``Nm3/a``, ``GJ/a``, ``MW``).
    threshold : float
        Table 1 / Table 2 limit [``threshold_unit``].
    threshold_unit : str

    Returns
    -------
    bool or None
        ``True`` when the use is ≥ the threshold (exactly at it counts as main), ``False`` below it; ``None``
        when nothing is declared or the units cannot be compared (a power against an annual mass): not known.

    References
    ----------
    GB 17167-2006 4.3.3 and Table 1, 4.3.4 and Table 2 ("大于或等于 … 限定值", JJF 1356-2012 A.3, A.4).
    """
    if energy_use is None or not energy_use_unit:
        return None
    try:
        if not is_convertible(energy_use_unit, threshold_unit):
            return None
        v = float(convert(float(energy_use), energy_use_unit, threshold_unit))
    except UnitError:
        return None
    return v >= threshold * (1 - 1e-12)
