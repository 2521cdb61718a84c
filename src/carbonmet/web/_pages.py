"""Server-rendered pages (网页): sign-in, region overview, enterprise, CEMS comparison, review, footprint,
monitoring plan, laboratory results, monthly deposits, users and roles (centre), instruments, certificates, data quality with a readings upload. zh-CN first, ``?lang=en`` switches to English.

The pages sit beside the API and call the same use cases with the caller's :class:`Scope` only. The page
router's one caller dependency (:func:`page_caller`) is :func:`current_caller` reading the session cookie; without
a valid session a page redirects to ``/login``. None of these routes is in the OpenAPI document.
"""

from __future__ import annotations

import inspect
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from carbonmet.services import (
    AuthenticationFailed,
    Caller,
    CarbonmetError,
    NotInScope,
    Scope,
    ServiceError,
    Workspace,
    account_enterprise,
    account_report,
    authenticate,
    compare_enterprise,
    deposit_check,
    due_items,
    footprint_enterprise,
    get_certificate,
    ingest_files,
    lab_results,
    list_certificates,
    list_deposits,
    list_organisations,
    list_plans,
    list_quarantine,
    list_users,
    review_enterprise,
    show_plan,
    trace_standard,
)

from ._auth import TOKEN_COOKIE, WorkspaceDep, csrf_token, current_caller, issue_token
from ._problems import is_pact, status_of
from ._render import LANG_COOKIE, LANGS, ResultCache, chart, environment, finite, translator
from ._routers.uploads import _ingest_answer, _renamed, saved

PRODUCTS = ("methanol", "meg", "polyethylene", "polypropylene")
ROLE_KEYS = {"regulator": "role_regulator", "centre": "role_centre", "verifier": "role_verifier",
             "enterprise": "role_enterprise"}
_ENV = environment()
STATIC = Path(__file__).parent / "static"


class LoginRequired(Exception):
    """A page was asked for without a valid session: answered by a redirect to ``/login``."""


async def page_caller(request: Request, ws: WorkspaceDep) -> Caller:
    """The caller of a page: :func:`current_caller` on the session cookie; no session → :class:`LoginRequired`."""
    try:
        return await current_caller(request, ws, None, None)
    except AuthenticationFailed:
        raise LoginRequired() from None
    except HTTPException as exc:
        if exc.status_code == 401:
            raise LoginRequired() from None
        raise


PageCaller = Annotated[Caller, Depends(page_caller)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(page_caller)])
public = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ rendering

def _lang(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get(LANG_COOKIE)
    return c if c in LANGS else "zh"


def render(request: Request, name: str, caller: Caller | None = None, *, status: int = 200,
           **ctx: Any) -> HTMLResponse:
    """A page (or an htmx fragment) in the request's language; ``?lang=`` is remembered in a cookie."""
    lang = _lang(request)
    cookie = request.cookies.get(TOKEN_COOKIE)
    secret = request.app.state.config.secret
    html = _ENV.get_template(name).render(
        request=request, caller=caller, lang=lang, t=translator(lang), path=request.url.path,
        role_key=ROLE_KEYS.get(caller.role, caller.role) if caller else "",
        csrf=csrf_token(secret, cookie) if cookie and caller else "", **ctx)
    resp = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", httponly=True)
    return resp


def _year(year: int | None) -> int:
    return year if year is not None else date.today().year - 1


def _as_of(year: int, on: date | None) -> date:
    """The reference date of due lists and reviews: ``on``, else the year's last day when past, else today."""
    return on or min(date.today(), date(year, 12, 31))


def _enterprises(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    return [o for o in list_organisations(ws, scope) if o.get("kind") == "enterprise"]


def _account(request: Request, ws: Workspace, scope: Scope, code: str, year: int) -> dict[str, Any]:
    """The LPU account of an enterprise-year as a dict, cached in process (the caller's scope is checked by the
    use case on the first computation and by :func:`_enterprises` before every cached read)."""
    if code not in {o["org_code"] for o in list_organisations(ws, scope)}:
        account_enterprise(ws, scope, code, year)  # raises NotInScope exactly like the API
    cache: ResultCache = request.app.state.page_cache
    return dict(cache.get(("account", code, year), lambda: account_enterprise(ws, scope, code, year).to_dict()))


def _completeness(acc: dict[str, Any]) -> float | None:
    vals = [finite(s.get("activity", {}).get("completeness")) for s in acc.get("streams", [])]
    got = [v for v in vals if v is not None]
    return min(got) if got else None


# ------------------------------------------------------------------ sign in / out

@public.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_local(next), error=None)


def _local(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirect through ``next``)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@public.post("/login", response_class=HTMLResponse)
def login(request: Request, ws: WorkspaceDep, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)], next: Annotated[str, Form(max_length=512)] = "/"
          ) -> Response:
    """The sign-in form: the same :func:`authenticate` and rate limit as ``POST /api/v1/auth/token``; the token
    goes into an HttpOnly, SameSite=Strict cookie."""
    limiter = request.app.state.limiter
    client = request.client.host if request.client else "?"
    target = _local(next)
    if limiter.retry_after(username, client) is not None:
        return render(request, "login.html", next=target, error="too_many", status=429)
    try:
        caller = authenticate(ws, Scope.nobody(), username=username, password=password)
    except AuthenticationFailed:
        limiter.failed(username, client)
        return render(request, "login.html", next=target, error="login_failed", status=401)
    limiter.succeeded(username, client)
    cfg = request.app.state.config
    token, seconds = issue_token(cfg.secret, caller.username, cfg.token_minutes)
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(TOKEN_COOKIE, token, max_age=seconds, httponly=True, samesite="strict",
                    secure=request.url.scheme == "https", path="/")
    return resp


