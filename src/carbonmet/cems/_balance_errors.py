"""Errors of the carbon-balance reconciliation (碳平衡数据协调错误)."""

from __future__ import annotations

from carbonmet.quantities import CarbonmetError


class BalanceError(CarbonmetError, ValueError):
    """A balance network, its measurements or their covariance are inconsistent.

    The message names the argument (``network``, ``x``, ``cov``, ``flows``), the stream, node or period and
    the index concerned, in Chinese first and English second.
    """
