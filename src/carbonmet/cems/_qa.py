"""CEMS QA tests (质量保证检验) as pure functions over paired data, judged by rule sets read from data files.

- :func:`rata`: reference-method comparison / relative accuracy test audit (参比方法比对): d_i = RM_i − CEM_i,
  d̄, S_d, cc = t(0.975, n − 1)·S_d/√n, RA = (|d̄| + |cc|)/RM̄·100 %.
- :func:`bias_test`: the bias test on the same runs (Part 75 App. A §7.6 style) and the bias-adjustment
  factor BAF = 1 + |d̄|/CEM̄ (§7.6.5).
- :func:`linearity`, :func:`calibration_error`, :func:`drift_24h`: gas-level checks.

The acceptance criteria are rows of ``data/qa_criteria.csv`` grouped in rule sets (``hj75_2017``, ``ec_co2``,
``part75``); the default rule set of each parameter is in ``data/qa_parameters.csv`` (``ec_co2`` for CO2,
flow, moisture and CO2 mass: there is no national HJ CO2-CEMS standard, accounting_2025.md §3.1). Every result
carries the rule set, the clause, the source and the evidence mark of the criterion that decided it.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from scipy import stats

from ..quantities import CarbonmetError

#: Evidence marks a criteria row may carry (domain notes).
EVIDENCE = ("V", "C", "M", "?", "V-calc", "A")
#: Tests a criteria row may belong to.
TESTS = ("rata", "bias", "linearity", "calibration_error", "calibration_error_daily", "drift_24h")
#: Limit kinds a criteria row may have (meaning in qa_criteria.csv's header comment and docs/formats/rata.md).
LIMIT_KINDS = ("ra_pct", "mean_diff", "rel_error_pct", "mean_diff_pct_of_dry", "pct_of_span", "pct_of_reference",
               "abs", "low_bias_t_test", "min_pairs", "max_runs", "max_excluded", "bias_adjust")
_RUN_RULES = ("min_pairs", "max_runs", "max_excluded", "bias_adjust")


class QAError(CarbonmetError, ValueError):
    """A QA test cannot be evaluated (质量保证检验无法计算): too few pairs, no criterion in the rule set for the
    parameter and unit, a bad exclusion. ``field`` names what is wrong, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


# --------------------------------------------------------------------------------------------- data tables


@dataclass(frozen=True, slots=True)
class Parameter:
    """One row of ``qa_parameters.csv``: a monitored parameter in one unit, its plausible range and default rule set."""

    parameter: str
    unit: str
    aliases: tuple[str, ...]
    minimum: float
    maximum: float
    default_rule_set: str
    name: str
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Criterion:
    """One row of ``qa_criteria.csv``: one acceptance limit (an alternative) of a test in a rule set.

    ``condition`` bounds the reference mean ``rm`` (in ``condition_unit``) for which the row applies;
    ``limit`` is in ``unit`` (``%`` for the relative kinds). ``clause``, ``source`` and ``evidence`` are what a
    verifier signs against.
    """

    rule_set: str
    test: str
    parameter: str
    condition: str
    condition_unit: str
    limit_kind: str
    limit: float
    unit: str
    clause: str
    source: str
    evidence: str
    lo: float = -math.inf
    lo_closed: bool = True
    hi: float = math.inf
    hi_closed: bool = True

    def holds(self, rm: float, unit: str) -> bool | None:
        """Whether the condition holds for reference mean ``rm`` in ``unit``; None when it is stated in another unit."""
        if not self.condition:
            return True
        if self.condition_unit != unit:
            return None
        lo_ok = rm >= self.lo if self.lo_closed else rm > self.lo
        hi_ok = rm <= self.hi if self.hi_closed else rm < self.hi
        return lo_ok and hi_ok


_NUM = r"(-?\d+(?:\.\d+)?)"
_ONE = re.compile(rf"rm\s*(<=|<|>=|>)\s*{_NUM}$")
_TWO = re.compile(rf"{_NUM}\s*(<=|<)\s*rm\s*(<=|<)\s*{_NUM}$")


def _with_checks(result: Any) -> dict[str, Any]:
    """A slotted test result as a dict, its ``checks`` each as a dict."""
    out = {k: getattr(result, k) for k in result.__slots__ if k != "checks"}
    out["checks"] = [c.to_dict() for c in result.checks]
    return out