@public.post("/logout")
def logout() -> Response:
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(TOKEN_COOKIE, path="/")
    return resp


# ------------------------------------------------------------------ region overview

@router.get("/", response_class=HTMLResponse)
def overview(request: Request, ws: WorkspaceDep, caller: PageCaller,
             year: Annotated[int | None, Query(ge=2000, le=2100)] = None, on: date | None = None) -> HTMLResponse:
    """区域总览: the enterprises the caller reads, due instruments, quarantine, open review findings; the
    accounts and their chart load afterwards (htmx) from ``/overview/accounts``."""
    scope = caller.scope
    y = _year(year)
    ref = _as_of(y, on)
    orgs = _enterprises(ws, scope)
    due = due_items(ws, scope, ref, 30)
    findings = 0
    for o in orgs:
        try:
            findings += sum(1 for f in review_enterprise(ws, scope, o["org_code"], ref).findings
                            if f.severity != "info")
        except ServiceError:
            pass
    return render(request, "overview.html", caller, year=y, on=ref, orgs=orgs,
                  overdue=sum(1 for d in due if d.status != "due"),
                  due_soon=sum(1 for d in due if d.status == "due"),
                  quarantined=len(list_quarantine(ws, scope)), findings=findings)


@router.get("/overview/accounts", response_class=HTMLResponse)
def overview_accounts(request: Request, ws: WorkspaceDep, caller: PageCaller,
                      year: Annotated[int, Query(ge=2000, le=2100)]) -> HTMLResponse:
    """The accounts of the caller's enterprises (table and bar chart with U error bars), an htmx fragment."""
    rows: list[dict[str, Any]] = []
    for o in _enterprises(ws, caller.scope):
        try:
            acc = _account(request, ws, caller.scope, o["org_code"], year)
        except CarbonmetError as exc:
            rows.append({"org": o, "error": str(exc)})
            continue
        rows.append({"org": o, "total": acc["total"], "completeness": _completeness(acc), "error": None})
    ok = [r for r in rows if r["error"] is None]
    t = translator(_lang(request))
    option = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 90, "right": 20, "top": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": [r["org"]["org_code"] for r in ok]},
        "yAxis": {"type": "value", "name": "tCO2"},
        "series": [
            {"type": "bar", "name": t("annual_emissions"), "data": [finite(r["total"]["value"]) for r in ok]},
            {"type": "custom", "name": "U", "renderItem": "errorbar",
             "data": [[i, finite(r["total"]["value"] - r["total"]["U"]), finite(r["total"]["value"] + r["total"]["U"])]
                      for i, r in enumerate(ok)]},
        ],
    }
    return render(request, "_overview_accounts.html", caller, rows=rows, year=year,
                  chart_html=chart(option, name="overview") if ok else "")


