"""Stored deposits on SQLite and PostgreSQL: every version kept and audited, a correction is the next version
with a reason, nothing overwritten; the audit log reconciles, and a tampered row is found."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text

from carbonmet.db import (
    AuditEntry,
    Discrepancy,
    alembic_config,
    generate_key,
    load_key,
    make_engine,
    migrate,
    reconcile,
    session_scope,
    sign_head,
    verify,
)
from carbonmet.db.audit import canonical_json
from carbonmet.deposits import (
    DepositError,
    DepositReport,
    EvidenceStore,
    content_hash,
    deposit_proof,
    load_deposits,
    plan_for_month,
    read_deposit_file,
    save_deposits,
)
from carbonmet.sites import save_plan

from ._plan import EVIDENCE, PLAN, good_rows, write_deposit

_codes = iter(f"E{i:02d}" for i in range(10, 100))

TZ = "Asia/Shanghai"
APRIL_10 = datetime(2025, 4, 10, 9, 30, tzinfo=ZoneInfo(TZ))


def _deposit(ctx: Ctx, path: Path, now: datetime = APRIL_10, month: str = "2025-03") -> DepositReport:
    with session_scope(ctx.engine) as s:
        plan = plan_for_month(s, ctx.e, month)
        assert plan is not None
        df = read_deposit_file(path, enterprise=ctx.e, month=month, plan=plan)
        return save_deposits(s, df, actor=f"{ctx.e}-officer", now=now, tz=TZ, evidence=ctx.store)


def _entries(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@dataclass
class Ctx:
    """One test's enterprise (its own plan) in the module's database, its evidence store and upload folder."""

    engine: Engine
    e: str
    store: EvidenceStore
    d: Path

    def mine(self, discrepancies: Iterable[Discrepancy]) -> list[Discrepancy]:
        return [x for x in discrepancies if x.key.startswith(f"{self.e}/")]


@pytest.fixture
def ctx(module_engine: Engine, tmp_path: Path) -> Ctx:
    e = next(_codes)
    with session_scope(module_engine) as s:
        save_plan(s, replace(PLAN, header=PLAN.header.model_copy(update={"enterprise": e})), "tester")
    return Ctx(module_engine, e, EvidenceStore(tmp_path / "home" / "evidence"), tmp_path / "upload")


def test_a_deposit_is_stored_audited_with_its_content_hash_and_its_evidence_kept(ctx: Ctx) -> None:
    f = write_deposit(ctx.d, good_rows(), evidence=EVIDENCE)
    rep = _deposit(ctx, f)
    assert (rep.rows, len(rep.stored), len(rep.unchanged)) == (4, 4, 0)
    coal = rep.stored[0]
    assert coal.key == f"{ctx.e}/2025-03/boiler_coal/activity_data/v1"
    assert (coal.status, coal.deadline, coal.authority_deadline) == ("on_time", date(2025, 4, 20), date(2025, 5, 10))
    assert coal.uploaded_at == APRIL_10 and coal.content_hash == content_hash(coal)
    with session_scope(ctx.engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity_key == coal.key)).one()
        assert entry.entity == "monthly_deposit" and entry.actor == f"{ctx.e}-officer"
        assert f'"content_hash":"{coal.content_hash}"' in entry.data
        assert load_deposits(s, ctx.e, year=2025) == list(rep.stored)
        assert verify(s).ok and ctx.mine(reconcile(s).discrepancies) == []
    for data in EVIDENCE.values():
        sha = hashlib.sha256(data).hexdigest()
        assert ctx.store.path(sha).read_bytes() == data and ctx.store.check(sha) is True
    assert ctx.store.path(rep.sha256).read_bytes() == f.read_bytes()  # the deposit file itself is kept


def test_the_same_file_again_stores_nothing(ctx: Ctx) -> None:
    f = write_deposit(ctx.d, good_rows(), evidence=EVIDENCE)
    _deposit(ctx, f)
    n = _entries(ctx.engine)
    again = _deposit(ctx, f, now=datetime(2025, 4, 25, tzinfo=ZoneInfo(TZ)))
    assert (len(again.stored), len(again.unchanged)) == (0, 4)
    assert _entries(ctx.engine) == n


def test_a_correction_is_the_next_version_with_its_reason_and_the_first_is_kept(ctx: Ctx) -> None:
    _deposit(ctx, write_deposit(ctx.d, good_rows(), evidence=EVIDENCE))
    n = _entries(ctx.engine)
    changed = good_rows(coal_t=53012.5)
    late = datetime(2025, 4, 22, tzinfo=ZoneInfo(TZ))
    with pytest.raises(DepositError) as exc:
        _deposit(ctx, write_deposit(ctx.d / "v2", changed, evidence=EVIDENCE), now=late)
    assert [(p.row, p.field) for p in exc.value.problems] == [(2, "reason")]
    assert "correction needs a reason" in str(exc.value)
    assert _entries(ctx.engine) == n  # nothing stored
    changed[0]["reason"] = "皮带秤台账补录 belt-scale ledger completed"
    rep = _deposit(ctx, write_deposit(ctx.d / "v3", changed, evidence=EVIDENCE), now=late)
    assert [(x.key, x.status, x.reason) for x in rep.stored] == [
        (f"{ctx.e}/2025-03/boiler_coal/activity_data/v2", "late", "皮带秤台账补录 belt-scale ledger completed")]
    assert len(rep.unchanged) == 3
    with session_scope(ctx.engine) as s:
        coal = [x for x in load_deposits(s, ctx.e, month="2025-03") if x.parameter == "activity_data"]
        assert [(x.version, x.value, x.status) for x in coal] == [(1, 52956.69, "on_time"), (2, 53012.5, "late")]
        latest = load_deposits(s, ctx.e, year=2025, latest=True)
        assert [(x.parameter, x.version) for x in latest if x.source_stream == "boiler_coal"] == [
            ("activity_data", 2), ("carbon_content", 1), ("ncv", 1)]
        assert ctx.mine(reconcile(s).discrepancies) == []


@pytest.mark.parametrize(("now", "status"), [
    (datetime(2025, 4, 20, 23, 59, tzinfo=ZoneInfo(TZ)), "on_time"),
    (datetime(2025, 4, 20, 16, 0, tzinfo=ZoneInfo("UTC")), "late"),  # 21 April 00:00 in Beijing
])
def test_the_deadline_is_the_twentieth_day_after_the_month_in_local_time(ctx: Ctx, now: datetime,
                                                                          status: str) -> None:
    rep = _deposit(ctx, write_deposit(ctx.d, good_rows(), evidence=EVIDENCE), now=now)
    assert {x.status for x in rep.stored} == {status}


def test_a_month_not_yet_over_cannot_be_deposited(ctx: Ctx) -> None:
    n = _entries(ctx.engine)
    with pytest.raises(DepositError, match="has not ended yet"):
        _deposit(ctx, write_deposit(ctx.d, good_rows(), evidence=EVIDENCE),
                 now=datetime(2025, 3, 31, 23, 0, tzinfo=ZoneInfo(TZ)))
    assert _entries(ctx.engine) == n


def test_the_proof_lists_hashes_that_rehash_and_finds_a_changed_evidence_file(ctx: Ctx, tmp_path: Path) -> None:
    rep = _deposit(ctx, write_deposit(ctx.d, good_rows(), evidence=EVIDENCE))
    key_file = tmp_path / "audit.pem"
    generate_key(key_file)
    with session_scope(ctx.engine) as s:
        sign_head(s, load_key(key_file))  # type: ignore[arg-type]
    with session_scope(ctx.engine) as s:
        proof = deposit_proof(s, ctx.e, 2025, evidence=ctx.store, key=load_key(key_file))
    assert proof.chain["ok"] and proof.signatures["checked"] and all(e.ok for e in proof.entries)
    assert len(proof.entries) == 4 and all(e.signed for e in proof.entries)
    for e in proof.to_dict()["entries"]:  # what a verifier recomputes from the listing alone
        assert hashlib.sha256(canonical_json(e["content"]).encode()).hexdigest() == e["content_hash"]
        assert e["rehash_ok"] and e["logged_ok"] and e["audit_seq"] is not None
        assert all(x["stored"] and x["rehash_ok"] for x in e["evidence"])
    assert {e.deposit.content_hash for e in proof.entries} == {x.content_hash for x in rep.stored}
    # someone swaps the bytes of a kept lab report
    p = ctx.store.path(hashlib.sha256(EVIDENCE["lab/coal-2025-03.txt"]).hexdigest())
    os.chmod(p, 0o644)
    p.write_bytes(b"monthly lab summary: C 58.00 %\n")
    with session_scope(ctx.engine) as s:
        proof = deposit_proof(s, ctx.e, 2025, evidence=ctx.store)
    assert not proof.ok and proof.signatures == {"checked": False, "ok": True}
    bad = [(e.deposit.parameter, x.name) for e in proof.entries for x in e.evidence if x.rehash_ok is False]
    assert sorted(bad) == [("carbon_content", "lab/coal-2025-03.txt"), ("ncv", "lab/coal-2025-03.txt")]


def test_a_tampered_deposit_row_is_reported_by_reconciliation_and_by_the_proof(ctx: Ctx) -> None:
    rep = _deposit(ctx, write_deposit(ctx.d, good_rows(), evidence=EVIDENCE))
    key, ncv = rep.stored[0].key, f"{ctx.e}/2025-03/boiler_coal/ncv/v1"
    with ctx.engine.begin() as c:
        c.execute(text("UPDATE monthly_deposit SET value = 51000.0 WHERE deposit_key = :k"), {"k": key})
        c.execute(text("DELETE FROM monthly_deposit WHERE deposit_key = :k"), {"k": ncv})
    with session_scope(ctx.engine) as s:
        found = ctx.mine(reconcile(s).discrepancies)
        proof = deposit_proof(s, ctx.e, 2025, evidence=ctx.store)
    assert {(x.kind, x.key, x.field) for x in found} == {("changed", key, "value"), ("missing", ncv, None)}
    changed = next(x for x in found if x.kind == "changed")
    assert (changed.logged, changed.current) == (52956.69, 51000.0)
    by = {e.deposit.key: e for e in proof.entries}
    assert not by[key].rehash_ok and not by[key].ok and not proof.ok  # the row no longer hashes to its hash
    assert ncv not in by


def _deposits_revision() -> tuple[str, str]:
    """(revision, down_revision) of the migration that adds monthly_deposit (its number may change at merge)."""
    script = ScriptDirectory.from_config(alembic_config())
    rev = next(r for r in script.walk_revisions() if Path(r.path).name.endswith("_deposits_monthly_deposit.py"))
    assert isinstance(rev.down_revision, str)
    return rev.revision, rev.down_revision


def test_reconciliation_reads_a_database_without_the_deposits_table(db_url: str, tmp_path: Path) -> None:
    """Before the deposits revision there is nothing to reconcile; after a downgrade the logged deposits are
    reported missing (the reconciler does not fail on the absent table)."""
    _, down = _deposits_revision()
    engine = make_engine(db_url)
    try:
        migrate(engine, down)
        with session_scope(engine) as s:
            rec = reconcile(s)
        assert rec.ok and rec.rows["monthly_deposit"] == 0
        migrate(engine)
        ctx = Ctx(engine, "E01", EvidenceStore(tmp_path / "ev"), tmp_path / "up")
        with session_scope(engine) as s:
            save_plan(s, PLAN, "tester")
        rep = _deposit(ctx, write_deposit(ctx.d, good_rows(), evidence=EVIDENCE))
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, down)
        with session_scope(engine) as s:
            found = reconcile(s).discrepancies
        assert sorted((x.kind, x.key) for x in found) == sorted(("missing", d.key) for d in rep.stored)
    finally:
        engine.dispose()
