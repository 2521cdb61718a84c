"""Validation of an input batch against the point catalog, the rule table and what is already stored
(数据校验).

Each received row ends in exactly one of three places: **stored**, **quarantined** (with a reason code
and a detail text) or counted as a **duplicate** of a reading already stored (same point, time and
value). Findings that do not reject a row (gaps, flatlines, late data) are returned as notices.

Reason codes (see docs/metering.md): ``missing_timestamp``, ``bad_timestamp``, ``naive_timestamp``,
``missing_value``, ``bad_value``, ``no_point``, ``unknown_point``, ``unknown_device``,
``device_not_installed``, ``invalid_flag``, ``unknown_unit``, ``unit_not_convertible``,
``out_of_range``, ``implausible_timestamp`` (outside the window of rules.toml ``[timestamps]``),
``invalid_point_id`` (not an identifier: :func:`carbonmet.quantities.rules.check_code`),
``conflicting_duplicate``, ``totaliser_decrease``, ``spike``, ``flatline``,
``bad_payload`` (MQTT), plus whatever an HJ 212 reject names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonmet.quantities import UnitError, conversion_factor, convert, parse_unit
from carbonmet.quantities.rules import code_problem

from ._catalog import Catalog
from ._rules import Rules
from ._types import PointInfo

#: Existing readings of one partition: (sorted ts [µs since epoch, UTC], values in the point's unit,
#: flags as str objects).
Existing = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.object_]]
#: Look-up of stored readings: (enterprise, point, month "YYYY-MM") → Existing.
ExistingLookup = Callable[[str, str, str], Existing]

_US_PER_DAY = 86_400_000_000
_NAT = np.iinfo(np.int64).min


@dataclass(slots=True)
class Notice:
    """A finding reported but not rejecting rows (gap, flatline, late data, …)."""

    check: str
    point_id: str
    count: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "point_id": self.point_id, "count": self.count, "detail": self.detail}


@dataclass(slots=True)
class Validated:
    """Result of :func:`validate_readings`."""

    #: accepted rows: point_id, enterprise, month, ts, value, flag, source (sorted by point, ts)
    accepted: pa.Table
    #: rejected rows: the input batch columns plus reason and detail
    quarantined: pa.Table
    duplicates: int
    notices: list[Notice] = field(default_factory=list)

    @property
    def received(self) -> int:
        return self.accepted.num_rows + self.quarantined.num_rows + self.duplicates


def is_rollover(prev: float, new: float, rules: Rules) -> bool:
    """True if a decrease ``prev`` → ``new`` of a decimal totaliser register is a rollover.

    The register modulus is the smallest power of ten above ``prev``,
    :math:`M = 10^{\\lfloor \\log_{10} prev \\rfloor + 1}` (999 999.5 → 10⁶, 1000 → 10⁴); a rollover needs
    ``prev ≥ rollover_high·M`` and ``new < rollover_low·M`` (rules.toml ``[totaliser]``). The aggregation
    adds the same ``M`` to a negative difference only where this holds; any other decrease is a break of
    the register sequence (reset), never an amount.
    """
    if prev <= 0 or new < 0 or not (math.isfinite(prev) and math.isfinite(new)):
        return False
    m = register_modulus(prev)
    return prev >= rules.rollover_high * m and new < rules.rollover_low * m


def register_modulus(prev: float) -> float:
    """Modulus of a decimal register holding ``prev`` > 0: :math:`10^{\\lfloor\\log_{10} prev\\rfloor + 1}` [-]."""
    e = math.floor(math.log10(prev))
    if 10.0 ** e > prev:  # log10 rounding just below a power of ten
        e -= 1
    elif 10.0 ** (e + 1) <= prev:
        e += 1
    return 10.0 ** (e + 1)


def register_breaks_us(info: PointInfo, local_tz: str) -> npt.NDArray[np.int64]:
    """Instants [µs since epoch, UTC] where the totaliser register sequence of a point breaks: every
    instrument installation or removal date (local midnight). Readings on either side of a break
    belong to different registers and are never differenced."""
    off = _tz_offset_us(local_tz)
    day0 = date(1970, 1, 1)
    days = {d for ip in info.instruments for d in (ip.installed_from, ip.installed_to) if d is not None}
    return np.array(sorted((d - day0).days * _US_PER_DAY - off for d in days), dtype=np.int64)


def _encode(a: pa.ChunkedArray | pa.Array) -> tuple[npt.NDArray[np.int32], list[Any]]:
    """Dictionary-encode a column: (codes with -1 for null, dictionary values)."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    d = pc.dictionary_encode(a)
    codes = d.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    return codes, d.dictionary.to_pylist()


