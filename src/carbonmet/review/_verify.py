"""Verification (碳核查) of an enterprise's reported account against the platform's evidence.

Pure: the parsed report (:class:`Report`), the platform's account (:class:`carbonmet.accounting.Account`, its
streams' monthly activity from the meters), the enterprise's lab results and its monitoring plan in; a
:class:`VerificationResult` out — the sampling plan, findings with evidence and the verified account.

Rules are data (``data/verify/<profile>.csv``, the review's rule-file columns), read by
:func:`load_verify_rules`; a local rule set (a file or directory) adds or replaces rules by ``rule_id``, so a
local materiality changes the result without code. Checks: :data:`VERIFY_CHECKS`.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from ..lab import c_ncv_bands
from ._decision import Rule, decide
from ._errors import ReportFileError, ReviewError
from ._report import Report, ReportRow
from ._rules import ReviewRule, RuleSet, read_rule_file

#: check -> (parameter, kind of value) of the verification rules
VERIFY_CHECKS: dict[str, tuple[str, str]] = {
    "materiality_total": ("pct", "float"),
    "materiality_stream": ("pct", "float"),
    "sampling_streams": ("share_pct", "float"),
    "sampling_months": ("months", "int"),
    "activity_month": ("materiality_pct", "float"),
    "stream_misstatement": ("decision_rule", "rule"),
    "missing_month": ("", ""),
    "unanalysed": ("", ""),
    "default_where_measured": ("", ""),
    "reused_sample": ("", ""),
    "unknown_sample": ("", ""),
    "calculation": ("tolerance_pct", "float"),
    "c_ncv": ("", ""),
}
VERIFY_PLACEHOLDERS = ("stream", "period", "reported", "platform", "difference_pct", "unit", "limit", "decision",
                       "parameter", "sample", "band")
_SETTINGS = ("materiality_total", "materiality_stream", "sampling_streams", "sampling_months")
_PARAM_ZH = {"ncv": "低位发热量 NCV", "carbon_content": "元素碳含量 carbon content"}
_SAMPLES = {"ncv": "ncv_samples", "carbon_content": "carbon_samples"}
_SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}


class _LabLike(Protocol):
    """What the verification reads of a lab result (:class:`carbonmet.lab.LabResult`)."""

    @property
    def sample_id(self) -> str: ...
    @property
    def point_id(self) -> str: ...
    @property
    def analyte(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def unit(self) -> str: ...
    @property
    def sampled_from(self) -> datetime: ...
    @property
    def sampled_to(self) -> datetime: ...


def verify_profile_names() -> list[str]:
    """Names of the verification rule sets shipped with carbonmet (``data/verify/*.csv``)."""
    return sorted(p.name.removesuffix(".csv") for p in resources.files(__package__).joinpath("data/verify").iterdir()
                  if p.name.endswith(".csv"))


def load_verify_rules(profile: str = "cn_ets", local: str | Path | None = None) -> RuleSet:
    """The verification rules of ``profile`` plus a local rule set (directory of CSV/XLSX files, or one file).

    Raises
    ------
    ReviewError
        Unknown profile; ``local`` does not exist; a setting rule (materiality, sampling) is missing.
    RuleFileError
        A rule file is malformed (file, row and field named).
    """
    if profile not in verify_profile_names():
        raise ReviewError(f"未知核查方案 unknown verification profile {profile!r}; "
                          f"available: {', '.join(verify_profile_names())}")
    digest = hashlib.sha256()
    res = resources.files(__package__).joinpath(f"data/verify/{profile}.csv")
    with resources.as_file(res) as p:
        digest.update(p.read_bytes())
        rules = {r.rule_id: r for r in read_rule_file(p, name=f"{profile}.csv", checks=VERIFY_CHECKS,
                                                      placeholders=VERIFY_PLACEHOLDERS)}
    files = [f"{profile}.csv"]
    if local is not None:
        lp = Path(local)
        if lp.is_dir():
            paths = sorted(x for x in lp.iterdir() if x.suffix.lower() in (".csv", ".xlsx"))
        elif lp.is_file():
            paths = [lp]
        else:
            raise ReviewError(f"本地规则集不存在 local rule set not found: {lp}")
        for f in paths:
            digest.update(f.read_bytes())
            for r in read_rule_file(f, checks=VERIFY_CHECKS, placeholders=VERIFY_PLACEHOLDERS):
                rules[r.rule_id] = r
            files.append(str(f))
    rs = RuleSet(profile, digest.hexdigest()[:12], tuple(rules.values()), tuple(files))
    for check in _SETTINGS:
        if not rs.of_check(check):
            raise ReviewError(f"核查规则集缺少 {check} / the verification rule set has no {check!r} rule")
    return rs


@dataclass(frozen=True, slots=True)
class VerificationFinding:
    """One finding of a verification (核查发现): rule, severity, stream and month, the evidence compared,
    the standard's clause and evidence mark, message and recommendation (zh-CN first, English second)."""

    rule_id: str
    check: str
    severity: str
    stream: str
    period: str
    evidence: str
    clause: str
    evidence_mark: str
    message: str
    recommendation: str
    rule_source: str
    report_row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """A stable key of the problem this finding names, the same in the next verification of the year while the
        problem stays (``rule_id|stream|period``; the report row is not part of it: a corrected report may
        move rows)."""
        return f"{self.rule_id}|{self.stream}|{self.period}"


@dataclass(frozen=True, slots=True)
class VerifiedStream:
    """One row of the verified account (核查后排放量): a source stream as reported and as verified [tCO2]."""

    stream: str
    unit: str
    reported_amount: float
    verified_amount: float
    reported_tco2: float
    verified_tco2: float
    difference_tco2: float
    difference_pct: float | None
    U_tco2: float
    materiality_tco2: float
    verdict: str
    months_checked: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


@dataclass
class VerificationResult:
    """Sampling plan, findings and verified account of one verification (一次核查)."""

    enterprise: str
    year: int
    report_file: str
    profile: str
    profile_version: str
    rule_files: tuple[str, ...]
    sampling: list[dict[str, Any]] = field(default_factory=list)
    findings: list[VerificationFinding] = field(default_factory=list)
    streams: list[VerifiedStream] = field(default_factory=list)
    total: VerifiedStream | None = None
    materiality: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for f in self.findings:
            out[f.severity] += 1
        return dict(out)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "year": self.year, "report_file": self.report_file,
                "profile": self.profile, "profile_version": self.profile_version, "rule_files": list(self.rule_files),
                "materiality": self.materiality, "sampling": self.sampling, "counts": self.counts(),
                "findings": [f.to_dict() for f in self.findings],
                "verified_account": [s.to_dict() for s in self.streams],
                "total": self.total.to_dict() if self.total else None}


@dataclass
class _Platform:
    unit: str
    months: dict[str, float]
    U_rel: float  # expanded relative uncertainty of the activity data [-]


def platform_activity(account: Any) -> dict[str, _Platform]:
    """The platform's monthly activity data per source stream, from an account's streams (fuels and purchased
    energy: ``activity``; carbon-balance items: ``activity.items``), with the annual expanded relative U."""
    out: dict[str, _Platform] = {}

    def one(name: str, a: dict[str, Any]) -> None:
        if not a.get("unit") or "periods" not in a:
            return
        U = a.get("U_rel_pct")
        out[name] = _Platform(str(a["unit"]), {p["period"]: float(p["value"]) for p in a["periods"]},
                              float(U) / 100.0 if U is not None and math.isfinite(float(U)) else 0.0)

    for s in account.streams:
        one(s.name, s.activity)
        for name, item in (s.activity.get("items") or {}).items():
            one(name, item)
    return out


def _g(x: float) -> str:
    return f"{x:.6g}"


def _month_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    y, m = int(period[:4]), int(period[5:7])
    return datetime(y, m, 1, tzinfo=tz), datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=tz)


def verify_account(report: Report, account: Any, plan: Any = None, lab: Iterable[_LabLike] = (), *,
                   rules: RuleSet | None = None, time_zone: str = "Asia/Shanghai") -> VerificationResult:
    """Verify a reported account against the platform's evidence (碳核查).

    Parameters
    ----------
    report : Report
        The enterprise's report (:func:`read_report`).
    account : carbonmet.accounting.Account
        The platform's account of the same enterprise and year (monthly activity from the meters, with U).
    plan : carbonmet.sites.MonitoringPlan, optional
        The monitoring plan: which parameters must be measured by the lab (``source = lab``).
    lab : iterable of lab results
        The enterprise's lab results (``sample_id``, ``point_id``, ``analyte``, ``sampled_from``/``_to``).
    rules : RuleSet, optional
        Verification rules (default :func:`load_verify_rules`).
    time_zone : str
        Zone of the accounting months (for a sample's sampling period against a month).

    Returns
    -------
    VerificationResult

    Raises
    ------
    ReportFileError
        The report names a stream the platform's account does not have, or its unit differs from the
        platform's (file, row and field named); or it is another enterprise's or year's.

    Notes
    -----
    A monthly activity difference Δ = reported − platform is a finding only when it is larger than the
    platform's expanded uncertainty U *and* than the monthly threshold (materiality × platform); the guarded
    decision rule (w = U) then says ``fail`` (Δ beyond the threshold by U or more: a finding of the rule's
    severity) or ``inconclusive`` (an observation, ``info``). The verified account replaces the activity of every checked month by the
    platform's and keeps the reported parameters (verified emissions = reported emissions × platform/reported
    activity); its difference is judged against the stream's materiality with the same decision rule.

    References
    ----------
    ISO 14064-3:2019 5.1.6–5.1.8 (evidence, sampling plan, materiality); Regulation (EU) 2018/2067 Art. 23 [M];
    GB/T 32151.10-2023 (formulas, measured parameters); ILAC-G8:09/2019 §4.2 (guard bands).
    """
    rs = rules if rules is not None else load_verify_rules()
    tz = ZoneInfo(time_zone)
    first = report.row_numbers[0] if report.row_numbers else None
    if report.enterprise != account.enterprise:
        raise ReportFileError(report.file, first, "enterprise",
                              f"{report.enterprise!r} but the account is {account.enterprise!r}'s")
    if report.year != account.year:
        raise ReportFileError(report.file, first, "period", f"year {report.year} but the account is {account.year}")
    plat = platform_activity(account)
    for n, r in zip(report.row_numbers, report.rows, strict=True):
        if r.stream not in plat:
            raise ReportFileError(report.file, n, "stream", f"unknown source stream {r.stream!r}: the platform's "
                                  f"account of {account.enterprise} has {', '.join(sorted(plat))}")
        if r.unit != plat[r.stream].unit:
            raise ReportFileError(report.file, n, "unit", f"{r.unit!r} but the platform measures {r.stream} in "
                                  f"{plat[r.stream].unit!r}")

    def setting(check: str) -> ReviewRule:
        return rs.of_check(check)[-1]

    mat_total, mat_stream = setting("materiality_total"), setting("materiality_stream")
    smp_streams, smp_months = setting("sampling_streams"), setting("sampling_months")
    res = VerificationResult(report.enterprise, report.year, report.file, rs.profile, rs.version, rs.files)
    res.materiality = {"total_pct": mat_total.value, "total_rule": mat_total.rule_id,
                       "total_source": f"{mat_total.standard} {mat_total.clause} [{mat_total.evidence}]",
                       "stream_pct": mat_stream.value, "stream_rule": mat_stream.rule_id,
                       "stream_source": f"{mat_stream.standard} {mat_stream.clause} [{mat_stream.evidence}]"}

    def add(rule: ReviewRule, stream: str, period: str, evidence: str, row: int | None = None,
            severity: str = "", **ctx: str) -> None:
        vals = {"stream": stream, "period": period or "—", "limit": "" if rule.value is None else
                (_g(rule.value) if isinstance(rule.value, float | int) else str(rule.value)), **ctx}
        safe: dict[str, str] = defaultdict(str, vals)
        msg = f"{rule.message_zh.format_map(safe)} / {rule.message_en.format_map(safe)}"
        rec = " / ".join(t.format_map(safe) for t in (rule.recommendation_zh, rule.recommendation_en) if t)
        res.findings.append(VerificationFinding(rule.rule_id, rule.check, severity or rule.severity, stream, period,
                                                evidence, f"{rule.standard} {rule.clause}", rule.evidence, msg, rec,
                                                rule.source, row))

    by_stream: dict[str, list[tuple[int, ReportRow]]] = defaultdict(list)
    for n, r in zip(report.row_numbers, report.rows, strict=True):
        by_stream[r.stream].append((n, r))

    # --- sampling plan: which streams and months are checked, and why
    abs_total = sum(abs(r.emissions_tco2) for r in report.rows) or 1.0
    checked: dict[str, list[str]] = {}
    for s, rows in by_stream.items():
        share = 100.0 * sum(abs(r.emissions_tco2) for _, r in rows) / abs_total
        months = sorted(set(plat[s].months) | {r.period for _, r in rows})
        if share >= float(smp_streams.value):
            checked[s] = months
            why = (f"排放占比 {share:.2f} % ≥ {_g(smp_streams.value)} %：全部月份 / share {share:.2f} % ≥ "
                   f"{_g(smp_streams.value)} %: every month ({smp_streams.rule_id})")
        else:
            n_m = int(smp_months.value)
            ranked = sorted(months, key=lambda m: (-plat[s].months.get(m, 0.0), m))[:n_m]
            checked[s] = sorted(ranked)
            why = (f"排放占比 {share:.2f} % < {_g(smp_streams.value)} %：活动量最大的 {n_m} 个月 / share {share:.2f} % "
                   f"< {_g(smp_streams.value)} %: the {n_m} months of largest activity ({smp_months.rule_id})")
        res.sampling.append({"stream": s, "share_pct": round(share, 4), "months": checked[s], "reason": why})
    n_samples = sum(len(r.ncv_samples) + len(r.carbon_samples) for r in report.rows)
    res.sampling.append({"stream": "*", "records": n_samples,
                         "reason": "全部引用的化验样品逐一核对化验记录 / every cited lab sample is checked against "
                                   "the lab records (100 %)"})

    # --- activity per checked month against the platform's meters (decision rule with U)
    for rule in rs.of_check("activity_month"):
        for s, months in checked.items():
            p = plat[s]
            for m in months:
                got = report.row_of(s, m)
                if got is None:
                    continue
                n, r = got
                pv = p.months.get(m, 0.0)
                diff = r.amount - pv
                U = p.U_rel * abs(pv)
                lim = float(rule.value) / 100.0 * abs(pv)
                if abs(diff) <= U or abs(diff) <= lim:  # within the uncertainty, or not material: no finding
                    continue
                d = decide(diff, U, lower=-lim, upper=lim, rule="guarded")
                pct = 100.0 * diff / pv if pv else math.inf
                add(rule, s, m, f"report row {n}: {_g(r.amount)} {r.unit}; platform {_g(pv)} {p.unit} "
                    f"(U = {_g(U)}); {d.message}", n, severity="" if d.verdict == "fail" else "info",
                    reported=_g(r.amount), platform=_g(pv), unit=p.unit, difference_pct=f"{pct:+.2f}",
                    decision=d.message)

    # --- data chain: missing months, parameters measured or not, samples
    for rule in rs.of_check("missing_month"):
        for s, p in plat.items():
            if s not in by_stream:
                continue
            have = {r.period for _, r in by_stream[s]}
            for m, v in sorted(p.months.items()):
                if v > 0 and m not in have:
                    add(rule, s, m, f"platform {_g(v)} {p.unit}; no report row")
    lab = list(lab)
    lab_ref: dict[tuple[str, str], str] = {}  # (stream, parameter) -> the plan's lab sample point
    if plan is not None:
        lab_ref = {(x.source_stream, x.parameter): x.ref for x in plan.parameters if x.source == "lab"}
    lab_params = set(lab_ref)
    carbon_scale: dict[int, float] = {}  # report row -> lab carbon content / defaulted one (for the verified account)
    for n, r in zip(report.row_numbers, report.rows, strict=True):
        for param in ("ncv", "carbon_content"):
            src = getattr(r, f"{param}_source")
            samples = getattr(r, _SAMPLES[param])
            if src == "default" and (r.stream, param) in lab_params:
                a, b = _month_bounds(r.period, tz)
                vals = [x.value for x in lab if x.point_id == lab_ref[(r.stream, param)] and x.analyte == param
                        and x.unit == getattr(r, f"{param}_unit") and x.sampled_from < b and x.sampled_to > a]
                measured = ""
                if vals:
                    mean = sum(vals) / len(vals)
                    measured = f"; lab mean of the month {_g(mean)} ({len(vals)} samples)"
                    if param == "carbon_content" and getattr(r, param):
                        carbon_scale[n] = mean / float(getattr(r, param))
                for rule in rs.of_check("default_where_measured"):
                    add(rule, r.stream, r.period, f"report row {n}: {param}_source = default "
                        f"({getattr(r, param)} {getattr(r, f'{param}_unit')}); plan: lab{measured}", n,
                        parameter=_PARAM_ZH[param], reported=f"{getattr(r, param)} {getattr(r, f'{param}_unit')}")
            elif r.amount > 0 and not samples and (src == "lab" or (not src and (r.stream, param) in lab_params)):
                for rule in rs.of_check("unanalysed"):
                    add(rule, r.stream, r.period, f"report row {n}: {param}_source = {src or '—'}, no sample ids", n,
                        parameter=_PARAM_ZH[param])
    lab_by_id: dict[str, list[_LabLike]] = defaultdict(list)
    for x in lab:
        lab_by_id[x.sample_id].append(x)
    cites: dict[str, list[tuple[int, ReportRow]]] = defaultdict(list)
    for n, r in zip(report.row_numbers, report.rows, strict=True):
        for sid in dict.fromkeys(r.ncv_samples + r.carbon_samples):
            cites[sid].append((n, r))
    for sid, rows in cites.items():
        known = lab_by_id.get(sid, [])
        if lab_by_id and not known:
            for rule in rs.of_check("unknown_sample"):
                for n, r in rows:
                    add(rule, r.stream, r.period, f"report row {n} cites {sid}; not in the lab records", n, sample=sid)
        if len(rows) < 2:
            continue
        for i, (n, r) in enumerate(rows):
            if known:
                a, b = _month_bounds(r.period, tz)
                if any(x.sampled_from < b and x.sampled_to > a for x in known):
                    continue  # a lot that spans two months stands for both
            elif i == 0:
                continue
            others = ", ".join(f"{x.stream} {x.period} (row {k})" for k, x in rows if k != n)
            for rule in rs.of_check("reused_sample"):
                add(rule, r.stream, r.period, f"report row {n} cites {sid}, also cited by {others}", n, sample=sid)
    band = c_ncv_bands().get("coal")
    for rule in rs.of_check("c_ncv"):
        for n, r in zip(report.row_numbers, report.rows, strict=True):
            if band is None or r.ncv is None or r.carbon_content is None or (r.ncv_unit, r.carbon_content_unit) != ("MJ/kg", "%"):
                continue
            ratio = r.carbon_content / 100.0 / r.ncv  # tC/GJ
            if abs(ratio / band.center - 1.0) > band.rel_band:
                lo, hi = band.center * (1 - band.rel_band), band.center * (1 + band.rel_band)
                add(rule, r.stream, r.period, f"report row {n}: C {_g(r.carbon_content)} %, NCV {_g(r.ncv)} MJ/kg → "
                    f"{ratio:.5f} tC/GJ; band {lo:.5f}–{hi:.5f} ({band.source[:60]} [{band.evidence}])", n,
                    reported=f"{ratio:.5f}", band=f"{lo:.5f}–{hi:.5f}")
    for rule in rs.of_check("calculation"):
        for n, r in zip(report.row_numbers, report.rows, strict=True):
            c = r.computed_emissions()
            if abs(c - r.emissions_tco2) > float(rule.value) / 100.0 * max(abs(r.emissions_tco2), abs(c)) + 1e-6:
                pct = 100.0 * (r.emissions_tco2 - c) / c if c else math.inf
                add(rule, r.stream, r.period, f"report row {n}: {_g(r.emissions_tco2)} tCO2 reported, "
                    f"{_g(c)} tCO2 from its figures", n, reported=_g(r.emissions_tco2), platform=_g(c),
                    difference_pct=f"{pct:+.3f}")

    # --- the verified account
    mis = rs.of_check("stream_misstatement")
    dec_rule = cast(Rule, mis[-1].value if mis else "guarded")
    tot = {"rep_t": 0.0, "ver_t": 0.0, "var": 0.0}
    for s, rows in by_stream.items():
        p = plat[s]
        rep_a = sum(r.amount for _, r in rows)
        rep_t = sum(r.emissions_tco2 for _, r in rows)
        ver_a = ver_t = 0.0
        for n, r in rows:
            scale = carbon_scale.get(n, 1.0)  # a defaulted carbon content replaced by the lab's mean of the month
            if r.period in checked[s] and r.period in p.months:
                pv = p.months[r.period]
                ver_a += pv
                ver_t += r.emissions_tco2 * scale * (pv / r.amount) if r.amount > 0 else 0.0
            else:
                ver_a += r.amount
                ver_t += r.emissions_tco2 * scale
        U = p.U_rel * abs(ver_t)
        lim = float(mat_stream.value) / 100.0 * abs(ver_t)
        diff = rep_t - ver_t
        d = decide(diff, U, lower=-lim, upper=lim, rule=dec_rule)
        spct = 100.0 * diff / ver_t if ver_t else None
        res.streams.append(VerifiedStream(s, p.unit, rep_a, ver_a, rep_t, ver_t, diff, spct, U, lim, d.verdict,
                                          tuple(checked[s])))
        tot["rep_t"] += rep_t
        tot["ver_t"] += ver_t
        tot["var"] += U * U
        if d.verdict == "fail":
            for rule in mis:
                add(rule, s, "", f"reported {_g(rep_t)} tCO2; verified {_g(ver_t)} tCO2 (U = {_g(U)}); {d.message}",
                    reported=_g(rep_t), platform=_g(ver_t), difference_pct=f"{spct:+.2f}" if spct is not None else "",
                    decision=d.message, limit=_g(float(mat_stream.value)))
    U_tot = math.sqrt(tot["var"])
    lim_t = float(mat_total.value) / 100.0 * abs(tot["ver_t"])
    diff_t = tot["rep_t"] - tot["ver_t"]
    dt = decide(diff_t, U_tot, lower=-lim_t, upper=lim_t, rule=dec_rule)
    res.total = VerifiedStream("total", "tCO2", math.nan, math.nan, tot["rep_t"], tot["ver_t"], diff_t,
                               100.0 * diff_t / tot["ver_t"] if tot["ver_t"] else None, U_tot, lim_t, dt.verdict, ())
    if dt.verdict == "fail":
        for rule in mis:
            add(rule, "total", "", f"reported {_g(tot['rep_t'])} tCO2; verified {_g(tot['ver_t'])} tCO2 "
                f"(U = {_g(U_tot)}); {dt.message}",
                reported=_g(tot["rep_t"]), platform=_g(tot["ver_t"]), decision=dt.message,
                difference_pct=f"{100.0 * diff_t / tot['ver_t']:+.2f}" if tot["ver_t"] else "",
                limit=_g(float(mat_total.value)))
    res.findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.stream, f.period, f.rule_id))
    return res


def finding_keys(result: VerificationResult) -> set[tuple[str, str, str, str]]:
    """(enterprise, check, stream, month) of a verification's findings that are not observations (``info``)."""
    return {(result.enterprise, f.check, f.stream, f.period) for f in result.findings if f.severity != "info"}
