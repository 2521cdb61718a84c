"""Readings over MQTT (MQTT 接入): the listener and the payload scheme.

:class:`MqttListener` subscribes and ingests into a :class:`carbonmet.metering.Store`;
:func:`parse_payload` / :func:`reading_payload` read and write the JSON payload of one reading
(:class:`PayloadError` when it is bad); :func:`ingest_messages` stores a batch of received
:class:`Incoming` messages (what the listener does per batch, usable without a broker). Quarantine reasons of this reader:
:data:`MSG_ID_CONFLICT` (new content under a used ``msg_id``), :data:`TOPIC_ACL` (the topic's
enterprise, :func:`topic_enterprise`, does not own the point); :class:`BrokerRefused` when the
broker refuses the listener's credentials or, with TLS, its certificate does not verify against the CA given.
"""

from ._mqtt import (
    MSG_ID_CONFLICT,
    TOPIC_ACL,
    BrokerRefused,
    Incoming,
    MqttListener,
    PayloadError,
    ingest_messages,
    parse_payload,
    reading_payload,
    topic_enterprise,
)

__all__ = [
    "MSG_ID_CONFLICT",
    "TOPIC_ACL",
    "BrokerRefused",
    "Incoming",
    "MqttListener",
    "PayloadError",
    "ingest_messages",
    "parse_payload",
    "reading_payload",
    "topic_enterprise",
]
