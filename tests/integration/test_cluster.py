"""Three gateways (`objectstore serve --cluster` processes) on one PostgreSQL database and
one shared data directory, driven with boto3 (issue #12, "Several gateways, one namespace"):

- consistency: thousands of write-here-read-there pairs rotating over the gateways
  (objects, overwrites, deletes, listings, ACLs, tags, metadata, bucket tags): no stale read;
- races across gateways: one winner of CreateBucket, of If-None-Match: * PUTs, of
  CompleteMultipartUpload; parts uploaded through two gateways completed through a third;
- kill -9 of a gateway mid-write: every acknowledged write readable through the others, no
  partial object, the gateway serves again once restarted;
- kill -9 of PostgreSQL: 503 (Retry-After, S3's XML body) in bounded time, never a 500 or a
  hang; every gateway recovers by itself once PostgreSQL is back; nothing acknowledged lost;
- lease takeover: access-log delivery goes on after the gateway holding its lease is killed
  (another takes the lease, epoch raised) and every record is delivered exactly once;
- request ids unique across the gateways.

Skipped where PostgreSQL cannot be had (pgtest.unavailable() says why). The counts and times
measured are printed (``pytest -s``) and quoted in docs/cluster.md, "What the tests prove".
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import secrets
import signal
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from botocore.exceptions import ClientError
from harness import Server, free_port, pg_cluster, root_creds

import pgtest

REASON = pgtest.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None,
                                reason=f"cluster tests need PostgreSQL: {REASON}")

GATEWAYS = 3
LEASE = 3.0  # --job-lease-seconds: a dead holder's lease is taken over after this
ARGS = ["--cluster", "--log-delivery-interval", "1", "--job-lease-seconds", str(LEASE),
        "--blob-grace", "5", "--meta-timeout", "5", "--no-fsync"]
# (--no-fsync: a kill -9 of a process loses nothing the kernel has; PostgreSQL's database
# has synchronous_commit on for the same reason, see ``cluster``)


class Cluster:
    def __init__(self, url: str, gateways: list[Server]) -> None:
        self.url = url
        self.gateways = gateways

    def clients(self) -> list[Any]:
        return [g.client() for g in self.gateways]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return list(conn.execute(sql, params).fetchall())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    pg = pg_cluster()
    url = pg.new_database("cluster")
    dbname = urllib.parse.urlsplit(url).path.lstrip("/")
    import psycopg

    with psycopg.connect(pg.url, autocommit=True) as conn:  # (pgtest's cluster: off)
        conn.execute(f'ALTER DATABASE "{dbname}" SET synchronous_commit = on')
    data = tmp_path_factory.mktemp("cluster") / "data"
    creds = root_creds("CLUSTERROOT")
    gateways = [Server(data, free_port(), creds, meta_url=url,
                       extra_args=[*ARGS, "--gateway-id", f"gw{i}"]) for i in range(GATEWAYS)]
    starters = [threading.Thread(target=g.start) for g in gateways]  # at once: no race
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    try:
        assert all(g.proc is not None and g.proc.poll() is None for g in gateways)
        yield Cluster(url, gateways)
    finally:
        for g in gateways:
            g.stop(signal.SIGTERM)
    for g in gateways:  # whatever happened, no gateway raised
        assert g.log_path is not None
        text = g.log_path.read_text(errors="replace")
        assert "Traceback" not in text, text[text.index("Traceback") - 2000:][:6000]


@pytest.fixture(autouse=True)
def _heal(cluster: Cluster) -> Iterator[None]:
    """After each test, whatever it left: PostgreSQL running, three gateways serving."""
    yield
    import psycopg

    pg = pg_cluster()
    try:
        psycopg.connect(pg.url, connect_timeout=5).close()
    except psycopg.OperationalError:
        pg.pg_ctl("start")
    for g in cluster.gateways:
        if g.proc is None or g.proc.poll() is not None:
            g.proc = None
            g.start()


def _code(err: ClientError) -> str:
    return str(err.response["Error"]["Code"])


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body).hexdigest() + '"'


# ---------------------------------------------------------------- consistency

PAIRS = int(os.environ.get("OBJECTSTORE_TEST_CLUSTER_PAIRS") or 2400)  # (more: a soak)
THREADS = 3


def test_write_here_read_there_is_never_stale(cluster: Cluster) -> None:
    """Each write on one gateway is followed by a read of it on another: objects (new,
    overwritten, deleted), listings, ACLs, tags, user metadata, bucket tags."""
    pairs = [0] * THREADS
    stale: list[str] = []
    failures: list[str] = []

    def worker(t: int) -> None:
        gws = cluster.clients()
        bucket = f"cons-{t}-{secrets.token_hex(4)}"
        gws[t % GATEWAYS].create_bucket(Bucket=bucket)
        n = 0

        def check(what: str, ok: bool) -> None:
            pairs[t] += 1
            if not ok:
                stale.append(f"thread {t} #{n}: {what}")
        prev = ""
        while pairs[t] < PAIRS // THREADS:
            w, r, x = (gws[(n + t + j) % GATEWAYS] for j in range(3))
            key = f"k/{n:05d}"
            body = secrets.token_bytes(100 + n % 300)
            try:
                w.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"n": str(n)})
                got = r.get_object(Bucket=bucket, Key=key)
                check("get after put", got["Body"].read() == body and
                      got["Metadata"] == {"n": str(n)})
                hot = secrets.token_bytes(64)
                r.put_object(Bucket=bucket, Key="hot", Body=hot)  # one key, overwritten
                check("head after overwrite",
                      x.head_object(Bucket=bucket, Key="hot")["ETag"] == _etag(hot))
                listed = x.list_objects_v2(Bucket=bucket, Prefix="k/", StartAfter=prev,
                                           MaxKeys=2)
                check("list after put", [o["Key"] for o in listed.get("Contents", [])] == [key])
                step = n % 4
                if step == 0:
                    x.delete_object(Bucket=bucket, Key=key)
                    try:
                        w.head_object(Bucket=bucket, Key=key)
                        check("head after delete", False)
                    except ClientError as err:
                        check("head after delete", _code(err) == "404")
                    listed = r.list_objects_v2(Bucket=bucket, Prefix=key)
                    check("list after delete", listed.get("KeyCount") == 0)
                else:
                    prev = key
                if step == 1:
                    w.put_object_acl(Bucket=bucket, Key=key, ACL="public-read")
                    grants = r.get_object_acl(Bucket=bucket, Key=key)["Grants"]
                    check("acl after put acl", any(
                        g["Grantee"].get("URI", "").endswith("/AllUsers") and
                        g["Permission"] == "READ" for g in grants))
                elif step == 2:
                    tags = [{"Key": "n", "Value": str(n)}]
                    x.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tags})
                    check("tags after put tags",
                          w.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == tags)
                elif step == 3:
                    r.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket,
                                  "Key": key}, Metadata={"m": f"new{n}"},
                                  MetadataDirective="REPLACE")
                    check("metadata after copy",
                          w.head_object(Bucket=bucket, Key=key)["Metadata"] == {"m": f"new{n}"})
                if n % 10 == 0:
                    tags = [{"Key": "round", "Value": str(n)}]
                    w.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
                    check("bucket tags after put",
                          r.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags)
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(f"thread {t} #{n}: {exc!r}")
                if len(failures) > 5:
                    return
            n += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.monotonic() - started
    print(f"\nconsistency: {sum(pairs)} write-here-read-there pairs over {GATEWAYS} gateways "
          f"in {took:.1f} s, {len(stale)} stale, {len(failures)} failed")
    assert failures == []
    assert stale == []
    assert sum(pairs) >= PAIRS


# ---------------------------------------------------------------- races

def _race(n: int, fn: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """``fn(i)`` for i in range(n) in threads released at once: ("ok", result) or (code, i)."""
    barrier = threading.Barrier(n)
    out: list[tuple[str, Any]] = [("", None)] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = ("ok", fn(i))
        except ClientError as err:
            out[i] = (_code(err), i)
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertions
            out[i] = (repr(exc), i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_one_winner_of_racing_bucket_creations(cluster: Cluster) -> None:
    """Three accounts (one client on each gateway) create the same bucket at once."""
    users = [cluster.gateways[0].new_user() for _ in range(GATEWAYS)]
    clients = [g.client(u) for g, u in zip(cluster.gateways, users, strict=True)]
    for round_ in range(4):
        name = f"race-{round_}-{secrets.token_hex(4)}"
        out = _race(len(clients), lambda i, name=name: clients[i].create_bucket(Bucket=name))
        winners = [i for i, (code, _) in enumerate(out) if code == "ok"]
        assert len(winners) == 1, out
        assert sorted(code for code, _ in out)[:-1] == ["BucketAlreadyExists"] * 2, out
        for i in range(len(clients)):  # the winner's bucket, as every gateway sees it
            other = cluster.gateways[(i + 1) % GATEWAYS].client(users[i])
            if i == winners[0]:
                other.head_bucket(Bucket=name)
            else:
                with pytest.raises(ClientError) as err:
                    other.put_object(Bucket=name, Key="x", Body=b"x")
                assert _code(err.value) == "AccessDenied"


def test_one_winner_of_racing_if_none_match_puts(cluster: Cluster) -> None:
    clients = cluster.clients() * 2  # two on each gateway
    bucket = f"inm-{secrets.token_hex(4)}"
    clients[0].create_bucket(Bucket=bucket)
    for round_ in range(8):
        key = f"r{round_}"
        out = _race(len(clients), lambda i, key=key: clients[i].put_object(
            Bucket=bucket, Key=key, Body=f"{i}".encode(), IfNoneMatch="*"))
        winners = [i for i, (code, _) in enumerate(out) if code == "ok"]
        assert len(winners) == 1, out
        assert {code for code, _ in out} <= {"ok", "PreconditionFailed",
                                             "ConditionalRequestConflict"}, out
        for c in cluster.clients():
            assert c.get_object(Bucket=bucket, Key=key)["Body"].read() == f"{winners[0]}".encode()


def test_one_winner_of_racing_completes(cluster: Cluster) -> None:
    """Six parts through two gateways; six clients on three gateways each complete the
    upload with a different part: one commit, every 200 names it, the object is its part."""
    a, b, c = cluster.clients()
    clients = [a, b, c] * 2
    bucket = f"mpr-{secrets.token_hex(4)}"
    a.create_bucket(Bucket=bucket)
    for round_ in range(3):
        key = f"raced{round_}"
        up = a.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        bodies = [secrets.token_bytes(1000 + i) for i in range(6)]
        etags = [(a if i % 2 else b).upload_part(Bucket=bucket, Key=key, UploadId=up,
                                                 PartNumber=i + 1, Body=bodies[i])["ETag"]
                 for i in range(6)]
        def complete(i: int, key: str = key, up: str = up, etags: list[str] = etags) -> str:
            return str(clients[i].complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=up,
                MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": etags[i]}]})["ETag"])
        out = _race(6, complete)
        assert {code for code, _ in out} <= {"ok", "NoSuchUpload"}, out
        final = c.head_object(Bucket=bucket, Key=key)["ETag"]
        body = b.get_object(Bucket=bucket, Key=key)["Body"].read()
        winners = [i for i in range(6) if body == bodies[i]]
        assert len(winners) == 1
        md5 = hashlib.md5(bytes.fromhex(etags[winners[0]].strip('"'))).hexdigest()
        assert final == f'"{md5}-1"'
        assert out[winners[0]] == ("ok", final)
        assert all(etag == final for code, etag in out if code == "ok"), out


def test_parts_through_two_gateways_completed_through_a_third(cluster: Cluster) -> None:
    a, b, c = cluster.clients()
    bucket = f"mp3-{secrets.token_hex(4)}"
    a.create_bucket(Bucket=bucket)
    up = a.create_multipart_upload(Bucket=bucket, Key="big", Metadata={"via": "three"})
    uid = up["UploadId"]
    p1, p2, p3 = os.urandom(5 << 20), os.urandom(5 << 20), os.urandom(1234)
    e1 = a.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = b.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    e3 = a.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=3, Body=p3)["ETag"]
    listed = c.list_parts(Bucket=bucket, Key="big", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in listed] == [(1, e1), (2, e2), (3, e3)]
    c.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                  {"PartNumber": 3, "ETag": e3}]})
    for cl in (a, b, c):
        got = cl.get_object(Bucket=bucket, Key="big")
        assert got["Body"].read() == p1 + p2 + p3
        assert got["Metadata"] == {"via": "three"}
    assert b.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# ---------------------------------------------------------------- request ids

def test_request_ids_are_unique_across_gateways(cluster: Cluster) -> None:
    bucket = f"rid-{secrets.token_hex(4)}"
    clients = cluster.clients()
    clients[0].create_bucket(Bucket=bucket)
    ids: list[str] = []
    for c in clients:
        for i in range(150):
            if i % 3:
                resp = c.head_bucket(Bucket=bucket)
                ids.append(resp["ResponseMetadata"]["RequestId"])
            else:
                with pytest.raises(ClientError) as err:  # errors carry one too
                    c.head_object(Bucket=bucket, Key="absent")
                ids.append(err.value.response["ResponseMetadata"]["RequestId"])
    assert all(re.fullmatch(r"[0-9A-F]{24}", i) for i in ids), ids[:5]
    assert len(set(ids)) == len(ids) == 450
    assert len({i[:16] for i in ids}) == GATEWAYS  # one per-process prefix each


# ---------------------------------------------------------------- kill -9 of a gateway

def _slow_put(srv: Server, url: str, size: int, sent: threading.Event,
              result: list[Any]) -> None:
    """A PUT of ``size`` bytes sent in 64 KiB pieces, ``sent`` set after half of them."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.putrequest("PUT", parts.path + "?" + parts.query, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        piece = b"p" * 65536
        for i in range(size // len(piece)):
            conn.send(piece)
            if i == size // len(piece) // 2:
                sent.set()
                time.sleep(0.2)
        result.append(conn.getresponse().status)
    except OSError as exc:
        result.append(exc)
    finally:
        sent.set()
        conn.close()


def test_kill_9_of_a_gateway_mid_write(cluster: Cluster) -> None:
    victim, *survivors = cluster.gateways
    vc = victim.client()
    bucket = f"kill-{secrets.token_hex(4)}"
    vc.create_bucket(Bucket=bucket)
    old = secrets.token_bytes(3000)
    vc.put_object(Bucket=bucket, Key="large", Body=old)  # overwritten by the cut PUT
    up = vc.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]  # dies with it
    part1 = os.urandom(5 << 20)
    e1 = vc.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=part1)["ETag"]
    acked: dict[str, bytes] = {}
    tried: dict[str, bytes] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def writer(w: int) -> None:
        c = victim.client()
        i = 0
        while not stop.is_set():
            key = f"w{w}/{i:05d}"
            body = secrets.token_bytes(100 + (i * 997) % (200 << 10))  # inline and blobs
            with lock:
                tried[key] = body
            try:
                c.put_object(Bucket=bucket, Key=key, Body=body)
            except Exception:  # noqa: BLE001 - the gateway died under it
                return
            with lock:
                acked[key] = body
            i += 1
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in writers:
        t.start()
    url = vc.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "large"})
    sent = threading.Event()
    result: list[Any] = []
    big = threading.Thread(target=_slow_put, args=(victim, url, 64 << 20, sent, result))
    big.start()
    assert sent.wait(30)
    deadline = time.monotonic() + 30
    while len(acked) < 20 and time.monotonic() < deadline:  # (a slow machine)
        time.sleep(0.05)
    time.sleep(0.2)
    victim.stop(signal.SIGKILL)
    stop.set()
    for t in writers + [big]:
        t.join(timeout=30)
    assert not isinstance(result[0], int), result  # the large PUT was cut, not answered
    assert len(acked) > 20, len(acked)
    sa, sb = (s.client() for s in survivors)
    assert sa.get_object(Bucket=bucket, Key="large")["Body"].read() == old  # not partial
    for n, (key, body) in enumerate(sorted(acked.items())):
        c = sa if n % 2 else sb
        assert c.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
    listed = {o["Key"]: o for p in sb.get_paginator("list_objects_v2").paginate(Bucket=bucket)
              for o in p.get("Contents", [])}
    for key in set(tried) - set(acked):  # in flight: absent, or whole
        if key in listed:
            assert sa.get_object(Bucket=bucket, Key=key)["Body"].read() == tried[key], key
    assert set(listed) <= set(tried) | {"large"}
    # the upload begun on the dead gateway goes on through the others
    e2 = sa.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=2, Body=b"end")["ETag"]
    sb.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert sa.get_object(Bucket=bucket, Key="mp")["Body"].read() == part1 + b"end"
    print(f"\nkill -9 of a gateway: {len(acked)} acknowledged PUTs all readable, "
          f"{len(set(tried) - set(acked))} in flight, a 64 MiB PUT cut at half")
    victim.start()  # restarted: it serves again, the others' writes included
    vc = victim.client()
    assert vc.get_object(Bucket=bucket, Key="large")["Body"].read() == old
    vc.put_object(Bucket=bucket, Key="after", Body=b"again")
    assert sa.get_object(Bucket=bucket, Key="after")["Body"].read() == b"again"


