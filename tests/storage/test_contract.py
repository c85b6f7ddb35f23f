"""The MetadataStore contract, run unchanged against SQLite and PostgreSQL: operations,
errors, S3's listing order (UTF-8 bytes), versions, uploads, accounts and keys, and the
concurrency contracts (one winner of each race; read- and list-after-write across two
store instances on one database)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from metastore_util import Opener, bucket, keys, put, record, request, upload

from objectstore.service.stores import Stores
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import (
    AccessKey,
    Account,
    Bucket,
    ObjectRecord,
    Part,
    Segment,
    User,
)

# ------------------------------------------------------------------ buckets

def test_bucket_create_get_list_delete(stores: Stores) -> None:
    meta = stores.meta
    bucket(stores, "one")
    bucket(stores, "two")
    found = meta.get_bucket("one")
    assert found is not None and found.account_id == "acct" and found.region == "us-east-1"
    assert [b.name for b in meta.list_buckets(None)] == ["one", "two"]
    assert [b.name for b in meta.list_buckets("acct")] == ["one", "two"]
    assert meta.list_buckets("other") == []
    meta.run(meta.delete_bucket_txn("one"))
    assert meta.get_bucket("one") is None
    with pytest.raises(NotFound):
        meta.run(meta.delete_bucket_txn("one"))


def test_bucket_errors(stores: Stores) -> None:
    meta = stores.meta
    bucket(stores, "b")
    with pytest.raises(Conflict) as owned:
        bucket(stores, "b")
    assert owned.value.reason == "owned"
    with pytest.raises(Conflict) as other:
        meta.run(meta.create_bucket_txn(Bucket("b", "someone", time.time(), "us-east-1", "{}")))
    assert other.value.reason == "exists"
    put(stores, record("b", "k"))
    with pytest.raises(Conflict):
        meta.run(meta.delete_bucket_txn("b"))
    with pytest.raises(NotFound):
        meta.run(meta.set_bucket_acl_txn("nope", "{}"))
    with pytest.raises(NotFound):
        put(stores, record("nope", "k"))


def test_bucket_settings_round_trip(stores: Stores) -> None:
    meta = stores.meta
    bucket(stores, "b")
    meta.run(meta.set_bucket_setting_txn("policy", "b", '{"Version":"2012-10-17"}'))
    meta.run(meta.set_bucket_tags_txn("b", (("k", "v"), ("é", "ü"))))
    found = meta.get_bucket("b")
    assert found is not None and found.policy == '{"Version":"2012-10-17"}'
    assert found.tags == (("k", "v"), ("é", "ü"))
    meta.run(meta.set_bucket_setting_txn("policy", "b", None))
    found = meta.get_bucket("b")
    assert found is not None and found.policy is None


# ------------------------------------------------------------------ objects

def test_object_put_get_replace_delete(stores: Stores) -> None:
    meta = stores.meta
    bucket(stores)
    assert meta.get_object("b", "k") is None
    first = put(stores, record("b", "k", b"one", tags=(("t", "1"),)))
    got = meta.get_object("b", "k")
    assert got is not None and got.inline == b"one" and got.etag == first.etag
    assert got.tags == (("t", "1"),) and got.headers == {"content-type": "text/plain"}
    put(stores, record("b", "k", b"two"))
    got = meta.get_object("b", "k")
    assert got is not None and got.inline == b"two"
    assert meta.run(meta.delete_object_txn("b", "k")) is True
    assert meta.get_object("b", "k") is None
    assert meta.run(meta.delete_object_txn("b", "k")) is False


def test_large_values_round_trip(stores: Stores) -> None:
    bucket(stores)
    body = bytes(range(256)) * 1024
    rec = record("b", "big", body, segments=(), lock_until=1.5e9, sse=None)
    put(stores, rec)
    got = stores.meta.get_object("b", "big")
    assert got is not None and got.inline == body and got.size == len(body)
    seg = record("b", "segs", b"", segments=(Segment("blob1", 5 << 40, "c2Vn"),))
    put(stores, seg)
    got = stores.meta.get_object("b", "segs")
    assert got is not None and got.segments == (Segment("blob1", 5 << 40, "c2Vn"),)


def test_conditional_put_check_sees_current(stores: Stores) -> None:
    bucket(stores)
    seen: list[ObjectRecord | None] = []
    first = put(stores, record("b", "k"), seen.append)
    put(stores, record("b", "k", b"2"), seen.append)
    assert seen[0] is None and seen[1] is not None and seen[1].etag == first.etag


def test_key_with_nul_is_absent(stores: Stores) -> None:
    """No store holds U+0000 in a key (the S3 layer refuses such keys): asking for one
    answers "no such key", not an error."""
    bucket(stores)
    put(stores, record("b", "a"))
    assert stores.meta.get_object("b", "a\x00b") is None


# ------------------------------------------------------------------ listing order

KEYS = ["a", "A", "Z", "a/b", "a~", "ab", "é", "z", "\u00ff", "\u0800x", "\uffff",
        "\U0001f600", "\U0010fffd", "a b", "a\tb", "a\x7f", "0", "~"]


def utf8_sorted(items: list[str]) -> list[str]:
    return sorted(items, key=lambda k: k.encode())


def test_listing_is_utf8_byte_order(stores: Stores) -> None:
    bucket(stores)
    for k in KEYS:
        put(stores, record("b", k))
    assert keys(stores, "b") == utf8_sorted(KEYS)
    assert keys(stores, "b", batch=3) == utf8_sorted(KEYS)  # pages continue exactly
    assert keys(stores, "b", prefix="a") == utf8_sorted(
        [k for k in KEYS if k.startswith("a")])
    assert keys(stores, "b", after="a~".encode()) == [
        k for k in utf8_sorted(KEYS) if k.encode() > b"a~"]
    assert keys(stores, "b", prefix="\U0001f601") == []
    assert keys(stores, "b", prefix="\U0001f600") == ["\U0001f600"]
    assert keys(stores, "b", prefix="\U0010fffd") == ["\U0010fffd"]


def test_listing_markers_holding_nul(stores: Stores) -> None:
    """A client's marker may hold U+0000 (no key does): the listing is what byte order
    says, on both stores."""
    bucket(stores)
    names = ["a", "a\x01", "a\x01z", "ab", "b"]
    for k in names:
        put(stores, record("b", k))
    assert keys(stores, "b", after=b"a\x00") == ["a\x01", "a\x01z", "ab", "b"]
    assert keys(stores, "b", after=b"a\x00zz") == ["a\x01", "a\x01z", "ab", "b"]
    assert keys(stores, "b", prefix="a", after=b"a\x00") == ["a\x01", "a\x01z", "ab"]
    assert keys(stores, "b", prefix="a\x00") == []
    bucket(stores, "v", versioning="Enabled")
    for k in names:
        put(stores, record("v", k))
    assert [x.key for x in stores.meta.scan_versions("v", "", b"a\x00", None)] == names[1:]
    assert [x.key for x in stores.meta.scan_versions("v", "", b"a\x00", 5)] == names[1:]


def test_listing_prefix_and_marker_together(stores: Stores) -> None:
    bucket(stores)
    names = [f"p/{i:03d}" for i in range(30)] + ["p0", "q", "o"]
    for k in names:
        put(stores, record("b", k))
    assert keys(stores, "b", prefix="p/", after=b"p/010", batch=7) == [
        f"p/{i:03d}" for i in range(11, 30)]
    assert keys(stores, "b", prefix="p/", after=b"a") == [f"p/{i:03d}" for i in range(30)]


# ------------------------------------------------------------------ versions

def test_versions_order_markers_and_promotion(stores: Stores) -> None:
    meta = stores.meta
    bucket(stores, "v", versioning="Enabled")
    v1 = put(stores, record("v", "k", b"1"))
    v2 = put(stores, record("v", "k", b"2"))
    assert v1.version_id and v2.version_id and v1.version_id != v2.version_id
    assert v2.seq > v1.seq
    out = meta.run(meta.remove_txn("v", "k", owner="acct"))
    assert out.marker
    assert meta.get_object("v", "k") is None
    listed = list(meta.scan_versions("v", "", b"", None))
    assert [(x.version_id, x.is_marker, x.latest) for x in listed] == [
        (out.version_id, True, True), (v2.version_id, False, False),
        (v1.version_id, False, False)]
    meta.run(meta.remove_txn("v", "k", out.version_id))  # the marker goes: v2 is back
    got = meta.get_object("v", "k")
    assert got is not None and got.version_id == v2.version_id
    old = meta.get_version("v", "k", v1.version_id)
    assert old is not None and old.rec.inline == b"1"
    assert meta.version_seq("v", "k", v1.version_id) == v1.seq


def test_versions_listing_across_keys_pages(stores: Stores) -> None:
    bucket(stores, "v", versioning="Enabled")
    for k in ["é", "a", "b"]:
        for i in range(3):
            put(stores, record("v", k, str(i).encode()))
    listed = [(x.key, x.rec.inline is None) for x in
              stores.meta.scan_versions("v", "", b"", None, batch=2)]
    assert [k for k, _ in listed] == ["a"] * 3 + ["b"] * 3 + ["é"] * 3


# ------------------------------------------------------------------ uploads

def test_upload_parts_complete_abort(stores: Stores) -> None:
    meta, uploads = stores.meta, stores.uploads
    bucket(stores)
    uid = upload(stores)
    for n in (1, 2):
        meta.run(uploads.put_part_txn(Part(uid, n, "", 0, f'"e{n}"', None, time.time())))
    meta.run(uploads.put_part_txn(Part(uid, 2, "", 0, '"e2b"', None, time.time())))
    assert [(p.number, p.etag) for p in uploads.parts(uid)] == [(1, '"e1"'), (2, '"e2b"')]
    rec = record("b", "k", b"", part_count=2)
    stored = meta.run(uploads.complete_txn(uid, rec, {1, 2}, None))
    assert stored.key == "k" and meta.get_object("b", "k") is not None
    assert uploads.get(uid) is None
    assert uploads.completed(uid) == ("b", "k", rec.etag)
    gone = upload(stores)
    meta.run(uploads.abort_txn(gone))
    with pytest.raises(NotFound):
        meta.run(uploads.abort_txn(gone))
    with pytest.raises(NotFound):
        meta.run(uploads.put_part_txn(Part(gone, 1, "", 0, '"e"', None, time.time())))


def test_upload_listing_order(stores: Stores) -> None:
    bucket(stores)
    for k in ["é", "b", "a", "a"]:
        upload(stores, key=k)
    listed = [u.key for u in stores.uploads.scan("b", "", b"", None)]
    assert listed == ["a", "a", "b", "é"]
    assert [u.key for u in stores.uploads.scan("b", "a", b"", None)] == ["a", "a"]


# ------------------------------------------------------------------ accounts and keys

def test_accounts_users_keys(stores: Stores) -> None:
    meta = stores.meta
    meta.add_account(Account("id1", "acct1", "a@example.com", time.time()))
    with pytest.raises(Conflict):
        meta.add_account(Account("id2", "acct1", "", time.time()))
    with pytest.raises(NotFound):
        meta.add_user(User("u", "missing", False, time.time()))
    meta.add_user(User("u1", "id1", True, time.time()))
    with pytest.raises(Conflict):
        meta.add_user(User("u1", "id1", False, time.time()))
    meta.add_key(AccessKey("AK1", "secret-1", "u1", time.time()))
    with pytest.raises(Conflict):
        meta.add_key(AccessKey("AK1", "other", "u1", time.time()))
    found = meta.lookup_key("AK1")
    assert found is not None
    secret, user, account = found
    assert secret == "secret-1" and user.name == "u1" and user.first and account.name == "acct1"
    assert meta.emails()["a@example.com"] == "id1"
    assert [k.secret for k in meta.list_keys("u1")] == ["secret-1"]
    meta.set_user_policy("u1", '{"p": 1}')
    user_now = meta.get_user("u1")
    assert user_now is not None and user_now.policy == '{"p": 1}'
    meta.delete_key("AK1")
    assert meta.lookup_key("AK1") is None
    with pytest.raises(NotFound):
        meta.delete_key("AK1")
    meta.delete_user("u1")
    meta.delete_account("id1")
    assert meta.get_account("id1") is None


# ------------------------------------------------------------------ concurrency

def race(n: int, fn: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run fn(0..n-1) at once; (results, errors)."""
    start = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        start.wait()
        try:
            results.append(fn(i))
        except BaseException as exc:  # noqa: BLE001 - collected
            errors.append(exc)
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(one, range(n)))
    return results, errors


