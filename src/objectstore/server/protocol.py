"""uvicorn's httptools protocol with limits: the request head's size, URL length and header
count, head-read / idle / body-progress timeouts, and a cap on open connections.

These live in the HTTP layer because the ASGI app sees nothing until a head is complete:
a client sending an endless header, or nothing at all, never reaches it.

- Bytes fed to the parser while a head is incomplete are counted as they arrive (a data
  chunk that would cross the cap is fed only up to it), so a head over ``max_head_bytes``
  is refused once the cap is crossed, never buffered whole: 400
  ``RequestHeaderSectionTooLarge``, then the connection closes. Header count and URL length
  are checked when the head is complete (the byte cap bounds them until then). The hot path
  is a few comparisons and one subtraction per data chunk, and an integer add per phase;
  no clock is read per request (bench/protocol_overhead.py measures about 1 µs of CPU).
- One timer per process (a "sweeper", ticking a few times per timeout) walks the open
  connections: each counts its state changes (phase, body chunks, drained writes) and the
  sweeper notes the time when the count moved. It closes those whose state lasted too
  long: a fresh connection that has sent
  nothing (``idle_timeout``; uvicorn's own keep-alive timer covers the time after a
  response), a head not complete ``head_timeout`` seconds after its first byte, and a body
  that made no progress for ``body_timeout`` seconds while the app was waiting for it
  (400 ``RequestTimeout`` when no response has started), and an answer the client has not
  read from for ``body_timeout`` seconds (its write buffer stays full: aborted).
- Beyond ``max_connections`` open connections, a new one is answered 503 ``SlowDown`` and
  closed at once, so the process keeps file descriptors for the connections it serves and
  for its data files.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import secrets
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from objectstore.config import Settings
from objectstore.s3 import xml
from objectstore.s3.errors import ERRORS

log = logging.getLogger("objectstore.http")
_Base = HttpToolsProtocol  # called directly on the per-request path: cheaper than super()

FD_RESERVE = 64  # descriptors kept for the database, logs and listening sockets

# Phases of a connection, as the sweeper sees them. After a request's head, BODY lasts
# until the next request's first bytes; what the connection waits for in it (more body,
# the app's answer, the client reading the answer, the next request) is told by the cycle.
FRESH = 0  # accepted, nothing received yet
HEAD = 1  # a request head has started arriving
BODY = 2  # head complete
DONE = 3  # refused or timed out: closing


@dataclass(frozen=True, slots=True)
class Limits:
    max_head_bytes: int = Settings.max_head_bytes
    max_url_bytes: int = Settings.max_url_bytes
    max_headers: int = Settings.max_headers
    head_timeout: float = Settings.head_timeout
    idle_timeout: float = Settings.idle_timeout
    body_timeout: float = Settings.body_timeout
    max_connections: int = Settings.max_connections

    @staticmethod
    def from_settings(s: Settings) -> Limits:
        return Limits(s.max_head_bytes, s.max_url_bytes, s.max_headers, s.head_timeout,
                      s.idle_timeout, s.body_timeout, connection_cap(s.max_connections))

    @property
    def tick(self) -> float:
        """How often the sweeper looks: often enough to close within ~1/4 of a timeout."""
        shortest = min(self.head_timeout, self.idle_timeout, self.body_timeout)
        return max(0.05, min(1.0, shortest / 4))


def connection_cap(configured: int) -> int:
    """``configured``, or (0) half the descriptors RLIMIT_NOFILE leaves after a reserve
    (a connection may hold a blob file open besides its socket), at most 4096."""
    if configured > 0:
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, (soft - FD_RESERVE) // 2))


def _limits_for(config: Config) -> Limits:
    """The limits of the app uvicorn serves (the App carries its Settings), once per Config."""
    found: Limits | None = getattr(config, "_objectstore_limits", None)
    if found is None:
        app: Any = config.loaded_app
        while app is not None and not hasattr(app, "settings") and hasattr(app, "app"):
            app = app.app  # uvicorn's wrapping middleware, if any
        settings = getattr(app, "settings", None)
        if not isinstance(settings, Settings):
            settings = Settings()  # an app that is not ours (tests): the defaults
        found = Limits.from_settings(settings)
        config._objectstore_limits = found  # type: ignore[attr-defined]
    return found


def error_response(code: str, *, close: bool = True) -> bytes:
    """A whole S3 error response, for answers the protocol gives without the app."""
    status, message = ERRORS[code]
    body = xml.error(code, message, {}, secrets.token_hex(8).upper(), "")
    head = [STATUS_LINE[status], b"content-type: application/xml\r\n",
            b"content-length: %d\r\n" % len(body), b"server: objectstore\r\n"]
    if close:
        head.append(b"connection: close\r\n")
    return b"".join(head) + b"\r\n" + body


_refusals: list[float] = [-1e9, 0]  # time of the last cap warning, refusals since


class HeadTooLarge(Exception):
    """Raised in a parser callback; the parser turns it into HttpParserCallbackError."""


class _Sweeper:
    """One per server: closes connections whose current phase outlasted its timeout."""

    def __init__(self, loop: asyncio.AbstractEventLoop, state: ServerState, limits: Limits):
        self.loop = loop
        self.state = state
        self.limits = limits
        self.handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self.handle is None:
            self.handle = self.loop.call_later(self.limits.tick, self.sweep)

    def sweep(self) -> None:
        self.handle = None
        now = self.loop.time()
        for conn in list(self.state.connections):
            if isinstance(conn, LimitedHttpToolsProtocol):
                conn.check_timeouts(now)
        if self.state.connections:
            self.start()


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = _limits_for(config)
        self.limits = limits
        self._head_max = limits.max_head_bytes
        self._room = limits.max_head_bytes  # head bytes still allowed
        self._in_head = True
        self._phase = FRESH
        self._gen = 0  # moves with every phase change and body chunk: what the sweeper
        self._seen = -1  # ... compares with what it saw (``_seen``) since ``_since``
        self._since = 0.0
        self._head_error: HeadTooLarge | None = None
        sweeper: _Sweeper | None = getattr(server_state, "_objectstore_sweeper", None)
        if sweeper is None:
            sweeper = _Sweeper(self.loop, server_state, limits)
            server_state._objectstore_sweeper = sweeper  # type: ignore[attr-defined]
        self._sweeper = sweeper

    # ----------------------------------------------------------------- connections
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self.transport = transport
            self._phase = DONE
            now = self.loop.time()
            if now - _refusals[0] >= 10.0:  # at most one warning per 10 s
                log.warning("connection cap (%d) reached: new connections refused (%d since "
                            "the last warning)", self.limits.max_connections, _refusals[1] + 1)
                _refusals[:] = [now, -1]
            _refusals[1] += 1
            transport.write(error_response("SlowDown"))
            transport.close()
            return
        super().connection_made(transport)
        self._sweeper.start()

    def data_received(self, data: bytes) -> None:
        n = len(data)
        if self._phase != HEAD and (self.cycle is None or not self.cycle.more_body):
            # the first bytes on the connection, or after a whole request: a head starts
            self._phase = HEAD
            self._gen += 1
            self._in_head = True
            self._room = self._head_max
        if n <= self._room:  # the common case: a head, or body chunks below the cap
            self._room -= n
            _Base.data_received(self, data)
            return
        if not self._in_head:
            # Body bytes are not limited here; on_body renews the allowance, so what is
            # limited is what the parser takes without progress (chunk trailers, say).
            self._room -= n
            _Base.data_received(self, data)
            if self._room < 0 and not self.transport.is_closing():
                log.warning("request trailer section too large: connection closed")
                self.transport.close()
            return
        room = self._room
        self._room = 0
        _Base.data_received(self, data[:room])
        if self.transport.is_closing():
            return
        if self._in_head and self._room <= 0:
            self._refuse_head()
            return
        self.data_received(data[room:])  # the head ended within the allowance

    def _refuse_head(self) -> None:
        log.info("request head over the limits refused (%s)", self.client)
        self.transport.write(error_response("RequestHeaderSectionTooLarge"))
        self.transport.close()
        self._phase = DONE

    def send_400_response(self, msg: str) -> None:
        if self._head_error is not None:
            self._refuse_head()
            return
        cycle = self.cycle
        if cycle is not None and not cycle.more_body and not cycle.response_complete:
            # Bytes past the end of a whole request still being answered (a body longer
            # than its Content-Length, say) that do not parse as the next request: that
            # request gets its own answer first (S3's), then the connection closes.
            cycle.keep_alive = False
            self.transport.pause_reading()
            return
        # not HTTP (a control character in a header value, a bad method or version...):
        # an S3 error body like every other answer, not uvicorn's plain text
        self.transport.write(error_response("BadRequest"))
        self.transport.close()
        self._phase = DONE

    # ------------------------------------------------------------ parser callbacks
    # The URL and header count are checked once the head is complete: the byte cap bounds
    # them until then, and no per-header callback of ours slows every request.
    def on_headers_complete(self) -> None:
        if len(self.headers) > self.limits.max_headers or \
                len(self.url) > self.limits.max_url_bytes:
            self._head_error = HeadTooLarge()
            raise self._head_error
        self._in_head = False
        self._room = self._head_max  # renewed (pipelined heads without a body follow)
        self._phase = BODY
        self._gen += 1
        _Base.on_headers_complete(self)

    def on_body(self, body: bytes) -> None:
        self._room = self._head_max
        self._gen += 1
        _Base.on_body(self, body)

    def resume_writing(self) -> None:
        self._gen += 1  # the client read some of the answer
        super().resume_writing()

    # ------------------------------------------------------------------- timeouts
    def check_timeouts(self, now: float) -> None:
        """Called by the sweeper: close this connection if what it waits for has taken too
        long (time counts from the first sweep that saw the state, so a timeout is exceeded
        by at most one tick)."""
        phase = self._phase
        if phase == DONE or self.transport is None or self.transport.is_closing():
            return
        if self._gen != self._seen:
            self._seen = self._gen
            self._since = now
            return
        elapsed = now - self._since
        cycle = self.cycle
        if phase == FRESH:
            if elapsed >= self.limits.idle_timeout:
                self.transport.close()
        elif phase == HEAD:
            if cycle is not None and not cycle.response_complete:
                self._since = now  # pipelined: the previous request is still being answered
            elif elapsed >= self.limits.head_timeout:
                log.info("request head not complete within %ss: closed (%s)",
                         self.limits.head_timeout, self.client)
                self._phase = DONE
                self.transport.write(error_response("RequestTimeout"))
                self.transport.close()
        elif cycle is None:
            pass
        elif cycle.more_body and not cycle.response_complete:  # waiting for the body
            if self.flow.read_paused or cycle.waiting_for_100_continue:
                self._since = now  # the app is not asking for more: the client is not at fault
            elif elapsed >= self.limits.body_timeout:
                log.info("request body stalled for %ss: closed (%s)",
                         self.limits.body_timeout, self.client)
                self._phase = DONE
                if not cycle.response_started:
                    self.transport.write(error_response("RequestTimeout"))
                cycle.disconnected = True  # the app's next receive() sees the client gone
                cycle.message_event.set()
                self.transport.close()
        elif not self.flow.write_paused:
            self._since = now  # the app is answering, or the idle keep-alive timer runs
        elif elapsed >= self.limits.body_timeout:  # the client does not read the answer
            log.info("response not read for %ss: connection aborted (%s)",
                     self.limits.body_timeout, self.client)
            self._phase = DONE
            cycle.disconnected = True
            self.transport.abort()
