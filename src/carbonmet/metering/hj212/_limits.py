"""The limits and timeouts of the HJ 212 server, in one frozen object (服务端限值与超时).

Two kinds:

- Protection against one client knocking the server over (review finding 9): connections open at once,
  idle and frame timeouts, rejected bytes, split-message caps. These are the platform's own choices; the
  standard sets none of them.
- Requests to loggers (clause 6.2): the answer timeout and resends (6.2.1) and the execution timeout
  (6.2.2). Their defaults are Table 1 (缺省超时及重发次数定义表, timeouts.csv) for a mobile link (GPRS …
  FDD-LTE: 10 s, 3 resends), how CEMS loggers usually connect; :meth:`ServerLimits.for_link` takes
  another row (e.g. ADSL: 5 s).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ._reassembly import MAX_HELD_BYTES, MAX_PARTS
from ._requests import REQUEST_RETRIES, REQUEST_TIMEOUT
from ._tables import default_timeouts

#: Default limits (platform choices; see :class:`ServerLimits`).
MAX_CONNECTIONS = 512
IDLE_TIMEOUT = 900.0
FRAME_TIMEOUT = 60.0
MAX_BAD_BYTES = 64 * 1024
REJECT_WINDOW = 5.0
REJECT_FLUSH_BYTES = 64 * 1024
READ_SIZE = 65536
MAX_AUTH_FAILURES = 3


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Limits and timeouts of :class:`HJ212Server` (``start_server(..., limits=ServerLimits(...))``).

    Attributes
    ----------
    idle_timeout : float
        Close a connection that sends nothing for this long [s].
    read_size : int
        Bytes read from a socket at a time [bytes].
    max_connections : int
        Connections open at once; one more is closed on accept (``stats.refused``).
    frame_timeout : float
        A frame begun (``##`` received) must be complete within this time [s], or its bytes go to
        ``reject`` and the connection is closed.
    max_bad_bytes : int
        Close a connection after this many rejected bytes without a good frame between them [bytes].
    reject_window : float
        Rejected pieces of one connection within this time go to ``reject`` as one call [s]
        (0: each on its own).
    reject_flush_bytes : int
        ... or as soon as this many bytes of them have gathered [bytes].
    max_parts : int
        Per connection: parts held for one split message (:class:`Reassembler`).
    max_held_bytes : int
        Per connection: frame bytes held in open split messages [bytes].
    request_timeout : float
        Requests to loggers: wait for the 9011 request answer [s] (HJ 212-2017 6.2.1; Table 1: 10 s).
    request_retries : int
        Resends of a request after ``request_timeout`` (6.2.1; Table 1: 3).
    exec_timeout : float
        After the 9011, the longest wait for each data packet and the 9012 [s] (6.2.2; Table 1: 10 s).
    max_auth_failures : int
        Close a connection after this many packets whose PW was refused (``check_password``).
    backfill_hours : float
        If > 0: when a logger connects, request once the history periods of the last ``backfill_hours``
        [h] that its points miss in the store (补传; needs ``stored_times``).

    Raises
    ------
    ValueError
        A limit out of range, naming the field.
    """

    idle_timeout: float = IDLE_TIMEOUT
    read_size: int = READ_SIZE
    max_connections: int = MAX_CONNECTIONS
    frame_timeout: float = FRAME_TIMEOUT
    max_bad_bytes: int = MAX_BAD_BYTES
    reject_window: float = REJECT_WINDOW
    reject_flush_bytes: int = REJECT_FLUSH_BYTES
    max_parts: int = MAX_PARTS
    max_held_bytes: int = MAX_HELD_BYTES
    request_timeout: float = REQUEST_TIMEOUT
    request_retries: int = REQUEST_RETRIES
    exec_timeout: float = REQUEST_TIMEOUT
    backfill_hours: float = 0.0
    max_auth_failures: int = MAX_AUTH_FAILURES

    def __post_init__(self) -> None:
        positive = ("idle_timeout", "read_size", "max_connections", "frame_timeout", "max_bad_bytes", "max_parts",
                    "max_held_bytes", "request_timeout", "exec_timeout", "max_auth_failures")
        at_least_zero = ("reject_window", "reject_flush_bytes", "request_retries", "backfill_hours")
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int | float) or isinstance(v, bool) or math.isnan(v):
                raise ValueError(f"ServerLimits.{f.name}: 需要数值 needs a number, got {v!r}")
            if f.name in positive and not v > 0:
                raise ValueError(f"ServerLimits.{f.name}: 须大于 0 must be > 0, got {v!r}")
            if f.name in at_least_zero and v < 0:
                raise ValueError(f"ServerLimits.{f.name}: 不能为负 must be ≥ 0, got {v!r}")

    @classmethod
    def for_link(cls, link: str, **changes: Any) -> ServerLimits:
        """Limits with the Table 1 timeout and resends of a link type (clause 6.2) for requests to loggers.

        Parameters
        ----------
        link : str
            A row of Table 1 (timeouts.csv): GPRS, CDMA, ADSL, WCDMA, TD-SCDMA, CDMA2000, TD-LTE, FDD-LTE … .
        **changes
            Other fields, as for the constructor.

        Raises
        ------
        ValueError
            ``link`` is not in Table 1.
        """
        table = default_timeouts()
        if link not in table:
            raise ValueError(f"链路类型 link {link!r} not in HJ 212-2017 Table 1 (one of {', '.join(table)})")
        timeout, retries = table[link]
        fields: dict[str, Any] = {"request_timeout": timeout, "request_retries": retries, "exec_timeout": timeout}
        fields.update(changes)
        return cls(**fields)

    def replace(self, **changes: Any) -> ServerLimits:
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)
