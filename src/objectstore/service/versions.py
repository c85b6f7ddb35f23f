"""Version use cases other features build on (object lock, lifecycle): look a version up,
delete one for good, add a delete marker, walk a bucket's versions.

All writes go through the group-commit writer; ``guard`` (object lock) sees the version
inside the deleting transaction and refuses by raising, so a check and the delete cannot
be separated by a concurrent change.
"""

from __future__ import annotations

from typing import Callable, Iterator

from objectstore.service.stores import Stores
from objectstore.storage.model import ObjectRecord
from objectstore.storage.versions import Outcome, Version

Guard = Callable[[ObjectRecord, bool], None]  # (version, is_marker) -> None or raise


def get_version(stores: Stores, bucket: str, key: str, version_id: str | None
                ) -> Version | None:
    """Version ``version_id`` (None: the "null" version) of the key, current or not, or a
    delete marker (``Version.is_marker``)."""
    return stores.meta.get_version(bucket, key, version_id)


async def delete_version(stores: Stores, bucket: str, key: str, version_id: str | None,
                         guard: Guard | None = None) -> Outcome:
    """Remove one version or marker for good (the newest remaining version becomes current
    if it is not a marker); ``Outcome.found`` is False when there was no such version."""
    return await stores.write(stores.meta.remove_txn(bucket, key, version_id, guard=guard))


async def put_delete_marker(stores: Stores, bucket: str, key: str, owner: str) -> Outcome:
    """DeleteObject without a version id: a delete marker in a versioned bucket (the null
    one when Suspended), the object removed in an unversioned one."""
    return await stores.write(stores.meta.remove_txn(bucket, key, owner=owner))


def list_versions(stores: Stores, bucket: str, prefix: str = "", after_key: str = "",
                  after_seq: int | None = None) -> Iterator[Version]:
    """Every version and marker in key order, newest first within a key (``latest`` set on
    each key's newest), from after (``after_key``, ``after_seq``); blocking, batched."""
    return stores.meta.scan_versions(bucket, prefix, after_key.encode(), after_seq)
