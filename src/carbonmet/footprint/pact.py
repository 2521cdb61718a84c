"""PACT Technical Specifications v3.0.3: the ``ProductFootprint`` document of a product footprint, and its check.

A footprint leaves carbonmet for a customer (CBAM-era export, a supply-chain platform) as a PACT v3
``ProductFootprint`` JSON object. This module writes one from plain figures per declared unit
(:class:`PcfFigures`) and a :class:`~carbonmet.footprint.rules.ProductRule`, and checks a document against the
strict schema we wrote from the v3.0.3 specification (``data/pact/product-footprint-3.0.3.schema.json``) plus
the rules the schema cannot say (the sum rule of ``pcfExcludingBiogenicUptake``; capture never netted silently).

References
----------
PACT Technical Specifications for PCF Data Exchange, version 3.0.3 (Release, 2025-11-18), ``spec/v3/openapi.yaml``
components ``ProductFootprint`` and ``CarbonFootprint``; the sum rule is the ``x-comment`` of
``pcfExcludingBiogenicUptake``. Decimals are JSON strings (``^[+-]?\\d+(\\.\\d+)?$``), never JSON numbers.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from carbonmet.quantities import CarbonmetError

from .rules import ProductRule

__all__ = ["PACT_SPEC_VERSION", "PactError", "PcfFigures", "check_product_footprint", "decimal_string",
           "exchange_id", "footprint_id", "footprint_matches", "product_footprint", "product_footprint_schema", "validity_period"]

PACT_SPEC_VERSION = "3.0.3"
"""The PACT Technical Specifications version our documents follow."""

_NS = uuid.UUID("6f1b0c1e-52a4-4c4e-9d1c-5a0e6b2f0c3d")  # carbonmet's namespace for footprint ids (uuid5)
_SUM_TERMS = ("fossilGhgEmissions", "landUseChangeGhgEmissions", "landManagementBiogenicCO2Emissions",
              "landManagementBiogenicCO2Removals", "technologicalCO2Removals", "ccsTechnologicalCO2Capture",
              "biogenicNonCO2Emissions")


class PactError(CarbonmetError, ValueError):
    """Figures that cannot be written as a valid PACT document, naming the field."""


@dataclass(frozen=True, slots=True)
class PcfFigures:
    """A product footprint per declared unit, as PACT reports it.

    Attributes
    ----------
    fossil_ghg_emissions : float
        Fossil GHG emissions [kgCO2e / declared unit], gross: CO2 later captured and stored is included here and
        subtracted by ``ccs_capture`` (PACT v3 sum rule).
    fossil_carbon_content : float
        Fossil carbon in the product [kgC / declared unit].
    ccs_capture : float
        CO2 technologically captured and geologically stored [kgCO2e / declared unit], a positive amount; written
        as the negative ``ccsTechnologicalCO2Capture`` with ``ccsTechnologicalCO2CaptureIncluded = true``.
    capture_origin : str
        Where the captured CO2 went (injection site, reservoir), required when ``ccs_capture > 0``.
    ccu_carbon_content : float
        Carbon of captured CO2 sent to utilisation [kgC / declared unit] (reported, cut-off approach: not subtracted).
    primary_data_share : float or None
        Share of the footprint from primary (measured) data [%], PACT methodology 4.2.2.
    dqi : tuple of 3 floats or None
        Technological, geographical, temporal data-quality ratings (1 best … 3), emission-weighted.
    expanded_uncertainty : float or None
        U (k = 2) of the footprint [kgCO2e / declared unit] — carried in the comment and our extension, PACT v3
        has no numeric uncertainty field.
    """

    fossil_ghg_emissions: float
    fossil_carbon_content: float
    ccs_capture: float = 0.0
    capture_origin: str = ""
    ccu_carbon_content: float = 0.0
    primary_data_share: float | None = None
    dqi: tuple[float, float, float] | None = None
    expanded_uncertainty: float | None = None

    @property
    def pcf_excluding_biogenic_uptake(self) -> float:
        """fossil − CCS capture [kgCO2e / declared unit] (the other sum-rule terms are zero for fossil chemicals)."""
        return self.fossil_ghg_emissions - self.ccs_capture


def decimal_string(x: float, places: int = 6) -> str:
    """``x`` as a PACT Decimal string: fixed point, at most ``places`` decimals, no exponent, no ``-0``.

    >>> decimal_string(2.5e-7), decimal_string(-0.0), decimal_string(1234.5)
    ('0', '0', '1234.5')
    """
    if not math.isfinite(x):
        raise PactError(f"数值须有限 / a decimal must be finite, got {x!r}")
    d = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    s = format(d.normalize(), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def footprint_id(*parts: str) -> str:
    """A deterministic ProductFootprint id (UUID v5) from the parts naming it (company, product, period, version)."""
    return str(uuid.uuid5(_NS, "\x1f".join(parts)))


@cache
def _code_version() -> str:
    try:
        return version("carbonmet")
    except PackageNotFoundError:  # pragma: no cover - a source tree without installation
        return "unknown"


def exchange_id(enterprise: str, product: str, year: int, code_version: str | None = None) -> str:
    """The stable id under which carbonmet exchanges the footprint of ``product`` made by ``enterprise`` in
    ``year``: :func:`footprint_id` of the three and the code version (default: carbonmet's installed version), so
    the same enterprise-product-year keeps its id until the code changes."""
    return footprint_id("carbonmet-pact", enterprise, product, str(year), code_version or _code_version())


def _iso(t: datetime) -> str:
    if t.tzinfo is None:
        raise PactError(f"时间须带时区 / a time needs its zone: {t.isoformat()}")
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def product_footprint(rule: ProductRule, figures: PcfFigures, *, company_name: str, company_ids: Sequence[str],
                      product_ids: Sequence[str], period_start: datetime, period_end: datetime, created: datetime,
                      product_name: str | None = None, product_description: str | None = None,
                      geography_subdivision: str | None = None, geography_country: str | None = None,
                      allocation_description: str | None = None,
                      secondary_sources: Iterable[tuple[str, str]] = (), preceding_ids: Sequence[str] = (),
                      status: str = "Active", comment: str = "", pf_id: str | None = None,
                      extension: Mapping[str, Any] | None = None, places: int = 6) -> dict[str, Any]:
    """The PACT v3.0.3 ``ProductFootprint`` of a product under ``rule``.

    Parameters
    ----------
    rule : ProductRule
        Declared unit, boundary, standards, PCR, classification (CAS) and carbon fraction come from it.
    figures : PcfFigures
        Per declared unit [kgCO2e, kgC].
    company_name, company_ids, product_ids : str, sequence of URN str
        The data owner and the product (``urn:…``).
    period_start, period_end, created : datetime (with zone)
        Reference period of the activity data and the creation time (pinned by the caller: the same inputs give
        the same document).
    geography_subdivision, geography_country : str, optional
        ISO 3166-2 (``CN-NM`` Inner Mongolia) or ISO 3166-1 alpha-2; at most one.
    preceding_ids : sequence of str
        Ids of earlier footprints of the same product this one replaces.
    pf_id : str, optional
        Default: :func:`footprint_id` of company, product, period and the figures.
    extension : mapping, optional
        carbonmet's own data (uncertainty, budget, provenance) as a ``DataModelExtension`` (``data``).

    Returns
    -------
    dict
        The JSON object; every decimal a string.

    Raises
    ------
    PactError
        Negative emissions or capture, capture without its origin, two geographies, times without zone.
    """
    f = figures
    if f.fossil_ghg_emissions < 0 or f.ccs_capture < 0 or f.fossil_carbon_content < 0 or f.ccu_carbon_content < 0:
        raise PactError("化石排放、捕集量与含碳量须 ≥ 0 / fossil emissions, capture and carbon content must be ≥ 0")
    if f.ccs_capture > 0 and not f.capture_origin.strip():
        raise PactError("有捕集时须给出去向 / technologicalCO2CaptureOrigin is required when CO2 is captured")
    if geography_subdivision and geography_country:
        raise PactError("地理范围只能给一个 / give one geography (subdivision or country), not both")
    if not company_ids or not product_ids:
        raise PactError("companyIds 与 productIds 至少一个 / at least one company id and one product id")
    dec = lambda x: decimal_string(x, places)
    start, end = _iso(period_start), _iso(period_end)
    excl = f.pcf_excluding_biogenic_uptake
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": rule.declared_unit,
        "declaredUnitAmount": dec(rule.declared_unit_amount),
        "productMassPerDeclaredUnit": dec(rule.product_mass_per_declared_unit),
        "referencePeriodStart": start,
        "referencePeriodEnd": end,
    }
    if geography_subdivision:
        pcf["geographyCountrySubdivision"] = geography_subdivision
    elif geography_country:
        pcf["geographyCountry"] = geography_country
    pcf |= {
        "boundaryProcessesDescription": rule.boundary_description,
        "pcfExcludingBiogenicUptake": dec(excl),
        "pcfIncludingBiogenicUptake": dec(excl),
        "fossilCarbonContent": dec(f.fossil_carbon_content),
        "biogenicCarbonContent": "0",
        "fossilGhgEmissions": dec(f.fossil_ghg_emissions),
        "packagingEmissionsIncluded": False,
        "ccsTechnologicalCO2CaptureIncluded": f.ccs_capture > 0,
    }
    if f.ccs_capture > 0:
        pcf["ccsTechnologicalCO2Capture"] = dec(-f.ccs_capture)
        pcf["technologicalCO2CaptureOrigin"] = f.capture_origin
    if f.ccu_carbon_content > 0:
        pcf["ccuCarbonContent"] = dec(f.ccu_carbon_content)
        pcf["ccuCalculationApproach"] = "Cut-off"
    pcf |= {
        "ipccCharacterizationFactors": [rule.gwp],
        "crossSectoralStandards": list(rule.cross_sectoral_standards),
        "productOrSectorSpecificRules": [{"operator": "Other", "ruleNames": [rule.pcr],
                                          "otherOperatorName": "CPCIF" if "CPCIF" in rule.pcr else "carbonmet"}],
        "exemptedEmissionsPercent": "0",
        "allocationRulesDescription": allocation_description or f"{rule.allocation} allocation; by-products "
                                                                 f"{rule.by_products}",
    }
    sources = [{"name": n, "version": v} for n, v in secondary_sources]
    if sources:
        pcf["secondaryEmissionFactorSources"] = sources
    if f.primary_data_share is not None:
        pcf["primaryDataShare"] = dec(f.primary_data_share)
    if f.dqi is not None:
        t, g, tm = f.dqi
        pcf["dqi"] = {"technologicalDQR": dec(t), "geographicalDQR": dec(g), "temporalDQR": dec(tm)}
    company_ids, product_ids = list(dict.fromkeys(company_ids)), list(dict.fromkeys(product_ids))
    pid = pf_id or footprint_id(company_ids[0], product_ids[0], start, end, json.dumps(pcf, sort_keys=True))
    doc: dict[str, Any] = {"id": pid, "specVersion": PACT_SPEC_VERSION}
    if preceding_ids:
        doc["precedingPfIds"] = list(dict.fromkeys(preceding_ids))
    doc |= {
        "created": _iso(created),
        "status": status,
        "companyName": company_name,
        "companyIds": company_ids,
        "productDescription": product_description or f"{rule.name_zh} {rule.name_en}, {rule.boundary}",
        "productIds": product_ids,
        "productClassifications": [rule.classification_urn],
        "productNameCompany": product_name or f"{rule.name_zh} {rule.name_en}",
    }
    note = comment
    if f.expanded_uncertainty is not None:
        note = (note + "\n" if note else "") + (f"扩展不确定度 expanded uncertainty U (k=2) = "
                                                f"{dec(f.expanded_uncertainty)} kgCO2e/{rule.declared_unit}")
    if note:
        doc["comment"] = note
    doc["pcf"] = pcf
    if extension is not None:
        doc["extensions"] = [{"specVersion": "1.0.0", "dataSchema": "https://carbonmet.invalid/schemas/footprint-1.json",
                              "data": dict(extension)}]
    return doc


@cache
def product_footprint_schema() -> dict[str, Any]:
    """Our strict JSON Schema (2020-12) of a v3.0.3 ProductFootprint (see its ``$comment`` for how it was written)."""
    text = (resources.files("carbonmet.footprint") / "data" / "pact" / "product-footprint-3.0.3.schema.json").read_text(
        encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def check_product_footprint(doc: Any) -> list[str]:
    """Problems of a ProductFootprint document, each naming its JSON path; empty when it conforms.

    Checks the strict schema (with formats: uuid, date-time, uri) and, beyond it: decimals never JSON numbers
    (the schema says so through string patterns), the v3 sum rule ``pcfExcludingBiogenicUptake`` = sum of its
    terms (to the last written decimal), ``ccsTechnologicalCO2CaptureIncluded`` true whenever capture is written.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(product_footprint_schema(),
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]
    pcf = doc.get("pcf") if isinstance(doc, dict) else None
    if problems or not isinstance(pcf, dict):
        return problems
    total = Decimal(pcf["pcfExcludingBiogenicUptake"])
    terms = sum((Decimal(pcf[k]) for k in _SUM_TERMS if k in pcf), Decimal(0))
    places = max(-Decimal(pcf[k]).as_tuple().exponent for k in ("pcfExcludingBiogenicUptake", *_SUM_TERMS)  # type: ignore[operator]
                 if k in pcf)
    if abs(total - terms) > Decimal(1).scaleb(-places) * len(_SUM_TERMS):
        problems.append(f"/pcf/pcfExcludingBiogenicUptake: {total} ≠ 各项之和 sum of its terms {terms} "
                        f"({' + '.join(k for k in _SUM_TERMS if k in pcf)})")
    if "ccsTechnologicalCO2Capture" in pcf and Decimal(pcf["ccsTechnologicalCO2Capture"]) != 0 \
            and pcf.get("ccsTechnologicalCO2CaptureIncluded") is not True:
        problems.append("/pcf/ccsTechnologicalCO2CaptureIncluded: 写了捕集量却未声明 / capture written but not "
                        "declared included")
    return problems


def _utc(t: str | datetime) -> datetime:
    d = datetime.fromisoformat(t) if isinstance(t, str) else t
    if d.tzinfo is None:
        raise PactError(f"时间须带时区 / a time needs its zone: {d.isoformat()}")
    return d.astimezone(UTC)


def validity_period(doc: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The validity period ``(start, end)`` of a ProductFootprint (UTC).

    ``validityPeriodStart``/``validityPeriodEnd`` when given; otherwise the period starts at the footprint's
    ``referencePeriodEnd`` and lasts 3 years (PACT v3.0.3, ``ProductFootprint.validityPeriodStart``: "If no
    validity period is specified, the ProductFootprint is valid for 3 years after the referencePeriodEnd").
    """
    ref_end = _utc(doc["pcf"]["referencePeriodEnd"])
    start = _utc(doc["validityPeriodStart"]) if doc.get("validityPeriodStart") else ref_end
    if doc.get("validityPeriodEnd"):
        end = _utc(doc["validityPeriodEnd"])
    else:
        try:
            end = ref_end.replace(year=ref_end.year + 3)
        except ValueError:  # 29 February
            end = ref_end.replace(year=ref_end.year + 3, day=28)
    return start, end


def _any_of(wanted: Sequence[str], have: Iterable[str]) -> bool:
    w = {x.casefold() for x in wanted}
    return any(h.casefold() in w for h in have)


def footprint_matches(doc: Mapping[str, Any], *, product_id: Sequence[str] = (), company_id: Sequence[str] = (),
                      geography: Sequence[str] = (), classification: Sequence[str] = (),
                      valid_on: datetime | None = None, valid_after: datetime | None = None,
                      valid_before: datetime | None = None, status: str | None = None) -> bool:
    """Whether a ProductFootprint matches the ``ListFootprints`` / ``RequestCreatedEvent`` filter criteria.

    Within a criterion the values are alternatives (OR), across criteria all must hold (AND); text matches ignore
    case. ``geography`` matches ``geographyRegion``, ``geographyCountry`` or ``geographyCountrySubdivision`` (and a
    subdivision ``CN-NM`` matches its country ``CN``). Validity: ``start ≤ valid_on ≤ end``, ``start >
    valid_after``, ``end < valid_before`` over :func:`validity_period`.

    References
    ----------
    PACT Technical Specifications v3.0.3, ``spec/v3/openapi.yaml``: ``/3/footprints`` (Filtering) and
    ``components/parameters``.
    """
    pcf = doc.get("pcf", {})
    if product_id and not _any_of(product_id, doc.get("productIds", ())):
        return False
    if company_id and not _any_of(company_id, doc.get("companyIds", ())):
        return False
    if classification and not _any_of(classification, doc.get("productClassifications", ())):
        return False
    if geography:
        places = [str(pcf[k]) for k in ("geographyRegion", "geographyCountry", "geographyCountrySubdivision")
                  if pcf.get(k)]
        places += [p.split("-", 1)[0] for p in places if "-" in p]
        if not _any_of(geography, places):
            return False
    if status is not None and str(doc.get("status", "")).casefold() != status.casefold():
        return False
    if valid_on is not None or valid_after is not None or valid_before is not None:
        start, end = validity_period(doc)
        if valid_on is not None and not start <= _utc(valid_on) <= end:
            return False
        if valid_after is not None and not start > _utc(valid_after):
            return False
        if valid_before is not None and not end < _utc(valid_before):
            return False
    return True
