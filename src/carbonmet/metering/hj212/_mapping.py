"""From HJ 212 packets to :class:`~carbonmet.metering.RawReading` records.

A measurement point says which data logger and code report it (``PointInfo.hj212_mn`` and
``PointInfo.hj212_code``). The code is either a bare factor code (``a21026``), whose reading field
is then chosen by the command and the point's ``reading_kind`` (default_fields.csv: Rtd for real-time
2011, Avg for a rate in minute/hour/day data, Cou for an interval amount), or a code with its field
(``a21026-ZsAvg``, ``a00000-Cou``).

Nothing is dropped silently: values of an unknown MN, or of a code no point claims, become
readings with ``point_id=None`` and an origin saying why, for the store to quarantine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timezone
from functools import cache

from .._types import PointInfo, RawReading
from ._codec import CHINA_TZ, Packet, parse_time
from ._errors import MissingFieldError, PointMapError
from ._reassembly import Message
from ._tables import default_fields, field_commands, field_suffixes


@dataclass(frozen=True, slots=True)
class PointMap:
    """Which measurement point each ``(MN, code[, field])`` reports; build with :func:`build_point_map`."""

    by_code: dict[tuple[str, str], tuple[tuple[str | None, PointInfo], ...]]
    mns: frozenset[str]

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_code.values())


def build_point_map(points: Iterable[PointInfo]) -> PointMap:
    """Index points by their HJ 212 MN and code.

    Parameters
    ----------
    points : iterable of PointInfo
        Points without ``hj212_mn`` or ``hj212_code`` are skipped.

    Raises
    ------
    PointMapError
        Two points claim the same MN, code and field, or a code names an unknown field suffix.
    """
    suffixes = field_suffixes()
    acc: dict[tuple[str, str], list[tuple[str | None, PointInfo]]] = {}
    for p in points:
        if not p.hj212_mn or not p.hj212_code:
            continue
        code, sep, suffix = p.hj212_code.strip().partition("-")
        fld: str | None = suffix if sep else None
        if fld is not None and suffixes.get(fld) != "number":
            raise PointMapError(
                f"point {p.point_id}: hj212_code {p.hj212_code!r} names field {fld!r}, not a measured value"
                " field of HJ 212-2017 Table 4"
            )
        lst = acc.setdefault((p.hj212_mn.strip(), code), [])
        for other_fld, other in lst:
            if other_fld == fld:
                raise PointMapError(
                    f"points {other.point_id} and {p.point_id} both claim MN={p.hj212_mn} code={p.hj212_code}"
                )
        lst.append((fld, p))
    by_code = {k: tuple(v) for k, v in acc.items()}
    return PointMap(by_code, frozenset(mn for mn, _ in by_code))


def to_raw_readings(
    packet: Packet | Message, point_map: PointMap, *, tz: timezone = CHINA_TZ
) -> list[RawReading]:
    """Turn the measured values of a packet (or of every part of a split message) into raw readings.

    Parameters
    ----------
    packet : Packet or Message
        A decoded packet; for a :class:`Message`, each part is mapped with its own DataTime.
    point_map : PointMap
        From :func:`build_point_map`.
    tz : timezone
        Zone of DataTime; HJ 212 times are China time, UTC+8 (the default).

    Returns
    -------
    list of RawReading
        ``ts`` = DataTime (for minute/hour/day data the start of the period, Table 4), ``flag`` = the
        code's ``-Flag`` (``N`` if absent), ``serial`` = the code's ``-SN`` if sent,
        ``origin`` = ``hj212:MN=…;QN=…;CN=…;<field>`` plus ``;PNO=k/n`` for parts and, for readings
        without a point, ``;unmapped: <why>``. A point whose field is missing from a packet that has
        its code, of a command that carries that field (field_suffixes.csv), gets ``value=None`` with
        ``;missing: <field>``.

    Raises
    ------
    MissingFieldError
        The packet has measured values but no DataTime (Table 4 requires it for data commands).
    """
    parts = packet.parts if isinstance(packet, Message) else (packet,)
    out: list[RawReading] = []
    for part in parts:
        _map_packet(part, point_map, tz, out)
    return out


_NUMBER_SUFFIXES: frozenset[str] | None = None


def _number_suffixes() -> frozenset[str]:
    global _NUMBER_SUFFIXES
    if _NUMBER_SUFFIXES is None:
        _NUMBER_SUFFIXES = frozenset(s for s, kind in field_suffixes().items() if kind == "number")
    return _NUMBER_SUFFIXES


def _map_packet(p: Packet, point_map: PointMap, tz: timezone, out: list[RawReading]) -> None:
    items = p.items()
    if not items:
        return
    numbers = _number_suffixes()
    dt_text = p.get("DataTime")
    if dt_text is None:
        if any(s in numbers for fields in items.values() for s in fields):
            raise MissingFieldError(
                f"CN={p.cn} carries measured values but no DataTime (Table 4)", field="DataTime"
            )
        return
    ts = parse_time(dt_text, "DataTime", tz)
    cn = p.cn
    base = f"hj212:MN={p.mn};QN={p.qn};CN={cn};"
    part = f";PNO={p.pno}/{p.pnum}" if p.pnum is not None else ""
    mn = p.mn
    known_mn = mn in point_map.mns
    by_code = point_map.by_code
    defaults = _defaults_by_cn().get(cn, {})
    expected = field_commands()
    for code, fields in items.items():
        flag = fields.get("Flag", "N")
        serial = fields.get("SN")
        claims = by_code.get((mn, code)) if known_mn else None
        if not claims:
            why = "MN not in the registry" if not known_mn else f"no point for code {code} at this MN"
            for sfx, text in fields.items():
                if sfx in numbers:
                    out.append(
                        RawReading(
                            ts=ts, value=float(text), point_id=None, serial=serial, flag=flag,
                            origin=f"{base}{code}-{sfx}{part};unmapped: {why}",
                        )
                    )
            continue
        for fld, point in claims:
            suffix: str | None = fld if fld is not None else defaults.get(point.reading_kind)
            if suffix is None:
                continue  # this command carries no reading of this kind (e.g. an interval amount in 2011)
            value_text = fields.get(suffix)
            if value_text is None:
                if cn not in expected.get(suffix, ()):
                    continue  # this command does not carry that field (e.g. ZsAvg in real-time data)
                out.append(
                    RawReading(
                        ts=ts, value=None, point_id=point.point_id, serial=serial, flag=flag,
                        origin=f"{base}{code}-{suffix}{part};missing: {code}-{suffix} not in packet",
                    )
                )
                continue
            out.append(
                RawReading(
                    ts=ts, value=float(value_text), point_id=point.point_id, serial=serial, flag=flag,
                    origin=f"{base}{code}-{suffix}{part}",
                )
            )


@cache
def _defaults_by_cn() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for (cn, kind), suffix in default_fields().items():
        out.setdefault(cn, {})[kind] = suffix
    return out
