"""Write a :class:`DccCertificate` as DCC 3.3.0 XML (units and uncertainties in D-SI 2.2 form)."""

from __future__ import annotations

import math
from importlib import metadata
from itertools import groupby

from lxml import etree

from ._dsi import parse_dsi
from ._errors import DccError, DsiUnitError
from ._model import (
    CONFORMITY,
    ISSUERS,
    PERFORMANCE_LOCATIONS,
    DccCertificate,
    DccCondition,
    DccContact,
    DccEquipment,
    DccIdentification,
    DccResult,
)
from ._reader import NO_HASH
from ._xml import DCC_NS, NSMAP, XSI_NS, dcc, is_cjk, si

#: The DCC schema version :func:`write_dcc` writes.
WRITE_SCHEMA_VERSION = "3.3.0"
_SCHEMA_LOCATION = f"{DCC_NS} https://ptb.de/dcc/v{WRITE_SCHEMA_VERSION}/dcc.xsd"


def _version() -> str:
    try:
        return metadata.version("carbonmet")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _num(v: float) -> str:
    if not math.isfinite(v):
        raise DccError(f"cannot write non-finite number {v!r}")
    return repr(float(v))


class _Writer:
    def __init__(self, cert: DccCertificate) -> None:
        self.cert = cert
        latin = [x for x in (*cert.mandatory_languages, *cert.languages) if x != "zh"]
        self.latin_lang = latin[0] if latin else "en"

    def sub(
        self, parent: etree._Element, tag: str, text: str | None = None, **attrib: str | None
    ) -> etree._Element:
        el = etree.SubElement(parent, tag, {k: v for k, v in attrib.items() if v is not None})
        if text is not None:
            el.text = text
        return el

    def text(self, parent: etree._Element, tag: str, value: str) -> etree._Element:
        """A dcc:textType element with one dcc:content in the language of its script."""
        el = self.sub(parent, tag)
        self.sub(el, dcc("content"), value, lang="zh" if is_cjk(value) else self.latin_lang)
        return el

    # -- administrative data ----------------------------------------------------------------
    def document(self) -> etree._Element:
        c = self.cert
        root = etree.Element(dcc("digitalCalibrationCertificate"), nsmap={**NSMAP, "xsi": XSI_NS})
        root.set("schemaVersion", WRITE_SCHEMA_VERSION)
        root.set(f"{{{XSI_NS}}}schemaLocation", _SCHEMA_LOCATION)
        adm = self.sub(root, dcc("administrativeData"))
        sw = self.sub(self.sub(adm, dcc("dccSoftware")), dcc("software"))
        self.text(sw, dcc("name"), "carbonmet")
        self.sub(sw, dcc("release"), _version())
        self.sub(sw, dcc("type"), "application")
        self.core(adm)
        items = self.sub(adm, dcc("items"))
        if not c.items:
            raise DccError("a DCC needs at least one item (dcc:items/dcc:item)")
        for it in c.items:
            el = self.sub(items, dcc("item"))
            self.text(el, dcc("name"), it.name)
            if it.manufacturer:
                self.text(self.sub(el, dcc("manufacturer")), dcc("name"), it.manufacturer)
            if it.model:
                self.sub(el, dcc("model"), it.model)
            if not it.identifications:
                raise DccError(f"item {it.name!r} needs at least one identification (e.g. its serial number)")
            self.identifications(el, it.identifications)
        lab = self.sub(adm, dcc("calibrationLaboratory"))
        if c.laboratory_code:
            self.sub(lab, dcc("calibrationLaboratoryCode"), c.laboratory_code)
        self.contact(lab, dcc("contact"), c.calibration_laboratory, strict=True)
        if not c.resp_persons:
            raise DccError("a DCC needs at least one responsible person (dcc:respPersons)")
        persons = self.sub(adm, dcc("respPersons"))
        for p in c.resp_persons:
            el = self.sub(persons, dcc("respPerson"))
            self.text(self.sub(el, dcc("person")), dcc("name"), p.name)
            if p.role:
                self.sub(el, dcc("role"), p.role)
            if p.main_signer:
                self.sub(el, dcc("mainSigner"), "true")
        self.contact(adm, dcc("customer"), c.customer, strict=True)
        if c.statements:
            sts = self.sub(adm, dcc("statements"))
            for st in c.statements:
                el = self.sub(sts, dcc("statement"), refType=st.ref_type)
                if st.traceable is not None:
                    self.sub(el, dcc("traceable"), "true" if st.traceable else "false")
                for n in st.norms:
                    self.sub(el, dcc("norm"), n)
                if st.text:
                    self.text(el, dcc("declaration"), st.text)
                if st.date is not None:
                    self.sub(el, dcc("date"), st.date.isoformat())
                if st.conformity is not None:
                    if st.conformity not in CONFORMITY:
                        raise DccError(f"conformity {st.conformity!r} is not one of {', '.join(CONFORMITY)}")
                    self.sub(el, dcc("conformity"), st.conformity)
        self.results(root)
        return root

    def core(self, adm: etree._Element) -> None:
        c = self.cert
        core = self.sub(adm, dcc("coreData"))
        self.sub(core, dcc("countryCodeISO3166_1"), c.country_code)
        if not c.languages or not c.mandatory_languages:
            raise DccError("a DCC needs used and mandatory language codes")
        for lang in c.languages:
            self.sub(core, dcc("usedLangCodeISO639_1"), lang)
        for lang in c.mandatory_languages:
            self.sub(core, dcc("mandatoryLangCodeISO639_1"), lang)
        self.sub(core, dcc("uniqueIdentifier"), c.unique_identifier)
        if c.receipt_date is not None:
            self.sub(core, dcc("receiptDate"), c.receipt_date.isoformat())
        self.sub(core, dcc("beginPerformanceDate"), c.begin_performance_date.isoformat())
        self.sub(core, dcc("endPerformanceDate"), c.end_performance_date.isoformat())
        if c.performance_location not in PERFORMANCE_LOCATIONS:
            raise DccError(
                f"performanceLocation {c.performance_location!r} is not one of {', '.join(PERFORMANCE_LOCATIONS)}"
            )
        self.sub(core, dcc("performanceLocation"), c.performance_location)
        if c.issue_date is not None:
            self.sub(core, dcc("issueDate"), c.issue_date.isoformat())

    def contact(self, parent: etree._Element, tag: str, ct: DccContact, *, strict: bool) -> None:
        el = self.sub(parent, tag)
        self.text(el, dcc("name"), ct.name)
        if ct.email:
            self.sub(el, dcc("eMail"), ct.email)
        if ct.phone:
            self.sub(el, dcc("phone"), ct.phone)
        if not ct.has_location:
            if strict:
                raise DccError(f"contact {ct.name!r} needs a location (city, country code …) in a DCC")
            return
        loc = self.sub(el, dcc("location"))
        for tag_, value in (
            ("street", ct.street),
            ("streetNo", ct.street_no),
            ("postCode", ct.post_code),
            ("city", ct.city),
            ("state", ct.state),
            ("countryCode", ct.country_code),
        ):
            if value is not None:
                self.sub(loc, dcc(tag_), value)
        if ct.further is not None:
            self.text(loc, dcc("further"), ct.further)

    def identifications(self, parent: etree._Element, idents: tuple[DccIdentification, ...]) -> None:
        lst = self.sub(parent, dcc("identifications"))
        for ident in idents:
            if ident.issuer not in ISSUERS:
                raise DccError(f"identification issuer {ident.issuer!r} is not one of {', '.join(ISSUERS)}")
            el = self.sub(lst, dcc("identification"))
            self.sub(el, dcc("issuer"), ident.issuer)
            self.sub(el, dcc("value"), ident.value)
            if ident.name:
                self.text(el, dcc("name"), ident.name)

    def equipment(self, parent: etree._Element, eq: DccEquipment) -> None:
        el = self.sub(parent, dcc("measuringEquipment"), refType=eq.ref_type)
        self.text(el, dcc("name"), eq.name)
        if eq.certificate is not None:
            ref = eq.certificate
            h = self.sub(el, dcc("certificate"))
            self.text(h, dcc("referral"), ref.referral or ref.referral_id)
            self.sub(h, dcc("referralID"), ref.referral_id)
            self.sub(h, dcc("procedure"), ref.procedure or NO_HASH)
            self.sub(h, dcc("value"), ref.value or NO_HASH)
        if eq.manufacturer:
            self.text(self.sub(el, dcc("manufacturer")), dcc("name"), eq.manufacturer)
        if eq.model:
            self.sub(el, dcc("model"), eq.model)
        if eq.identifications:
            self.identifications(el, eq.identifications)

    # -- measurement results --------------------------------------------------------------
    def results(self, root: etree._Element) -> None:
        c = self.cert
        if not c.results:
            raise DccError("a DCC needs at least one result (dcc:measurementResults/…/dcc:result)")
        mrs = self.sub(root, dcc("measurementResults"))
        if c.methods:
            lst = self.sub(mrs, dcc("usedMethods"))
            for m in c.methods:
                el = self.sub(lst, dcc("usedMethod"), refType=m.ref_type)
                self.text(el, dcc("name"), m.name)
                for n in m.norms:
                    self.sub(el, dcc("norm"), n)
        if c.equipment:
            lst = self.sub(mrs, dcc("measuringEquipments"))
            for eq in c.equipment:
                self.equipment(lst, eq)
        for mr_name, group in groupby(c.results, key=lambda r: r.measurement_result):
            rs = list(group)
            mr = self.sub(mrs, dcc("measurementResult"))
            self.text(mr, dcc("name"), mr_name)
            shared = rs[0].conditions if all(r.conditions == rs[0].conditions for r in rs) else None
            if shared:
                self.conditions(mr, shared)
            results = self.sub(mr, dcc("results"))
            for res_name, rgroup in groupby(rs, key=lambda r: r.result):
                res = self.sub(results, dcc("result"))
                self.text(res, dcc("name"), res_name)
                data = self.sub(res, dcc("data"))
                for r in rgroup:
                    self.quantity(data, r, with_conditions=shared is None)

    def conditions(self, parent: etree._Element, conds: tuple[DccCondition, ...]) -> None:
        lst = self.sub(parent, dcc("influenceConditions"))
        for cond in conds:
            el = self.sub(lst, dcc("influenceCondition"), refType=cond.ref_type)
            self.text(el, dcc("name"), cond.name)
            data = self.sub(el, dcc("data"))
            if not cond.quantities:
                text = self.sub(data, dcc("text"))
                self.sub(text, dcc("content"), cond.name, lang="zh" if is_cjk(cond.name) else self.latin_lang)
            for q in cond.quantities:
                self.quantity(data, q, with_conditions=True)

    def quantity(self, parent: etree._Element, r: DccResult, *, with_conditions: bool) -> None:
        try:
            parse_dsi(r.unit)
        except DsiUnitError as exc:
            raise DsiUnitError(f"result {r.name!r}: {exc.reason}", token=exc.token) from None
        q = self.sub(parent, dcc("quantity"), refType=r.ref_type)
        self.text(q, dcc("name"), r.name)
        if len(r.values) == 1:
            self.real(q, r)
        else:
            self.real_list(q, r)
        if with_conditions and r.conditions:
            self.conditions(q, r.conditions)

    def real(self, parent: etree._Element, r: DccResult) -> None:
        el = self.sub(parent, si("real"))
        self.sub(el, si("value"), _num(r.values[0]))
        self.sub(el, si("unit"), r.unit)
        self.uncertainty(el, r, single=True)

    def real_list(self, parent: etree._Element, r: DccResult) -> None:
        el = self.sub(parent, si("realListXMLList"))
        self.sub(el, si("valueXMLList"), " ".join(_num(v) for v in r.values))
        self.sub(el, si("unitXMLList"), r.unit)
        self.uncertainty(el, r, single=False)

    def uncertainty(self, el: etree._Element, r: DccResult, *, single: bool) -> None:
        s = "" if single else "XMLList"

        def put(parent: etree._Element, tag: str, vals: tuple[float, ...]) -> None:
            if single:
                self.sub(parent, si(tag), _num(vals[0]))
            else:
                compact = (
                    vals[:1]
                    if len(set(vals)) == 1 and tag in ("coverageFactor", "coverageProbability")
                    else vals
                )
                self.sub(parent, si(tag + s), " ".join(_num(v) for v in compact))

        def put_dist(parent: etree._Element) -> None:
            if r.distribution:
                d = r.distribution
                if not single and len(set(d)) == 1:
                    d = d[:1]
                self.sub(parent, si("distribution" + s), " ".join(d))

        if r.expanded_uncertainty:
            if not (r.coverage_factor and r.coverage_probability):
                raise DccError(
                    f"result {r.name!r}: D-SI expandedMU needs both coverage_factor and coverage_probability"
                )
            mu = self.sub(self.sub(el, si("measurementUncertaintyUnivariate" + s)), si("expandedMU" + s))
            put(mu, "valueExpandedMU", r.expanded_uncertainty)
            put(mu, "coverageFactor", r.coverage_factor)
            put(mu, "coverageProbability", r.coverage_probability)
            put_dist(mu)
        elif r.coverage_interval:
            mu = self.sub(
                self.sub(el, si("measurementUncertaintyUnivariate" + s)), si("coverageIntervalMU" + s)
            )
            put(mu, "valueStandardMU", r.standard_uncertainty)
            put(mu, "intervalMin", tuple(a for a, _ in r.coverage_interval))
            put(mu, "intervalMax", tuple(b for _, b in r.coverage_interval))
            put(mu, "coverageProbability", r.coverage_probability)
            put_dist(mu)
        elif r.standard_uncertainty:
            mu = self.sub(self.sub(el, si("measurementUncertaintyUnivariate" + s)), si("standardMU" + s))
            put(mu, "valueStandardMU", r.standard_uncertainty)
            put_dist(mu)
        elif r.coverage_factor or r.coverage_probability or r.distribution:
            raise DccError(
                f"result {r.name!r}: coverage factor/probability/distribution without an uncertainty"
            )


def write_dcc(cert: DccCertificate) -> bytes:
    """Write a certificate as a DCC 3.3.0 XML document (UTF-8, pretty-printed).

    Parameters
    ----------
    cert : DccCertificate
        The content; ``raw`` and ``schema_version`` are ignored.

    Returns
    -------
    bytes
        The XML. ``dccSoftware`` names carbonmet and its version; each single value is an
        ``si:real``, each multi-point result an ``si:realListXMLList``; uncertainties are D-SI 2.2
        ``si:measurementUncertaintyUnivariate`` (``expandedMU`` / ``standardMU`` / ``coverageIntervalMU``).

    Raises
    ------
    DccError
        If the content lacks something the schema requires (an item identification, a contact
        location, k and p for an expanded uncertainty, a responsible person …).
    """
    root = _Writer(cert).document()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
