"""Uncertainty terms from certificates, laboratories and defaults (不确定度来源).

One rule per source, used by both ways into an account:

* 检定 (verification) certificate → the instrument's MPE as a rectangular distribution, u = MPE/√3;
* 校准 (calibration) certificate → its own U/k, normal — not the class MPE; its as-found error is either
  applied as a correction or kept as a rectangular term of half-width |error| (the choice is recorded);
* laboratory analyses → the analyser's certificate term, shared by every sample it analysed, plus the
  independent repeatability of each result;
* defaults → the profile's documented relative standard uncertainty;
* an instrument out of its legal state in the period (overdue, failed verification kept in service, no
  valid certificate, calibrated where 检定 is mandatory) → flagged, its data marked not valid under
  GB 17167-2006 §5.3.6, and the share of the amount it measured meanwhile carries an extra rectangular term
  of half-width ``LEGAL_STATE_FACTOR × MPE`` (the rule of :data:`LEGAL_STATE_RULE`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ._core import Term
from ._flow import Flow

#: Multiple of the MPE an instrument out of legal state may be in error by (rectangular half-width) [-].
LEGAL_STATE_FACTOR = 3.0
LEGAL_STATE_RULE = (
    "法定状态外数据: 超期/检定不合格/无有效证书期间的计量数据按 GB 17167-2006 5.3.6 不得使用, 标记为无效; "
    f"另加矩形分量, 半宽 = {LEGAL_STATE_FACTOR:g} × MPE (或校准 U/k·√3 与 |示值误差| 中较大者) / data measured while "
    "the instrument was out of its legal state (overdue, failed verification, no valid certificate) must not be "
    "used (GB 17167-2006 §5.3.6) and are marked not valid; their share of the amount carries an extra rectangular "
    f"term of half-width {LEGAL_STATE_FACTOR:g} × MPE (or the larger of U/k·√3 and |as-found error|) "
    "[A: project rule, in the spirit of the CCER conservative adjustment, accounting_2025.md §6]"
)

LegalState = Literal["ok", "overdue", "failed", "uncovered", "calibrated_not_verified"]

STATE_TEXT = {
    "overdue": "超期未检 / past its verification or calibration due date",
    "failed": "检定不合格仍在用 / failed verification, kept in service",
    "uncovered": "无有效证书 / no valid certificate",
    "calibrated_not_verified": "强制检定器具仅有校准证书 / under mandatory verification but only calibrated",
}


@dataclass(frozen=True, slots=True)
class InstrumentFigure:
    """What an instrument's certificates say about it over the accounting period (relative, [-]).

    ``u_rel`` is nan when no certificate in force gives a figure. ``uncovered_share`` is the share of each
    period (or the only one) out of the legal state.
    """

    id: str
    kind: Literal["verification", "calibration", "none"]
    u_rel: float
    mpe_rel: float | None = None
    certificates: tuple[str, ...] = ()
    as_found_rel: float | None = None
    apply_as_found: bool = False
    state: LegalState = "ok"
    uncovered_share: np.ndarray = field(default_factory=lambda: np.zeros(1))
    note: str = ""
    role: Literal["instrument", "analyser"] = "instrument"

    @property
    def key(self) -> str:
        return f"{self.role}:{self.id}"

    def terms(self) -> list[Term]:
        """The terms of this instrument (base, as-found, legal state)."""
        kind_zh = "检定 MPE/√3" if self.kind == "verification" else "校准 U/k" if self.kind == "calibration" else "—"
        out: list[Term] = []
        if math.isfinite(self.u_rel):
            out.append(Term(self.key, self.u_rel, "rectangular" if self.kind == "verification" else "normal",
                            self.role, f"{self.id} {kind_zh}", (self.id,), self.certificates, note=self.note))
        if self.as_found_rel is not None and not self.apply_as_found and self.as_found_rel != 0.0:
            out.append(Term(f"as_found:{self.id}", abs(self.as_found_rel) / math.sqrt(3.0), "rectangular", self.role,
                            f"{self.id} 示值误差未修正, 作为不确定度分量 / as-found error {self.as_found_rel:+.4%} kept as a "
                            "term", (self.id,), self.certificates))
        if self.out_of_state:
            out.append(Term(f"legal_state:{self.id}", self.legal_half_width / math.sqrt(3.0), "rectangular",
                            "legal_state", f"{self.id} {STATE_TEXT.get(self.state, self.state)}", (self.id,),
                            self.certificates, note=LEGAL_STATE_RULE))
        return out

    @property
    def out_of_state(self) -> bool:
        return self.state != "ok" and bool(np.any(self.uncovered_share > 0))

    @property
    def legal_half_width(self) -> float:
        """Half-width of the legal-state term [-] (:data:`LEGAL_STATE_RULE`)."""
        cands = [LEGAL_STATE_FACTOR * (self.mpe_rel or 0.0)]
        if math.isfinite(self.u_rel):
            cands.append(LEGAL_STATE_FACTOR * self.u_rel * math.sqrt(3.0))
        if self.as_found_rel is not None:
            cands.append(abs(self.as_found_rel))
        hw = max(cands)
        return hw if hw > 0 else 0.05  # no figure at all: ±5 % [A], said in the flag

    def flag(self) -> dict[str, object] | None:
        """The flag this instrument raises, or None when it was in its legal state throughout."""
        if not self.out_of_state:
            return None
        return {"kind": "legal_state", "state": self.state, "instrument": self.id,
                "share": float(np.round(float(np.mean(self.uncovered_share)), 6)),
                "message": f"{self.id}: {STATE_TEXT.get(self.state, self.state)}; {self.note}".rstrip("; "),
                "rule": LEGAL_STATE_RULE, "widened_half_width_rel": self.legal_half_width}

    def measure(self, flow: Flow) -> list[Flow]:
        """``flow`` as measured by this instrument: its terms attached, split by the out-of-state share."""
        f = flow
        if self.as_found_rel is not None and self.apply_as_found:
            f = f.times(1.0 / (1.0 + self.as_found_rel), f.unit)
        base = tuple(t.key for t in self.terms() if not t.key.startswith("legal_state:"))
        if not self.out_of_state:
            return [Flow(f.what, f.values, f.unit, f.terms + base, f.noise, f.noise_key, f.noise_kind)]
        s = np.broadcast_to(self.uncovered_share, f.values.shape)
        ok = Flow(f.what, f.values * (1 - s), f.unit, f.terms + base,
                  None if f.noise is None else f.noise * (1 - s), f.noise_key, f.noise_kind)
        bad = Flow(f.what + " (法定状态外 out of legal state)", f.values * s, f.unit,
                   f.terms + base + (f"legal_state:{self.id}",),
                   None if f.noise is None else f.noise * s, f.noise_key + ".oos" if f.noise_key else "", f.noise_kind)
        return [ok, bad]
