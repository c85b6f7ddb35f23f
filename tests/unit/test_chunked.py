"""aws-chunked: the pure Decoder (any split decodes the same) and the ChunkChain signatures.

Signatures are computed here with plain hmac/hashlib following
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
sigv4-streaming-trailers.html, and checked against the documented example values.
"""

from __future__ import annotations

import hashlib
import hmac
import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, CrtCrc32Checksum
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.chunked import (
    MAX_LINE,
    ChunkChain,
    ChunkEnd,
    Data,
    Decoder,
    End,
    Event,
    Trailers,
)
from objectstore.s3.errors import S3Error

SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DATE = "20130524T000000Z"
SCOPE = "20130524/us-east-1/s3/aws4_request"
EMPTY = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret: str = SK) -> bytes:
    k = _hmac(("AWS4" + secret).encode(), "20130524")
    k = _hmac(k, "us-east-1")
    k = _hmac(k, "s3")
    return _hmac(k, "aws4_request")


def chunk_sig(key: bytes, prev: str, data: bytes) -> str:
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", DATE, SCOPE, prev, EMPTY,
                     hashlib.sha256(data).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def trailer_sig(key: bytes, prev: str, raw: bytes) -> str:
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", DATE, SCOPE, prev,
                     hashlib.sha256(raw).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def encode(chunks: list[bytes], *, seed: str | None = None,
           trailers: list[tuple[str, str]] | None = None, key: bytes | None = None
           ) -> tuple[bytes, list[str]]:
    """An aws-chunked body: signed when ``seed`` is given; returns (body, signatures)."""
    key = key or signing_key()
    out = bytearray()
    sigs: list[str] = []
    prev = seed
    for data in [*chunks, b""]:
        out += f"{len(data):x}".encode()
        if prev is not None:
            prev = chunk_sig(key, prev, data)
            sigs.append(prev)
            out += f";chunk-signature={prev}".encode()
        out += b"\r\n" + data
        if data:
            out += b"\r\n"
    if trailers is not None:
        raw = "".join(f"{n}:{v}\n" for n, v in trailers).encode()
        for n, v in trailers:
            out += f"{n}:{v}\r\n".encode()
        if prev is not None:
            prev = trailer_sig(key, prev, raw)
            sigs.append(prev)
            out += f"x-amz-trailer-signature:{prev}\r\n".encode()
    out += b"\r\n"
    return bytes(out), sigs


def decode(parts: list[bytes]) -> list[Event]:
    d = Decoder()
    events: list[Event] = []
    for p in parts:
        events += d.feed(p)
    d.close()
    assert d.done
    return events


def normalise(events: list[Event]) -> list[Event]:
    """Merge adjacent Data events: how the data is cut into Data events may vary."""
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + ev.data)
        else:
            out.append(ev)
    return out


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


# ------------------------------------------------------------------ AWS documented examples

SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNK_SIGS = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]


def test_aws_streaming_example_signatures() -> None:
    """sigv4-streaming.html: 64 KiB + 1 KiB of 'a', then the final 0-byte chunk."""
    body, sigs = encode([b"a" * 65536, b"a" * 1024], seed=SEED)
    assert sigs == DOC_CHUNK_SIGS
    assert len(body) == 66824  # the example's Content-Length
    assert body.startswith(b"10000;chunk-signature=" + DOC_CHUNK_SIGS[0].encode() + b"\r\n")
    events = decode([body])
    ends = [e for e in events if isinstance(e, ChunkEnd)]
    assert ends == [ChunkEnd(65536, DOC_CHUNK_SIGS[0]), ChunkEnd(1024, DOC_CHUNK_SIGS[1]),
                    ChunkEnd(0, DOC_CHUNK_SIGS[2])]
    chain = ChunkChain(signing_key(), DATE, SCOPE, SEED)
    data = b""
    for ev in events:
        if isinstance(ev, Data):
            data += ev.data
        elif isinstance(ev, ChunkEnd):
            chain.chunk(hashlib.sha256(data).hexdigest(), ev.signature)
            data = b""
    assert events[-2:] == [Trailers((), None, b""), End()]


