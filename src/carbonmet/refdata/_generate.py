"""Orchestration: region → truth → registry → readings → lab → CEMS → ground truth → manifest."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from ..registry.rows import (
    ROW_MODELS,
    CertificateRow,
    InstrumentRow,
    OrganisationRow,
    PointRow,
    SiteRow,
    StandardRow,
)
from ._constants import constants
from ._ctx import Ctx
from ._dcc import make_dcc
from ._errors import RefdataError
from ._faults import hour_iso, inject_drifts, plan_faults
from ._ground_truth import GroundTruthWriter
from ._measure import FLAG_INDEX, FLAGS, clock_chunk, interval_records, quantise, relative_error
from ._metrology import PROVINCES, MetrologyResult, build, lab_instrument_point
from ._plans import write_plans
from ._rata import pilots, rata_points, write_rata_files
from ._region import TAG_LAB, TAG_NOISE, in_draw_order, make_enterprises, make_points, rng_for
from ._reports import misstatement_plan, write_report
from ._stocks import simulate_stocks, survey_hours
from ._truth import EnterpriseTruth, simulate
from ._types import Enterprise, Fault, Instrument, Manifest, Point
from ._writers import CsvAppender, readings_table, sha256, write_csv, write_readings_csv, write_xlsx

GENERATOR = "carbonmet.refdata"
PACKET_LOG_DAYS = 7  # the HJ 212 packet log covers one week of the showcase month (the week of its maintenance)
OUTPUT_DIRS = ("registry", "plans", "readings", "input", "lab", "cems", "truth", "reports")
LAB_COLUMNS = ("sample_id", "point_id", "sampled_from", "sampled_to", "analyte", "value", "unit", "U", "k", "lab_org",
               "instrument_id", "method", "report_no")
CSV_READING_COLUMNS = ("point_id", "ts", "value", "unit", "flag")
MAX_ENTERPRISES = 9999  # codes E01…E99 up to 99 enterprises, E0001…E9999 above


def generate(out_dir: str | Path, enterprises: int = 12, year: int = 2025, seed: int = 7, resolution: str = "hour",
             *, csv_enterprise: str | None = None, overwrite: bool = False,
             progress: Callable[[str, float], None] | None = None) -> Manifest:
    """Generate the reference region into ``out_dir`` (deterministic from ``seed``).

    Parameters
    ----------
    out_dir : str or Path
        Output directory (created; must be empty unless ``overwrite``).
    enterprises : int
        Number of enterprises (1–9999). Codes are ``E01``…``E99`` up to 99 enterprises, ``E0001``… above.
        Memory stays about flat with the region: each enterprise's hourly series are simulated, written and
        dropped in turn (``docs/scale.md``).
    year : int
        Calendar year of the data (local time, UTC+8).
    seed : int
        Seed; the same seed gives byte-identical files.
    resolution : {"hour", "minute"}
        Step of totaliser and rate readings in the store. ``"minute"`` streams ≥ 1e8 readings for 12 enterprises
        to disk month by month and point by point.
    csv_enterprise : str, optional
        Enterprise whose readings are also written as CSV input (``input/readings-<E>.csv``; the whole year at hour
        resolution, the first month at minute resolution); by default the first (``E01`` or ``E0001``).
    overwrite : bool
        Remove earlier generator output (only the generator's own folders and files) first.
    progress : callable, optional
        ``progress(stage, fraction)`` callback.

    Returns
    -------
    Manifest
        Also written to ``out_dir/manifest.json``.
    """
    if not 1 <= enterprises <= MAX_ENTERPRISES:
        raise RefdataError(f"企业数须为 1–{MAX_ENTERPRISES} enterprises must be 1–{MAX_ENTERPRISES}, got {enterprises}")
    if resolution not in ("hour", "minute"):
        raise RefdataError(f"resolution must be 'hour' or 'minute', got {resolution!r}")
    if not 2000 <= year <= 2100:
        raise RefdataError(f"year must be 2000–2100, got {year}")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise RefdataError(f"{out}: output directory is not empty (use overwrite)")
        for d in OUTPUT_DIRS:
            shutil.rmtree(out / d, ignore_errors=True)
        (out / "manifest.json").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    prog = progress or (lambda stage, frac: None)
    ctx = Ctx(out, year, seed, resolution)
    c = constants()

    prog("truth", 0.0)
    ents = make_enterprises(enterprises, seed)
    if csv_enterprise is None:
        csv_enterprise = ents[0].code
    pts_by_ent = {e.code: make_points(e) for e in ents}
    all_points = in_draw_order([p for e in ents for p in pts_by_ent[e.code]])  # noise streams keyed by position
    pidx = {p.point_id: i for i, p in enumerate(all_points)}
    points_by_id = {p.point_id: p for p in all_points}
    # first pass over the enterprises: what the registry and the faults need from the true process (the
    # instruments' ranges, the data faults); each enterprise's truth is simulated again for its readings below
    # (deterministic from the seed, about 10 ms each) so that one enterprise's hourly series are held at a time
    peak_of: dict[str, float] = {}
    data_faults: list[Fault] = []
    for i, e in enumerate(ents):
        tr = _enterprise_truth(ctx, e, i)
        for p in pts_by_ent[e.code]:
            if p.instrument_type and p.signal in tr.signals:
                x = tr.signals[p.signal]
                peak_of[p.point_id] = float(np.quantile(x, 0.95)) if p.schedule == "clock" else 0.0
        data_faults += plan_faults(e, i, tr, pts_by_ent[e.code], seed, year)
    del tr
    peaks = {p.point_id: peak_of[p.point_id] for p in all_points if p.point_id in peak_of}

    prog("registry", 0.1)
    met = build(ents, all_points, peaks, seed, year)
    instruments, drift_faults = inject_drifts(met.instruments, points_by_id, seed, year, ctx.hours)
    inst_by_point = {i.point_id: i for i in instruments if i.point_id}
    faults_by_point: dict[str, list[Fault]] = {}
    for f in data_faults:
        faults_by_point.setdefault(f.point_id, []).append(f)
    org_names = {o["org_code"]: o["name"] for o in met.organisations}
    oot_certs = {a["cert_no"] for ev in met.oot_events for a in ev["affected_certificates"]}
    dcc_files, met.certificates = make_dcc(met.certificates, instruments, org_names, seed, year, oot_certs)
    for no, xml in dcc_files.items():
        p_x = out / "registry" / "dcc" / f"{no}.xml"
        p_x.parent.mkdir(parents=True, exist_ok=True)
        p_x.write_bytes(xml)
    _write_registry(ctx, ents, all_points, met, instruments)
    write_plans(out, ents, pts_by_ent, instruments, year)

    # CEMS showcase: the enterprise with the drifting flow monitor, the month of its CEMS maintenance
    drift_cems = next((f for f in drift_faults if "STACK" in f.point_id or "MTO_REGEN" in f.point_id), None)
    show_ent = drift_cems.enterprise if drift_cems else ents[0].code
    maint = next((f for f in data_faults if f.kind == "maintenance" and f.enterprise == show_ent), None)
    show_month = int(ctx.chunk_of(np.array([maint.start_h]))[0]) if maint else len(ctx.cl) - 1
    show_points = [p for p in pts_by_ent[show_ent] if p.hj212_mn]
    # reference-method comparisons (RATA): the pilots' stack and vent readings of the campaign month are kept
    rata_pilots = pilots(ents, drift_faults, met.findings, met.oot_events)
    rata_month = int(c["rata"]["month"])
    rata_h0, rata_h1 = int(ctx.ms[rata_month - 1]), int(ctx.ms[rata_month])
    rata_keep = {pid for e in rata_pilots for pid in rata_points(e)}
    rata_hourly: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {pid: [] for pid in rata_keep}

    prog("readings", 0.2)
    cems_minute: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    csv_path = out / "input" / f"readings-{csv_enterprise}.csv"
    gt = GroundTruthWriter(ctx, all_points)
    lab_csv = CsvAppender(out / "lab" / "lab.csv", LAB_COLUMNS)
    lab_by_id = {i.lab_point: i for i in instruments if i.lab_point}
    plan_kind = misstatement_plan(seed, ents)
    misstatements: list[dict[str, Any]] = []
    # second pass, enterprise by enterprise: readings, hourly truth, lab results, report and ground truth are
    # written and the enterprise's series dropped before the next one is simulated
    for n_e, e in enumerate(ents):
        tr = _enterprise_truth(ctx, e, n_e)
        for p in pts_by_ent[e.code]:
            inst = inst_by_point.get(p.point_id)
            if inst is None:
                continue
            bias = met.bias_windows.get(inst.instrument_id, [])
            faults = faults_by_point.get(p.point_id, [])
            x = tr.signals.get(p.signal, np.zeros(0))
            if p.schedule == "clock":
                off = None
                if p.hj212_mn:
                    st = p.point_id.split(".")[1]
                    off = tr.signals[f"{st}.flow"] == 0.0
                rng0 = rng_for(seed, TAG_NOISE, pidx[p.point_id], 99)
                c0 = float(np.round(rng0.uniform(1e3, 1e6), 0)) if p.reading_kind == "total" else 0.0
                counter, tcounter = c0, c0
                n_chunks = len(ctx.cl)
                for m in range(n_chunks):
                    h0, h1 = int(ctx.cb[m]), int(ctx.cb[m + 1])
                    rng = rng_for(seed, TAG_NOISE, pidx[p.point_id], m)
                    showcase = e.code == show_ent and m == show_month and p in show_points
                    step = 1 if showcase else ctx.step
                    th, v, fl, truth, counter, tcounter = clock_chunk(p, inst, x, h0, h1, step, rng, counter, tcounter,
                                                                      faults, off, bias)
                    if showcase:
                        cems_minute[p.point_id] = (th, v, fl)
                        if ctx.step == 60:
                            th, v, fl = _hourly_from_minutes(th, v, fl, h0, h1)
                    if p.reading_kind == "total" and m == n_chunks - 1:  # closing reading at the end of the year
                        th = np.append(th, float(ctx.hours))
                        v = np.append(v, quantise(np.array([counter]), inst.resolution, floor=True))
                        fl = np.append(fl, np.int8(0)).astype(np.int8)
                    _write_part(ctx, e.code, p.point_id, m, th, v, fl)
                    if p.point_id in rata_keep and h1 > rata_h0 and h0 < rata_h1:
                        rata_hourly[p.point_id].append(_hourly_from_minutes(th, v, fl, h0, h1) if ctx.step == 1
                                                       else (th, v, fl))
                    if e.code == csv_enterprise and (ctx.step == 60 or m <= 1):
                        _append_csv(ctx, csv_path, p, th, v, fl)
                # hourly truth of the point (counter at hour start for totalisers, hourly mean for rates)
                if p.reading_kind == "total":
                    tv = c0 + np.concatenate(([0.0], np.cumsum(x)))
                    th_t = np.arange(ctx.hours + 1, dtype=float)
                else:
                    tv, th_t = x, np.arange(ctx.hours, dtype=float)
                gt.hourly(pidx[p.point_id], th_t, tv)
            elif p.schedule == "survey":  # stock surveys (盘存, 罐存): the opening and each month's close
                rng = rng_for(seed, TAG_NOISE, pidx[p.point_id], 0)
                th = survey_hours(ctx.ms)
                truth = x
                err = relative_error(inst, th, bias) / 100.0
                v = quantise(truth * (1.0 + err) * (1.0 + inst.noise_rel / 100.0 * rng.standard_normal(th.size)),
                             inst.resolution)
                chunk = ctx.chunk_of(th)
                for m in range(len(ctx.cl)):
                    sel = chunk == m
                    if sel.any():
                        _write_part(ctx, e.code, p.point_id, m, th[sel], v[sel], np.zeros(int(sel.sum()), np.int8))
                        if e.code == csv_enterprise and (ctx.step == 60 or m <= 1):
                            _append_csv(ctx, csv_path, p, th[sel], v[sel], np.zeros(int(sel.sum()), np.int8))
                gt.hourly(pidx[p.point_id], th, truth)
            else:
                rng = rng_for(seed, TAG_NOISE, pidx[p.point_id], 0)
                if p.schedule == "daily":
                    days = ctx.hours // 24
                    starts = np.arange(days) * 24
                    ends = starts + 24
                    amounts = x[: days * 24].reshape(days, 24).sum(axis=1)
                else:
                    lots = tr.lots["gasifier_coal" if p.schedule == "lot_g" else "boiler_coal"]
                    # the trains of a lot are weighed in over its first hours
                    starts, amounts = lots.start_h, lots.mass
                    ends = np.minimum(lots.start_h + c["model"]["lot_unloading_hours"], ctx.hours)
                load = float(c["instrument_type"][inst.type_key]["load_t"])
                th, v, truth = interval_records(inst, starts, ends, amounts, load, rng, bias)
                chunk = ctx.chunk_of(th)
                for m in range(len(ctx.cl)):
                    sel = chunk == m
                    if sel.any():
                        _write_part(ctx, e.code, p.point_id, m, th[sel], v[sel], np.zeros(int(sel.sum()), np.int8))
                        if e.code == csv_enterprise and (ctx.step == 60 or m <= 1):
                            _append_csv(ctx, csv_path, p, th[sel], v[sel], np.zeros(int(sel.sum()), np.int8))
                gt.hourly(pidx[p.point_id], th, truth)
        lab_rows = _lab_rows(ctx, n_e, e, tr, lab_by_id)
        lab_csv.add(lab_rows)
        entry = write_report(ctx, n_e, e, tr, inst_by_point, pts_by_ent[e.code], lab_rows, plan_kind)
        if entry is not None:
            misstatements.append(entry)
        gt.add(e, tr, pts_by_ent[e.code])
        del tr, lab_rows
        prog("readings", 0.2 + 0.65 * (n_e + 1) / len(ents))
    lab_csv.close()

    prog("cems", 0.85)
    c0_h, c1_h = int(ctx.cb[show_month]), int(ctx.cb[show_month + 1])
    w0 = max(int(maint.start_h // 24 * 24) if maint else c0_h, c0_h)
    w1 = min(w0 + 24 * PACKET_LOG_DAYS, c1_h)
    w0 = max(c0_h, w1 - 24 * PACKET_LOG_DAYS)
    cems_info = _write_cems(ctx, show_ent, show_month, show_points, cems_minute, (w0, w1))
    rata_info = write_rata_files(
        ctx, ents, rata_pilots, {e.code: _enterprise_truth(ctx, e, ents.index(e)) for e in rata_pilots}, points_by_id,
        {pid: tuple(np.concatenate([x[i] for x in parts]) for i in range(3))  # type: ignore[misc]
         for pid, parts in rata_hourly.items() if parts}, faults_by_point)
    cems_info["rata"] = rata_info.pop("files")
    cems_info["rata_campaign"] = rata_info
    prog("truth", 0.9)
    summary = gt.close(instruments, met)
    ctx.close()

    findings = [asdict(f) for f in met.findings]
    manifest = Manifest(
        version=c["version"], seed=seed, year=year, enterprises=enterprises, resolution=resolution,
        generator=GENERATOR,
        enterprises_list=summary,
        faults=[_fault_dict(f) for f in data_faults + drift_faults],
        noncompliance=[_fault_dict(Fault(**f)) for f in findings if f["kind"] != "standard_out_of_tolerance"],
        out_of_tolerance=met.oot_events,
        misstatements=misstatements,
        outputs={
            "registry": "registry/{organisations,sites,points,standards,instruments,certificates}.csv, registry/registry.xlsx",
            "plans": "plans/<E>.toml (monitoring plan per enterprise, docs/formats/monitoring-plan.md)",
            "readings": "readings/enterprise=<E>/point=<P>/month=<YYYY-MM>/part-refdata.parquet",
            "readings_csv": str(csv_path.relative_to(out)),
            "lab": "lab/lab.csv",
            "reports": "reports/<E>.csv (the enterprise's emission report, docs/formats/report.md)",
            "cems": cems_info,
            "truth": "truth/*.csv, truth/points_hourly.parquet",
            "time": f"local time UTC+{ctx.tz:02d}:00; months are local months; totaliser readings are the counter at ts "
                    "(one closing reading at the start of the next year); rate readings are means over [ts, ts+step)",
        },
        counts={"readings": ctx.n_readings, "parquet_files": ctx.n_files, "points": len(all_points),
                "instruments": len(instruments), "certificates": len(met.certificates),
                "standards": len(met.standards)},
        notes=[
            ("Systematic instrument errors are constant through the year (no adjustment at recalibration) except for "
            "drift and out-of-tolerance windows listed here."),
            ("Stuck values, spikes and maintenance keep the rows; gaps remove them. Plant-stopped hours on CEMS carry "
            "flag F; at minute resolution CEMS carry flag C 03:00–03:05 daily (zero/span)."),
        ],
    )
    prog("hash", 0.95)
    manifest.files = {str(p.relative_to(out)): sha256(p) for p in sorted(out.rglob("*")) if p.is_file()
                      and p.name != "manifest.json"} if resolution == "hour" else {}
    manifest.write(out / "manifest.json")
    prog("done", 1.0)
    return manifest


def _fault_dict(f: Fault) -> dict[str, Any]:
    d = asdict(f)
    for k in ("start_h", "end_h", "factor"):
        d.pop(k)
    if f.factor:
        d["factor"] = round(f.factor, 4)
    return d


def _hourly_from_minutes(th: np.ndarray, v: np.ndarray, fl: np.ndarray, h0: int, h1: int) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """HJ 75 hourly mean: the mean of the valid (flag N) minutes when there are ≥ 45 of them, else the
    commonest invalid flag of the hour (B when the hour has no minutes at all)."""
    nh = h1 - h0
    hi = np.floor(th).astype(np.int64) - h0
    valid = fl == FLAG_INDEX["N"]
    cnt = np.bincount(hi[valid], minlength=nh)
    s = np.bincount(hi[valid], weights=v[valid], minlength=nh)
    mean = np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)
    flags = np.zeros(nh, dtype=np.int8)
    present = np.bincount(hi, minlength=nh)
    counts = np.zeros((nh, len(FLAGS)), dtype=np.int64)
    np.add.at(counts, (hi, fl.astype(np.int64)), 1)
    counts[:, FLAG_INDEX["N"]] = 0
    worst = counts.argmax(axis=1).astype(np.int8)
    bad = cnt < 45
    flags[bad] = worst[bad]
    flags[bad & (present == 0)] = FLAG_INDEX["B"]
    all_mean = np.bincount(hi, weights=v, minlength=nh) / np.maximum(present, 1)
    mean = np.where(bad, all_mean, mean)
    keep = present > 0
    return (np.arange(h0, h1, dtype=float)[keep], np.round(mean[keep], 6), flags[keep])


def _write_part(ctx: Ctx, ent: str, pid: str, m: int, th: np.ndarray, v: np.ndarray, fl: np.ndarray) -> None:
    if th.size == 0:
        return
    ctx.submit(readings_table(ctx.ts_us(th), v, fl, ctx.batch), ctx.part_path(ent, pid, m))
    ctx.n_readings += int(th.size)
    ctx.n_files += 1


def _append_csv(ctx: Ctx, path: Path, p: Point, th: np.ndarray, v: np.ndarray, fl: np.ndarray) -> None:
    fh, first = ctx.csv(path)
    write_readings_csv(fh, p.point_id, ctx.ts_us(th), v, p.unit, fl, header=first, offset_hours=ctx.tz)


def _row(row_model: type[BaseModel], /, **values: Any) -> BaseModel:
    return row_model.model_validate(values)


def _cells(row: BaseModel) -> list[Any]:
    """A validated row's values in its model's column order (dates as ISO text)."""
    return [v.isoformat() if isinstance(v, date) else v for v in row.model_dump().values()]


def registry_rows(ents: list[Enterprise], points: list[Point], met: MetrologyResult,
                  instruments: list[Instrument]) -> dict[str, list[BaseModel]]:
    """The registry import tables of the region, as the importer's row models (validated on the way out)."""
    it = constants()["instrument_type"]
    return {
        "organisations": [OrganisationRow(**o) for o in met.organisations],
        "sites": [_row(SiteRow, site_code=s, org_code=e.code, name=name) for e in ents for s, name in e.sites],
        "points": [_row(PointRow, point_id=p.point_id, site_code=p.site_code, name=p.name, quantity=p.quantity,
                            carrier=p.carrier, unit=p.unit, reading_kind=p.reading_kind, level=p.level or None,
                            source_stream=p.source_stream or None, hj212_mn=p.hj212_mn or None,
                            hj212_code=p.hj212_code or None) for p in points],
        "standards": [_row(StandardRow, standard_code=s.standard_code, name=s.name, holder_org=s.holder_org, level=s.level,
                                  quantity=s.family, range=s.range, uncertainty=s.uncertainty,
                                  certificate_no=s.certificate_no) for s in met.standards],
        "instruments": [_row(InstrumentRow, serial=i.serial, instrument_id=i.instrument_id, org_code=i.org_code,
                                      type=i.registry_type, maker=i.maker, model=i.model, range_low=i.range_low,
                                      range_high=i.range_high, unit=i.unit, accuracy_class=i.accuracy_class,
                                      mpe_rel=i.mpe_rel, legal_category=i.legal_category, resolution=i.resolution,
                                      point_id=i.point_id or None, installed_from=i.installed_from,
                                      status="in_service", interval_months=it[i.type_key]["interval_months"])
                        for i in instruments],
        "certificates": [_row(CertificateRow, cert_no=x.cert_no, kind=x.kind, subject=x.subject, subject_kind=x.subject_kind,
                                        issuer_org=x.issuer_org, calibration_date=x.calibration_date,
                                        issue_date=x.calibration_date, valid_until=x.valid_until,
                                        conclusion=x.conclusion, as_found_error=x.as_found_error,
                                        as_left_error=x.as_left_error, error_unit=x.error_unit, U=x.U, k=x.k,
                                        standards_used=x.standards_used or None)
                         for x in met.certificates],
    }


def _write_registry(ctx: Ctx, ents: list[Enterprise], points: list[Point], met: MetrologyResult,
                    instruments: list[Instrument]) -> None:
    """Registry import files written from the row models ``carbonmet registry import`` reads (one definition)."""
    tables: dict[str, tuple[Sequence[str], Sequence[Sequence[Any]]]] = {
        name: (list(ROW_MODELS[name].model_fields), [_cells(r) for r in rows])
        for name, rows in registry_rows(ents, points, met, instruments).items()}
    reg = ctx.out / "registry"
    for name, (cols, rows) in tables.items():
        write_csv(reg / f"{name}.csv", cols, rows)
    write_xlsx(reg / "registry.xlsx", tables)


def _lab_rows(ctx: Ctx, n_e: int, e: Enterprise, tr: EnterpriseTruth,
              by_id: dict[str, Instrument]) -> list[list[Any]]:
    """Lab analyses of enterprise ``e`` (position ``n_e``; its rows of ``lab/lab.csv``): ``value = truth·(1 + δ/100) + e``.

    ``δ`` [%] is the systematic error of the instrument that made the analysis (calorimeter, carbon or sulfur
    analyser, balance, gas chromatograph, TOC analyser), drawn once per instrument as its certificate states, so it is common
    to every result of that instrument; ``e`` is the per-sample repeatability of the method, ``N(0, (U_abs/2)²)``.
    The stated ``U`` (k = 2) combines both: ``U = 2·√((U_abs/2)² + (u_inst/100 · value)²)``; ``instrument_id``
    names the instrument (in ``instruments.csv``, its certificate in ``certificates.csv``).
    """
    c = constants()
    lab = c["lab"]
    phys = c["physics"]
    rows: list[list[Any]] = []
    rng = rng_for(ctx.seed, TAG_LAB, n_e)
    third = PROVINCES[e.province][1]
    cal, cab = by_id[lab_instrument_point(e.code, "CALORIMETER")], by_id[lab_instrument_point(e.code, "CARBON")]
    bal, sua = by_id[lab_instrument_point(e.code, "BALANCE")], by_id[lab_instrument_point(e.code, "SULFUR")]
    i_cab, i_gc = by_id[lab_instrument_point(third, "CARBON")], by_id[lab_instrument_point(third, "GC")]
    seq = 0

    def add(point: str, f_h: float, t_h: float, analyte: str, val: float, key: str, org: str,
            inst: Instrument, code: str = e.code) -> None:
        nonlocal seq
        seq += 1
        spec = lab[key]
        val = round(val, 4)
        u = float(np.hypot(spec["U_abs"] / 2.0, inst.u_rel / 100.0 * abs(val)))
        rows.append([f"{code}-S{seq:06d}", point, hour_iso(ctx.year, f_h, ctx.tz), hour_iso(ctx.year, t_h, ctx.tz),
                     analyte, val, spec["unit"], float(f"{2.0 * u:.3g}"), 2, org, inst.instrument_id,
                     spec["method"], f"{org}-{ctx.year}-{seq:05d}"])

    def meas(truth: np.ndarray | float, inst: Instrument, key: str, z: np.ndarray | float) -> Any:
        return truth * (1 + inst.systematic_rel / 100) + lab[key]["U_abs"] / 2 * z

    for stream, pid in (("gasifier_coal", "GASIFIER_COAL.LAB"), ("boiler_coal", "BOILER_COAL.LAB")):
        L = tr.lots[stream]
        used = L.mass > 0
        n = int(used.sum())
        z = rng.standard_normal((5, n))
        ncv = meas(L.ncv[used], cal, "ncv", z[0])
        cc = meas(L.carbon[used] * 100, cab, "carbon_content", z[1])
        mo = meas(L.moisture[used], bal, "moisture", z[2])
        ash = meas(L.ash[used], bal, "ash", z[3])
        su = np.maximum(meas(L.sulfur[used], sua, "sulfur", z[4]), 0.01)
        for j, (f_h, t_h) in enumerate(zip(L.start_h[used], L.end_h[used], strict=True)):
            for analyte, val, key, inst in (("ncv", ncv[j], "ncv", cal), ("carbon_content", cc[j], "carbon_content", cab),
                                            ("moisture", mo[j], "moisture", bal), ("ash", ash[j], "ash", bal),
                                            ("sulfur", su[j], "sulfur", sua)):
                add(f"{e.code}.{pid}", f_h, t_h, analyte, float(val), key, e.code, inst)
    # monthly composites analysed by the provincial institute, with its own instruments
    ms = ctx.ms
    for stream, sig, pid in (("gasifier_slag", "slag", "SLAG.LAB"), ("boiler_ash", "boiler_ash", "BOILER_ASH.LAB")):
        cm = np.add.reduceat(tr.carbon[stream], ms[:-1])
        mm = np.add.reduceat(tr.signals[sig], ms[:-1])
        for m in range(12):
            if mm[m] <= 0:
                continue
            val = meas(cm[m] / mm[m] * 100, i_cab, "slag_carbon", rng.normal())
            add(f"{e.code}.{pid}", ms[m], ms[m + 1], "carbon_content", float(val), "slag_carbon", third, i_cab)
    ng_c = phys["ng_ncv_mj_per_nm3"] * 1e-3 * phys["ng_c_per_gj"] * 1e3  # kg C per Nm3
    for m in range(12):
        add(f"{e.code}.NATURAL_GAS.LAB", ms[m], ms[m + 1], "ncv",
            float(meas(phys["ng_ncv_mj_per_nm3"], i_gc, "ng_ncv", rng.normal())), "ng_ncv", third, i_gc)
        add(f"{e.code}.NATURAL_GAS.LAB", ms[m], ms[m + 1], "carbon_content",
            float(meas(ng_c, i_gc, "ng_carbon", rng.normal())), "ng_carbon", third, i_gc)
    # wave 1 (refdata-1.3), drawn after everything above: monthly flow-proportional composites of the process
    # wastewater, total carbon by the institute's TOC analyser
    i_toc = by_id[lab_instrument_point(third, "TOC")]
    cm = np.add.reduceat(tr.carbon["wastewater"], ms[:-1])
    mm = np.add.reduceat(tr.signals["wastewater"], ms[:-1])
    for m in range(12):
        if mm[m] <= 0:
            continue
        val = meas(cm[m] / mm[m] * 100, i_toc, "wastewater_carbon", rng.normal())
        add(f"{e.code}.WASTEWATER.LAB", ms[m], ms[m + 1], "carbon_content", float(val), "wastewater_carbon", third,
            i_toc)
    return rows


def _write_cems(ctx: Ctx, ent: str, month: int, points: list[Point],
                minute: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], window: tuple[int, int]) -> dict[str, Any]:
    """CEMS minute data of the showcase enterprise and month as CSV input, and as an HJ 212-2017 packet log."""
    path = ctx.out / "cems" / f"minute-{ent}-{ctx.cl[month]}.csv"
    for p in points:
        th, v, fl = minute[p.point_id]
        _append_csv(ctx, path, p, th, v, fl)
    info: dict[str, Any] = {"enterprise": ent, "utc_month": ctx.cl[month], "minute_csv": str(path.relative_to(ctx.out)),
                            "minute_from": hour_iso(ctx.year, int(ctx.cb[month]), ctx.tz),
                            "minute_to": hour_iso(ctx.year, int(ctx.cb[month + 1]), ctx.tz)}
    from ._hj212log import write_packet_log

    info.update(write_packet_log(ctx, ent, month, points, minute, window))
    return info


def _enterprise_truth(ctx: Ctx, e: Enterprise, index: int) -> EnterpriseTruth:
    """The true process of enterprise ``e`` (position ``index``) with its stocks and shipments (refdata-1.6,
    from their own random stream): the same arrays however often it is called."""
    tr = simulate(e, index, ctx.seed, ctx.hours)
    tr.signals.update(simulate_stocks(tr, index, ctx.seed, ctx.ms))
    return tr
