"""Default-value profiles (缺省值方案) and the lookups over them.

A profile binds the data files' lineages into one named, versioned set of values; every value it returns names the
profile, its source, clause and evidence mark, and its documented default uncertainty.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from ._data import DataSet, FuelRow, GridRow, ProfileSpec, dataset, read_dataset
from ._errors import FactorError
from ._types import (
    FLAG_BORROWED,
    FLAG_CARRIED_FORWARD,
    FLAG_DERIVED,
    FLAG_DISPUTED,
    FLAG_SUBJECT_ALIAS,
    FactorValue,
    FuelDefaults,
    weakest,
)

GRID_PROFILE = "MEE/grid"


@dataclass(frozen=True)
class _Table:
    """The values of one profile, keyed for lookup."""

    values: dict[tuple[str, str], FactorValue] = field(default_factory=dict)  # (parameter, subject) → value
    by_year: dict[tuple[str, str], dict[int, FactorValue]] = field(default_factory=dict)  # grid: data years
    grid_rows: dict[str, list[GridRow]] = field(default_factory=dict)  # grid: scope → rows
    fuels: dict[str, tuple[str, str]] = field(default_factory=dict)  # fuel subject → (name_zh, amount unit)
    names: dict[str, str] = field(default_factory=dict)  # other spellings (zh, case) → subject
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # generic alias → (subject, note)


@dataclass(frozen=True)
class Profile:
    """A named, versioned default-value profile (缺省值方案).

    Attributes
    ----------
    name : str
        Profile name as cited (``"GB/T 32151.10-2023"``, ``"NDRC-2013-化工"``, ``"MEE/grid"``, ``"IPCC-AR5"``).
    version : str
        Edition or year.
    status : str
        ``in_force``, ``superseded``, ``declared`` (text not seen, values borrowed and marked), ``disputed``
        (never a default; every value flagged) or ``published`` (grid and GWP sets).
    source : str
        Where the profile's identity and tables come from.
    in_force_from : date or None
        Date the document came into force.
    kind : str
        ``defaults`` (fuels, products, heat, GWP set), ``grid`` or ``gwp``.
    title, issuer : str
        Document title (zh) and issuing body.
    issued_on, superseded_on : date or None
        Issue date and date it was replaced.
    clause, evidence, note : str
        Where in the notes the profile is established, the mark of its identity, remarks.
    aliases : tuple of str
        Other spellings :func:`load_profile` and :func:`resolve` accept.
    gwp_set : str
        GWP set (``"AR5"``) a defaults profile's reports use, or the set of a gwp profile.
    """

    name: str
    version: str
    status: str
    source: str
    in_force_from: date | None
    kind: str = "defaults"
    title: str = ""
    issuer: str = ""
    issued_on: date | None = None
    superseded_on: date | None = None
    clause: str = ""
    evidence: str = ""
    note: str = ""
    aliases: tuple[str, ...] = ()
    gwp_set: str = ""
    _table: _Table = field(default_factory=_Table, repr=False, compare=False)

    @property
    def disputed(self) -> bool:
        """True for a profile whose attribution is disputed: never a default, every value flagged."""
        return self.status == "disputed"

    def parameters(self) -> list[str]:
        """Parameters this profile has values for."""
        return sorted({p for p, _ in self._table.values} | {p for p, _ in self._table.by_year})

    def subjects(self, parameter: str) -> list[str]:
        """Subjects with a value of ``parameter`` (sorted canonical keys; empty for an unknown parameter)."""
        return sorted(s for p, s in self._table.values if p == parameter)

    def values(self) -> list[FactorValue]:
        """Every value of the profile (grid: the latest data year of each scope), sorted by parameter, subject."""
        return [self._table.values[k] for k in sorted(self._table.values)]

    def _canonical(self, parameter: str, subject: str) -> tuple[str, str]:
        """(subject key, alias note) for what a caller wrote: a key, a zh name, another case, or a generic alias."""
        s = subject.strip()
        t = self._table
        if (parameter, s) in t.values or (parameter, s) in t.by_year:
            return s, ""
        for cand in (s, s.lower()):
            if cand in t.names and (parameter, t.names[cand]) in t.values:
                return t.names[cand], ""
        if s in t.aliases and (parameter, t.aliases[s][0]) in t.values:
            return t.aliases[s]
        known = self.subjects(parameter)
        if not known:
            raise FactorError(f"profile {self.name!r} (缺省值方案) has no parameter {parameter!r}; "
                              f"it has: {', '.join(self.parameters()) or 'nothing'}")
        pool = known + [n for n, k in t.names.items() if k in known] + list(t.aliases)
        close = difflib.get_close_matches(s, pool, n=3, cutoff=0.6)
        hint = f"; close: {', '.join(close)}" if close else f"; known: {', '.join(known)}"
        raise FactorError(f"profile {self.name!r} has no {parameter} for {subject!r}{hint}")

    def get(self, parameter: str, subject: str, *, year: int | None = None) -> FactorValue:
        """One default value.

        Parameters
        ----------
        parameter : str
            ``ncv``, ``carbon_content_per_heat``, ``oxidation_rate``, ``emission_factor``, ``carbon_content``
            or ``gwp``.
        subject : str
            Subject key (``"bituminous_coal"``), its Chinese name (``"烟煤"``) or a generic alias (``"coal"``,
            returned flagged ``subject_alias`` with a note). Gas names are matched case-insensitively.
        year : int, optional
            Grid profile only: the data year; default the latest.

        Returns
        -------
        FactorValue

        Raises
        ------
        FactorError
            Naming the profile, parameter and subject, with close matches, when there is no such value.
        """
        key, alias_note = self._canonical(parameter, subject)
        if year is not None:
            years = self._table.by_year.get((parameter, key))
            if years is None:
                raise FactorError(f"profile {self.name!r}: {parameter}/{key} has no data years (year={year} given)")
            if year not in years:
                raise FactorError(f"profile {self.name!r}: no {parameter} for {key!r} of data year {year}; "
                                  f"years: {', '.join(map(str, sorted(years)))}")
            fv = years[year]
        else:
            fv = self._table.values[(parameter, key)]
        if alias_note:
            fv = replace(fv, note=_join(alias_note, fv.note), flags=_add(fv.flags, FLAG_SUBJECT_ALIAS))
        return fv

    def fuel(self, subject: str) -> FuelDefaults:
        """NCV, carbon per heat and oxidation rate of one fuel (key, zh name or alias), with its amount unit.

        Raises
        ------
        FactorError
            When the profile has no fuel table or not this fuel.
        """
        if not self._table.fuels:
            raise FactorError(f"profile {self.name!r} ({self.kind}) has no fuel table")
        ncv = self.get("ncv", subject)
        name_zh, amount = self._table.fuels[ncv.subject]
        return FuelDefaults(subject=ncv.subject, amount_unit=amount, ncv=ncv,
                            carbon_content_per_heat=self.get("carbon_content_per_heat", subject),
                            oxidation_rate=self.get("oxidation_rate", subject), name_zh=name_zh)

    def grid_factor(self, year: int, scope: str = "national", *, carry_forward: bool = True) -> FactorValue:
        """The grid factor meant for accounting year ``year`` (grid profile only); see :func:`grid_factor`."""
        if self.kind != "grid":
            raise FactorError(f"profile {self.name!r} holds no grid factors; use {GRID_PROFILE!r}")
        key, _ = self._canonical("emission_factor", scope)
        rows = self._table.grid_rows[key]
        fitting = [r for r in rows if r.applies_from <= year <= r.applies_to]
        if fitting:
            row = max(fitting, key=lambda r: r.data_year)
            fv = self._table.by_year[("emission_factor", key)][row.data_year]
            return fv
        last = max(rows, key=lambda r: r.data_year)
        covered = ", ".join(_span(r) for r in sorted(rows, key=lambda r: r.data_year))
        if year > last.applies_to and carry_forward:
            fv = self._table.by_year[("emission_factor", key)][last.data_year]
            note = (f"no notice found for accounting year {year}: the factor for {_span(last)} ({last.notice}) "
                    "is carried forward [A]")
            return replace(fv, evidence=weakest(fv.evidence, "A"), note=_join(note, fv.note),
                           flags=_add(fv.flags, FLAG_CARRIED_FORWARD))
        raise FactorError(f"{self.name}: no {key!r} grid factor for accounting year {year}; rows cover {covered}"
                          + ("" if carry_forward or year < last.applies_to else " (carry_forward=False)"))


def _span(r: GridRow) -> str:
    return str(r.applies_from) if r.applies_from == r.applies_to else f"{r.applies_from}–{r.applies_to}"


def _name(t: _Table, spelling: str, subject: str, profile: str) -> None:
    """Register another spelling of a subject; one spelling may not name two subjects."""
    if t.names.setdefault(spelling, subject) != subject:
        raise FactorError(f"profile {profile!r}: the name {spelling!r} is given to both {t.names[spelling]!r} and "
                          f"{subject!r}")


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a and b else a or b


def _add(flags: tuple[str, ...], flag: str) -> tuple[str, ...]:
    return flags if flag in flags else (*flags, flag)


# ------------------------------------------------------------------------------------------------ building


def _value(spec: ProfileSpec, ds: DataSet, *, parameter: str, subject: str, value: float, unit: str, u_class: str,
           source: str, clause: str, evidence: str, note: str = "", year: int | None = None,
           flags: tuple[str, ...] = ()) -> FactorValue:
    u = ds.u_row(parameter, subject, u_class)
    if spec.evidence_cap:
        capped = weakest(evidence, spec.evidence_cap)
        if capped != evidence:
            note = _join(f"row evidence [{evidence}] capped at [{capped}] by profile {spec.name!r}", note)
            evidence = capped
            if spec.status == "declared":
                flags = _add(flags, FLAG_BORROWED)
    if spec.status == "disputed":
        flags = _add(flags, FLAG_DISPUTED)
        note = _join(f"profile {spec.name!r} is disputed: never a default", note)
    return FactorValue(profile=spec.name, parameter=parameter, subject=subject, value=value, unit=unit,
                       u_rel=u.u_rel, u_source=u.text, source=source, clause=clause, evidence=evidence,
                       u_shape=u.shape, year=year, note=note, flags=flags)


def _lineage(ds_part: Mapping[str, object], key: str, spec: ProfileSpec, what: str) -> None:
    if key and key not in ds_part:
        raise FactorError(f"profiles.toml: profile {spec.name!r} uses {what} lineage {key!r}, which no row of "
                          f"{what}.csv has (lineages: {', '.join(sorted(ds_part))})")


def _fuel_value(spec: ProfileSpec, ds: DataSet, row: FuelRow, parameter: str, value: float, unit: str) -> FactorValue:
    c = row.cited
    return _value(spec, ds, parameter=parameter, subject=row.subject, value=value, unit=unit, u_class=row.fuel_class,
                  source=c.source, clause=c.clause, evidence=c.evidence, note=c.note)


def _defaults_table(spec: ProfileSpec, ds: DataSet) -> _Table:
    t = _Table()
    _lineage(ds.fuels, spec.fuels, spec, "fuels")
    _lineage(ds.heat, spec.heat, spec, "heat")
    for row in ds.fuels.get(spec.fuels, {}).values():
        ncv = _fuel_value(spec, ds, row, "ncv", row.ncv, f"GJ/{row.amount_unit}")
        cc = _fuel_value(spec, ds, row, "carbon_content_per_heat", row.cc, "tC/GJ")
        of = _fuel_value(spec, ds, row, "oxidation_rate", row.of, "1")
        for fv in (ncv, cc, of):
            t.values[(fv.parameter, fv.subject)] = fv
        t.fuels[row.subject] = (row.name_zh, row.amount_unit)
        fd = FuelDefaults(row.subject, row.amount_unit, ncv, cc, of, row.name_zh)
        ef, ef_unit = fd.emission_factor()
        u_rel = math.sqrt(ncv.u_rel ** 2 + cc.u_rel ** 2 + of.u_rel ** 2)
        t.values[("emission_factor", row.subject)] = replace(
            ncv, parameter="emission_factor", value=ef, unit=ef_unit, u_rel=u_rel, u_shape="normal",
            u_source=f"NCV, CC and OF combined in quadrature (u_rel {ncv.u_rel:g}, {cc.u_rel:g}, {of.u_rel:g})",
            clause=f"{row.cited.clause}; EF = NCV × CC × OF × 44.0095/12.011 [V-calc]",
            flags=_add(ncv.flags, FLAG_DERIVED))
        _name(t, row.name_zh, row.subject, spec.name)
    if spec.products:
        for p in ds.products.values():
            c = p.cited
            fv = _value(spec, ds, parameter="carbon_content", subject=p.subject, value=p.value, unit="1",
                        u_class=p.composition, source=c.source, clause=c.clause, evidence=c.evidence,
                        note=_join(f"formula {p.formula}" if p.formula else "", c.note))
            t.values[("carbon_content", p.subject)] = fv
            _name(t, p.name_zh, p.subject, spec.name)
    for h in ds.heat.get(spec.heat, {}).values():
        c = h.cited
        t.values[("emission_factor", h.subject)] = _value(
            spec, ds, parameter="emission_factor", subject=h.subject, value=h.value, unit="tCO2/GJ", u_class="heat",
            source=c.source, clause=c.clause, evidence=c.evidence, note=c.note)
        _name(t, h.name_zh, h.subject, spec.name)
    if spec.gwp_set:
        if spec.gwp_set not in ds.gwp:
            raise FactorError(f"profiles.toml: profile {spec.name!r} names GWP set {spec.gwp_set!r}, "
                              f"not in gwp.csv (sets: {', '.join(sorted(ds.gwp))})")
        for g in ds.gwp[spec.gwp_set].values():
            c = g.cited
            assign = (f"GWP set {spec.gwp_set} assigned to {spec.name} [{spec.gwp_set_evidence}]: "
                      f"{spec.gwp_set_note}")
            t.values[("gwp", g.gas)] = _value(
                spec, ds, parameter="gwp", subject=g.gas, value=g.value, unit="1", u_class="gwp",
                source=f"{c.source} (set {spec.gwp_set})", clause=c.clause,
                evidence=weakest(c.evidence, spec.gwp_set_evidence), note=_join(assign, c.note))
            _name(t, g.gas.lower(), g.gas, spec.name)
    return t


def _gwp_table(spec: ProfileSpec, ds: DataSet) -> _Table:
    if spec.gwp_set not in ds.gwp:
        raise FactorError(f"profiles.toml: profile {spec.name!r} names GWP set {spec.gwp_set!r}, not in gwp.csv")
    t = _Table()
    for g in ds.gwp[spec.gwp_set].values():
        c = g.cited
        t.values[("gwp", g.gas)] = _value(spec, ds, parameter="gwp", subject=g.gas, value=g.value, unit="1",
                                         u_class="gwp", source=c.source, clause=c.clause, evidence=c.evidence,
                                         note=c.note)
        _name(t, g.gas.lower(), g.gas, spec.name)
    return t


def _grid_table(spec: ProfileSpec, ds: DataSet) -> _Table:
    t = _Table()
    for r in ds.grid:
        c = r.cited
        span = _span(r)
        fv = _value(spec, ds, parameter="emission_factor", subject=r.scope, value=r.value, unit="tCO2/MWh",
                    u_class="grid", source=f"{r.notice}; {c.source}", clause=c.clause, evidence=c.evidence,
                    note=_join(f"data year {r.data_year}, for accounting year(s) {span}", c.note), year=r.data_year)
        t.by_year.setdefault(("emission_factor", r.scope), {})[r.data_year] = fv
        t.grid_rows.setdefault(r.scope, []).append(r)
        _name(t, r.name_zh, r.scope, spec.name)
    for key, years in t.by_year.items():
        t.values[key] = years[max(years)]
    return t


def _build(spec: ProfileSpec, ds: DataSet) -> Profile:
    if spec.kind == "defaults":
        table = _defaults_table(spec, ds)
    elif spec.kind == "gwp":
        table = _gwp_table(spec, ds)
    else:
        table = _grid_table(spec, ds)
    for _, subject in list(table.values) + list(table.by_year):
        if subject.lower() != subject:
            table.names.setdefault(subject.lower(), subject)
    for a in ds.subject_aliases:
        if any(s == a.subject for _, s in table.values):
            table.aliases[a.alias] = (a.subject, f"alias {a.alias!r} → {a.subject!r} [{a.cited.evidence}]: {a.cited.note}")
    return Profile(name=spec.name, version=spec.version, status=spec.status, source=spec.source,
                   in_force_from=spec.in_force_from, kind=spec.kind, title=spec.title, issuer=spec.issuer,
                   issued_on=spec.issued_on, superseded_on=spec.superseded_on, clause=spec.clause,
                   evidence=spec.evidence, note=spec.note, aliases=spec.aliases, gwp_set=spec.gwp_set, _table=table)


def _build_registry(ds: DataSet) -> tuple[dict[str, Profile], dict[str, str], str]:
    """(profiles by name, name-or-alias → name, default name) of one data set, checked."""
    by_name: dict[str, Profile] = {}
    names: dict[str, str] = {}
    for spec in ds.profiles:
        if spec.name in by_name:
            raise FactorError(f"profiles.toml: profile {spec.name!r} is declared twice")
        by_name[spec.name] = _build(spec, ds)
        for n in (spec.name, *spec.aliases):
            if names.get(n, spec.name) != spec.name:
                raise FactorError(f"profiles.toml: {n!r} names both {names[n]!r} and {spec.name!r}")
            names[n] = spec.name
    default = ds.default
    if default not in by_name:
        raise FactorError(f"profiles.toml: default {default!r} is not a declared profile")
    if by_name[default].disputed or by_name[default].kind != "defaults":
        raise FactorError(f"profiles.toml: default {default!r} must be an undisputed defaults profile")
    if GRID_PROFILE not in by_name:
        raise FactorError(f"profiles.toml: the grid profile {GRID_PROFILE!r} is missing")
    return by_name, names, default


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, Profile], dict[str, str], str]:
    """The package's profiles, built once per process."""
    return _build_registry(dataset())