def _bounds(cond: str) -> tuple[float, bool, float, bool]:
    if not cond:
        return -math.inf, True, math.inf, True
    m = _ONE.match(cond)
    if m:
        op, v = m.group(1), float(m.group(2))
        if op in ("<", "<="):
            return -math.inf, True, v, op == "<="
        return v, op == ">=", math.inf, True
    m = _TWO.match(cond)
    if m:
        return float(m.group(1)), m.group(2) == "<=", float(m.group(4)), m.group(3) == "<="
    raise ValueError(f"bad condition {cond!r}")


def _data_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    lines = text.splitlines()
    keep = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in keep)))
    return [(keep[i + 1][0], {k: (v or "").strip() for k, v in r.items()}) for i, r in enumerate(reader)]


@lru_cache(maxsize=1)
def parameters() -> tuple[Parameter, ...]:
    """The parameter table ``data/qa_parameters.csv`` (parameter, unit, aliases, range, default rule set, source).

    Raises
    ------
    ValueError
        A malformed packaged row (a packaging error, caught by the tests).
    """
    out = []
    for n, r in _data_rows("qa_parameters.csv"):
        p = Parameter(r["parameter"], r["unit"], tuple(a.strip() for a in r["aliases"].split(";") if a.strip()),
                      float(r["minimum"]), float(r["maximum"]), r["default_rule_set"], r["name"], r["source"],
                      r["evidence"])
        if not (p.parameter and p.unit and p.minimum < p.maximum and p.evidence in EVIDENCE and p.source):
            raise ValueError(f"qa_parameters.csv:{n}: malformed row {r}")
        out.append(p)
    return tuple(out)


@lru_cache(maxsize=1)
def criteria() -> tuple[Criterion, ...]:
    """Every row of ``data/qa_criteria.csv``: the acceptance criteria of all rule sets.

    Raises
    ------
    ValueError
        A malformed packaged row (unknown test or limit kind, bad condition, no clause/source, unknown mark).
    """
    out = []
    for n, r in _data_rows("qa_criteria.csv"):
        try:
            lo, lo_c, hi, hi_c = _bounds(r["condition"])
            c = Criterion(r["rule_set"], r["test"], r["parameter"], r["condition"], r["condition_unit"],
                          r["limit_kind"], float(r["limit"]), r["unit"], r["clause"], r["source"], r["evidence"],
                          lo, lo_c, hi, hi_c)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"qa_criteria.csv:{n}: malformed row {r}: {exc}") from None
        if (c.test not in TESTS or c.limit_kind not in LIMIT_KINDS or c.evidence not in EVIDENCE or not c.clause
                or not c.source or not c.rule_set or (c.condition and not c.condition_unit)):
            raise ValueError(f"qa_criteria.csv:{n}: malformed row {r}")
        out.append(c)
    return tuple(out)


def rule_sets() -> tuple[str, ...]:
    """Names of the rule sets in ``qa_criteria.csv``, in file order."""
    return tuple(dict.fromkeys(c.rule_set for c in criteria()))


def parameter_unit(parameter: str, unit: str) -> Parameter | None:
    """The parameter row for ``parameter`` in ``unit`` (the canonical unit or one of its aliases), or None."""
    u = unit.strip()
    for p in parameters():
        if p.parameter == parameter and (u == p.unit or u.casefold() in (a.casefold() for a in p.aliases)):
            return p
    return None


def default_rule_set(parameter: str) -> str:
    """The documented default rule set of a parameter (``qa_parameters.csv``): ``ec_co2`` for CO2, flow, moisture
    and CO2 mass; ``hj75_2017`` for the pollutant parameters.

    Raises
    ------
    QAError
        Field ``parameter``: an unknown parameter.
    """
    for p in parameters():
        if p.parameter == parameter:
            return p.default_rule_set
    known = ", ".join(dict.fromkeys(p.parameter for p in parameters()))
    raise QAError("parameter", f"未知参数 {parameter!r} / unknown parameter {parameter!r} (known: {known})")


def _rows(rule_set: str, test: str, parameter: str) -> list[Criterion]:
    if rule_set not in rule_sets():
        raise QAError("rule_set", f"未知规则集 {rule_set!r} / unknown rule set {rule_set!r} (known: "
                                  f"{', '.join(rule_sets())})")
    mine = [c for c in criteria() if c.rule_set == rule_set and c.test == test]
    specific = [c for c in mine if c.parameter == parameter]
    kinds = {c.limit_kind for c in specific}
    return specific + [c for c in mine if c.parameter == "*" and c.limit_kind not in kinds]


