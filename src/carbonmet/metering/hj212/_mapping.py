"""From HJ 212 packets to :class:`~carbonmet.metering.RawReading` records.

A measurement point says which data logger, code, field and command report it
(``PointInfo.hj212_mn`` and ``PointInfo.hj212_code`` = ``code[-Field][@CN]``):

- ``a21026``: the point's default command for its ``reading_kind`` and that command's field for the
  kind (default_fields.csv: minute data 2051, ``-Avg`` for rate/sample, ``-Cou`` for interval);
- ``a21026-ZsAvg`` / ``a00000-Cou``: that field, from the default command if it carries the field,
  else from the one command that does (``-Rtd`` → 2011, ``-RS`` → 2021, ``-RT`` → 2041);
- ``a00000-Cou@2061`` / ``a21026@2061``: exactly that command (and field).

A point takes values from exactly one command: the minute, hourly and daily packets of a code report
the same emission at three resolutions, so mapping more than one would count it two or three times.
Values that the point would take from its other commands become readings with ``point_id=None`` and
``;unmapped: command 2061 not configured for point …`` in their origin, so the store quarantines them
with that reason.

Nothing is dropped silently: values of an unknown MN, or of a code no point claims, become
readings with ``point_id=None`` and an origin saying why, for the store to quarantine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timezone

from .. import PointInfo, RawReading
from ._codec import CHINA_TZ, Packet, parse_time
from ._errors import MissingFieldError, PointMapError
from ._reassembly import Message
from ._tables import default_commands, default_fields, field_commands, field_suffixes


@dataclass(frozen=True, slots=True)
class CodeClaims:
    """What the points at one ``(MN, code)`` take from each command.

    Attributes
    ----------
    mapped : dict
        CN → ``((suffix, point), …)``: the fields mapped to points in packets of that command.
    unmapped : dict
        CN → ``((suffix, why), …)``: fields that points of this code would take from that command if
        it were theirs; their values become unmapped readings with ``why`` as the reason.
    """

    mapped: dict[str, tuple[tuple[str, PointInfo], ...]]
    unmapped: dict[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class PointMap:
    """Which measurement point each ``(MN, code, field, command)`` reports; build with :func:`build_point_map`."""

    by_code: dict[tuple[str, str], CodeClaims]
    mns: frozenset[str]

    def __len__(self) -> int:
        return sum(len(v) for c in self.by_code.values() for v in c.mapped.values())


def parse_hj212_code(
    point: PointInfo,
) -> tuple[str, str, str]:
    """Split and resolve a point's ``hj212_code`` = ``code[-Field][@CN]`` into ``(code, field, CN)``.

    Parameters
    ----------
    point : PointInfo
        With ``hj212_code`` set.

    Returns
    -------
    tuple of str
        The factor code, the field suffix (Table 4) and the data command (Table 9) the point takes
        its values from; defaults resolved by default_fields.csv.

    Raises
    ------
    PointMapError
        Unknown field or command, a field the command does not carry, or no default to resolve.
    """
    assert point.hj212_code is not None
    text = point.hj212_code.strip()
    body, at, cn_text = text.partition("@")
    code, sep, suffix = body.partition("-")
    fld: str | None = suffix.strip() if sep else None
    code = code.strip()
    cn: str | None = cn_text.strip() if at else None
    where = f"point {point.point_id}: hj212_code {point.hj212_code!r}"
    if not code:
        raise PointMapError(f"{where} has no factor code (form code[-Field][@CN], e.g. a00000-Cou@2061)")
    carried = field_commands()
    data_cns = {c for c, _ in default_fields()} | {c for cns in carried.values() for c in cns}
    if fld is not None and field_suffixes().get(fld) != "number":
        raise PointMapError(f"{where} names field {fld!r}, not a measured value field of HJ 212-2017 Table 4")
    if cn is not None and cn not in data_cns:
        raise PointMapError(
            f"{where} names command {cn!r}, not a data upload command ({', '.join(sorted(data_cns))};"
            " HJ 212-2017 Table 9)"
        )
    kind = point.reading_kind
    if cn is None:
        default_cn = default_commands().get(kind)
        if fld is None or (default_cn is not None and default_cn in carried.get(fld, ())):
            cn = default_cn
        elif len(carried.get(fld, ())) == 1:
            (cn,) = carried[fld]
        if cn is None:
            raise PointMapError(f"{where}: no default command for field {fld!r}; name one, e.g. {body}@2061")
    if fld is None:
        fld = default_fields().get((cn, kind))
        if fld is None:
            raise PointMapError(
                f"{where}: command {cn} has no default field for reading_kind {kind!r}"
                " (default_fields.csv); name the field, e.g. a00000-Cou@2051"
            )
    elif cn not in carried.get(fld, ()):
        raise PointMapError(f"{where}: command {cn} does not carry field -{fld} (HJ 212-2017 Table 4)")
    return code, fld, cn


def build_point_map(points: Iterable[PointInfo]) -> PointMap:
    """Index points by their HJ 212 MN, code and command.

    Parameters
    ----------
    points : iterable of PointInfo
        Points without ``hj212_mn`` or ``hj212_code`` are skipped.

    Raises
    ------
    PointMapError
        Two points claim the same MN, code, field and command, or a code cannot be resolved
        (:func:`parse_hj212_code`).
    """
    acc: dict[tuple[str, str], list[tuple[str, str, PointInfo]]] = {}
    for p in points:
        if not p.hj212_mn or not p.hj212_code:
            continue
        code, fld, cn = parse_hj212_code(p)
        lst = acc.setdefault((p.hj212_mn.strip(), code), [])
        for other_fld, other_cn, other in lst:
            if (other_fld, other_cn) == (fld, cn):
                raise PointMapError(
                    f"points {other.point_id} and {p.point_id} both claim MN={p.hj212_mn} {code}-{fld}@{cn}"
                )
        lst.append((fld, cn, p))
    carried = field_commands()
    table = default_fields()
    data_cns = sorted({c for c, _ in table} | {c for cns in carried.values() for c in cns})
    by_code: dict[tuple[str, str], CodeClaims] = {}
    for (mn, code), claims in acc.items():
        mapped: dict[str, list[tuple[str, PointInfo]]] = {}
        for fld, cn, p in claims:
            mapped.setdefault(cn, []).append((fld, p))
        unmapped: dict[str, tuple[tuple[str, str], ...]] = {}
        for c in data_cns:
            taken = {fld for fld, _ in mapped.get(c, ())}
            whys: dict[str, list[str]] = {}
            for fld, cn, p in claims:
                if cn == c:
                    continue
                # the field this point would take from command c: its own field if c carries it, else
                # (for a point that named no field) c's field for the point's kind
                named = "-" in p.hj212_code.split("@", 1)[0] if p.hj212_code else False
                alt = fld if c in carried.get(fld, ()) else (None if named else table.get((c, p.reading_kind)))
                if alt is None or alt in taken:
                    continue
                whys.setdefault(alt, []).append(f"{p.point_id} (takes {code}-{fld}@{cn})")
            if whys:
                unmapped[c] = tuple(
                    (sfx, f"command {c} not configured for point {', '.join(ps)}") for sfx, ps in whys.items()
                )
        by_code[(mn, code)] = CodeClaims({k: tuple(v) for k, v in mapped.items()}, unmapped)
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
        without a point, ``;unmapped: <why>`` (unknown MN, unclaimed code, or a command the code's
        points are not configured for). A point whose field is missing from a packet that has
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
    for code, fields in items.items():
        flag = fields.get("Flag", "N")
        serial = fields.get("SN")
        claims = by_code.get((mn, code)) if known_mn else None
        if claims is None:
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
        for suffix, point in claims.mapped.get(cn, ()):
            value_text = fields.get(suffix)
            if value_text is None:
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
        for suffix, why in claims.unmapped.get(cn, ()):
            value_text = fields.get(suffix)
            if value_text is not None:
                out.append(
                    RawReading(
                        ts=ts, value=float(value_text), point_id=None, serial=serial, flag=flag,
                        origin=f"{base}{code}-{suffix}{part};unmapped: {why}",
                    )
                )
