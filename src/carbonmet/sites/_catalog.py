"""The point catalog: what the store needs to know about measurement points (计量点目录).

The store takes any ``Mapping[str, PointInfo]``; :class:`Catalog` wraps one with the look-ups
validation needs (instrument serial → point on a date).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from ._types import InstrumentPeriod, PointInfo


class Catalog(Mapping[str, PointInfo]):
    """Points by id, with an index of instrument serials.

    Parameters
    ----------
    points : Mapping[str, PointInfo]
        Point id → point info (e.g. from the registry).
    """

    def __init__(self, points: Mapping[str, PointInfo]) -> None:
        self._points = dict(points)
        self._serials: dict[str, list[tuple[str, InstrumentPeriod]]] = {}
        for pid, info in self._points.items():
            for ip in info.instruments:
                self._serials.setdefault(ip.serial, []).append((pid, ip))
                if ip.instrument_id != ip.serial:
                    self._serials.setdefault(ip.instrument_id, []).append((pid, ip))

    def __getitem__(self, key: str) -> PointInfo:
        return self._points[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def knows_serial(self, serial: str) -> bool:
        return serial in self._serials

    def installations(self, serial: str) -> list[tuple[str, InstrumentPeriod]]:
        """(point id, installation) pairs of an instrument serial (or registry id)."""
        return self._serials.get(serial, [])

    def resolve_serial(self, serial: str, day: date) -> str | None:
        """Point the instrument ``serial`` was installed at on ``day`` (None if none)."""
        for pid, ip in self._serials.get(serial, []):
            if _installed(ip, day):
                return pid
        return None

    def instruments_at(self, point_id: str, day: date) -> list[InstrumentPeriod]:
        """Instruments installed at a point on a day."""
        return [ip for ip in self._points[point_id].instruments if _installed(ip, day)]


def _installed(ip: InstrumentPeriod, day: date) -> bool:
    return (ip.installed_from is None or ip.installed_from <= day) and (
        ip.installed_to is None or day < ip.installed_to
    )


def as_catalog(points: Mapping[str, PointInfo]) -> Catalog:
    """Wrap a mapping as a :class:`Catalog` (no copy if it already is one)."""
    return points if isinstance(points, Catalog) else Catalog(points)
