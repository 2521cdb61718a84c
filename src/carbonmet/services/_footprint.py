"""Product footprint use cases (产品碳足迹): one enterprise's product from its account, as a result and as PACT
v3; and the validation against the true footprints of generated regions."""

from __future__ import annotations

import csv
import functools
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carbonmet.accounting import Account, activity_items
from carbonmet.footprint import product_rule, product_rules
from carbonmet.footprint.pact import exchange_id, footprint_matches, product_footprint
from carbonmet.footprint.plant import (
    BackgroundFactor,
    ErrorTerm,
    Linear,
    PlantData,
    PlantFootprint,
    background_factors,
    plant_footprint,
    subdivision_of,
)
from carbonmet.quantities import UnitError, conversion_factor

from ._accounting import _data_version, account_enterprise
from ._cache import LRUCache, scope_key
from ._errors import NotInScope, ServiceError
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


def plant_data(account: Account, products: list[str] | None = None, *, rule_product: str) -> PlantData:
    """The plant's foreground of ``account`` for a footprint under the rule of ``rule_product``.

    Direct emissions are the account's direct streams (net of CO2 recovered) with their term sensitivities and
    noises; purchased inputs are the activity items the rule's inputs match, converted to the rule's unit; main
    products are the carbon-balance items of role ``product`` (or ``products`` when given).
    """
    rule = product_rule(rule_product)
    items = activity_items(account)
    terms = {k: ErrorTerm(k, t.u, t.shape, t.label) for k, t in account.terms.items()}
    d = account.subtotal("direct")
    direct = Linear(d["value"], "tCO2", account.term_sensitivities("direct"), account.noise_variance("direct"))
    inputs: dict[str, Linear] = {}
    for ri in rule.inputs:
        if not ri.match or ri.factor is None:
            continue
        found = [it for it in items if ri.matches(it.item, it.role)]
        if not found:
            if ri.required:
                raise ServiceError(f"{account.enterprise} {account.year}: 规则要求的数据缺失 / no activity data for "
                                   f"{ri.item} ({rule.name_zh} rule input, matches {', '.join(ri.match)})")
            continue
        value, sens = 0.0, dict[str, float]()
        for it in found:
            v, sv = _in_unit(account, it.stream, it.item, it.amount, it.unit, it.sensitivities, ri.unit)
            value += v
            for k, s in sv.items():
                sens[k] = sens.get(k, 0.0) + s
        inputs[ri.item] = Linear(value, ri.unit, sens)
    prods = {it.item: Linear(it.amount, it.unit, it.sensitivities) for it in items
             if (it.item in products if products else it.role == "product")}
    recovered = None
    rec = [s for s in account.streams if s.kind == "co2_recovered"]
    if rec:
        r_sens = {k: -v for k, v in _stream_sensitivities(account, "co2_recovered").items()}
        r_val = -sum(float(s.values(account.n).sum()) for s in rec)
        recovered = Linear(r_val, "tCO2", r_sens)
    by_stage: dict[str, Linear] = {}
    for st in account.streams:
        stage = rule.direct_stages.get(st.kind)
        if st.scope != "direct" or stage is None:
            continue
        v = float(st.values(account.n).sum())
        sens = _stream_sensitivities(account, name=st.name)
        noise = float(sum(float((z.u**2).sum()) for z in st.noises))
        old = by_stage.get(stage)
        if old is not None:
            merged = dict(old.sensitivities)
            for k, x in sens.items():
                merged[k] = merged.get(k, 0.0) + x
            by_stage[stage] = Linear(old.value + v, "tCO2", merged, old.noise_var + noise)
        else:
            by_stage[stage] = Linear(v, "tCO2", sens, noise)
    split_total = sum(x.value for x in by_stage.values())
    if by_stage and abs(split_total - direct.value) > 1e-9 * max(1.0, abs(direct.value)):
        by_stage = {}  # a direct stream of a kind the rule does not place: keep the emissions whole
    return PlantData(account.enterprise, account.year, direct, inputs, prods, terms, recovered, by_stage or None)


