"""Emission-factor database use cases (排放因子库): import (centre), list, show, compare.

The factor database is shared: importing into it is for the centre only; reading shared factors touches no
organisation's data (tenancy ``none``: only factors without an owner are listed or shown). An enterprise's own
measured factor (实测因子, stored with its ``owner``) is read only through the caller's read scope, in
:func:`compare_factors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carbonmet.factors import (
    FactorError,
    FactorImportError,
    FactorRecord,
    compare_regions,
    find,
    get_factor,
    measured_factor,
    read_factor_file,
    save_factors,
)
from carbonmet.factors.database import ImportProblem, RegionalComparison
from carbonmet.factors.olca import read_olca_package
from carbonmet.quantities import MeasuredQuantity, Provenance, Source

from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")


@dataclass
class FactorImport:
    """What :func:`import_factors` did with one file or package.

    ``kind`` is ``table`` (CSV/XLSX: ``stored`` new versions, ``unchanged`` keys) or ``olca`` (an olca-schema
    package, checked and read for the LCA engine: ``package`` summarises processes, flows, exchanges and what was not
    read; nothing is stored for it).
    """

    file: str
    kind: str
    rows: int = 0
    stored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    package: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "rows": self.rows,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "package": self.package,
        }


def _is_olca(p: Path) -> bool:
    return p.is_dir() or p.suffix.lower() in (".zip", ".zolca")


@use_case("centre")
def import_factors(ws: Workspace, scope: Scope, paths: Sequence[str | Path]) -> list[FactorImport]:
    """Import emission factors from CSV/XLSX files, and check olca-schema JSON-LD packages (因子导入) — centre only.

    All or nothing per call: every file is read and checked first; any problem in any file refuses the whole call
    (:class:`carbonmet.factors.FactorImportError` naming file, row and field) and nothing is stored. A factor whose
    content equals its latest stored version stores nothing; a changed one becomes version n + 1.

    Parameters
    ----------
    ws : Workspace
    scope : Scope
        Must be the centre (all-access) scope — checked before anything is read.
    paths : sequence of str or Path
        CSV/XLSX factor files (docs/factors.md), olca-schema packages (zip or directory).

    Returns
    -------
    list of FactorImport
        One per path, in order.

    Raises
    ------
    AccessDenied
        Not the centre scope.
    FactorImportError
        A file is refused (every problem named; nothing stored).
    """
    scope.check_centre("import emission factors 导入排放因子")
    tables = []
    out: list[FactorImport] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise FactorImportError(str(p), [ImportProblem(str(p), "-", "file", "no such file or directory")])
        if _is_olca(p):
            pkg = read_olca_package(p)
            out.append(
                FactorImport(
                    str(p), "olca", sum(len(x.exchanges) for x in pkg.processes), package=pkg.to_dict()
                )
            )
        elif p.suffix.lower() in _TABLE_SUFFIXES:
            ff = read_factor_file(p)
            tables.append((len(out), ff))
            out.append(FactorImport(str(p), "table", len(ff.records)))
        else:
            raise FactorImportError(
                str(p),
                [
                    ImportProblem(
                        str(p),
                        "-",
                        "file",
                        f"unknown file type {p.suffix!r}: expected .csv, .xlsx, an olca .zip or a directory",
                    )
                ],
            )
    seen: dict[str, str] = {}
    for _, ff in tables:
        for rec, where in zip(ff.records, ff.rows, strict=True):
            if rec.key in seen:
                raise FactorImportError(
                    ff.path,
                    [
                        ImportProblem(
                            ff.path,
                            where.rsplit(":", 1)[-1],
                            "product",
                            f"factor {rec.key} is also in {seen[rec.key]}",
                        )
                    ],
                )
            seen[rec.key] = where
    if tables:
        with guarded_write(ws, scope, "import emission factors 导入排放因子") as s:
            for i, ff in tables:
                rep = save_factors(
                    s, ff.records, actor=scope.actor, source_file=Path(ff.path).name, rows=ff.rows
                )
                out[i].stored = [r.ref for r in rep.stored]
                out[i].unchanged = [r.ref for r in rep.unchanged]
    return out


@use_case("none")
def list_factors(
    ws: Workspace,
    scope: Scope,
    *,
    product: str | None = None,
    region: str | None = None,
    year: int | None = None,
    basis: str | None = None,
    gas: str | None = None,
    all_versions: bool = False,
) -> list[FactorRecord]:
    """Shared emission factors (stored and packaged) matching the filters (排放因子查询).

    Only factors without an owner: an enterprise's own measured factors are never listed here.
    """
    with ws.session() as s:
        return find(
            s,
            product=product,
            region=region,
            year=year,
            basis=basis,
            gas=gas,
            owners=(),
            all_versions=all_versions,
        )


@use_case("none")
def show_factor(ws: Workspace, scope: Scope, ref: str) -> dict[str, Any]:
    """One shared factor by ref (``key``, ``key/vN`` or ``key@packaged…``) with every stored version of its key.

    Raises
    ------
    FactorError
        No shared factor by that ref (naming close keys).
    """
    with ws.session() as s:
        rec = get_factor(s, ref, owners=())
        versions = [r for r in find(s, product=rec.product, owners=(), all_versions=True) if r.key == rec.key]
    doc = rec.to_dict()
    doc["versions"] = [{"ref": r.ref, "value": r.value, "unit": r.unit, "store": r.store} for r in versions]
    return doc


@use_case("read")
def compare_factors(
    ws: Workspace,
    scope: Scope,
    product: str,
    regions: Sequence[str],
    *,
    measured_owner: str | None = None,
    measured: FactorRecord | None = None,
    measured_value: tuple[float, float, str] | None = None,
    measured_source: str = "",
    measured_year: int | None = None,
    year: int | None = None,
    technology: str | None = None,
    gas: str | None = None,
    k: float = 2.0,
) -> RegionalComparison:
    """One product's factor across regions, against a measured factor and each other, by E_n (因子区域比对).

    Parameters
    ----------
    ws : Workspace
    scope : Scope
        ``measured_owner`` must be in its read scope.
    product : str
    regions : sequence of str
    measured_owner : str, optional
        An enterprise whose stored measured factor of ``product`` (the latest) is the reference.
    measured : FactorRecord, optional
        A measured factor given directly (e.g. from :func:`carbonmet.factors.measured_factor`).
    measured_value : (value, u, unit), optional
        A measured factor given as value, standard uncertainty and unit (``tCO2/t``), with ``measured_source``
        saying where it comes from and ``measured_year`` its data year (default: this year); it becomes a record of
        basis ``measured`` (region ``measured``). At most one
        of ``measured_owner``, ``measured`` and ``measured_value``.
    year, technology, gas : optional filters of the regional factors.
    k : float
        Coverage factor.

    Raises
    ------
    NotInScope
        ``measured_owner`` is outside the read scope, or has no measured factor of ``product``.
    FactorError
        A region without a (single) factor.
    """
    from ._errors import NotInScope

    if sum(x is not None for x in (measured_owner, measured, measured_value)) > 1:
        raise FactorError("give one of measured_owner, measured and measured_value")
    if measured_value is not None:
        value, u, unit = measured_value
        if "/" not in unit:
            raise FactorError(f"measured unit {unit!r} must be per a quantity of the product (e.g. tCO2/t)")
        q = MeasuredQuantity(
            value=float(value),
            unit=unit,
            u=float(u),
            provenance=Provenance(source=Source.MEASURED, reference=measured_source or "given by the caller"),
            name=f"{product} measured",
        )
        measured = measured_factor(
            q,
            product=product,
            region="measured",
            year=measured_year or datetime.now(UTC).year,
            flow_unit=unit.split("/", 1)[1],
            gas=gas or "CO2",
            gwp_set="AR5" if (gas or "") == "CO2e" else "",
            source=measured_source,
        )
    with ws.session() as s:
        if measured_owner is not None:
            scope.check_read(measured_owner, "measured factor 实测因子", f"{measured_owner}/{product}")
            own = [
                r
                for r in find(s, product=product, basis="measured", owners=[measured_owner], packaged=False)
                if r.owner == measured_owner
            ]
            if not own:
                raise NotInScope("measured factor 实测因子", f"{measured_owner}/{product}")
            measured = max(own, key=lambda r: (r.year, r.version))
        return compare_regions(
            s, product, list(regions), measured=measured, year=year, technology=technology, gas=gas, owners=()
        )
