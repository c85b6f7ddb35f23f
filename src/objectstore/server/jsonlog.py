"""The structured access log: one JSON object per line per request (``--access-log``).

Records are built from what the server shell already knows of the request (its id,
handlers/common.py's Trace, the status and byte counts of its Response), never from its
headers or query: no signature, credential, token or presigned query value can reach it.
A request adds one tuple to a buffer (in the event loop's thread); the buffer is formatted
and written — one ``write`` of whole lines, O_APPEND, so several worker processes can share
a file — at most ``FLUSH_EVERY`` seconds later, at ``FLUSH_RECORDS`` records, and at
shutdown.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from json.encoder import encode_basestring_ascii

FLUSH_EVERY = 0.2  # seconds a record waits in the buffer at most
FLUSH_RECORDS = 256  # ... or until this many are waiting


def quote(v: str | None) -> str:
    """A JSON string (ASCII, escaped) or null."""
    return "null" if v is None else encode_basestring_ascii(v)


_MILLIS = tuple(f".{i:03d}Z" for i in range(1000))


class Clock:
    """ISO 8601 UTC times with milliseconds; the formatted second is reused."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def iso(self, t: float) -> str:
        second, milli = divmod(int(t * 1000), 1000)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return self._text + _MILLIS[milli]


def record_line(clock: Clock, started: float, request_id: str, op: str, method: str,
                bucket: str | None, key: str | None, status: int, error: str | None,
                n_in: int, n_out: int, seconds: float, access_key: str | None,
                remote: str | None, gateway: str, pid: int) -> str:
    """One record: a JSON object on one line, fields in a fixed order. Quoted with JSON
    escapes: what a client chose (bucket, key, access key id). Written as they are: values
    that cannot hold a quote, a backslash or a control character — the request id (hex),
    the operation and S3 error code (identifiers from this code), the method (an HTTP
    token), the address; ``gateway`` comes quoted (``quote``). This runs once per request."""
    q = encode_basestring_ascii
    return (f'{{"time":"{clock.iso(started)}","request_id":"{request_id}",'
            f'"operation":"{op}","method":"{method}",'
            f'"bucket":{"null" if bucket is None else q(bucket)},'
            f'"key":{"null" if key is None else q(key)},"status":{status},'
            f'"error_code":{"null" if error is None else chr(34) + error + chr(34)},'
            f'"bytes_in":{n_in},"bytes_out":{n_out},"duration_ms":{seconds * 1000:.3f},'
            f'"access_key_id":{"null" if access_key is None else q(access_key)},'
            f'"remote_addr":{"null" if remote is None else chr(34) + remote + chr(34)},'
            f'"gateway":{gateway},"pid":{pid}}}\n')


# record_line's arguments from ``started`` to ``remote``
Record = tuple[float, str, str, str, str | None, str | None, int, str | None, int, int, float,
               str | None, str | None]


class JsonLog:
    """Records are kept as tuples while requests run and formatted into lines when the
    buffer is written (FLUSH_EVERY seconds, FLUSH_RECORDS records, shutdown): a request
    pays one tuple and one append."""

    def __init__(self, target: str, gateway: str = "", pid: int = 0) -> None:
        self.target = target
        self._gateway = quote(gateway)
        self._pid = pid
        self._fd = sys.stdout.fileno() if target == "-" else \
            os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        self._records: list[Record] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.clock = Clock()

    def add(self, record: Record) -> None:
        """One request's record (record_line's arguments ``started`` … ``remote``)."""
        records = self._records
        records.append(record)
        if len(records) >= FLUSH_RECORDS:
            self.flush()
        elif self._timer is None:
            loop = self._loop
            if loop is None:
                try:
                    loop = self._loop = asyncio.get_running_loop()
                except RuntimeError:
                    self.flush()
                    return
            self._timer = loop.call_later(FLUSH_EVERY, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._records:
            return
        clock, gateway, pid = self.clock, self._gateway, self._pid
        data = "".join([record_line(clock, *r, gateway, pid) for r in self._records]) \
            .encode("ascii")
        self._records.clear()
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:  # a full disk or a closed pipe never fails requests
            print(f"objectstore: access log write failed: {exc}", file=sys.stderr)

    def close(self) -> None:
        self.flush()
        if self.target != "-":
            os.close(self._fd)
