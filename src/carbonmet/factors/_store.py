"""One store of emission factors (排放因子库): stored versions and the packaged default profiles, one query API.

Stored factors live in ``emission_factor`` (:mod:`._models`): :func:`save_factors` writes, in the caller's
transaction, version 1 of a new key, version n + 1 when the content of a key changed, and nothing when it is the same
as the latest version; each version is one row and one audit entry (:func:`carbonmet.db.record`, entity
``emission_factor``, key the factor's ``ref``). Nothing is ever updated or deleted.

The packaged defaults (fuel emission factors of the default profile, heat factors, the MEE grid factors) and the
seed regional factors (``data/regional_factors.csv``) are read-only records with ``store = "packaged"`` and the data
files' fingerprint as ``data_version``; :func:`find` returns them beside the stored ones, so a caller asks one place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from carbonmet.db import lock_chain, record

from ._data import _field, _rows, data_version, package_root
from ._errors import FactorError
from ._models import FACTOR, FactorRow
from ._pedigree import format_dq_entry
from ._profiles import default_profile, load_profile
from ._records import Distribution, FactorRecord, raise_record_error


@dataclass(frozen=True, slots=True)
class SaveReport:
    """What :func:`save_factors` did: ``stored`` new versions, ``unchanged`` keys whose latest version matched."""

    stored: tuple[FactorRecord, ...]
    unchanged: tuple[FactorRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"stored": [r.ref for r in self.stored], "unchanged": [r.ref for r in self.unchanged]}


# --- packaged, read-only ------------------------------------------------------------------------------------------
def _dist_of(value: float, u_rel: float, shape: str) -> Distribution:
    u = abs(value) * u_rel
    if shape == "rectangular" and u > 0:
        half = math.sqrt(3.0) * u
        return Distribution(shape="uniform", minimum=value - half, maximum=value + half)
    return Distribution(shape="normal", u=u)


def _regional_rows(root: Traversable | None = None) -> list[FactorRecord]:
    out: list[FactorRecord] = []
    cols = ("product", "technology", "region", "year", "gas", "gwp_set", "value", "unit", "flow_unit", "basis",
            "source", "source_version", "clause", "evidence", "distribution", "sigma", "u", "minimum", "mode",
            "maximum", "pedigree", "basic_class", "note")
    from ._import import _record_from_cells  # the import files' row model reads the seed file too

    for where, row in _rows(root or package_root(), "regional_factors.csv", cols):
        _field(row, "clause", where)
        out.append(_record_from_cells(row, where, store="packaged"))
    return out


def check_regional_factors(root: str | Path) -> int:
    """Check ``regional_factors.csv`` of a data directory (every row a valid record with its clause); the row count."""
    return len(_regional_rows(Path(root)))


@lru_cache(maxsize=1)
def packaged_factors() -> tuple[FactorRecord, ...]:
    """The packaged factors as read-only records (``store = "packaged"``, ``data_version`` set).

    Fuel emission factors of the default profile (region ``CN``, year = the profile's edition, basis default),
    heat factors, every MEE grid factor (product ``electricity``, technology ``compliance`` for the ETS factor
    of scope ``national`` and ``statistical`` for the MEE & NBS factors, region = the scope) and the seed regional
    factors of ``data/regional_factors.csv``.
    """
    dv = data_version()
    out: list[FactorRecord] = []
    p = default_profile()
    year = int(p.version) if str(p.version).isdigit() else 2000
    for v in p.values():
        if v.parameter != "emission_factor":
            continue
        flow = v.unit.split("/", 1)[1]
        out.append(
            FactorRecord(
                product=v.subject,
                region="CN",
                year=year,
                gas="CO2",
                value=v.value,
                unit=v.unit,
                flow_unit=flow,
                basis="default",
                source=f"{p.name}: {v.source}",
                source_version=str(p.version),
                clause=v.clause,
                evidence=v.evidence,
                distribution=_dist_of(v.value, v.u_rel, v.u_shape),
                note="; ".join(x for x in (v.note, ", ".join(v.flags)) if x),
                store="packaged",
                data_version=dv,
            )
        )
    grid = load_profile("MEE/grid")
    for v in grid.values():
        assert v.year is not None
        out.append(
            FactorRecord(
                product="electricity",
                technology="compliance" if v.subject == "national" else "statistical",
                region=v.subject,
                year=v.year,
                gas="CO2",
                value=v.value,
                unit=v.unit,
                flow_unit="MWh",
                basis="default",
                source=v.source,
                source_version=str(v.year),
                clause=v.clause,
                evidence=v.evidence,
                distribution=_dist_of(v.value, v.u_rel, v.u_shape),
                note=v.note,
                store="packaged",
                data_version=dv,
            )
        )
    out.extend(r.model_copy(update={"data_version": dv}) for r in _regional_rows())
    seen: set[str] = set()
    for r in out:
        if r.key in seen:
            raise FactorError(f"packaged factors: key {r.key} appears twice")
        seen.add(r.key)
    return tuple(out)


# --- stored, append-only ------------------------------------------------------------------------------------------
def _to_record(r: FactorRow) -> FactorRecord:
    return FactorRecord(
        product=r.product,
        technology=r.technology,
        region=r.region,
        year=r.year,
        gas=r.gas,
        gwp_set=r.gwp_set,
        value=r.value,
        unit=r.unit,
        flow_unit=r.flow_unit,
        basis=r.basis,  # type: ignore[arg-type]
        source=r.source,
        source_version=r.source_version,
        clause=r.clause,
        evidence=r.evidence,
        distribution=Distribution(**json.loads(r.distribution)),
        pedigree=r.pedigree,  # type: ignore[arg-type]
        pedigree_table=r.pedigree_table,
        basic_variance=r.basic_variance,
        owner=r.owner,
        note=r.note,
        version=r.version,
        store="db",
    )


def _state(r: FactorRow) -> dict[str, Any]:
    return {c.name: getattr(r, c.name) for c in FactorRow.__table__.columns}


def _has_table(session: Session) -> bool:
    return bool(inspect(session.connection()).has_table(FACTOR))


def _latest(session: Session, keys: Iterable[str]) -> dict[str, FactorRow]:
    ks = sorted(set(keys))
    out: dict[str, FactorRow] = {}
    for i in range(0, len(ks), 500):
        for r in session.scalars(
            select(FactorRow).where(FactorRow.factor_key.in_(ks[i : i + 500])).order_by(FactorRow.version)
        ):
            out[r.factor_key] = r
    return out


def save_factors(
    session: Session,
    records: Sequence[FactorRecord],
    *,
    actor: str,
    source_file: str = "",
    rows: Sequence[str] | None = None,
    now: datetime | None = None,
) -> SaveReport:
    """Store factor records as new versions, audited, in the caller's transaction (all or nothing).

    Parameters
    ----------
    session : Session
        The transaction that writes (the caller commits; on any error it rolls back and nothing is kept).
    records : sequence of FactorRecord
        ``store = "db"`` records; two with the same key in one call are refused.
    actor : str
        Who imports (audit log).
    source_file : str
        The file the records came from (kept on each row).
    rows : sequence of str, optional
        Where each record was read (``file:row``), kept on its row.
    now : datetime, optional
        Timestamp of the new versions (default: now, UTC).

    Returns
    -------
    SaveReport

    Raises
    ------
    FactorError
        A packaged record, or a key given twice in one call (naming both rows).
    """
    where = list(rows) if rows is not None else [f"record {i + 1}" for i in range(len(records))]
    first: dict[str, str] = {}
    for rec, w in zip(records, where, strict=True):
        if rec.store != "db":
            raise FactorError(f"{w}: {rec.key} is a packaged (read-only) record; it cannot be stored")
        if rec.key in first:
            raise FactorError(f"{w}: factor {rec.key} is given twice in one import (also {first[rec.key]})")
        first[rec.key] = w
    lock_chain(session)  # one writer at a time: two imports cannot both take version n + 1
    latest = _latest(session, first)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    stored: list[FactorRecord] = []
    unchanged: list[FactorRecord] = []
    for rec, w in zip(records, where, strict=True):
        cur = latest.get(rec.key)
        digest = rec.content_hash()
        if cur is not None and cur.content_hash == digest:
            unchanged.append(_to_record(cur))
            continue
        version = cur.version + 1 if cur is not None else 1
        new = rec.model_copy(update={"version": version})
        row = FactorRow(
            factor_ref=new.ref,
            factor_key=new.key,
            product=new.product,
            technology=new.technology,
            region=new.region,
            year=new.year,
            gas=new.gas,
            gwp_set=new.gwp_set,
            version=version,
            value=new.value,
            unit=new.unit,
            flow_unit=new.flow_unit,
            basis=new.basis,
            source=new.source,
            source_version=new.source_version,
            clause=new.clause,
            evidence=new.evidence,
            distribution=json.dumps(new.distribution.model_dump(), sort_keys=True),
            pedigree=format_dq_entry(new.pedigree) if new.pedigree is not None else None,
            pedigree_table=new.pedigree_table,
            basic_variance=new.basic_variance,
            owner=new.owner,
            note=new.note,
            source_file=source_file[:255],
            source_row=w[:255],
            created_at=stamp,
            content_hash=digest,
        )
        session.add(row)
        session.flush()
        record(session, actor=actor, action="create", entity=FACTOR, key=new.ref, data=_state(row))
        stored.append(new)
    return SaveReport(tuple(stored), tuple(unchanged))


def _matches(
    r: FactorRecord,
    product: str | None,
    region: str | None,
    year: int | None,
    basis: str | None,
    gas: str | None,
    technology: str | None,
) -> bool:
    return (
        (product is None or r.product == product)
        and (region is None or r.region == region)
        and (year is None or r.year == year)
        and (basis is None or r.basis == basis)
        and (gas is None or r.gas == gas)
        and (technology is None or r.technology == technology)
    )


def find(
    session: Session | None = None,
    *,
    product: str | None = None,
    region: str | None = None,
    year: int | None = None,
    basis: str | None = None,
    gas: str | None = None,
    technology: str | None = None,
    owners: Iterable[str] | None = (),
    packaged: bool = True,
    all_versions: bool = False,
) -> list[FactorRecord]:
    """Factors matching every criterion given, from the store and the packaged data (一处查询).

    Parameters
    ----------
    session : Session, optional
        The database; None searches the packaged factors only.
    product, region, year, basis, gas, technology : optional
        Exact matches.
    owners : iterable of str or None
        Enterprises whose own (measured) factors may be returned beside the shared ones; None = every owner
        (the centre). Default: shared factors only.
    packaged : bool
        Include the packaged, read-only records.
    all_versions : bool
        Every stored version (default: the latest of each key).

    Returns
    -------
    list of FactorRecord
        Sorted by product, technology, region, year, gas, version; stored before packaged for the same key.
    """
    out: list[FactorRecord] = []
    if session is not None and _has_table(session):
        stmt = select(FactorRow)
        for col, v in (
            (FactorRow.product, product),
            (FactorRow.region, region),
            (FactorRow.year, year),
            (FactorRow.basis, basis),
            (FactorRow.gas, gas),
            (FactorRow.technology, technology),
        ):
            if v is not None:
                stmt = stmt.where(col == v)
        if owners is not None:
            allowed = list(owners)
            stmt = stmt.where(
                FactorRow.owner.is_(None) | FactorRow.owner.in_(allowed)
                if allowed
                else FactorRow.owner.is_(None)
            )
        rows = [
            _to_record(r) for r in session.scalars(stmt.order_by(FactorRow.factor_key, FactorRow.version))
        ]
        if not all_versions:
            last: dict[str, FactorRecord] = {}
            for r in rows:
                last[r.key] = r
            rows = list(last.values())
        out.extend(rows)
    if packaged:
        out.extend(
            r for r in packaged_factors() if _matches(r, product, region, year, basis, gas, technology)
        )
    out.sort(
        key=lambda r: (
            r.product,
            r.technology,
            r.region,
            r.year,
            r.gas,
            r.gwp_set,
            r.store != "db",
            r.version,
        )
    )
    return out


def get_factor(session: Session | None, ref: str, *, owners: Iterable[str] | None = ()) -> FactorRecord:
    """One factor by its key (latest stored version, else the packaged record), ``key/vN`` or ``key@packaged…``.

    Raises
    ------
    FactorError
        Nothing by that ref (or owned by an enterprise not in ``owners``), naming the ref and close keys.
    """
    key = ref.split("@", 1)[0]
    version: int | None = None
    tail = key.rsplit("/", 1)
    if len(tail) == 2 and tail[1].startswith("v") and tail[1][1:].isdigit():
        key, version = tail[0], int(tail[1][1:])
    product = key.split("/", 1)[0]
    cands = [r for r in find(session, product=product, owners=owners, all_versions=True) if r.key == key]
    if "@packaged" in ref:
        cands = [r for r in cands if r.store == "packaged"]
    elif version is not None:
        cands = [r for r in cands if r.store == "db" and r.version == version]
    if not cands:
        near = sorted({r.key for r in find(session, product=product, owners=owners)})[:5]
        hint = (
            f"; factors of {product!r}: {', '.join(near)}" if near else f"; no factor of product {product!r}"
        )
        raise FactorError(f"no emission factor {ref!r}{hint}")
    stored = [r for r in cands if r.store == "db"]
    return stored[-1] if stored else cands[-1]


def record_or_error(where: str, **fields: Any) -> FactorRecord:
    """A :class:`FactorRecord` from fields, or :class:`FactorError` naming ``where`` and the fields at fault."""
    try:
        return FactorRecord(**fields)
    except ValidationError as exc:
        raise_record_error(where, exc)
        raise  # unreachable