def if_none_match(current: ObjectRecord | None) -> None:
    if current is not None:
        raise Conflict("precondition")


def test_one_winner_of_if_none_match_race(open_stores: Opener) -> None:
    a, b = open_stores(), open_stores()
    bucket(a)
    for round_ in range(5):
        key = f"k{round_}"
        ok, errors = race(8, lambda i, key=key: put(  # type: ignore[misc]
            a if i % 2 else b, record("b", key, str(i).encode()), if_none_match))
        assert len(ok) == 1, errors
        assert all(isinstance(e, Conflict) for e in errors), errors
        got = b.meta.get_object("b", key)
        assert got is not None and got.etag == ok[0].etag


def test_one_winner_of_racing_completes(open_stores: Opener) -> None:
    a, b = open_stores(), open_stores()
    bucket(a)
    uid = upload(a)
    a.meta.run(a.uploads.put_part_txn(Part(uid, 1, "", 0, '"e"', None, time.time())))
    ok, errors = race(6, lambda i: (a if i % 2 else b).meta.run(
        (a if i % 2 else b).uploads.complete_txn(uid, record("b", "k", b"", part_count=1),
                                                 {1}, None)))
    assert len(ok) == 1, errors
    assert all(isinstance(e, Conflict) for e in errors), errors


def test_one_winner_of_racing_bucket_creation(open_stores: Opener) -> None:
    a, b = open_stores(), open_stores()
    ok, errors = race(8, lambda i: (a if i % 2 else b).meta.run(
        (a if i % 2 else b).meta.create_bucket_txn(
            Bucket("raced", f"acct{i}", time.time(), "us-east-1", "{}"))))
    assert len(ok) == 1, errors
    assert all(isinstance(e, Conflict) for e in errors), errors


