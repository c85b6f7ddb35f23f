"""Crash-test harness: random writes from several client threads while the server is killed
with SIGKILL at random moments and restarted; after every restart the data is checked
against a model of what was acknowledged.

The model keeps, for each key, the set of states it may be in: exactly one (the last
acknowledged write) unless a write to it was cut off by the kill, in which case the old
and the new state are both acceptable ("entirely old or entirely new"). Each key is
written by one thread at a time (per-key locks), so acknowledged writes are totally
ordered per key and the model is exact. After each restart the harness reads every key
back (sha256 of the whole body, ETag, size), compares ListObjectsV2 and
ListMultipartUploads/ListParts with the model, and collapses every uncertain state to
what it found. Any 5xx, any unexpected error, any acknowledged write lost and any
traceback in the server log is a failure.

Short runs are part of the test suite (tests/integration/test_crash.py); the soak:

    PYTHONPATH=src python tests/integration/crash_harness.py --cycles 100
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Creds, Server, free_port  # noqa: E402

MiB = 1024 * 1024
BUCKETS = ("crash-a", "crash-b")
KEYS = tuple(f"key-{i}" for i in range(4)) + ("dir/key-4", "dir/key-5", "k6", "k7")
PUT_SIZES = (0, 1, 100, 4096, 20_000, 65_535, 65_536, 70_000, 300_000, MiB + 17, 3 * MiB + 5)
PUT_SIZE_WEIGHTS = (2, 3, 4, 4, 4, 2, 2, 4, 3, 2, 1)
PART1_MIN = 5 * MiB
MAX_OPEN_UPLOADS = 6


def body_of(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@dataclass(frozen=True)
class Content:
    """What a key holds: size, sha256 of the whole body and the ETag the server gives it."""
    size: int
    sha256: str
    etag: str

    @staticmethod
    def of(body: bytes) -> Content:
        return Content(len(body), hashlib.sha256(body).hexdigest(),
                       f'"{hashlib.md5(body).hexdigest()}"')


@dataclass(frozen=True)
class Part:
    seed: int
    size: int
    md5: str  # hex

    def body(self) -> bytes:
        return body_of(self.seed, self.size)


State = Content | None  # None: the key is absent
PartState = Part | None


@dataclass(eq=False)
class Slot:
    bucket: str
    key: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    states: set[State] = field(default_factory=lambda: {None})
    unknown_creates: int = 0  # CreateMultipartUpload cut off: an upload we never saw may exist

    @property
    def certain(self) -> State:
        assert len(self.states) == 1, (self.bucket, self.key, self.states)
        return next(iter(self.states))


@dataclass
class Upload:
    slot: Slot
    upload_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    parts: dict[int, set[PartState]] = field(default_factory=dict)
    closing: str | None = None  # "complete" | "abort": cut off while closing
    completes_to: State = None  # the content a cut-off complete would have produced
    done: bool = False


class Stop(Exception):
    """The server is gone: this worker stops until the next cycle."""


@dataclass
class Stats:
    cycles: int = 0
    kills: int = 0
    acked: Counter[str] = field(default_factory=Counter)
    cut_off: Counter[str] = field(default_factory=Counter)
    verified_objects: int = 0
    verified_uploads: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    temp_files_left: int = 0  # in the data directory's tmp/ after the last restart
    temp_bytes_left: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "cycles": self.cycles, "kills": self.kills,
            "operations_acknowledged": sum(self.acked.values()),
            "acknowledged_by_op": dict(sorted(self.acked.items())),
            "cut_off": sum(self.cut_off.values()),
            "cut_off_by_op": dict(sorted(self.cut_off.items())),
            "verified_objects": self.verified_objects,
            "verified_uploads": self.verified_uploads,
            "failures": self.failures[:20], "failure_count": len(self.failures),
            "seconds": round(self.seconds, 1),
            "temp_files_left": self.temp_files_left, "temp_bytes_left": self.temp_bytes_left,
        }


def new_client(server: Server) -> Any:
    session = boto3.session.Session()
    return session.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=server.root.access_key, aws_secret_access_key=server.root.secret_key,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30,
                      max_pool_connections=4))


def _code(err: ClientError) -> tuple[int, str]:
    return (int(err.response["ResponseMetadata"].get("HTTPStatusCode", 0)),
            str(err.response.get("Error", {}).get("Code", "")))


class CrashTest:
    def __init__(self, server: Server, threads: int = 4, seed: int | None = None,
                 min_run: float = 0.3, max_run: float = 2.0) -> None:
        self.server = server
        self.threads = threads
        self.rng = random.Random(seed)
        self.min_run, self.max_run = min_run, max_run
        self.slots = {(b, k): Slot(b, k) for b in BUCKETS for k in KEYS}
        self.uploads: dict[str, Upload] = {}
        self.model_lock = threading.Lock()  # guards self.uploads and stats
        self.killed = threading.Event()
        self.stats = Stats()
        self.log_offset = 0

    # -- running -------------------------------------------------------------------------

    def setup(self) -> None:
        s3 = new_client(self.server)
        for b in BUCKETS:
            s3.create_bucket(Bucket=b)

    def run(self, cycles: int, progress: Callable[[str], None] | None = None) -> Stats:
        t0 = time.monotonic()
        for i in range(cycles):
            self.cycle(self.rng.randrange(1 << 62))
            self.stats.seconds = time.monotonic() - t0
            self._count_temp_files()
            if progress:
                s = self.stats
                progress(f"cycle {i + 1}/{cycles}: {sum(s.acked.values())} acked, "
                         f"{sum(s.cut_off.values())} cut off, {s.verified_objects} verified, "
                         f"{len(s.failures)} failures, {s.seconds:.0f} s")
        return self.stats

    def _count_temp_files(self) -> None:
        files, size = 0, 0
        for p in (self.server.data_dir / "tmp").glob("**/*"):
            try:
                if p.is_file() and not p.name.startswith("."):  # not a gateway's .alive
                    files, size = files + 1, size + p.stat().st_size
            except OSError:
                pass  # removed while we looked
        self.stats.temp_files_left, self.stats.temp_bytes_left = files, size

    def cycle(self, seed: int) -> None:
        self.killed.clear()
        workers = [threading.Thread(target=self._worker, args=(seed + i, new_client(self.server)),
                                    daemon=True) for i in range(self.threads)]
        for w in workers:
            w.start()
        time.sleep(random.Random(seed).uniform(self.min_run, self.max_run))
        self.killed.set()
        self._kill()
        self.stats.kills += 1
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                self.stats.failures.append("a client thread hung after the kill")
        self.server.start()
        self.verify()
        self._check_log()
        self.stats.cycles += 1

    def _kill(self) -> None:
        """SIGKILL the server; with --workers, its worker processes too (a machine crash)."""
        assert self.server.proc is not None
        pid = self.server.proc.pid
        try:
            kids = [int(p) for p in
                    Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            kids = []
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.server.stop(signal.SIGKILL)

    def _worker(self, seed: int, s3: Any) -> None:
        rng = random.Random(seed)
        ops: list[tuple[Callable[[Any, random.Random], None], int]] = [
            (self.op_put, 40), (self.op_get, 10), (self.op_copy, 10), (self.op_delete, 8),
            (self.op_delete_objects, 6), (self.op_mp_create, 4), (self.op_mp_part, 7),
            (self.op_mp_complete, 4), (self.op_mp_abort, 2)]
        fns, weights = zip(*ops, strict=True)
        while not self.killed.is_set():
            op = rng.choices(fns, weights)[0]
            try:
                op(s3, rng)
            except Stop:
                return
            except Exception as exc:  # noqa: BLE001 - a harness bug must not hang the run
                self._fail(f"harness error in {op.__name__}: {exc!r}")
                return

    def _fail(self, msg: str) -> None:
        with self.model_lock:
            self.stats.failures.append(msg)

    def _ack(self, op: str) -> None:
        with self.model_lock:
            self.stats.acked[op] += 1

    def _call(self, op: str, fn: Callable[[], Any], on_cut: Callable[[], None],
              expected: tuple[str, ...] = ()) -> Any:
        """fn()'s answer; None for an expected S3 error; raises Stop when the server died
        under it (after on_cut() marked the op's possible effects in the model)."""
        try:
            return fn()
        except ClientError as err:
            status, code = _code(err)
            if code in expected and status < 500:
                return None
            if not (self.killed.is_set() and status == 0):
                self._fail(f"{op}: unexpected {status} {code}: {err}")
                raise Stop from err
            self._cut(op, on_cut)
            raise Stop from err
        except Exception as exc:
            if not self.killed.is_set():
                self._fail(f"{op}: connection failed while the server was up: {exc!r}")
                raise Stop from exc
            self._cut(op, on_cut)
            raise Stop from exc

    def _cut(self, op: str, on_cut: Callable[[], None]) -> None:
        """The server died under ``op``: its possible effects go into the model."""
        on_cut()
        with self.model_lock:
            self.stats.cut_off[op] += 1

    def _slot(self, rng: random.Random, bucket: str | None = None) -> Slot:
        return self.slots[(bucket or rng.choice(BUCKETS), rng.choice(KEYS))]

    @staticmethod
    def _locked(*slots: Slot) -> ExitStack:
        stack = ExitStack()
        for s in sorted({(s.bucket, s.key): s for s in slots}.values(),
                        key=lambda s: (s.bucket, s.key)):
            stack.enter_context(s.lock)
        return stack

    # -- operations ----------------------------------------------------------------------

    def op_put(self, s3: Any, rng: random.Random) -> None:
        slot = self._slot(rng)
        size = rng.choices(PUT_SIZES, PUT_SIZE_WEIGHTS)[0]
        body = rng.randbytes(size)
        new = Content.of(body)
        with self._locked(slot):
            resp = self._call("PutObject", lambda: s3.put_object(
                Bucket=slot.bucket, Key=slot.key, Body=body), lambda: slot.states.add(new))
            if resp["ETag"] != new.etag:
                self._fail(f"PutObject {slot.key}: ETag {resp['ETag']} != {new.etag}")
            slot.states = {new}
        self._ack("PutObject")

    def op_get(self, s3: Any, rng: random.Random) -> None:
        slot = self._slot(rng)
        with self._locked(slot):
            if len(slot.states) != 1:
                return
            want = slot.certain
            resp = self._call("GetObject", lambda: self._read(s3, slot), lambda: None)
            if resp != want:
                self._fail(f"GetObject {slot.bucket}/{slot.key}: {resp} != acknowledged {want}")
        self._ack("GetObject")

    def op_copy(self, s3: Any, rng: random.Random) -> None:
        src, dst = self._slot(rng), self._slot(rng)
        if src is dst:
            return
        with self._locked(src, dst):
            if len(src.states) != 1:
                return
            content = src.certain
            new = None if content is None else Content(content.size, content.sha256,
                                                       self._md5_etag(content))
            resp = self._call("CopyObject", lambda: s3.copy_object(
                Bucket=dst.bucket, Key=dst.key,
                CopySource={"Bucket": src.bucket, "Key": src.key}),
                lambda: dst.states.add(new) if new is not None else None,
                expected=("NoSuchKey",))
            if resp is None:
                if new is not None:
                    self._fail(f"CopyObject from {src.key}: NoSuchKey but it exists")
                return
            if new is None:
                self._fail(f"CopyObject from absent {src.key} succeeded")
                return
            etag = resp["CopyObjectResult"]["ETag"]
            new = Content(new.size, new.sha256, etag)
            dst.states = {new}
        self._ack("CopyObject")

    def _md5_etag(self, content: Content) -> str:
        """The ETag a copy of ``content`` gets: the MD5 of its bytes (multipart ETags are
        not MD5s of the body; such copies take the ETag the server answers)."""
        if "-" not in content.etag:
            return content.etag
        return "?"

    def op_delete(self, s3: Any, rng: random.Random) -> None:
        slot = self._slot(rng)
        with self._locked(slot):
            self._call("DeleteObject", lambda: s3.delete_object(Bucket=slot.bucket,
                                                                  Key=slot.key),
                       lambda: slot.states.add(None))
            slot.states = {None}
        self._ack("DeleteObject")

    def op_delete_objects(self, s3: Any, rng: random.Random) -> None:
        bucket = rng.choice(BUCKETS)
        picked = (self._slot(rng, bucket) for _ in range(rng.randint(1, 4)))
        slots = list({s.key: s for s in picked}.values())
        quiet = rng.random() < 0.5
        with self._locked(*slots):
            def cut() -> None:
                for s in slots:
                    s.states.add(None)
            resp = self._call("DeleteObjects", lambda: s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": s.key} for s in slots],
                                       "Quiet": quiet}), cut)
            if resp.get("Errors"):
                self._fail(f"DeleteObjects errors: {resp['Errors']}")
            deleted = {d["Key"] for d in resp.get("Deleted", [])}
            if not quiet and deleted != {s.key for s in slots}:
                self._fail(f"DeleteObjects: deleted {deleted}, asked {[s.key for s in slots]}")
            for s in slots:
                s.states = {None}
        self._ack("DeleteObjects")

    def _open_upload(self, rng: random.Random) -> Upload | None:
        with self.model_lock:
            open_ = [u for u in self.uploads.values() if not u.done and u.closing is None]
        return rng.choice(open_) if open_ else None

    def op_mp_create(self, s3: Any, rng: random.Random) -> None:
        with self.model_lock:
            if sum(not u.done for u in self.uploads.values()) >= MAX_OPEN_UPLOADS:
                return
        slot = self._slot(rng)

        def cut() -> None:
            with self.model_lock:
                slot.unknown_creates += 1
        resp = self._call("CreateMultipartUpload", lambda: s3.create_multipart_upload(
            Bucket=slot.bucket, Key=slot.key), cut)
        with self.model_lock:
            self.uploads[resp["UploadId"]] = Upload(slot, resp["UploadId"])
        self._ack("CreateMultipartUpload")

    def op_mp_part(self, s3: Any, rng: random.Random) -> None:
        up = self._open_upload(rng)
        if up is None:
            return
        number = rng.choice((1, 2))
        size = PART1_MIN + rng.randrange(65536) if number == 1 else rng.randint(1, 200_000)
        part = Part(rng.randrange(1 << 62), size, "")
        body = part.body()
        part = Part(part.seed, size, hashlib.md5(body).hexdigest())
        with up.lock:
            if up.done or up.closing:
                return
            resp = self._call("UploadPart", lambda: s3.upload_part(
                Bucket=up.slot.bucket, Key=up.slot.key, UploadId=up.upload_id,
                PartNumber=number, Body=body),
                lambda: up.parts.setdefault(number, {None}).add(part))
            if resp["ETag"] != f'"{part.md5}"':
                self._fail(f"UploadPart ETag {resp['ETag']} != {part.md5}")
            up.parts[number] = {part}
        self._ack("UploadPart")

    @staticmethod
    def _completion(up: Upload) -> tuple[list[tuple[int, Part]], Content] | None:
        parts: list[tuple[int, Part]] = []
        for n in sorted(up.parts):
            states = up.parts[n]
            if len(states) != 1:
                return None
            p = next(iter(states))
            if p is not None:
                parts.append((n, p))
        if not parts:
            return None
        sha, digests, size = hashlib.sha256(), b"", 0
        for _, p in parts:
            body = p.body()
            sha.update(body)
            size += len(body)
            digests += bytes.fromhex(p.md5)
        etag = f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'
        return parts, Content(size, sha.hexdigest(), etag)

    def op_mp_complete(self, s3: Any, rng: random.Random) -> None:
        up = self._open_upload(rng)
        if up is None:
            return
        with self._locked(up.slot), up.lock:
            if up.done or up.closing:
                return
            plan = self._completion(up)
            if plan is None:
                return
            parts, new = plan

            def cut() -> None:
                up.closing, up.completes_to = "complete", new
                up.slot.states.add(new)
            resp = self._call("CompleteMultipartUpload", lambda: s3.complete_multipart_upload(
                Bucket=up.slot.bucket, Key=up.slot.key, UploadId=up.upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": f'"{p.md5}"'}
                                           for n, p in parts]}), cut)
            if resp["ETag"] != new.etag:
                self._fail(f"CompleteMultipartUpload ETag {resp['ETag']} != {new.etag}")
            up.slot.states = {new}
            up.done = True
        self._ack("CompleteMultipartUpload")

    def op_mp_abort(self, s3: Any, rng: random.Random) -> None:
        up = self._open_upload(rng)
        if up is None:
            return
        with up.lock:
            if up.done or up.closing:
                return

            def cut() -> None:
                up.closing = "abort"
            self._call("AbortMultipartUpload", lambda: s3.abort_multipart_upload(
                Bucket=up.slot.bucket, Key=up.slot.key, UploadId=up.upload_id), cut)
            up.done = True
        self._ack("AbortMultipartUpload")

    # -- checking ------------------------------------------------------------------------

    @staticmethod
    def _read(s3: Any, slot: Slot) -> State:
        try:
            resp = s3.get_object(Bucket=slot.bucket, Key=slot.key)
        except ClientError as err:
            if _code(err)[1] == "NoSuchKey":
                return None
            raise
        sha, size = hashlib.sha256(), 0
        for chunk in resp["Body"].iter_chunks(1 << 20):
            sha.update(chunk)
            size += len(chunk)
        if size != resp["ContentLength"]:
            raise AssertionError(f"{slot.key}: {size} bytes, Content-Length "
                                 f"{resp['ContentLength']}")
        return Content(size, sha.hexdigest(), resp["ETag"])

    def verify(self) -> None:
        s3 = new_client(self.server)
        fails = self.stats.failures
        for slot in self.slots.values():
            try:
                got = self._read(s3, slot)
            except Exception as exc:  # noqa: BLE001
                fails.append(f"read {slot.bucket}/{slot.key} after restart: {exc!r}")
                continue
            if not self._acceptable(got, slot.states):
                fails.append(f"{slot.bucket}/{slot.key}: found {got}, acceptable "
                             f"{slot.states}")
            slot.states = {got}
            self.stats.verified_objects += 1
        for bucket in BUCKETS:
            listed = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for o in page.get("Contents", []):
                    listed[o["Key"]] = (o["Size"], o["ETag"])
            mine = [s for s in self.slots.values() if s.bucket == bucket]
            if any(len(s.states) != 1 for s in mine):
                continue  # a read failed above (reported): nothing to compare with
            want = {s.key: (s.certain.size, s.certain.etag) for s in mine
                    if s.certain is not None}
            if listed != want:
                fails.append(f"ListObjectsV2 {bucket}: {listed} != model {want}")
        self._verify_uploads(s3)

    @staticmethod
    def _acceptable(got: State, states: set[State]) -> bool:
        if got in states:
            return True
        # a copy of a multipart object: ETag only known once the server answered
        return got is not None and any(
            s is not None and s.etag == "?" and (s.size, s.sha256) == (got.size, got.sha256)
            for s in states)

    def _verify_uploads(self, s3: Any) -> None:
        fails = self.stats.failures
        listed: dict[str, tuple[str, str]] = {}
        for bucket in BUCKETS:
            resp = s3.list_multipart_uploads(Bucket=bucket)
            for u in resp.get("Uploads", []):
                listed[u["UploadId"]] = (bucket, u["Key"])
        for uid, (bucket, key) in listed.items():
            up = self.uploads.get(uid)
            if up is None or up.done and up.closing is None:
                slot = self.slots[(bucket, key)]
                if up is None and slot.unknown_creates > 0:
                    slot.unknown_creates -= 1
                    self._abort(s3, bucket, key, uid)
                else:
                    fails.append(f"upload {uid} on {bucket}/{key} listed, model: "
                                 f"{'unknown' if up is None else 'closed'}")
                continue
            if up.closing == "complete" and up.slot.certain == up.completes_to:
                fails.append(f"upload {uid} completed into {key} and still listed")
            self._verify_parts(s3, up)
            up.closing = None
            self.stats.verified_uploads += 1
        for uid, up in list(self.uploads.items()):
            if uid in listed:
                continue
            if not up.done and up.closing is None:
                fails.append(f"open upload {uid} on {up.slot.key} lost after restart")
            elif up.closing == "complete" and up.slot.certain != up.completes_to:
                fails.append(f"upload {uid} gone but {up.slot.key} does not hold its "
                             f"content")
            try:
                s3.list_parts(Bucket=up.slot.bucket, Key=up.slot.key, UploadId=uid)
                fails.append(f"ListParts on gone upload {uid} succeeded")
            except ClientError as err:
                if _code(err)[1] != "NoSuchUpload":
                    fails.append(f"ListParts on gone upload {uid}: {_code(err)}")
            self.stats.verified_uploads += 1
            del self.uploads[uid]
        for slot in self.slots.values():
            slot.unknown_creates = 0
        # keep the number of open uploads bounded: abort the oldest beyond the cap
        open_ = list(self.uploads.values())
        for up in open_[:max(0, len(open_) - MAX_OPEN_UPLOADS)]:
            self._abort(s3, up.slot.bucket, up.slot.key, up.upload_id)
            del self.uploads[up.upload_id]

    def _verify_parts(self, s3: Any, up: Upload) -> None:
        resp = s3.list_parts(Bucket=up.slot.bucket, Key=up.slot.key, UploadId=up.upload_id)
        found: dict[int, tuple[int, str]] = {p["PartNumber"]: (p["Size"], p["ETag"])
                                             for p in resp.get("Parts", [])}
        for n in set(up.parts) | set(found):
            states = up.parts.get(n, {None})
            match = [p for p in states if (p is None and n not in found) or
                     (p is not None and found.get(n) == (p.size, f'"{p.md5}"'))]
            if not match:
                self.stats.failures.append(
                    f"upload {up.upload_id} part {n}: found {found.get(n)}, "
                    f"acceptable {states}")
                up.parts.pop(n, None)
                continue
            up.parts[n] = {match[0]}

    def _abort(self, s3: Any, bucket: str, key: str, uid: str) -> None:
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
        except ClientError as err:
            self.stats.failures.append(f"abort {uid}: {_code(err)}")
            return
        try:
            s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)
            self.stats.failures.append(f"upload {uid} still there after abort")
        except ClientError as err:
            if _code(err)[1] != "NoSuchUpload":
                self.stats.failures.append(f"after abort {uid}: {_code(err)}")

    def _check_log(self) -> None:
        path = self.server.log_path
        if path is None or not path.exists():
            return
        with open(path, "rb") as f:
            f.seek(self.log_offset)
            text = f.read()
            self.log_offset = f.tell()
        for marker in (b"Traceback", b"internal error"):
            if marker in text:
                line = text[text.index(marker):][:300].decode("utf-8", "replace")
                self.stats.failures.append(f"server log: {line}")


