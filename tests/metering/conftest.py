"""Shared fixtures of the metering tests: a small catalog built in code, the local MQTT broker."""

from __future__ import annotations

import socket
from datetime import date

import pytest

from carbonmet.sites import Catalog, InstrumentPeriod, PointInfo


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(
        {
            "E01.COAL": PointInfo(
                "E01.COAL", "E01", "t", "total", quantity="mass", carrier="raw_coal",
                instruments=(InstrumentPeriod("BS-1", "BS-1", date(2024, 1, 1), None, 0, 2000, "t/h", 0.5,
                                              (("JL-2024-001", date(2024, 6, 1), date(2025, 6, 1)),)),),
            ),
            "E01.GAS": PointInfo(
                "E01.GAS", "E01", "Nm3/h", "rate", quantity="normal_volume_flow", carrier="natural_gas",
                instruments=(
                    InstrumentPeriod("FM-1", "FM-1", date(2024, 1, 1), date(2025, 3, 1), 0, 5000, "Nm3/h", 1.0,
                                     (("JZ-2024-017", date(2024, 1, 1), date(2025, 1, 1)),)),
                    InstrumentPeriod("FM-2", "FM-2", date(2025, 3, 1), None, 0, 8000, "Nm3/h", 1.5),
                ),
            ),
            "E02.CO2": PointInfo("E02.CO2", "E02", "percent", "rate", quantity="concentration", carrier="flue_gas"),
            "E02.BATCH": PointInfo("E02.BATCH", "E02", "t", "interval", quantity="mass", carrier="fuel_coal"),
        }
    )


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """The local Mosquitto broker (127.0.0.1:1883) as ``(host, port)``; the test is skipped when it does not
    answer (``.ci/run`` starts it)."""
    broker = ("127.0.0.1", 1883)
    try:
        with socket.create_connection(broker, timeout=1):
            return broker
    except OSError:
        pytest.skip("Mosquitto at 127.0.0.1:1883 not reachable")
