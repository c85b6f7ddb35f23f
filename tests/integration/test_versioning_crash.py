"""kill -9 during versioned writes, copies (shared blobs) and deletes (markers, permanent
version deletes): every acknowledged version survives with its bytes, every acknowledged
permanent delete stays done, no blob a version refers to is freed — neither by the delete
paths nor by `objectstore gc` afterwards."""

from __future__ import annotations

import hashlib
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError
from crash_harness import crash_server, new_client
from harness import Server

BUCKET = "crash-versions"
SIZES = (0, 10, 4096, 70_000, 300_000)  # inline and blob-backed bodies


@dataclass
class Model:
    """Per key (each written by one thread): versions acknowledged and still live, and
    version ids acknowledged as permanently deleted. ``doubt``: ids of operations cut off
    by the kill (their outcome may be either)."""
    live: dict[str, str] = field(default_factory=dict)  # version id -> sha256
    gone: set[str] = field(default_factory=set)
    doubt: set[str] = field(default_factory=set)


def _worker(server: Server, keys: list[str], models: dict[str, Model], rng: random.Random,
            stop: threading.Event) -> None:
    s3 = new_client(server)
    try:
        while not stop.is_set():
            key = rng.choice(keys)
            m = models[key]
            op = rng.random()
            try:
                if op < 0.5 or not m.live:
                    body = rng.randbytes(rng.choice(SIZES))
                    vid = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
                    m.live[vid] = hashlib.sha256(body).hexdigest()
                elif op < 0.65:
                    src = rng.choice(sorted(m.live))
                    dst = rng.choice(keys)
                    out = s3.copy_object(Bucket=BUCKET, Key=dst, CopySource={
                        "Bucket": BUCKET, "Key": key, "VersionId": src})
                    models[dst].live[out["VersionId"]] = m.live[src]
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
    server = crash_server(tmp_path)
    server.start()
    rng = random.Random(20261130)
    try:
        s3 = new_client(server)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.close()
        groups = [[f"t{t}-k{i}" for i in range(3)] for t in range(3)]
        models = {k: Model() for g in groups for k in g}
        checked = 0
        for _cycle in range(5):
            stop = threading.Event()
            threads = [threading.Thread(target=_worker, args=(
                server, g, models, random.Random(rng.random()), stop)) for g in groups]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.4, 1.2))
            server.stop(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(timeout=30)
            server.start()
            checked += _verify(server, models)
        # gc with the server stopped frees no blob a version refers to
        server.stop()
        server.admin("gc", "--grace", "0")
        server.start()
        checked += _verify(server, models)
        assert checked > 50
        assert "Traceback" not in (server.log_path.read_text() if server.log_path else "")
    finally:
        if server.proc is not None:
            server.stop(signal.SIGKILL)
