"""Reading an olca-schema JSON-LD package (openLCA export) into plain dataclasses for the LCA engine.

A package is a zip file or a directory laid out as openLCA exports it: one JSON object per file under
``processes/``, ``flows/``, ``flow_properties/`` and ``unit_groups/`` (other folders — ``locations``, ``actors``,
``sources``, ``dq_systems``, ``categories``, ``lcia_methods`` … — are listed as not read). From each process the
reader takes its exchanges: flow, amount, unit, direction, quantitative reference, avoided product, default provider,
``uncertainty`` (``LOG_NORMAL_DISTRIBUTION`` geomMean/geomSd, ``NORMAL_DISTRIBUTION`` mean/sd,
``TRIANGLE_DISTRIBUTION`` minimum/mode/maximum, ``UNIFORM_DISTRIBUTION`` minimum/maximum) and the ``dqEntry``
pedigree string ``(2;3;1;2;5)``. Every exchange amount is also given in its flow's reference unit (through the unit's
``conversionFactor`` in its unit group and the flow property factor).

Everything is checked before anything is returned: an exchange naming a flow, flow property or unit that is not in
the package (a dangling reference), a unit outside its flow property's unit group, a pedigree score out of range, an
uncertainty without its parameters → :class:`FactorImportError` naming process, exchange and flow.

Field names follow olca-schema 2 (``isInput``, ``isQuantitativeReference``, ``isAvoidedProduct``,
``isRefFlowProperty``, ``conversionFactor``, ``isRefUnit``); the 1.x names (``input``, ``quantitativeReference``,
``avoidedProduct``, ``referenceFlowProperty``, ``referenceUnit``) are read too.
Schema: https://greendelta.github.io/olca-schema (``Exchange``, ``Uncertainty``, ``UncertaintyType``, ``Flow``,
``FlowPropertyFactor``, ``FlowProperty``, ``UnitGroup``, ``Unit``).
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import FactorError
from ._import import FactorImportError, ImportProblem
from ._pedigree import parse_dq_entry
from ._records import Distribution

#: Folders of a package the reader reads.
READ_FOLDERS: tuple[str, ...] = ("processes", "flows", "flow_properties", "unit_groups")
#: Exchange fields the reader takes (everything else of an exchange is listed as not read).
_EXCHANGE_READ = {
    "@type",
    "@id",
    "internalId",
    "flow",
    "flowProperty",
    "unit",
    "amount",
    "isInput",
    "input",
    "isQuantitativeReference",
    "quantitativeReference",
    "isAvoidedProduct",
    "avoidedProduct",
    "uncertainty",
    "dqEntry",
    "defaultProvider",
    "description",
}
_PROCESS_READ = {
    "@type",
    "@id",
    "name",
    "exchanges",
    "location",
    "processType",
    "dqEntry",
    "description",
    "version",
    "lastChange",
    "category",
    "lastInternalId",
}
_UNCERTAINTY = {
    "LOG_NORMAL_DISTRIBUTION": "lognormal",
    "NORMAL_DISTRIBUTION": "normal",
    "TRIANGLE_DISTRIBUTION": "triangular",
    "UNIFORM_DISTRIBUTION": "uniform",
}
#: Package-level files that are metadata, not data sets.
_META_FILES = {"olca-schema.json", "meta.info", "context.jsonld"}


@dataclass(frozen=True, slots=True)
class OlcaUnit:
    """A unit of a unit group: its name and its factor to the group's reference unit."""

    id: str
    name: str
    conversion_factor: float


@dataclass(frozen=True, slots=True)
class OlcaFlow:
    """A flow with its flow properties: ``properties`` maps a flow property id to its factor (amount of that
    property per one unit of the reference property)."""

    id: str
    name: str
    flow_type: str
    reference_property: str
    reference_unit: str
    properties: dict[str, float]
    cas: str = ""
    formula: str = ""


