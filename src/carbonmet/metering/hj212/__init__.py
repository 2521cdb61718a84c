"""HJ 212-2017 data transmission (污染物在线监控（监测）系统数据传输标准): codec, mapping and TCP server.

What users call:

- :func:`decode` / :func:`encode`: frames ``##LLLL…CCCC\\r\\n`` ↔ :class:`Packet` (byte-identical round
  trip); :func:`build` a packet from header and CP, :func:`split` it (Flag bit D), :func:`answers_for`
  (the 9011/9012/9013/9014 answers a packet asks for).
- :class:`Framer` (byte stream → frames), :class:`Message` (one packet or the parts of a split one).
- :func:`build_point_map` (:class:`PointMap`), :func:`to_raw_readings`: packets →
  :class:`~carbonmet.metering.RawReading` of the registry's measurement points.
- :func:`start_server`, :func:`serve` → :class:`HJ212Server`: asyncio TCP server answering only after the
  sink has the data, with :class:`ServerLimits` (limits, timeouts; Table 1 defaults) and
  :class:`ServerStats`; :func:`store_sink` puts what it receives into a readings
  :class:`~carbonmet.metering.Store` (any :class:`IngestTarget`), :func:`store_times` tells it what the
  store holds (for gap recovery, ``backfill_hours``).
- :meth:`HJ212Server.request` (and ``request_history``, ``request_realtime``, ``backfill``): requests to a
  connected logger following clause 6.1 with the timeouts and resends of 6.2 → :class:`RequestResult`,
  :class:`BackfillReport`.
- Errors: :class:`HJ212Error`, :class:`DecodeError` (every rejection, with a reason), :class:`RequestError`.

Public submodules, importable by name:

- :mod:`~carbonmet.metering.hj212.codes`: the protocol tables (CSV files beside this module, each naming
  its clause of the standard) and constants (``CHINA_TZ``, ``FLAG_ACK``, ``MAX_DATA_LEN``, Table 1 timeouts …).
- :mod:`~carbonmet.metering.hj212.protocol`: packet-level pieces (answers, data segment, CRC16, times,
  request packets, :class:`~carbonmet.metering.hj212.protocol.Reassembler`, ``parse_hj212_code``).
- :mod:`~carbonmet.metering.hj212.gaps`: gap recovery (补传) planning as history requests.
- :mod:`~carbonmet.metering.hj212.errors`: every error class.
- :mod:`~carbonmet.metering.hj212.policy`: the acceptance policy (HJ 212 as deployed): :func:`assess` a frame →
  every deviation from HJ 212-2017 by its code (deviations.csv; HJ 212-2025 as far as known, profile_2025.csv);
  :class:`AcceptancePolicy` per logger (``flag`` accept-and-flag, the default, or ``strict``) read with
  :func:`load_policy`; the server takes it as ``policy=``.
"""

from ._codec import Packet, answers_for, build, decode, encode, split
from ._errors import DecodeError, HJ212Error, RequestError
from ._framing import Framer
from ._gaps import store_times
from ._limits import ServerLimits
from ._mapping import PointMap, build_point_map, to_raw_readings
from ._reassembly import Message
from ._requester import BackfillReport
from ._requests import RequestResult
from ._server import HJ212Server, ServerStats, Sink, serve, start_server
from ._sink import IngestTarget, store_sink

__all__ = [
    "BackfillReport",
    "DecodeError",
    "Framer",
    "HJ212Error",
    "HJ212Server",
    "IngestTarget",
    "Message",
    "Packet",
    "PointMap",
    "RequestError",
    "RequestResult",
    "ServerLimits",
    "ServerStats",
    "Sink",
    "answers_for",
    "build",
    "build_point_map",
    "decode",
    "encode",
    "serve",
    "split",
    "start_server",
    "store_sink",
    "store_times",
    "to_raw_readings",
]
