"""Errors of the uncertainty package (不确定度评定错误)."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class UncertaintyError(CarbonmetError, ValueError):
    """Base class of every error the uncertainty engine raises on purpose."""


class DistributionError(UncertaintyError):
    """A probability distribution was given impossible or missing parameters."""


class ExpressionError(UncertaintyError):
    """A model expression could not be tokenised or parsed, or names an unknown input.

    Attributes
    ----------
    position : int or None
        0-based character offset of the offending token in the expression, when known.
    token : str
        The offending token text ('' when not applicable).
    """

    def __init__(self, message: str, position: int | None = None, token: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.token = token


class ModelError(UncertaintyError):
    """A measurement model is inconsistent with its inputs (names, correlations, shapes)."""


class EvaluationError(UncertaintyError):
    """Evaluating the model gave non-finite values (NaN/inf) for some trials or at the estimates."""


class ModelFileError(UncertaintyError):
    """A TOML model file is unreadable or has a bad table/field; the message names file and field."""
