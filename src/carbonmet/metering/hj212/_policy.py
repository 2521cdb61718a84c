"""Acceptance policy per data logger (数采仪接收策略): HJ 212 as deployed, not only as written.

Many installed data loggers send packets that HJ 212-2017 would refuse: the 14-character MN of the 2005 era,
a 2005-style header (version bits 000000, no QN or Flag), codes outside the tables, the Flag version bits of
HJ 212-2025. Refusing them whole loses a month of data before anyone notices. So each frame is *assessed*
(:func:`assess`): decoded as leniently as the codec allows, and every departure from HJ 212-2017 named by a
code of ``deviations.csv`` (with the clause and the evidence mark). The policy of the logger then decides
(:class:`AcceptancePolicy`):

- ``flag`` (accept and flag, the default): the readings are stored, and each deviation is counted with the
  batch (``IngestReport.deviations``, the store's journal, ``carbonmet readings quarantine``);
- ``strict``: a frame with a deviation whose ``strict_refuses`` is ``yes`` is refused whole with the reasons;
  its bytes go to quarantine (the raw archive keeps them), so nothing is lost either way.

The operator sets ``strict`` per logger (MN) or per enterprise (the enterprise of the logger's measurement
points: :class:`~carbonmet.metering.PointInfo` carries no site code) in a policy file
(:func:`load_policy`)::

    # match,value,policy,note
    default,,flag,accept and flag unless named below
    mn,010000A8900016F000169DC0,strict,new logger: must follow HJ 212-2017
    enterprise,E02,strict,all loggers of E02

HJ 212-2025 (in force 2026-01-01) is known only from two public implementations, not from its text
(``profile_2025.csv``, evidence [C]/[?]): version bits 000010, the 9015 heartbeat (answered 9013), new
command and system codes are decoded and counted (``version_2025``, ``cn_2025``, ``st_2025``; never refused
by ``strict``); a CRC that matches only the CRC-16/MODBUS order is decoded and flagged
(``crc_modbus_order``, [?]: refused by ``strict``); SM4-encrypted data areas cannot be read here and are
quarantined like any undecodable frame.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal

from ._codec import (
    HEADER_KEYS,
    MAX_CP_LEN,
    MAX_DATA_LEN,
    VERSION_2005,
    VERSION_2025,
    Packet,
    decode,
    frame_data,
)
from ._crc import crc16_modbus
from ._errors import BadCRCError, DecodeError, HJ212Error
from ._mapping import PointMap
from ._tables import (
    commands,
    data_flags,
    deviation_kinds,
    factor_codes,
    field_suffixes,
    profile_2025,
    system_codes,
)

Policy = Literal["strict", "flag"]
POLICIES: tuple[Policy, ...] = ("strict", "flag")

_MN_2017 = re.compile(r"[0-9A-F]{24}\Z")


class PolicyFileError(HJ212Error, ValueError):
    """A policy file that cannot be used (names the file, line and field)."""


@dataclass(frozen=True, slots=True)
class Assessment:
    """What one frame is, measured against HJ 212-2017.

    Attributes
    ----------
    packet : Packet or None
        The packet decoded as leniently as the codec allows (``deviations`` set), or ``None``.
    deviations : tuple of str
        Codes of deviations.csv, in the order found, each once.
    details : tuple of str
        One line per deviation saying what was seen (for the refusal reason and the log).
    error : DecodeError or None
        Why nothing could be decoded (``packet`` is ``None``).
    """

    packet: Packet | None
    deviations: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    error: DecodeError | None = None

    def refusals(self) -> tuple[str, ...]:
        """The deviations a ``strict`` policy refuses."""
        kinds = deviation_kinds()
        return tuple(d for d in self.deviations if kinds[d].strict_refuses)


@dataclass(frozen=True, slots=True)
class AcceptancePolicy:
    """Which policy applies to a data logger: by MN, else by its points' enterprise, else ``default``.

    Build one from a file with :func:`load_policy`; ``AcceptancePolicy()`` accepts and flags everything.
    """

    default: Policy = "flag"
    by_mn: Mapping[str, Policy] = field(default_factory=dict)
    by_enterprise: Mapping[str, Policy] = field(default_factory=dict)

    def for_logger(self, mn: str, point_map: PointMap | None = None) -> Policy:
        """The policy of logger ``mn``; ``strict`` if any enterprise whose points it reports is strict."""
        p = self.by_mn.get(mn)
        if p is not None:
            return p
        if self.by_enterprise and point_map is not None:
            for (m, _code), claims in point_map.by_code.items():
                if m != mn:
                    continue
                for pairs in claims.mapped.values():
                    for _sfx, point in pairs:
                        if self.by_enterprise.get(point.enterprise) == "strict":
                            return "strict"
        return self.default

    def refusal(self, a: Assessment, point_map: PointMap | None = None) -> str | None:
        """The reason a frame is refused (``None``: accepted), naming the logger and every deviation refused."""
        if a.packet is None:
            return None
        if self.for_logger(a.packet.mn, point_map) != "strict":
            return None
        refused = a.refusals()
        if not refused:
            return None
        why = "; ".join(d for d, code in zip(a.details, a.deviations, strict=True) if code in refused)
        return (f"strict_policy: MN={a.packet.mn} CN={a.packet.cn}: 严格策略拒收 refused under the strict policy: "
                f"{why}")


def describe(code: str) -> str:
    """``code (中文; English; clause; evidence)`` of a deviation."""
    k = deviation_kinds()[code]
    return f"{code} ({k.name_zh}; {k.name_en}; {k.clause}; {k.evidence})"


@cache
def _profile_values(what: str) -> frozenset[str]:
    return frozenset(r["value"] for r in profile_2025() if r["what"] == what)


@cache
def _cns_2017() -> frozenset[str]:
    return frozenset(cn for cn, _ in commands() if cn not in _profile_values("cn"))


def _deviations_of(p: Packet, frame: bytes) -> list[tuple[str, str]]:
    """Every deviation of a (leniently decoded) packet from HJ 212-2017, as ``(code, what was seen)``."""
    out: list[tuple[str, str]] = []
    h = dict(p.header)
    if "Flag" not in h:
        out.append(("flag_missing", "no Flag field"))
    elif p.version == VERSION_2005:
        out.append(("version_2005", f"Flag={h['Flag']}: version bits 000000"))
    elif p.version == VERSION_2025:
        out.append(("version_2025", f"Flag={h['Flag']}: version bits 000010"))
    if "QN" not in h:
        out.append(("qn_missing", "no QN field"))
    if "PW" not in h:
        out.append(("pw_missing", "no PW field"))
    elif len(p.pw) > 6:
        out.append(("pw_too_long", f"PW of {len(p.pw)} characters"))
    unknown = [k for k in h if k not in HEADER_KEYS]
    if unknown:
        out.append(("header_field_unknown", f"header fields {', '.join(unknown)}"))
    if not _MN_2017.match(p.mn):
        out.append(("mn_not_24_hex", f"MN={p.mn} ({len(p.mn)} characters)"))
    if not p.is_split and ("PNUM" in h or "PNO" in h):
        out.append(("pnum_without_split", "PNUM/PNO without Flag bit D"))
    data_len = len(frame) - 12
    cp_at = frame.find(b"CP=&&")
    cp_len = len(frame) - 6 - cp_at if cp_at >= 0 else 0
    if data_len > MAX_DATA_LEN or cp_len > MAX_CP_LEN:
        out.append(("oversize", f"data segment {data_len} bytes, CP {cp_len} bytes"))
    if any(not item for item in p.cp):
        out.append(("cp_empty_item", "an empty item in CP"))
    if cp_at >= 0 and b"&&" in frame[cp_at + 5 : -8]:
        out.append(("cp_ampersand", "'&&' inside CP"))
    flags = data_flags()
    suffixes = field_suffixes()
    codes = factor_codes()
    bad_flags: list[str] = []
    bad_sfx: list[str] = []
    bad_codes: list[str] = []
    for code, fields in p.items().items():
        if code not in codes:
            bad_codes.append(code)
        for sfx, v in fields.items():
            kind = suffixes.get(sfx)
            if kind is None:
                bad_sfx.append(f"{code}-{sfx}")
            elif kind == "flag" and v not in flags:
                bad_flags.append(f"{code}-{sfx}={v}")
    if bad_flags:
        out.append(("data_flag_not_table8", ", ".join(bad_flags)))
    if bad_sfx:
        out.append(("field_suffix_unknown", ", ".join(bad_sfx)))
    if bad_codes:
        out.append(("code_not_in_table", "codes " + ", ".join(bad_codes)))
    if p.cn not in _cns_2017():
        if p.cn in _profile_values("cn"):
            out.append(("cn_2025", f"CN={p.cn}"))
        else:
            out.append(("cn_unknown", f"CN={p.cn}"))
    if p.st not in system_codes() and p.st in _profile_values("st"):
        out.append(("st_2025", f"ST={p.st}"))
    return out


def assess(frame: bytes) -> Assessment:
    """Decode a frame as far as possible and name every deviation from HJ 212-2017 (pure; no policy applied).

    Parameters
    ----------
    frame : bytes
        One whole frame ``##LLLL…CCCC\\r\\n``.

    Returns
    -------
    Assessment
        ``packet`` decoded with ``strict=False`` (or, for a CRC in the CRC-16/MODBUS order, from the same data
        segment) with ``raw=frame`` and ``deviations`` set; or ``packet=None`` and the decode ``error``.
        A frame that strict decoding refuses for a reason no named check explains gets ``other_2017`` with the
        strict decoder's message.

    References
    ----------
    HJ 212-2017 clause 6.3 (Tables 2–4, 8, 9), Appendix A; HJ 212-2025 as in profile_2025.csv ([C]/[?]).
    """
    found: list[tuple[str, str]] = []
    try:
        packet = decode(frame, strict=True)
        strict_error: DecodeError | None = None
    except DecodeError as exc:
        strict_error = exc
        try:
            packet = decode(frame, strict=False)
        except BadCRCError as crc_exc:
            data = frame[6:-6]
            if f"{crc16_modbus(data):04X}" != crc_exc.actual.upper():
                return Assessment(None, error=crc_exc)
            try:
                packet = replace(decode(frame_data(data), strict=False), raw=frame)
            except DecodeError as exc2:
                return Assessment(None, error=exc2)
            found.append(("crc_modbus_order", f"CRC {crc_exc.actual} = CRC-16/MODBUS, Appendix A gives {crc_exc.expected}"))
            try:
                decode(frame_data(data), strict=True)
                strict_error = None
            except DecodeError as exc3:
                strict_error = exc3
        except DecodeError as exc2:
            return Assessment(None, error=exc2)
    found += _deviations_of(packet, frame)
    if strict_error is not None and not found:
        found.append(("other_2017", str(strict_error)))
    seen: dict[str, str] = {}
    for code, what in found:
        seen.setdefault(code, what)
    codes = tuple(seen)
    details = tuple(f"{describe(c)}: {seen[c]}" for c in codes)
    return Assessment(replace(packet, deviations=codes), codes, details)


# ------------------------------------------------------------------------------------------------ policy file


def parse_policy(text: str, name: str = "<policy>") -> AcceptancePolicy:
    """Parse a policy file (CSV ``match,value,policy[,note]``; ``#`` comments) into an :class:`AcceptancePolicy`.

    ``match`` is ``default`` (value empty), ``mn`` (a logger's MN) or ``enterprise`` (an enterprise code);
    ``policy`` is ``strict`` or ``flag``.

    Raises
    ------
    PolicyFileError
        Naming the file, the line and the field: an unknown match or policy, an empty value, the same key
        twice.
    """
    default: Policy = "flag"
    seen_default = False
    by_mn: dict[str, Policy] = {}
    by_ent: dict[str, Policy] = {}
    lines = text.splitlines()
    header_done = False
    for no, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = next(csv.reader(io.StringIO(line)))
        except (csv.Error, StopIteration) as exc:
            raise PolicyFileError(f"{name}:{no}: 无法解析 not CSV: {exc}") from None
        row = [c.strip() for c in row]
        if not header_done and row[:3] == ["match", "value", "policy"]:
            header_done = True
            continue
        header_done = True
        if len(row) < 3:
            raise PolicyFileError(f"{name}:{no}: 需要 needs match,value,policy — got {len(row)} field(s)")
        match, value, pol = row[0], row[1], row[2]
        if pol not in POLICIES:
            raise PolicyFileError(f"{name}:{no}: policy: 应为 strict 或 flag  must be strict or flag, not {pol!r}")
        if match == "default":
            if value:
                raise PolicyFileError(f"{name}:{no}: value: default 行不带值 a default row has no value ({value!r})")
            if seen_default:
                raise PolicyFileError(f"{name}:{no}: match: default 重复 default given twice")
            default, seen_default = pol, True  # type: ignore[assignment]
            continue
        if match not in ("mn", "enterprise"):
            raise PolicyFileError(f"{name}:{no}: match: 应为 default, mn 或 enterprise  must be default, mn or "
                                  f"enterprise, not {match!r}")
        if not value or not value.isprintable() or len(value) > 64:
            raise PolicyFileError(f"{name}:{no}: value: {match} 需要 1–64 个可打印字符 needs 1–64 printable characters")
        table = by_mn if match == "mn" else by_ent
        if value in table:
            raise PolicyFileError(f"{name}:{no}: value: {match} {value} 重复 given twice")
        table[value] = pol  # type: ignore[assignment]
    return AcceptancePolicy(default, by_mn, by_ent)


def load_policy(path: str | os.PathLike[str]) -> AcceptancePolicy:
    """Read a policy file (:func:`parse_policy`); errors name the file."""
    try:
        text = open(path, encoding="utf-8").read()  # noqa: SIM115
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(f"{path}: 无法读取 cannot read: {exc}") from None
    return parse_policy(text, str(path))
