"""Regions beyond 99 enterprises: the code width rule, the size limits, and the hourly truth written in parts."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.refdata import Manifest, RefdataError, generate
from carbonmet.refdata.truth import make_enterprises


def test_codes_keep_two_digits_up_to_99_and_take_four_above() -> None:
    small, big = make_enterprises(99, 7), make_enterprises(100, 7)
    assert [e.code for e in small] == [f"E{i:02d}" for i in range(1, 100)]
    assert [e.code for e in big] == [f"E{i:04d}" for i in range(1, 101)]
    assert sorted(e.code for e in big) == [e.code for e in big]  # one width: text order is number order
    for a, b in zip(small, big, strict=False):  # enterprise i is the same plant whatever the width of its code
        assert (a.route, a.region, a.capacity_t, a.n_stacks) == (b.route, b.region, b.capacity_t, b.n_stacks)
        assert b.name.replace(b.code[1:], a.code[1:]) == a.name
        assert [s[0].replace(b.code, a.code) for s in b.sites] == [s[0] for s in a.sites]
    assert make_enterprises(9999, 7)[-1].code == "E9999"


@pytest.mark.parametrize("n", [0, 10_000])
def test_region_size_outside_1_to_9999_is_refused(tmp_path: Path, n: int) -> None:
    with pytest.raises(RefdataError, match="1–9999"):
        generate(tmp_path / "x", enterprises=n)
    assert not (tmp_path / "x").exists()
    res = CliRunner().invoke(app, ["refdata", "generate", "--enterprises", str(n), "--out", str(tmp_path / "y")])
    assert res.exit_code == 1 and "1–9999" in res.output and f"got {n}" in res.output
    assert not (tmp_path / "y").exists()


def test_hourly_truth_written_in_parts_is_the_one_shot_file(region: tuple[Path, Manifest]) -> None:
    """``truth/points_hourly.parquet`` is written row group by row group as the enterprises come; its bytes are
    those of writing its whole table at once with the generator's fixed options."""
    root, m = region
    path = root / "truth" / "points_hourly.parquet"
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups >= 2  # the region spans a row-group boundary, so parts were joined
    table = pq.read_table(path)
    ents = [e["enterprise"] for e in m.enterprises_list]
    firsts = table.column("point_id").cast("string").to_pylist()
    seen = list(dict.fromkeys(p.split(".")[0] for p in firsts))
    assert seen == ents  # enterprise by enterprise, in region order
    buf = io.BytesIO()
    pq.write_table(table.combine_chunks(), buf, compression="zstd", compression_level=3, row_group_size=1 << 20,
                   use_dictionary=True, write_statistics=True, version="2.6")
    assert buf.getvalue() == path.read_bytes()
    assert m.files["truth/points_hourly.parquet"]