def _tz_offset_us(tz_name: str) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    off = datetime.now(UTC).astimezone(ZoneInfo(tz_name)).utcoffset() or timedelta(0)
    return int(off.total_seconds() * 1_000_000)


def validate_readings(
    batch: pa.Table,
    catalog: Catalog,
    rules: Rules,
    existing: ExistingLookup,
    *,
    local_tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Validated:
    """Validate one input batch of readings (see module docstring for the outcome of each row).

    Named ``validate_readings`` so it is not confused with :func:`carbonmet.uncertainty.validate_lpu`
    (validation of the LPU by the MCM).

    Parameters
    ----------
    batch : pyarrow.Table
        Rows in :data:`carbonmet.metering.BATCH_SCHEMA`.
    catalog : Catalog
        Known points and instruments.
    rules : Rules
        Rule table (flags, checks, totaliser rollover).
    existing : callable
        Stored readings per (enterprise, point, month), for duplicate, order and totaliser checks.
    local_tz : str
        Zone of the catalog's calendar dates (instrument installation dates) [IANA name].
    now : datetime, optional
        The moment the timestamp window is measured from (default: the current time).
    """
    n = batch.num_rows
    reason: npt.NDArray[np.object_] = np.full(n, None, dtype=object)
    detail: npt.NDArray[np.object_] = np.full(n, None, dtype=object)
    notices: list[Notice] = []

    err = batch.column("error").to_numpy(zero_copy_only=False) if n else np.empty(0, dtype=object)
    has_err = np.array([e is not None for e in err], dtype=bool) if n else np.zeros(0, bool)
    reason[has_err] = err[has_err]
    if has_err.any():
        raw_ts = batch.column("raw_ts").to_numpy(zero_copy_only=False)
        raw_v = batch.column("raw_value").to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(has_err):
            e = err[i]
            detail[i] = f"ts {raw_ts[i]!r}" if "timestamp" in e else f"value {raw_v[i]!r}"

    ts_col = batch.column("ts").combine_chunks() if n else pa.array([], pa.timestamp("us", tz="UTC"))
    ts = pc.fill_null(ts_col.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False).astype(np.int64)
    value = pc.fill_null(batch.column("value"), math.nan).to_numpy(zero_copy_only=False).astype(np.float64)

    # --- timestamp plausibility window (the one window: rules.toml [timestamps]) --------------------
    lo_dt, hi_dt = rules.timestamps.bounds(now)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    lo_us = (lo_dt - epoch) // timedelta(microseconds=1)
    hi_us = (hi_dt - epoch) // timedelta(microseconds=1)
    bad_ts = (ts != _NAT) & ((ts < lo_us) | (ts > hi_us)) & (reason == None)
    if bad_ts.any():
        reason[bad_ts] = "implausible_timestamp"
        for i in np.flatnonzero(bad_ts):
            shown = ts_col[int(i)].as_py()
            detail[i] = (f"时间 {shown.isoformat()} 不在 {lo_dt.date()} … {hi_dt.isoformat(timespec='minutes')} 内 / "
                         f"timestamp {shown.isoformat()} outside the plausible window "
                         f"{lo_dt.date()} … {hi_dt.isoformat(timespec='minutes')}")
        ts[bad_ts] = _NAT  # never used for month partitions or installation look-ups

    # --- point resolution --------------------------------------------------------------------------
    pcode, pdict = _encode(batch.column("point_id"))
    point_of = np.full(n, -1, dtype=np.int32)  # index into `points`
    points: list[str] = []
    pindex: dict[str, int] = {}

    def _pidx(pid: str) -> int:
        if pid not in pindex:
            pindex[pid] = len(points)
            points.append(pid)
        return pindex[pid]

    for c, pid in enumerate(pdict):
        rows = pcode == c
        problem = code_problem(pid)
        if problem is not None:  # the one identifier rule: a point id may become a directory name
            sel = rows & (reason == None)
            reason[sel] = "invalid_point_id"
            detail[sel] = f"point_id {problem}"
        elif pid in catalog:
            point_of[rows] = _pidx(pid)
        else:
            sel = rows & (reason == None)
            reason[sel] = "unknown_point"
            detail[sel] = f"point {pid!r} is not in the catalog"
    no_pid = pcode == -1
    if no_pid.any():
        scode, sdict = _encode(batch.column("serial"))
        off = _tz_offset_us(local_tz)
        day0 = date(1970, 1, 1)
        for c, serial in enumerate(sdict):
            rows = np.flatnonzero(no_pid & (scode == c))
            if not catalog.knows_serial(serial):
                sel = rows[reason[rows] == None]
                reason[sel] = "unknown_device"
                detail[sel] = f"instrument serial {serial!r} is not in the catalog"
                continue
            inst = catalog.installations(serial)
            days = (ts[rows] + off) // _US_PER_DAY
            resolved = np.zeros(len(rows), bool)
            for pid, ip in inst:
                lo = (ip.installed_from - day0).days if ip.installed_from else -(10**9)
                hi = (ip.installed_to - day0).days if ip.installed_to else 10**9
                m = (days >= lo) & (days < hi) & ~resolved & (ts[rows] != _NAT)
                point_of[rows[m]] = _pidx(pid)
                resolved |= m
            sel = rows[~resolved & (reason[rows] == None)]
            reason[sel] = "device_not_installed"
            detail[sel] = f"instrument {serial!r} was not installed at any point on that date"
        sel = no_pid & (scode == -1) & (reason == None)
        reason[sel] = "no_point"
        detail[sel] = "neither point_id nor serial given"

    # --- flags -------------------------------------------------------------------------------------
    fcode, fdict = _encode(batch.column("flag"))
    for c, fl in enumerate(fdict):
        if fl not in rules.flags:
            sel = (fcode == c) & (reason == None)
            reason[sel] = "invalid_flag"
            detail[sel] = f"flag {fl!r} is not an HJ 212 data flag ({''.join(rules.flags)})"
    flag_valid = np.array([rules.flags[f].valid if f in rules.flags else False for f in fdict] + [False])
    flag_subst = np.array(
        [rules.flags[f].source == "substituted" if f in rules.flags else False for f in fdict] + [False]
    )
    # fcode -1 (null) indexes the appended False
    row_valid_flag = flag_valid[fcode]
    fstr = np.array([*fdict, None], dtype=object)  # flag text by code (-1: null)
    row_subst = flag_subst[fcode]

    # rows of each point, found once (O(n), not O(n × points))
    by_point = np.argsort(point_of, kind="stable")
    cuts = np.searchsorted(point_of[by_point], np.arange(len(points) + 1))
    point_rows = [by_point[cuts[i]:cuts[i + 1]] for i in range(len(points))]

    # --- units -------------------------------------------------------------------------------------
    ucode, udict = _encode(batch.column("unit"))
    conv = value.copy()
    ok = reason == None
    for pi, pid in enumerate(points):
        info = catalog[pid]
        prow_idx = point_rows[pi][ok[point_rows[pi]]]
        uc = ucode[prow_idx]
        for c in np.unique(uc):
            rows = prow_idx[uc == c]
            if c == -1:
                continue
            u = udict[c]
            try:
                parse_unit(u)
            except UnitError:
                reason[rows] = "unknown_unit"
                detail[rows] = f"unit {u!r} is not a known unit"
                continue
            try:
                f = conversion_factor(u, info.unit)
                conv[rows] = value[rows] * f
            except UnitError:
                try:
                    conv[rows] = np.asarray(convert(value[rows], u, info.unit), dtype=float)
                except UnitError:
                    reason[rows] = "unit_not_convertible"
                    detail[rows] = f"unit {u!r} cannot be converted to the point's unit {info.unit!r}"

    # --- per point: range, duplicates, totaliser, spikes, flatline, order, gaps ---------------------
    is_dup = np.zeros(n, bool)
    month_of = np.full(n, "", dtype=object)
    ok = reason == None
    for pi, pid in enumerate(points):
        info = catalog[pid]
        rows = point_rows[pi][ok[point_rows[pi]]]
        if len(rows) == 0:
            continue
        _check_range(info, rows, ts, conv, reason, detail, local_tz)
        rows = rows[reason[rows] == None]
        if len(rows) == 0:
            continue
        order = np.argsort(ts[rows], kind="stable")
        rows = rows[order]
        t = ts[rows]
        months = t.astype("datetime64[us]").astype("datetime64[M]")
        umonths = np.unique(months)
        month_str = {m: str(m) for m in umonths}
        for m in umonths:
            month_of[rows[months == m]] = month_str[m]
        # existing data of the touched months and the month before (totaliser and order context)
        ex_ts_parts, ex_v_parts, ex_f_parts = [], [], []
        ctx = set(umonths) | {m - np.timedelta64(1, "M") for m in umonths}
        for m in sorted(ctx):
            ets, ev, ef = existing(info.enterprise, pid, str(m))
            if len(ets):
                ex_ts_parts.append(ets)
                ex_v_parts.append(ev)
                ex_f_parts.append(ef)
        ex_ts = np.concatenate(ex_ts_parts) if ex_ts_parts else np.empty(0, np.int64)
        ex_v = np.concatenate(ex_v_parts) if ex_v_parts else np.empty(0, np.float64)
        ex_f = np.concatenate(ex_f_parts) if ex_f_parts else np.empty(0, object)
        if len(ex_ts_parts) > 1:
            o = np.argsort(ex_ts, kind="stable")
            ex_ts, ex_v, ex_f = ex_ts[o], ex_v[o], ex_f[o]

        v = conv[rows]
        fl = fcode[rows]
        # duplicates against the store: the same value and flag is a duplicate, anything else a conflict
        hit = np.zeros(len(rows), bool)
        if len(ex_ts):
            pos = np.searchsorted(ex_ts, t)
            posc = np.minimum(pos, len(ex_ts) - 1)
            hit = ex_ts[posc] == t
            if hit.any():
                same_v = np.isclose(ex_v[posc], v, rtol=1e-12, atol=0.0) | (np.isnan(ex_v[posc]) & np.isnan(v))
                same_f = ex_f[posc] == fstr[fl]
                equal = same_v & same_f
                is_dup[rows[hit & equal]] = True
                c = hit & ~equal
                reason[rows[c]] = "conflicting_duplicate"
                detail[rows[c]] = [
                    f"stored value {ex_v[k]:.10g} differs" if not sv else f"stored flag {ex_f[k]!r} differs"
                    for k, sv in zip(posc[c], same_v[c])
                ]
        # duplicates inside the batch, among rows not already stored (first occurrence wins)
        sub = np.flatnonzero(~hit)
        ts_sub = t[sub]
        same_ts = np.zeros(len(sub), bool)
        same_ts[1:] = ts_sub[1:] == ts_sub[:-1]
        if same_ts.any():
            first_idx = np.maximum.accumulate(np.where(~same_ts, np.arange(len(sub)), 0))
            vs, fs = v[sub], fl[sub]
            equal = (vs == vs[first_idx]) & (fs == fs[first_idx])
            is_dup[rows[sub[same_ts & equal]]] = True
            c = same_ts & ~equal
            reason[rows[sub[c]]] = "conflicting_duplicate"
            detail[rows[sub[c]]] = "another value for the same point and time in this batch"
        live = (reason[rows] == None) & ~is_dup[rows]
        rows_l, t_l, v_l = rows[live], t[live], v[live]
        if len(rows_l) == 0:
            continue
        kind = info.reading_kind
        # late (out-of-order) data
        chk = rules.check("out_of_order", kind)
        if chk is not None and len(ex_ts):
            late = t_l < ex_ts[-1]
            if late.any():
                _apply(chk.action, "out_of_order", pid, rows_l[late], reason, detail, notices,
                       "older than the newest stored reading of the point")
        if kind == "total":
            # an instrument change (replacement, reset register) breaks the sequence: check each
            # installation segment on its own
            brk = register_breaks_us(info, local_tz)
            seg_new = np.searchsorted(brk, t_l, side="right")
            seg_ex = np.searchsorted(brk, ex_ts, side="right")
            for sg in np.unique(seg_new):
                on = seg_new == sg
                ex_on = seg_ex == sg
                _check_totaliser(pid, rows_l[on], t_l[on], v_l[on], ex_ts[ex_on], ex_v[ex_on], rules, reason,
                                 detail, notices)
        live2 = reason[rows_l] == None
        rows_v = rows_l[live2 & row_valid_flag[rows_l]]
        if len(rows_v) >= 2:
            _check_spike_flatline(pid, kind, rows_v, conv, rules, reason, detail, notices)
        chk = rules.check("gap", kind)
        if chk is not None and len(t_l) >= 3:
            steps = np.diff(t_l)
            typical = float(np.median(steps))
            if typical > 0:
                big = steps > chk.params.get("factor", 3.0) * typical
                if big.any():
                    longest = int(steps[big].max())
                    notices.append(Notice(
                        "gap", pid, int(big.sum()),
                        f"{int(big.sum())} gap(s) longer than {chk.params.get('factor', 3.0):g}× the typical "
                        f"step {typical / 1e6:g} s; longest {longest / 1e6:g} s",
                    ))

    # --- assemble ------------------------------------------------------------------------------------
    accepted_mask = (reason == None) & ~is_dup
    quarantined_mask = reason != None
    acc_idx = np.flatnonzero(accepted_mask)
    # sort by point then time
    if len(acc_idx):
        o = np.lexsort((ts[acc_idx], point_of[acc_idx]))
        acc_idx = acc_idx[o]
    ent = np.array([catalog[p].enterprise for p in points] + [""], dtype=object)
    pts = np.array(points + [""], dtype=object)
    src = np.where(row_subst[acc_idx], "substituted", "measured")
    accepted = pa.table(
        {
            "point_id": pa.array(pts[point_of[acc_idx]], pa.string()),
            "enterprise": pa.array(ent[point_of[acc_idx]], pa.string()),
            "month": pa.array(month_of[acc_idx], pa.string()),
            "ts": pa.array(ts[acc_idx], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "value": pa.array(conv[acc_idx], pa.float64()),
            "flag": batch.column("flag").take(pa.array(acc_idx)).combine_chunks()
            if len(acc_idx) else pa.array([], pa.string()),
            "source": pa.array(src, pa.string()),
        }
    )
    q_idx = np.flatnonzero(quarantined_mask)
    qb = batch.take(pa.array(q_idx, pa.int64()))
    if qb.num_rows and qb.column("line").null_count < qb.num_rows:  # file rows: origin "name:line"
        line = qb.column("line")
        joined = pc.binary_join_element_wise(qb.column("origin"), pc.cast(line, pa.string()), ":")
        qb = qb.set_column(qb.schema.get_field_index("origin"), "origin",
                           pc.if_else(pc.is_null(line), qb.column("origin"), joined))
    quarantined = qb.append_column(
        "reason", pa.array(reason[q_idx], pa.string())
    ).append_column("detail", pa.array(detail[q_idx], pa.string()))
    return Validated(accepted=accepted, quarantined=quarantined, duplicates=int(is_dup.sum()), notices=notices)


def _apply(
    action: str,
    check: str,
    pid: str,
    rows: npt.NDArray[np.intp],
    reason: npt.NDArray[np.object_],
    detail: npt.NDArray[np.object_],
    notices: list[Notice],
    text: str,
) -> None:
    if action == "quarantine":
        reason[rows] = check
        detail[rows] = text
        notices.append(Notice(check, pid, len(rows), f"quarantined: {text}"))
    else:
        notices.append(Notice(check, pid, len(rows), f"stored, flagged: {text}"))


def _check_range(
    info: PointInfo,
    rows: npt.NDArray[np.intp],
    ts: npt.NDArray[np.int64],
    conv: npt.NDArray[np.float64],
    reason: npt.NDArray[np.object_],
    detail: npt.NDArray[np.object_],
    local_tz: str,
) -> None:
    """Value outside the measuring range of the instrument installed at that date."""
    if not info.instruments:
        return
    off = _tz_offset_us(local_tz)
    days = (ts[rows] + off) // _US_PER_DAY
    day0 = date(1970, 1, 1)
    for ip in info.instruments:
        if ip.range_low is None and ip.range_high is None:
            continue
        runit = ip.range_unit or info.unit
        try:
            lo = float(convert(ip.range_low, runit, info.unit)) if ip.range_low is not None else -math.inf
            hi = float(convert(ip.range_high, runit, info.unit)) if ip.range_high is not None else math.inf
        except UnitError:
            continue  # range of a rate on a totaliser point, etc.: not comparable, not checked
        a = (ip.installed_from - day0).days if ip.installed_from else -(10**9)
        b = (ip.installed_to - day0).days if ip.installed_to else 10**9
        during = (days >= a) & (days < b)
        x = conv[rows]
        out = during & ((x < lo) | (x > hi))
        if out.any():
            sel = rows[out]
            reason[sel] = "out_of_range"
            detail[sel] = f"outside {ip.serial} range [{lo:g}, {hi:g}] {info.unit}"


def _check_totaliser(
    pid: str,
    rows: npt.NDArray[np.intp],
    t: npt.NDArray[np.int64],
    v: npt.NDArray[np.float64],
    ex_ts: npt.NDArray[np.int64],
    ex_v: npt.NDArray[np.float64],
    rules: Rules,
    reason: npt.NDArray[np.object_],
    detail: npt.NDArray[np.object_],
    notices: list[Notice],
) -> None:
    """Totaliser readings must not decrease (rollover excepted), against stored neighbours too."""
    # fast path: the merged sequence is non-decreasing
    if len(ex_ts):
        mt = np.concatenate([ex_ts, t])
        mv = np.concatenate([ex_v, v])
        o = np.argsort(mt, kind="stable")
        mv = mv[o]
    else:
        mv = v
    if len(mv) < 2 or bool(np.all(np.diff(mv) >= 0)):
        return
    # slow path: walk the merged sequence; stored readings are anchors
    is_new = np.concatenate([np.zeros(len(ex_ts), bool), np.ones(len(t), bool)])
    idx = np.concatenate([np.full(len(ex_ts), -1), np.arange(len(t))])
    allt = np.concatenate([ex_ts, t])
    allv = np.concatenate([ex_v, v])
    o = np.lexsort((~is_new, allt))
    nxt_ex = np.searchsorted(ex_ts, t, side="right") if len(ex_ts) else np.zeros(len(t), int)
    bad = np.zeros(len(t), bool)
    last_v: float | None = None
    last_new: int | None = None  # index of the last accepted new reading, if it is the last anchor
    before_last: float | None = None
    rollovers = 0

    def up(a: float, b: float) -> bool:
        return b >= a or is_rollover(a, b, rules)

    ordered_v = allv[o]
    for pos_k, k in enumerate(o):
        val = float(allv[k])
        nxt_v = float(ordered_v[pos_k + 1]) if pos_k + 1 < len(o) else None
        if not is_new[k]:
            before_last, last_v, last_new = last_v, val, None
            continue
        j = int(idx[k])
        ne = float(ex_v[nxt_ex[j]]) if len(ex_ts) and nxt_ex[j] < len(ex_ts) else None
        fits_next = ne is None or up(val, ne)
        if last_v is None or up(last_v, val):
            if fits_next:
                if last_v is not None and val < last_v:
                    rollovers += 1
                before_last, last_v, last_new = last_v, val, j
            else:
                bad[j] = True
        elif (last_new is not None and (before_last is None or up(before_last, val)) and fits_next
              and nxt_v is not None and last_v is not None and not up(last_v, nxt_v)):
            # the previous new reading does not fit the next one either: it was the outlier (a spike)
            bad[last_new] = True
            last_v, last_new = val, j
        else:
            bad[j] = True
    if bad.any():
        if rules.decrease_action == "quarantine":
            reason[rows[bad]] = "totaliser_decrease"
            detail[rows[bad]] = "totaliser reading lower than the previous one and not a register rollover"
        notices.append(Notice("totaliser_decrease", pid, int(bad.sum()),
                              f"{rules.decrease_action}: totaliser decreased without rollover"))
    if rollovers:
        notices.append(Notice("rollover", pid, rollovers, "totaliser register rollover detected (stored)"))


def _check_spike_flatline(
    pid: str,
    kind: str,
    rows: npt.NDArray[np.intp],
    conv: npt.NDArray[np.float64],
    rules: Rules,
    reason: npt.NDArray[np.object_],
    detail: npt.NDArray[np.object_],
    notices: list[Notice],
) -> None:
    x = conv[rows]
    chk = rules.check("spike", kind)
    if chk is not None and len(x) >= max(3, chk.params.get("min_n", 30)):
        # an isolated excursion: far from BOTH neighbours, in the same direction, measured in robust
        # units of the point-to-point change. A step (outage, start-up, load change) differs from only
        # one neighbour and is real data, so it is never taken for a spike.
        thr = float(chk.params.get("threshold", 10.0))
        dx = np.diff(x)
        scale = float(np.median(np.abs(dx - np.median(dx)))) * 1.4826
        if scale > 0:
            d_prev, d_next = dx[:-1], -dx[1:]  # x_i - x_{i-1}, x_i - x_{i+1} for interior i
            sp_inner = (np.sign(d_prev) == np.sign(d_next)) & (np.minimum(np.abs(d_prev), np.abs(d_next)) > thr * scale)
            sp = np.zeros(len(x), bool)
            sp[1:-1] = sp_inner
            if sp.any():
                _apply(chk.action, "spike", pid, rows[sp], reason, detail, notices,
                       f"isolated excursion > {thr:g} robust σ of the point-to-point change ({scale:.3g}) "
                       "from both neighbours")
    chk = rules.check("flatline", kind)
    if chk is not None:
        min_run = int(chk.params.get("min_run", 30))
        if len(x) >= min_run:
            change = np.ones(len(x), bool)
            change[1:] = x[1:] != x[:-1]
            starts = np.flatnonzero(change)
            lengths = np.diff(np.append(starts, len(x)))
            long = lengths >= min_run
            if long.any():
                sel = np.concatenate([np.arange(s, s + ln) for s, ln in zip(starts[long], lengths[long])])
                live = reason[rows[sel]] == None
                _apply(chk.action, "flatline", pid, rows[sel][live], reason, detail, notices,
                       f"{int(long.sum())} run(s) of ≥ {min_run} identical values")
