"""Verification use cases (碳核查): an enterprise's reported account against the platform's evidence, and the
validation against the misstatements injected into generated regions (precision and recall)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carbonmet.lab import query_results
from carbonmet.review import (
    RuleSet,
    VerificationResult,
    finding_keys,
    load_verify_rules,
    read_report,
    verify_account,
)
from carbonmet.sites import load_plan

from ._accounting import account_enterprise
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_VERIFY = "verification 碳核查"

#: the manifest's kind of injected misstatement → the verification check that should find it
KIND_TO_CHECK = {
    "underreported_month": "activity_month",
    "default_where_measured": "default_where_measured",
    "reused_sample": "reused_sample",
}


def _verify(ws: Workspace, scope: Scope, enterprise: str, year: int, report_file: str | Path,
            rules: RuleSet) -> VerificationResult:
    report = read_report(report_file)
    acc = account_enterprise(ws, scope, enterprise, year, method="lpu")
    z = ZoneInfo(ws.time_zone)
    with ws.session() as s:
        plan = load_plan(s, enterprise)
        lab = query_results(s, enterprise=enterprise, start=datetime(year - 1, 12, 1, tzinfo=z),
                            end=datetime(year + 1, 1, 1, tzinfo=z))
    return verify_account(report, acc, plan, lab, rules=rules, time_zone=ws.time_zone)


@use_case("read")
def verify_enterprise(ws: Workspace, scope: Scope, enterprise: str, year: int, report_file: str | Path, *,
                      profile: str = "cn_ets", local_rules: str | Path | None = None) -> VerificationResult:
    """Verify ``enterprise``'s reported account of ``year`` (its report file, docs/formats/report.md) against the
    platform's account from its meters, its lab results and its monitoring plan
    (:func:`carbonmet.review.verify_account`): sampling plan, findings and the verified account.

    Raises
    ------
    NotInScope
        ``enterprise`` is not in the read scope, or it has no stored monitoring plan.
    carbonmet.review.ReportFileError
        A bad report file, or one that does not fit the platform's account (file, row and field named).
    carbonmet.review.ReviewError
        Unknown profile or a bad local rule file (file, row and field named).
    """
    scope.check_read(enterprise, _VERIFY, enterprise)
    rules = load_verify_rules(profile, local_rules)
    return _verify(ws, scope, enterprise, year, report_file, rules)


@dataclass
class VerifyValidation:
    """Findings of verifications of generated regions against their injected misstatements (核查查准率与查全率)."""

    runs: int
    seeds: list[dict[str, Any]] = field(default_factory=list)  # per region: seed, expected, found, tp, fp, fn
    false_positives: list[dict[str, str]] = field(default_factory=list)
    missed: list[dict[str, str]] = field(default_factory=list)
    clean_enterprises: int = 0
    clean_flagged: int = 0

    @property
    def tp(self) -> int:
        return sum(s["tp"] for s in self.seeds)

    @property
    def precision(self) -> float:
        found = self.tp + sum(s["fp"] for s in self.seeds)
        return self.tp / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.tp + sum(s["fn"] for s in self.seeds)
        return self.tp / expected if expected else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "precision": self.precision, "recall": self.recall,
                "clean_enterprises": self.clean_enterprises, "clean_flagged": self.clean_flagged,
                "seeds": self.seeds, "false_positives": self.false_positives, "missed": self.missed}


def expected_misstatements(manifest: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """(enterprise, check, stream, month) of every misstatement injected into a region's reports."""
    return {(m["enterprise"], KIND_TO_CHECK[m["kind"]], m["stream"], m["month"])
            for m in manifest.get("misstatements", [])}


@use_case("none")
def validate_verify(ws: Workspace, scope: Scope, runs: int, *, enterprises: int = 12, seed: int = 7,
                    year: int = 2025, profile: str = "cn_ets",
                    progress: Callable[[int, int], None] | None = None) -> VerifyValidation:
    """Generate ``runs`` regions (seeds ``seed`` … ``seed + runs − 1``), import registry, plans and lab results
    into a throw-away workspace, verify every enterprise's report (``reports/<E>.csv``) and compare the findings
    with the manifest's injected misstatements: precision and recall, and how many clean enterprises were
    flagged. Touches no data of ``ws`` (tenancy ``none``)."""
    from carbonmet.refdata import generate

    from ._lab import import_lab
    from ._plans import import_plan
    from ._registry import import_registry

    rules = load_verify_rules(profile)
    v = VerifyValidation(runs)
    for r in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            region = root / "region"
            generate(region, enterprises=enterprises, year=year, seed=seed + r, resolution="hour")
            manifest: dict[str, Any] = json.loads((region / "manifest.json").read_text(encoding="utf-8"))
            expected = expected_misstatements(manifest)
            found: set[tuple[str, str, str, str]] = set()
            centre = Scope.centre("validate-verify")
            with Workspace(f"sqlite:///{root / 'v.db'}", store_root=region) as w:
                import_registry(w, centre, sorted((region / "registry").glob("*.csv")))
                for f in sorted((region / "plans").glob("*.toml")):
                    import_plan(w, centre, f)
                import_lab(w, centre, [region / "lab" / "lab.csv"])
                for e in sorted(x["enterprise"] for x in manifest["enterprises_list"]):
                    keys = finding_keys(_verify(w, centre, e, year, region / "reports" / f"{e}.csv", rules))
                    found |= keys
                    if not any(k[0] == e for k in expected):
                        v.clean_enterprises += 1
                        v.clean_flagged += bool(keys)
        tp = len(found & expected)
        fp, fn = found - expected, expected - found
        v.seeds.append({"seed": seed + r, "expected": len(expected), "found": len(found), "tp": tp,
                        "fp": len(fp), "fn": len(fn), "precision": tp / len(found) if found else 1.0,
                        "recall": tp / len(expected) if expected else 1.0})
        v.false_positives += [{"seed": str(seed + r), "enterprise": e, "check": c, "stream": s, "month": m}
                              for e, c, s, m in sorted(fp)]
        v.missed += [{"seed": str(seed + r), "enterprise": e, "check": c, "stream": s, "month": m}
                     for e, c, s, m in sorted(fn)]
        if progress is not None:
            progress(r + 1, runs)
    return v
