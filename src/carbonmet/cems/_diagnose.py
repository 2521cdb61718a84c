"""Which component of a CO2 CEMS fails (故障部件判定): the CO2 analyser, the flow monitor or the moisture monitor.

The CO2 mass emission is a product, G ∝ C_CO2 · Q · (1 − X_sw), so a relative error of any one factor passes
one-for-one into the mass. A mass-level comparison alone cannot say which factor is wrong; the paired runs of
each component can. Each component is tested on its own (RATA under its rule set, and the t-test on d̄), its
effect on the mass is expressed as a relative error, and the suspect is the flagged component with the largest
effect: a flow monitor reading +6 % with a good CO2 analyser names the flow monitor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._qa import PairedRuns, QAError, RataResult, Run, _prepare, _rows, default_rule_set, rata

#: Component names for the verdict (zh-CN, English).
COMPONENTS = {"co2": ("CO2 分析仪", "CO2 analyser"), "flow": ("流量监测仪", "flow monitor"),
              "moisture": ("湿度仪", "moisture monitor"), "o2": ("氧分析仪", "O2 analyser")}


@dataclass(frozen=True, slots=True)
class ComponentFinding:
    """One component's paired runs judged on their own.

    Attributes
    ----------
    parameter, unit : str
    rule_set : str
    relative_bias_pct : float
        (CEM̄ − RM̄)/RM̄·100 [%]: positive when the CEMS component reads high.
    mass_effect_pct : float
        Relative error this component alone puts into the CO2 mass [%] (for moisture through (1 − X_sw)).
    d_mean, cc : float
        d̄ = mean(RM − CEM) and the confidence coefficient [unit].
    biased : bool
        |d̄| > |cc|: the difference is statistically significant (t-test at 95 %, Part 75 App. A §7.6 style).
    rata : RataResult or None
        The component's RATA under its rule set (None with ``rata_error`` when it cannot be judged).
    rata_error : str
    flagged : bool
        The QA points at this component: its RATA fails, or it is significantly biased.
    """

    parameter: str
    unit: str
    rule_set: str
    relative_bias_pct: float
    mass_effect_pct: float
    d_mean: float
    cc: float
    biased: bool
    rata: RataResult | None
    rata_error: str
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__ if k != "rata"}  # type: ignore[attr-defined]
        out["rata"] = None if self.rata is None else self.rata.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class StackDiagnosis:
    """The verdict on a stack's CO2 CEMS from its components' paired runs.

    Attributes
    ----------
    components : tuple of ComponentFinding
    mass : RataResult or None
        RATA of the CO2 mass (∝ C·Q·(1 − X)) over the runs common to every component, in relative units
        (None with ``mass_note`` when fewer common runs than needed).
    suspect : str or None
        Parameter of the component the QA points at (``flow``, ``co2``, ``moisture``), None when none is flagged.
    verdict : str
        One sentence, zh-CN then English.
    """

    components: tuple[ComponentFinding, ...]
    mass: RataResult | None
    mass_note: str
    suspect: str | None
    verdict: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return {"components": [c.to_dict() for c in self.components],
                "mass": None if self.mass is None else self.mass.to_dict(), "mass_note": self.mass_note,
                "suspect": self.suspect, "verdict": self.verdict}


def _finding(runs: PairedRuns, rule_set: str | None) -> ComponentFinding:
    rs = rule_set or default_rule_set(runs.parameter)
    _, _, s = _prepare(runs, rs, _rows(rs, "rata", runs.parameter), ())
    rel = (s.cems_mean - s.rm_mean) / s.rm_mean * 100
    if runs.parameter == "moisture":
        if runs.unit != "%":
            raise QAError("moisture", f"湿度须以 % 表示 / moisture must be in %, got {runs.unit}")
        effect = -(s.cems_mean - s.rm_mean) / (100 - s.rm_mean) * 100
    else:
        effect = rel
    try:
        r: RataResult | None = rata(runs, rs)
        err = ""
    except QAError as exc:
        r, err = None, str(exc)
    biased = abs(s.d_mean) > abs(s.cc)
    flagged = biased or (r is not None and not r.passed)
    return ComponentFinding(runs.parameter, runs.unit, rs, rel, effect, s.d_mean, s.cc, biased, r, err, flagged)


def _mass_runs(co2: PairedRuns, flow: PairedRuns, moisture: PairedRuns | None) -> PairedRuns:
    ids = [r.run for r in co2.runs]
    fl = {r.run: r for r in flow.runs}
    mo = {r.run: r for r in moisture.runs} if moisture is not None else {}
    out = []
    for i in ids:
        if i not in fl or (moisture is not None and i not in mo):
            continue
        c, f = next(r for r in co2.runs if r.run == i), fl[i]
        wr = 1 - mo[i].reference / 100 if moisture is not None else 1.0
        wc = 1 - mo[i].cems / 100 if moisture is not None else 1.0
        out.append(Run(i, c.reference * f.reference * wr, c.cems * f.cems * wc, c.start, c.end))
    return PairedRuns("co2_mass", "relative", tuple(out), co2.source)


def diagnose_stack(co2: PairedRuns, flow: PairedRuns, moisture: PairedRuns | None = None,
                   rule_sets: Mapping[str, str] | None = None) -> StackDiagnosis:
    """Which component of a stack's CO2 CEMS the QA points at (故障部件判定).

    Parameters
    ----------
    co2 : PairedRuns
        CO2 paired runs (parameter ``co2``, %; dry, as analysers report).
    flow : PairedRuns
        Flow-monitor paired runs (``flow``: m/s, m³/h or m³/s).
    moisture : PairedRuns, optional
        Moisture paired runs (``moisture``, %), when the flow is wet and the mass is reported dry.
    rule_sets : mapping, optional
        Rule set per parameter (``{"co2": "part75"}``); default each parameter's (:func:`default_rule_set`).

    Returns
    -------
    StackDiagnosis
        Each component's finding; the CO2-mass RATA over the common runs; the suspect: among the components
        that fail their RATA or show a significant bias (|d̄| > |cc|), the one with the largest effect on the
        mass; None when no component is flagged.

    Raises
    ------
    QAError
        A series with fewer runs than its rule set's minimum, or of the wrong parameter.
    """
    rs = dict(rule_sets or {})
    for want, series in (("co2", co2), ("flow", flow), ("moisture", moisture)):
        if series is not None and series.parameter != want:
            raise QAError(want, f"须为 {want} 的比对数据 / expected the {want} runs, got {series.parameter}")
    comps = [_finding(s, rs.get(s.parameter)) for s in (co2, flow, moisture) if s is not None]
    mass_runs = _mass_runs(co2, flow, moisture)
    try:
        mass: RataResult | None = rata(mass_runs, rs.get("co2_mass"))
        note = ""
    except QAError as exc:
        mass, note = None, str(exc)
    flagged = [c for c in comps if c.flagged]
    suspect = max(flagged, key=lambda c: abs(c.mass_effect_pct)) if flagged else None
    if suspect is None:
        verdict = ("各部件均通过比对且无显著偏差 / every component passes its comparison test without a significant "
                   "bias")
    else:
        zh, en = COMPONENTS.get(suspect.parameter, (suspect.parameter, suspect.parameter))
        sign = "偏高" if suspect.relative_bias_pct > 0 else "偏低"
        why_en = "fails its RATA" if suspect.rata is not None and not suspect.rata.passed else \
            "passes its RATA limit but is significantly biased (|d̄| > |cc|)"
        others = ", ".join(f"{COMPONENTS.get(c.parameter, (c.parameter, c.parameter))[1]} "
                           f"{c.relative_bias_pct:+.1f} %" for c in comps if c is not suspect)
        verdict = (f"{zh}读数{sign} {abs(suspect.relative_bias_pct):.1f} %，对CO2排放量影响 "
                   f"{suspect.mass_effect_pct:+.1f} % / the {en} reads {suspect.relative_bias_pct:+.1f} % against the "
                   f"reference and {why_en}; its effect on the CO2 mass is {suspect.mass_effect_pct:+.1f} %"
                   + (f" (others: {others})" if others else ""))
    return StackDiagnosis(tuple(comps), mass, note, None if suspect is None else suspect.parameter, verdict)
