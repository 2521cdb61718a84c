"""Use cases over no organisation's data (evaluate a model) and for the centre only (audit verify)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ._deps import Evaluation, evaluate, load_model, reconcile, session_scope, verify_audit
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@use_case("none")
def evaluate_model(ws: Workspace, scope: Scope, model_file: str | Path, method: Literal["lpu", "mcm", "both"] = "both",
                   **options: Any) -> Evaluation:
    """Evaluate a measurement-model file by GUM LPU and/or Monte Carlo (JCGM 100 / JCGM 101).

    The model is the caller's own file and reads no organisation's records, so every scope may
    evaluate one. ``options`` are those of :func:`carbonmet.uncertainty.evaluate` (``trials``,
    ``coverage``, ``seed``, ``adaptive``, ``ndig``, ``k``).
    """
    return evaluate(load_model(Path(model_file)), method, **options)


@use_case("centre")
def verify_audit_log(ws: Workspace, scope: Scope, expected_head: str | None = None, *,
                     chain_only: bool = False) -> dict[str, Any]:
    """Verify the audit log's hash chain and reconcile the tables with it (审计校验) — centre scope only.

    Returns
    -------
    dict
        The chain report (``ok``, ``entries``, ``head_hash``, ``first_bad_seq``, ``reason``) with
        ``chain_ok`` and, unless ``chain_only``, ``reconcile`` (the discrepancies found).
    """
    scope.check_centre("verify the audit log 审计校验")
    engine = ws.engine
    if engine.dialect.name == "postgresql":  # one snapshot for the log and the tables while others write
        engine = engine.execution_options(isolation_level="REPEATABLE READ")

    with session_scope(engine) as s:
        rep = verify_audit(s, expected_head=expected_head)
        rec = None if chain_only else reconcile(s)
    doc = rep.to_dict()
    doc.update(ok=rep.ok and (rec is None or rec.ok), chain_ok=rep.ok)
    if rec is not None:
        doc["reconcile"] = rec.to_dict()
    return doc