def _in_unit(account: Account, stream: str, item: str, amount: float, unit: str, sens: dict[str, float],
             to: str) -> tuple[float, dict[str, float]]:
    """An activity amount in the unit ``to`` with its sensitivities: a unit conversion, or — for a stream whose
    amount is a mass but whose factor is per energy (steam in t, factor per GJ) — the energy the account derived,
    E / EF, with every term of the stream except the emission factor's own default."""
    try:
        c = conversion_factor(unit, to)
        return c * amount, {k: c * v for k, v in sens.items()}
    except UnitError:
        pass
    st = next(s for s in account.streams if s.name == stream)
    ef, ef_unit = st.factor.get("emission_factor"), str(st.factor.get("unit", ""))
    if ef and ef_unit.replace(" ", "") == f"tCO2/{to}":
        e = float(st.values(account.n).sum())
        out = {k: v / float(ef) for k, v in _stream_sensitivities(account, name=stream).items()
               if not k.startswith("default:")}
        return e / float(ef), out
    raise ServiceError(f"{account.enterprise}: {item} in {unit!r} cannot be expressed in {to!r} (no conversion, and "
                       f"the stream's factor is {ef_unit or 'not given'})")


def _stream_sensitivities(account: Account, kind: str | None = None, *, name: str | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in account.streams:
        if (kind is None or s.kind == kind) and (name is None or s.name == name):
            for p in s.parts:
                for k in p.terms:
                    out[k] = out.get(k, 0.0) + float(p.values.sum())
    return out


@dataclass
class FootprintOutcome:
    """A product footprint (:class:`PlantFootprint`) and its PACT v3 document."""

    footprint: PlantFootprint
    pact: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.footprint.to_dict() | {"pact": self.pact}


@use_case("read")
def footprint_enterprise(ws: Workspace, scope: Scope, enterprise: str, year: int, product: str, *,
                         allocation: str | None = None, mc: int = 0, seed: int = 0,
                         background: dict[str, BackgroundFactor] | None = None,
                         company_name: str | None = None, region: str | None = None,
                         created: datetime | None = None, pf_id: str | None = None) -> FootprintOutcome:
    """Cradle-to-gate footprint of ``product`` made by ``enterprise`` in ``year`` from its account.

    The account (LPU) gives the plant's direct emissions, purchased inputs and products with the instruments'
    error terms; the product rule (:func:`carbonmet.footprint.product_rule`) the boundary and allocation; the
    background factors default to :func:`carbonmet.footprint.plant.background_factors`. ``created`` pins the PACT
    creation time (default: the end of the reference year, so that a rerun gives the same document); ``pf_id`` the
    document's id (default: a UUID v5 of company, product, period and figures).

    Raises
    ------
    NotInScope
        ``enterprise`` not readable.
    ServiceError
        No rule for ``product``, the enterprise does not make it, or required activity data are missing.
    """
    from carbonmet.footprint import FootprintError, RuleError

    try:
        rule = product_rule(product)
    except RuleError as exc:
        raise ServiceError(str(exc)) from None
    acc = account_enterprise(ws, scope, enterprise, year, method="lpu")
    data = plant_data(acc, rule_product=product)
    try:
        fp = plant_footprint(rule, data, background or background_factors(), allocation=allocation,
                             co_rules=product_rules(), mc=mc, seed=seed)
    except FootprintError as exc:
        raise ServiceError(str(exc)) from None
    from ._registry import list_organisations

    org = next((o for o in list_organisations(ws, scope) if o.get("org_code") == enterprise), {})
    name = company_name or str(org.get("name") or enterprise)
    where = region or str(org.get("region") or "")
    end = datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC)
    doc = product_footprint(
        rule, fp.pcf_figures(), company_name=name, company_ids=[f"urn:carbonmet:org:{enterprise}"],
        product_ids=[f"urn:carbonmet:product:{enterprise}:{product}"], period_start=datetime(year, 1, 1, tzinfo=UTC),
        period_end=end, created=created or end, geography_subdivision=subdivision_of(where),
        allocation_description=f"{fp.allocation} allocation among the main products ({', '.join(data.products)}); "
                               f"by-products {rule.by_products}",
        secondary_sources=sorted({(f.ref or f.item, f.evidence) for f in fp.factors}),
        comment=f"carbonmet footprint of {enterprise} {year}; u(measurement) = {fp.u_measurement:.4f} kgCO2e/kg",
        extension={"u": f"{fp.u:.6f}", "u_measurement": f"{fp.u_measurement:.6f}", "k": "2",
                   "flags": fp.flags}, pf_id=pf_id)
    return FootprintOutcome(fp, doc)