# ------------------------------------------------------------------------------------------------ public API


def check_data(directory: str | Path) -> list[Profile]:
    """Read and check a data directory laid out like the package's ``data`` (before it replaces it).

    Everything :func:`profiles` checks at import is checked here for another directory: every row's source,
    clause and evidence, units, ranges, the published-EF cross-check, lineages, the documented uncertainty of every
    value, aliases, and that the default profile is an undisputed one.

    Parameters
    ----------
    directory : str or Path
        Directory holding ``profiles.toml``, ``fuels.csv``, ``products.csv``, ``heat.csv``, ``grid.csv``,
        ``gwp.csv`` and ``uncertainty.csv`` (and, when present, the factor database's ``pedigree.csv``,
        ``basic_uncertainty.csv`` and ``regional_factors.csv``, checked too).

    Returns
    -------
    list of Profile
        The profiles the directory declares.

    Raises
    ------
    FactorError
        The first problem found, naming file, line and field.
    """
    d = Path(directory)
    out = list(_build_registry(read_dataset(d))[0].values())
    if (d / "pedigree.csv").exists() or (d / "basic_uncertainty.csv").exists():
        from ._pedigree import check_pedigree_data

        check_pedigree_data(d)
    if (d / "regional_factors.csv").exists():
        from ._store import check_regional_factors

        check_regional_factors(d)
    return out


