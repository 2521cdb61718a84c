"""The comparison pilot use case (碳监测与碳核算比对验证试点): for ≥ 3 enterprises of one year, the comparison of
CEMS with the account, the reconciled carbon balance and the report (XLSX, HTML, one PNG per chart)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from carbonmet.cems import (
    CemsError,
    compare_verified,
    plant_balance,
    reconcile_plant,
    stream_hours,
    systematic_bias_test,
)
from carbonmet.reports import (
    MIN_ENTERPRISES,
    PilotData,
    PilotEnterprise,
    ReportError,
    pilot_chart_png,
    pilot_findings,
    pilot_stamp,
    render_pdf,
    render_pilot_html,
    write_pilot_xlsx,
)
from carbonmet.review.runs import verified_account_of
from carbonmet.sites import load_plan

from ._cems import BalanceResult, _stock_ledgers, compare_enterprise
from ._errors import ServiceError
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_PILOT = "比对试点企业 pilot enterprise"


def _codes(enterprises: Sequence[str]) -> list[str]:
    codes = [e.strip() for e in enterprises if e and e.strip()]
    if len(codes) < MIN_ENTERPRISES:
        raise ServiceError(f"比对试点至少需要 {MIN_ENTERPRISES} 家企业, 给出 {len(codes)} 家 ({', '.join(codes) or '—'}) / "
                           f"a comparison pilot needs at least {MIN_ENTERPRISES} enterprises, got {len(codes)}")
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise ServiceError(f"企业重复 / enterprises given more than once: {', '.join(dup)}")
    return codes


def _qa_from_files(ws: Workspace, scope: Scope, paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """The pilot's QA items from paired-run files (:func:`rata_files`): per file and parameter its RATA and bias
    test, and the stack's diagnosis — which component the reference-method comparison points at."""
    from ._qa import rata_files

    out: list[dict[str, Any]] = []
    for f in rata_files(ws, scope, list(paths)):
        stack = f.get("stack") or ""
        ent = stack.split(".")[0]
        for par, r in f["parameters"].items():
            bias = (r.get("bias") or {}).get("result")
            out.append({"enterprise": ent, "file": Path(f["file"]).name, "point": f"{stack}.{par}",
                        "rata": r.get("rata"), "bias": bias})
        d = f.get("diagnosis")
        if d is not None:
            comp: dict[str, Any] = next((c for c in d.get("components", []) if c.get("parameter") == d.get("suspect")),
                                        {})
            out.append({"enterprise": ent, "file": Path(f["file"]).name, "point": stack, "test": "diagnosis",
                        "parameter": d.get("suspect") or "", "value": comp.get("relative_bias_pct"), "unit": "%",
                        "passed": not d.get("suspect"), "rule_set": "", "clause": d.get("verdict", ""),
                        "evidence": ""})
    return out


