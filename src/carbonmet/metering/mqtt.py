"""Readings over MQTT (MQTT 接入): the listener and the payload scheme.

:class:`MqttListener` subscribes and ingests into a :class:`carbonmet.metering.Store`;
:func:`parse_payload` / :func:`reading_payload` read and write the JSON payload of one reading
(:class:`PayloadError` when it is bad); :func:`ingest_messages` stores a batch of received
:class:`Incoming` messages (what the listener does per batch, usable without a broker).
"""

from ._mqtt import Incoming, MqttListener, PayloadError, ingest_messages, parse_payload, reading_payload

__all__ = [
    "Incoming",
    "MqttListener",
    "PayloadError",
    "ingest_messages",
    "parse_payload",
    "reading_payload",
]
