"""Gateways sharing one data directory (and so one keyring file) start at once: the first
start cannot race. Two servers started together on an empty directory, many times over,
always end with one keyring that both use, and both serve."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from harness import Server, free_port, new_server

ROUNDS = 8


def _start_together(servers: list[Server]) -> list[BaseException]:
    errors: list[BaseException] = []

    def start(srv: Server) -> None:
        try:
            srv.start(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_gateways_starting_at_once_share_one_keyring(tmp_path: Path) -> None:
    for n in range(ROUNDS):
        data = tmp_path / f"data{n}"
        a = new_server(data, "KEYRACE", ["--gateway-id", "a", "--cluster"])
        b = Server(data, free_port(), a.root, extra_args=["--gateway-id", "b", "--cluster"])
        try:
            assert _start_together([a, b]) == [], n
            for srv in (a, b):  # each serves, with the secrets sealed under the one keyring
                srv.client().list_buckets()
            a.client().create_bucket(Bucket=f"made-on-a-{n}")
            assert f"made-on-a-{n}" in [x["Name"] for x in b.client().list_buckets()["Buckets"]]
            ring = data / "keyring" / "keyring.json"
            keys = json.loads(ring.read_text())["keys"]
            assert [k["purpose"] for k in keys] == ["secrets"], n
            assert sorted(p.name for p in ring.parent.iterdir()
                          if not p.name.endswith(".lock")) == ["keyring.json"]
            assert ring.stat().st_mode & 0o077 == 0
        finally:
            a.stop()
            b.stop()


def test_an_explicit_shared_keyring_file_is_made_once(tmp_path: Path) -> None:
    ring = tmp_path / "secrets" / "ring.json"  # as every gateway mounts it
    for n in range(3):
        data = tmp_path / f"data{n}"
        a = new_server(data, "KEYFILE", ["--keyring", str(ring)])
        b = Server(data, free_port(), a.root, extra_args=["--keyring", str(ring)])
        try:
            assert _start_together([a, b]) == []
            a.client().list_buckets()
            b.client().list_buckets()
        finally:
            a.stop()
            b.stop()
        assert len(json.loads(ring.read_text())["keys"]) == 1
