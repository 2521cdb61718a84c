"""Model files (TOML) for the uncertainty engine (测量模型文件).

Format (see docs/uncertainty.md)::

    [model]
    output = "E"
    expression = "AD * EF"
    unit = "t"                 # optional
    description = "…"          # optional

    [inputs.AD]
    distribution = "rectangular"
    value = 1000.0
    mpe = 5.0
    unit = "TJ"                # optional
    description = "…"          # optional

    [[correlations]]
    a = "AD"
    b = "EF"
    r = 0.2
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ._distributions import distribution_from_params
from ._errors import DistributionError, ExpressionError, ModelError, ModelFileError
from ._model import InputSet, Model

__all__ = ["load_model", "model_from_dict"]

_MODEL_KEYS = {"output", "expression", "unit", "description"}
_INPUT_META = {"distribution", "unit", "description"}


def _text(value: Any, where: str, tbl: str, key: str) -> str:
    """A text field (unit, description, distribution, a correlation's input names) as a string.

    Absent (``None``) is empty text; a number is taken as written (``unit = 1``); anything else, and an
    integer too long to write out (Python refuses more than 4300 digits), is a :class:`ModelFileError`
    naming the table and the field.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # an integer beyond Python's int-to-text digit limit
            raise ModelFileError(f"{where}: {tbl} field '{key}' must be text, got an integer too long to "
                                 "show") from None
    raise ModelFileError(f"{where}: {tbl} field '{key}' must be text, got {type(value).__name__}")


def load_model(path: str | Path) -> Model:
    """Read and check a TOML model file; every error names the file and the table/field."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{p}: cannot read model file ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{p}: not UTF-8 text ({exc})") from None
    except ValueError as exc:  # TOMLDecodeError, or an integer beyond Python's 4300-digit conversion limit
        raise ModelFileError(f"{p}: invalid TOML: {exc}") from None
    return model_from_dict(data, source=str(p))


def model_from_dict(data: dict[str, Any], source: str = "<model>") -> Model:
    """Build a model from the parsed TOML structure (same checks as :func:`load_model`)."""
    where = source
    model = data.get("model")
    if not isinstance(model, dict):
        raise ModelFileError(f"{where}: missing [model] table")
    extra = set(model) - _MODEL_KEYS
    if extra:
        raise ModelFileError(f"{where}: [model] has unknown field '{min(extra)}'")
    for key in ("output", "expression"):
        if key not in model:
            raise ModelFileError(f"{where}: [model] is missing field '{key}'")
        if not isinstance(model[key], str) or not model[key].strip():
            raise ModelFileError(f"{where}: [model] field '{key}' must be a non-empty string")
    inputs = data.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise ModelFileError(f"{where}: missing [inputs.NAME] tables")
    unknown_top = set(data) - {"model", "inputs", "correlations"}
    if unknown_top:
        raise ModelFileError(f"{where}: unknown top-level table '{min(unknown_top)}'")
    iset = InputSet()
    for name, spec in inputs.items():
        if not isinstance(name, str):  # TOML keys are text; a dict built in Python may hold anything
            raise ModelFileError(f"{where}: [inputs] an input name must be text, got {type(name).__name__}")
        tbl = f"[inputs.{name}]"
        if not isinstance(spec, dict):
            raise ModelFileError(f"{where}: {tbl} must be a table")
        if "distribution" not in spec:
            raise ModelFileError(f"{where}: {tbl} is missing field 'distribution'")
        params = {k: v for k, v in spec.items() if k not in _INPUT_META}
        kind = _text(spec["distribution"], where, tbl, "distribution")
        unit = _text(spec.get("unit"), where, tbl, "unit")
        description = _text(spec.get("description"), where, tbl, "description")
        try:
            dist = distribution_from_params(kind, params)
        except DistributionError as exc:
            raise ModelFileError(f"{where}: {tbl}: {exc}") from None
        try:
            iset.add(name, dist, unit, description)
        except ModelError as exc:
            raise ModelFileError(f"{where}: {tbl}: {exc}") from None
    corr = data.get("correlations", [])
    if not isinstance(corr, list):
        raise ModelFileError(f"{where}: 'correlations' must be an array of tables [[correlations]]")
    for n, c in enumerate(corr, start=1):
        tbl = f"[[correlations]] #{n}"
        if not isinstance(c, dict):
            raise ModelFileError(f"{where}: {tbl} must be a table")
        for key in ("a", "b", "r"):
            if key not in c:
                raise ModelFileError(f"{where}: {tbl} is missing field '{key}'")
        extra = set(c) - {"a", "b", "r"}
        if extra:
            raise ModelFileError(f"{where}: {tbl} has unknown field '{min(extra)}'")
        if not isinstance(c["r"], (int, float)) or isinstance(c["r"], bool):
            raise ModelFileError(f"{where}: {tbl} field 'r' must be a number")
        if not -1 <= c["r"] <= 1:  # compared before float(): an integer beyond the float range overflows
            raise ModelFileError(f"{where}: {tbl} field 'r' must be in [-1, 1]")
        a, b = _text(c["a"], where, tbl, "a"), _text(c["b"], where, tbl, "b")
        try:
            iset.correlate(a, b, float(c["r"]))
        except ModelError as exc:
            raise ModelFileError(f"{where}: {tbl}: {exc}") from None
    unit = _text(model.get("unit"), where, "[model]", "unit")
    description = _text(model.get("description"), where, "[model]", "description")
    try:
        m = Model.from_expression(
            model["expression"],
            iset,
            output=model["output"],
            unit=unit,
            description=description,
            check_units=None,
        )
    except ModelError as exc:
        raise ModelFileError(f"{where}: [model] units: {exc}") from None
    except ExpressionError as exc:
        tok = f" (token '{exc.token}')" if exc.token else ""
        raise ModelFileError(f"{where}: [model] expression: {exc}{tok}") from None
    m.source = source
    return m