def test_aws_streaming_trailer_example_signatures() -> None:
    """sigv4-streaming-trailers.html: same data, trailer x-amz-checksum-crc32c:sOO8/Q==."""
    seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    body, sigs = encode([b"a" * 65536, b"a" * 1024], seed=seed,
                        trailers=[("x-amz-checksum-crc32c", "sOO8/Q==")])
    assert sigs == [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
    ]
    events = decode(split_at(body, [7, 100, 65600, 66000, len(body) - 40]))
    tr = [e for e in events if isinstance(e, Trailers)]
    assert tr == [Trailers((("x-amz-checksum-crc32c", "sOO8/Q=="),), sigs[3],
                           b"x-amz-checksum-crc32c:sOO8/Q==\n")]
    chain = ChunkChain(signing_key(), DATE, SCOPE, seed)
    for size, sig in ((65536, sigs[0]), (1024, sigs[1]), (0, sigs[2])):
        chain.chunk(hashlib.sha256(b"a" * size).hexdigest(), sig)
    chain.trailer(tr[0].raw, tr[0].signature)


# ------------------------------------------------------------------ Decoder: any split

chunk_lists = st.lists(st.binary(min_size=1, max_size=40), max_size=5)
trailer_lists = st.one_of(
    st.none(),
    st.lists(st.tuples(st.sampled_from(["x-amz-checksum-crc32", "x-amz-checksum-sha256",
                                        "x-amz-checksum-crc64nvme"]),
                       st.text(st.sampled_from("ABCabc012+/="), min_size=1, max_size=12)),
             min_size=1, max_size=2, unique_by=lambda t: t[0]),
)


