"""The accounting report of one enterprise-year (碳排放核算报告): totals with U and k, streams, activity data,
the uncertainty budget's largest terms with a chart, data sources, factors, flags and provenance — as HTML (and
from it PDF, :func:`render_pdf`) and as the account's workbook with the report's stamp."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from carbonmet.accounting import Account, write_xlsx
from carbonmet.cems.balance import cjk_font

from ._html import _b64, _env
from ._pdf import Stamp, code_version, data_digest

ACCOUNT_TITLE_ZH = "碳排放核算报告"
ACCOUNT_TITLE_EN = "Emission account report"


def account_stamp(acc: Account, *, name: str = "", generated_for: date | None = None,
                  code: str | None = None) -> Stamp:
    """The stamp of ``acc``'s report: data version = digest of ``acc.to_dict()`` (which holds the inputs, the
    factor data's version and every figure), profile = the accounting profile and its version with the factor
    data's version, code = :func:`code_version` unless given, date = 31 December of the year unless given."""
    d = acc.to_dict()
    prov = d.get("provenance") or {}
    prof = prov.get("profile") or {}
    profile = f"{prof.get('name', acc.profile)}@{prof.get('version', '?')}"
    if prov.get("factors_data"):
        profile += f" · factors {prov['factors_data']}"
    return Stamp(title=f"{ACCOUNT_TITLE_ZH} {ACCOUNT_TITLE_EN}", subject=f"{acc.enterprise} {name} {acc.year}".replace("  ", " "),
                 data_version=data_digest(d), profile_version=profile, code_version=code or code_version(),
                 generated_for=generated_for or date(acc.year, 12, 31))


def budget_chart_png(budget: Sequence[Mapping[str, Any]], *, top: int = 10, dpi: int = 110) -> bytes | None:
    """Horizontal bars of the ``top`` largest terms' share of the variance of the total [%], largest on top;
    labels in Chinese when a CJK font is installed (:func:`carbonmet.cems.balance.cjk_font`). None when the
    budget is empty."""
    rows = [b for b in budget if b.get("variance_share") is not None][:top]
    if not rows:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font()
    kw: dict[str, Any] = {"fontfamily": font} if font else {}
    fig = Figure(figsize=(8.0, 0.32 * len(rows) + 1.2), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = list(range(len(rows)))[::-1]
    ax.barh(y, [100 * float(b["variance_share"]) for b in rows], color="#2171b5")
    ax.set_yticks(y, [str(b["term"]) for b in rows], fontsize=7, **kw)
    ax.set_xlabel("方差占比 / share of the variance of the total [%]" if font else "share of the variance of the "
                  "total [%]", **kw)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _activity(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for s in d["streams"]:
        a = s["activity"]
        items = a.get("items") or {s["name"]: a}
        for name, it in items.items():
            out.append({"stream": s["name"], "item": name, "amount": it.get("amount", it.get("value")),
                        "unit": it.get("unit"), "U_rel_pct": it.get("U_rel_pct"), "point": it.get("point"),
                        "instruments": list(it.get("instruments") or [])})
    return out


def render_account_html(acc: Account, *, stamp: Stamp, name: str = "", top: int = 10) -> str:
    """The accounting report of ``acc`` as one self-contained HTML page (zh-CN first, English second).

    Sections: total (value, u, U = k·u, k, U_rel, 95 % interval; direct and indirect; the Monte Carlo run),
    source streams, activity data, monthly emissions, the ``top`` largest uncertainty-budget terms with a bar
    chart and what would cut U most, data sources, factors, flags, provenance, then the stamp.

    Parameters
    ----------
    acc : Account
    stamp : Stamp
        From :func:`account_stamp`.
    name : str
        The enterprise's name (from the registry).
    top : int
        How many budget terms to list.
    """
    d = acc.to_dict()
    chart = budget_chart_png(d["budget"], top=top)
    ctx = {
        "title_zh": ACCOUNT_TITLE_ZH, "title_en": ACCOUNT_TITLE_EN, "stamp": stamp, "name": name, "a": d,
        "t": d["total"], "activity": _activity(d), "periods": d["periods"], "budget": d["budget"][:top],
        "n_budget": len(d["budget"]), "chart": _b64(chart), "improve": d["improve"][:5],
        "sources": [{"stream": s["name"], "parameter": p, "source": x.get("source"), "priority": x.get("priority"),
                     "ref": x.get("ref") or x.get("point") or x.get("instrument"), "reason": x.get("reason")}
                    for s in d["streams"] for p, x in sorted(s["data_source"].items())],
        "factors": [{"stream": s["name"], "parameter": k, "value": v} for s in d["streams"]
                    for k, v in sorted(s["factor"].items())],
        "provenance": _flat(d["provenance"]),
    }
    return str(_env().get_template("account.html.j2").render(**ctx))


def _flat(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in sorted(d.items()):
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out += _flat(v, key + ".")
        else:
            out.append((key, str(v)))
    return out


def write_account_xlsx(acc: Account, path: str | Path, *, stamp: Stamp) -> Path:
    """The account's workbook (:func:`carbonmet.accounting.write_xlsx`) with the report's stamp as its last sheet
    (报告标识 stamp); the same account and stamp give the same bytes."""
    return write_xlsx(acc, path, stamp=stamp.to_dict())

