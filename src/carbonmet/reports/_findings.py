"""Findings of the comparison pilot, generated from the numbers (试点发现).

Every finding says what was found, where (enterprise, point, instrument, months), the numbers behind it and what
to do next. The thresholds and published figures are rows of ``data/finding_rules.csv`` (source and evidence
mark with each); the tests behind the numbers are those of :mod:`carbonmet.cems` (E_n, stability, steps at
recalibration, balance χ², systematic-bias GLR).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ._data import PilotData, PilotEnterprise
from ._tables import finding_rules, rule_value

#: Order of severities in tables: flags first, then notes, then the all-clear.
SEVERITIES = ("flag", "note", "ok")


@dataclass(frozen=True)
class Finding:
    """One finding (发现).

    Attributes
    ----------
    enterprise : str
    kind : str
        ``inconsistent_year``, ``inconsistent_months``, ``monthly_deviation``, ``unstable``,
        ``step_at_recalibration``, ``balance_failed``, ``systematic_bias``, ``measured_share_low``,
        ``low_availability``, ``qa_failed`` or ``no_finding``.
    severity : str
        ``flag`` (the surveillance flag or a failed test), ``note`` (worth knowing, no failed test) or ``ok``.
    where : str
        The place: period, point, instrument, certificate, meters.
    what_zh, what_en : str
        What was found, with the numbers, in Chinese then English.
    action_zh, action_en : str
        What to do next.
    numbers : dict
        The figures the sentences quote (for tables and machines).
    """

    enterprise: str
    kind: str
    severity: str
    where: str
    what_zh: str
    what_en: str
    action_zh: str
    action_en: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _t(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:,.0f}"


def _pct(x: float | None, signed: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:+.2f} %" if signed else f"{x:.2f} %"


def _share(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _top_contributors(cmp: dict[str, Any], n: int = 3) -> list[dict[str, Any]]:
    return list(cmp.get("contributors") or [])[:n]


def _contrib_text(cmp: dict[str, Any]) -> str:
    return ", ".join(f"{c.get('label') or c['term']} ({_share(c.get('variance_share'))})"
                     for c in _top_contributors(cmp))


def _year_findings(e: PilotEnterprise, year: int) -> list[Finding]:
    out: list[Finding] = []
    cmp, y = e.comparison, e.year_row
    k = float(cmp.get("k", 2.0))
    where = f"{e.enterprise} {year}, 直接排放边界 direct-emission boundary"
    nums = {"cems_t": y["cems"], "U_cems_t": k * y["u_cems"], "accounting_t": y["accounting"],
            "U_accounting_t": k * y["u_accounting"], "difference_t": y["difference"],
            "relative_deviation_pct": y["relative_deviation_pct"], "U_difference_t": k * y["u_difference"],
            "En": y["En"]}
    if not y["consistent"]:
        suspects = list(cmp.get("suspects") or [])
        named = _bias_named(e)
        look = suspects or named or [i for c in _top_contributors(cmp) for i in c.get("instruments", [])]
        out.append(Finding(
            e.enterprise, "inconsistent_year", "flag", where,
            f"年度 CEMS {_t(y['cems'])} tCO2 与核算 {_t(y['accounting'])} tCO2 不一致: D = {_t(y['difference'])} tCO2 "
            f"({_pct(y['relative_deviation_pct'])}), U(D) = {_t(k * y['u_difference'])} tCO2, E_n = {y['En']:+.2f} "
            f"(|E_n| > 1)。u(D) 主要来自 {_contrib_text(cmp)}。",
            f"The year's CEMS {_t(y['cems'])} tCO2 and accounting {_t(y['accounting'])} tCO2 disagree: "
            f"D = {_t(y['difference'])} tCO2 ({_pct(y['relative_deviation_pct'])}), U(D) = {_t(k * y['u_difference'])} "
            f"tCO2, E_n = {y['En']:+.2f} (|E_n| > 1). u(D) comes mostly from {_contrib_text(cmp)}.",
            f"核查 {', '.join(look)} 的校准证书和所用计量标准; 对 CEMS 流量监测仪和 CO2 分析仪做参比方法比对 (RATA); "
            f"修正后重新比对。",
            f"Check the calibration certificates of {', '.join(look)} and the standards behind them; run a "
            f"reference-method comparison (RATA) on the CEMS flow monitors and CO2 analysers; compare again once "
            f"corrected.", nums))
    months = list(cmp.get("months_inconsistent") or [])
    if months:
        rows = [r for r in e.months if r["period"] in months]
        ens = [r["En"] for r in rows if r["En"] is not None]
        out.append(Finding(
            e.enterprise, "inconsistent_months", "flag" if not y["consistent"] else "note",
            f"{e.enterprise}: {', '.join(months)}",
            f"{len(months)} 个月 CEMS 与核算不一致 (|E_n| > 1): {', '.join(months)}; " + (
                f"E_n = {ens[0]:+.2f}。" if len(ens) == 1 else f"E_n 在 {min(ens):+.2f} … {max(ens):+.2f} 之间。"),
            f"{len(months)} month(s) inconsistent (|E_n| > 1): {', '.join(months)}; " + (
                f"E_n = {ens[0]:+.2f}." if len(ens) == 1 else f"E_n from {min(ens):+.2f} to {max(ens):+.2f}."),
            "逐月核对这些月份的 CEMS 有效小时、替代小时和核算月度数据 (燃料计量、化验); 若集中在某次校准之后, 核查该器具。",
            "Check those months' valid and substituted CEMS hours and the monthly accounting data (fuel meters, lab "
            "analyses); if they cluster after a calibration, check that instrument.",
            {"months": months, "En_min": min(ens), "En_max": max(ens)}))
    alert = rule_value("monthly_deviation_alert_pct")
    big = [r for r in e.months if r["relative_deviation_pct"] is not None and abs(r["relative_deviation_pct"]) >= alert]
    if big:
        worst = max(big, key=lambda r: abs(r["relative_deviation_pct"]))
        src = finding_rules()["monthly_deviation_alert_pct"]
        out.append(Finding(
            e.enterprise, "monthly_deviation", "note", f"{e.enterprise}: {', '.join(r['period'] for r in big)}",
            f"{len(big)} 个月相对偏差 |D/E_核算| ≥ {alert:g} % (告警值, {src.source} [{src.evidence}]); 最大 "
            f"{worst['period']} {_pct(worst['relative_deviation_pct'])}。",
            f"{len(big)} month(s) with a relative deviation |D/E_acc| ≥ {alert:g} % (alert level, {src.source} "
            f"[{src.evidence}]); largest {worst['period']} {_pct(worst['relative_deviation_pct'])}.",
            "核对这些月份的运行工况和两侧数据; 持续多月超过告警值时安排 RATA。",
            "Check operating conditions and both legs' data in those months; schedule a RATA if the deviation stays "
            "above the alert level for several months.",
            {"months": [r["period"] for r in big], "alert_pct": alert,
             "max_relative_deviation_pct": worst["relative_deviation_pct"]}))
    return out


def _bias_named(e: PilotEnterprise) -> list[str]:
    """Instruments of the meter(s) the systematic-bias test points at (empty when it detected nothing)."""
    t = (e.balance or {}).get("systematic_bias_test") or {}
    if not t.get("detected"):
        return []
    names = [t["named"]] if t.get("named") else list(t.get("candidates") or [])
    meters = {m["flow"]: m for m in t.get("meters", [])}
    return [i for n in names for i in meters.get(n, {}).get("instruments", [])] or names


def _stability_findings(e: PilotEnterprise, year: int) -> list[Finding]:
    out: list[Finding] = []
    cmp = e.comparison
    st = cmp.get("stability") or {}
    steps = [s for s in cmp.get("steps") or [] if s.get("significant")]
    if st.get("unstable"):
        named = _bias_named(e)
        who = ", ".join(cmp.get("suspects") or named) or "CEMS 流量监测仪和分析仪 the CEMS flow monitors and analysers"
        out.append(Finding(
            e.enterprise, "unstable", "flag", f"{e.enterprise} {year}-01 … {year}-12",
            f"月度相对偏差随时间单向变化: 斜率 {st['slope_pct_per_month']:+.3f} %/月, 全年变化 "
            f"{_pct(st['change_over_year_pct'])}, p = {st['p']:.2g} (< 0.05): 不稳定, 提示一侧器具漂移。",
            f"The monthly relative deviation moves one way over the year: slope {st['slope_pct_per_month']:+.3f} "
            f"%/month, change over the year {_pct(st['change_over_year_pct'])}, p = {st['p']:.2g} (< 0.05): unstable, "
            f"a sign of a drifting instrument on one leg.",
            f"调阅 {who} 的零点/量程漂移记录 (HJ 75 日常校准); 对流量监测仪做速度场复核和 RATA; 漂移确认后按漂移起始月重算。",
            f"Pull the zero/span drift records of {who} (HJ 75 daily checks); re-check the velocity profile of the flow "
            f"monitors and run a RATA; once a drift is confirmed, restate the months from its start.",
            {"slope_pct_per_month": st["slope_pct_per_month"], "change_over_year_pct": st["change_over_year_pct"],
             "p": st["p"]}))
    same_way = len(steps) >= 2 and len({math.copysign(1, s["step_pct"]) for s in steps}) == 1
    for s in steps:
        caveat_zh = caveat_en = ""
        if st.get("unstable") and same_way:
            caveat_zh = " 偏差同时呈单向趋势且多次校准均显示同向突变, 渐进漂移也会造成这种结果, 需逐台核实。"
            caveat_en = (" The deviation also trends one way and several calibrations show steps in the same "
                         "direction: a gradual drift produces this too, so verify instrument by instrument.")
        out.append(Finding(
            e.enterprise, "step_at_recalibration", "flag",
            f"{s['instrument']} ({s['point']}), {s['date']}, 证书 certificate {s.get('certificate') or '—'}",
            f"{s['instrument']} 于 {s['date']} 校准后月度偏差突变: 校准前 {_pct(s['before_pct'])}, 校准后 "
            f"{_pct(s['after_pct'])}, 突变 {_pct(s['step_pct'])}, p(校正) = {s['p_adjusted']:.2g}。{caveat_zh}",
            f"The monthly deviation stepped after {s['instrument']} was calibrated on {s['date']}: before "
            f"{_pct(s['before_pct'])}, after {_pct(s['after_pct'])}, step {_pct(s['step_pct'])}, p(adjusted) = "
            f"{s['p_adjusted']:.2g}.{caveat_en}",
            f"核查证书 {s.get('certificate') or '—'} 所用计量标准是否超差; 用合格标准重新校准 {s['instrument']} "
            f"({s['point']}); 重做 RATA; 重算 {s['date'][:7]} 以后各月。",
            f"Check whether the standard behind certificate {s.get('certificate') or '—'} was out of tolerance; "
            f"recalibrate {s['instrument']} ({s['point']}) against a standard in tolerance; re-run the RATA; restate "
            f"the months from {s['date'][:7]}.",
            {k: s.get(k) for k in ("instrument", "point", "date", "certificate", "before_pct", "after_pct",
                                   "step_pct", "p_adjusted")}))
    return out


def _balance_findings(e: PilotEnterprise, year: int) -> list[Finding]:
    b = e.balance
    if b is None:
        return []
    out: list[Finding] = []
    a = b.get("annual") or {}
    failed_months = [m["period"] for m in b.get("monthly", []) if not m.get("passed", True)]
    if a and not a.get("passed", True):
        sets = [s for s in a.get("equivalence_sets", []) if len(s) > 1]
        where = f"{e.enterprise} {year} 碳平衡 carbon balance"
        sets_txt = "; ".join(", ".join(s) for s in sets) or "—"
        out.append(Finding(
            e.enterprise, "balance_failed", "flag", where,
            f"年度碳平衡检验未通过: χ² = {a['chi2']}, 自由度 {a['dof']}, p = {a['p']} (< 0.05); 月度检验 "
            f"{len(failed_months)}/{len(b.get('monthly', []))} 个月未通过。" + (
                f" 本计量网络无法区分的计量点: {sets_txt}。" if sets else ""),
            f"The annual carbon balance fails: χ² = {a['chi2']}, dof {a['dof']}, p = {a['p']} (< 0.05); the monthly "
            f"test fails in {len(failed_months)} of {len(b.get('monthly', []))} months." + (
                f" Meters the network cannot tell apart: {sets_txt}." if sets else ""),
            "核查平衡中各计量点 (原料煤、产品、排放口) 的校准状态和化验数据; 增设或恢复独立计量以拆分等价集; "
            "平衡未通过前协调值不宜用于报告。",
            "Check the calibration and lab data of the balance's meters (feed coal, products, emission points); add "
            "or restore independent metering to split the equivalence set; do not sign reconciled figures while the "
            "balance fails.",
            {"chi2": a.get("chi2"), "dof": a.get("dof"), "p": a.get("p"), "months_failed": failed_months,
             "equivalence_sets": sets}))
    t = b.get("systematic_bias_test") or {}
    if t.get("detected"):
        meters = {m["flow"]: m for m in t.get("meters", [])}
        names = [t["named"]] if t.get("named") else list(t.get("candidates") or [])
        parts_zh, parts_en, insts = [], [], []
        for n in names:
            m = meters.get(n, {})
            insts += m.get("instruments", [])
            b_pct = 100 * m.get("b", math.nan)
            u_pct = 100 * m.get("u_b", math.nan)
            parts_zh.append(f"{n} (器具 {', '.join(m.get('instruments', [])) or '—'}; 估计偏差 {b_pct:+.1f} % ± "
                            f"{u_pct:.1f} %)")
            parts_en.append(f"{n} (instruments {', '.join(m.get('instruments', [])) or '—'}; estimated bias "
                            f"{b_pct:+.1f} % ± {u_pct:.1f} %)")
        one = t.get("named") is not None
        out.append(Finding(
            e.enterprise, "systematic_bias", "flag", ", ".join(names),
            f"跨月系统偏差检验 χ² = {t['chi2']} (自由度 {t['dof']}), p = {t['p']:.2g}: "
            + ("读数超出证书不确定度的计量点: " if one else "无法区分的候选计量点: ") + "; ".join(parts_zh) + "。",
            f"Systematic-bias test over the months χ² = {t['chi2']} (dof {t['dof']}), p = {t['p']:.2g}: "
            + ("meter reading beyond its certificate: " if one else "candidate meters that cannot be told apart: ")
            + "; ".join(parts_en) + ".",
            f"重新校准 {', '.join(insts) or ', '.join(names)}; 对相应 CEMS 点重做 RATA; 校准后复核碳平衡。",
            f"Recalibrate {', '.join(insts) or ', '.join(names)}; re-run the RATA on the CEMS points concerned; check "
            f"the balance again after calibration.",
            {"chi2": t.get("chi2"), "dof": t.get("dof"), "p": t.get("p"), "named": t.get("named"),
             "candidates": t.get("candidates"), "instruments": insts}))
    return out


def _share_findings(e: PilotEnterprise) -> list[Finding]:
    share = e.comparison.get("measured_parameter_share")
    low = rule_value("measured_share_low")
    if share is None or share >= low:
        return []
    r = finding_rules()
    a, d = r["published_difference_all_measured_pct"], r["published_difference_all_defaults_pct"]
    y = e.year_row
    cite = a.source.split(" (")[0]
    defaults = [c for c in e.comparison.get("contributors") or [] if c.get("kind") in ("default", "estimate",
                                                                                           "supplier")]
    first = ", ".join(c.get("label") or c["term"] for c in defaults[:3])
    return [Finding(
        e.enterprise, "measured_share_low", "note", f"{e.enterprise} 核算 accounting",
        f"核算直接排放中全部参数实测的部分占 {_share(share)} (低于 {_share(low)}); 已发表比对: 全部参数实测时两法相差 "
        f"{a.value:g} %, 全部采用缺省值时达 {d.value:g} % ({cite} [{a.evidence}]); 本企业年度相对偏差 "
        f"{_pct(y['relative_deviation_pct'])}。",
        f"Only {_share(share)} of the account's direct emissions has every parameter measured (below "
        f"{_share(low)}); published comparisons found the methods {a.value:g} % apart with every parameter measured "
        f"and up to {d.value:g} % apart with defaults ({cite} [{a.evidence}]); this enterprise's year deviates "
        f"{_pct(y['relative_deviation_pct'])}.",
        "以实测替代缺省值 (元素碳含量、低位发热量、碳氧化率)" + (f", 先替代 {first}" if first else "")
        + "; 实测率提高后比对结论更有判别力。",
        "Replace defaults by measurements (elemental carbon content, NCV, oxidation rate)" + (
            f", starting with {first}" if first else "") + "; a higher measured share makes the comparison sharper.",
        {"measured_parameter_share": share, "threshold": low, "published_all_measured_pct": a.value,
         "published_all_defaults_pct": d.value, "relative_deviation_pct": y["relative_deviation_pct"]})]


def _hours_findings(e: PilotEnterprise) -> list[Finding]:
    low = rule_value("availability_low")
    out = []
    for h in e.hours:
        av = h.get("availability")
        if av is None or av >= low:
            continue
        out.append(Finding(
            e.enterprise, "low_availability", "note", f"{e.enterprise} {h['stream']}",
            f"{h['stream']} 有效小时率 {_share(av)} (低于 {_share(low)}): 有效 {h['valid_hours']} h, 替代 "
            f"{h['substituted_hours']} h, 停运 {h['stopped_hours']} h。",
            f"{h['stream']} has {_share(av)} valid hours (below {_share(low)}): {h['valid_hours']} h valid, "
            f"{h['substituted_hours']} h substituted, {h['stopped_hours']} h stopped.",
            "查明数据缺失原因 (通信、维护、故障) 并整改; 替代数据多时该源的不确定度和比对结论应谨慎使用。",
            "Find why data are missing (communication, maintenance, faults) and fix it; with many substituted hours, "
            "use this source's uncertainty and the comparison with care.",
            {k: h.get(k) for k in ("stream", "valid_hours", "substituted_hours", "stopped_hours", "availability")}))
    return out


def qa_rows(qa: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """QA results as flat rows (enterprise, source, test, parameter, value, unit, passed, rule set, clause,
    evidence): a RATA and its bias test become two rows."""
    out: list[dict[str, Any]] = []
    for item in qa:
        base = {"enterprise": item.get("enterprise", ""), "source": item.get("file") or item.get("source") or "",
                "point": item.get("point") or "", "instrument": item.get("instrument") or ""}
        parts = [("rata", item["rata"]), ("bias", item.get("bias"))] if "rata" in item else [
            (item.get("test") or ("rata" if "ra_pct" in item else "qa"), item)]
        for test, r in parts:
            if not r:
                continue
            value, unit = (r.get("ra_pct"), "%") if test == "rata" else (
                (r.get("baf"), "BAF") if test == "bias" else (r.get("value"), r.get("unit", "")))
            out.append(base | {"test": test, "parameter": r.get("parameter", ""), "value": value, "unit": unit,
                               "passed": bool(r.get("passed")), "rule_set": r.get("rule_set", ""),
                               "clause": r.get("clause", ""), "evidence": r.get("evidence", "")})
    return out


def _qa_findings(qa: list[dict[str, Any]]) -> list[Finding]:
    out = []
    limit = rule_value("qa_bias_flag_pct")
    for r in qa_rows(qa):
        if r["passed"]:
            continue
        where = " ".join(x for x in (r["enterprise"], r["point"], r["instrument"], r["parameter"], r["source"]) if x)
        # a bias test (whose answer is a BAF) or a diagnosis naming the component with a significant bias is a
        # flag only beyond the EC bias limit; a smaller bias is noted (Part 75 applies the BAF and goes on)
        severity = "flag"
        if r["test"] in ("bias", "diagnosis") and r["value"] is not None:
            size = abs(float(r["value"]) - 1.0) * 100 if r["unit"] == "BAF" else abs(float(r["value"]))
            severity = "flag" if size > limit else "note"
        out.append(Finding(
            r["enterprise"], "qa_failed", severity, where,
            f"QA {r['test']} 未通过: {r['parameter']} = {r['value']} {r['unit']} ({r['rule_set']} {r['clause']} "
            f"[{r['evidence']}])。",
            f"QA {r['test']} failed: {r['parameter']} = {r['value']} {r['unit']} ({r['rule_set']} {r['clause']} "
            f"[{r['evidence']}]).",
            "查明原因并维修或重新校准, 之后重做该项 QA 测试; 未通过期间的数据按替代规则处理。",
            "Find the cause, repair or recalibrate, then repeat the QA test; treat the data of the failed period "
            "under the substitution rules.", dict(r)))
    return out


def pilot_findings(data: PilotData) -> list[Finding]:
    """Every finding of the pilot, per enterprise in the pilot's order (flags, then notes), then failed QA; an
    enterprise without any finding gets one ``no_finding`` line saying so with its numbers."""
    out: list[Finding] = []
    for e in data.enterprises:
        fs = (_year_findings(e, data.year) + _stability_findings(e, data.year) + _balance_findings(e, data.year)
              + _share_findings(e) + _hours_findings(e))
        if not any(f.severity == "flag" for f in fs):
            y = e.year_row
            st = e.comparison.get("stability") or {}
            bal = (e.balance or {}).get("annual") or {}
            fs.insert(0, Finding(
                e.enterprise, "no_finding", "ok", f"{e.enterprise} {data.year}",
                f"CEMS 与核算在 95 % 水平一致 (E_n = {y['En']:+.2f}, 相对偏差 {_pct(y['relative_deviation_pct'])}), 月度偏差"
                f"稳定 (p = {st.get('p', float('nan')):.2g}), 无校准后突变"
                + (f", 碳平衡通过 (p = {bal['p']})" if bal.get("passed") else "") + "。",
                f"CEMS and accounting agree at 95 % (E_n = {y['En']:+.2f}, relative deviation "
                f"{_pct(y['relative_deviation_pct'])}), the monthly deviation is stable (p = "
                f"{st.get('p', float('nan')):.2g}), no step at a recalibration"
                + (f", the carbon balance passes (p = {bal['p']})" if bal.get("passed") else "") + ".",
                "保持现行校准和 QA 周期。", "Keep the current calibration and QA schedule.",
                {"En": y["En"], "relative_deviation_pct": y["relative_deviation_pct"]}))
        fs.sort(key=lambda f: SEVERITIES.index(f.severity))
        out += fs
    return out + _qa_findings(data.qa)
