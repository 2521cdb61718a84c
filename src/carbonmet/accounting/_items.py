"""Activity data of an account as linear functions of its error terms (活动数据及其误差项).

A footprint, a comparison or a review that reuses an account's activity data (coal burned, electricity bought,
product made) must keep the correlations the account knows: the meter that weighed the methanol also moved the
carbon-balance emissions. :func:`activity_items` gives every activity datum of an :class:`Account` with
``∂amount/∂δ_k`` for the relative terms of the instruments that measured it; :meth:`Account.term_sensitivities`
gives the same for emissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._account import Account

#: term kinds that scale an amount (the meter, or the meter outside its legal state); contents and factors do not
AMOUNT_TERM_KINDS = ("instrument", "legal_state")


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """One activity datum of an account for the year.

    Attributes
    ----------
    stream, item : str
        Source stream and item (the stream itself for fuels and purchases; the material for carbon balances).
    role : str
        ``fuel_combustion``, ``purchased_electricity``, ``purchased_heat``…, or the carbon-balance role
        (``raw_material``, ``product``, ``by_product``, ``waste``).
    amount : float
        Annual amount [unit].
    unit : str
    point : str or None
        Measurement point id.
    sensitivities : dict of str to float
        ∂amount/∂δ_k [unit] for each relative term δ_k of the account that scales the amount (its instruments).
    """

    stream: str
    item: str
    role: str
    amount: float
    unit: str
    point: str | None
    sensitivities: dict[str, float] = field(default_factory=dict)


def _shares(account: Account, stream_parts: list, item: str, amount: float) -> dict[str, float]:
    parts = [p for p in stream_parts if p.what == item or p.what.startswith(item + " (")]
    weights = [abs(float(p.values.sum())) for p in parts]
    total = sum(weights)
    out: dict[str, float] = {}
    for p, w in zip(parts, weights, strict=True):
        share = w / total if total > 0 else 1.0 / len(parts)
        for k in p.terms:
            t = account.terms.get(k)
            if t is not None and t.kind in AMOUNT_TERM_KINDS:
                out[k] = out.get(k, 0.0) + amount * share
    return out


def activity_items(account: Account) -> list[ActivityItem]:
    """Every activity datum of ``account`` with the sensitivities of its amount to the account's terms.

    The part of an item measured in a period by an instrument is weighted by the item's emission contribution in
    those periods (a split at a change of legal state or instrument); an item contributing nothing (carbon-free)
    splits evenly. Substitution noises are not carried (they are independent and small against the meter terms).
    """
    out: list[ActivityItem] = []
    for s in account.streams:
        if s.kind == "carbon_balance":
            for name, it in (s.activity.get("items") or {}).items():
                amount = float(it.get("amount", 0.0))
                out.append(ActivityItem(s.name, name, str(it.get("role", "")), amount, str(it.get("unit", "")),
                                        it.get("point"), _shares(account, s.parts, name, amount)))
        elif "value" in s.activity:
            amount = float(s.activity["value"])
            out.append(ActivityItem(s.name, s.name, s.kind, amount, str(s.activity.get("unit", "")),
                                    s.activity.get("point"), _shares(account, s.parts, s.name, amount)))
    return out
