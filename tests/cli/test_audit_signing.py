"""D8: signed audit heads. An entry appended with the matching table change, or a rewritten history, passes
the hash chain and reconciliation; the operator's signature and an exported signed head catch both."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.db import AuditEntry, make_engine, record, session_scope
from carbonmet.db.audit import GENESIS, AuditHeadSignature, canonical_json, entry_hash
from carbonmet.registry.models import Certificate

DATA = Path(__file__).parents[1] / "registry" / "data"
FILES = [str(DATA / f"{t}.csv") for t in ("organisations", "sites", "points", "standards", "instruments", "certificates")]
runner = CliRunner()


def _run(db: str, *args: str) -> tuple[int, str]:
    r = runner.invoke(app, [*args, "--db", db])
    return r.exit_code, r.output


def _columns(obj: Certificate) -> dict[str, object]:
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


@pytest.fixture
def signed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path, Path]:
    """A registry imported with the operator's key set, and its head exported: (url, key, head file)."""
    key = tmp_path / "keys" / "audit.pem"
    r = runner.invoke(app, ["audit", "keygen", str(key)])
    assert r.exit_code == 0, r.output
    assert (key.stat().st_mode & 0o777) == 0o600 and Path(f"{key}.pub").exists()
    monkeypatch.setenv("CARBONMET_AUDIT_KEY", str(key))
    code, out = _run(db_url, "registry", "import", *FILES, "--json")
    assert code == 0, out
    head = tmp_path / "head.json"
    code, out = _run(db_url, "audit", "export-head", str(head), "--json")
    assert code == 0, out
    return db_url, key, head


def _verify(db: str, *args: str) -> tuple[int, dict]:
    code, out = _run(db, "audit", "verify", "--json", *args)
    return code, json.loads(out)


def _tamper_certificate(engine: Engine) -> str:
    """What someone with database access but no key does: extend a certificate and log it correctly."""
    with session_scope(engine) as s:
        cert = s.scalars(select(Certificate).order_by(Certificate.cert_no).limit(1)).one()
        cert.valid_until = date(2099, 12, 31)
        s.flush()
        record(s, actor="cli", action="update", entity="certificate", key=cert.cert_no, data=_columns(cert))
        return cert.cert_no


def test_D8_a_clean_signed_registry_verifies_clean(signed: tuple[str, Path, Path]) -> None:
    db, key, head = signed
    code, doc = _verify(db)
    sig = doc["signatures"]
    assert code == 0 and doc["ok"] is True, doc
    assert sig["checked"] is True and sig["unsigned_after"] == 0 and sig["last_signed_seq"] == doc["entries"] > 0
    code, doc = _verify(db, "--signed-head", str(head))
    assert code == 0 and doc["ok"] is True
    exported = json.loads(head.read_text(encoding="utf-8"))
    assert exported["seq"] == doc["entries"] and exported["head_hash"] == doc["head_hash"]
    # a verifier holding only the public key checks the same
    code, doc = _verify(db, "--key", f"{key}.pub")
    assert code == 0 and doc["signatures"]["checked"] is True


def test_D8_appended_entry_is_reported_against_the_signed_head(
    signed: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, key, head = signed
    engine = make_engine(db)
    before = _verify(db)[1]["head_hash"]
    _tamper_certificate(engine)
    engine.dispose()
    # the defect: chain and reconciliation alone are satisfied, even with --expected-head
    code, out = _run(db, "audit", "verify", "--key", str(head))  # not a key file: a clear error, exit 2
    assert code == 2 and "head.json" in out.replace("\n", "") and "PEM" in out
    monkeypatch.delenv("CARBONMET_AUDIT_KEY")
    code, doc = _verify(db, "--expected-head", before)
    assert doc["chain_ok"] is True and doc["reconcile"]["ok"] is True and doc["signatures"]["checked"] is False
    # the fix: against the exported signed head (no key on the verifier's side) …
    code, doc = _verify(db, "--signed-head", str(head))
    assert code == 1 and doc["ok"] is False
    assert doc["signatures"]["unsigned_after"] == 1
    assert any("1 entries after the last signed head" in p for p in doc["signatures"]["problems"])
    # … and with the operator's key
    code, doc = _verify(db, "--key", str(key))
    assert code == 1 and doc["signatures"]["unsigned_after"] == 1
    # an exported head vouches for the whole log: it is not given while unsigned entries follow
    code, out = _run(db, "audit", "export-head", str(head.with_name("h2.json")), "--key", str(key))
    assert code == 2 and "未签名" in out


def _rewrite_history(engine: Engine) -> None:
    """Rewrite a certificate's logged state from its entry on, recompute every later hash, drop the signatures."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        else:
            c.execute(text("DROP TRIGGER audit_log_no_update"))
    with session_scope(engine) as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        target = next(e for e in entries if e.entity == "certificate")
        data = json.loads(target.data)
        data["valid_until"] = "2099-12-31"
        s.execute(text("UPDATE certificate SET valid_until = :d WHERE cert_no = :k"),
                  {"d": date(2099, 12, 31), "k": target.entity_key})
        target.data = canonical_json(data)
        prev = GENESIS
        for e in entries:
            e.prev_hash = prev
            e.hash = entry_hash(prev, e.seq, e.ts, e.actor, e.action, e.entity, e.entity_key, e.data)
            prev = e.hash
        s.execute(delete(AuditHeadSignature))


def test_D8_rewritten_history_is_reported_against_the_signed_head(
    signed: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, key, head = signed
    engine = make_engine(db)
    _rewrite_history(engine)
    engine.dispose()
    monkeypatch.delenv("CARBONMET_AUDIT_KEY")
    code, doc = _verify(db)
    assert doc["chain_ok"] is True and doc["reconcile"]["ok"] is True  # the rewrite is consistent
    code, doc = _verify(db, "--signed-head", str(head))
    assert code == 1 and doc["ok"] is False
    assert any("the history was rewritten" in p for p in doc["signatures"]["problems"]), doc["signatures"]
    code, doc = _verify(db, "--key", str(key))  # the stored signatures are gone: nothing is signed
    assert code == 1 and doc["signatures"]["unsigned_after"] == doc["entries"]


def test_D8_a_signature_by_another_key_is_reported(signed: tuple[str, Path, Path], tmp_path: Path) -> None:
    db, _key, head = signed
    other = tmp_path / "other.pem"
    assert runner.invoke(app, ["audit", "keygen", str(other)]).exit_code == 0
    engine = make_engine(db)
    _tamper_certificate(engine)
    engine.dispose()
    code, out = _run(db, "audit", "sign", "--key", str(other))  # the forger signs with a key of their own
    assert code == 0, out
    code, doc = _verify(db, "--signed-head", str(head))
    assert code == 1 and any("does not verify" in p for p in doc["signatures"]["problems"])
    assert doc["signatures"]["unsigned_after"] == 1


def test_D8_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    assert runner.invoke(app, ["audit", "keygen", str(key)]).exit_code == 0
    first = key.read_bytes()
    r = runner.invoke(app, ["audit", "keygen", str(key)])
    assert r.exit_code == 2 and "exists" in r.output and key.read_bytes() == first
