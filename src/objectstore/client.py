"""A small SigV4-signing HTTP client for the `objectstore image ...` commands.

It streams request and response bodies (bounded memory) and signs with the same pure
SigV4 code the server verifies with.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Iterable, Iterator
from urllib.parse import quote, urlsplit

from objectstore.s3 import sigv4

CHUNK = 1 << 20


class ClientError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        text = body.decode("utf-8", "replace")
        try:
            err = json.loads(text).get("error", {})
            text = f"{err.get('code')}: {err.get('message')}"
        except (ValueError, AttributeError):
            pass
        super().__init__(f"HTTP {status}: {text[:500]}")


@dataclass
class Client:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    ca_bundle: str | None = None
    insecure: bool = False

    def _connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.endpoint)
        host = parts.hostname or "127.0.0.1"
        if parts.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.ca_bundle)
            if self.insecure:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(host, parts.port or 443, context=ctx,
                                               timeout=300)
        return http.client.HTTPConnection(host, parts.port or 80, timeout=300)

    def _host(self) -> str:
        return urlsplit(self.endpoint).netloc

    def signed_headers(self, method: str, path: str, query: list[tuple[str, str]],
                       headers: dict[str, str], payload_hash: str) -> dict[str, str]:
        now = datetime.now(timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        headers = {**{k.lower(): v for k, v in headers.items()}, "host": self._host(),
                   "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
        signed = sorted(headers)
        creq = sigv4.canonical_request(method, path, query, headers, signed, payload_hash)
        scope = f"{amz_date[:8]}/{self.region}/s3/aws4_request"
        sts = sigv4.string_to_sign(amz_date, scope, creq)
        key = sigv4.signing_key(self.secret_key, amz_date[:8], self.region, "s3")
        headers["authorization"] = (f"{sigv4.ALGORITHM} Credential={self.access_key}/{scope}, "
                                    f"SignedHeaders={';'.join(signed)}, "
                                    f"Signature={sigv4.sign(key, sts)}")
        return headers

    def request(self, method: str, path: str, query: list[tuple[str, str]] | None = None,
                body: bytes | IO[bytes] | None = None, length: int | None = None,
                headers: dict[str, str] | None = None,
                ok: Iterable[int] = (200, 204, 206)) -> http.client.HTTPResponse:
        query = query or []
        payload = sigv4.UNSIGNED_PAYLOAD
        if isinstance(body, bytes):
            payload = hashlib.sha256(body).hexdigest()
            length = len(body)
        all_headers = self.signed_headers(method, path, query, dict(headers or {}), payload)
        if length is not None:
            all_headers["content-length"] = str(length)
        target = quote(path, safe="/~")
        if query:
            target += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                                     for k, v in query)
        conn = self._connection()
        conn.request(method, target, body=body, headers=all_headers)
        resp = conn.getresponse()
        if resp.status not in ok:
            raise ClientError(resp.status, resp.read())
        return resp

    def json(self, method: str, path: str, query: list[tuple[str, str]] | None = None) -> Any:
        resp = self.request(method, path, query)
        data = resp.read()
        return json.loads(data) if data else None


class Progress:
    """A one-line progress bar on stderr for long transfers."""

    def __init__(self, label: str, total: int, stream: IO[str] = sys.stderr) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream = stream
        self.start = time.monotonic()
        self.tty = stream.isatty()
        self._last = 0.0

    def set(self, done: int) -> None:
        self.add(done - self.done)

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.2 or self.done >= self.total:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(frac * 30)
        rate = self.done / max(time.monotonic() - self.start, 1e-6) / 1e6
        line = f"{self.label} [{bar:<30}] {frac:6.1%} {self.done / 1e6:,.1f} MB {rate:,.1f} MB/s"
        self.stream.write(("\r" if self.tty else "") + line + ("" if self.tty else "\n"))
        self.stream.flush()

    def close(self) -> None:
        self._draw()
        if self.tty:
            self.stream.write("\n")


def reading(f: IO[bytes], progress: Progress) -> Iterator[bytes]:
    while True:
        data = f.read(CHUNK)
        if not data:
            return
        progress.add(len(data))
        yield data