def profiles() -> list[Profile]:
    """Every declared profile (defaults, grid and GWP sets; the disputed one too), in file order."""
    return list(_registry()[0].values())


def load_profile(name: str) -> Profile:
    """The profile called ``name`` (or one of its aliases).

    Raises
    ------
    FactorError
        Unknown name; the message lists close matches and the known profiles.
    """
    by_name, names, _ = _registry()
    key = name.strip()
    if key in names:
        return by_name[names[key]]
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.5)
    raise FactorError(f"unknown profile (缺省值方案) {name!r}"
                      + (f"; close: {', '.join(close)}" if close else "")
                      + f"; known: {', '.join(by_name)}")


def default_profile() -> Profile:
    """The profile used when none is named: ``GB/T 32151.10-2023`` (in force from 2024-07-01).

    Never a disputed profile: the loader refuses a data set whose default is one.
    """
    by_name, _, default = _registry()
    return by_name[default]


def resolve(ref: str) -> FactorValue:
    """The value a default id refers to.

    Parameters
    ----------
    ref : str
        ``"<profile>/<parameter>/<subject>"``; the profile name may itself contain ``/``
        (``"GB/T 32151.10-2023/oxidation_rate/coal"``, ``"MEE/grid/emission_factor/national"``). A grid ref may
        end in a data year (``"MEE/grid/emission_factor/national/2022"``); without one it is the latest year.

    Returns
    -------
    FactorValue

    Raises
    ------
    FactorError
        Naming the ref and why it does not resolve (unknown profile, parameter or subject, bad year).
    """
    by_name, names, _ = _registry()
    text = ref.strip()
    match = max((n for n in names if text.startswith(n + "/")), key=len, default=None)
    if match is None:
        raise FactorError(f"cannot resolve {ref!r}: no profile name starts it (known: {', '.join(by_name)})")
    profile = by_name[names[match]]
    parts = text[len(match) + 1:].split("/")
    year: int | None = None
    if len(parts) == 3 and profile.kind == "grid":
        if not parts[2].isdigit():
            raise FactorError(f"cannot resolve {ref!r}: {parts[2]!r} is not a data year")
        year = int(parts[2])
        parts = parts[:2]
    if len(parts) != 2 or not all(parts):
        raise FactorError(f"cannot resolve {ref!r}: expected <profile>/<parameter>/<subject>"
                          + ("[/<year>]" if profile.kind == "grid" else ""))
    try:
        return profile.get(parts[0], parts[1], year=year)
    except FactorError as exc:
        raise FactorError(f"cannot resolve {ref!r}: {exc}") from None


