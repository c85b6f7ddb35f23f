"""storage.crypto: the segment framing of encrypted blobs."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.storage import crypto

KEY = bytes(range(32))
BLOB = "0123456789abcdef0123456789abcdef"


def test_round_trip_and_size() -> None:
    for size in (0, 1, crypto.SEGMENT - 1, crypto.SEGMENT, crypto.SEGMENT + 1,
                 3 * crypto.SEGMENT + 17):
        plain = os.urandom(size)
        blob = crypto.encrypt(KEY, BLOB, plain)
        assert len(blob) == crypto.stored_size(size)
        assert crypto.decrypt(KEY, BLOB, blob) == plain
        if size >= 16:
            assert plain not in blob and plain[:16] not in blob


def test_streamed_in_odd_pieces_equals_whole() -> None:
    plain = os.urandom(5 * crypto.SEGMENT + 123)
    enc = crypto.Encryptor(KEY, BLOB)
    out = []
    for i in range(0, len(plain), 7001):
        out += [bytes(x) for x in enc.feed(plain[i:i + 7001])]
    out.append(enc.finish())
    assert b"".join(out) == crypto.encrypt(KEY, BLOB, plain)


def test_each_blob_gets_its_own_key() -> None:
    plain = b"A" * 1000
    assert crypto.encrypt(KEY, BLOB, plain) != crypto.encrypt(KEY, BLOB[::-1], plain)
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(KEY, BLOB[::-1], crypto.encrypt(KEY, BLOB, plain))


def test_wrong_data_key_does_not_open() -> None:
    blob = crypto.encrypt(KEY, BLOB, b"secret")
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(bytes(32), BLOB, blob)


def test_every_flipped_bit_position_class_is_detected() -> None:
    plain = os.urandom(2 * crypto.SEGMENT + 10)
    blob = bytearray(crypto.encrypt(KEY, BLOB, plain))
    for pos in (0, 100, crypto.SEGMENT, crypto.STORED_SEGMENT - 1, crypto.STORED_SEGMENT,
                len(blob) - 1):
        damaged = bytearray(blob)
        damaged[pos] ^= 0x01
        with pytest.raises(crypto.Tampered) as exc:
            crypto.decrypt(KEY, BLOB, bytes(damaged))
        assert exc.value.index == pos // crypto.STORED_SEGMENT


def test_swapped_or_truncated_segments_are_detected() -> None:
    plain = os.urandom(3 * crypto.SEGMENT)
    blob = crypto.encrypt(KEY, BLOB, plain)
    s = crypto.STORED_SEGMENT
    swapped = blob[s:2 * s] + blob[:s] + blob[2 * s:]
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(KEY, BLOB, swapped)
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(KEY, BLOB, blob[:-1])
    aead = crypto.blob_cipher(KEY, BLOB)
    with pytest.raises(crypto.Tampered):  # segment 1 read as if it were segment 0
        crypto.decrypt_segments(aead, 0, blob[s:2 * s])


def _range(plain: bytes, blob: bytes, start: int, length: int) -> bytes:
    first, count, at, stored = crypto.span(len(plain), start, length)
    assert count <= -(-length // crypto.SEGMENT) + 1  # at most one segment more
    out = crypto.decrypt_segments(crypto.blob_cipher(KEY, BLOB), first, blob[at:at + stored])
    skip = start - first * crypto.SEGMENT
    return bytes(out[skip:skip + length])


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 4 * crypto.SEGMENT + 100), data=st.data())
def test_any_range_decrypts_only_its_segments(size: int, data: st.DataObject) -> None:
    plain = bytes((i * 7 + 3) % 251 for i in range(size))
    blob = crypto.encrypt(KEY, BLOB, plain)
    start = data.draw(st.integers(0, size - 1))
    length = data.draw(st.integers(1, size - start))
    assert _range(plain, blob, start, length) == plain[start:start + length]


@settings(max_examples=40, deadline=None)
@given(plain=st.binary(min_size=1, max_size=3000), bit=st.integers(0, 10**9))
def test_hypothesis_any_flip_detected(plain: bytes, bit: int) -> None:
    blob = bytearray(crypto.encrypt(KEY, BLOB, plain))
    bit %= len(blob) * 8
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(KEY, BLOB, bytes(blob))


def test_inline_body_tamper_is_a_blob_fault() -> None:
    from objectstore.storage.faults import BlobFault
    from objectstore.storage.sse_read import open_inline

    stored = bytearray(crypto.encrypt(KEY, crypto.INLINE_ID, b"small secret"))
    assert open_inline(KEY, bytes(stored), "b/k") == b"small secret"
    stored[3] ^= 4
    with pytest.raises(BlobFault) as exc:
        open_inline(KEY, bytes(stored), "b/k")
    assert exc.value.kind == "corrupt"
