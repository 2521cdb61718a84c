r"""CEMS against accounting on the same boundary and period (碳监测与碳核算比对), judged metrologically.

The difference ``D = E_CEMS − E_acc`` is evaluated as one model over the union of both legs' terms: a term the
two legs share (the same instrument — a fuel flow meter feeding both — or the same default) enters ``D`` with
the difference of its sensitivities, so its contribution cancels instead of being counted twice:

.. math:: u^2(D) = \sum_k (s_{k,\mathrm{CEMS}} - s_{k,\mathrm{acc}})^2 u_k^2 + \sum_m u^2(\varepsilon_m)

and ``E_n = D / U(D)`` with ``U = k·u`` (k = 2, ISO 13528 §9.7 / ISO/IEC 17043), ``ζ = D / u(D)``. The naive
formula ``u² = u²_CEMS + u²_acc`` is reported beside it (it is what a comparison that ignores shared inputs
would sign). Verdict per period and for the year: consistent at 95 % when ``|E_n| ≤ 1``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbonmet.accounting import Account, Noise, Part, StreamCalc

#: Coverage factor of E_n [-] (ISO 13528:2015 §9.7; ISO/IEC 17043).
K_EN = 2.0
#: Published CEMS-vs-calculation differences by data quality (accounting_2025.md §3.3, [V abstract]).
PUBLISHED = ("已发表比对: 全部参数实测时两法相差约 2.51 %, 全部采用缺省值时达 19.62 % (环境工程技术学报, doi:10.12153/"
             "j.issn.1674-991X.20250768) / published: 2.51 % apart with every parameter measured, up to 19.62 % with "
             "defaults (accounting_2025.md §3.3)")


def _negated(s: StreamCalc) -> StreamCalc:
    out = StreamCalc(f"核算 accounting: {s.name}", s.kind, scope=s.scope)
    out.parts = [Part(p.what, -p.values, p.terms) for p in s.parts]
    out.noises = [Noise(z.key, z.u, z.kind, z.label) for z in s.noises]
    return out


def _r(x: float, nd: int = 4) -> float | None:
    return float(round(x, nd)) if math.isfinite(x) else None


def measured_share(acc: Account) -> float:
    """Share of the account's direct emissions [-] whose every parameter was measured (no default, estimate or
    supplier figure), weighted by the stream's absolute emissions (数据实测率)."""
    num = den = 0.0
    for s in acc.streams:
        if s.scope != "direct":
            continue
        v = abs(float(s.values(acc.n).sum()))
        den += v
        kinds = {acc.terms[k].kind for p in s.parts for k in p.terms if k in acc.terms}
        if not kinds & {"default", "estimate", "supplier"}:
            num += v
    return num / den if den > 0 else math.nan


@dataclass
class Comparison:
    """A CEMS leg against an account, per period and for the year."""

    enterprise: str
    year: int
    periods: list[str]
    rows: list[dict[str, Any]]
    shared: list[dict[str, Any]]
    contributors: list[dict[str, Any]]
    measured_share: float
    boundary: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    legs: tuple[Account, Account] | None = None  # (CEMS, account) the comparison was made from

    @property
    def year_row(self) -> dict[str, Any]:
        return self.rows[-1]

    @property
    def consistent(self) -> bool:
        """The year's verdict: |E_n| ≤ 1 (with the shared-input covariance)."""
        return bool(self.year_row["consistent"])

    @property
    def flagged(self) -> bool:
        """Inconsistent for the year, unstable over the months, or stepping at a CEMS instrument's
        recalibration (the surveillance flag)."""
        return (not self.consistent or bool(self.stability.get("unstable"))
                or any(st["significant"] for st in self.steps))

    @property
    def suspects(self) -> list[str]:
        """Instruments the comparison points at: those whose recalibration date carries a significant step."""
        return [st["instrument"] for st in self.steps if st["significant"]]

    @property
    def months_inconsistent(self) -> list[str]:
        return [r["period"] for r in self.rows[:-1] if not r["consistent"]]

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "year": self.year, "k": K_EN, "consistent": self.consistent,
                "verdict": self.year_row["verdict"], "months_inconsistent": self.months_inconsistent,
                "measured_parameter_share": _r(self.measured_share, 4), "published": PUBLISHED,
                "flagged": self.flagged, "stability": self.stability, "steps": self.steps,
                "suspects": self.suspects,
                "boundary": self.boundary, "periods": self.rows, "shared_inputs": self.shared,
                "contributors": self.contributors}


