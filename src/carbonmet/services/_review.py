"""Metrology review use cases (碳计量审查): one enterprise on a date, a campaign over many enterprises, and the
validation against the non-compliances injected into generated regions (precision and recall)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from carbonmet.review import ReviewResult, load_rules, review_instruments
from carbonmet.review.campaign import CampaignSummary, summarise_campaign

from ._deps import Organisation
from ._errors import ServiceError
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_REVIEW = "metrology review 计量审查"

#: review check → the manifest's kind of injected finding it should find
CHECK_TO_KIND = {
    "overdue": "overdue",
    "does_not_conform": "does_not_conform",
    "calibrated_not_verified": "calibrated_not_verified",
    "accuracy_class": "nonconforming_class",
    "traceability_oot": "out_of_tolerance",
}


@use_case("read")
def review_enterprise(ws: Workspace, scope: Scope, enterprise: str, on: date, *, profile: str = "gb17167_ccm",
                      local_rules: str | Path | None = None) -> ReviewResult:
    """Review the in-service instruments of ``enterprise`` on ``on`` (:func:`carbonmet.review.review_instruments`).

    With a readings store (``ws.store_root``) the data-completeness rules run over the calendar year up to ``on``
    and the lab-frequency rules skip months in which a stream's activity-data point measured no consumption.

    Raises
    ------
    NotInScope
        ``enterprise`` is not in the read scope.
    carbonmet.review.ReviewError
        Unknown profile or organisation, or a bad local rule file (file, row and field named).
    """
    scope.check_read(enterprise, _REVIEW, enterprise)
    rules = load_rules(profile, local_rules)
    store = ws.store() if ws.store_root is not None else None
    active = None
    if store is not None and rules.of_check("analysis_frequency"):
        from carbonmet.sites import load_plan

        from ._lab import _activity

        with ws.session() as s:
            plan = load_plan(s, enterprise)
        active = _activity(ws, scope, plan, on.year) if plan is not None else None
    with ws.session() as s:
        return review_instruments(s, enterprise, on, rules=rules, store=store, time_zone=ws.time_zone,
                                  lab_active=active)


def campaign_enterprises(ws: Workspace, scope: Scope, enterprises: Sequence[str] | str, what: str) -> list[str]:
    """The enterprises of a campaign: ``"all"`` → every enterprise (organisation kind ``enterprise``) in the read
    scope, in code order; a list (or comma-separated text) → those codes, each checked against the read scope
    before anything is computed (:class:`NotInScope`, the same answer as for an unknown code).

    Raises
    ------
    ServiceError
        No enterprise given, or one given twice.
    NotInScope
        A listed enterprise outside the read scope.
    """
    if isinstance(enterprises, str):
        if enterprises.strip().lower() == "all":
            with ws.session() as s:
                stmt = scope.where(select(Organisation.code).where(Organisation.kind == "enterprise")
                                   .order_by(Organisation.code), Organisation.code)
                return list(s.scalars(stmt))
        enterprises = enterprises.split(",")
    codes = [e.strip() for e in enterprises if e and e.strip()]
    if not codes:
        raise ServiceError("未给出企业 / no enterprise given (a list of codes, or all)")
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise ServiceError(f"企业重复 / enterprises given more than once: {', '.join(dup)}")
    for c in codes:
        scope.check_read(c, what, c)
    return codes


@use_case("read")
def review_campaign(ws: Workspace, scope: Scope, enterprises: Sequence[str] | str, on: date, *,
                    profile: str = "gb17167_ccm", local_rules: str | Path | None = None, top: int | None = 10,
                    progress: Callable[[int, int, str], None] | None = None) -> CampaignSummary:
    """A review campaign (批量审查): the same rule set applied to many enterprises on ``on``.

    Parameters
    ----------
    enterprises : "all", sequence of str or comma-separated str
        ``"all"``: every enterprise in the read scope; else the organisation codes (each must be readable).
    on : date
        The review date of every enterprise.
    profile, local_rules
        As :func:`review_enterprise`; loaded once, before any enterprise is reviewed.
    top : int or None
        Problems kept in the summary (None: all).
    progress : callable, optional
        Called as ``progress(done, total, enterprise)`` after each enterprise (reviewed or failed).

    Returns
    -------
    CampaignSummary
        Per enterprise the instruments reviewed and the findings by severity and check (or the error that
        stopped its review: one enterprise's error does not stop the campaign), totals and the top problems
        with counts and the rules' recommendations; ``results`` holds each enterprise's review.

    Raises
    ------
    NotInScope
        A listed enterprise outside the read scope (checked before anything is computed).
    ServiceError
        No enterprise given, or one given twice.
    carbonmet.review.ReviewError
        Unknown profile, or a bad local rule file (file, row and field named).
    """
    codes = campaign_enterprises(ws, scope, enterprises, _REVIEW)
    rules = load_rules(profile, local_rules)
    results: dict[str, ReviewResult] = {}
    errors: dict[str, str] = {}
    for i, code in enumerate(codes, start=1):
        try:
            with ws.session() as s:
                results[code] = review_instruments(s, code, on, rules=rules)
        except Exception as exc:  # noqa: BLE001 - one enterprise's failure is recorded; the campaign goes on
            errors[code] = f"{type(exc).__name__}: {exc}"
        if progress is not None:
            progress(i, len(codes), code)
    return summarise_campaign(on, rules, results, errors, top=top)


@dataclass
class ReviewValidation:
    """Findings of reviews of generated regions against their manifests (审查查准率与查全率)."""

    runs: int
    seeds: list[dict[str, Any]] = field(default_factory=list)  # per region: seed, tp, fp, fn, precision, recall
    false_positives: list[dict[str, str]] = field(default_factory=list)
    missed: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    @property
    def tp(self) -> int:
        return sum(s["tp"] for s in self.seeds)

    @property
    def precision(self) -> float:
        return self._ratio(self.tp, self.tp + sum(s["fp"] for s in self.seeds))

    @property
    def recall(self) -> float:
        return self._ratio(self.tp, self.tp + sum(s["fn"] for s in self.seeds))

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "precision": self.precision, "recall": self.recall, "seeds": self.seeds,
                "false_positives": self.false_positives, "missed": self.missed}


def expected_findings(manifest: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(enterprise, kind, instrument) of every non-compliance injected into a region (``manifest.json``):
    the ``noncompliance`` list and the instruments whose certificates used the out-of-tolerance standard."""
    out = {(f["enterprise"], f["kind"], f["instrument_id"]) for f in manifest.get("noncompliance", [])}
    for ev in manifest.get("out_of_tolerance", []):
        for a in ev.get("affected_certificates", []):
            out.add((a["instrument_id"].split("-")[0], "out_of_tolerance", a["instrument_id"]))
    return out


def found_findings(result: ReviewResult) -> set[tuple[str, str, str]]:
    """(enterprise, kind, instrument) of a review's non-conformity findings, in the manifest's kinds
    (:data:`CHECK_TO_KIND`; other checks keep their own name and so count as false positives on a generated
    region). Observations (severity ``info``, e.g. an inconclusive decision) are not non-conformities."""
    return {(result.enterprise, CHECK_TO_KIND.get(f.check, f.check), f.instrument) for f in result.findings
            if f.severity != "info"}


def score_region(ws: Workspace, manifest: dict[str, Any], on: date, *, profile: str = "gb17167_ccm",
                 local_rules: str | Path | None = None) -> tuple[dict[str, Any], set[tuple[str, str, str]],
                                                                 set[tuple[str, str, str]]]:
    """Review every enterprise of a loaded region on ``on`` and compare with its manifest (centre scope)."""
    rules = load_rules(profile, local_rules)
    expected = expected_findings(manifest)
    found: set[tuple[str, str, str]] = set()
    store = ws.store() if ws.store_root is not None else None
    with ws.session() as s:
        for e in sorted(x["enterprise"] for x in manifest["enterprises_list"]):
            found |= found_findings(review_instruments(s, e, on, rules=rules, store=store, time_zone=ws.time_zone))
    tp = len(found & expected)
    fp, fn = found - expected, expected - found
    row = {"seed": manifest["seed"], "expected": len(expected), "found": len(found), "tp": tp, "fp": len(fp),
           "fn": len(fn), "precision": tp / len(found) if found else 1.0,
           "recall": tp / len(expected) if expected else 1.0}
    return row, fp, fn


def load_region(ws: Workspace, region: Path) -> dict[str, Any]:
    """Import a generated region's registry into ``ws`` and record its out-of-tolerance standard as an incident
    (what the standard's holder would do), centre scope; returns the manifest."""
    from ._incidents import record_incident
    from ._registry import import_registry

    centre = Scope.centre("validate-review")
    import_registry(ws, centre, sorted((region / "registry").glob("*.csv")))
    manifest: dict[str, Any] = json.loads((region / "manifest.json").read_text(encoding="utf-8"))
    for ev in manifest.get("out_of_tolerance", []):
        record_incident(ws, centre, ev["standard_code"], date.fromisoformat(ev["window_from"]),
                        date.fromisoformat(ev["window_to"]), "generated region: standard found out of tolerance")
    return manifest


@use_case("none")
def validate_review(ws: Workspace, scope: Scope, runs: int, *, enterprises: int = 12, seed: int = 7,
                    year: int = 2025, profile: str = "gb17167_ccm",
                    progress: Callable[[int, int], None] | None = None) -> ReviewValidation:
    """Generate ``runs`` regions (seeds ``seed`` … ``seed + runs − 1``), import each registry into a throw-away
    workspace, review every enterprise on 31 December of ``year`` and compare the findings with the manifest's
    injected non-compliances and out-of-tolerance affected instruments: precision and recall. Touches no data
    of ``ws`` (tenancy ``none``)."""
    from carbonmet.refdata import generate

    v = ReviewValidation(runs)
    for r in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            region = root / "region"
            generate(region, enterprises=enterprises, year=year, seed=seed + r, resolution="hour")
            with Workspace(f"sqlite:///{root / 'v.db'}", store_root=region) as w:
                manifest = load_region(w, region)
                row, fp, fn = score_region(w, manifest, date(year, 12, 31), profile=profile)
        v.seeds.append(row)
        v.false_positives += [{"seed": str(seed + r), "enterprise": e, "kind": k, "instrument": i}
                              for e, k, i in sorted(fp)]
        v.missed += [{"seed": str(seed + r), "enterprise": e, "kind": k, "instrument": i} for e, k, i in sorted(fn)]
        if progress is not None:
            progress(r + 1, runs)
    return v
