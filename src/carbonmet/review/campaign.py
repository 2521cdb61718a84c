"""Review campaigns (批量审查): the same rule set applied to many enterprises on one date, summarised.

Pure: the reviews (:class:`ReviewResult` per enterprise) and the errors of the enterprises that could not be
reviewed in; a :class:`CampaignSummary` out — per enterprise the instruments reviewed and the findings by
severity and check, the totals, and the problems found most often with the recommendation of the rule that found
them. Running the reviews (sessions, tenancy, progress) is the services' job
(:func:`carbonmet.services.review_campaign`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ._engine import ReviewResult
from ._rules import ReviewRule, RuleSet

#: severities from the most to the least severe; ``info`` is an observation, not a non-conformity
SEVERITIES = ("critical", "major", "minor", "info")


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass
class EnterpriseOutcome:
    """One enterprise of a campaign: what was reviewed and found, or why it could not be reviewed.

    Attributes
    ----------
    enterprise : str
        Organisation code.
    instruments_reviewed : int
        In-service instruments reviewed (0 when ``error``).
    by_severity, by_check : dict of str to int
        Findings counted by severity and by the rule's check (observations, ``info``, included).
    instruments_with_findings : int
        Instruments with at least one non-conformity (severity other than ``info``).
    error : str
        Empty when reviewed; else the error's type and message (the campaign went on).
    """

    enterprise: str
    instruments_reviewed: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    by_check: dict[str, int] = field(default_factory=dict)
    instruments_with_findings: int = 0
    error: str = ""

    @property
    def findings(self) -> int:
        return sum(self.by_severity.values())

    @property
    def reviewed(self) -> bool:
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "reviewed": self.reviewed,
                "instruments_reviewed": self.instruments_reviewed, "findings": self.findings,
                "by_severity": dict(sorted(self.by_severity.items(), key=lambda kv: _rank(kv[0]))),
                "by_check": dict(sorted(self.by_check.items())),
                "instruments_with_findings": self.instruments_with_findings, "error": self.error}


@dataclass(frozen=True)
class Problem:
    """A problem found across the campaign: one rule, how often it fired and what the rule recommends.

    Attributes
    ----------
    rule_id, check, severity, clause, evidence : str
        The rule (``clause`` as the findings carry it: standard and clause).
    findings : int
        Findings of the rule over all enterprises.
    instruments, enterprises : int
        Distinct instruments and enterprises concerned (a finding about points, e.g. a fit-out rate, names no
        instrument).
    recommendation : str
        The rule's recommendation (zh-CN / English), the rule's limit filled in and instrument-specific
        placeholders left as ``…``.
    """

    rule_id: str
    check: str
    severity: str
    clause: str
    evidence: str
    findings: int
    instruments: int
    enterprises: int
    recommendation: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "check": self.check, "severity": self.severity, "clause": self.clause,
                "evidence": self.evidence, "findings": self.findings, "instruments": self.instruments,
                "enterprises": self.enterprises, "recommendation": self.recommendation}


@dataclass
class CampaignSummary:
    """The summary of a review campaign over many enterprises on one date (批量审查汇总).

    ``results`` keeps each reviewed enterprise's :class:`ReviewResult` for reports; :meth:`to_dict` leaves it out
    (the per-enterprise counts are in ``enterprises``). ``recommendations`` holds, for every rule that found a
    non-conformity, the rule's recommendation (:func:`rule_recommendation`).
    """

    on: date
    profile: str
    profile_version: str
    rule_files: tuple[str, ...]
    enterprises: list[EnterpriseOutcome]
    problems: list[Problem]
    results: dict[str, ReviewResult] = field(default_factory=dict, repr=False)
    recommendations: dict[str, str] = field(default_factory=dict, repr=False)

    def totals(self) -> dict[str, Any]:
        """Enterprises (given, reviewed, failed), instruments reviewed, findings by severity and by check."""
        sev: Counter[str] = Counter()
        chk: Counter[str] = Counter()
        for e in self.enterprises:
            sev.update(e.by_severity)
            chk.update(e.by_check)
        reviewed = [e for e in self.enterprises if e.reviewed]
        return {"enterprises": len(self.enterprises), "reviewed": len(reviewed),
                "failed": len(self.enterprises) - len(reviewed),
                "instruments_reviewed": sum(e.instruments_reviewed for e in reviewed),
                "instruments_with_findings": sum(e.instruments_with_findings for e in reviewed),
                "findings": sum(sev.values()),
                "by_severity": dict(sorted(sev.items(), key=lambda kv: _rank(kv[0]))),
                "by_check": dict(sorted(chk.items()))}

    @property
    def errors(self) -> dict[str, str]:
        """Enterprise → error of the enterprises that could not be reviewed."""
        return {e.enterprise: e.error for e in self.enterprises if e.error}

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "profile": self.profile, "profile_version": self.profile_version,
                "rule_files": list(self.rule_files), "totals": self.totals(),
                "enterprises": [e.to_dict() for e in self.enterprises],
                "problems": [p.to_dict() for p in self.problems]}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def rule_recommendation(rule: ReviewRule) -> str:
    """A rule's recommendation as one text (zh-CN / English) with its limit filled in; placeholders naming one
    instrument or certificate become ``…``."""
    limit = "" if rule.value is None else f"{rule.value:g}" if isinstance(rule.value, float) else str(rule.value)
    vals = _Blank({"limit": limit})
    return " / ".join(t.format_map(vals) for t in (rule.recommendation_zh, rule.recommendation_en) if t)


def outcome_of(result: ReviewResult) -> EnterpriseOutcome:
    """The campaign line of one enterprise's review."""
    sev = Counter(f.severity for f in result.findings)
    chk = Counter(f.check for f in result.findings)
    bad = {f.instrument for f in result.findings if f.severity != "info" and f.instrument}
    return EnterpriseOutcome(result.enterprise, result.instruments_reviewed, dict(sev), dict(chk), len(bad))