def _verdict(en: float) -> str:
    if not math.isfinite(en):
        return "未评定 / not evaluated"
    return ("一致 (95 %) / consistent at 95 %" if abs(en) <= 1 else "不一致 (95 %) / inconsistent at 95 %")


def compare_accounts(cems: Account, acc: Account, *, top: int = 8,
                     recalibrations: list[dict[str, Any]] | None = None) -> Comparison:
    """Compare the CEMS leg ``cems`` (:func:`carbonmet.cems.cems_account`) with the account ``acc`` on the
    direct-emission boundary, per period and for the year.

    Parameters
    ----------
    cems, acc : carbonmet.accounting.Account
        Same enterprise, year and periods.
    top : int
        How many of the largest contributors to u(D) to report.
    recalibrations : list of dict, optional
        Calibrations of the CEMS leg's instruments during the year (``instrument``, ``point``, ``date``,
        ``certificate``): each is tested for a step in the monthly deviation (:func:`recalibration_steps`).

    Returns
    -------
    Comparison
        Per period then the year: both legs (value, u), the difference D [tCO2], relative deviation
        D / E_acc [%], u(D) with the shared inputs and naive, E_n and ζ both ways, verdict; the shared inputs
        with their sensitivities in each leg; the largest contributors to u(D); the account's measured-parameter
        share.

    Raises
    ------
    ValueError
        Different enterprises, years or periods.
    """
    if (cems.enterprise, cems.year, list(cems.periods)) != (acc.enterprise, acc.year, list(acc.periods)):
        raise ValueError(f"CEMS leg {cems.enterprise}/{cems.year} and account {acc.enterprise}/{acc.year} do not "
                         "cover the same enterprise, year and periods / 比对范围不一致")
    direct = [s for s in acc.streams if s.scope == "direct"]
    both = Account(cems.enterprise, cems.year, "cems-accounting", list(cems.periods), list(cems.streams)
                   + [_negated(s) for s in direct], {**acc.terms, **cems.terms})
    vc, uc = cems.figures()
    va, ua = acc.figures(direct)
    vd, ud = both.figures()
    rows = []
    labels = [*cems.periods, str(cems.year)]
    for i, p in enumerate(labels):
        d, u_d = float(vd[i]), float(ud[i])
        naive = math.hypot(float(uc[i]), float(ua[i]))
        en = d / (K_EN * u_d) if u_d > 0 else math.nan
        rows.append({
            "period": p, "cems": _r(float(vc[i])), "u_cems": _r(float(uc[i])), "accounting": _r(float(va[i])),
            "u_accounting": _r(float(ua[i])), "difference": _r(d), "relative_deviation_pct":
            _r(100 * d / float(va[i]) if va[i] else math.nan), "u_difference": _r(u_d), "u_difference_naive": _r(naive),
            "En": _r(en), "En_naive": _r(d / (K_EN * naive) if naive > 0 else math.nan),
            "zeta": _r(d / u_d if u_d > 0 else math.nan), "consistent": bool(math.isfinite(en) and abs(en) <= 1),
            "verdict": _verdict(en),
        })
    sc = _sens(cems)
    sa = _sens(Account(acc.enterprise, acc.year, acc.profile, list(acc.periods), direct, acc.terms))
    shared = [{"term": k, "label": acc.terms[k].label, "u_rel": _r(acc.terms[k].u, 8),
               "sensitivity_cems_t": _r(sc[k], 3), "sensitivity_accounting_t": _r(sa[k], 3)}
              for k in sorted(set(sc) & set(sa))]
    contributors = both.budget()[:top]
    not_mon = cems.provenance.get("not_monitored", [])
    boundary = {"cems_streams": [s.name for s in cems.streams], "accounting_streams": [s.name for s in direct],
                "not_monitored": not_mon,
                "note": "直接排放边界: CEMS 监测源 (烟囱、再生器、尾气) + 火炬估算 vs 核算直接排放 (燃烧 + 过程碳平衡) / "
                        "direct-emission boundary: monitored stacks, regenerator and vent plus the estimated flare "
                        "against the account's combustion and process (carbon balance) emissions"}
    rel = np.array([r["relative_deviation_pct"] if r["relative_deviation_pct"] is not None else math.nan
                    for r in rows[:-1]], dtype=float)
    return Comparison(cems.enterprise, cems.year, list(cems.periods), rows, shared, contributors,
                      measured_share(acc), boundary, deviation_stability(rel),
                      recalibration_steps(rel, cems.periods, recalibrations or []), (cems, acc))


