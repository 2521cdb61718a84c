"""Use cases over no organisation's data (evaluate a model, convert units) and for the centre only
(audit verify, sign and export the audit head)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from ._deps import (
    AuditKeyError,
    Evaluation,
    SignedHead,
    convert,
    evaluate,
    export_head,
    format_unit,
    load_key,
    load_model,
    load_signing_key,
    plot_histogram,
    reconcile,
    session_scope,
    sign_head,
    verify_audit,
    verify_signatures,
)
from ._errors import ServiceError
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@use_case("none")
def evaluate_model(ws: Workspace, scope: Scope, model_file: str | Path, method: Literal["lpu", "mcm", "both"] = "both",
                   *, plot: str | Path | None = None, **options: Any) -> Evaluation:
    """Evaluate a measurement-model file by GUM LPU and/or Monte Carlo (JCGM 100 / JCGM 101).

    The model is the caller's own file and reads no organisation's records, so every scope may
    evaluate one. ``options`` are those of :func:`carbonmet.uncertainty.evaluate` (``trials``,
    ``coverage``, ``seed``, ``adaptive``, ``ndig``, ``k``). With ``plot`` (and a Monte Carlo
    evaluation) a PNG histogram of the output values is written there
    (:func:`carbonmet.uncertainty.plot_histogram`).

    Raises
    ------
    carbonmet.uncertainty.UncertaintyError
        The model file is invalid, or ``plot`` is asked of an LPU-only evaluation.
    """
    ev = evaluate(load_model(Path(model_file)), method, **options)
    if plot is not None:
        if ev.mcm is None:
            raise ServiceError("--plot 需要蒙特卡洛 needs --method mcm or both")
        plot_histogram(ev.mcm, Path(plot), ev.lpu)
    return ev


@use_case("none")
def convert_units(ws: Workspace, scope: Scope, value: float, from_unit: str, to_unit: str) -> tuple[float, str]:
    """Convert one value between units of the platform's registry (单位换算), e.g. 万Nm³ → Nm³.

    Returns
    -------
    (float, str)
        The value in ``to_unit`` and that unit's canonical spelling.

    Raises
    ------
    carbonmet.quantities.UnitError
        An unknown unit, or units of different dimensions (tC and tCO2 are different dimensions).
    """
    return float(convert(value, from_unit, to_unit)), format_unit(to_unit)


@use_case("centre")
def verify_audit_log(ws: Workspace, scope: Scope, expected_head: str | None = None, *,
                     chain_only: bool = False, signed_head: str | Path | None = None) -> dict[str, Any]:
    """Verify the audit log's hash chain, its signed heads, and reconcile the tables with it (审计校验) —
    centre scope only.

    The signed heads are checked with the workspace's audit key (``Workspace.audit_key``, private or
    public) and, with ``signed_head``, against a head file exported earlier (``export_audit_head``),
    whose key is then the trusted one. Without either, signatures are not checked (``signatures.checked``
    is false) and do not change ``ok``.

    Returns
    -------
    dict
        The chain report (``ok``, ``entries``, ``head_hash``, ``first_bad_seq``, ``reason``) with
        ``chain_ok``, ``signatures`` (:class:`carbonmet.db.SignatureReport`: ``ok``, ``checked``,
        ``last_signed_seq``, ``unsigned_after``, ``problems``) and, unless ``chain_only``, ``reconcile``
        (the discrepancies found). ``ok`` holds only when all of them do.

    Raises
    ------
    ServiceError
        The audit key or the signed-head file cannot be read.
    """
    scope.check_centre("verify the audit log 审计校验")
    try:
        key = load_key(ws.audit_key) if ws.audit_key is not None else None
        head = SignedHead.read(signed_head) if signed_head is not None else None
    except AuditKeyError as exc:
        raise ServiceError(str(exc)) from None
    engine = ws.engine
    if engine.dialect.name == "postgresql":  # one snapshot for the log and the tables while others write
        engine = engine.execution_options(isolation_level="REPEATABLE READ")

    with session_scope(engine) as s:
        rep = verify_audit(s, expected_head=expected_head)
        sig = verify_signatures(s, key, signed_head=head)
        rec = None if chain_only else reconcile(s)
    doc = rep.to_dict()
    doc.update(ok=rep.ok and sig.ok and (rec is None or rec.ok), chain_ok=rep.ok, signatures=sig.to_dict())
    if rec is not None:
        doc["reconcile"] = rec.to_dict()
    return doc


def _signing_key(ws: Workspace) -> Any:
    if ws.audit_key is None:
        raise ServiceError("未配置审计密钥 no audit key: set CARBONMET_AUDIT_KEY (carbonmet audit keygen creates one)")
    try:
        return load_signing_key(ws.audit_key)
    except AuditKeyError as exc:
        raise ServiceError(str(exc)) from None


@use_case("centre")
def sign_audit_head(ws: Workspace, scope: Scope) -> dict[str, Any]:
    """Sign the audit chain's current head with the operator's key (签署链头) — centre scope only.

    Writes through the services sign their head themselves once ``Workspace.audit_key`` is set; this is
    for a log written before (verify it first: the signature vouches for every entry up to the head).

    Returns
    -------
    dict
        ``seq``, ``head_hash``, ``signed_at``, ``key_id`` of the signed head (``seq`` 0: the log is empty).
    """
    scope.check_centre("sign the audit head 签署审计链头")
    key = _signing_key(ws)
    with ws.session() as s:
        sig = sign_head(s, key)
    if sig is None:
        return {"seq": 0, "head_hash": None, "signed_at": None, "key_id": None}
    return {"seq": sig.seq, "head_hash": sig.head_hash, "signed_at": sig.signed_at, "key_id": sig.key_id}


@use_case("centre")
def export_audit_head(ws: Workspace, scope: Scope, out: str | Path) -> dict[str, Any]:
    """Write the last signed head to ``out`` (JSON, a few hundred bytes) for a regulator to keep (导出签名链头).

    Verifying later with ``verify_audit_log(..., signed_head=out)`` finds appended, removed and rewritten
    entries up to and after this head. Centre scope only; needs the workspace's audit key.

    Returns
    -------
    dict
        The file's content (``format``, ``seq``, ``head_hash``, ``signed_at``, ``key_id``, ``public_key``,
        ``signature``).

    Raises
    ------
    ServiceError
        No key, no signed head, or entries after the last signed head (verify and sign first).
    """
    scope.check_centre("export the audit head 导出审计链头")
    if ws.audit_key is None:
        raise ServiceError("未配置审计密钥 no audit key: set CARBONMET_AUDIT_KEY (carbonmet audit keygen creates one)")
    try:
        key = load_key(ws.audit_key)
        with ws.session() as s:
            doc = export_head(s, key).to_dict()
    except AuditKeyError as exc:
        raise ServiceError(str(exc)) from None
    path = Path(out)
    try:
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ServiceError(f"无法写入 cannot write {path}: {exc.strerror or exc}") from None
    return doc