def _run_rule(rows: Sequence[Criterion], kind: str) -> Criterion | None:
    return next((c for c in rows if c.limit_kind == kind), None)


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Run:
    """One paired run of a reference-method comparison (比对数据对): the reference method and the CEMS over the
    same interval, in the same unit.

    Attributes
    ----------
    run : str
        Run identifier as the test report numbers it.
    reference, cems : float
        Reference-method value RM_i and CEMS value CEM_i [unit of the series].
    start, end : datetime or None
        The run's interval (aware), when known.
    reference_method : str or None
        Reference method (e.g. ``HJ 1240-2021 FTIR``).
    row : int or None
        Row of the file the run was read from (header = 1).
    """

    run: str
    reference: float
    cems: float
    start: datetime | None = None
    end: datetime | None = None
    reference_method: str | None = None
    row: int | None = None


@dataclass(frozen=True, slots=True)
class PairedRuns:
    """The paired runs of one parameter of one stack (一组比对数据), all in ``unit``.

    Attributes
    ----------
    parameter : str
        ``co2``, ``flow``, ``o2``, ``moisture``, ``so2`` … (``qa_parameters.csv``).
    unit : str
        Canonical unit of the values (``%``, ``m/s``, ``m3/h``, ``umol/mol``, ``mg/m3`` …).
    runs : tuple of Run
    source : str
        Where the runs came from (a file name), for the report.
    """

    parameter: str
    unit: str
    runs: tuple[Run, ...]
    source: str = ""

    @classmethod
    def from_arrays(cls, parameter: str, unit: str, reference: Sequence[float], cems: Sequence[float],
                    run_ids: Sequence[str] | None = None) -> PairedRuns:
        """Runs numbered 1…n (or ``run_ids``) from two equal-length sequences; a unit alias (``ppm``, ``%vol``)
        becomes the parameter's canonical unit (``qa_parameters.csv``)."""
        if len(reference) != len(cems):
            raise QAError("cems", f"参比与CEMS数据个数不同 / {len(reference)} reference values but {len(cems)} CEMS values")
        ids = [str(i) for i in range(1, len(reference) + 1)] if run_ids is None else [str(r) for r in run_ids]
        if any(p.parameter == parameter for p in parameters()):
            row = parameter_unit(parameter, unit)
            if row is None:
                allowed = ", ".join(p.unit for p in parameters() if p.parameter == parameter)
                raise QAError("unit", f"{unit!r} 不是 {parameter} 的单位 / {unit!r} is not a unit of {parameter} "
                                      f"(allowed: {allowed})")
            unit = row.unit
        return cls(parameter, unit, tuple(Run(i, float(r), float(c)) for i, r, c in zip(ids, reference, cems,
                                                                                       strict=True)))


@dataclass(frozen=True, slots=True)
class Check:
    """One criterion evaluated (one alternative of a test): the statistic, the limit and the verdict.

    ``applicable`` is False when the row's condition or unit does not fit the data (``note`` says why); such a
    check never decides. ``value`` is the statistic in the row's ``unit`` (or %).
    """

    rule_set: str
    test: str
    parameter: str
    limit_kind: str
    limit: float
    unit: str
    value: float
    passed: bool
    applicable: bool
    condition: str
    clause: str
    source: str
    evidence: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class _Verdict:
    passed: bool
    rule_set: str
    clause: str
    source: str
    evidence: str


def _decide(checks: Sequence[Check], rule_set: str) -> _Verdict:
    """Pass when any applicable alternative passes; the deciding check is the first passing one, else the first
    applicable one (whose clause the failure is reported against)."""
    app = [c for c in checks if c.applicable]
    win = next((c for c in app if c.passed), app[0] if app else None)
    if win is None:
        return _Verdict(False, rule_set, "", "", "")
    return _Verdict(win.passed, rule_set, win.clause, win.source, win.evidence)


def _clean(x: float) -> float:
    return float(x)


