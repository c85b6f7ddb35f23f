"""Image registrations across gateways: two `serve` processes on one data directory, on
SQLite and on PostgreSQL. A registration is worked on by the gateway that claimed it;
when that gateway is killed (kill -9) or stalls (SIGSTOP) past its claim, another live
gateway takes it over without a restart and finishes it, exactly once; the stalled one,
when it wakes, publishes nothing. Two live gateways never both work on one registration.
(service/registry.py, docs/cluster.md "Background jobs".)"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from harness import Creds, Server, free_port, meta_query, on_postgres, pg_cluster, root_creds
from images_helpers import EUCA, MiB, Nova, objectstore, random_file, stored_files

import pgtest

LEASE = 2.0  # --job-lease-seconds: also how long a registration's claim lasts unrenewed
SIZE = 48 * MiB


@dataclass
class Bundle:
    folder: Path
    manifest: str
    sha1: str


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """A 48 MiB random image bundled for the euca fixture's cloud key: a registration
    that takes a while."""
    base = tmp_path_factory.mktemp("takeover-bundle")
    image = base / "big.img"
    sha1 = random_file(image, SIZE)
    out = objectstore("image", "bundle", str(image), "--cert", str(EUCA / "cacert.pem"),
                      "--part-size", str(4 * MiB), "-d", str(base / "parts"))
    manifest = Path(out.stdout.strip().splitlines()[-1])
    image.unlink()
    return Bundle(base / "parts", manifest.name, sha1)


@dataclass
class Pair:
    a: Server
    b: Server
    user: Creds
    location: str

    def claim(self, image_id: str) -> tuple[str, int, int, str]:
        """(state, pid of the claim's holder, claim epoch, blob) from the database."""
        rows = meta_query(self.a, "SELECT state, claim_holder, claim_epoch, blob FROM images "
                          "WHERE image_id=?", (image_id,))
        assert rows, image_id
        state, holder, epoch, blob = rows[0]
        return state, int(holder.rsplit(":", 2)[1]), int(epoch), blob


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, tmp_path: Path, bundle: Bundle) -> Iterator[Pair]:
    url = None
    if request.param == "postgresql":
        reason = pgtest.unavailable()
        if reason:
            pytest.skip(f"needs PostgreSQL: {reason}")
        url = pg_cluster().new_database("takeover")
    elif on_postgres():
        pytest.skip("the SQLite case (OBJECTSTORE_TEST_META=postgresql)")
    creds = root_creds("TAKEOVER")
    args = ["--cloud-key", str(EUCA / "cakey.pem"), "--cloud-cert", str(EUCA / "cacert.pem"),
            "--job-lease-seconds", str(LEASE)]
    a, b = (Server(tmp_path / "data", free_port(), creds, meta_url=url,
                   extra_args=[*args, "--gateway-id", name]) for name in ("gw-a", "gw-b"))
    a.start()  # (one after the other: the first makes the data directory's keys)
    b.start()
    try:
        user = a.new_user()
        s3 = a.client(user)
        s3.create_bucket(Bucket="takeover")
        for p in sorted(bundle.folder.iterdir()):
            s3.upload_file(str(p), "takeover", f"big/{p.name}")
        yield Pair(a, b, user, f"takeover/big/{bundle.manifest}")
    finally:
        for g in (a, b):
            if g.proc is not None and g.proc.poll() is None:
                os.kill(g.proc.pid, signal.SIGCONT)
            g.stop()
    for g in (a, b):
        assert g.log_path is not None
        text = g.log_path.read_text(errors="replace")
        assert "Traceback" not in text, text[text.index("Traceback") - 2000:][:6000]


def _files(data_dir: Path) -> set[str]:
    """Blobs, temp files and partial image files."""
    return stored_files(data_dir) | {f"tmp-images/{p.name}"
                                     for p in (data_dir / "tmp-images").glob("*")}


def _workers(srv: Server, image_id: str) -> list[int]:
    """The claim epochs under which ``srv`` started working on ``image_id`` (its log)."""
    assert srv.log_path is not None
    return [int(m) for m in re.findall(rf"registering {image_id} \(claim (\d+)\)",
                                       srv.log_path.read_text(errors="replace"))]


def _stopped_mid_registration(pair: Pair) -> tuple[str, set[str]]:
    """A registration sent to gateway a, which is then stopped (SIGSTOP) while working on
    it; the image id and the data directory's files before it."""
    before = _files(pair.a.data_dir)
    image_id = Nova(pair.a, pair.user).register_ok(pair.location)
    deadline = time.monotonic() + 10  # until a's worker has started (a partial file)
    while not any(f.stat().st_size for f in (pair.a.data_dir / "tmp-images").glob("*")):
        assert time.monotonic() < deadline, "a's worker did not start"
        time.sleep(0.002)  # (the whole registration takes a few tenths of a second)
    assert pair.a.proc is not None
    os.kill(pair.a.proc.pid, signal.SIGSTOP)
    state, pid, epoch, _ = pair.claim(image_id)
    assert (state, pid, epoch) == ("pending", pair.a.proc.pid, 1), "finished too soon"
    return image_id, before


