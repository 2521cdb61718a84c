"""Carbon-flow diagram (碳流图): a Sankey of reconciled flows as PNG bytes.

Nodes stand in columns (a node is one column right of the nodes feeding it); every flow is a band whose width
is proportional to its value: plant inputs enter from the left of their node, outputs leave to its right,
internal streams join two nodes. Each band is labelled ``name`` / ``value ± U`` (U = k·u).

Drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, without ``pyplot`` (no global figure state,
no GUI). Labels are Chinese when a CJK font is installed; otherwise the stream names are used, quietly.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._balance_errors import BalanceError
from ._reconcile import SankeyFlow

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["cjk_font", "sankey_png"]

_CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Sarasa Gothic SC", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
    "AR PL UMing CN", "AR PL UKai CN", "Droid Sans Fallback",
)
_IN_COLOUR, _OUT_COLOUR, _LINK_COLOUR, _NODE_COLOUR = "#6baed6", "#fd8d3c", "#9e9ac8", "#525252"


def cjk_font() -> str | None:
    """Name of an installed font family that has Chinese glyphs, or None.

    Matplotlib keeps its font list in a cache file written the first time it ran; a font installed since (for
    example by ``scripts/system-deps.sh``) is not in it. When no CJK family is known, the system font folders
    are scanned once and the files the cache lacks are added to matplotlib's font manager for this process.
    """
    from matplotlib import font_manager

    fm = font_manager.fontManager
    found = next((f for f in _CJK_FAMILIES if f in {x.name for x in fm.ttflist}), None)
    if found is None and not _SCANNED:
        _SCANNED.append(True)
        known = {x.fname for x in fm.ttflist}
        for path in sorted(font_manager.findSystemFonts()):
            if path not in known:
                with contextlib.suppress(Exception):  # a file matplotlib cannot read is skipped, as its scan does
                    fm.addfont(path)
        found = next((f for f in _CJK_FAMILIES if f in {x.name for x in fm.ttflist}), None)
    return found


_SCANNED: list[bool] = []


def _has_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"
               for ch in text)


def _check(flows: Sequence[SankeyFlow]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, f in enumerate(flows):
        if f.direction not in ("in", "out"):
            raise BalanceError(f"方向须为 in 或 out / flows: row {i} ({f.name!r}) direction {f.direction!r}")
        if not np.isfinite(f.value) or f.value < 0:
            raise BalanceError(f"流量须为非负有限数 / flows: row {i} ({f.name!r}) value {f.value!r}; draw a "
                               f"negative flow as the opposite direction")
        key = (f.name, f.direction)
        if key in seen:
            raise BalanceError(f"物流重复 / flows: row {i} repeats {f.name!r} {f.direction} (row {seen[key]})")
        seen[key] = i


def _band(ax: Axes, x0: float, y0: tuple[float, float], x1: float, y1: tuple[float, float],
          colour: str) -> None:
    """A band from the vertical segment y0 at x0 to y1 at x1 (cubic Bézier edges)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    xm = 0.5 * (x0 + x1)
    verts = [(x0, y0[1]), (xm, y0[1]), (xm, y1[1]), (x1, y1[1]), (x1, y1[0]), (xm, y1[0]), (xm, y0[0]),
             (x0, y0[0]), (x0, y0[1])]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
             Path.CURVE4, Path.CLOSEPOLY]
    ax.add_patch(PathPatch(Path(verts, codes), facecolor=colour, edgecolor="none", alpha=0.75))


