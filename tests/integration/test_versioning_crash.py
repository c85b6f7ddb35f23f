"""kill -9 during versioned writes, copies (shared blobs) and deletes (markers, permanent
version deletes): every acknowledged version survives with its bytes, every acknowledged
permanent delete stays done, no blob a version refers to is freed — neither by the delete
paths nor by `objectstore gc` afterwards (then `fsck --repair` and `scrub` find no missing
or damaged blob). A second run adds multipart sources (several segments, each shared by
the copies made of them)."""

from __future__ import annotations

import hashlib
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from crash_harness import crash_server, new_client
from harness import Server

BUCKET = "crash-versions"
SIZES = (0, 10, 4096, 70_000, 300_000)  # inline and blob-backed bodies
PART = 5 * 1024 * 1024


@dataclass
class Model:
    """Per key (each written by one thread): versions acknowledged and still live, and
    version ids acknowledged as permanently deleted. ``doubt``: ids of operations cut off
    by the kill (their outcome may be either)."""
    live: dict[str, str] = field(default_factory=dict)  # version id -> sha256
    gone: set[str] = field(default_factory=set)
    doubt: set[str] = field(default_factory=set)
    big: set[str] = field(default_factory=set)  # multipart versions and copies of them


def _multipart(s3: Any, key: str, body: bytes) -> str:
    """A multipart upload of ``body`` in 5 MiB parts (several segments); its version id."""
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = []
    for n, start in enumerate(range(0, len(body), PART), start=1):
        etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=n,
                              Body=body[start:start + PART])["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    return str(s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up,
                                            MultipartUpload={"Parts": parts})["VersionId"])


def _worker(server: Server, keys: list[str], models: dict[str, Model], rng: random.Random,
            stop: threading.Event, multipart: float = 0.0) -> None:
    s3 = new_client(server)
    try:
        while not stop.is_set():
            key = rng.choice(keys)
            m = models[key]
            op = rng.random()
            try:
                if op < multipart:
                    body = rng.randbytes(PART + rng.choice(SIZES[1:]))
                    vid = _multipart(s3, key, body)
                    m.live[vid] = hashlib.sha256(body).hexdigest()
                    m.big.add(vid)
                elif op < 0.5 or not m.live:
                    body = rng.randbytes(rng.choice(SIZES))
                    vid = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
                    m.live[vid] = hashlib.sha256(body).hexdigest()
                elif op < 0.65:
                    src = rng.choice(sorted(m.live))
                    dst = rng.choice(keys)
                    out = s3.copy_object(Bucket=BUCKET, Key=dst, CopySource={
                        "Bucket": BUCKET, "Key": key, "VersionId": src})
                    models[dst].live[out["VersionId"]] = m.live[src]
                    if src in m.big:
                        models[dst].big.add(out["VersionId"])
                elif op < 0.8:
                    s3.delete_object(Bucket=BUCKET, Key=key)  # a marker: nothing lost
                else:
                    vid = rng.choice(sorted(m.live))
                    m.doubt.add(vid)
                    s3.delete_object(Bucket=BUCKET, Key=key, VersionId=vid)
                    del m.live[vid]
                    m.gone.add(vid)
                    m.doubt.discard(vid)
            except Exception:  # noqa: BLE001 - the server was killed mid-request
                return
    finally:
        s3.close()


def _verify(server: Server, models: dict[str, Model]) -> int:
    s3 = new_client(server)
    checked = 0
    for key, m in models.items():
        for vid, sha in list(m.live.items()):
            if vid in m.doubt:
                continue
            body = s3.get_object(Bucket=BUCKET, Key=key, VersionId=vid)["Body"].read()
            assert hashlib.sha256(body).hexdigest() == sha, (key, vid)
            checked += 1
        for vid in m.gone:
            try:
                s3.head_object(Bucket=BUCKET, Key=key, VersionId=vid)
                raise AssertionError(f"{key}?versionId={vid} came back")
            except ClientError as e:
                assert e.response["Error"]["Code"] in ("404", "NoSuchVersion")
        # the doubtful deletes: settle them from what the server has
        for vid in list(m.doubt):
            try:
                s3.head_object(Bucket=BUCKET, Key=key, VersionId=vid)
            except ClientError:
                m.live.pop(vid, None)
                m.gone.add(vid)
            m.doubt.discard(vid)
    s3.close()
    return checked


def test_kill_during_versioned_writes_and_deletes(tmp_path: Path) -> None:
    _crash_cycles(tmp_path, seed=20261130, cycles=5, multipart=0.0, runtime=(0.4, 1.2))


def test_kill_while_copying_multipart_versions(tmp_path: Path) -> None:
    """Multipart sources (several segments, each shared by copies) written, copied and
    deleted while the server is killed; then gc; every acknowledged version reads back."""
    models = _crash_cycles(tmp_path, seed=20261201, cycles=4, multipart=0.15,
                           runtime=(1.5, 3.0))
    big = sum(1 for m in models.values() for vid in m.big if vid in m.live)
    assert big >= 3, big  # multipart versions (and shared copies of them) were checked


def _crash_cycles(tmp_path: Path, seed: int, cycles: int, multipart: float,
                  runtime: tuple[float, float]) -> dict[str, Model]:
    server = crash_server(tmp_path)
    server.start()
    rng = random.Random(seed)
    try:
        s3 = new_client(server)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.close()
        groups = [[f"t{t}-k{i}" for i in range(3)] for t in range(3)]
        models = {k: Model() for g in groups for k in g}
        checked = 0
        for _cycle in range(cycles):
            stop = threading.Event()
            threads = [threading.Thread(target=_worker, args=(
                server, g, models, random.Random(rng.random()), stop, multipart))
                for g in groups]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(*runtime))
            server.stop(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(timeout=30)
            server.start()
            checked += _verify(server, models)
        # gc with the server stopped frees no blob a version refers to
        server.stop()
        server.admin("gc", "--grace", "0")
        server.admin("fsck", "--repair", "--grace", "0")  # exit 1: a blob missing or damaged
        server.admin("scrub", "--grace", "0")  # and nothing left over
        server.start()
        checked += _verify(server, models)
        assert checked > 50
        assert "Traceback" not in (server.log_path.read_text() if server.log_path else "")
        return models
    finally:
        if server.proc is not None:
            server.stop(signal.SIGKILL)
