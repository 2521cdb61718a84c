"""A coal-to-methanol product system small enough to solve by hand (the arithmetic is in ``test_engine.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from carbonmet.footprint import ProductSystem, Spread

# Properties of the two outputs of gasification, per kg: mass [kg], lower heating value [MJ], price [CNY]
METHANOL = {"mass": 1.0, "energy": 19.9, "price": 2.4}
LNG = {"mass": 1.0, "energy": 50.0, "price": 4.0}


def methanol_system(sigma: float = 0.0, capture: bool = True) -> ProductSystem:
    """mining ⇄ grid loop (coal needs electricity, electricity needs coal), gasification with an LNG co-product
    that avoids LNG from a separate supply; GWP100 from IPCC AR6 (CH4 27.9)."""
    u = Spread.lognormal(sigma) if sigma else None  # the same lognormal sigma on every exchange
    ps = ProductSystem(gwp_set="AR6")
    ps.add_activity("coal mining", "coal", stage="mining")
    ps.add_input("coal mining", "electricity", 0.04, u)  # kWh per kg coal
    ps.add_emission("coal mining", "CO2", 0.01, u)
    ps.add_emission("coal mining", "CH4", 0.002, u)  # coal-mine methane, kg per kg coal
    ps.add_activity("power grid", "electricity", stage="grid")
    ps.add_input("power grid", "coal", 0.5, u)  # kg coal per kWh
    ps.add_emission("power grid", "CO2", 1.0, u)
    ps.add_activity("gasification", "methanol", stage="gasification", properties=METHANOL)
    ps.add_coproduct("gasification", "LNG (co-product)", 0.25, properties=LNG, avoids="LNG")
    ps.add_input("gasification", "coal", 1.5, u)
    ps.add_input("gasification", "electricity", 0.5, u)
    ps.add_emission("gasification", "CO2", 2.0, u)  # vented
    if capture:
        ps.add_capture("gasification", 0.5, u)  # captured at the Rectisol vent
    ps.add_activity("LNG supply", "LNG", stage="lng")
    ps.add_emission("LNG supply", "CO2", 0.6, u)
    return ps


@pytest.fixture
def system() -> ProductSystem:
    return methanol_system()


@pytest.fixture
def make_system() -> Callable[..., ProductSystem]:
    return methanol_system
