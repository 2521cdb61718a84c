"""Histogram of the Monte Carlo output with both coverage intervals marked (PNG).

Library code does not choose a matplotlib backend: the figure is drawn on a
:class:`matplotlib.figure.Figure` without ``pyplot`` (no global figure state, no GUI), and the
program that calls it (the ``carbonmet`` CLI) selects the backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._errors import UncertaintyError
from ._lpu import LpuResult
from ._mcm import McmResult

__all__ = ["plot_histogram"]


def plot_histogram(mcm: McmResult, path: str | Path, lpu: LpuResult | None = None, bins: int = 100) -> Path:
    """Write a PNG histogram of the MCM model values (needs ``keep_samples=True``).

    Marks the probabilistically symmetric and the shortest coverage intervals and, if given,
    the GUF interval y ± U with its Gaussian/t approximation as a curve.
    """
    from matplotlib.figure import Figure
    from scipy import stats

    if mcm.samples is None:
        raise UncertaintyError("the Monte Carlo result kept no samples (keep_samples=False)")
    y = mcm.samples
    fig = Figure(figsize=(7.0, 4.2), dpi=110)
    ax = fig.subplots()
    ax.hist(y, bins=bins, density=True, color="#9ecae1", edgecolor="none", label=f"MCM, M = {mcm.trials:,}")
    for x in mcm.interval:
        ax.axvline(x, color="#d62728", ls="--", lw=1.2)
    for x in mcm.shortest_interval:
        ax.axvline(x, color="#2ca02c", ls=":", lw=1.6)
    ax.plot([], [], color="#d62728", ls="--", label=f"symmetric {mcm.coverage:.0%} interval")
    ax.plot([], [], color="#2ca02c", ls=":", label=f"shortest {mcm.coverage:.0%} interval")
    if lpu is not None and lpu.u > 0:
        xs = np.linspace(y[0], y[-1], 400)
        if np.isfinite(lpu.dof):
            pdf = stats.t.pdf((xs - lpu.value) / lpu.u, lpu.dof) / lpu.u
        else:
            pdf = stats.norm.pdf(xs, lpu.value, lpu.u)
        ax.plot(xs, pdf, color="#333333", lw=1.2, label="GUF (LPU)")
        for x in lpu.interval:
            ax.axvline(x, color="#333333", ls="-.", lw=0.9)
        ax.plot([], [], color="#333333", ls="-.", lw=0.9, label=f"GUF interval y ± U (k = {lpu.k:.2f})")
    unit = f" [{mcm.unit}]" if mcm.unit else ""
    ax.set_xlabel(f"{mcm.output}{unit}")
    ax.set_ylabel("probability density")
    ax.set_title(f"{mcm.output}: Monte Carlo output (JCGM 101)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
