"""The deposit and what is said about it: evidence, errors, status rows, differences (存证数据类型)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from ..db.audit import canonical_json
from ..quantities import CarbonmetError

EvidenceKind = Literal["lab_report", "invoice", "ledger", "meter_record", "other"]
"""What a supporting file is: 化验报告, 发票, 台账, 计量记录, 其他."""
EVIDENCE_KINDS: tuple[str, ...] = EvidenceKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One supporting file of a deposit (支撑材料): its name as deposited, SHA-256 (hex), kind and size [bytes]."""

    name: str
    sha256: str
    kind: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "kind": self.kind, "size": self.size}


#: The fields of a deposit its content hash covers, in this order of documentation (the JSON is key-sorted).
CONTENT_FIELDS = ("enterprise", "month", "source_stream", "parameter", "version", "value", "unit", "evidence",
                  "note", "reason", "uploaded_at", "deadline", "authority_deadline", "status", "plan_version",
                  "source_file", "source_sha256", "source_row")


@dataclass(frozen=True, slots=True)
class Deposit:
    """One stored version of one parameter of one month (月度存证).

    ``value`` is in ``unit`` as deposited; ``uploaded_at`` is the platform's clock when it was stored (aware,
    UTC); ``deadline`` and ``authority_deadline`` the last days (local) for the enterprise and the authority;
    ``status`` ``on_time`` or ``late`` against ``deadline``. A correction is the next ``version`` with a
    ``reason``; nothing is overwritten. ``source_file``/``source_sha256``/``source_row`` name the deposit file
    (kept, content-addressed, with the evidence) and its row. ``content_hash`` is :func:`content_hash`.
    """

    enterprise: str
    month: str
    source_stream: str
    parameter: str
    version: int
    value: float
    unit: str
    evidence: tuple[Evidence, ...]
    note: str | None
    reason: str | None
    uploaded_at: datetime
    deadline: date
    authority_deadline: date
    status: str
    plan_version: int
    source_file: str
    source_sha256: str
    source_row: int
    content_hash: str = ""

    @property
    def key(self) -> str:
        """``<E>/<YYYY-MM>/<stream>/<parameter>/v<n>``: the deposit's audit key."""
        return deposit_key(self.enterprise, self.month, self.source_stream, self.parameter, self.version)

    def content(self) -> dict[str, Any]:
        """The fields :func:`content_hash` covers (:data:`CONTENT_FIELDS`), in their JSON form."""
        return {
            "enterprise": self.enterprise, "month": self.month, "source_stream": self.source_stream,
            "parameter": self.parameter, "version": self.version, "value": self.value, "unit": self.unit,
            "evidence": [e.to_dict() for e in self.evidence], "note": self.note, "reason": self.reason,
            "uploaded_at": self.uploaded_at.isoformat(timespec="microseconds"),
            "deadline": self.deadline.isoformat(), "authority_deadline": self.authority_deadline.isoformat(),
            "status": self.status, "plan_version": self.plan_version, "source_file": self.source_file,
            "source_sha256": self.source_sha256, "source_row": self.source_row,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.content(), "key": self.key, "content_hash": self.content_hash}


def deposit_key(enterprise: str, month: str, source_stream: str, parameter: str, version: int) -> str:
    """The audit key of a deposit version, ``E01/2025-03/boiler_coal/activity_data/v1``."""
    return f"{enterprise}/{month}/{source_stream}/{parameter}/v{version}"


def content_hash(d: Deposit) -> str:
    """SHA-256 (hex) of the canonical JSON of a deposit's content (:data:`CONTENT_FIELDS`).

    The JSON is :func:`carbonmet.db.audit.canonical_json` (keys sorted, no whitespace, UTF-8, floats in
    Python's shortest round-trip form); the evidence list carries each file's SHA-256, so the hash binds the
    value, its unit, the supporting files, the upload time and the deadline status together.
    """
    return hashlib.sha256(canonical_json(d.content()).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class DepositProblem:
    """One bad field of one row of a deposit file (header = row 1), or of the file as a whole (row ``-``)."""

    file: str
    row: int | str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "field": self.field, "reason": self.reason}


class DepositError(CarbonmetError, ValueError):
    """A deposit file was refused as a whole; ``problems`` lists every bad field (nothing was stored)."""

    def __init__(self, file: str, problems: list[DepositProblem]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:200])
        more = f"\n  … and {len(problems) - 200} more" if len(problems) > 200 else ""
        super().__init__(f"{file}: 存证文件有 {len(problems)} 处错误，未存储任何内容 / deposit file refused, "
                         f"{len(problems)} problem(s), nothing stored:\n{lines}{more}")


@dataclass(frozen=True, slots=True)
class StatusRow:
    """Whether one deposited parameter of one month is in (存证状态).

    ``status``: ``on_time`` / ``late`` (deposited; the first version's status), ``missing`` (not deposited and
    its deadline has passed) or ``not_due`` (not deposited, deadline not yet passed).
    """

    source_stream: str
    parameter: str
    month: str
    status: Literal["on_time", "late", "missing", "not_due"]
    deadline: date
    authority_deadline: date
    versions: int = 0
    uploaded_at: datetime | None = None
    latest_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source_stream": self.source_stream, "parameter": self.parameter, "month": self.month,
                "status": self.status, "deadline": self.deadline.isoformat(),
                "authority_deadline": self.authority_deadline.isoformat(), "versions": self.versions,
                "uploaded_at": self.uploaded_at.isoformat() if self.uploaded_at else None,
                "latest_status": self.latest_status}


