"""The proof of an enterprise-year's deposits (存证证明): hashes a verifier can recompute, tied to the audit chain."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import AuditEntry, verify, verify_signatures
from ._evidence import EvidenceStore
from ._models import DEPOSIT
from ._store import load_deposits
from ._types import Deposit, EvidenceCheck, Proof, ProofEntry, content_hash


def _entries(session: Session, keys: list[str]) -> dict[str, AuditEntry]:
    out: dict[str, AuditEntry] = {}
    for i in range(0, len(keys), 500):
        for e in session.scalars(select(AuditEntry).where(AuditEntry.entity == DEPOSIT,
                                                          AuditEntry.entity_key.in_(keys[i: i + 500]))
                                 .order_by(AuditEntry.seq)):
            out[e.entity_key] = e  # the last entry of a key (deposits are written once)
    return out


def _logged_hash(e: AuditEntry | None) -> Any:
    if e is None:
        return None
    try:
        data = json.loads(e.data)
    except ValueError:
        return None
    return data.get("content_hash") if isinstance(data, dict) else None


def deposit_proof(session: Session, enterprise: str, year: int, *, evidence: EvidenceStore | None = None,
                  key: Ed25519PrivateKey | Ed25519PublicKey | None = None) -> Proof:
    """The latest version of every deposit of an enterprise-year with what proves it.

    Parameters
    ----------
    session : Session
        Read only.
    enterprise : str
    year : int
    evidence : EvidenceStore, optional
        Where the evidence bytes are kept; with it every evidence file is re-hashed.
    key : Ed25519 key, optional
        The operator's audit key (private or public): the signed heads are checked with it and each entry says
        whether a valid signed head covers it. Without it ``signatures.checked`` is False.

    Returns
    -------
    Proof
        Per deposit: the stored content hash and whether the row re-hashes to it (:func:`content_hash`), its audit
        entry (seq, hash, time) and whether the entry's data carry the same hash, whether a signed head covers the
        entry, and each evidence file's re-check; the chain's check (:func:`carbonmet.db.verify`) and the signed
        heads' (:func:`carbonmet.db.verify_signatures`).

    Notes
    -----
    What this proves: each listed figure, unit, evidence hash and upload time is what was stored when its audit
    entry was appended, the log has not been altered since (chain), and — with a key held elsewhere — no entry was
    added without the operator's key. It does not prove that the figure was true, nor that the evidence file says
    what the figure says (a person reads it), nor anything about deposits an operator removed together with their
    entries before a head was exported.
    """
    every = load_deposits(session, enterprise, year=year)
    latest: dict[tuple[str, str, str], Deposit] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for d in every:
        k = (d.month, d.source_stream, d.parameter)
        latest[k] = d
        counts[k] = counts.get(k, 0) + 1
    entries = _entries(session, [d.key for d in latest.values()])
    chain = verify(session)
    sig = verify_signatures(session, key) if key is not None else None
    out: list[ProofEntry] = []
    for k, d in latest.items():
        e = entries.get(d.key)
        checks = tuple(EvidenceCheck(x.name, x.sha256, x.kind, evidence.has(x.sha256) if evidence else None,
                                     evidence.check(x.sha256) if evidence else None) for x in d.evidence)
        signed = None if sig is None or e is None else e.seq <= sig.last_signed_seq
        out.append(ProofEntry(d, counts[k], content_hash(d) == d.content_hash, e.seq if e else None,
                              e.hash if e else None, e.ts if e else None, _logged_hash(e) == d.content_hash,
                              signed, checks))
    chain_doc = {"ok": chain.ok, "entries": chain.entries, "head_hash": chain.head_hash,
                 "first_bad_seq": chain.first_bad_seq, "reason": chain.reason}
    sig_doc = sig.to_dict() if sig is not None else {"checked": False, "ok": True}
    return Proof(enterprise, year, tuple(out), chain_doc, sig_doc)
