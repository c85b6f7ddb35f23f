"""storage.meta.Unavailable raised under any handler becomes 503 with Retry-After and S3's
XML error body in the server shell (ServiceUnavailable; SlowDown when the store is only
overloaded), with the request id; the app is driven in-process through ASGI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from objectstore.config import Settings
from objectstore.server import app as app_module
from objectstore.server.app import build_app
from objectstore.server.handlers.common import Ctx
from objectstore.server.request import Response
from objectstore.storage.meta import Unavailable


def _call(app: Any, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"127.0.0.1:3333")],
             "server": ("127.0.0.1", 3333), "client": ("127.0.0.1", 40000),
             "scheme": "http", "http_version": "1.1"}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize(("op", "method", "path"), [
    ("ListBuckets", "GET", "/"), ("GetObject", "GET", "/bkt/key"),
    ("PutObject", "PUT", "/bkt/key"), ("HeadObject", "HEAD", "/bkt/key")])
@pytest.mark.parametrize(("overloaded", "code"), [(False, "ServiceUnavailable"),
                                                   (True, "SlowDown")])
def test_unavailable_under_any_handler_is_a_503(tmp_path: Path, monkeypatch: Any, op: str,
                                                method: str, path: str, overloaded: bool,
                                                code: str) -> None:
    async def down(ctx: Ctx) -> Response:
        raise Unavailable("connection refused", retry_after=3, overloaded=overloaded)
    monkeypatch.setitem(app_module.HANDLERS, op, down)
    app = build_app(Settings(data_dir=tmp_path / "data", fsync=False))
    try:
        status, headers, body = _call(app, method, path)
    finally:
        app.stores.close()
    assert status == 503
    assert headers["retry-after"] == "3"
    rid = headers["x-amz-request-id"]
    assert len(rid) == 24
    if method != "HEAD":
        assert f"<Code>{code}</Code>".encode() in body
        assert f"<RequestId>{rid}</RequestId>".encode() in body