def summarise_campaign(on: date, rules: RuleSet, results: Mapping[str, ReviewResult],
                       errors: Mapping[str, str] | None = None, *, top: int | None = 10) -> CampaignSummary:
    """Summarise the reviews of a campaign.

    Parameters
    ----------
    on : date
        The campaign's review date.
    rules : RuleSet
        The rules every review ran with (profile, version, files; the recommendations of the problems).
    results : mapping of str to ReviewResult
        Enterprise → its review.
    errors : mapping of str to str, optional
        Enterprise → why it could not be reviewed.
    top : int or None
        How many problems to keep (None: all).

    Returns
    -------
    CampaignSummary
        Enterprises in code order; problems (non-conformities only, observations left out) by number of
        findings, then severity and rule id.
    """
    errors = errors or {}
    outcomes = {e: outcome_of(r) for e, r in results.items()}
    for e, err in errors.items():
        outcomes[e] = EnterpriseOutcome(e, error=err)
    by_rule: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for e, r in results.items():
        for f in r.findings:
            if f.severity != "info":
                by_rule[f.rule_id].append((e, f))
    rule_of = {r.rule_id: r for r in rules.rules}
    problems = []
    for rid, hits in by_rule.items():
        first = min((f for _, f in hits), key=lambda f: (_rank(f.severity), f.instrument, f.certificate))
        rule = rule_of.get(rid)
        problems.append(Problem(
            rid, first.check, first.severity, first.clause, first.evidence, len(hits),
            len({(e, f.instrument) for e, f in hits if f.instrument}), len({e for e, _ in hits}),
            rule_recommendation(rule) if rule is not None else first.recommendation))
    problems.sort(key=lambda p: (-p.findings, _rank(p.severity), p.rule_id))
    return CampaignSummary(on, rules.profile, rules.version, rules.files,
                           [outcomes[e] for e in sorted(outcomes)], problems if top is None else problems[:top],
                           dict(sorted(results.items())), {p.rule_id: p.recommendation for p in problems})