# ------------------------------------------------------------------ enterprise

@router.get("/enterprises/{code}", response_class=HTMLResponse)
def enterprise(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
               year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """企业: monthly emissions with their U band, source streams, budget, what to improve, links."""
    y = _year(year)
    acc = _account(request, ws, caller.scope, code, y)
    org = next(o for o in list_organisations(ws, caller.scope) if o["org_code"] == code)
    k = finite(acc["total"].get("k")) or 2.0
    periods = acc.get("periods", [])
    t = translator(_lang(request))
    lower = [finite(p["value"] - k * p["u"]) for p in periods]
    width = [finite(2 * k * p["u"]) for p in periods]
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [t("emissions")]},
        "grid": {"left": 90, "right": 20, "top": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": [p["period"] for p in periods]},
        "yAxis": {"type": "value", "name": "tCO2", "scale": True},
        "series": [
            {"type": "line", "name": "lower", "data": lower, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}, "tooltip": {"show": False}},
            {"type": "line", "name": "± U", "data": width, "stack": "band", "symbol": "none",
             "lineStyle": {"opacity": 0}, "areaStyle": {"color": "#9ec5e8", "opacity": 0.6}},
            {"type": "line", "name": t("emissions"), "data": [finite(p["value"]) for p in periods],
             "itemStyle": {"color": "#1f5f99"}},
        ],
    }
    return render(request, "enterprise.html", caller, org=org, year=y, acc=acc, k=k,
                  budget=sorted(acc.get("budget", []), key=lambda b: -(finite(b.get("variance_share")) or 0))[:10],
                  chart_html=chart(option, name="monthly"))


