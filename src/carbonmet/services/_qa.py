"""CEMS QA use cases over paired-run files (比对监测文件): RATA, bias test and the faulty-component diagnosis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from carbonmet.cems.qa import QAError, bias_test, default_rule_set, diagnose_stack, rata, read_rata_file

from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

#: Rule set of the bias test when the one asked (or the parameter's default) has no bias criterion for the
#: parameter: Part 75's t-test on d̄ with the bias-adjustment factor (40 CFR 75 App. A §7.6, [M]).
BIAS_FALLBACK = "part75"


def _bias(runs: Any, rule_set: str | None) -> dict[str, Any]:
    rs = rule_set or default_rule_set(runs.parameter)
    try:
        return {"result": bias_test(runs, rs).to_dict(), "rule_set": rs, "note": "", "error": ""}
    except QAError as exc:
        if exc.field != "rule_set" or rs == BIAS_FALLBACK:
            return {"result": None, "rule_set": rs, "note": "", "error": str(exc)}
        note = (f"规则集 {rs} 无 {runs.parameter} 偏差检验判据, 改用 {BIAS_FALLBACK} / rule set {rs} has no bias "
                f"criterion for {runs.parameter}; the {BIAS_FALLBACK} t-test is used")
        try:
            return {"result": bias_test(runs, BIAS_FALLBACK).to_dict(), "rule_set": BIAS_FALLBACK, "note": note,
                    "error": ""}
        except QAError as exc2:
            return {"result": None, "rule_set": BIAS_FALLBACK, "note": note, "error": str(exc2)}


@use_case("none")
def rata_files(ws: Workspace, scope: Scope, paths: Sequence[Path | str], *, rule_set: str | None = None,
               wet_flow: bool = False) -> list[dict[str, Any]]:
    """RATA, bias test and component diagnosis of each paired-run file (比对监测: 相对准确度、偏差、故障部件).

    Files only: nothing is read from or written to the workspace, so no organisation's data are touched.

    Parameters
    ----------
    ws : Workspace
    scope : Scope
    paths : sequence of Path or str
        Paired-run files (CSV/XLSX, docs/formats/rata.md).
    rule_set : str, optional
        Rule set for every test (``ec_co2``, ``part75``, ``hj75_2017``); default: each parameter's
        (``qa_parameters.csv``). A bias test whose rule set has no bias criterion for the parameter (``ec_co2``
        for flow and moisture) uses ``part75`` (:data:`BIAS_FALLBACK`) and says so in ``note``.
    wet_flow : bool
        True when the flow monitor reports wet flow and the mass is reported dry: the moisture runs then
        enter the CO2 mass and the diagnosis. False (default): the flow is dry (标干), moisture is tested on its
        own and left out of the mass.

    Returns
    -------
    list of dict
        Per file, in the order given: ``file``, ``sha256``, ``stack``, ``rows``; ``parameters``: per
        parameter ``{"rata": RataResult dict or None, "rata_error", "bias": {"result", "rule_set", "note",
        "error"}}``; ``diagnosis``: :class:`StackDiagnosis` dict when the file has CO2 and flow runs (else None,
        with ``diagnosis_error``).

    Raises
    ------
    RataFileError
        A file that cannot be read, naming file, row and field.
    """
    out: list[dict[str, Any]] = []
    for path in paths:
        f = read_rata_file(path)
        pars: dict[str, Any] = {}
        for s in f.series:
            try:
                r: dict[str, Any] | None = rata(s, rule_set).to_dict()
                err = ""
            except QAError as exc:
                r, err = None, str(exc)
            pars[s.parameter] = {"rata": r, "rata_error": err, "bias": _bias(s, rule_set)}
        have = {s.parameter for s in f.series}
        diag: dict[str, Any] | None = None
        derr = ""
        if {"co2", "flow"} <= have:
            rs = {p: rule_set for p in (*have, "co2_mass")} if rule_set else None
            moist = f.get("moisture") if wet_flow and "moisture" in have else None
            try:
                diag = diagnose_stack(f.get("co2"), f.get("flow"), moist, rs).to_dict()
            except QAError as exc:
                derr = str(exc)
        else:
            derr = "文件须含 co2 与 flow 比对数据 / the diagnosis needs co2 and flow runs"
        out.append({"file": f.file, "sha256": f.sha256, "stack": f.stack, "rows": f.rows, "parameters": pars,
                    "diagnosis": diag, "diagnosis_error": derr})
    return out
