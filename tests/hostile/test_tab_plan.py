"""Hostile-input harness, monitoring-plan TOML, CSV and XLSX (issue 10 §4).

Every generated case (a valid plan in one of its three forms, mutated) is either read into a
:class:`MonitoringPlan` or refused with :class:`PlanError`, whose every problem names the file and a
row (or TOML table) and a field.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from carbonmet.sites import (
    MonitoringPlan,
    PlanChangeRow,
    PlanError,
    PlanHeader,
    PlanParameterRow,
    plan_tables,
    plan_to_toml,
    read_plan,
)

from .tab_mutate import (
    damaged_xlsx,
    fast,
    mutated_bytes,
    mutated_rows,
    slow,
    slow_settings,
    to_csv,
    xlsx_bytes,
)


def _row(**kw: object) -> PlanParameterRow:
    base: dict[str, object] = {"site_code": "S1", "emission_source": "boiler", "source_stream": "boiler_coal",
                               "parameter": "activity_data", "unit": "t", "source": "point", "ref": "E01.BOILER_COAL",
                               "method": "belt scale", "frequency": "continuous", "instruments": ("BS-1",),
                               "responsible": "计量室"}
    base.update(kw)
    return PlanParameterRow.model_validate(base)


PLAN = MonitoringPlan(
    PlanHeader(enterprise="E01", version=1, valid_from=date(2025, 1, 1), title="plan 2025"),
    (
        _row(),
        _row(parameter="carbon_content", unit="%", source="lab", ref="E01.BOILER_COAL.LAB", method="GB/T 30733-2014",
             frequency="per_batch", instruments=("CA-1", "CA-2"), responsible="化验室"),
        _row(parameter="oxidation_rate", unit="%", source="default", ref="GB/T 32151.10-2023/oxidation_rate/coal",
             method=None, frequency="yearly", instruments=(), responsible="管理员"),
        _row(source_stream="natural_gas", unit="Nm3", ref="E01.NG", instruments=("FM-1",), valid_to=date(2025, 7, 1)),
    ),
    (PlanChangeRow(version=1, changed_on=date(2024, 12, 15), by="管理员", reason="first issue"),),
)


def _cell(v: object) -> str:
    return "" if v is None else (v.isoformat() if isinstance(v, date) else str(v))


GRIDS = {t: [cols, *[[_cell(v) for v in r] for r in rows]] for t, (cols, rows) in plan_tables(PLAN).items()}
EXTRA = ("S1", "E01", "boiler", "boiler_coal", "natural_gas", "activity_data", "carbon_content", "ncv", "t", "%",
         "Nm3", "GJ/t", "point", "lab", "default", "continuous", "yearly", "per_batch", "BS-1;FM-1", "2025-01-01",
         "2025-07-01", "2", "0", "-1", "管理员")
TOML = plan_to_toml(PLAN)
TOML_VALUES = ('""', '"' + "x" * 5000 + '"', "9999-12-31", "0001-01-01", "1e309", "nan", "inf", "-1", "0",
               "99999999999999999999", "[]", "{}", "[1, 2]", '"=1+1"', '"../../x"', "true", "2025-13-01",
               '"2025-01-01"', "1979-05-27T07:32:00Z", "07:32:00", '"S1"', '["BS-1"]', '"%"', "{ a = 1 }")
TOML_LINES = ("[plan]", "[[parameters]]", "[[changes]]", "[parameters]", "plan = 1", "parameters = 3",
              'parameters = "x"', "changes = [1, 2]", "[[plan]]", 'version = "1"', "x = 1", "")


@st.composite
def hostile_toml(draw: st.DrawFn) -> bytes:
    lines = TOML.splitlines()
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("value", "value", "delete", "dup", "swap", "insert", "key")))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "value" and lines and " = " in lines[i]:
            lines[i] = lines[i].split(" = ", 1)[0] + " = " + draw(st.sampled_from(TOML_VALUES))
        elif op == "key" and lines and " = " in lines[i]:
            lines[i] = draw(st.sampled_from(("unit", "unknown", "valid_from", "instruments", '"a b"'))) + " = " + \
                lines[i].split(" = ", 1)[1]
        elif op == "delete" and lines:
            del lines[i]
        elif op == "dup" and lines:
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(TOML_LINES)))
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    return draw(st.one_of(st.just(raw), mutated_bytes(raw)))


@st.composite
def hostile_csv_set(draw: st.DrawFn) -> dict[str, bytes]:
    """The three CSV files; one or two of them mutated, sometimes one missing."""
    out = {t: to_csv(g).encode("utf-8") for t, g in GRIDS.items()}
    for t in draw(st.lists(st.sampled_from(sorted(GRIDS)), min_size=1, max_size=2, unique=True)):
        g = GRIDS[t]
        raw = to_csv(draw(mutated_rows(g[0], g[1:], EXTRA))).encode("utf-8")
        out[t] = draw(st.one_of(st.just(raw), mutated_bytes(raw)))
    if draw(st.integers(0, 9)) == 0:
        del out[draw(st.sampled_from(sorted(out)))]
    return out


@st.composite
def hostile_xlsx(draw: st.DrawFn) -> bytes:
    sheets = {}
    for t, g in GRIDS.items():
        sheets[t] = draw(mutated_rows(g[0], g[1:], EXTRA)) if draw(st.booleans()) else [list(r) for r in g]
    if draw(st.integers(0, 9)) == 0:
        sheets[draw(st.sampled_from(("Plan ", "other", "=1+1", "parameters2")))] = [["a"], ["b"]]
    return draw(damaged_xlsx(xlsx_bytes(sheets, draw(st.booleans()))))


def _check(path: Path) -> None:
    try:
        plan = read_plan(path)
    except PlanError as exc:
        assert exc.problems, f"{path.name}: refused without a problem"
        for p in exc.problems:
            assert "hostile" in p.file, f"problem does not name the file: {p}"
            assert p.field and str(p.row), f"problem does not name row and field: {p}"
        event("refused")
        return
    assert isinstance(plan, MonitoringPlan) and plan.parameters
    event("read")


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-plan")


def _toml_case(d: Path, data: bytes) -> None:
    p = d / "hostile.toml"
    p.write_bytes(data)
    _check(p)


def _csv_case(d: Path, files: dict[str, bytes]) -> None:
    for t in GRIDS:
        (d / f"hostile-{t}.csv").unlink(missing_ok=True)
    for t, data in files.items():
        (d / f"hostile-{t}.csv").write_bytes(data)
    _check(d / "hostile-parameters.csv")


def _xlsx_case(d: Path, data: bytes) -> None:
    p = d / "hostile.xlsx"
    p.write_bytes(data)
    _check(p)


def test_the_valid_plan_reads_back_in_every_form(tmp_path: Path) -> None:
    (tmp_path / "E01.toml").write_text(TOML, encoding="utf-8")
    for t, g in GRIDS.items():
        (tmp_path / f"E01-{t}.csv").write_bytes(to_csv(g).encode("utf-8"))
    (tmp_path / "E01.xlsx").write_bytes(xlsx_bytes({t: [list(r) for r in g] for t, g in GRIDS.items()}, False))
    for name in ("E01.toml", "E01-parameters.csv", "E01.xlsx"):
        assert read_plan(tmp_path / name) == PLAN


def test_toml_plan_not_in_utf8_is_refused_naming_the_encoding_not_a_decode_traceback(tmp_path: Path) -> None:
    # found by the harness: a UTF-16 (or any non-UTF-8) TOML plan raised UnicodeDecodeError out of read_plan
    p = tmp_path / "E01.toml"
    p.write_bytes(TOML.encode("utf-16"))
    with pytest.raises(PlanError, match=r"E01\.toml:-:encoding: not UTF-8"):
        read_plan(p)


@pytest.mark.parametrize("text", ["plan = 1", 'parameters = "x"', "changes = [1, 2]", ("[plan]\n[[parameters]]\n"
                                  "[[changes]]\nx = 1\n[changes.a]")])
def test_toml_plan_table_given_as_a_number_or_string_is_refused_not_a_type_error(tmp_path: Path, text: str) -> None:
    # found by the harness: `plan = 1` raised TypeError ('int' object is not iterable) out of read_plan
    p = tmp_path / "E01.toml"
    p.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"E01\.toml:"):
        read_plan(p)


@fast
@given(data=hostile_toml())
def test_hostile_plan_toml_is_read_or_refused_naming_the_field(cases: Path, data: bytes) -> None:
    _toml_case(cases, data)


@fast
@given(files=hostile_csv_set())
def test_hostile_plan_csv_is_read_or_refused_naming_the_field(cases: Path, files: dict[str, bytes]) -> None:
    _csv_case(cases, files)


@fast
@given(data=hostile_xlsx())
def test_hostile_plan_xlsx_is_read_or_refused_naming_the_field(cases: Path, data: bytes) -> None:
    _xlsx_case(cases, data)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_toml())
def test_slow_hostile_plan_toml(cases: Path, data: bytes) -> None:
    _toml_case(cases, data)


@pytest.mark.slow
@slow
@slow_settings
@given(files=hostile_csv_set())
def test_slow_hostile_plan_csv(cases: Path, files: dict[str, bytes]) -> None:
    _csv_case(cases, files)


@pytest.mark.slow
@slow
@slow_settings
@given(data=hostile_xlsx())
def test_slow_hostile_plan_xlsx(cases: Path, data: bytes) -> None:
    _xlsx_case(cases, data)