@dataclass(frozen=True, slots=True)
class OlcaUncertainty:
    """An exchange's uncertainty as olca-schema states it; :meth:`distribution` gives carbonmet's form."""

    distribution_type: str
    params: dict[str, float]

    def distribution(self) -> Distribution:
        """As a :class:`carbonmet.factors.Distribution` in the exchange's unit (lognormal σ = ln geomSd)."""
        kind = _UNCERTAINTY[self.distribution_type]
        p = self.params
        if kind == "lognormal":
            return Distribution(shape="lognormal", sigma=math.log(p["geomSd"]))
        if kind == "normal":
            return Distribution(shape="normal", u=p["sd"])
        if kind == "triangular":
            return Distribution(
                shape="triangular", minimum=p["minimum"], mode=p["mode"], maximum=p["maximum"]
            )
        return Distribution(shape="uniform", minimum=p["minimum"], maximum=p["maximum"])


@dataclass(frozen=True, slots=True)
class OlcaExchange:
    """One input or output of a process.

    Attributes
    ----------
    process_id : str
    internal_id : int or None
    flow_id, flow_name : str
    flow_type : str
        ``PRODUCT_FLOW``, ``ELEMENTARY_FLOW`` or ``WASTE_FLOW`` (from the flow).
    amount : float
        In ``unit``.
    unit : str
        Unit name as the package spells it.
    amount_ref : float
        The amount in the flow's reference unit (``reference_unit``).
    reference_unit : str
    is_input, is_quantitative_reference, is_avoided_product : bool
    uncertainty : OlcaUncertainty or None
    dq_entry : tuple of 5 int or None, or None
        Pedigree scores (``n.a.`` → None).
    default_provider : str or None
        Process id.
    """

    process_id: str
    internal_id: int | None
    flow_id: str
    flow_name: str
    flow_type: str
    amount: float
    unit: str
    amount_ref: float
    reference_unit: str
    is_input: bool
    is_quantitative_reference: bool = False
    is_avoided_product: bool = False
    uncertainty: OlcaUncertainty | None = None
    dq_entry: tuple[int | None, ...] | None = None
    default_provider: str | None = None


@dataclass(frozen=True, slots=True)
class OlcaProcess:
    """A process: id, name, location name, its process-level dqEntry and its exchanges."""

    id: str
    name: str
    location: str
    process_type: str
    dq_entry: tuple[int | None, ...] | None
    exchanges: tuple[OlcaExchange, ...]

    @property
    def reference(self) -> OlcaExchange | None:
        """The quantitative reference exchange."""
        return next((e for e in self.exchanges if e.is_quantitative_reference), None)


@dataclass(frozen=True, slots=True)
class OlcaPackage:
    """What was read from an olca-schema package, and what was not.

    ``not_read`` lists, as ``"folder: n objects"`` and ``"Type.field"`` lines, every object type and field the
    reader skipped, so a user can see what the import left behind.
    """

    source: str
    processes: tuple[OlcaProcess, ...]
    flows: dict[str, OlcaFlow]
    not_read: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "processes": len(self.processes),
            "flows": len(self.flows),
            "exchanges": sum(len(p.exchanges) for p in self.processes),
            "not_read": list(self.not_read),
        }


