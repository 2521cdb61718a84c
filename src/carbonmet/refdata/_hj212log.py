"""The CEMS minute data of the showcase month as an HJ 212-2017 packet log (one frame per line).

One ``CN=2051`` (minute data) packet per data logger (MN) and minute, ``ST=31`` (flue-gas source),
``Flag=5`` (2017 protocol, answer wanted); frames are written verbatim, each ending in CR LF, with ``<code>-Avg`` and ``<code>-Flag`` per parameter; a
parameter whose minute is missing (a gap) is left out of that packet. Frames are made by
:func:`carbonmet.metering.hj212.encode` (the project's codec), the first one checked with ``build``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..metering.hj212 import Packet, build, encode
from ._faults import hour_iso
from ._measure import FLAGS
from ._types import Point

if TYPE_CHECKING:
    from ._ctx import Ctx

PW = "123456"


def write_packet_log(ctx: Ctx, ent: str, month: int, points: list[Point],
                     minute: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                     window: tuple[int, int]) -> dict[str, Any]:
    """Write ``cems/hj212-<E>-<YYYY-MM>.log`` for the hours ``window`` (start, end) of the showcase month."""
    by_mn: dict[str, list[Point]] = {}
    for p in points:
        by_mn.setdefault(p.hj212_mn, []).append(p)
    h0 = float(window[0])
    n_min = int((window[1] - window[0]) * 60)
    path = ctx.out / "cems" / f"hj212-{ent}-{ctx.cl[month]}.log"
    lines: list[bytes] = []
    n_packets = 0
    # DataTime strings of each minute (local time, start of the minute)
    ts_us = ctx.ts_us(h0 + np.arange(n_min) / 60.0) + ctx.tz * 3_600_000_000
    dt = np.datetime_as_string(ts_us.astype("datetime64[us]"), unit="s")
    data_time = np.char.replace(np.char.replace(np.char.replace(dt, "-", ""), ":", ""), "T", "")
    sent = ctx.ts_us(h0 + (np.arange(n_min) + 1) / 60.0) + ctx.tz * 3_600_000_000
    st = np.datetime_as_string(sent.astype("datetime64[us]"), unit="s")
    qn = np.char.add(np.char.replace(np.char.replace(np.char.replace(st, "-", ""), ":", ""), "T", ""), "000")
    for mn in sorted(by_mn):
        cols = []
        for p in sorted(by_mn[mn], key=lambda q: q.hj212_code):
            th, v, fl = minute[p.point_id]
            idx = np.round((th - h0) * 60).astype(np.int64)
            sel = (idx >= 0) & (idx < n_min)
            vals = np.full(n_min, "", dtype=object)
            vals[idx[sel]] = [repr(float(x)) for x in v[sel]]
            flg = np.full(n_min, "", dtype=object)
            flg[idx[sel]] = np.array(FLAGS)[fl[sel]]
            cols.append((p.hj212_code, vals, flg))
        header_base = (("ST", "31"), ("CN", "2051"), ("PW", PW), ("MN", mn), ("Flag", "5"))
        first = True
        for i in range(n_min):
            items = tuple((( f"{code}-Avg", vals[i]), (f"{code}-Flag", flg[i])) for code, vals, flg in cols if vals[i])
            if not items:
                continue
            cp = ((("DataTime", str(data_time[i])),),) + items
            head = (("QN", str(qn[i])),) + header_base
            if first:  # validate the layout once with the codec's checks
                pk = build(head, cp)
                first = False
            else:
                pk = Packet(head, cp, str(qn[i]), "31", "2051", PW, mn, 5)
            lines.append(encode(pk))
            n_packets += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))
    return {"hj212_log": str(path.relative_to(ctx.out)), "hj212_packets": n_packets,
            "hj212_from": hour_iso(ctx.year, window[0], ctx.tz), "hj212_to": hour_iso(ctx.year, window[1], ctx.tz),
            "hj212_note": "frames verbatim, each ending in CR LF (one per line); the file is a replayable TCP stream"}
