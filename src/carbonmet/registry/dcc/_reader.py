"""Read a PTB DCC XML document into a :class:`DccCertificate`."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from lxml import etree

from ._dsi import dsi_to_pint, parse_dsi
from ._errors import DccError, DsiUnitError
from ._model import (
    DccCertificate,
    DccCertificateRef,
    DccCondition,
    DccContact,
    DccEquipment,
    DccIdentification,
    DccItem,
    DccMethod,
    DccPerson,
    DccResult,
    DccStatement,
)
from ._xml import DCC_NS, NUMBER_RE, dcc, element_path, qname, si

_DATE_RE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})")
#: Children of a dcc:quantity that describe it rather than hold its value (read elsewhere or not needed).
_QUANTITY_META = frozenset(dcc(t) for t in (
    "name", "description", "usedMethods", "usedSoftware", "influenceConditions", "measurementMetaData",
    "measuringEquipments"))
#: Children of a dcc:list that describe it (its conditions are read with it).
_LIST_META = frozenset(dcc(t) for t in (
    "name", "description", "dateTime", "dateTimeXMLList", "usedMethods", "usedSoftware", "influenceConditions",
    "measurementMetaData", "measuringEquipments"))
#: Written by :func:`write_dcc` where the schema needs a hash but none is known.
NO_HASH = "none"


def _load(source: bytes | str | Path) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, ""
    if isinstance(source, Path):
        try:
            return source.read_bytes(), str(source)
        except OSError as exc:
            raise DccError(f"cannot read file: {exc.strerror}", source=str(source)) from exc
    if isinstance(source, str):
        if source.lstrip("\ufeff \t\r\n").startswith("<"):
            return source.encode("utf-8"), ""
        return _load(Path(source))
    raise TypeError(f"read_dcc() takes bytes, str or Path, not {type(source).__name__}")


def read_dcc(source: bytes | str | Path) -> DccCertificate:
    """Read a Digital Calibration Certificate (DCC, PTB schema 3.x; D-SI 2.x units).

    Parameters
    ----------
    source : bytes, str or pathlib.Path
        The XML as bytes; a ``str`` that starts with ``<`` is XML text, any other ``str`` or a
        ``Path`` is a file name.

    Returns
    -------
    DccCertificate
        With ``raw`` holding the source bytes unchanged.

    Raises
    ------
    DccError
        Not XML, wrong root element, a required element missing, a non-numeric value, an
        inconsistent uncertainty statement, an unresolved entity reference (``&x;``), a core
        element given twice (``uniqueIdentifier`` …); the message names the element path and line.
    DsiUnitError
        A malformed D-SI unit string; ``token`` names the bad token.
    """
    raw, name = _load(source)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise DccError(f"not well-formed XML: {exc.msg}", line=line, source=name) from exc
    reader = _Reader(name)
    for ent in root.iter(etree.Entity):  # not resolved (no DTD is trusted): its text would silently vanish
        raise reader.err(f"unresolved XML entity {ent.text!r}; write the text itself", ent.getparent(),
                         token=str(ent.text))
    return reader.certificate(root, raw)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lang_pref: list[str] = ["zh", "en"]
        self.unsupported: list[str] = []

    # -- errors and primitive values -------------------------------------------------
    def err(
        self, message: str, el: etree._Element, *, token: str = "", cls: type[DccError] = DccError
    ) -> DccError:
        return cls(message, path=element_path(el), line=el.sourceline, token=token, source=self.source)

    def child(self, parent: etree._Element, tag: str) -> etree._Element | None:
        return parent.find(tag)

    def req(self, parent: etree._Element, tag: str) -> etree._Element:
        el = parent.find(tag)
        if el is None:
            short = tag.replace(f"{{{DCC_NS}}}", "dcc:").replace("{https://ptb.de/si}", "si:")
            raise self.err(f"missing required element {short}", parent, token=short)
        return el

    def string(self, el: etree._Element | None) -> str | None:
        if el is None:
            return None
        return " ".join((el.text or "").split())

    def req_string(self, parent: etree._Element, tag: str) -> str:
        el = self.req(parent, tag)
        s = self.string(el) or ""
        if not s:
            raise self.err("element is empty", el)
        return s

    def number(self, el: etree._Element) -> float:
        text = (el.text or "").strip()
        if not NUMBER_RE.fullmatch(text):
            raise self.err(f"non-numeric value {text!r}", el, token=text)
        return float(text)

    def numbers(self, el: etree._Element) -> tuple[float, ...]:
        tokens = (el.text or "").split()
        if not tokens:
            raise self.err("empty list of numbers", el)
        for t in tokens:
            if not NUMBER_RE.fullmatch(t):
                raise self.err(f"non-numeric value {t!r} in list", el, token=t)
        return tuple(float(t) for t in tokens)

    def date(self, el: etree._Element | None) -> date | None:
        if el is None:
            return None
        text = (el.text or "").strip()
        m = _DATE_RE.match(text)
        try:
            if m is None:
                raise ValueError
            return date.fromisoformat(m.group(1))
        except ValueError:
            raise self.err(f"not a date (YYYY-MM-DD): {text!r}", el, token=text) from None

    def boolean(self, el: etree._Element | None) -> bool | None:
        if el is None:
            return None
        text = (el.text or "").strip()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise self.err(f"not a boolean: {text!r}", el, token=text)

    def text(self, el: etree._Element | None) -> str:
        """Text of a dcc:textType / richContentType: the preferred language's dcc:content."""
        if el is None:
            return ""
        contents = [c for c in el.findall(dcc("content"))]
        if not contents:
            return ""
        by_lang = {c.get("lang", ""): " ".join((c.text or "").split()) for c in reversed(contents)}
        for lang in self.lang_pref:
            if by_lang.get(lang):
                return by_lang[lang]
        if by_lang.get(""):
            return by_lang[""]
        return " ".join((contents[0].text or "").split())

    def unit(self, el: etree._Element, text: str | None = None) -> tuple[str, str]:
        s = (el.text or "").strip() if text is None else text
        try:
            parse_dsi(s)
            return s, dsi_to_pint(s)
        except DsiUnitError as exc:
            raise self.err(exc.reason, el, token=exc.token, cls=DsiUnitError) from None

    # -- the certificate ---------------------------------------------------------------
    def certificate(self, root: etree._Element, raw: bytes) -> DccCertificate:
        if root.tag != dcc("digitalCalibrationCertificate"):
            q = etree.QName(root)
            got = f"{{{q.namespace}}}{q.localname}" if q.namespace else q.localname
            raise self.err(
                f"root element is {got}, not dcc:digitalCalibrationCertificate (namespace {DCC_NS})",
                root,
                token=got,
            )
        version = (root.get("schemaVersion") or "").strip()
        adm = self.req(root, dcc("administrativeData"))
        core = self.req(adm, dcc("coreData"))
        mandatory = tuple(self.string(e) or "" for e in core.findall(dcc("mandatoryLangCodeISO639_1")))
        used = tuple(self.string(e) or "" for e in core.findall(dcc("usedLangCodeISO639_1")))
        self.lang_pref = [x for x in (*mandatory, "zh", "en", *used) if x]
        for tag in ("uniqueIdentifier", "beginPerformanceDate", "endPerformanceDate", "issueDate", "receiptDate"):
            found = core.findall(dcc(tag))
            if len(found) > 1:  # which one would count? refuse rather than pick
                raise self.err(f"dcc:{tag} is given {len(found)} times; a certificate has one", found[1],
                               token=f"dcc:{tag}")
        uid = self.req_string(core, dcc("uniqueIdentifier"))
        begin = self.date(self.req(core, dcc("beginPerformanceDate")))
        end = self.date(self.req(core, dcc("endPerformanceDate")))
        assert begin is not None and end is not None
        if end < begin:
            raise self.err(f"endPerformanceDate {end} is before beginPerformanceDate {begin}", core)
        lab_el = self.req(adm, dcc("calibrationLaboratory"))
        results_el = self.req(root, dcc("measurementResults"))
        equipment = self.unique([self.equipment(e) for e in results_el.iter(dcc("measuringEquipment"))])
        methods = self.unique([self.method(e) for e in results_el.iter(dcc("usedMethod"))])
        statements_el = adm.find(dcc("statements"))
        cert = DccCertificate(
            unique_identifier=uid,
            begin_performance_date=begin,
            end_performance_date=end,
            calibration_laboratory=self.contact(self.req(lab_el, dcc("contact"))),
            customer=self.contact(self.req(adm, dcc("customer"))),
            items=tuple(self.item(e) for e in self.req(adm, dcc("items")).findall(dcc("item"))),
            results=self.results(results_el),
            schema_version=version,
            laboratory_code=self.string(lab_el.find(dcc("calibrationLaboratoryCode"))),
            performance_location=self.string(core.find(dcc("performanceLocation"))),
            issue_date=self.date(core.find(dcc("issueDate"))),
            receipt_date=self.date(core.find(dcc("receiptDate"))),
            country_code=self.string(core.find(dcc("countryCodeISO3166_1"))) or "",
            languages=used,
            mandatory_languages=mandatory,
            resp_persons=tuple(
                self.person(e) for e in self.req(adm, dcc("respPersons")).findall(dcc("respPerson"))
            ),
            statements=tuple(self.statement(e) for e in statements_el.findall(dcc("statement")))
            if statements_el is not None
            else (),
            equipment=equipment,
            methods=methods,
            raw=raw,
            unsupported=tuple(self.unsupported),
        )
        return cert

    @staticmethod
    def unique(xs: list) -> tuple:  # type: ignore[type-arg]
        out: list = []  # type: ignore[type-arg]
        for x in xs:
            if x not in out:
                out.append(x)
        return tuple(out)

    def contact(self, el: etree._Element) -> DccContact:
        loc = el.find(dcc("location"))

        def field(tag: str) -> str | None:
            if loc is None:
                return None
            return self.string(loc.find(dcc(tag)))

        further = self.text(loc.find(dcc("further"))) if loc is not None else ""
        return DccContact(
            name=self.text(self.req(el, dcc("name"))),
            email=self.string(el.find(dcc("eMail"))),
            phone=self.string(el.find(dcc("phone"))),
            street=field("street"),
            street_no=field("streetNo"),
            post_code=field("postCode"),
            city=field("city"),
            state=field("state"),
            country_code=field("countryCode"),
            further=further or None,
        )

    def identifications(self, parent: etree._Element) -> tuple[DccIdentification, ...]:
        lst = parent.find(dcc("identifications"))
        if lst is None:
            return ()
        return tuple(
            DccIdentification(
                issuer=self.req_string(e, dcc("issuer")),
                value=self.req_string(e, dcc("value")),
                name=self.text(e.find(dcc("name"))) or self.text(e.find(dcc("description"))),
            )
            for e in lst.findall(dcc("identification"))
        )

    def item(self, el: etree._Element) -> DccItem:
        man = el.find(dcc("manufacturer"))
        return DccItem(
            name=self.text(self.req(el, dcc("name"))),
            manufacturer=self.text(man.find(dcc("name"))) if man is not None else None,
            model=self.string(el.find(dcc("model"))),
            identifications=self.identifications(el),
        )

    def person(self, el: etree._Element) -> DccPerson:
        p = self.req(el, dcc("person"))
        name_el = p.find(dcc("name"))
        name = self.text(name_el) if name_el is not None else (self.string(p) or "")
        return DccPerson(
            name=name,
            role=self.string(el.find(dcc("role"))),
            main_signer=bool(self.boolean(el.find(dcc("mainSigner")))),
        )

    def statement(self, el: etree._Element) -> DccStatement:
        text = (
            self.text(el.find(dcc("declaration")))
            or self.text(el.find(dcc("description")))
            or self.text(el.find(dcc("name")))
        )
        return DccStatement(
            ref_type=el.get("refType"),
            text=text,
            conformity=self.string(el.find(dcc("conformity"))),
            norms=tuple(self.string(n) or "" for n in el.findall(dcc("norm"))),
            traceable=self.boolean(el.find(dcc("traceable"))),
            date=self.date(el.find(dcc("date"))),
        )

    def method(self, el: etree._Element) -> DccMethod:
        return DccMethod(
            name=self.text(el.find(dcc("name"))),
            norms=tuple(self.string(n) or "" for n in el.findall(dcc("norm"))),
            ref_type=el.get("refType"),
        )

    def equipment(self, el: etree._Element) -> DccEquipment:
        man = el.find(dcc("manufacturer"))
        cert_el = el.find(dcc("certificate"))
        ref = None
        if cert_el is not None:
            rid = self.req_string(cert_el, dcc("referralID"))
            referral = self.text(cert_el.find(dcc("referral")))
            proc = self.string(cert_el.find(dcc("procedure"))) or ""
            value = self.string(cert_el.find(dcc("value"))) or ""
            ref = DccCertificateRef(
                referral_id=rid,
                referral="" if referral == rid else referral,
                procedure="" if proc == NO_HASH else proc,
                value="" if value == NO_HASH else value,
            )
        return DccEquipment(
            name=self.text(self.req(el, dcc("name"))),
            ref_type=el.get("refType"),
            manufacturer=self.text(man.find(dcc("name"))) if man is not None else None,
            model=self.string(el.find(dcc("model"))),
            identifications=self.identifications(el),
            certificate=ref,
        )

    # -- measurement results --------------------------------------------------------------
    def conditions(self, parent: etree._Element) -> tuple[DccCondition, ...]:
        lst = parent.find(dcc("influenceConditions"))
        if lst is None:
            return ()
        out = []
        for c in lst.findall(dcc("influenceCondition")):
            data = c.find(dcc("data"))
            qs = tuple(self.walk_data(data, "", "", ())) if data is not None else ()
            out.append(
                DccCondition(name=self.text(c.find(dcc("name"))), ref_type=c.get("refType"), quantities=qs)
            )
        return tuple(out)

    def results(self, results_el: etree._Element) -> tuple[DccResult, ...]:
        common = self.conditions(results_el)
        out: list[DccResult] = []
        for mr in results_el.findall(dcc("measurementResult")):
            mr_name = self.text(mr.find(dcc("name")))
            inherited = common + self.conditions(mr)
            res_list = self.req(mr, dcc("results"))
            for res in res_list.findall(dcc("result")):
                res_name = self.text(res.find(dcc("name")))
                data = self.req(res, dcc("data"))
                out.extend(self.walk_data(data, mr_name, res_name, inherited))
        return tuple(out)

    def not_read(self, el: etree._Element, what: str = "") -> None:
        """Record an element carbonmet does not read (``path: reason``); the rest of the document is read."""
        text = self.text(el) if el.find(dcc("content")) is not None else ""
        shown = f" {text[:80]!r}" if text else ""
        self.unsupported.append(f"{element_path(el)}: {qname(el)}{shown} not read{what}")

    def walk_data(
        self, parent: etree._Element, mr: str, res: str, inherited: tuple[DccCondition, ...]
    ) -> list[DccResult]:
        """Quantities of a ``dcc:data`` (or ``dcc:list``); text, formulas, files, XML and unknown elements
        (DCC 2.x/3.x) are listed in ``unsupported`` and skipped, never fatal."""
        out: list[DccResult] = []
        for el in parent:
            if not isinstance(el.tag, str) or el.tag in _LIST_META:
                continue
            if el.tag == dcc("quantity"):
                out.extend(self.quantity(el, mr, res, inherited))
            elif el.tag == dcc("list"):
                out.extend(self.walk_data(el, mr, res, inherited + self.conditions(el)))
            else:
                self.not_read(el)
        return out

    def quantity(
        self, q: etree._Element, mr: str, res: str, inherited: tuple[DccCondition, ...]
    ) -> list[DccResult]:
        """The numeric value(s) of a ``dcc:quantity``: its si:real, si:realListXMLList, si:hybrid, si:constant,
        or the si:real members of a D-SI 1.x ``si:list``. ``dcc:noQuantity`` (text instead of a number) and
        unknown value elements are listed as not read."""
        name = self.text(q.find(dcc("name")))
        conditions = inherited + self.conditions(q)
        ctx = {"name": name or res, "ref_type": q.get("refType"), "measurement_result": mr, "result": res}
        readers: dict[str, Callable[[etree._Element], dict]] = {  # type: ignore[type-arg]
            si("real"): self.real,
            si("realListXMLList"): self.real_list,
            si("hybrid"): self.hybrid,
            si("constant"): self.constant,
        }
        for el in q:
            if not isinstance(el.tag, str) or el.tag in _QUANTITY_META:
                continue
            if el.tag == si("list"):
                return self.si_list(el, ctx, conditions, readers)
            reader = readers.get(el.tag)
            if reader is None:
                self.not_read(el)
                continue
            return [self.result(el, reader(el), ctx, conditions)]
        return []

    def result(self, el: etree._Element, fields: dict, ctx: dict, conditions: tuple[DccCondition, ...]  # type: ignore[type-arg]
               ) -> DccResult:
        try:
            return DccResult(**ctx, **fields, conditions=conditions, path=element_path(el))
        except DsiUnitError:
            raise
        except DccError as exc:
            raise self.err(exc.reason, el) from None

    def si_list(self, el: etree._Element, ctx: dict, conditions: tuple[DccCondition, ...],  # type: ignore[type-arg]
                readers: dict) -> list[DccResult]:  # type: ignore[type-arg]
        """A D-SI 1.x ``si:list``: each ``si:real`` member is a result of its own (``name[i]``)."""
        out: list[DccResult] = []
        members = [m for m in el if isinstance(m.tag, str) and m.tag not in (si("label"), si("dateTime"))]
        for i, m in enumerate(members):
            if m.tag != si("real"):
                self.not_read(m, " (only si:real members of an si:list are read)")
                continue
            label = ctx["name"] if len(members) == 1 else f"{ctx['name']}[{i}]"
            out.append(self.result(m, readers[m.tag](m), {**ctx, "name": label}, conditions))
        return out

    def hybrid(self, el: etree._Element) -> dict:  # type: ignore[type-arg]
        first: DccError | None = None
        for member in el:
            reader = {
                si("real"): self.real,
                si("realListXMLList"): self.real_list,
                si("constant"): self.constant,
            }.get(member.tag)
            if reader is None:
                continue
            try:
                return reader(member)
            except DsiUnitError as exc:  # a hybrid may hold non-SI units; the SI member is the one read
                first = first or exc
        if first is not None:
            raise first
        raise self.err("si:hybrid holds no si:real or si:realListXMLList", el)

    def constant(self, el: etree._Element) -> dict:  # type: ignore[type-arg]
        value = self.number(self.req(el, si("value")))
        unit, pint_unit = self.unit(self.req(el, si("unit")))
        out: dict = {"values": (value,), "unit": unit, "pint_unit": pint_unit}  # type: ignore[type-arg]
        u = el.find(si("valueStandardMU"))
        if u is None:
            u = el.find(si("uncertainty"))
        if u is not None:
            out["standard_uncertainty"] = (self.number(u),)
        d = el.find(si("distribution"))
        if d is not None and u is not None:
            out["distribution"] = (self.string(d) or "",)
        return out

    def real(self, el: etree._Element) -> dict:  # type: ignore[type-arg]
        value = self.number(self.req(el, si("value")))
        unit, pint_unit = self.unit(self.req(el, si("unit")))
        out: dict = {"values": (value,), "unit": unit, "pint_unit": pint_unit}  # type: ignore[type-arg]
        out.update(self.uncertainty(el, 1, suffix=""))
        return out

    def real_list(self, el: etree._Element) -> dict:  # type: ignore[type-arg]
        values = self.numbers(self.req(el, si("valueXMLList")))
        unit_el = self.req(el, si("unitXMLList"))
        units = (unit_el.text or "").split()
        if not units:
            raise self.err("empty si:unitXMLList", unit_el)
        if len(units) not in (1, len(values)):
            raise self.err(f"{len(units)} units for {len(values)} values", unit_el)
        if len(set(units)) > 1:
            bad = next(u for u in units if u != units[0])
            raise self.err("different units within one si:unitXMLList are not supported", unit_el, token=bad)
        unit, pint_unit = self.unit(unit_el, units[0])
        out: dict = {"values": values, "unit": unit, "pint_unit": pint_unit}  # type: ignore[type-arg]
        out.update(self.uncertainty(el, len(values), suffix="XMLList"))
        return out

    def uncertainty(self, el: etree._Element, n: int, suffix: str) -> dict:  # type: ignore[type-arg]
        """Read the univariate uncertainty of an si:real (suffix "") or si:realListXMLList (suffix "XMLList")."""
        s = suffix

        def get(parent: etree._Element, tag: str, *, required: bool = True) -> tuple[float, ...] | None:
            e = parent.find(si(tag + s))
            if e is None:
                if required:
                    self.req(parent, si(tag + s))  # raises the "missing element" error
                return None
            vals = self.numbers(e) if s else (self.number(e),)
            if len(vals) == 1 and n > 1:
                vals = vals * n
            if len(vals) != n:
                raise self.err(f"{len(vals)} entries for {n} values", e)
            return vals

        def dist(parent: etree._Element) -> tuple[str, ...]:
            e = parent.find(si("distribution" + s))
            if e is None:
                return ()
            words = (e.text or "").split() if s else [self.string(e) or ""]
            if len(words) == 1 and n > 1:
                words = words * n
            if len(words) != n:
                raise self.err(f"{len(words)} entries for {n} values", e)
            return tuple(words)

        def interval(parent: etree._Element, std_tag: str) -> dict:  # type: ignore[type-arg]
            lo = get(parent, "intervalMin") or ()
            hi = get(parent, "intervalMax") or ()
            return {
                "standard_uncertainty": get(parent, std_tag),
                "coverage_interval": tuple(zip(lo, hi, strict=True)),
                "coverage_probability": get(parent, "coverageProbability"),
                "distribution": dist(parent),
            }

        mu = el.find(si("measurementUncertaintyUnivariate" + s))
        if mu is not None:
            for kind in mu:
                if kind.tag == si("expandedMU" + s):
                    return {
                        "expanded_uncertainty": get(kind, "valueExpandedMU"),
                        "coverage_factor": get(kind, "coverageFactor"),
                        "coverage_probability": get(kind, "coverageProbability"),
                        "distribution": dist(kind),
                    }
                if kind.tag == si("standardMU" + s):
                    return {"standard_uncertainty": get(kind, "valueStandardMU"), "distribution": dist(kind)}
                if kind.tag == si("coverageIntervalMU" + s):
                    return interval(kind, "valueStandardMU")
            raise self.err("no standardMU, expandedMU or coverageIntervalMU inside", mu)
        exp = el.find(si("expandedUnc" + s))
        if exp is not None:
            return {
                "expanded_uncertainty": get(exp, "uncertainty"),
                "coverage_factor": get(exp, "coverageFactor"),
                "coverage_probability": get(exp, "coverageProbability"),
                "distribution": dist(exp),
            }
        ci = el.find(si("coverageInterval" + s))
        if ci is not None:
            return interval(ci, "standardUnc")
        return {}
