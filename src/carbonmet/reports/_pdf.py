"""PDF from a report's HTML (PDF 报告) with WeasyPrint: A4 pages, a header and footer carrying the report's
stamp, the CJK font first, and the same bytes for the same page and stamp.

What would otherwise vary between two renders is pinned: the document dates are the stamp's generated-for date
(never the clock), the file identifier is a digest of the page and the stamp, no XMP packet is written (it would
carry a random document id), and nothing is fetched but ``data:`` URIs (charts are embedded in the page).
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from dataclasses import asdict, dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ._errors import ReportError

#: Font families for report text, first match wins per glyph. WenQuanYi Micro Hei is the CJK font the project's
#: setup installs (``scripts/system-packages.txt``); the others are used where it is absent.
FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "DejaVu Sans",
                 "sans-serif")


@dataclass(frozen=True)
class Stamp:
    """What produced a report (报告标识): printed in every page's header and footer and in the PDF's metadata.

    Attributes
    ----------
    title : str
        The report's title (zh-CN first), also the PDF title.
    subject : str
        What the report is about, e.g. ``"E01 2025"``.
    data_version : str
        A digest of the data the report was rendered from (``sha256:…``), see :func:`data_digest`.
    profile_version : str
        The methodology profile or rule set with its version, e.g. ``"coal_chemical_2025@2025.1"``.
    code_version : str
        carbonmet's version and commit, see :func:`code_version`.
    generated_for : date
        The date the report is made for (end of the accounting year, the review date); the PDF's creation and
        modification dates are this date at 00:00 UTC, so the clock never enters the file.
    """

    title: str
    subject: str
    data_version: str
    profile_version: str
    code_version: str
    generated_for: date

    def to_dict(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, date) else str(v)) for k, v in asdict(self).items()}

    def footer(self) -> str:
        """The footer line: data, profile and code versions."""
        return (f"数据 data {self.data_version} · 方法 profile {self.profile_version} · "
                f"代码 code {self.code_version}")

    def header(self) -> str:
        """The header line: subject and generated-for date."""
        return f"{self.subject} · 报告日期 generated for {self.generated_for.isoformat()}"


def data_digest(data: Any) -> str:
    """``sha256:`` and the first 16 hex digits of the SHA-256 of ``data`` as canonical JSON (sorted keys, no
    whitespace, non-ASCII kept; dates and other objects as their ``str``): the same data, the same digest."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@functools.cache
def code_version() -> str:
    """carbonmet's installed version, with ``+g<commit>`` when the package runs from a git work tree (and
    ``.dirty`` when that tree has uncommitted changes to tracked files); computed once per process."""
    try:
        v = version("carbonmet")
    except PackageNotFoundError:  # pragma: no cover - a source tree without installation
        v = "unknown"
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return v
    return f"{v}+g{head}" + (".dirty" if dirty else "") if head else v


def _css_string(s: str) -> str:
    """``s`` as a CSS string literal (quotes, backslashes and line breaks escaped)."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("\r", "")
    return f'"{out}"'


def base_css(stamp: Stamp, *, landscape: bool = False) -> str:
    """The base style sheet of every PDF report: A4 (portrait, or landscape for wide tables), 16 mm side
    margins, the stamp's title and header line at the top of each page, its footer line and the page number at
    the bottom, report fonts with the CJK font first (``!important``: a page's own font list for the screen does not decide the PDF's fonts), tables
    that repeat their header row and do not split rows. Applied as a user style sheet: the page's own rules win
    elsewhere."""
    fonts = ", ".join(f'"{f}"' if f != "sans-serif" else f for f in FONT_FAMILIES)
    return f"""
@page {{
  size: A4{" landscape" if landscape else ""}; margin: 20mm 16mm 22mm 16mm;
  @top-left {{ content: {_css_string(stamp.title)}; font-size: 7.5pt; color: #555; }}
  @top-right {{ content: {_css_string(stamp.header())}; font-size: 7.5pt; color: #555; }}
  @bottom-left {{ content: {_css_string(stamp.footer())}; font-size: 6.5pt; color: #555; }}
  @bottom-right {{ content: "第 " counter(page) " / " counter(pages) " 页 page"; font-size: 7pt; color: #555; }}
}}
html, body {{ font-family: {fonts} !important; font-size: 9pt; line-height: 1.35; }}
body {{ margin: 0 !important; max-width: none !important; padding: 0 !important; }}
h1 {{ font-size: 15pt; margin: 0 0 4pt 0; }}
h2 {{ font-size: 12pt; margin: 12pt 0 4pt 0; page-break-after: avoid; }}
h3 {{ font-size: 10pt; margin: 8pt 0 3pt 0; page-break-after: avoid; }}
table {{ border-collapse: collapse; width: 100%; font-size: 7.5pt; margin: 3pt 0 6pt 0; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
th, td {{ border: 0.4pt solid #bbb; padding: 1.5pt 3pt; vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #eee; }}
td.num, th.num {{ text-align: right; white-space: nowrap; }}
img {{ max-width: 100%; }}
figure {{ margin: 4pt 0; page-break-inside: avoid; }}
nav, .no-print {{ display: none; }}
"""


def render_pdf(html: str, *, stamp: Stamp, css: str = "", landscape: bool = False) -> bytes:
    """The PDF of a report page.

    Parameters
    ----------
    html : str
        A self-contained page (images as ``data:`` URIs; any other URL is refused and left out).
    stamp : Stamp
        Printed in each page's header and footer; its title, subject, versions and date go into the PDF's
        information dictionary (``Title``, ``Subject``, ``Keywords``, ``CreationDate``, ``ModDate`` and the
        custom keys ``DataVersion``, ``ProfileVersion``, ``CodeVersion``, ``GeneratedFor``).
    css : str
        More style sheet text, applied after :func:`base_css`.
    landscape : bool
        A4 landscape pages (the pilot's wide tables).

    Returns
    -------
    bytes
        The PDF; the same arguments (with the same fonts and WeasyPrint) give the same bytes.

    Raises
    ------
    ReportError
        WeasyPrint is not installed or its system libraries are missing (``scripts/system-deps.sh``).
    """
    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango or HarfBuzz not found
        raise ReportError(f"PDF 需要 WeasyPrint 及其系统库 / PDF needs WeasyPrint and its libraries (run "
                          f"scripts/system-deps.sh): {exc}") from None
    fetcher = URLFetcher(allowed_protocols=("data",))
    fonts = FontConfiguration()
    doc = HTML(string=html, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=base_css(stamp, landscape=landscape) + css, font_config=fonts)], font_config=fonts)
    when = f"{stamp.generated_for.isoformat()}T00:00:00Z"
    m = doc.metadata
    m.title = stamp.title
    m.description = stamp.subject
    m.keywords = ["carbonmet", stamp.data_version, stamp.profile_version]
    m.generator = f"carbonmet {stamp.code_version}"
    m.created = when
    m.modified = when
    m.custom = {"DataVersion": stamp.data_version, "ProfileVersion": stamp.profile_version,
                "CodeVersion": stamp.code_version, "GeneratedFor": stamp.generated_for.isoformat()}
    m.xmp_metadata = []
    ident = hashlib.sha256(html.encode("utf-8") + json.dumps(stamp.to_dict(), sort_keys=True).encode()
                           + css.encode("utf-8") + (b"L" if landscape else b"P")).hexdigest()[:32].encode("ascii")
    out = doc.write_pdf(pdf_identifier=ident, custom_metadata=True)
    assert isinstance(out, bytes)
    return out
