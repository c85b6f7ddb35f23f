"""aws-chunked request bodies: a pure decoder (feed bytes, pull events) and the
chunk-signature chain of SigV4 streaming uploads.

Framing::

    hex-size[;chunk-signature=<64 hex>]\\r\\n <data> \\r\\n ... 0[;chunk-signature=...]\\r\\n
    [name:value\\r\\n ...] [x-amz-trailer-signature:<64 hex>\\r\\n] \\r\\n
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from objectstore.s3.errors import S3Error
from objectstore.s3.sigv4 import EMPTY_SHA256

MAX_LINE = 4096
_HEX = re.compile(rb"[0-9a-fA-F]+")
MAX_TRAILER = 16 * 1024


@dataclass(frozen=True, slots=True)
class Data:
    data: bytes


@dataclass(frozen=True, slots=True)
class ChunkEnd:
    """One chunk's data is complete; ``signature`` is what its header carried."""

    size: int
    signature: str | None


@dataclass(frozen=True, slots=True)
class Trailers:
    headers: tuple[tuple[str, str], ...]
    signature: str | None
    raw: bytes  # the trailer lines as signed ("name:value\n" each)


@dataclass(frozen=True, slots=True)
class End:
    pass


Event = Data | ChunkEnd | Trailers | End


def _bad(msg: str = "Malformed aws-chunked body") -> S3Error:
    return S3Error("IncompleteBody", msg)


class Decoder:
    """Feed raw body bytes; get events. Any split of the input gives the same events."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._state = "header"  # header | data | data-crlf | trailer | done
        self._remaining = 0
        self._size = 0
        self._sig: str | None = None
        self._trailer_lines: list[bytes] = []
        self._trailer_bytes = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[Event]:
        if self._state == "done":
            if data:
                raise _bad("Data after the end of an aws-chunked body")
            return []
        self._buf += data
        events: list[Event] = []
        while True:
            ev = self._step()
            if ev is None:
                return events
            if isinstance(ev, list):
                events.extend(ev)
            else:
                events.append(ev)
            if self._state == "done":
                if self._buf:
                    raise _bad("Data after the end of an aws-chunked body")
                return events

    def close(self) -> None:
        if self._state != "done":
            raise _bad("The aws-chunked body ended early")

    def _line(self) -> bytes | None:
        idx = self._buf.find(b"\r\n")
        if idx < 0:
            if len(self._buf) > MAX_LINE:
                raise _bad("aws-chunked line too long")
            return None
        if idx > MAX_LINE:
            raise _bad("aws-chunked line too long")
        line = bytes(self._buf[:idx])
        del self._buf[: idx + 2]
        return line

    def _step(self) -> Event | list[Event] | None:
        if self._state == "header":
            line = self._line()
            if line is None:
                return None
            size_text, _, ext = line.partition(b";")
            size_text = size_text.strip()
            if not _HEX.fullmatch(size_text) or len(size_text) > 16:
                raise _bad("Invalid aws-chunked chunk size")
            size = int(size_text, 16)
            sig = None
            if ext:
                name, _, value = ext.partition(b"=")
                if name.strip() != b"chunk-signature":
                    raise _bad("Invalid aws-chunked chunk extension")
                sig = value.strip().decode("ascii", "replace")
            self._size, self._remaining, self._sig = size, size, sig
            if size == 0:
                self._state = "trailer"
                return ChunkEnd(0, sig)
            self._state = "data"
            return self._step()
        if self._state == "data":
            if not self._buf:
                return None
            n = min(self._remaining, len(self._buf))
            piece = bytes(self._buf[:n])
            del self._buf[:n]
            self._remaining -= n
            if self._remaining == 0:
                self._state = "data-crlf"
            return Data(piece)
        if self._state == "data-crlf":
            if len(self._buf) < 2:
                return None
            if self._buf[:2] != b"\r\n":
                raise _bad("aws-chunked chunk is not followed by CRLF")
            del self._buf[:2]
            self._state = "header"
            return ChunkEnd(self._size, self._sig)
        if self._state == "trailer":
            line = self._line()
            if line is None:
                return None
            if line == b"":
                self._state = "done"
                return self._trailers()
            self._trailer_bytes += len(line)
            if self._trailer_bytes > MAX_TRAILER:
                raise _bad("aws-chunked trailer too long")
            self._trailer_lines.append(line)
            return self._step()
        return None

    def _trailers(self) -> list[Event]:
        headers: list[tuple[str, str]] = []
        signature = None
        raw = b""
        for line in self._trailer_lines:
            name, sep, value = line.partition(b":")
            if not sep:
                raise _bad("Malformed aws-chunked trailer")
            n = name.strip().decode("ascii", "replace").lower()
            v = value.strip().decode("ascii", "replace")
            if n == "x-amz-trailer-signature":
                signature = v
            else:
                headers.append((n, v))
                raw += f"{n}:{v}\n".encode()
        return [Trailers(tuple(headers), signature, raw), End()]


class ChunkChain:
    """Checks the signature of each chunk (and the trailer) against the seed signature."""

    def __init__(self, key: bytes, amz_date: str, scope: str, seed: str) -> None:
        self._key = key
        self._date = amz_date
        self._scope = scope
        self._prev = seed

    def _sign(self, sts: str) -> str:
        return hmac.new(self._key, sts.encode(), hashlib.sha256).hexdigest()

    def chunk(self, data_sha256: str, provided: str | None) -> None:
        sts = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", self._date, self._scope, self._prev,
                         EMPTY_SHA256, data_sha256))
        expected = self._sign(sts)
        if not _same(expected, provided):
            raise S3Error("SignatureDoesNotMatch")
        self._prev = expected

    def trailer(self, raw: bytes, provided: str | None) -> None:
        sts = "\n".join(("AWS4-HMAC-SHA256-TRAILER", self._date, self._scope, self._prev,
                         hashlib.sha256(raw).hexdigest()))
        expected = self._sign(sts)
        if not _same(expected, provided):
            raise S3Error("SignatureDoesNotMatch")
        self._prev = expected


def _same(expected: str, provided: str | None) -> bool:
    if provided is None:
        return False
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace"))