def crash_server(base: Path, workers: int = 1) -> Server:
    """A server of its own on a fresh data directory under ``base``."""
    return Server(base / "data", free_port(),
                  Creds("CRASH" + secrets.token_hex(6).upper(), secrets.token_hex(20),
                        "admin", "admin"),
                  extra_args=["--workers", str(workers)] if workers > 1 else [])


def run(base: Path, cycles: int, threads: int = 4, seed: int | None = None,
        progress: Callable[[str], None] | None = None, workers: int = 1,
        **kw: float) -> Stats:
    server = crash_server(base, workers)
    server.start()
    try:
        test = CrashTest(server, threads=threads, seed=seed, **kw)
        test.setup()
        return test.run(cycles, progress)
    finally:
        if server.proc is not None:
            CrashTest(server)._kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1,
                        help="serve --workers N (each kill takes the workers down too)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--min-run", type=float, default=0.3,
                        help="shortest time between a (re)start and the kill, seconds")
    parser.add_argument("--max-run", type=float, default=2.0)
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the data directory goes (default: a temporary one)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    print(f"seed {seed}", flush=True)
    with ExitStack() as stack:
        base = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stats = run(base, args.cycles, args.threads, seed,
                    progress=lambda line: print(line, flush=True), workers=args.workers,
                    min_run=args.min_run, max_run=args.max_run)
    print(json.dumps(stats.summary(), indent=2))
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
