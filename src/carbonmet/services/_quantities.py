"""Measured quantities as use cases: an instrument's certificate, a type A mean, and a measurement
model evaluated over measured quantities (计量结果与不确定度评定).

A certificate becomes a standard uncertainty in one place (:func:`carbonmet.quantities.from_certificate`,
reached through :func:`carbonmet.registry.instrument_uncertainty`); a measured quantity enters a
model through :meth:`carbonmet.uncertainty.InputSet.add_quantity`, so no caller builds a
distribution by hand from ``value`` and ``u``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select

from ._deps import (
    Evaluation,
    InputSet,
    Instrument,
    MeasuredQuantity,
    Model,
    Organisation,
    Provenance,
    Source,
    evaluate,
    from_type_a,
    instrument_uncertainty,
)
from ._errors import NotInScope
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


@use_case("read")
def instrument_quantity(
    ws: Workspace, scope: Scope, instrument: str, on: date, *, value: float = 0.0, unit: str = "%", name: str = ""
) -> MeasuredQuantity:
    """A value measured with an instrument on a day, with the u its covering certificate gives.

    See :func:`carbonmet.registry.instrument_uncertainty`: calibration → U/k (normal), verification
    → MPE/√3 (rectangular); no covering certificate, or an instrument under mandatory verification
    (强制检定) holding only calibrations → ``u`` nan with a note, never zero. With the defaults the
    result is the instrument's error in % of its indication (value 0).

    The instrument (registry id, or serial among the readable instruments) must belong to an
    organisation in the read scope; otherwise :class:`NotInScope`, as for one that does not exist.
    """
    with ws.session() as s:
        stmt = scope.where(
            select(Instrument.code).join(Organisation, Organisation.id == Instrument.org_id)
            .where((Instrument.code == instrument) | (Instrument.serial == instrument)),
            Organisation.code,
        )
        codes = list(s.scalars(stmt))
        hit = [c for c in codes if c == instrument] or codes
        if len(hit) != 1:
            raise NotInScope("instrument 计量器具", instrument)
        return instrument_uncertainty(s, hit[0], on, value=value, unit=unit, name=name)


@use_case("none")
def type_a_quantity(
    ws: Workspace,
    scope: Scope,
    values: Sequence[float],
    unit: str,
    *,
    name: str = "",
    instruments: Sequence[str] = (),
    period: tuple[datetime, datetime] | None = None,
    method: str = "",
) -> MeasuredQuantity:
    """The mean of repeated indications as a measured quantity, by type A evaluation (A 类评定).

    value = x̄, u = s/√n, ν = n − 1, t distribution (GUM §4.2.3 / JJF 1059.1-2012 §4.2; JCGM 101
    §6.4.9); :func:`carbonmet.quantities.from_type_a`. It works on the caller's numbers and reads
    no organisation's records.

    Parameters
    ----------
    values : sequence of float
        The n ≥ 2 indications (e.g. lab results of lot samples), in ``unit``.
    unit : str
        Unit of the indications.
    name : str
        Short id of the quantity.
    instruments, period, method : optional
        Provenance: the instruments that produced the values, the data period and the method.

    Raises
    ------
    carbonmet.quantities.QuantityError
        Fewer than two values, or a value that is not finite (naming its position).
    """
    n = len(values)
    prov = Provenance(source=Source.MEASURED, instruments=tuple(instruments), period=period,
                      method=method or f"type A mean of {n} indications (A 类评定, s/√n)")
    return from_type_a(values, unit, name=name, provenance=prov)


@use_case("none")
def evaluate_quantities(
    ws: Workspace,
    scope: Scope,
    expression: str,
    quantities: Mapping[str, MeasuredQuantity],
    *,
    output: str,
    unit: str,
    method: Literal["lpu", "mcm", "both"] = "both",
    **options: Any,
) -> Evaluation:
    """Evaluate ``output = expression`` over measured quantities, by GUM LPU and/or Monte Carlo.

    Each quantity enters through :meth:`carbonmet.uncertainty.InputSet.add_quantity`: its
    distribution follows from its u and shape (normal for U/k, rectangular for MPE/√3, t for a
    type A mean), and its provenance is carried into the budget (``BudgetRow.provenance``). A
    quantity whose u is not evaluated (nan) is refused, never taken as zero. The units are checked
    once with pint (:meth:`carbonmet.uncertainty.Model.check_units`): carbon becomes CO₂ only
    through ``CO2_PER_C`` in the expression.

    Parameters
    ----------
    expression : str
        Arithmetic over the quantity names (the expression language of carbonmet.uncertainty).
    quantities : mapping of str to MeasuredQuantity
        Input name → quantity.
    output, unit : str
        Name and unit of the output.
    method : {"lpu", "mcm", "both"}
    **options
        Those of :func:`carbonmet.uncertainty.evaluate` (``trials``, ``coverage``, ``seed``, …).

    Raises
    ------
    carbonmet.uncertainty.ModelError
        A quantity with u not evaluated, a unit that does not fit, an unknown name.

    References
    ----------
    JCGM 100:2008 §5 (LPU); JCGM 101:2008 §7 (MCM) and §8 (validation).
    """
    inputs = InputSet()
    for name, q in quantities.items():
        inputs.add_quantity(name, q)
    model = Model.from_expression(expression, inputs, output=output, unit=unit, check_units=True)
    return evaluate(model, method, **options)