@settings(max_examples=100)
@given(chunks=chunk_lists, trailers=trailer_lists, signed=st.booleans(),
       cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_decodes_the_same(chunks: list[bytes], trailers: list[tuple[str, str]] | None,
                                    signed: bool, cuts: list[int]) -> None:
    body, sigs = encode(chunks, seed=SEED if signed else None, trailers=trailers)
    whole = normalise(decode([body]))
    pieces = split_at(body, cuts)
    assert normalise(decode(pieces)) == whole
    byte_by_byte = decode([body[i:i + 1] for i in range(len(body))])
    assert normalise(byte_by_byte) == whole
    # and the events say what was encoded
    assert b"".join(e.data for e in whole if isinstance(e, Data)) == b"".join(chunks)
    ends = [e for e in whole if isinstance(e, ChunkEnd)]
    assert [e.size for e in ends] == [len(c) for c in chunks] + [0]
    if signed:
        assert [e.signature for e in ends] == sigs[:len(ends)]
    else:
        assert all(e.signature is None for e in ends)
    assert isinstance(whole[-1], End) and isinstance(whole[-2], Trailers)
    tr = whole[-2]
    assert isinstance(tr, Trailers)
    assert list(tr.headers) == list(trailers or [])
    assert tr.signature == (sigs[-1] if signed and trailers else None)
    # a Data event never carries bytes of two chunks
    size_stack = [len(c) for c in chunks]
    acc = 0
    for ev in decode(pieces):
        if isinstance(ev, Data):
            acc += len(ev.data)
            assert ev.data
        elif isinstance(ev, ChunkEnd) and ev.size:
            assert acc == size_stack.pop(0)
            acc = 0


@settings(max_examples=80)
@given(chunks=chunk_lists, trailers=trailer_lists, signed=st.booleans(),
       data=st.data())
def test_signed_chain_accepts_valid_and_rejects_tampered(
        chunks: list[bytes], trailers: list[tuple[str, str]] | None, signed: bool,
        data: st.DataObject) -> None:
    body, _ = encode(chunks, seed=SEED, trailers=trailers)
    events = decode([body])
    assert _verify_events(events, SEED)  # valid chain is accepted
    if not chunks:
        return
    # flip one data byte: the chunk signature no longer matches
    i = data.draw(st.integers(0, len(b"".join(chunks)) - 1))
    tampered = bytearray(b"".join(chunks))
    tampered[i] ^= 0x01
    sizes = [len(c) for c in chunks]
    new_chunks, pos = [], 0
    for n in sizes:
        new_chunks.append(bytes(tampered[pos:pos + n]))
        pos += n
    body2, _ = encode(new_chunks, seed=SEED, trailers=trailers)
    # splice the tampered data under the ORIGINAL signatures
    ev2 = decode([body2])
    orig_sigs = iter(e.signature for e in events if isinstance(e, ChunkEnd))
    forged = [ChunkEnd(e.size, next(orig_sigs)) if isinstance(e, ChunkEnd) else e for e in ev2]
    assert not _verify_events(forged, SEED)


def _verify_events(events: list[Event], seed: str) -> bool:
    chain = ChunkChain(signing_key(), DATE, SCOPE, seed)
    data = hashlib.sha256()
    try:
        for ev in events:
            if isinstance(ev, Data):
                data.update(ev.data)
            elif isinstance(ev, ChunkEnd):
                chain.chunk(data.hexdigest(), ev.signature)
                data = hashlib.sha256()
            elif isinstance(ev, Trailers) and ev.headers:
                chain.trailer(ev.raw, ev.signature)
    except S3Error as e:
        assert e.code == "SignatureDoesNotMatch" and e.status == 403
        return False
    return True


def test_chain_rejects_missing_wrong_and_reordered_signatures() -> None:
    key = signing_key()
    s1 = chunk_sig(key, SEED, b"one")
    s2 = chunk_sig(key, s1, b"two")
    h = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731

    chain = ChunkChain(key, DATE, SCOPE, SEED)
    chain.chunk(h(b"one"), s1)
    chain.chunk(h(b"two"), s2)

    for bad in (None, "", s2, s1.upper(), "0" * 64):
        chain = ChunkChain(key, DATE, SCOPE, SEED)
        with pytest.raises(S3Error) as ei:
            chain.chunk(h(b"one"), bad)
        assert ei.value.code == "SignatureDoesNotMatch"
    # wrong seed / wrong key / wrong scope
    for c in (ChunkChain(key, DATE, SCOPE, "0" * 64),
              ChunkChain(signing_key("other"), DATE, SCOPE, SEED),
              ChunkChain(key, DATE, SCOPE.replace("us-east-1", "eu-west-1"), SEED),
              ChunkChain(key, "20130524T000001Z", SCOPE, SEED)):
        with pytest.raises(S3Error):
            c.chunk(h(b"one"), s1)
    # a chunk replayed out of order
    chain = ChunkChain(key, DATE, SCOPE, SEED)
    with pytest.raises(S3Error):
        chain.chunk(h(b"two"), s2)


def test_chain_trailer() -> None:
    key = signing_key()
    s0 = chunk_sig(key, SEED, b"")
    raw = b"x-amz-checksum-crc32:AAAAAA==\n"
    good = trailer_sig(key, s0, raw)
    chain = ChunkChain(key, DATE, SCOPE, SEED)
    chain.chunk(EMPTY, s0)
    chain.trailer(raw, good)
    for bad_raw, bad_sig in ((raw, None), (raw, "0" * 64),
                             (b"x-amz-checksum-crc32:AAAAAB==\n", good)):
        chain = ChunkChain(key, DATE, SCOPE, SEED)
        chain.chunk(EMPTY, s0)
        with pytest.raises(S3Error) as ei:
            chain.trailer(bad_raw, bad_sig)
        assert ei.value.code == "SignatureDoesNotMatch"


# ------------------------------------------------------------------ Decoder: framing details

def test_unsigned_trailer_body_as_sent_by_botocore() -> None:
    # STREAMING-UNSIGNED-PAYLOAD-TRAILER (botocore/aws-cli default for uploads)
    body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    events = decode([body])
    assert events == [Data(b"hello"), ChunkEnd(5, None), ChunkEnd(0, None),
                      Trailers((("x-amz-checksum-crc32", "NhCmhg=="),), None,
                               b"x-amz-checksum-crc32:NhCmhg==\n"), End()]


@settings(max_examples=40)
@given(data=st.binary(max_size=3000), chunk_size=st.integers(1, 1024),
       cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_botocore_aws_chunked_wrapper(data: bytes, chunk_size: int, cuts: list[int]) -> None:
    """What botocore/aws-cli actually send for STREAMING-UNSIGNED-PAYLOAD-TRAILER."""
    body = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=CrtCrc32Checksum,
                             checksum_name="x-amz-checksum-crc32", chunk_size=chunk_size).read()
    events = decode(split_at(body, cuts))
    assert b"".join(e.data for e in events if isinstance(e, Data)) == data
    tr = [e for e in events if isinstance(e, Trailers)]
    ref = CrtCrc32Checksum()
    ref.update(data)
    assert tr == [Trailers((("x-amz-checksum-crc32", ref.b64digest()),), None,
                           f"x-amz-checksum-crc32:{ref.b64digest()}\n".encode())]
    assert isinstance(events[-1], End)


def test_trailer_names_lowercased_and_values_trimmed() -> None:
    body = b"0\r\nX-Amz-Checksum-CRC32 :  NhCmhg==  \r\n\r\n"
    tr = [e for e in decode([body]) if isinstance(e, Trailers)][0]
    assert tr.headers == (("x-amz-checksum-crc32", "NhCmhg=="),)
    assert tr.raw == b"x-amz-checksum-crc32:NhCmhg==\n"


def test_upper_case_hex_size() -> None:
    data = b"x" * 0xAB
    events = decode([b"AB\r\n" + data + b"\r\n0\r\n\r\n"])
    assert normalise(events)[0] == Data(data)


@pytest.mark.parametrize("body", [
    b"",
    b"5",
    b"5\r\n",
    b"5\r\nhel",
    b"5\r\nhello",
    b"5\r\nhello\r",
    b"5\r\nhello\r\n",
    b"5\r\nhello\r\n0\r\n",
    b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n",
    b"0;chunk-signature=" + b"a" * 64 + b"\r\n",
])
def test_truncated_body_close_raises(body: bytes) -> None:
    d = Decoder()
    d.feed(body)
    assert not d.done
    with pytest.raises(S3Error) as ei:
        d.close()
    assert ei.value.code == "IncompleteBody"


@pytest.mark.parametrize("body", [
    b"zz\r\nhello\r\n0\r\n\r\n",
    b"\r\nhello\r\n0\r\n\r\n",
    b"-5\r\nhello\r\n0\r\n\r\n",
    b"5 5\r\nhello\r\n0\r\n\r\n",
    b"g\r\n",
    b";chunk-signature=abc\r\n",
])
def test_bad_hex_size(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        Decoder().feed(body)
    assert ei.value.code == "IncompleteBody"


@pytest.mark.parametrize("size", [b"0x5", b"+5", b"0_5"])
def test_non_hex_digits_in_size_rejected(size: bytes) -> None:
    with pytest.raises(S3Error):
        Decoder().feed(size + b"\r\nhello\r\n0\r\n\r\n")


@pytest.mark.parametrize("body", [
    b"5\r\nhelloXX0\r\n\r\n",
    b"5\r\nhello\n0\r\n\r\n",
    b"5\r\nhello!\r\n0\r\n\r\n",  # chunk longer than its declared size
])
def test_missing_crlf_after_chunk(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        decode(split_at(body, [3, 9]))
    assert ei.value.code == "IncompleteBody"


def test_bad_extension_rejected() -> None:
    with pytest.raises(S3Error):
        Decoder().feed(b"5;foo=bar\r\nhello\r\n")


def test_trailer_without_colon_rejected() -> None:
    with pytest.raises(S3Error):
        Decoder().feed(b"0\r\nnot-a-header\r\n\r\n")


def test_data_after_end_rejected() -> None:
    d = Decoder()
    with pytest.raises(S3Error):
        d.feed(b"0\r\n\r\nextra")
    d = Decoder()
    d.feed(b"0\r\n\r\n")
    assert d.done
    assert d.feed(b"") == []
    with pytest.raises(S3Error):
        d.feed(b"x")
    d.close()  # a finished decoder closes cleanly


def test_line_too_long_rejected_without_crlf() -> None:
    d = Decoder()
    with pytest.raises(S3Error):
        for _ in range(MAX_LINE // 100 + 2):
            d.feed(b"a" * 100)


def test_huge_trailer_section_rejected() -> None:
    d = Decoder()
    d.feed(b"0\r\n")
    with pytest.raises(S3Error):
        for i in range(1000):
            d.feed(f"x-amz-meta-{i}:{'v' * 100}\r\n".encode())


def test_large_chunk_is_streamed_not_buffered() -> None:
    # Data is emitted as it arrives: a 1 MiB chunk fed in 4 KiB pieces gives Data events
    # before the chunk is complete.
    d = Decoder()
    first = d.feed(b"100000\r\n" + b"z" * 4096)
    assert first == [Data(b"z" * 4096)]


@pytest.mark.parametrize("body,is_trailer", [
    (b"0;chunk-signature=\xff\xfe\r\n\r\n", False),
    (b"0;chunk-signature=" + "é".encode() * 32 + b"\r\n\r\n", False),
    (b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:\xe9\r\n\r\n", True),
])
def test_non_ascii_signature_is_signature_mismatch(body: bytes, is_trailer: bool) -> None:
    key = signing_key()
    events = decode([body])
    chain = ChunkChain(key, DATE, SCOPE, SEED)
    end = next(e for e in events if isinstance(e, ChunkEnd))
    tr = next(e for e in events if isinstance(e, Trailers))
    with pytest.raises(S3Error) as ei:
        if is_trailer:
            chain.chunk(EMPTY, chunk_sig(key, SEED, b""))
            chain.trailer(tr.raw, tr.signature)
        else:
            chain.chunk(EMPTY, end.signature)
    assert ei.value.code == "SignatureDoesNotMatch"