def recalibration_steps(rel_pct: np.ndarray, periods: list[str], events: list[dict[str, Any]],
                        alpha: float = 0.05) -> list[dict[str, Any]]:
    """Did the deviation between the legs step at a CEMS instrument's recalibration? (校准前后偏差突变检验)

    An instrument calibrated against an out-of-tolerance standard carries the standard's error from its
    calibration date on: the monthly relative deviation steps there. For each calibration inside the year the
    months wholly before it are compared with the months wholly after it (the month of the calibration is
    left out) by Welch's t test; the p-values are Bonferroni-adjusted over the events tested.

    Parameters
    ----------
    rel_pct : ndarray
        Relative deviation per month [%].
    periods : list of str
        Month labels ``YYYY-MM`` of ``rel_pct``.
    events : list of dict
        ``instrument``, ``point``, ``date`` (ISO date or :class:`datetime.date`), ``certificate``.
    alpha : float
        Significance level of the adjusted test.

    Returns
    -------
    list of dict
        Per event tested: ``instrument``, ``point``, ``date``, ``certificate``, ``before_pct``, ``after_pct``,
        ``step_pct``, ``t``, ``p``, ``p_adjusted``, ``significant``, ``rule``.
    """
    from scipy import stats

    rule = ("校准日前后整月的月度相对偏差作 Welch t 检验, Bonferroni 校正 (α = 0.05) / Welch t test of the monthly "
            "relative deviation in whole months before and after the calibration date, Bonferroni-adjusted "
            "(α = 0.05) [A: project rule]")
    out: list[dict[str, Any]] = []
    for ev in events:
        d = str(ev["date"])[:7]
        if d not in periods:
            continue
        j = periods.index(d)
        a, b = rel_pct[:j], rel_pct[j + 1:]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if a.size < 2 or b.size < 2:
            continue
        res = stats.ttest_ind(b, a, equal_var=False)
        out.append({"instrument": ev["instrument"], "point": ev.get("point"), "date": str(ev["date"]),
                    "certificate": ev.get("certificate"), "before_pct": _r(float(a.mean())),
                    "after_pct": _r(float(b.mean())), "step_pct": _r(float(b.mean() - a.mean())),
                    "t": _r(float(res.statistic)), "p": _r(float(res.pvalue), 6), "rule": rule})
    for r in out:
        r["p_adjusted"] = _r(min(1.0, (r["p"] or 0.0) * len(out)), 6)
        r["significant"] = bool(r["p_adjusted"] is not None and r["p_adjusted"] < alpha)
    return out


def deviation_stability(rel_pct: np.ndarray, alpha: float = 0.05) -> dict[str, Any]:
    """Is the monthly relative deviation between the legs stable over the year? (比对偏差稳定性检验)

    A calibration error of either leg shifts every month alike; a drifting monitor, or one calibrated against
    an out-of-tolerance standard part-way through the year, changes the deviation from month to month. The
    test fits ``r_m = a + b·m`` by least squares to the monthly relative deviations [%] and tests ``b = 0``
    with Student's t on ``n − 2`` degrees of freedom (the residual scatter stands for the month-to-month
    random part of both legs, so the constant systematic terms, which do not move the slope, need no model).

    Parameters
    ----------
    rel_pct : ndarray
        Relative deviation per month [%] (``nan`` for months without both legs).
    alpha : float
        Two-sided significance level.

    Returns
    -------
    dict
        ``slope_pct_per_month``, ``u_slope``, ``t``, ``dof``, ``p``, ``change_over_year_pct`` (11 × slope),
        ``unstable`` (p < alpha), ``rule``.
    """
    from scipy import stats

    m = np.flatnonzero(np.isfinite(rel_pct))
    rule = ("月度相对偏差对月份线性回归, 斜率 t 检验 (双侧 α = 0.05) / least-squares slope of the monthly relative "
            "deviation, Student t test of slope = 0 (two-sided, α = 0.05) [A: project rule]")
    if m.size < 4:
        return {"unstable": False, "rule": rule, "note": "少于 4 个月 / fewer than 4 months"}
    x, y = m.astype(float), rel_pct[m]
    res = stats.linregress(x, y)
    dof = m.size - 2
    t = res.slope / res.stderr if res.stderr > 0 else math.inf
    p = float(2 * stats.t.sf(abs(t), dof)) if math.isfinite(t) else 0.0
    return {"slope_pct_per_month": _r(float(res.slope), 5), "u_slope": _r(float(res.stderr), 5),
            "t": _r(float(t), 4), "dof": dof, "p": _r(p, 6), "change_over_year_pct": _r(11 * float(res.slope), 4),
            "unstable": bool(p < alpha), "rule": rule}


