"""Use cases over no organisation's data (evaluate a model, convert units) and for the centre only
(audit verify)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ._deps import (
    Evaluation,
    convert,
    evaluate,
    format_unit,
    load_model,
    plot_histogram,
    reconcile,
    session_scope,
    verify_audit,
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
