"""The stores a running server (or an admin command) works on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from objectstore.config import default_keyring
from objectstore.storage.db import Txn
from objectstore.storage.images import Images
from objectstore.storage.localfs import BlobStore
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.uploads import Uploads

T = TypeVar("T")


@dataclass(frozen=True)
class Stores:
    meta: SqliteMeta
    blobs: BlobStore
    uploads: Uploads
    images: Images

    @staticmethod
    def open(data_dir: Path, *, fsync: bool = True, min_free: int = 0,
             keyring: Path | None = None, gateway: str = "", grace: float = 0.0,
             timeout: float = 30.0, meta_url: str | None = None) -> Stores:
        """``keyring``: the keyring file; by default OBJECTSTORE_KEYRING's, else the data
        directory's (``keyring/keyring.json``). ``gateway``: this gateway's temp-file
        directory name (gateway.dir_name). ``grace`` > 0: garbage blobs are left for the
        reaper job (service/blob_gc.py) instead of being unlinked after each commit.
        ``timeout``: seconds to wait for a locked metadata database (then 503).
        ``meta_url``: a ``postgresql://`` URL puts the metadata in PostgreSQL (default:
        SQLite in the data directory)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        blobs = BlobStore(data_dir, fsync=fsync, min_free=min_free, gateway=gateway)

        def reap(ids: list[str]) -> None:
            for blob_id in ids:
                blobs.delete(blob_id)

        meta: SqliteMeta
        on_garbage = reap if grace <= 0 else None
        if meta_url:
            from objectstore.storage.postgres import PostgresMeta  # psycopg only when asked

            meta = PostgresMeta(meta_url, data_dir, on_garbage=on_garbage,
                                keyring=keyring or default_keyring())
        else:
            meta = SqliteMeta(data_dir / "meta.sqlite3", fsync=fsync, on_garbage=on_garbage,
                              on_full=blobs.release_ballast,
                              keyring=keyring or default_keyring(), timeout=timeout)
        return Stores(meta, blobs, Uploads(meta), Images(meta))

    async def write(self, txn: Txn[T]) -> T:
        """Run a metadata write transaction (group-committed) and await its commit."""
        return await self.meta.submit_async(txn)

    def close(self) -> None:
        self.meta.close()
        self.blobs.close()