def test_read_and_list_after_write_across_instances(open_stores: Opener) -> None:
    a, b = open_stores(), open_stores()
    bucket(a)
    request(b)
    assert b.meta.get_bucket("b") is not None
    for i in range(100):
        writer, reader = (a, b) if i % 2 else (b, a)
        request(reader)
        key = f"k{i:03d}"
        assert reader.meta.get_object("b", key) is None
        put(writer, record("b", key, str(i).encode()))
        request(reader)  # the next request (the one before may have cached the miss)
        got = reader.meta.get_object("b", key)
        assert got is not None and got.inline == str(i).encode()
        assert keys(reader, "b")[-1] == key
        put(writer, record("b", "k000", b"v%d" % i))  # an object the reader has cached
        request(reader)
        again = reader.meta.get_object("b", "k000")
        assert again is not None and again.inline == b"v%d" % i
        writer.meta.run(writer.meta.set_bucket_setting_txn("policy", "b", str(i)))
        request(reader)
        seen = reader.meta.get_bucket("b")
        assert seen is not None and seen.policy == str(i)


def test_key_changes_seen_across_instances(open_stores: Opener) -> None:
    a, b = open_stores(), open_stores()
    a.meta.add_account(Account("id1", "acct1", "", time.time()))
    a.meta.add_user(User("u1", "id1", False, time.time()))
    request(b)
    assert b.meta.lookup_key("AK1") is None  # (a cached miss ...)
    a.meta.add_key(AccessKey("AK1", "s", "u1", time.time()))
    request(b)
    assert b.meta.lookup_key("AK1") is not None  # (... forgotten at the next request)
    a.meta.set_user_policy("u1", '{"x": 1}')
    request(b)
    found = b.meta.lookup_key("AK1")
    assert found is not None and found[1].policy == '{"x": 1}'
    a.meta.set_account_public_block("id1", '{"BlockPublicAcls": true}')
    request(b)
    assert b.meta.account_public_block("id1") == '{"BlockPublicAcls": true}'
    a.meta.delete_key("AK1")
    request(b)
    assert b.meta.lookup_key("AK1") is None