def grid_factor(year: int, scope: str = "national", *, carry_forward: bool = True) -> FactorValue:
    """The grid emission factor (电网排放因子) meant for accounting year ``year``.

    Parameters
    ----------
    year : int
        Accounting (data) year.
    scope : str
        ``"national"`` (the MEE compliance factor for ETS reporting), ``"national_average"``,
        ``"national_excl_market_non_fossil"``, ``"national_fossil"`` (MEE & NBS statistical factors), a region
        (``"north_china"``, ``"华北"`` …) or a province (``"inner_mongolia"``, ``"内蒙古"`` …).
    carry_forward : bool
        For a year after every row's coverage, return the latest row flagged ``carried_forward`` with evidence [A]
        and a note naming the notice (default); ``False`` raises instead.

    Returns
    -------
    FactorValue
        In tCO2/MWh; ``source`` names the notice, ``note`` the accounting years it was issued for.

    Raises
    ------
    FactorError
        Unknown scope, a year before the first row, or (``carry_forward=False``) after the last.

    References
    ----------
    accounting_methods §1.7: the compliance factor (0.5703 for 2022, MEE Feb 2023) and the statistical factors
    (0.5366 for 2022, MEE & NBS Dec 2024) are different products and are never mixed.
    """
    return load_profile(GRID_PROFILE).grid_factor(year, scope, carry_forward=carry_forward)


def gwp(gas: str, set_: str = "AR5") -> FactorValue:
    """100-year global warming potential (全球增温潜势) of ``gas`` in an IPCC set.

    Parameters
    ----------
    gas : str
        ``"CO2"``, ``"CH4"``, ``"N2O"``, ``"SF6"``, ``"CF4"``, ``"C2F6"``, ``"HFC-23"``, ``"NF3"``; AR6 also
        ``"CH4_fossil"`` and ``"CH4_non_fossil"``. Case-insensitive.
    set_ : str
        ``"SAR"`` (= ``"AR2"``), ``"AR4"``, ``"AR5"`` or ``"AR6"`` (or the profile name ``"IPCC-AR5"``).

    Returns
    -------
    FactorValue
        Dimensionless (unit ``"1"``); u_rel 0 by convention (see data/uncertainty.csv).
    """
    by_name, names, _ = _registry()
    key = set_.strip()
    name = names.get(key) or names.get(f"IPCC-{key.upper()}")
    if name is None or by_name[name].kind != "gwp":
        sets = [p.gwp_set for p in by_name.values() if p.kind == "gwp"]
        raise FactorError(f"unknown GWP set {set_!r}; known: {', '.join(sets)}")
    return by_name[name].get("gwp", gas)
