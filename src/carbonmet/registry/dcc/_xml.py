"""Namespaces and small lxml helpers shared by the reader and the writer."""

from __future__ import annotations

import re

from lxml import etree

DCC_NS = "https://ptb.de/dcc"
SI_NS = "https://ptb.de/si"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"dcc": DCC_NS, "si": SI_NS}
_PREFIX = {DCC_NS: "dcc", SI_NS: "si"}

#: Lexical form of a number in D-SI (xs:decimal / xs:double without NaN and INF).
NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def dcc(tag: str) -> str:
    """Clark name of a ``dcc:`` element."""
    return f"{{{DCC_NS}}}{tag}"


def si(tag: str) -> str:
    """Clark name of an ``si:`` element."""
    return f"{{{SI_NS}}}{tag}"


def qname(el: etree._Element) -> str:
    """``dcc:name`` style name of an element (Clark name for foreign namespaces)."""
    q = etree.QName(el)
    if q.namespace in _PREFIX:
        return f"{_PREFIX[q.namespace]}:{q.localname}"
    return el.tag if isinstance(el.tag, str) else "?"


def element_path(el: etree._Element) -> str:
    """Readable path of an element, ``dcc:digitalCalibrationCertificate/…/dcc:result[2]/…/si:unit``.

    An index is shown where a parent has several children of the same name (XPath style, 1-based).
    """
    parts: list[str] = []
    cur: etree._Element | None = el
    while cur is not None:
        name = qname(cur)
        parent = cur.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == cur.tag]
            if len(same) > 1:
                name += f"[{same.index(cur) + 1}]"
        parts.append(name)
        cur = parent
    return "/".join(reversed(parts))


def is_cjk(text: str) -> bool:
    """True if the text contains Chinese characters."""
    return bool(_CJK_RE.search(text))
