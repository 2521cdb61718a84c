"""Monthly CEMS against accounting with 95 % error bars (月度比对图), as PNG bytes.

Drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, without ``pyplot`` (no global state, no GUI).
Labels are Chinese when a CJK font is installed (:func:`carbonmet.cems.balance.cjk_font`), English otherwise.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from carbonmet.cems.balance import cjk_font

from ._errors import ReportError

_CEMS, _ACC, _REC, _BAD = "#2171b5", "#d94801", "#252525", "#cb181d"

_LABELS = {
    "zh": {"cems": "CEMS 监测", "acc": "核算", "rec": "碳平衡协调值", "y1": "排放量 / kt CO2", "y2": "相对偏差 D/E核算 / %",
           "title": "{e} {y}: 月度 CEMS 与核算 (误差棒 U = {k:g}·u, 约 95 %)", "bad": "|E_n| > 1 的月份",
           "step": "校准后突变 {i}"},
    "en": {"cems": "CEMS", "acc": "accounting", "rec": "reconciled balance", "y1": "emissions / kt CO2",
           "y2": "relative deviation D/E_acc / %", "title": "{e} {y}: monthly CEMS vs accounting (error bars U = {k:g}·u, "
           "about 95 %)", "bad": "months with |E_n| > 1", "step": "step at recalibration {i}"},
}


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def pilot_chart_png(comparison: Mapping[str, Any], three_way: Mapping[str, Any] | None = None, *,
                    dpi: int = 110) -> bytes:
    """The monthly comparison chart of one enterprise.

    Top panel: CEMS and accounting emissions per month [kt CO2] with error bars ``U = k·u`` (k from the
    comparison, 2 → about 95 %), and the reconciled emissions of the carbon balance when ``three_way`` is given.
    Bottom panel: the relative deviation ``D/E_acc`` [%] with ``U(D)/E_acc``, months with ``|E_n| > 1`` marked, and
    a dashed line at every recalibration whose step test is significant.

    Parameters
    ----------
    comparison : mapping
        ``carbonmet.cems.Comparison.to_dict()``.
    three_way : mapping, optional
        ``BalanceResult.three_way()`` (``periods`` with ``reconciled``, ``u_reconciled`` [tCO2]).
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    bytes
        The PNG.

    Raises
    ------
    ReportError
        A comparison without monthly rows.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(comparison.get("periods") or [])[:-1]
    if not rows:
        raise ReportError(f"{comparison.get('enterprise', '?')}: comparison.periods has no monthly rows / 没有月度数据")
    font = cjk_font()
    lab = _LABELS["zh" if font else "en"]
    font_kw: dict[str, Any] = {"fontfamily": font} if font else {}
    k = float(comparison.get("k", 2.0))
    months = [r["period"] for r in rows]
    x = np.arange(len(rows), dtype=float)
    cems = np.array([_f(r["cems"]) for r in rows]) / 1e3
    acc = np.array([_f(r["accounting"]) for r in rows]) / 1e3
    u_c = np.array([_f(r["u_cems"]) for r in rows]) / 1e3
    u_a = np.array([_f(r["u_accounting"]) for r in rows]) / 1e3
    rel = np.array([_f(r["relative_deviation_pct"]) for r in rows])
    u_rel = 100 * np.array([_f(r["u_difference"]) for r in rows]) / np.where(acc != 0, acc * 1e3, np.nan)
    bad = np.array([not r.get("consistent", True) for r in rows])

    fig = Figure(figsize=(9.0, 6.4), dpi=dpi)
    FigureCanvasAgg(fig)
    ax, bx = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    ax.errorbar(x - 0.12, cems, yerr=k * u_c, fmt="o", color=_CEMS, capsize=3, label=lab["cems"])
    ax.errorbar(x + 0.12, acc, yerr=k * u_a, fmt="s", color=_ACC, capsize=3, label=lab["acc"])
    if three_way:
        by = {r["period"]: r for r in three_way.get("periods", [])}
        rec = np.array([_f(by.get(m, {}).get("reconciled")) for m in months]) / 1e3
        u_r = np.array([_f(by.get(m, {}).get("u_reconciled")) for m in months]) / 1e3
        if np.isfinite(rec).any():
            ax.errorbar(x, rec, yerr=k * u_r, fmt="D", color=_REC, markersize=4, capsize=2, label=lab["rec"])
    ax.set_ylabel(lab["y1"], **font_kw)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", prop={"family": font} if font else None)
    bx.axhline(0.0, color="#737373", linewidth=0.8)
    bx.errorbar(x, rel, yerr=k * u_rel, fmt="o", color="#6a51a3", capsize=3)
    if bad.any():
        bx.plot(x[bad], rel[bad], "o", markersize=9, markerfacecolor="none", markeredgecolor=_BAD, label=lab["bad"])
    stepped: dict[int, list[str]] = {}
    for s in comparison.get("steps") or []:
        if s.get("significant") and str(s.get("date", ""))[:7] in months:
            stepped.setdefault(months.index(str(s["date"])[:7]), []).append(str(s["instrument"]))
    for j, insts in sorted(stepped.items()):
        bx.axvline(j, color=_BAD, linestyle="--", linewidth=0.9)
        bx.text(j - 0.05, 0.98, lab["step"].format(i=", ".join(insts)), rotation=90, va="top", ha="right",
                fontsize=6, color=_BAD, transform=bx.get_xaxis_transform(), **font_kw)
    bx.set_ylabel(lab["y2"], **font_kw)
    bx.grid(alpha=0.3)
    if bad.any():
        bx.legend(fontsize=8, loc="best", prop={"family": font} if font else None)
    bx.set_xticks(x, [m[-2:] if len(m) == 7 else m for m in months])
    bx.set_xlabel(str(comparison.get("year", "")), **font_kw)
    fig.suptitle(lab["title"].format(e=comparison.get("enterprise", ""), y=comparison.get("year", ""), k=k),
                 fontsize=11, **font_kw)
    fig.tight_layout()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
