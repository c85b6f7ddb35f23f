"""The request body pipeline: plain bodies, aws-chunked (signed, unsigned, trailers).

Yields the decoded payload; ``verify`` then checks the signed SHA-256 and the decoded
length; trailer checksums are collected for the caller to compare.
"""

from __future__ import annotations

import hashlib
from typing import AsyncIterator

from objectstore.s3 import checksums
from objectstore.s3.chunked import ChunkChain, ChunkEnd, Data, Decoder, Trailers
from objectstore.s3.errors import S3Error
from objectstore.s3.numbers import digits
from objectstore.server.handlers.common import Ctx
from objectstore.service.ingest import Digests, Ingest, commit, ingest

SIGNED_STREAMING = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")


class Payload:
    def __init__(self, ctx: Ctx, max_size: int) -> None:
        self._ctx = ctx
        h = ctx.req.headers
        self.streaming = ctx.auth.streaming
        if self.streaming is None and "content-encoding" in h and \
                "aws-chunked" in h["content-encoding"] and \
                h.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
            self.streaming = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        self.trailer_algorithms: set[str] = set()
        self.trailer_checksums: dict[str, bytes] = {}
        self.decoded_length: int | None = None
        length = h.get("content-length")
        chunked_te = "chunked" in h.get("transfer-encoding", "").lower()
        if length is None and not chunked_te:
            raise S3Error("MissingContentLength")
        length_value = digits(length) if length is not None else None
        if length is not None and length_value is None:
            raise S3Error("InvalidArgument", ArgumentName="Content-Length",
                          ArgumentValue=length[:64])
        if self.streaming is not None:
            dl = h.get("x-amz-decoded-content-length")
            if dl is None:
                if length is None:
                    raise S3Error("MissingContentLength")
            else:
                self.decoded_length = digits(dl)
                if self.decoded_length is None:
                    raise S3Error("InvalidArgument", "x-amz-decoded-content-length must be a "
                                  "non-negative decimal number",
                                  ArgumentName="x-amz-decoded-content-length",
                                  ArgumentValue=dl[:64])
            for name in h.get("x-amz-trailer", "").split(","):
                name = name.strip().lower()
                if not name:
                    continue
                alg = name.removeprefix("x-amz-checksum-").upper()
                if not name.startswith("x-amz-checksum-") or alg not in checksums.ALGORITHMS:
                    raise S3Error("InvalidRequest", f"Invalid trailer header {name}")
                self.trailer_algorithms.add(alg)
            size = self.decoded_length
        else:
            size = length_value
        self.expected_size = size  # None when the length is not announced
        if size is not None and size > max_size:
            raise S3Error("EntityTooLarge", ProposedSize=str(size), MaxSizeAllowed=str(max_size))

    def chunks(self) -> AsyncIterator[bytes]:
        if self.streaming is None:
            return self._ctx.req.chunks()
        return self._decode()

    async def _decode(self) -> AsyncIterator[bytes]:
        auth = self._ctx.auth
        chain = None
        if self.streaming in SIGNED_STREAMING:
            assert auth.signing_key and auth.amz_date and auth.scope and auth.seed_signature
            chain = ChunkChain(auth.signing_key, auth.amz_date, auth.scope, auth.seed_signature)
        decoder = Decoder()
        sha = hashlib.sha256() if chain is not None else None
        total = 0
        async for raw in self._ctx.req.chunks():
            for ev in decoder.feed(raw):
                if isinstance(ev, Data):
                    if sha is not None:
                        sha.update(ev.data)
                    total += len(ev.data)
                    if self.decoded_length is not None and total > self.decoded_length:
                        raise S3Error("IncompleteBody", "The decoded body is longer than "
                                      "x-amz-decoded-content-length")
                    yield ev.data
                elif isinstance(ev, ChunkEnd):
                    if chain is not None and sha is not None:
                        chain.chunk(sha.hexdigest(), ev.signature)
                        sha = hashlib.sha256()
                elif isinstance(ev, Trailers):
                    self._trailers(ev, chain)
        decoder.close()
        if self.decoded_length is not None and total != self.decoded_length:
            raise S3Error("IncompleteBody")

    def _trailers(self, ev: Trailers, chain: ChunkChain | None) -> None:
        if self.streaming == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" and chain is not None:
            chain.trailer(ev.raw, ev.signature)
        for name, value in ev.headers:
            alg = name.removeprefix("x-amz-checksum-").upper()
            if name.startswith("x-amz-checksum-") and alg in self.trailer_algorithms:
                self.trailer_checksums[alg] = checksums.decode_checksum(alg, value)
        missing = self.trailer_algorithms - self.trailer_checksums.keys()
        if missing:
            raise S3Error("InvalidRequest", "The trailer x-amz-checksum-"
                          f"{sorted(missing)[0].lower()} was declared but not sent")

    def verify(self, digests: Digests) -> None:
        want = self._ctx.auth.payload_sha256
        if want is not None and digests.sha256 != want:
            raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=want,
                          S3ComputedContentSHA256=digests.sha256 or "")


async def store(body: Payload, ing: Ingest, md5: bytes | None,
                wanted: dict[str, bytes]) -> Digests:
    """Stream ``body`` into ``ing``, check every digest the client gave (signed SHA-256,
    Content-MD5, checksums in headers or trailers), and make it durable. On any failure the
    partial blob is removed and the error raised: nothing is stored."""
    try:
        digests = await ingest(ing, body.chunks())
        body.verify(digests)
        if md5 is not None and md5 != digests.md5:
            raise S3Error("BadDigest", ExpectedDigest=md5.hex(),
                          CalculatedDigest=checksums.b64(digests.md5))
        wanted.update(body.trailer_checksums)
        for alg, value in wanted.items():
            if digests.checksums[alg] != value:
                raise S3Error("BadDigest", f"The {alg} you specified did not match the "
                              "calculated checksum.")
        await commit(ing)
    except BaseException:
        ing.abort()
        raise
    return digests


def payload(ctx: Ctx, max_size: int) -> Payload:
    return Payload(ctx, max_size)