# ---------------------------------------------------------------- lease takeover

def _records(cluster: Cluster, client: Any, target: str) -> list[str]:
    """Request ids of every delivered log record (field 7 of S3's format)."""
    ids: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target):
        for o in page.get("Contents", []):
            text = client.get_object(Bucket=target, Key=o["Key"])["Body"].read().decode()
            ids += [line.split(" ")[6] for line in text.splitlines() if line]
    return ids


def _lease(cluster: Cluster, name: str) -> tuple[str, int, float] | None:
    rows = cluster.query("SELECT holder, epoch, expires FROM leases WHERE name=%s", (name,))
    return (str(rows[0][0]), int(rows[0][1]), float(rows[0][2])) if rows else None


def _holder(cluster: Cluster, holder: str) -> Server | None:
    """The running gateway a lease holder names (holder_id(): host:pid:random)."""
    pid = int(holder.split(":")[-2])
    found = [g for g in cluster.gateways if g.proc is not None and g.proc.pid == pid]
    return found[0] if found else None


def test_log_delivery_lease_taken_over_after_kill_9(cluster: Cluster) -> None:
    """Requests to a logged bucket through every gateway; the gateway delivering the logs
    (holding the ``access-logs`` lease) is killed: another takes the lease over with the
    epoch raised and delivers the rest; every record is delivered exactly once."""
    c0 = cluster.clients()[0]
    source, target = f"src-{secrets.token_hex(4)}", f"logs-{secrets.token_hex(4)}"
    c0.create_bucket(Bucket=target, ACL="log-delivery-write")
    c0.create_bucket(Bucket=source)
    c0.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": target, "TargetPrefix": "log/"}})
    sent: dict[str, Server] = {}  # request id -> the gateway that served it

    def traffic(gateways: list[Server], n: int) -> None:
        for i in range(n):
            g = gateways[i % len(gateways)]
            resp = g.client().put_object(Bucket=source, Key=f"k{i}", Body=b"x")
            sent[resp["ResponseMetadata"]["RequestId"]] = g

    traffic(cluster.gateways, 60)
    deadline = time.monotonic() + 20
    while (lease := _lease(cluster, "access-logs")) is None or lease[2] < time.time() or \
            _holder(cluster, lease[0]) is None:  # (a gateway killed before may hold it)
        assert time.monotonic() < deadline, "no running gateway took the access-logs lease"
        time.sleep(0.1)
    holder, epoch, _ = lease
    victim = _holder(cluster, holder)
    assert victim is not None
    survivors = [g for g in cluster.gateways if g is not victim]
    reader = survivors[0].client()
    # the victim's records must be kept (committed) before it dies: wait until all are
    # either delivered or waiting in the access_log table
    deadline = time.monotonic() + 20
    while True:
        waiting = " ".join(r[0] for r in cluster.query("SELECT line FROM access_log"))
        delivered = set(_records(cluster, reader, target))
        if all(rid in delivered or rid in waiting for rid in sent):
            break
        assert time.monotonic() < deadline, "records not kept"
        time.sleep(0.2)
    kept = set(sent)
    traffic([victim], 30)  # (these may be lost with it: best effort, like S3's)
    victim.stop(signal.SIGKILL)
    try:
        killed = time.monotonic()
        # what the job had to deliver when its holder died: records waiting, delivered
        at_kill = {rid for rid in sent if rid in " ".join(
            r[0] for r in cluster.query("SELECT line FROM access_log"))}
        at_kill |= set(_records(cluster, reader, target))
        traffic(survivors, 60)
        deadline = time.monotonic() + 30
        while (lease := _lease(cluster, "access-logs")) is None or lease[0] == holder:
            assert time.monotonic() < deadline, "the lease was not taken over"
            time.sleep(0.1)
        took = time.monotonic() - killed
        new_holder, new_epoch, _ = lease
        assert new_epoch > epoch
        assert _holder(cluster, new_holder) in survivors
        must = kept | at_kill | {rid for rid, g in sent.items() if g is not victim}
        deadline = time.monotonic() + 30
        while True:
            delivered_list = _records(cluster, reader, target)
            if must <= set(delivered_list):
                break
            assert time.monotonic() < deadline, sorted(must - set(delivered_list))[:5]
            time.sleep(0.3)
        assert len(delivered_list) == len(set(delivered_list))  # none twice
        assert set(delivered_list) <= set(sent)
        print(f"\nlease takeover: access-logs lease {holder} epoch {epoch} -> {new_holder} "
              f"epoch {new_epoch} {took:.1f} s after kill -9; {len(delivered_list)} records "
              f"delivered once each of {len(sent)} requests, {len(must)} required")
    finally:
        victim.start()  # (whatever happened: the next tests need three gateways)
    victim.client().head_bucket(Bucket=source)