class _Files:
    """The JSON files of a package by folder: ``{folder: {path: object}}`` (zip or directory)."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self.by_folder: dict[str, dict[str, Any]] = {}
        self.problems: list[ImportProblem] = []
        if path.is_dir():
            items = [
                (str(p.relative_to(path)).replace("\\", "/"), p.read_bytes)
                for p in sorted(path.rglob("*.json"))
            ]
            self._load(items)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = sorted(n for n in z.namelist() if n.endswith(".json"))
                self._load([(n, (lambda n=n: z.read(n))) for n in names])
        else:
            raise FactorImportError(
                self.name, [ImportProblem(self.name, "-", "file", "neither a directory nor a zip file")]
            )

    def _load(self, items: list[tuple[str, Any]]) -> None:
        for rel, read in items:
            parts = rel.split("/")
            if len(parts) == 1 and parts[0] in _META_FILES:
                continue
            folder = parts[0] if len(parts) > 1 else "."
            try:
                obj = json.loads(read())
            except (ValueError, UnicodeDecodeError) as exc:
                self.problems.append(ImportProblem(self.name, rel, "json", f"not JSON: {exc}"))
                continue
            if not isinstance(obj, dict):
                self.problems.append(ImportProblem(self.name, rel, "json", "not a JSON object"))
                continue
            self.by_folder.setdefault(folder, {})[rel] = obj


def _get(obj: dict[str, Any], *names: str, default: Any = None) -> Any:
    for n in names:
        if n in obj:
            return obj[n]
    return default


def _ref_id(v: Any) -> str | None:
    return v.get("@id") if isinstance(v, dict) else None


def read_olca_package(path: str | Path) -> OlcaPackage:
    """Read the processes (with exchanges) and flows of an olca-schema JSON-LD package, all or nothing.

    Parameters
    ----------
    path : str or Path
        A zip file or a directory as openLCA exports them.

    Returns
    -------
    OlcaPackage
        Processes, flows and the list of what was not read.

    Raises
    ------
    FactorImportError
        Every problem named (``file:object:field: reason``): unreadable JSON, a dangling reference (an exchange
        naming a flow not in the package, a flow naming a missing flow property, a property naming a missing unit
        group), a unit outside its unit group, a missing amount, a pedigree score out of range, an uncertainty
        without its parameters. Nothing is returned then.
    """
    files = _Files(Path(path))
    problems = files.problems
    name = files.name
    not_read: list[str] = []
    for folder, objs in sorted(files.by_folder.items()):
        if folder not in READ_FOLDERS:
            not_read.append(f"{folder}: {len(objs)} object(s) not read")

    # unit groups → units
    groups: dict[str, dict[str, OlcaUnit]] = {}
    group_ref_unit: dict[str, str] = {}
    for rel, g in files.by_folder.get("unit_groups", {}).items():
        gid = g.get("@id") or rel
        units: dict[str, OlcaUnit] = {}
        for u in g.get("units", []) or []:
            cf = u.get("conversionFactor")
            if not isinstance(cf, int | float) or not cf > 0:
                problems.append(
                    ImportProblem(
                        name,
                        rel,
                        "units.conversionFactor",
                        f"unit {u.get('name')!r} has no positive conversionFactor",
                    )
                )
                continue
            gu = OlcaUnit(str(u.get("@id", "")), str(u.get("name", "")), float(cf))
            units[gu.id] = gu
            if _get(u, "isRefUnit", "referenceUnit", default=False):
                group_ref_unit[gid] = gu.name
        groups[gid] = units

    # flow properties → unit group
    prop_group: dict[str, str] = {}
    for rel, fp in files.by_folder.get("flow_properties", {}).items():
        gid = _ref_id(fp.get("unitGroup"))
        if gid is None or gid not in groups:
            problems.append(
                ImportProblem(
                    name,
                    rel,
                    "unitGroup",
                    f"flow property {fp.get('name')!r} names unit group {gid!r}, which is not in the package",
                )
            )
            continue
        prop_group[fp.get("@id") or rel] = gid

    # flows
    flows: dict[str, OlcaFlow] = {}
    skipped_flow_fields: set[str] = set()
    for rel, f in files.by_folder.get("flows", {}).items():
        fid = f.get("@id") or rel
        props: dict[str, float] = {}
        ref_prop = ""
        for fpf in f.get("flowProperties", []) or []:
            pid = _ref_id(fpf.get("flowProperty"))
            if pid is None or pid not in prop_group:
                problems.append(
                    ImportProblem(
                        name,
                        rel,
                        "flowProperties",
                        f"flow {f.get('name')!r} names flow property {pid!r}, which is not in the package",
                    )
                )
                continue
            cf = _get(fpf, "conversionFactor", "value", default=1.0)
            if not isinstance(cf, int | float) or not cf > 0:
                problems.append(
                    ImportProblem(
                        name,
                        rel,
                        "flowProperties.conversionFactor",
                        f"flow {f.get('name')!r}: conversion factor {cf!r} is not > 0",
                    )
                )
                continue
            props[pid] = float(cf)
            if not ref_prop or _get(fpf, "isRefFlowProperty", "referenceFlowProperty", default=False):
                ref_prop = pid  # the reference property; the first one when none is marked
        if not props:
            if not any(p.row == rel for p in problems):
                problems.append(
                    ImportProblem(name, rel, "flowProperties", f"flow {f.get('name')!r} has no flow property")
                )
            continue
        ref_unit = group_ref_unit.get(prop_group[ref_prop], "")
        skipped_flow_fields |= {
            k for k in f if k in ("location", "flowList", "isInfrastructureFlow", "synonyms")
        }
        flows[fid] = OlcaFlow(
            fid,
            str(f.get("name", "")),
            str(f.get("flowType", "")),
            ref_prop,
            ref_unit,
            props,
            str(f.get("cas", "") or ""),
            str(f.get("formula", "") or ""),
        )
    not_read.extend(f"Flow.{k}" for k in sorted(skipped_flow_fields))

    # processes
    processes: list[OlcaProcess] = []
    skipped_proc: set[str] = set()
    skipped_exch: set[str] = set()
    for rel, p in files.by_folder.get("processes", {}).items():
        pid = str(p.get("@id") or rel)
        pname = str(p.get("name", ""))
        where = f"{rel} (process {pname!r})"
        skipped_proc |= {k for k in p if k not in _PROCESS_READ}
        pdq = None
        if p.get("dqEntry"):
            try:
                pdq = parse_dq_entry(str(p["dqEntry"]), "dqEntry")
            except FactorError as exc:
                problems.append(ImportProblem(name, where, "dqEntry", str(exc)))
        exchanges: list[OlcaExchange] = []
        for i, e in enumerate(p.get("exchanges", []) or [], start=1):
            skipped_exch |= {k for k in e if k not in _EXCHANGE_READ}
            ex_where = f"{where} exchange {e.get('internalId', i)}"
            fid = _ref_id(e.get("flow"))
            fname = (e.get("flow") or {}).get("name", "?") if isinstance(e.get("flow"), dict) else "?"
            flow = flows.get(fid or "")
            if flow is None:
                problems.append(
                    ImportProblem(
                        name,
                        ex_where,
                        "flow",
                        f"process {pname!r} names flow {fname!r} "
                        f"({fid}), which is not in the package (dangling reference)",
                    )
                )
                continue
            amount = e.get("amount")
            if not isinstance(amount, int | float) or isinstance(amount, bool) or not math.isfinite(amount):
                problems.append(
                    ImportProblem(
                        name, ex_where, "amount", f"flow {flow.name!r}: amount {amount!r} is not a number"
                    )
                )
                continue
            prop = _ref_id(e.get("flowProperty")) or flow.reference_property
            if prop not in flow.properties:
                problems.append(
                    ImportProblem(
                        name,
                        ex_where,
                        "flowProperty",
                        f"flow {flow.name!r} has no flow property {prop!r} (dangling reference)",
                    )
                )
                continue
            uid = _ref_id(e.get("unit"))
            group = groups[prop_group[prop]]
            unit = group.get(uid or "")
            if unit is None and uid is None and isinstance(e.get("unit"), dict):  # a ref by name only
                unit = next((x for x in group.values() if x.name == e["unit"].get("name")), None)
            if unit is None:
                uname = (e.get("unit") or {}).get("name", uid) if isinstance(e.get("unit"), dict) else uid
                problems.append(
                    ImportProblem(
                        name,
                        ex_where,
                        "unit",
                        f"unit {uname!r} of flow {flow.name!r} is not "
                        "in the unit group of its flow property (unit does not fit the flow)",
                    )
                )
                continue
            unc = None
            if isinstance(e.get("uncertainty"), dict):
                u = e["uncertainty"]
                kind = u.get("distributionType")
                need = {
                    "LOG_NORMAL_DISTRIBUTION": ("geomMean", "geomSd"),
                    "NORMAL_DISTRIBUTION": ("mean", "sd"),
                    "TRIANGLE_DISTRIBUTION": ("minimum", "mode", "maximum"),
                    "UNIFORM_DISTRIBUTION": ("minimum", "maximum"),
                }.get(str(kind))
                if need is None:
                    problems.append(
                        ImportProblem(
                            name,
                            ex_where,
                            "uncertainty.distributionType",
                            f"flow {flow.name!r}: unknown distribution {kind!r}",
                        )
                    )
                    continue
                vals = {k: u.get(k) for k in need}
                bad = [k for k, v in vals.items() if not isinstance(v, int | float) or not math.isfinite(v)]
                if bad or (kind == "LOG_NORMAL_DISTRIBUTION" and not vals["geomSd"] >= 1.0):  # type: ignore[operator]
                    problems.append(
                        ImportProblem(
                            name,
                            ex_where,
                            f"uncertainty.{bad[0] if bad else 'geomSd'}",
                            f"flow {flow.name!r}: {kind} needs {', '.join(need)} (geomSd ≥ 1), got {vals}",
                        )
                    )
                    continue
                unc = OlcaUncertainty(str(kind), {k: float(v) for k, v in vals.items()})  # type: ignore[arg-type]
                try:
                    unc.distribution()
                except ValueError as exc:
                    problems.append(
                        ImportProblem(name, ex_where, "uncertainty", f"flow {flow.name!r}: {exc}")
                    )
                    continue
                skipped_exch |= {f"uncertainty.{k}" for k in u if k.endswith("Formula")}
            dq = None
            if e.get("dqEntry"):
                try:
                    dq = parse_dq_entry(str(e["dqEntry"]), f"flow {flow.name!r} dqEntry")
                except FactorError as exc:
                    problems.append(ImportProblem(name, ex_where, "dqEntry", str(exc)))
                    continue
            amount_ref = float(amount) * unit.conversion_factor / flow.properties[prop]
            iid = e.get("internalId")
            exchanges.append(
                OlcaExchange(
                    process_id=pid,
                    internal_id=int(iid) if isinstance(iid, int) else None,
                    flow_id=flow.id,
                    flow_name=flow.name,
                    flow_type=flow.flow_type,
                    amount=float(amount),
                    unit=unit.name,
                    amount_ref=amount_ref,
                    reference_unit=flow.reference_unit,
                    is_input=bool(_get(e, "isInput", "input", default=False)),
                    is_quantitative_reference=bool(
                        _get(e, "isQuantitativeReference", "quantitativeReference", default=False)
                    ),
                    is_avoided_product=bool(_get(e, "isAvoidedProduct", "avoidedProduct", default=False)),
                    uncertainty=unc,
                    dq_entry=dq,
                    default_provider=_ref_id(e.get("defaultProvider")),
                )
            )
        loc = p.get("location")
        processes.append(
            OlcaProcess(
                pid,
                pname,
                str(loc.get("name", "")) if isinstance(loc, dict) else "",
                str(p.get("processType", "")),
                pdq,
                tuple(exchanges),
            )
        )
    for pr in processes:  # default providers must be in the package too
        for ex in pr.exchanges:
            if ex.default_provider is not None and ex.default_provider not in {q.id for q in processes}:
                problems.append(
                    ImportProblem(
                        name,
                        f"process {pr.name!r}",
                        "defaultProvider",
                        f"exchange of flow {ex.flow_name!r} names provider process "
                        f"{ex.default_provider!r}, which is not in the package "
                        "(dangling reference)",
                    )
                )
    if problems:
        raise FactorImportError(name, problems)
    if not processes:
        raise FactorImportError(name, [ImportProblem(name, "-", "processes", "the package holds no process")])
    not_read.extend(f"Process.{k}" for k in sorted(skipped_proc))
    not_read.extend(f"Exchange.{k}" for k in sorted(skipped_exch))
    return OlcaPackage(name, tuple(processes), flows, tuple(not_read))
