"""One gateway among several sharing a data directory (docs/cluster.md): its id, and the
settings that make sharing safe, resolved once at start-up.

- ``gateway_id`` names this gateway: its temp-file directory (``tmp/<id>/``), the logs.
  Default: the host name and port (``host:3333``); ``serve --workers N`` processes of one
  gateway share it.
- ``cluster``: several gateways share the data directory. Found on its own when the data
  directory is on a network or FUSE file system, or the metadata store is not SQLite;
  ``--cluster`` says so for a shared file system that looks local.
- ``blob_read``: ``mmap`` (the local-disk fast path), or ``pread``, which a file unlinked by
  another machine cannot kill with SIGBUS; ``auto`` is pread in cluster mode.
- ``blob_grace``: seconds a garbage blob (of an overwritten or deleted object) stays before
  it is unlinked, so that a GET on another gateway that opened it can finish: 0 (unlinked at
  once, as an open file survives that on one machine) unless in cluster mode, where the
  default is ``SHARED_GRACE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import socket
from typing import Any

from objectstore.config import Settings, env_switch
from objectstore.storage.fstype import network_fs

SHARED_GRACE = 3600.0  # default --blob-grace in cluster mode: longer than any transfer
BLOB_READ_MODES = ("auto", "mmap", "pread")


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"OBJECTSTORE_{name}", default)


def add_args(p: argparse.ArgumentParser) -> None:
    """The serve options of a gateway sharing its data directory."""
    p.add_argument("--gateway-id", default=_env("GATEWAY_ID"),
                   help="names this gateway among those sharing the data directory (its "
                        "temp files, logs); env OBJECTSTORE_GATEWAY_ID; default HOST:PORT")
    p.add_argument("--cluster", action="store_true",
                   default=env_switch("CLUSTER"),
                   help="several gateways share this data directory (env OBJECTSTORE_CLUSTER;"
                        " found on its own on network file systems and with a metadata "
                        "store other than SQLite): blobs are read with pread and unlinked "
                        "only after --blob-grace")
    p.add_argument("--blob-read", choices=BLOB_READ_MODES, default=_env("BLOB_READ", "auto"),
                   help="how GETs read blobs: mmap (local disks), pread (network file "
                        "systems), auto (default: pread in cluster mode); env "
                        "OBJECTSTORE_BLOB_READ")
    p.add_argument("--blob-grace", type=float, default=float(_env("BLOB_GRACE", "-1")),
                   help="seconds a replaced or deleted object's blob stays before it is "
                        "unlinked (default: 0, or 3600 in cluster mode); env "
                        "OBJECTSTORE_BLOB_GRACE")
    p.add_argument("--meta-timeout", type=float,
                   default=float(_env("META_TIMEOUT", str(Settings.meta_timeout))),
                   help="seconds a request waits for the metadata store (locked by another "
                        "process, unreachable) before it is answered 503 ServiceUnavailable "
                        "(default 30; env OBJECTSTORE_META_TIMEOUT)")


def settings_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"gateway_id": args.gateway_id, "cluster": args.cluster,
            "blob_read": args.blob_read, "blob_grace": args.blob_grace,
            "meta_timeout": args.meta_timeout}


def external_meta(settings: Settings) -> bool:
    """Whether the metadata store is not the embedded SQLite (``meta_url``, lane A)."""
    url = str(getattr(settings, "meta_url", "") or "")
    return bool(url) and not url.startswith(("sqlite:", "file:"))


def resolve(settings: Settings) -> Settings:
    """``settings`` with the gateway id, cluster mode, read mode and grace decided."""
    cluster = settings.cluster or external_meta(settings)
    if not cluster:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        cluster = network_fs(settings.data_dir) is not None
    read = settings.blob_read
    if read == "auto":
        read = "pread" if cluster else "mmap"
    grace = settings.blob_grace
    if grace < 0:
        grace = SHARED_GRACE if cluster else 0.0
    gateway = settings.gateway_id or f"{socket.gethostname()}:{settings.port}"
    return dataclasses.replace(settings, gateway_id=gateway, cluster=cluster, blob_read=read,
                               blob_grace=grace)


def sqlite_on_network(settings: Settings) -> str | None:
    """The network file system's name when the SQLite metadata database would live on one:
    SQLite's WAL (and the change stamp) work only among processes of one machine, so such
    a data directory may be served by one machine only."""
    if external_meta(settings):
        return None
    return network_fs(settings.data_dir)


def dir_name(gateway_id: str) -> str:
    """``gateway_id`` as one safe path component (temp-file directories)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", gateway_id)[:128].strip(".")
    return name or "gateway"