def sankey_png(flows: Sequence[SankeyFlow], title: str, *, unit: str = "tC", coverage_factor: float = 2.0,
               node_labels_zh: Mapping[str, str] | None = None, title_en: str | None = None,
               dpi: int = 110) -> bytes:
    """Draw the carbon-flow diagram (碳流图) of reconciled flows and return it as PNG bytes.

    Parameters
    ----------
    flows : sequence of SankeyFlow
        Flow ends (e.g. :meth:`Reconciliation.flows`): a name only ``"in"`` is a plant input, only ``"out"`` a
        plant output, both an internal link between two nodes.
    title : str
        Title given by the caller (may be Chinese).
    unit : str
        Unit of the values, shown in the labels (e.g. ``"tC"``).
    coverage_factor : float
        k of the expanded uncertainty U = k·u shown in the labels.
    node_labels_zh : mapping, optional
        Chinese node labels, used when a CJK font is present.
    title_en : str, optional
        Title used instead of ``title`` when no CJK font is present and ``title`` needs one.
    dpi : int
        Resolution of the PNG [dots per inch].

    Returns
    -------
    bytes
        The PNG image.

    Raises
    ------
    BalanceError
        No flows, a direction other than ``in``/``out``, a negative or non-finite value, a repeated end.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    flows = list(flows)
    if not flows:
        raise BalanceError("没有可绘制的物流 / flows: nothing to draw")
    _check(flows)
    font = cjk_font()
    zh = font is not None
    nodes: list[str] = []
    for f in flows:
        if f.node not in nodes:
            nodes.append(f.node)
    ends: dict[str, dict[str, SankeyFlow]] = {}
    for f in flows:
        ends.setdefault(f.name, {})[f.direction] = f
    links = [(e["out"], e["in"]) for e in ends.values() if "in" in e and "out" in e]
    inputs = [e["in"] for e in ends.values() if "out" not in e]
    outputs = [e["out"] for e in ends.values() if "in" not in e]

    # columns: longest path from the nodes nobody feeds (a cycle stops growing after len(nodes) rounds)
    col = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):
        changed = False
        for src, dst in links:
            if col[dst.node] < col[src.node] + 1 and col[src.node] + 1 < len(nodes):
                col[dst.node] = col[src.node] + 1
                changed = True
        if not changed:
            break
    ncol = max(col.values()) + 1
    size = {n: max(sum(f.value for f in flows if f.node == n and f.direction == d) for d in ("in", "out"))
            for n in nodes}
    by_col = [[n for n in nodes if col[n] == c] for c in range(ncol)]
    tallest = max(sum(size[n] for n in c) for c in by_col) or 1.0
    gap = 0.06
    scale = 0.85 / tallest  # data units (0..1 tall) per flow unit
    ypos: dict[str, float] = {}  # bottom of each node bar
    for c in by_col:
        total = sum(size[n] for n in c) * scale + gap * (len(c) - 1)
        y = 0.5 - total / 2
        for n in c:
            ypos[n] = y
            y += size[n] * scale + gap
    step, stub = 4.2, 0.9  # column spacing; length of an input/output band and of a link's straight ends
    xpos = {n: 1.6 + step * col[n] for n in nodes}
    cursor = {(n, d): ypos[n] + size[n] * scale for n in nodes for d in ("in", "out")}  # fill top-down

    def slot(node: str, direction: str, value: float) -> tuple[float, float]:
        top = cursor[(node, direction)]
        cursor[(node, direction)] = top - value * scale
        return (top - value * scale, top)

    def label(f: SankeyFlow) -> str:
        name = f.label_zh if zh and f.label_zh else f.name
        return f"{name}\n{f.value:,.0f} ± {coverage_factor * f.u:,.0f} {unit}"

    fig = Figure(figsize=(3.0 + 3.4 * ncol, 5.8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.88))
    ax.set_axis_off()
    font_kw: dict[str, Any] = {} if font is None else {"fontfamily": font}
    bar = 0.12
    texts: list[tuple[float, float, str, str]] = []  # x, y, text, horizontal alignment
    # links first: they take the top slots on both sides, so their straight ends run above the stacked
    # inputs and outputs and only their curved middle crosses the gap between columns
    for src, dst in links:
        y0 = slot(src.node, "out", src.value)
        y1 = slot(dst.node, "in", dst.value)
        x0, x1 = xpos[src.node] + bar / 2, xpos[dst.node] - bar / 2
        _band(ax, x0, y0, x0 + stub, y0, _LINK_COLOUR)
        _band(ax, x0 + stub, y0, x1 - stub, y1, _LINK_COLOUR)
        _band(ax, x1 - stub, y1, x1, y1, _LINK_COLOUR)
        texts.append((0.5 * (x0 + x1), 0.5 * (y0[1] + y1[1]) + 0.03, label(src), "center"))
    for f in inputs:
        y1 = slot(f.node, "in", f.value)
        x1 = xpos[f.node] - bar / 2
        _band(ax, x1 - stub, y1, x1, y1, _IN_COLOUR)
        texts.append((x1 - stub - 0.03, 0.5 * (y1[0] + y1[1]), label(f), "right"))
    for f in outputs:
        y0 = slot(f.node, "out", f.value)
        x0 = xpos[f.node] + bar / 2
        _band(ax, x0, y0, x0 + stub, y0, _OUT_COLOUR)
        texts.append((x0 + stub + 0.03, 0.5 * (y0[0] + y0[1]), label(f), "left"))
    # labels anchored at the same x are pushed apart vertically so thin neighbouring flows stay readable
    min_gap = 0.07
    for key in {(x, ha) for x, _, _, ha in texts}:
        group = sorted((t for t in texts if (t[0], t[3]) == key), key=lambda t: -t[1])
        last = np.inf
        for x, y, text, ha in group:
            y = min(y, last - min_gap)
            last = y
            ax.text(x, y, text, ha=ha, va="center", fontsize=7, **font_kw)
    for n in nodes:
        h = size[n] * scale
        ax.add_patch(Rectangle((xpos[n] - bar / 2, ypos[n]), bar, h, facecolor=_NODE_COLOUR, edgecolor="none"))
        name = (node_labels_zh or {}).get(n, n) if zh else n
        ax.text(xpos[n], ypos[n] + h + 0.015, name, ha="center", va="bottom", fontsize=9, fontweight="bold",
                **font_kw)
    ax.set_xlim(-0.2, xpos[nodes[0]] + step * (ncol - 1) + 2.6)
    ax.set_ylim(-0.12, 1.05)
    shown = title if zh or title_en is None or not _has_cjk(title) else title_en
    fig.suptitle(shown, fontsize=11, **font_kw)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")  # no CJK font: fall back quietly
        fig.savefig(buf, format="png")
    return buf.getvalue()
