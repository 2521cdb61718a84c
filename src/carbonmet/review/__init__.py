"""Metrology review (碳计量审查): decision rules with uncertainty and rules-as-data reviews of instruments.

Public API:

- decision rules (JJF 1094 / ILAC-G8 style, pure functions): :func:`decide`, :func:`decide_mpe` → :class:`Decision`
  (pass, fail or inconclusive, and which rule and guard band decided);
- review rules as data: :func:`load_rules` (a shipped profile, default ``gb17167_ccm``, plus a local rule set
  given by path), :func:`read_rule_file`, :func:`profile_names`, :class:`RuleSet`, :class:`ReviewRule`;
- the review: :func:`review_instruments` (one enterprise on a date) → :class:`ReviewResult` of :class:`Finding`
  and the GB 17167 fit-out rates (:class:`FitOutRate`); the pure models it applies are in the public submodule
  :mod:`carbonmet.review.system` (``combine_mpe``: the whole measuring system's MPE; ``fitout_rate``;
  ``is_main``: Tables 1-3);
- campaigns (批量审查), in the public submodule :mod:`carbonmet.review.campaign`: :func:`summarise_campaign` of many enterprises' reviews → :class:`CampaignSummary`
  (:class:`EnterpriseOutcome` per enterprise, the top :class:`Problem` with the rule's recommendation);
- verification (碳核查): the enterprise's report (:class:`ReportRow`, :func:`read_report` → :class:`Report`),
  :func:`verify_account` (report vs the platform's account, lab results and plan) → :class:`VerificationResult`
  (sampling plan, :class:`VerificationFinding`, the verified account of :class:`VerifiedStream`), its rules as
  data (:func:`load_verify_rules`, :data:`VERIFY_CHECKS`);
- stored runs and the findings' lifecycle (open → acknowledged → closed → fixed / reopened), diffs and the
  verified account: :mod:`carbonmet.review.runs` (tables in the registry database, audited);
- review items as data in the public submodule :mod:`carbonmet.review.items`: JJF 1356-2012 Appendix C's 52
  items and the 9.7.2 conclusion rule (``load_items``, ``assess_items``; the items the automated checks cover are
  judged from the findings, the others stay to be assessed on site);
- errors: :class:`ReviewError`, :class:`RuleFileError` (file, row and field of a bad rule file),
  :class:`ReportFileError` (file, row and field of a bad report).

The certificate rules (when a certificate counts and covers, 强制检定) are the registry's
(:mod:`carbonmet.registry.rules`, :func:`carbonmet.registry.instrument_states`); reverse traceability is
:func:`carbonmet.registry.trace_back`.
"""

from . import runs  # noqa: F401  (declares the run tables on carbonmet.db.Base)
from ._decision import RULES, Decision, decide, decide_mpe
from ._engine import Finding, ReviewResult, class_mpe, review_instruments
from ._errors import ReportFileError, ReviewError, RuleFileError
from ._report import REPORT_COLUMNS, Report, ReportRow, read_report
from ._rules import CHECKS, ReviewRule, RuleSet, load_rules, profile_names, read_rule_file
from ._system import FitOutRate
from ._verify import (
    VERIFY_CHECKS,
    VerificationFinding,
    VerificationResult,
    VerifiedStream,
    finding_keys,
    load_verify_rules,
    verify_account,
    verify_profile_names,
)

__all__ = [
    "CHECKS",
    "REPORT_COLUMNS",
    "RULES",
    "VERIFY_CHECKS",
    "Decision",
    "Finding",
    "FitOutRate",
    "Report",
    "ReportFileError",
    "ReportRow",
    "ReviewError",
    "ReviewResult",
    "ReviewRule",
    "RuleFileError",
    "RuleSet",
    "VerificationFinding",
    "VerificationResult",
    "VerifiedStream",
    "class_mpe",
    "decide",
    "decide_mpe",
    "finding_keys",
    "load_rules",
    "load_verify_rules",
    "profile_names",
    "read_report",
    "read_rule_file",
    "review_instruments",
    "verify_account",
    "verify_profile_names",
]