@router.get("/enterprises/{code}/report.pdf")
def report_pdf(code: str, ws: WorkspaceDep, caller: PageCaller,
               year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    """核算报告 The account report of the enterprise-year as PDF (``account_report``)."""
    y = _year(year)
    with tempfile.TemporaryDirectory(prefix="carbonmet-report-") as d:
        out = account_report(ws, caller.scope, code, y, Path(d), formats=("pdf",))
        data = Path(out["files"]["pdf"]).read_bytes()
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="account-{code}-{y}.pdf"'})


@router.get("/enterprises/{code}/comparison", response_class=HTMLResponse)
def comparison(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
               year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """CEMS 比对: CEMS against the account per month (E_n), steps at recalibrations, suspects."""
    y = _year(year)
    cmp = compare_enterprise(ws, caller.scope, code, y).to_dict()
    months = [p for p in cmp.get("periods", []) if len(str(p.get("period", ""))) == 7]
    t = translator(_lang(request))
    option = {
        "tooltip": {"trigger": "axis"}, "legend": {"data": [t("cems"), t("accounting")]},
        "grid": {"left": 90, "right": 20, "top": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": [p["period"] for p in months]},
        "yAxis": {"type": "value", "name": "tCO2", "scale": True},
        "series": [{"type": "line", "name": t("cems"), "data": [finite(p["cems"]) for p in months]},
                   {"type": "line", "name": t("accounting"), "data": [finite(p["accounting"]) for p in months]}],
    }
    return render(request, "comparison.html", caller, code=code, year=y, cmp=cmp,
                  chart_html=chart(option, name="comparison"))


@router.get("/enterprises/{code}/review", response_class=HTMLResponse)
def review(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
           year: Annotated[int | None, Query(ge=2000, le=2100)] = None, on: date | None = None) -> HTMLResponse:
    """计量审查: the review findings of the enterprise's instruments on a date."""
    y = _year(year)
    rv = review_enterprise(ws, caller.scope, code, _as_of(y, on)).to_dict()
    return render(request, "review.html", caller, code=code, year=y, rv=rv)


@router.get("/enterprises/{code}/footprint", response_class=HTMLResponse)
def footprint(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
              year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """产品碳足迹: each product the enterprise makes, value ± U, contributions by stage, PACT download."""
    y = _year(year)
    items = []
    t = translator(_lang(request))
    for product in PRODUCTS:
        try:
            fp = footprint_enterprise(ws, caller.scope, code, y, product).to_dict()
        except NotInScope:
            raise
        except ServiceError:  # no such product at this plant, or its data are missing
            continue
        stages = fp.get("by_stage", {})
        option = {"tooltip": {}, "grid": {"left": 110, "right": 20, "top": 20, "bottom": 45},
                  "xAxis": {"type": "value", "name": fp["unit"], "nameLocation": "middle", "nameGap": 26},
                  "yAxis": {"type": "category", "data": list(stages)},
                  "series": [{"type": "bar", "name": t("stages"), "data": [finite(v) for v in stages.values()]}]}
        items.append({"fp": fp, "chart": chart(option, height=200, name=f"footprint-{product}")})
    return render(request, "footprint.html", caller, code=code, year=y, items=items)


@router.get("/enterprises/{code}/plan", response_class=HTMLResponse)
def plan(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
         version: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    """监测计划: a stored version of the enterprise's monitoring plan (default: the current one) — header, source
    streams, parameter rows, change log — and the list of its stored versions (read-only)."""
    p = show_plan(ws, caller.scope, code, version)
    return render(request, "plan.html", caller, code=code, plan=p, versions=list_plans(ws, caller.scope, code))


LAB_ROWS = 500  # rows shown on the laboratory results page (the count says how many there are)


@router.get("/enterprises/{code}/lab", response_class=HTMLResponse)
def lab(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        analyte: Annotated[str | None, Query(max_length=32)] = None) -> HTMLResponse:
    """化验结果: the enterprise's stored laboratory results of a year (optionally one analyte), newest first, with
    value ± U (k), the laboratory, analyser, method and report (read-only)."""
    y = _year(year)
    rows = lab_results(ws, caller.scope, code, year=y, analytes=[analyte] if analyte else None)
    rows = sorted(rows, key=lambda r: (r.sampled_from, r.point_id, r.analyte), reverse=True)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.analyte] = counts.get(r.analyte, 0) + 1
    return render(request, "lab.html", caller, code=code, year=y, analyte=analyte, rows=rows[:LAB_ROWS],
                  total=len(rows), counts=sorted(counts.items()))


DEPOSIT_MARKS = {"on_time": "●", "late": "◐", "missing": "✗", "not_due": "·"}


@router.get("/enterprises/{code}/deposits", response_class=HTMLResponse)
def deposits(request: Request, code: str, ws: WorkspaceDep, caller: PageCaller,
             year: Annotated[int | None, Query(ge=2000, le=2100)] = None, on: date | None = None) -> HTMLResponse:
    """月度存证: the enterprise-year's monthly deposits (read-only) — per plan row and month deposited on time or
    late, missing or not yet due, with the number of versions (corrections); where the annual account differs from
    the latest deposits (``deposit_check``, the account being the enterprise page's); every stored version
    (``list_deposits``) with its evidence, reason and content hash. ``on``: the date the status is judged at
    (default today in the workspace's zone)."""
    y = _year(year)
    scope = caller.scope
    rows = list_deposits(ws, scope, code, y)  # NotInScope (404) for an enterprise outside the read scope
    acc: dict[str, Any] | None = None
    try:
        acc = _account(request, ws, scope, code, y)
    except NotInScope:
        raise
    except CarbonmetError:
        acc = None  # deposit_check tries again and says why (account_error)
    try:
        chk = deposit_check(ws, scope, code, y, today=on, account=acc)
    except NotInScope:  # in scope (list_deposits said so): the enterprise has no stored monitoring plan
        chk = None
    grid: dict[tuple[str, str], dict[str, Any]] = {}
    for r in chk.status if chk else []:
        grid.setdefault((r.source_stream, r.parameter), {})[r.month[5:]] = r
    return render(request, "deposits.html", caller, code=code, year=y, chk=chk, marks=DEPOSIT_MARKS,
                  grid=grid, months=[f"{m:02d}" for m in range(1, 13)],
                  counts=sorted(chk.counts().items()) if chk else [],
                  findings=chk.findings if chk else [],
                  rows=sorted(rows, key=lambda d: (d.month, d.source_stream, d.parameter, d.version)))


@router.get("/enterprises/{code}/footprint/{product}.json")
def footprint_pact(code: str, product: str, ws: WorkspaceDep, caller: PageCaller,
                   year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    """The product's PACT v3 document."""
    y = _year(year)
    fp = footprint_enterprise(ws, caller.scope, code, y, product).to_dict()
    body = json.dumps(fp["pact"], ensure_ascii=False, indent=2, default=str)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="pact-{code}-{product}-{y}.json"'})


# ------------------------------------------------------------------ instruments, certificates

@router.get("/instruments", response_class=HTMLResponse)
def instruments(request: Request, ws: WorkspaceDep, caller: PageCaller,
                on: date | None = None, within_days: Annotated[int, Query(ge=0, le=3650)] = 30) -> HTMLResponse:
    """待检/超期: the instruments due or overdue on a date, with their last certificate."""
    ref = on or date.today()
    items = [i.to_dict() for i in due_items(ws, caller.scope, ref, within_days)]
    return render(request, "instruments.html", caller, items=items, on=ref, within_days=within_days)


@router.get("/instruments/trace", response_class=HTMLResponse)
def trace(request: Request, ws: WorkspaceDep, caller: PageCaller,
          standard: Annotated[str | None, Query(max_length=128)] = None,
          date_from: date | None = None, date_to: date | None = None) -> HTMLResponse:
    """超差反向追溯: a standard found out of tolerance over a window → the certificates issued with it, the
    instruments and standards they cover and the data periods in doubt, as a graph and tables (the caller's
    scope only). Without a standard: the form, offering the standards behind the caller's certificates."""
    used = sorted({u for c in list_certificates(ws, caller.scope) for u in (c.get("standards_used") or []) if u})
    if not standard:
        return render(request, "trace.html", caller, standards=used, result=None, chart_html="",
                      date_from=date_from or date(date.today().year - 2, 1, 1), date_to=date_to or date.today())
    start = date_from or date(date.today().year - 2, 1, 1)
    end = date_to or date.today()
    result = trace_standard(ws, caller.scope, standard, start, end).to_dict()
    nodes: dict[str, dict[str, Any]] = {standard: {"name": standard, "category": 0, "symbolSize": 28}}
    links = []
    for c in result["certificates"]:
        nodes.setdefault(c["cert_no"], {"name": c["cert_no"], "category": 1, "symbolSize": 14})
        nodes.setdefault(c["via_standard"], {"name": c["via_standard"], "category": 0, "symbolSize": 20})
        nodes.setdefault(c["subject"], {"name": c["subject"], "category": 2 if c["subject_kind"] == "instrument"
                                        else 0, "symbolSize": 18})
        links += [{"source": c["via_standard"], "target": c["cert_no"]}, {"source": c["cert_no"], "target": c["subject"]}]
    for p in result["data_periods"]:
        nodes.setdefault(p["point"], {"name": p["point"], "category": 3, "symbolSize": 12})
        nodes.setdefault(p["instrument"], {"name": p["instrument"], "category": 2, "symbolSize": 18})
        links.append({"source": p["instrument"], "target": p["point"]})
    t = translator(_lang(request))
    option = {
        "tooltip": {}, "legend": {"data": [t("standard"), t("certificate"), t("instrument"), t("point")]},
        "series": [{"type": "graph", "layout": "force", "roam": True, "draggable": True,
                    "label": {"show": True, "position": "right", "fontSize": 10},
                    "force": {"repulsion": 160, "edgeLength": 60},
                    "edgeSymbol": ["none", "arrow"], "edgeSymbolSize": 6,
                    "categories": [{"name": t("standard")}, {"name": t("certificate")}, {"name": t("instrument")},
                                   {"name": t("point")}],
                    "data": list(nodes.values()), "links": links}],
    }
    return render(request, "trace.html", caller, standards=used, result=result, date_from=start, date_to=end,
                  chart_html=chart(option, height=460, name="trace") if links else "")


@router.get("/certificates/{cert_no}", response_class=HTMLResponse)
def certificate(request: Request, cert_no: str, ws: WorkspaceDep, caller: PageCaller) -> HTMLResponse:
    """One certificate (404 outside the read scope, as in the API)."""
    return render(request, "certificate.html", caller, cert=get_certificate(ws, caller.scope, cert_no))


# ------------------------------------------------------------------ users (centre)

@router.get("/users", response_class=HTMLResponse)
def users(request: Request, ws: WorkspaceDep, caller: PageCaller) -> HTMLResponse:
    """用户与角色: every user with role, organisation, active, a verifier's assigned enterprises and API keys by
    label and creation time (never a key or a hash) — the centre only (``list_users``: 403 for any other role, as
    ``GET /api/v1/users``)."""
    rows = list_users(ws, caller.scope)
    for r in rows:
        r["keys"] = [{"label": k.get("label"), "created_at": k.get("created_at"), "revoked": k.get("revoked")}
                     for k in r.pop("api_keys", [])]
    return render(request, "users.html", caller, users=rows)


# ------------------------------------------------------------------ data quality

@router.get("/quality", response_class=HTMLResponse)
def quality(request: Request, ws: WorkspaceDep, caller: PageCaller,
            reason: Annotated[str | None, Query(max_length=64)] = None,
            year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """数据质量: the readings upload, gaps per source stream (loaded after the page), quarantined records with
    their reasons."""
    rows = list_quarantine(ws, caller.scope, reason=reason)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return render(request, "quality.html", caller, rows=rows[:200], total=len(rows),
                  counts=sorted(counts.items(), key=lambda kv: -kv[1]), reason=reason, year=_year(year))


@router.get("/quality/gaps", response_class=HTMLResponse)
def quality_gaps(request: Request, ws: WorkspaceDep, caller: PageCaller,
                 year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """Gaps (htmx fragment): per enterprise and source stream, the completeness of the activity data, the amount
    substituted for missing hours and the hours without a laboratory lot, from the year's account."""
    y = _year(year)
    rows: list[dict[str, Any]] = []
    for o in _enterprises(ws, caller.scope):
        try:
            acc = _account(request, ws, caller.scope, o["org_code"], y)
        except CarbonmetError as exc:
            rows.append({"org": o["org_code"], "stream": "", "error": str(exc)})
            continue
        for st in acc.get("streams", []):
            act = st.get("activity") or {}
            lab = sum(int(f.get("hours") or 0) for f in st.get("flags", []) if f.get("kind") == "lab_gap")
            rows.append({"org": o["org_code"], "stream": st["name"], "point": act.get("point"),
                         "completeness": act.get("completeness"), "substituted": act.get("substituted"),
                         "unit": act.get("unit", ""), "lab_gap_hours": lab, "error": None})
    return render(request, "_gaps.html", caller, rows=rows, year=y)


@router.post("/quality/upload", response_class=HTMLResponse)
def quality_upload(request: Request, ws: WorkspaceDep, caller: PageCaller,
                   files: Annotated[list[UploadFile], File()]) -> HTMLResponse:
    """The readings upload (htmx fragment): received = stored + quarantined + duplicates, reasons per file."""
    with saved(request, files, (".csv", ".xlsx", ".xlsm")) as paths:
        total, per_file = ingest_files(ws, caller.scope, paths)
        names = {str(p): f.filename or p.name for p, f in zip(paths, files, strict=True)}
    answer = _renamed(_ingest_answer(total, per_file, [f.filename or "" for f in files]), names)
    request.app.state.page_cache.clear()
    return render(request, "_upload_result.html", caller, r=answer)


# ------------------------------------------------------------------ installing

def install_pages(app: FastAPI) -> None:
    """Register the pages, their static files (``/static``: vendored ECharts and htmx, our CSS and JS) and the
    redirect of pages without a session, on ``app``."""

    async def to_login(request: Request, exc: Exception) -> Response:
        target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    api_error = app.exception_handlers[CarbonmetError]

    async def page_error(request: Request, exc: Exception) -> Response:
        """Errors of the API stay problem documents; a page shows them as a page with the same status."""
        if request.url.path.startswith("/api/") or is_pact(request.url.path) or not isinstance(exc, CarbonmetError):
            out = api_error(request, exc)
            return await out if inspect.isawaitable(out) else out
        status = status_of(exc)
        key = {404: "not_found", 403: "forbidden"}.get(status, "error")
        return render(request, "error.html", None, status=status, message=key, detail=str(exc))

    app.state.page_cache = ResultCache()
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(CarbonmetError, page_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(public)
    app.include_router(router)