def _sens(a: Account) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in a.streams:
        for p in s.parts:
            for k in p.terms:
                out[k] = out.get(k, 0.0) + float(np.sum(p.values))
    return out


def compare_verified(year_row: Mapping[str, Any], verified: Sequence[Mapping[str, Any]],
                     boundary: Sequence[str], platform: Mapping[str, tuple[float, float]] | None = None, *,
                     k: float = K_EN) -> dict[str, Any]:
    """CEMS against the **verified** account (核查后排放量) on the comparison's boundary, for the year.

    The comparison pilot is 碳监测与碳核查数据比对: besides the platform's account, CEMS is set against what the
    verification accepted. The verified account is summed over the source streams of ``boundary`` (the
    accounting streams of the direct-emission boundary, :attr:`Comparison.boundary`); a boundary stream the
    verification does not list (e.g. a process stream outside the reported account) is taken from the
    platform's account when ``platform`` gives it, and named. Expanded uncertainties are combined in
    quadrature, as the verification combines them for its total.

    Parameters
    ----------
    year_row : mapping
        The year row of :func:`compare_accounts` (``cems``, ``u_cems`` [tCO2], standard uncertainty).
    verified : sequence of mapping
        The verified account's stream rows (``VerifiedStream.to_dict()``: ``stream``, ``reported_tco2``,
        ``verified_tco2``, ``U_tco2`` — expanded, k = 2) [tCO2].
    boundary : sequence of str
        Stream names of the comparison boundary.
    platform : mapping of str to (float, float), optional
        Per boundary stream the platform account's annual value and standard uncertainty [tCO2].
    k : float
        Coverage factor of U and of E_n (2, about 95 %).

    Returns
    -------
    dict
        ``streams`` (verified), ``from_platform``, ``missing`` (in neither: then no E_n), ``reported`` (of
        the verified streams), ``verified`` (verified + platform streams), ``U_verified``, ``cems``,
        ``U_cems``, ``difference`` (CEMS − verified), ``U_difference``, ``relative_deviation_pct``
        (D / verified), ``En`` = D / U(D), ``consistent``, ``verdict``, ``note``. The legs are taken as
        independent: the verification re-derives activity data and factors from the reported account, not
        from the CEMS.
    """
    names = set(boundary)
    rows = [v for v in verified if v.get("stream") in names]
    listed = {str(v.get("stream")) for v in rows}
    from_platform = sorted(n for n in names - listed if platform is not None and n in platform)
    missing = sorted(names - listed - set(from_platform))
    pf = [platform[n] for n in from_platform] if platform is not None else []
    ver = sum(float(v["verified_tco2"]) for v in rows) + sum(float(x) for x, _ in pf)
    rep = sum(float(v["reported_tco2"]) for v in rows)
    u_ver = math.sqrt(sum(float(v["U_tco2"]) ** 2 for v in rows) + sum((k * float(u)) ** 2 for _, u in pf))
    cems, u_cems = float(year_row["cems"]), k * float(year_row["u_cems"])
    d = cems - ver
    u_d = math.hypot(u_cems, u_ver)
    en = d / u_d if u_d > 0 and not missing else math.nan
    return {
        "streams": sorted(listed), "from_platform": from_platform, "missing": missing, "reported": _r(rep),
        "verified": _r(ver), "U_verified": _r(u_ver), "cems": _r(cems), "U_cems": _r(u_cems), "difference": _r(d),
        "U_difference": _r(u_d), "relative_deviation_pct": _r(100 * d / ver if ver else math.nan), "En": _r(en),
        "consistent": bool(math.isfinite(en) and abs(en) <= 1), "verdict": _verdict(en),
        "note": "核查后排放量按比对边界的排放源汇总 (核查未列的排放源取平台核算值), U 按平方和合成; CEMS 与核查结果视为独立 / "
                "the verified account summed over the boundary's source streams (streams the verification does not "
                "list taken from the platform's account), U combined in quadrature; CEMS and verification taken "
                "as independent",
    }
