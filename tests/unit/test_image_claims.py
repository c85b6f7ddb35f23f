"""Claims on pending image registrations (service/registry.py): two registries on one
data directory stand for two gateways. Work that lasts longer than a claim keeps it
(renewed), so the other never takes it; an expired claim, or one of a dead process, is
taken over once with a new epoch; a worker whose claim was taken over publishes nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from objectstore.service.jobs import holder_gone
from objectstore.service.registry import Registry, RegistryLimits
from objectstore.service.stores import Stores
from objectstore.storage.model import Image

TTL = 0.6


class SlowRegistry(Registry):
    """Unbundles nothing: checks its claim for ``seconds``, then stores a small blob."""

    seconds = 0.0
    ran: list[tuple[str, str]]

    def _unbundle(self, im: Image, check: Callable[[], None]) -> tuple[str, int]:
        self.ran.append((self.holder, im.image_id))
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            check()
            time.sleep(0.02)
        writer = self.stores.blobs.writer(self.partial_dir, locked=True)
        writer.write(b"image")
        writer.commit()
        return writer.id, 5


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[tuple[SlowRegistry, SlowRegistry]]:
    pair = []
    for _ in range(2):
        stores = Stores.open(tmp_path / "data", fsync=False, keyring=tmp_path / "keyring.json")
        reg = SlowRegistry(stores, [], RegistryLimits(workers=2, claim_seconds=TTL))
        reg.ran = []
        pair.append(reg)
    yield pair[0], pair[1]
    for reg in pair:
        reg.close(timeout=2)
        reg.stores.close()


def _pending(reg: Registry, image_id: str, claim: tuple[str, float] | None) -> Image:
    im = Image(image_id, "owner", "b/k", "pending", "", "machine", "x86_64", None, None,
               False, "n", "", (), 0, "", "user", time.time(), token="t-" + image_id)
    reg.stores.meta.run(reg.stores.images.add_txn(im, claim=claim))
    return im


def _wait(what: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_work_longer_than_a_claim_keeps_it(gateways: tuple[SlowRegistry, SlowRegistry]) -> None:
    a, b = gateways
    a.seconds = TTL * 4
    im = _pending(a, "ami-00000000000000001", (a.holder, time.time() + TTL))
    a._submit(im, 1)
    stop = threading.Event()
    taken: list[int] = []

    def other_gateway() -> None:  # b's periodic take-over, far more often than a renews
        while not stop.is_set():
            taken.append(b.take_over(b.stores.meta.run))
            time.sleep(TTL / 6)
    t = threading.Thread(target=other_gateway)
    t.start()
    try:
        _wait(lambda: a.stores.images.claim_of(im.image_id)[0] != "pending")  # type: ignore[index]
    finally:
        stop.set()
        t.join()
    assert len(taken) > 5 and sum(taken) == 0
    assert a.stores.images.claim_of(im.image_id)[:4] == ("available", im.token, a.holder, 1)
    assert a.ran == [(a.holder, im.image_id)] and b.ran == []


def test_expired_claim_is_taken_over_once_and_the_old_worker_is_fenced(
        gateways: tuple[SlowRegistry, SlowRegistry]) -> None:
    a, b = gateways
    im = _pending(a, "ami-00000000000000002", (a.holder, time.time() - 1))  # a went silent
    assert b.take_over(b.stores.meta.run) == 1
    assert a.take_over(a.stores.meta.run) == 0  # (claimed by b now: once)
    _wait(lambda: b.stores.images.claim_of(im.image_id)[0] == "available")  # type: ignore[index]
    row = b.stores.images.claim_of(im.image_id)
    assert row is not None and row[2:4] == (b.holder, 2)
    blob = b.stores.images.get(im.image_id).blob  # type: ignore[union-attr]
    # a wakes up with its old claim (epoch 1): its result is refused in the transaction
    assert not a._finish(im.image_id, im.token, 1, state="failed", reason="late")
    assert not a._claimed(im.image_id, im.token, 1)
    after = b.stores.images.get(im.image_id)
    assert after is not None and (after.state, after.blob) == ("available", blob)


def test_a_running_worker_stops_when_its_claim_is_taken(
        gateways: tuple[SlowRegistry, SlowRegistry]) -> None:
    a, b = gateways
    a.seconds = 30.0
    im = _pending(a, "ami-00000000000000003", (a.holder, time.time() + TTL))
    a._submit(im, 1)
    _wait(lambda: bool(a.ran))
    # as if a had stalled past its claim: b takes it (a's renewals now change nothing)
    b.stores.meta.run(b.stores.images.claim_txn(im.image_id, im.token, b.holder,
                                                time.time() + 60, (a.holder, 1)))
    # a late result of a's (say its worker finished just now) is refused, still pending
    assert not a._finish(im.image_id, im.token, 1, state="failed", reason="late")
    started = time.monotonic()
    _wait(lambda: im.image_id not in a._alive)  # a's worker noticed and stopped
    assert time.monotonic() - started < 2.0
    assert a.stores.images.claim_of(im.image_id)[:4] == (  # type: ignore[index]
        "pending", im.token, b.holder, 2)
    assert not list((a.partial_dir).iterdir())  # its partial file removed


def test_a_dead_process_claim_is_taken_at_once(
        gateways: tuple[SlowRegistry, SlowRegistry]) -> None:
    a, b = gateways
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid of this host that is no longer running
    dead = f"{socket.gethostname()}:{child.pid}:0badc0de"
    assert holder_gone(dead) and not holder_gone(a.holder) and not holder_gone(b.holder)
    assert not holder_gone(f"elsewhere:{child.pid}:0badc0de")  # another host: only by expiry
    assert not holder_gone(f"{socket.gethostname()}:{os.getpid()}:00000000")  # this pid
    im = _pending(a, "ami-00000000000000004", (dead, time.time() + 3600))
    far = _pending(a, "ami-00000000000000005", ("elsewhere:1:x", time.time() + 3600))
    assert b.take_over(b.stores.meta.run) == 1
    _wait(lambda: b.stores.images.claim_of(im.image_id)[0] == "available")  # type: ignore[index]
    assert b.stores.images.claim_of(far.image_id)[:4] == (  # type: ignore[index]
        "pending", far.token, "elsewhere:1:x", 1)