@use_case("read")
def pilot_comparison(ws: Workspace, scope: Scope, enterprises: Sequence[str], year: int, out_dir: str | Path, *,
                     rule_set: str = "hjt75_2007", rata_files: Sequence[str | Path] | None = None,
                     qa: Sequence[dict[str, Any]] | None = None, pdf: bool = True) -> dict[str, Any]:
    """Run the comparison pilot for ``enterprises`` in ``year`` and write its report into ``out_dir``.

    For each enterprise: CEMS against the account (:func:`compare_enterprise`), the plant's carbon balance
    reconciled with its systematic-bias test (as :func:`balance_enterprise`, from the same comparison) and the
    carbon-flow diagram; then ``pilot-<year>.xlsx``, ``pilot-<year>.html``, ``pilot-<year>.pdf`` (all three
    stamped with the data, profile and code versions: :func:`carbonmet.reports.pilot_stamp`) and the charts
    ``pilot-<year>-<enterprise>-monthly.png`` and ``pilot-<year>-<enterprise>-carbon-flow.png``
    (:mod:`carbonmet.reports`).

    Parameters
    ----------
    enterprises : sequence of str
        At least :data:`carbonmet.reports.MIN_ENTERPRISES` organisation codes, each readable in ``scope``.
    year : int
    out_dir : path
        Created if missing; files of the same names are replaced.
    rule_set : str
        CEMS missing-data substitution rule set.
    rata_files : sequence of path, optional
        Paired-run files evaluated by the QA use case ``rata_files`` where this build has it.
    qa : sequence of dict, optional
        QA results already computed (``RataResult.to_dict()`` or ``{"rata": …, "bias": …}``, with
        ``enterprise`` where known), shown in the QA sheet and section.

    Returns
    -------
    dict
        ``year``, ``rule_set``, ``xlsx``, ``html``, ``pdf`` (None when not written), ``charts`` (paths as text),
        ``stamp`` and per enterprise its
        ``verdict``, ``consistent``, ``flagged``, ``En``, ``relative_deviation_pct``, ``suspects``,
        ``balance_passed``, the number of flagged findings and ``verified``: CEMS against the verified account
        (:func:`carbonmet.cems.compare_verified`) when a verification run of the year is stored, else None.

    Raises
    ------
    ServiceError
        Fewer than the minimum of enterprises, one repeated, an unknown rule set, or no CEMS leg.
    NotInScope
        An enterprise outside the read scope (checked for all before anything is computed).
    """
    codes = _codes(enterprises)
    for e in codes:
        scope.check_read(e, _PILOT, e)
    qa_list = [dict(x) for x in qa or []]
    if rata_files:
        qa_list += _qa_from_files(ws, scope, rata_files)
    ents = []
    for e in codes:
        cmp = compare_enterprise(ws, scope, e, year, rule_set=rule_set)
        assert cmp.legs is not None
        cems, acc = cmp.legs
        with ws.session() as s:
            plan = load_plan(s, e)
            va = verified_account_of(s, e, year)
        cmp_d = cmp.to_dict()
        verified: dict[str, Any] | None = None
        if va is not None:
            boundary = cmp_d["boundary"]["accounting_streams"]
            platform = {}
            for st in acc.streams:
                if st.name in boundary:
                    val, u = acc.figures([st])
                    platform[st.name] = (float(val[-1]), float(u[-1]))
            verified = {"run_key": va.run_key, "verified_by": va.verified_by, "verified_at": va.verified_at,
                        **compare_verified(cmp_d["periods"][-1], [v.to_dict() for v in va.streams], boundary,
                                           platform)}
        sources = {"监测计划 monitoring plan": str(cems.provenance.get("inputs", {}).get("plan", "—")),
                   "核算方法 accounting profile": str(acc.profile), "评定 evaluation": str(acc.method),
                   "替代规则集 rule set": rule_set}
        balance: dict[str, Any] | None = None
        flow_png: bytes | None = None
        ledgers, notes = _stock_ledgers(ws, scope, plan, year)
        try:
            pb = plant_balance(acc, cems, plan, ledgers)
        except CemsError as exc:
            sources["碳平衡 balance"] = f"未建立 not built: {exc}"
        else:
            res = BalanceResult(reconcile_plant(pb), systematic_bias_test(pb), cmp, notes)
            balance, flow_png = res.to_dict(), res.reconciliation.png()
            sources["碳平衡 balance"] = "全年逐月协调 reconciled monthly and for the year"
        sources["核查 verification"] = (f"{va.run_key} · {va.verified_by} · {va.verified_at[:10]}" if va is not None
                                      else "无已存核查记录 no stored verification of the year")
        ents.append(PilotEnterprise(e, cmp_d, cems.to_dict(), stream_hours(cems), balance, flow_png, sources,
                                    verified))
    try:
        data = PilotData(year, ents, rule_set, qa_list)
    except ReportError as exc:
        raise ServiceError(str(exc)) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts: dict[str, bytes] = {}
    files: list[str] = []
    for ent in data.enterprises:
        charts[ent.enterprise] = pilot_chart_png(ent.comparison, ent.three_way)
        p = out / f"pilot-{year}-{ent.enterprise}-monthly.png"
        p.write_bytes(charts[ent.enterprise])
        files.append(str(p))
        if ent.flow_png is not None:
            p = out / f"pilot-{year}-{ent.enterprise}-carbon-flow.png"
            p.write_bytes(ent.flow_png)
            files.append(str(p))
    stamp = pilot_stamp(data)
    xlsx = write_pilot_xlsx(data, out / f"pilot-{year}.xlsx", stamp=stamp.to_dict())
    html = out / f"pilot-{year}.html"
    page = render_pilot_html(data, charts=charts, stamp=stamp)
    html.write_text(page, encoding="utf-8")
    pdf_path: Path | None = None
    if pdf:
        pdf_path = out / f"pilot-{year}.pdf"
        pdf_path.write_bytes(render_pdf(page, stamp=stamp, landscape=True))
    findings = pilot_findings(data)
    return {
        "year": year, "rule_set": rule_set, "xlsx": str(xlsx), "html": str(html),
        "pdf": None if pdf_path is None else str(pdf_path), "charts": files, "stamp": stamp.to_dict(),
        "enterprises": [{
            "enterprise": ent.enterprise, "verdict": ent.comparison["verdict"],
            "consistent": ent.comparison["consistent"], "flagged": ent.comparison["flagged"],
            "En": ent.year_row["En"], "relative_deviation_pct": ent.year_row["relative_deviation_pct"],
            "suspects": list(ent.comparison.get("suspects") or []),
            "balance_passed": None if ent.balance is None else ent.balance["annual"]["passed"],
            "flagged_findings": sum(1 for f in findings if f.enterprise == ent.enterprise and f.severity == "flag"),
            "verified": ent.verified,
        } for ent in data.enterprises],
        "qa": len(data.qa),
    }