# --- PACT v3 exchange ------------------------------------------------------------------------------------------
#: PACT documents per (data version, enterprise, year, product): the document, or None when the enterprise does
#: not make the product or lacks its data. Independent of the caller: readability is checked before the look-up.
_pact_docs: LRUCache[dict[str, Any] | None] = LRUCache(1024)
#: The listed documents per (data version, scope, years): the same list object while nothing changed.
_pact_lists: LRUCache[list[dict[str, Any]]] = LRUCache(64)


@use_case("read")
def pact_footprints(ws: Workspace, scope: Scope, years: Sequence[int], *, product_id: Sequence[str] = (),
                    company_id: Sequence[str] = (), geography: Sequence[str] = (),
                    classification: Sequence[str] = (), valid_on: datetime | None = None,
                    valid_after: datetime | None = None, valid_before: datetime | None = None,
                    status: str | None = None) -> list[dict[str, Any]]:
    """The PACT v3 ProductFootprints the caller may read (PACT 数据交换): for each readable enterprise, each ruled
    product it makes and each of ``years``, the document of :func:`footprint_enterprise` with the id of
    :func:`carbonmet.footprint.pact.exchange_id`; ordered by enterprise, product and year. The criteria
    (``ListFootprints`` filters: OR within one, AND across) select among them
    (:func:`carbonmet.footprint.pact.footprint_matches`).

    Enterprises without a monitoring plan and products an enterprise does not make (or whose data are missing)
    are left out. Without criteria, the documents and the list are cached per data version (the audit log's head and the readings
    store's journal, as the accounts are): the first call after a change computes the accounts and footprints
    (about a second an enterprise-year), later ones are look-ups. The returned list is shared: read-only.
    """
    from ._registry import list_organisations

    version_key = _data_version(ws)
    ys = tuple(sorted({int(y) for y in years}))

    def listed() -> list[dict[str, Any]]:
        orgs = [o["org_code"] for o in list_organisations(ws, scope) if o.get("kind") == "enterprise"]
        out: list[dict[str, Any]] = []
        for org in orgs:
            for product in sorted(product_rules()):
                for y in ys:
                    doc = _pact_docs.get_or_compute((version_key, org, y, product),
                                                    functools.partial(_pact_doc, ws, scope, org, y, product))
                    if doc is not None:
                        out.append(doc)
        return out

    docs = _pact_lists.get_or_compute((version_key, scope_key(scope), ys), listed)
    criteria: dict[str, Any] = {"product_id": product_id, "company_id": company_id, "geography": geography,
                                "classification": classification, "valid_on": valid_on,
                                "valid_after": valid_after, "valid_before": valid_before, "status": status}
    if not any(criteria.values()):
        return docs
    return [d for d in docs if footprint_matches(d, **criteria)]


def _pact_doc(ws: Workspace, scope: Scope, enterprise: str, year: int, product: str) -> dict[str, Any] | None:
    try:
        return footprint_enterprise(ws, scope, enterprise, year, product,
                                    pf_id=exchange_id(enterprise, product, year)).pact
    except ServiceError:  # NotInScope (no plan) is one too: nothing to exchange for this enterprise-year
        return None


@use_case("read")
def pact_footprint(ws: Workspace, scope: Scope, pf_id: str, years: Sequence[int]) -> dict[str, Any]:
    """One PACT v3 ProductFootprint by id among :func:`pact_footprints` of the caller.

    Raises
    ------
    NotInScope
        No footprint with this id, or one of an enterprise the caller may not read (the same answer).
    """
    wanted = pf_id.strip().lower()
    for doc in pact_footprints(ws, scope, years):
        if doc["id"] == wanted:
            return doc
    raise NotInScope("product footprint 产品碳足迹", pf_id)


