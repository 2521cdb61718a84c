"""The paired-run writer and the reader are one row model: what is written reads back to the same runs."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonmet.cems.qa import (
    RATA_COLUMNS,
    PairedRuns,
    RataFileError,
    Run,
    rata,
    read_rata_file,
    write_rata_file,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rata-E05-STACK3-flow.csv"
CST = timezone(timedelta(hours=8))


def _runs(parameter: str, unit: str, ref: list[float], cem: list[float], method: str) -> PairedRuns:
    t0 = datetime(2025, 12, 2, 9, tzinfo=CST)
    return PairedRuns(parameter, unit, tuple(
        Run(str(i + 1), r, c, t0 + timedelta(hours=i), t0 + timedelta(hours=i, minutes=30), method)
        for i, (r, c) in enumerate(zip(ref, cem, strict=True))))


def test_the_example_rewritten_reads_back_to_the_same_runs_and_ra(tmp_path: Path) -> None:
    f = read_rata_file(EXAMPLE)
    out = write_rata_file(tmp_path / "again.csv", f.series, stack="E05.STACK3")
    g = read_rata_file(out)
    assert g.stack == "E05.STACK3" and f.stack == "E05.STACK3"
    a, b = f.get("flow"), g.get("flow")
    assert [(r.run, r.reference, r.cems, r.start, r.end, r.reference_method) for r in a.runs] == \
        [(r.run, r.reference, r.cems, r.start, r.end, r.reference_method) for r in b.runs]
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(RATA_COLUMNS)
    # d_i = 0.4 0.3 0.5 0.3 0.6 0.4 0.2 0.5 0.5 → d̄ = 3.7/9 = 0.4111 m/s; S_d = √(0.128889/8) = 0.12693 m/s;
    # cc = 2.306·0.12693/3 = 0.09757 m/s; RM̄ = 139.0/9 = 15.444 m/s; RA = (0.4111 + 0.0976)/15.444 = 3.294 %
    assert math.isclose(rata(b).ra_pct, 3.294, abs_tol=1e-3)
    assert rata(b).ra_pct == rata(a).ra_pct


def test_two_parameters_notes_and_formula_text_round_trip(tmp_path: Path) -> None:
    co2 = _runs("co2", "%vol", [12.1 + 0.01 * i for i in range(9)], [12.0 + 0.01 * i for i in range(9)],
                "=HJ 1240-2021 FTIR")
    flow = _runs("flow", "m³/h", [5.2e5 + i for i in range(9)], [5.3e5 - i for i in range(9)], "Pitot")
    p = write_rata_file(tmp_path / "sub" / "two.csv", [co2, flow], notes={"flow": "标干 dry, standard conditions"})
    f = read_rata_file(p)
    assert [s.parameter for s in f.series] == ["co2", "flow"]
    assert (f.get("co2").unit, f.get("flow").unit) == ("%", "m3/h")  # aliases written as the canonical unit
    assert f.get("co2").runs[0].reference_method == "=HJ 1240-2021 FTIR"
    assert "'=HJ" in p.read_text(encoding="utf-8")  # escaped in the file, not a live formula
    assert [r.row for r in f.get("flow").runs] == list(range(11, 20))


@pytest.mark.parametrize(("change", "field", "row"), [
    ({"run": "a b"}, "run", 3),
    ({"start": datetime(2025, 12, 2, 9)}, "start", 3),
    ({"end": datetime(2025, 12, 2, 8, tzinfo=CST)}, "end", 3),
    ({"reference": math.nan}, "reference", 3),
    ({"reference_method": "x\x00y"}, "reference_method", 3),
])
def test_the_writer_refuses_what_the_reader_would_refuse(tmp_path: Path, change: dict[str, object], field: str,
                                                         row: int) -> None:
    runs = _runs("co2", "%", [12.0] * 9, [12.1] * 9, "FTIR")
    r = runs.runs[1]
    bad = Run(**{k: change.get(k, getattr(r, k)) for k in Run.__slots__})  # type: ignore[arg-type,attr-defined]
    series = PairedRuns("co2", "%", (runs.runs[0], bad, *runs.runs[2:]))
    with pytest.raises(RataFileError) as e:
        write_rata_file(tmp_path / "bad.csv", [series])
    assert (e.value.field, e.value.row) == (field, row) and "bad.csv" in e.value.file
    assert not (tmp_path / "bad.csv").exists()


def test_an_unknown_unit_or_a_repeated_parameter_is_refused(tmp_path: Path) -> None:
    runs = _runs("co2", "%", [12.0] * 9, [12.1] * 9, "FTIR")
    with pytest.raises(RataFileError, match="unit"):
        write_rata_file(tmp_path / "u.csv", [PairedRuns("co2", "mg/m3", runs.runs)])
    with pytest.raises(RataFileError, match="twice"):
        write_rata_file(tmp_path / "t.csv", [runs, runs])


_value = st.floats(min_value=0.0, max_value=100.0, allow_nan=False, allow_infinity=False)
_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60)


@settings(max_examples=60, deadline=None)
@given(ref=st.lists(_value, min_size=9, max_size=14), data=st.data(), method=_text,
       minutes=st.integers(min_value=1, max_value=180), offset=st.integers(min_value=-12, max_value=14))
def test_any_written_series_reads_back_exactly(tmp_path_factory: pytest.TempPathFactory, ref: list[float],
                                               data: st.DataObject, method: str, minutes: int, offset: int) -> None:
    cem = data.draw(st.lists(_value, min_size=len(ref), max_size=len(ref)))
    tz = timezone(timedelta(hours=offset))
    t0 = datetime(2025, 3, 1, 8, tzinfo=tz)
    runs = PairedRuns("moisture", "%", tuple(
        Run(f"R{i}", r, c, t0 + timedelta(hours=2 * i), t0 + timedelta(hours=2 * i, minutes=minutes), method)
        for i, (r, c) in enumerate(zip(ref, cem, strict=True))))
    p = write_rata_file(tmp_path_factory.mktemp("rt") / "rt.csv", [runs])
    back = read_rata_file(p).get("moisture")
    assert [(r.run, r.reference, r.cems, r.start, r.end) for r in back.runs] == \
        [(r.run, r.reference, r.cems, r.start, r.end) for r in runs.runs]
    assert all(b.reference_method == (method.strip() or None) for b in back.runs)
