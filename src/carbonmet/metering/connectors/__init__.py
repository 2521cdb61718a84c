"""Connectors: one documented way to add a source of readings (数据接口); docs/connectors.md.

A connector turns what its transport delivers into :class:`Record` objects (raw readings, the source id and an
idempotency key) and hands them to :meth:`Intake.submit`; the platform validates, stores or quarantines,
makes the batch durable, and counts, and only then may the connector acknowledge to its source.

Public API
----------
Interface
    :class:`Connector` (``source``, ``async run(intake, stop)``), :class:`Record`, :class:`Intake`,
    :func:`run_connector`, :class:`ConnectorError`.
Connectors
    :class:`OpcUaConnector` (plant historians and DCS: OPC UA history read from a committed cursor;
    :class:`OpcUaNode`, :func:`read_opcua_nodes`), :class:`ModbusPoller` (meters over Modbus TCP;
    :class:`Register`, :func:`read_register_map`), and the transports that came before:
    :class:`FileConnector`, :class:`HJ212Connector`, :class:`MqttConnector`.
"""

from ._base import Connector, ConnectorError, Intake, Record, reconnecting, run_connector, wait_or_stop
from ._builtin import FileConnector, HJ212Connector, MqttConnector
from ._modbus import ModbusPoller, Register, read_register_map
from ._opcua import OpcUaConnector, OpcUaNode, read_opcua_nodes

__all__ = [
    "Connector",
    "ConnectorError",
    "FileConnector",
    "HJ212Connector",
    "Intake",
    "ModbusPoller",
    "MqttConnector",
    "OpcUaConnector",
    "OpcUaNode",
    "Record",
    "Register",
    "read_opcua_nodes",
    "read_register_map",
    "reconnecting",
    "run_connector",
    "wait_or_stop",
]
