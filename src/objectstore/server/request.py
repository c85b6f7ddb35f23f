"""The ASGI request as the handlers see it: decoded path, query pairs, headers, body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, MutableMapping
from urllib.parse import unquote

from objectstore.s3.errors import S3Error
from objectstore.s3.routing import Query, parse_query

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_XML_BODY = 2 * 1024 * 1024


class ClientGone(Exception):
    """The client disconnected before sending the whole body."""


@dataclass(slots=True)
class Request:
    method: str
    raw_path: str
    path: str
    raw_query: str
    query: Query
    headers: dict[str, str]
    receive: Receive
    scheme: str = "http"
    client: str = ""  # the peer's address (aws:SourceIp)
    body_consumed: bool = field(default=False)

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @staticmethod
    def from_scope(scope: Scope, receive: Receive) -> Request:
        headers: dict[str, str] = {}
        repeated: dict[str, list[str]] | None = None
        for name, value in scope["headers"]:
            k = name.decode("latin-1").lower()
            v = value.decode("utf-8", "surrogateescape")
            if k in headers:  # joined once below, not once per repetition
                repeated = repeated or {}
                repeated.setdefault(k, [headers[k]]).append(v)
            headers[k] = v
        if repeated:
            for k, values in repeated.items():
                headers[k] = ",".join(values)
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_path = raw_path.split("?", 1)[0]
        try:
            path = unquote(raw_path, errors="strict")
        except UnicodeDecodeError:
            raise S3Error("InvalidURI") from None
        raw_query = scope.get("query_string", b"").decode("latin-1")
        peer = scope.get("client")
        return Request(scope["method"], raw_path, path, raw_query, parse_query(raw_query),
                       headers, receive, scope.get("scheme", "http"), peer[0] if peer else "")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The raw request body as it arrives."""
        self.body_consumed = True
        while True:
            msg = await self.receive()
            if msg["type"] == "http.disconnect":
                raise ClientGone()
            body = msg.get("body", b"")
            if body:
                yield body
            if not msg.get("more_body", False):
                return

    async def read_small(self, limit: int = MAX_XML_BODY) -> bytes:
        """A whole (small, XML) body; MaxMessageLengthExceeded beyond ``limit``."""
        buf = bytearray()
        async for chunk in self.chunks():
            buf += chunk
            if len(buf) > limit:
                raise S3Error("MaxMessageLengthExceeded")
        return bytes(buf)


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes | memoryview] | None = None
    content_length: int | None = None  # for streams and HEAD


def xml_response(body: bytes, status: int = 200,
                 headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("Content-Type", "application/xml"), *(headers or [])], body)
