"""The example connector of docs/connectors.md, run as written: at most 60 lines, and it does what it says."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carbonmet.metering import PointInfo, Store
from carbonmet.metering.connectors import Connector, run_connector

DOC = Path(__file__).parents[3] / "docs" / "connectors.md"


def _example() -> str:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- example:start -->\n```python\n(.*?)```\n<!-- example:end -->", text, re.DOTALL)
    assert block is not None, "docs/connectors.md lost its example block"
    return block.group(1)


def test_the_documented_connector_is_at_most_60_lines() -> None:
    lines = [ln for ln in _example().splitlines() if ln.strip()]
    assert 0 < len(lines) <= 60, len(lines)


def test_the_documented_connector_stores_quarantines_and_counts_once(tmp_path: Path) -> None:
    ns: dict[str, object] = {}
    exec(compile(_example(), str(DOC), "exec"), ns)  # noqa: S102 - our own documentation, run as written
    cls = ns["DropFolderConnector"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    lines = [json.dumps({"point": "E01.GAS", "ts": (t0 + timedelta(hours=h)).isoformat(), "value": 100 + h})
             for h in range(6)]
    (inbox / "a.jsonl").write_text("\n".join(lines[:4] + ["{not json", '{"point": "E01.GAS"}']) + "\n")
    (inbox / "b.jsonl").write_text("\n".join(lines[2:]) + "\n")  # overlaps a.jsonl: two lines again
    catalog = {"E01.GAS": PointInfo("E01.GAS", "E01", "Nm3/h", "rate")}
    store = Store(tmp_path / "store")

    async def go():
        conn = cls(inbox, poll_s=0.05)  # type: ignore[operator]
        assert isinstance(conn, Connector)
        stop = asyncio.Event()
        task = asyncio.create_task(run_connector(conn, store, catalog, stop=stop))
        while list(inbox.glob("*.jsonl")):
            await asyncio.sleep(0.02)
        stop.set()
        return await task

    intake = asyncio.run(go())
    t = intake.totals
    assert (t.stored, t.duplicates, intake.rejects) == (6, 2, 2)
    assert store.readings("E01.GAS").column("value").to_pylist() == [100.0 + h for h in range(6)]
    reasons = store.quarantine().column("reason").to_pylist()
    assert len(reasons) == 2 and all(r.startswith("bad_line: a.jsonl:") for r in reasons)
    assert sorted(p.name for p in inbox.iterdir()) == ["a.done", "b.done"]