DifferenceKind = Literal["compared", "not_deposited", "not_in_account", "not_comparable"]


@dataclass(frozen=True, slots=True)
class Difference:
    """A deposit against the annual account's figure for the same stream, parameter and month (存证与核算差异).

    ``kind``:

    * ``compared`` — both exist: ``deposit_value`` (converted to ``unit``, the account's unit), ``account_value``,
      ``difference`` = deposit − account [unit], ``relative`` = difference / |account| (None when the account's
      figure is 0) and ``exceeds`` (|relative| over ``tolerance``, or a non-zero difference from 0);
    * ``not_deposited`` — the account used a figure for this month that was never deposited;
    * ``not_in_account`` — deposited, but the account carries no such figure (e.g. an NCV the per-mass form does
      not use);
    * ``not_comparable`` — both exist but the units cannot be converted.

    :attr:`finding` is what a verifier must look at: a material difference, a month used but not deposited, or
    a pair that cannot be compared.
    """

    kind: DifferenceKind
    source_stream: str
    parameter: str
    month: str
    unit: str | None = None
    deposit_value: float | None = None
    account_value: float | None = None
    difference: float | None = None
    relative: float | None = None
    exceeds: bool = False
    tolerance: float | None = None
    version: int | None = None
    deposited_value: float | None = None
    deposited_unit: str | None = None
    content_hash: str | None = None
    note: str = ""

    @property
    def finding(self) -> bool:
        return self.exceeds or self.kind in ("not_deposited", "not_comparable")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source_stream": self.source_stream, "parameter": self.parameter,
                "month": self.month, "unit": self.unit, "deposit_value": self.deposit_value,
                "account_value": self.account_value, "difference": self.difference, "relative": self.relative,
                "exceeds": self.exceeds, "finding": self.finding, "tolerance": self.tolerance,
                "version": self.version, "deposited_value": self.deposited_value,
                "deposited_unit": self.deposited_unit, "content_hash": self.content_hash, "note": self.note}


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    """One supporting file of a deposit as the proof re-checked it: ``stored`` (the bytes are in the evidence
    store) and ``rehash_ok`` (they still hash to ``sha256``; None when no store was given)."""

    name: str
    sha256: str
    kind: str
    stored: bool | None
    rehash_ok: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "kind": self.kind, "stored": self.stored,
                "rehash_ok": self.rehash_ok}


@dataclass(frozen=True, slots=True)
class ProofEntry:
    """The latest version of one deposit with what proves it (存证证明条目).

    ``content_hash`` as stored; ``rehash_ok``: the row re-hashes to it; ``audit_seq``/``audit_hash``/``audit_ts``:
    its audit entry; ``logged_ok``: the entry's data carry the same content hash; ``signed``: a valid signed head
    at or after the entry (None when signatures were not checked).
    """

    deposit: Deposit
    versions: int
    rehash_ok: bool
    audit_seq: int | None
    audit_hash: str | None
    audit_ts: str | None
    logged_ok: bool
    signed: bool | None
    evidence: tuple[EvidenceCheck, ...] = ()

    @property
    def ok(self) -> bool:
        return self.rehash_ok and self.logged_ok and all(e.rehash_ok is not False for e in self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.deposit.key, "content": self.deposit.content(), "content_hash": self.deposit.content_hash,
                "versions": self.versions, "rehash_ok": self.rehash_ok, "audit_seq": self.audit_seq,
                "audit_hash": self.audit_hash, "audit_ts": self.audit_ts, "logged_ok": self.logged_ok,
                "signed": self.signed, "evidence": [e.to_dict() for e in self.evidence], "ok": self.ok}


@dataclass(frozen=True, slots=True)
class Proof:
    """What a verifier needs to re-check an enterprise-year's deposits (存证证明).

    ``entries``: the latest version of every deposit; ``chain``: the audit chain's check (``ok``, ``entries``,
    ``head_hash``, ``reason``); ``signatures``: the signed-head check (``checked`` False without a trusted key).
    """

    enterprise: str
    year: int
    entries: tuple[ProofEntry, ...]
    chain: dict[str, Any]
    signatures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        sig_ok = not self.signatures.get("checked") or bool(self.signatures.get("ok"))
        return bool(self.chain.get("ok")) and sig_ok and all(e.ok for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "year": self.year, "ok": self.ok, "chain": self.chain,
                "signatures": self.signatures, "entries": [e.to_dict() for e in self.entries],
                "how_to_recheck": "sha256(canonical JSON of 'content': keys sorted, separators ',' ':', UTF-8) = "
                                  "content_hash; each evidence file's bytes hash to its sha256; the audit entry at "
                                  "audit_seq carries content_hash and the chain verifies (carbonmet audit verify)"}