def _assert_done_once(pair: Pair, image_id: str, sha1: str, before: set[str],
                      partial: int = 0) -> str:
    """Available, with b's claim (epoch 2), its bytes right, and one new blob (and
    ``partial`` partial files left); the blob."""
    assert pair.b.proc is not None
    state, pid, epoch, blob = pair.claim(image_id)
    assert (state, pid, epoch) == ("available", pair.b.proc.pid, 2)
    r = Nova(pair.b, pair.user).download(image_id)
    assert r.status == 200 and hashlib.sha1(r.body).hexdigest() == sha1
    deadline = time.monotonic() + 15
    while len(new := _files(pair.a.data_dir) - before) != 1 + partial:
        assert time.monotonic() < deadline, new
        time.sleep(0.2)
    assert [f for f in new if blob in f] and \
        len([f for f in new if f.startswith("tmp-images/")]) == partial
    assert _workers(pair.a, image_id) == [1] and _workers(pair.b, image_id) == [2]
    return blob


def test_kill_9_mid_registration_is_finished_by_the_other_gateway(
        pair: Pair, bundle: Bundle) -> None:
    image_id, before = _stopped_mid_registration(pair)
    pair.a.stop(signal.SIGKILL)
    started = time.monotonic()
    im = Nova(pair.b, pair.user).wait(image_id, timeout=120)
    took = time.monotonic() - started
    assert im["imageState"] == "available" and im["size"] == SIZE, im
    _assert_done_once(pair, image_id, bundle.sha1, before)
    print(f"\nregistration finished by the other gateway {took:.1f}s after the kill")


def test_stalled_gateway_is_fenced_off_when_it_wakes(pair: Pair, bundle: Bundle) -> None:
    image_id, before = _stopped_mid_registration(pair)
    started = time.monotonic()
    # a is alive but silent: its claim expires after LEASE seconds and b takes over
    im = Nova(pair.b, pair.user).wait(image_id, timeout=120)
    assert time.monotonic() - started >= LEASE * 0.9  # not before the claim expired
    assert im["imageState"] == "available", im
    # (a's partial file is still there: a holds it, stopped)
    blob = _assert_done_once(pair, image_id, bundle.sha1, before, partial=1)
    assert pair.a.proc is not None and pair.a.log_path is not None
    os.kill(pair.a.proc.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30  # a's worker notices and stops, publishing nothing
    while not re.search(rf"registration of {image_id} (cancelled|\(claim 1\) ended)",
                        pair.a.log_path.read_text(errors="replace")):
        assert time.monotonic() < deadline, "a's worker did not stop"
        time.sleep(0.2)
    assert pair.claim(image_id)[1:] == (pair.b.proc.pid if pair.b.proc else 0, 2, blob)
    deadline = time.monotonic() + 10  # a's partial file is gone (a's worker removed it)
    while len(_files(pair.a.data_dir) - before) != 1:
        assert time.monotonic() < deadline, _files(pair.a.data_dir) - before
        time.sleep(0.2)
    r = Nova(pair.a, pair.user).download(image_id)  # a serves again, the same bytes
    assert r.status == 200 and hashlib.sha1(r.body).hexdigest() == bundle.sha1


def test_live_gateways_never_share_a_registration(pair: Pair, bundle: Bundle) -> None:
    """Registrations on two live gateways, each running the take-over job every second,
    are each worked on once, by the gateway that received it. (Work that outlasts its
    claim: tests/unit/test_image_claims.py.)"""
    ids: dict[str, Server] = {}
    errors: list[Any] = []

    def register(srv: Server, n: int) -> None:
        try:
            for _ in range(n):
                ids[Nova(srv, pair.user).register_ok(pair.location)] = srv
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=register, args=(g, n))
               for g, n in ((pair.a, 3), (pair.b, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(ids) == 4
    for image_id, srv in ids.items():
        assert Nova(srv, pair.user).wait(image_id, timeout=180)["imageState"] == "available"
    print(f"\nfour registrations on two gateways: {time.monotonic() - started:.1f}s")
    for image_id, srv in ids.items():
        other = pair.b if srv is pair.a else pair.a
        assert pair.claim(image_id)[2] == 1, image_id  # never taken over
        assert _workers(srv, image_id) == [1] and _workers(other, image_id) == []
    for g in (pair.a, pair.b):
        assert g.log_path is not None and "taken over" not in g.log_path.read_text()