# ---------------------------------------------------------------- kill -9 of PostgreSQL

def _kill_postgres(pg: pgtest.Cluster) -> None:
    """SIGKILL to the postmaster and every process it started (a crash, not a shutdown)."""
    assert pg.directory is not None
    pid = int((pg.directory / "data" / "postmaster.pid").read_text().split()[0])
    children = [e for e in os.listdir("/proc") if e.isdigit() and _ppid(int(e)) == pid]
    for p in [pid, *map(int, children)]:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in [pid, *map(int, children)]:
        while Path(f"/proc/{p}").exists() and "Z" not in _state(p):
            time.sleep(0.05)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _raw(srv: Server, method: str, url: str, body: bytes | None = None
         ) -> tuple[int, dict[str, str], bytes, float]:
    parts = urllib.parse.urlsplit(url)
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.request(method, parts.path + "?" + parts.query, body=body)
        resp = conn.getresponse()
        data = resp.read()
        return (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data,
                time.monotonic() - started)
    finally:
        conn.close()


def test_kill_9_of_postgres_answers_503_and_recovers(cluster: Cluster) -> None:
    pg = pg_cluster()
    if pg.directory is None:
        pytest.skip("needs a private PostgreSQL cluster to kill (not OBJECTSTORE_TEST_PG_URL)")
    gws = cluster.gateways
    clients = cluster.clients()
    bucket = f"pgkill-{secrets.token_hex(4)}"
    clients[0].create_bucket(Bucket=bucket)
    acked: dict[str, bytes] = {}
    answers: list[tuple[int, str, float]] = []
    stop = threading.Event()

    def writer(w: int) -> None:
        g = gws[w % GATEWAYS]
        c = clients[w % GATEWAYS]
        i = 0
        while not stop.is_set():
            key = f"w{w}/{i:05d}"
            body = secrets.token_bytes(200 + (i * 7919) % (100 << 10))
            url = c.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key})
            try:
                status, headers, data, took = _raw(g, "PUT", url, body)
            except OSError as exc:
                answers.append((0, repr(exc), 0.0))
                return
            if status == 200:
                acked[key] = body
            else:
                answers.append((status, headers.get("retry-after", "") + " " +
                                data.decode(errors="replace"), took))
                time.sleep(0.05)
            i += 1
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(GATEWAYS * 2)]
    for t in writers:
        t.start()
    time.sleep(1.0)
    before = len(acked)
    _kill_postgres(pg)
    down = time.monotonic()
    time.sleep(2.0)
    # while it is down: every gateway answers reads and writes 503 with Retry-After, fast
    url = clients[0].generate_presigned_url("get_object",
                                            Params={"Bucket": bucket, "Key": "w0/00000"})
    outage: list[tuple[int, str, float]] = []
    for g in gws:
        for method in ("GET", "PUT"):
            status, headers, data, took = _raw(g, method, url.replace(
                "w0/00000", "down") if method == "PUT" else url, b"x" if method == "PUT" else None)
            outage.append((status, headers.get("retry-after", ""), took))
            assert status == 503, (g.port, method, status, data)
            assert headers.get("retry-after", "").isdigit(), headers
            assert re.search(rb"<Code>(ServiceUnavailable|SlowDown)</Code>", data), data
            assert b"<RequestId>" in data, data
            assert took < 10, took
    pg.pg_ctl("start")
    up = time.monotonic()
    # every gateway serves again by itself
    deadline = time.monotonic() + 30
    recovered: dict[int, float] = {}
    while len(recovered) < GATEWAYS:
        assert time.monotonic() < deadline, recovered
        for g, c in zip(gws, clients, strict=True):
            if g.port in recovered:
                continue
            try:
                c.put_object(Bucket=bucket, Key=f"back-{g.port}", Body=b"back")
                c.get_object(Bucket=bucket, Key=f"back-{g.port}")
                recovered[g.port] = time.monotonic() - up
            except ClientError as err:
                assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 503, err
                time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    for t in writers:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in writers)
    during = answers
    assert all(status == 503 for status, _, _ in during), during[:5]
    assert all(re.match(r"\d+ .*<Code>(ServiceUnavailable|SlowDown)</Code>", text, re.S)
               for _, text, _ in during), during[:3]
    assert max((took for _, _, took in during), default=0) < 15
    for n, (key, body) in enumerate(sorted(acked.items())):  # nothing acknowledged lost
        assert clients[n % GATEWAYS].get_object(Bucket=bucket, Key=key)["Body"].read() == body
    print(f"\nkill -9 of PostgreSQL: {len(acked)} acknowledged PUTs ({before} before the kill)"
          f" all readable; {len(during)} answers 503 while down ({time.monotonic() - down:.0f} s"
          f"), slowest {max((t for _, _, t in during), default=0):.2f} s; gateways serving "
          f"again {max(recovered.values()):.2f} s after PostgreSQL started")