@dataclass
class FootprintValidation:
    """Coverage of footprint intervals against the true footprints of generated regions."""

    runs: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    def coverage(self, which: str = "measurement") -> float:
        key = "inside_measurement" if which == "measurement" else "inside"
        return sum(r[key] for r in self.rows) / len(self.rows) if self.rows else math.nan

    def to_dict(self) -> dict[str, Any]:
        zs = [r["z"] for r in self.rows if math.isfinite(r["z"])]
        return {"runs": self.runs, "footprints": len(self.rows),
                "coverage_measurement": self.coverage("measurement"), "coverage_total": self.coverage("total"),
                "z_mean": sum(zs) / len(zs) if zs else math.nan,
                "z_sd": (sum((z - sum(zs) / len(zs)) ** 2 for z in zs) / (len(zs) - 1)) ** 0.5 if len(zs) > 1
                else math.nan, "rows": self.rows}


def _true_footprints(region: Path) -> dict[tuple[str, str], float]:
    with (region / "truth" / "footprints.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["enterprise"], r["product"]): float(r["cradle_to_gate_t_per_t"]) for r in csv.DictReader(fh)}


def _truth_background(region: Path) -> dict[str, BackgroundFactor]:
    """The background factors the generator used, as exact values (for the measurement-only coverage)."""
    names = {"grid": ("purchased_electricity", "tCO2e/MWh"), "heat": ("purchased_steam", "tCO2e/GJ"),
             "upstream_coal": ("coal", "tCO2e/t"), "upstream_natural_gas": ("natural_gas", "tCO2e/kNm3")}
    ours = background_factors()
    out: dict[str, BackgroundFactor] = {}
    with (region / "truth" / "footprint_factors.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["factor"] in names:
                item, unit = names[r["factor"]]
                mine = ours[item]
                out[item] = BackgroundFactor(item, float(r["value"]), unit, mine.u_rel, r["source"], r["evidence"],
                                             dqr=mine.dqr)
    return out


@use_case("none")
def validate_footprint(ws: Workspace, scope: Scope, runs: int, *, enterprises: int = 12, year: int = 2025,
                       seed: int = 3000, progress: Callable[[int, int], None] | None = None) -> FootprintValidation:
    """Generate ``runs`` seeded regions and compute every ruled product's footprint through the real path
    (registry, plans, lab, store, account, footprint) in throw-away workspaces; count how often value ± 2u covers
    the true cradle-to-gate footprint. The background factors are the generator's own (the truth holds them
    exact), so the measurement interval is the one tested; the total interval (factors uncertain) is reported
    beside it. Touches no data of ``ws``."""
    from carbonmet.refdata import generate

    from ._lab import import_lab
    from ._plans import import_plan
    from ._registry import import_registry

    rules = product_rules()
    v = FootprintValidation(runs)
    for r in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            region = root / "region"
            generate(region, enterprises=enterprises, year=year, seed=seed + r, resolution="hour")
            centre = Scope.centre()
            truth = _true_footprints(region)
            bg = _truth_background(region)
            with Workspace(f"sqlite:///{root / 'v.db'}", store_root=region) as w:
                import_registry(w, centre, sorted((region / "registry").glob("*.csv")))
                for f in sorted((region / "plans").glob("*.toml")):
                    import_plan(w, centre, f)
                import_lab(w, centre, [region / "lab" / "lab.csv"])
                by_ent: dict[str, list[str]] = {}
                for e, p in truth:
                    if p in rules:
                        by_ent.setdefault(e, []).append(p)
                for e, prods in sorted(by_ent.items()):
                    acc = account_enterprise(w, centre, e, year, method="lpu")
                    for p in prods:
                        fp = plant_footprint(rules[p], plant_data(acc, rule_product=p), bg, co_rules=rules)
                        t = truth[(e, p)]
                        v.rows.append({"run": r, "seed": seed + r, "enterprise": e, "product": p, "value": fp.value,
                                       "u_measurement": fp.u_measurement, "u": fp.u, "truth": t,
                                       "z": (fp.value - t) / fp.u_measurement if fp.u_measurement else math.nan,
                                       "inside_measurement": abs(fp.value - t) <= 2 * fp.u_measurement,
                                       "inside": abs(fp.value - t) <= 2 * fp.u})
        if progress is not None:
            progress(r + 1, runs)
    return v