@dataclass(frozen=True, slots=True)
class RataResult:
    """Result of a reference-method comparison / RATA (参比方法比对结果).

    Attributes
    ----------
    parameter, unit : str
    runs : tuple of str
        Run ids used, in order.
    excluded : tuple of str
        Run ids rejected under the rule set's exclusion rule (reported, not used).
    reference, cems, d : tuple of float
        RM_i, CEM_i and d_i = RM_i − CEM_i of the runs used [unit].
    n : int
    rm_mean, cems_mean : float
        RM̄, CEM̄ [unit].
    d_mean : float
        d̄ [unit] (positive: the CEMS reads low).
    s_d : float
        Standard deviation of the differences, n − 1 in the denominator [unit].
    t_value : float
        t(0.975, n − 1), two-sided 95 % Student t.
    cc : float
        Confidence coefficient t·S_d/√n [unit].
    ra_pct : float
        Relative accuracy (|d̄| + |cc|)/RM̄·100 [%].
    rel_error_pct : float
        Relative error of the means (CEM̄ − RM̄)/RM̄·100 [%] (positive: the CEMS reads high).
    passed : bool
    rule_set, clause, source, evidence : str
        The criterion that decided (the first alternative met, else the first applicable one).
    checks : tuple of Check
        Every alternative of the rule set for this parameter, evaluated.
    """

    parameter: str
    unit: str
    runs: tuple[str, ...]
    excluded: tuple[str, ...]
    reference: tuple[float, ...]
    cems: tuple[float, ...]
    d: tuple[float, ...]
    n: int
    rm_mean: float
    cems_mean: float
    d_mean: float
    s_d: float
    t_value: float
    cc: float
    ra_pct: float
    rel_error_pct: float
    passed: bool
    rule_set: str
    clause: str
    source: str
    evidence: str
    checks: tuple[Check, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return _with_checks(self)


@dataclass(frozen=True, slots=True)
class BiasResult:
    """Result of the bias test (偏差检验) on paired runs and the bias-adjustment factor.

    Attributes
    ----------
    parameter, unit : str
    n : int
    d_mean, cc : float
        d̄ and the confidence coefficient [unit] (d = RM − CEM).
    cems_mean : float
        CEM̄ [unit].
    direction : {"low", "high", "none"}
        ``low``: d̄ > |cc| (the CEMS reads significantly low); ``high``: d̄ < −|cc|; ``none`` otherwise.
    baf : float
        Bias-adjustment factor 1 + |d̄|/CEM̄ when ``direction == "low"`` and the rule set adjusts this
        parameter (``baf_applies``), else 1.0.
    baf_applies : bool
        Whether the rule set corrects a low bias of this parameter by BAF (Part 75: SO2, NOx, flow; not CO2/O2).
    passed : bool
    rule_set, clause, source, evidence : str
    checks : tuple of Check
    """

    parameter: str
    unit: str
    n: int
    d_mean: float
    cc: float
    cems_mean: float
    direction: str
    baf: float
    baf_applies: bool
    passed: bool
    rule_set: str
    clause: str
    source: str
    evidence: str
    checks: tuple[Check, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return _with_checks(self)


@dataclass(frozen=True, slots=True)
class LevelCheck:
    """One gas level of a linearity, calibration-error or drift check.

    ``error`` is R̄ − A (linearity, calibration error) or the 24 h change (drift) [unit]; ``pct_of_reference``
    and ``pct_of_span`` are |error| relative to A and to the span [%] (nan when not defined).
    """

    level: str
    reference: float
    response: float
    error: float
    pct_of_reference: float
    pct_of_span: float
    passed: bool
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class LevelResult:
    """Result of a linearity, calibration-error or 24 h drift test over its gas levels (线性/示值误差/漂移)."""

    test: str
    parameter: str
    unit: str
    span: float
    levels: tuple[LevelCheck, ...]
    passed: bool
    rule_set: str
    clause: str
    source: str
    evidence: str


# --------------------------------------------------------------------------------------------- statistics


def t_975(dof: int) -> float:
    """Two-sided 95 % Student t, t(0.975, dof) (the value Part 75 App. A Table 7-1 prints to 3 decimals)."""
    if dof < 1:
        raise QAError("n", "自由度须 ≥ 1 / degrees of freedom must be ≥ 1")
    return float(stats.t.ppf(0.975, dof))


@dataclass(frozen=True, slots=True)
class _Stats:
    n: int
    rm: np.ndarray
    cem: np.ndarray
    d: np.ndarray
    rm_mean: float
    cems_mean: float
    d_mean: float
    s_d: float
    t: float
    cc: float


def _stats(rm: np.ndarray, cem: np.ndarray) -> _Stats:
    n = len(rm)
    if n < 2:
        raise QAError("runs", f"至少需要 2 对数据 / at least 2 pairs are needed, got {n}")
    d = rm - cem
    d_mean = float(d.mean())
    s_d = float(d.std(ddof=1))
    t = t_975(n - 1)
    cc = t * s_d / math.sqrt(n)
    return _Stats(n, rm, cem, d, float(rm.mean()), float(cem.mean()), d_mean, s_d, t, cc)


def _unit_fits(c: Criterion, unit: str) -> bool:
    return c.unit in ("%", "") and c.limit_kind not in ("mean_diff", "abs") or c.unit == unit


def _check(c: Criterion, value: float, unit: str, rm: float, limit: float | None = None) -> Check:
    lim = c.limit if limit is None else limit
    holds = c.holds(rm, unit)
    note = ""
    applicable = True
    if holds is None:
        applicable, note = False, f"condition stated in {c.condition_unit}, data in {unit}"
    elif not holds:
        applicable, note = False, f"condition {c.condition} does not hold (rm = {rm:g} {unit})"
    elif not _unit_fits(c, unit):
        applicable, note = False, f"limit stated in {c.unit}, data in {unit}"
    elif not math.isfinite(value):
        applicable, note = False, "statistic not defined for these data"
    return Check(c.rule_set, c.test, c.parameter, c.limit_kind, lim, c.unit, value,
                 applicable and value <= lim + 1e-12 * max(1.0, abs(lim)), applicable, c.condition, c.clause,
                 c.source, c.evidence, note)


def _no_criterion(rule_set: str, test: str, parameter: str, unit: str) -> QAError:
    return QAError("rule_set", f"规则集 {rule_set} 没有适用于 {parameter} [{unit}] 的 {test} 判据 / rule set "
                               f"{rule_set} has no {test} criterion that applies to {parameter} in {unit}")


def _series(runs: PairedRuns) -> tuple[np.ndarray, np.ndarray]:
    rm = np.array([r.reference for r in runs.runs], dtype=np.float64)
    cem = np.array([r.cems for r in runs.runs], dtype=np.float64)
    if not (np.all(np.isfinite(rm)) and np.all(np.isfinite(cem))):
        raise QAError("runs", "数据须为有限数值 / reference and CEMS values must be finite")
    return rm, cem


# --------------------------------------------------------------------------------------------- tests


def _prepare(runs: PairedRuns, rs: str, rows: Sequence[Criterion], exclude: Sequence[str]
             ) -> tuple[PairedRuns, tuple[str, ...], _Stats]:
    """Check run ids, the exclusion rule and the minimum number of pairs; the statistics of the runs used."""
    ids = [r.run for r in runs.runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise QAError("run", f"比对编号重复 {dup!r} / run {dup!r} appears twice")
    unknown = [e for e in exclude if e not in ids]
    if unknown:
        raise QAError("exclude", f"没有编号为 {unknown[0]!r} 的比对 / no run {unknown[0]!r} to exclude")
    excluded = tuple(dict.fromkeys(exclude))
    max_ex = _run_rule(rows, "max_excluded")
    max_runs = _run_rule(rows, "max_runs")
    if excluded and (max_ex is None or len(excluded) > max_ex.limit):
        allowed = 0 if max_ex is None else int(max_ex.limit)
        raise QAError("exclude", f"规则集 {rs} 最多可剔除 {allowed} 次比对 / rule set {rs} allows {allowed} rejected "
                                 f"run(s), {len(excluded)} asked" + (f" ({max_ex.clause} [{max_ex.evidence}])"
                                                                      if max_ex else ""))
    if excluded and max_runs is not None and len(ids) > max_runs.limit:
        raise QAError("runs", f"规则集 {rs} 最多 {int(max_runs.limit)} 次比对 / rule set {rs} allows at most "
                              f"{int(max_runs.limit)} runs when runs are rejected, got {len(ids)} ({max_runs.clause})")
    used = PairedRuns(runs.parameter, runs.unit, tuple(r for r in runs.runs if r.run not in excluded), runs.source)
    min_pairs = _run_rule(rows, "min_pairs")
    need = int(min_pairs.limit) if min_pairs is not None else 9
    if len(used.runs) < need:
        why = f" ({min_pairs.clause} [{min_pairs.evidence}])" if min_pairs else ""
        raise QAError("runs", f"比对数据对不足: {len(used.runs)} 对, 至少需要 {need} 对 / {len(used.runs)} paired runs"
                              f"{' after exclusion' if excluded else ''}, at least {need} needed{why}")
    rm, cem = _series(used)
    s = _stats(rm, cem)
    if s.rm_mean <= 0:
        raise QAError("reference", f"参比均值须为正 / the reference mean must be positive for a relative accuracy, "
                                   f"got {s.rm_mean:g} {runs.unit}")
    return used, excluded, s


def rata(runs: PairedRuns, rule_set: str | None = None, exclude: Sequence[str] = ()) -> RataResult:
    """Reference-method comparison / relative accuracy test audit (参比方法比对, RATA).

    .. math::

        d_i = RM_i - CEM_i, \\quad \\bar d = \\frac{1}{n}\\sum d_i, \\quad
        S_d = \\sqrt{\\frac{\\sum (d_i - \\bar d)^2}{n - 1}}, \\quad
        cc = t_{0.975,\\,n-1} \\frac{S_d}{\\sqrt n}, \\quad
        RA = \\frac{|\\bar d| + |cc|}{\\overline{RM}} \\times 100\\,\\%

    Parameters
    ----------
    runs : PairedRuns
        The paired runs of one parameter, reference and CEMS in the same unit.
    rule_set : str, optional
        ``hj75_2017``, ``ec_co2``, ``part75`` …; default: the parameter's (:func:`default_rule_set`).
    exclude : sequence of str
        Run ids to reject, only where the rule set allows it (``part75``: ≤ 12 runs performed, ≤ 3 rejected,
        ≥ 9 used, 40 CFR 75 App. A [M]); the rejected runs are reported in ``excluded``.

    Returns
    -------
    RataResult
        The numbers, every alternative evaluated, the verdict with rule set, clause and evidence mark.

    Raises
    ------
    QAError
        Fewer pairs than the rule set's minimum (9 for gases), an exclusion the rule set does not allow, a
        run id not in the series, or no criterion of the rule set for this parameter and unit.

    References
    ----------
    HJ 75-2017 参比方法比对 (accounting_methods.md §3.2, [C] for the formula); 40 CFR 75 App. A §7.3
    (accounting_methods.md §6.2, [M]); criteria: ``data/qa_criteria.csv``.
    """
    rs = rule_set or default_rule_set(runs.parameter)
    rows = _rows(rs, "rata", runs.parameter)
    limits = [c for c in rows if c.limit_kind not in _RUN_RULES]
    if not limits:
        raise _no_criterion(rs, "rata", runs.parameter, runs.unit)
    used, excluded, s = _prepare(runs, rs, rows, exclude)
    rm, cem = s.rm, s.cem
    ra = (abs(s.d_mean) + abs(s.cc)) / s.rm_mean * 100
    rel = -s.d_mean / s.rm_mean * 100
    checks = []
    v: float
    for c in limits:
        if c.limit_kind == "ra_pct":
            v = ra
        elif c.limit_kind == "mean_diff":
            v = abs(s.d_mean)
        elif c.limit_kind == "rel_error_pct":
            v = abs(rel)
        elif c.limit_kind == "mean_diff_pct_of_dry":
            checks.append(_check(c, abs(s.d_mean), runs.unit, s.rm_mean, c.limit / 100 * (100 - s.rm_mean)))
            continue
        else:
            continue
        checks.append(_check(c, v, runs.unit, s.rm_mean))
    if not any(c.applicable for c in checks):
        raise _no_criterion(rs, "rata", runs.parameter, runs.unit)
    vd = _decide(checks, rs)
    return RataResult(runs.parameter, runs.unit, tuple(r.run for r in used.runs), excluded,
                      tuple(map(_clean, rm)), tuple(map(_clean, cem)), tuple(map(_clean, s.d)), s.n, s.rm_mean,
                      s.cems_mean, s.d_mean, s.s_d, s.t, s.cc, ra, rel, vd.passed, vd.rule_set, vd.clause, vd.source,
                      vd.evidence, tuple(checks))


def bias_test(runs: PairedRuns, rule_set: str | None = None, span: float | None = None,
              exclude: Sequence[str] = ()) -> BiasResult:
    """Bias test on paired runs (偏差检验) and the bias-adjustment factor (偏差调整系数).

    .. math::

        \\text{low bias} \\iff \\bar d > |cc| \\quad (d = RM - CEM), \\qquad
        BAF = 1 + \\frac{|\\bar d|}{\\overline{CEM}}

    Parameters
    ----------
    runs : PairedRuns
    rule_set : str, optional
        Default: the parameter's. ``part75`` judges by the t-test (a low bias fails; a high bias is not
        adjusted) and applies BAF to SO2, NOx and flow only; ``ec_co2`` judges CO2 by a limit (5.0 % of full
        scale or 0.5 % CO2, the greater).
    span : float, optional
        Full scale [unit], needed by a ``pct_of_span`` alternative.
    exclude : sequence of str
        Run ids rejected in the RATA (same rule as :func:`rata`).

    Returns
    -------
    BiasResult

    Raises
    ------
    QAError
        As :func:`rata`; or the rule set has no bias criterion for the parameter.

    References
    ----------
    40 CFR 75 App. A §7.6 (the notes cite §7.4 for the test) and §7.6.5 for BAF [M] (accounting_methods.md
    §6.2); EC CO2-CEMS reference method [V] (accounting_2025.md §3.1).
    """
    rs = rule_set or default_rule_set(runs.parameter)
    rows = _rows(rs, "bias", runs.parameter)
    _, _, st = _prepare(runs, rs, _rows(rs, "rata", runs.parameter), exclude)
    d_mean, cc, cem_mean = st.d_mean, st.cc, st.cems_mean
    direction = "low" if d_mean > abs(cc) else "high" if d_mean < -abs(cc) else "none"
    adj = _run_rule(rows, "bias_adjust")
    applies = bool(adj is not None and adj.limit == 1)
    baf = 1 + abs(d_mean) / cem_mean if direction == "low" and applies and cem_mean > 0 else 1.0
    checks = []
    for c in rows:
        if c.limit_kind == "low_bias_t_test":
            checks.append(Check(rs, "bias", c.parameter, c.limit_kind, abs(cc), runs.unit, d_mean,
                                direction != "low", True, c.condition, c.clause, c.source, c.evidence,
                                "passes unless d̄ > |cc|"))
        elif c.limit_kind == "mean_diff":
            checks.append(_check(c, abs(d_mean), runs.unit, st.rm_mean))
        elif c.limit_kind == "pct_of_span":
            if span is None or not span > 0:
                checks.append(Check(rs, "bias", c.parameter, c.limit_kind, c.limit, c.unit, math.nan, False, False,
                                    c.condition, c.clause, c.source, c.evidence, "no span given"))
            else:
                checks.append(_check(c, abs(d_mean) / span * 100, runs.unit, st.rm_mean))
    if not any(c.applicable for c in checks):
        raise _no_criterion(rs, "bias", runs.parameter, runs.unit)
    v = _decide(checks, rs)
    clause = v.clause + (f"; BAF: {adj.clause}" if adj is not None and direction == "low" else "")
    return BiasResult(runs.parameter, runs.unit, st.n, d_mean, cc, cem_mean, direction, baf, applies, v.passed, rs,
                      clause, v.source, v.evidence, tuple(checks))


def _levels(test: str, parameter: str, unit: str, span: float | None, rule_set: str | None,
            levels: Sequence[tuple[str, float, float, float]]) -> LevelResult:
    """Generic level checks: (level, reference A, response R, error)."""
    rs = rule_set or default_rule_set(parameter)
    rows = [c for c in _rows(rs, test, parameter) if c.limit_kind in ("pct_of_span", "pct_of_reference", "abs")]
    if not rows:
        raise _no_criterion(rs, test, parameter, unit)
    if span is not None and not (math.isfinite(span) and span > 0):
        raise QAError("span", f"量程须为正 / span must be positive, got {span!r}")
    out = []
    for level, a, resp, err in levels:
        if not all(math.isfinite(x) for x in (a, resp)):
            raise QAError(level, "数据须为有限数值 / values must be finite")
        pref = abs(err) / abs(a) * 100 if a != 0 else math.nan
        pspan = abs(err) / span * 100 if span else math.nan
        checks = []
        for c in rows:
            v = {"pct_of_span": pspan, "pct_of_reference": pref, "abs": abs(err)}[c.limit_kind]
            checks.append(_check(c, v, unit, a))
        if not any(c.applicable for c in checks):
            raise _no_criterion(rs, test, parameter, unit) if span is not None else QAError(
                "span", f"规则集 {rs} 的 {test} 判据需要量程 / the {test} criterion of {rs} needs the span")
        vd = _decide(checks, rs)
        out.append(LevelCheck(level, a, resp, err, pref, pspan, vd.passed, tuple(checks)))
    failed = next((lv for lv in out if not lv.passed), None)
    decider = _decide((failed or out[0]).checks, rs)
    return LevelResult(test, parameter, unit, math.nan if span is None else span, tuple(out), failed is None, rs,
                       decider.clause, decider.source, decider.evidence)


def linearity(parameter: str, unit: str, gases: Mapping[str, tuple[float, Sequence[float]]],
              rule_set: str | None = None, span: float | None = None) -> LevelResult:
    """Linearity check (线性检查) at the low, mid and high reference gases.

    .. math:: LE = \\frac{|\\bar R - A|}{A} \\times 100\\,\\%

    Parameters
    ----------
    parameter, unit : str
    gases : mapping
        ``{"low": (A, [R_1, R_2, R_3]), "mid": …, "high": …}``: reference gas value A and the CEMS responses
        [unit] (Part 75: low 20–30 %, mid 50–60 %, high 80–100 % of span).
    rule_set : str, optional
        Default: the parameter's; ``part75`` has linearity criteria (LE ≤ 5.0 % or |R̄ − A| ≤ 5 ppm / 0.5 %).
    span : float, optional
        [unit], for a ``pct_of_span`` alternative.

    Returns
    -------
    LevelResult

    Raises
    ------
    QAError
        A level missing, no responses, or no criterion in the rule set.

    References
    ----------
    40 CFR 75 App. A §3.2 [M] (accounting_methods.md §6.2).
    """
    missing = [lv for lv in ("low", "mid", "high") if lv not in gases]
    if missing:
        raise QAError(missing[0], f"线性检查需要低、中、高三个浓度 / linearity needs the low, mid and high gases; "
                                  f"missing {', '.join(missing)}")
    rows = []
    for lv in ("low", "mid", "high"):
        a, resp = gases[lv]
        if len(resp) == 0:
            raise QAError(lv, f"没有 {lv} 的读数 / no responses at the {lv} gas")
        mean = float(np.mean(np.asarray(resp, dtype=np.float64)))
        rows.append((lv, float(a), mean, mean - float(a)))
    return _levels("linearity", parameter, unit, span, rule_set, rows)


def calibration_error(parameter: str, unit: str, checks: Mapping[str, tuple[float, float]], span: float | None = None,
                      rule_set: str | None = None, daily: bool = True) -> LevelResult:
    """Daily calibration error (日校准误差) at the zero and upscale gases.

    .. math:: CE = \\frac{|R - A|}{\\text{span}} \\times 100\\,\\% \\quad \\text{or} \\quad |R - A|

    Parameters
    ----------
    parameter, unit : str
    checks : mapping
        ``{"zero": (A, R), "span": (A, R)}``: reference value A and CEMS response R [unit].
    span : float, optional
        Span (full scale) [unit]; needed by ``pct_of_span`` criteria (SO2, NOx, flow).
    rule_set : str, optional
        Default: the parameter's; ``part75`` has the criteria.
    daily : bool
        True (default): the daily out-of-control limits (twice the certification limits, App. B §2.1.4);
        False: the certification limits.

    Returns
    -------
    LevelResult

    References
    ----------
    40 CFR 75 App. A and App. B §2.1.4 [M] (accounting_methods.md §6.2).
    """
    test = "calibration_error_daily" if daily else "calibration_error"
    return _levels(test, parameter, unit, span, rule_set,
                   [(lv, float(a), float(r), float(r) - float(a)) for lv, (a, r) in checks.items()])


def drift_24h(parameter: str, unit: str, readings: Mapping[str, tuple[float, float, float]],
              span: float | None = None, rule_set: str | None = None) -> LevelResult:
    """24 h zero and span drift (24小时零点/量程漂移): the change of the response to the same gas over 24 h
    without adjustment.

    .. math:: D = R_{24h} - R_{0}, \\qquad D\\% = \\frac{|D|}{\\text{span}} \\times 100\\,\\%

    Parameters
    ----------
    parameter, unit : str
    readings : mapping
        ``{"zero": (A, R_0, R_24), "span": (A, R_0, R_24)}`` (EC: ``low``/``mid``/``high``): the gas value and
        the responses at the start and after 24 h [unit].
    span : float, optional
        Full scale [unit], for ``pct_of_span`` criteria.
    rule_set : str, optional
        Default: the parameter's (``ec_co2``: CO2/O2 ≤ 0.5 %; flow ≤ 3.0 % of full scale or 0.6 m/s).

    Returns
    -------
    LevelResult

    References
    ----------
    EC CO2-CEMS reference method, 24 h calibration drift [V] (accounting_2025.md §3.1).
    """
    return _levels("drift_24h", parameter, unit, span, rule_set,
                   [(lv, float(a), float(r24), float(r24) - float(r0)) for lv, (a, r0, r24) in readings.items()])
