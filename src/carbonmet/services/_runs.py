"""Stored review and verification runs and their findings (审查/核查记录与发现闭环).

Who may do what (decided here from the :class:`Scope`, the only thing a use case knows of its caller):

======================  ==========================================================================================
step                     allowed to
======================  ==========================================================================================
store a run              a **reviewer** of the enterprise: the centre (all-access), or a verifier the enterprise is
                         assigned to (reads it, writes nothing of it). Not the enterprise itself (its own run could
                         leave rules out and so "fix" its findings) and not the regulator (reads, acts on nothing).
acknowledge a finding    the enterprise (writes its own organisation) or a reviewer of it
close a finding          a reviewer of the enterprise only (the closure is the reviewer's judgement of the evidence)
read runs, findings,     the read scope (the regulator reads every organisation)
diffs, verified account
======================  ==========================================================================================

A reviewer's write runs in the write guard with the scope narrowed to the one enterprise (``Scope.of(write=[E])``):
the transaction is refused unless every record it writes belongs to that enterprise.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from carbonmet.review import load_rules, load_verify_rules, review_instruments
from carbonmet.review.runs import (
    KINDS,
    RunDiff,
    RunRecord,
    VerifiedAccount,
    acknowledge,
    close,
    event_dict,
    finding_dict,
    finding_events,
    get_finding,
    get_run,
    latest_run,
    query_findings,
    query_runs,
    store_run,
    verified_account_of,
)
from carbonmet.review.runs import (
    run_diff as diff_of_run,
)

from ._errors import AccessDenied, NotInScope, ServiceError
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._verify import _verify
from ._workspace import Workspace

_RUN = "review run 审查/核查记录"
_FINDING = "finding 发现"


def is_reviewer(scope: Scope, enterprise: str) -> bool:
    """Whether ``scope`` reviews ``enterprise``: the centre, or a verifier it is assigned to (reads, does not write)."""
    return scope.all_access or (not scope.read_all and scope.can_read(enterprise) and not scope.can_write(enterprise))


def _reviewer(scope: Scope, enterprise: str, action: str) -> None:
    scope.check_read(enterprise, _RUN, enterprise)
    if not is_reviewer(scope, enterprise):
        raise AccessDenied(enterprise, f"{action} — 仅中心或受指派的核查机构 / only the centre or the enterprise's "
                                       f"assigned verifier")


def _narrow(scope: Scope, enterprise: str) -> Scope:
    return Scope.of((enterprise,), (enterprise,), actor=scope.actor)


@use_case("write")
def run_review(ws: Workspace, scope: Scope, enterprise: str, on: date, *, profile: str = "gb17167_ccm",
               local_rules: str | Path | None = None) -> RunRecord:
    """Review ``enterprise`` on ``on`` (:func:`carbonmet.review.review_instruments`) and store the run with its
    findings, moving the enterprise's tracked review findings through their lifecycle (new, persisting, reopened,
    fixed) — one transaction, audited.

    Raises
    ------
    NotInScope
        ``enterprise`` is not in the read scope.
    AccessDenied
        The caller is not a reviewer of ``enterprise`` (module docstring).
    carbonmet.review.ReviewError
        Unknown profile or organisation, or a bad local rule file (file, row and field named).
    """
    _reviewer(scope, enterprise, "store a review run 保存审查记录")
    rules = load_rules(profile, local_rules)
    with guarded_write(ws, _narrow(scope, enterprise), "store a review run 保存审查记录") as s:
        res = review_instruments(s, enterprise, on, rules=rules)
        return store_run(s, res, rules, actor=scope.actor)


@use_case("write")
def run_verify(ws: Workspace, scope: Scope, enterprise: str, year: int, report_file: str | Path, *,
               profile: str = "cn_ets", local_rules: str | Path | None = None) -> RunRecord:
    """Verify ``enterprise``'s report of ``year`` (:func:`carbonmet.services.verify_enterprise`) and store the run:
    sampling plan, findings, the verified account (per stream: reported, verified, difference, materiality) and the
    report file's SHA-256; the tracked verification findings of the enterprise-year move through their lifecycle.

    Raises
    ------
    NotInScope
        ``enterprise`` is not in the read scope.
    AccessDenied
        The caller is not a reviewer of ``enterprise``.
    carbonmet.review.ReportFileError, carbonmet.review.ReviewError
        As :func:`verify_enterprise`.
    """
    _reviewer(scope, enterprise, "store a verification run 保存核查记录")
    rules = load_verify_rules(profile, local_rules)
    res = _verify(ws, scope, enterprise, year, report_file, rules)
    digest = hashlib.sha256(Path(report_file).read_bytes()).hexdigest()
    with guarded_write(ws, _narrow(scope, enterprise), "store a verification run 保存核查记录") as s:
        return store_run(s, res, rules, actor=scope.actor, report_sha256=digest)


def _kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise ServiceError(f"kind: 须为 {' 或 '.join(KINDS)} / must be one of {', '.join(KINDS)}, got {kind!r}")


@use_case("read")
def list_runs(ws: Workspace, scope: Scope, enterprise: str | None = None, kind: str | None = None) -> list[RunRecord]:
    """Stored runs in the read scope (of one enterprise and kind when given), by enterprise, series and number."""
    _kind(kind)
    if enterprise is not None:
        scope.check_read(enterprise, _RUN, enterprise)
    with ws.session() as s:
        return query_runs(s, enterprise=enterprise, kind=kind, restrict=scope.where)


@use_case("read")
def list_findings(ws: Workspace, scope: Scope, enterprise: str | None = None, status: str | None = None,
                  kind: str | None = None, *, history: bool = False) -> list[dict[str, Any]]:
    """Tracked findings in the read scope, filtered by enterprise, status (open, acknowledged, closed, fixed,
    reopened) and kind (review, verify); with ``history`` each carries its events (who, when, evidence)."""
    _kind(kind)
    if enterprise is not None:
        scope.check_read(enterprise, _FINDING, enterprise)
    with ws.session() as s:
        rows = query_findings(s, enterprise=enterprise, status=status, kind=kind, restrict=scope.where)
        out = [finding_dict(f) for f in rows]
        if history:
            for d in out:
                d["events"] = [event_dict(e) for e in finding_events(s, d["id"])]
    return out


def _finding_id(finding_id: int | str) -> int:
    try:
        return int(str(finding_id).removeprefix("F"))
    except ValueError:
        raise ServiceError(f"finding id: 须为整数 / must be a whole number, got {finding_id!r}") from None


@use_case("write")
def acknowledge_finding(ws: Workspace, scope: Scope, finding_id: int | str, note: str = "") -> dict[str, Any]:
    """Acknowledge a finding (确认发现): open or reopened → acknowledged — the enterprise or a reviewer of it.

    Raises
    ------
    NotInScope
        No such finding, or one of an enterprise outside the read scope (the same message).
    AccessDenied
        The caller neither writes the enterprise nor reviews it (the regulator, another enterprise).
    carbonmet.review.runs.FindingStateError
        The finding is not open or reopened.
    """
    fid = _finding_id(finding_id)
    with ws.session() as s:
        f = get_finding(s, fid)
        ent = f.enterprise if f is not None else None
    if ent is None or not scope.can_read(ent):
        raise NotInScope(_FINDING, str(finding_id))
    if not (scope.can_write(ent) or is_reviewer(scope, ent)):
        raise AccessDenied(ent, "acknowledge a finding 确认发现")
    with guarded_write(ws, _narrow(scope, ent), "acknowledge a finding 确认发现") as s:
        f = get_finding(s, fid)
        assert f is not None
        return finding_dict(acknowledge(s, f, actor=scope.actor, note=note))


@use_case("write")
def close_finding(ws: Workspace, scope: Scope, finding_id: int | str, evidence: str,
                  reference: str | None = None) -> dict[str, Any]:
    """Close a finding with evidence (关闭发现): what was done (text) and an optional reference — a new certificate
    number, the replacing instrument's code, the corrected record's id. A reviewer of the enterprise only; the next
    run of the series marks it fixed, or reopened when the problem is still found.

    Raises
    ------
    NotInScope
        No such finding, or one of an enterprise outside the read scope.
    AccessDenied
        The caller is not a reviewer of the enterprise (the enterprise itself acknowledges; it does not close).
    carbonmet.review.runs.FindingStateError
        The finding is closed or fixed already, or ``evidence`` is empty.
    """
    fid = _finding_id(finding_id)
    with ws.session() as s:
        f = get_finding(s, fid)
        ent = f.enterprise if f is not None else None
    if ent is None or not scope.can_read(ent):
        raise NotInScope(_FINDING, str(finding_id))
    if not is_reviewer(scope, ent):
        raise AccessDenied(ent, "close a finding 关闭发现 — 仅中心或受指派的核查机构 / only the centre or the "
                                "enterprise's assigned verifier")
    with guarded_write(ws, _narrow(scope, ent), "close a finding 关闭发现") as s:
        f = get_finding(s, fid)
        assert f is not None
        return finding_dict(close(s, f, actor=scope.actor, evidence=evidence, reference=reference))


@use_case("read")
def run_diff(ws: Workspace, scope: Scope, enterprise: str, kind: str = "review", *,
                    run_id: int | None = None, year: int | None = None) -> RunDiff:
    """A run against the series before it: new, persisting, reopened and fixed findings — the given run, else the
    newest run of ``enterprise`` and ``kind`` (a verification: of ``year`` when given).

    Raises
    ------
    NotInScope
        ``enterprise`` (or the run) is outside the read scope, or there is no such run.
    """
    _kind(kind)
    scope.check_read(enterprise, _RUN, enterprise)
    with ws.session() as s:
        run = get_run(s, run_id) if run_id is not None else latest_run(s, enterprise, kind, year)
        if run is None or run.enterprise != enterprise or run.kind != kind:
            what = f"run {run_id}" if run_id is not None else f"{enterprise} {kind}" + (f" {year}" if year else "")
            raise NotInScope(_RUN, what)
        return diff_of_run(s, run)


@use_case("read")
def verified_account(ws: Workspace, scope: Scope, enterprise: str, year: int) -> VerifiedAccount:
    """The verified account (核查后排放量) of ``enterprise`` for ``year`` from its newest stored verification run:
    per stream reported, verified, difference, U and materiality, and the total — what a comparison can use instead
    of the self-reported account.

    Raises
    ------
    NotInScope
        ``enterprise`` is outside the read scope, or it has no stored verification of ``year``.
    """
    scope.check_read(enterprise, _RUN, enterprise)
    with ws.session() as s:
        acc = verified_account_of(s, enterprise, year)
    if acc is None:
        raise NotInScope("verified account 核查后排放量", f"{enterprise} {year}")
    return acc
