"""gateway.resolve: cluster mode and what it changes (read mode, grace), the gateway id;
storage/fstype: local file systems are not network ones, the magic table names NFS,
CephFS and FUSE."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from objectstore import gateway
from objectstore.config import Settings
from objectstore.storage import fstype


def test_a_local_data_directory_keeps_todays_behaviour(tmp_path: Path) -> None:
    s = gateway.resolve(Settings(data_dir=tmp_path / "d", port=4321))
    assert (s.cluster, s.blob_read, s.blob_grace) == (False, "mmap", 0.0)
    assert s.gateway_id.endswith(":4321")
    assert gateway.resolve(s) == s  # resolving again changes nothing


def test_cluster_mode_reads_with_pread_and_keeps_garbage_an_hour(tmp_path: Path) -> None:
    s = gateway.resolve(Settings(data_dir=tmp_path / "d", cluster=True, gateway_id="gw1"))
    assert (s.cluster, s.blob_read, s.blob_grace, s.gateway_id) == (True, "pread",
                                                                     gateway.SHARED_GRACE,
                                                                     "gw1")
    explicit = gateway.resolve(Settings(data_dir=tmp_path / "d", cluster=True,
                                        blob_read="mmap", blob_grace=60))
    assert (explicit.blob_read, explicit.blob_grace) == ("mmap", 60)


def test_a_metadata_url_other_than_sqlite_means_cluster_mode(tmp_path: Path) -> None:
    @dataclasses.dataclass(frozen=True)
    class WithMeta(Settings):  # the field lane A adds to Settings
        meta_url: str = ""
    s = gateway.resolve(WithMeta(data_dir=tmp_path / "d", meta_url="postgresql://db/x"))
    assert s.cluster and s.blob_read == "pread"


def test_gateway_ids_become_one_safe_path_component() -> None:
    assert gateway.dir_name("host-1.example:3333") == "host-1.example_3333"
    for bad in ("..", ".", "../..", "a/b", "", "x" * 300):
        name = gateway.dir_name(bad)
        assert name not in ("", ".", "..") and "/" not in name and len(name) <= 128


def test_file_system_kinds(tmp_path: Path) -> None:
    assert fstype.network_fs(tmp_path) is None  # the test machine's local disk
    assert fstype.NETWORK_MAGIC[0x6969] == "nfs"
    assert fstype.NETWORK_MAGIC[0x00C36400] == "ceph"
    assert fstype.NETWORK_MAGIC[0x65735546] == "fuse"
    assert fstype._mountinfo_type(tmp_path) is not None  # noqa: SLF001 - the fallback
