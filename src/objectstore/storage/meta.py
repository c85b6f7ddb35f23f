"""Neutral storage errors shared by every store."""

from __future__ import annotations


class StorageError(Exception):
    pass


class NotFound(StorageError):
    pass


class Conflict(StorageError):
    """The write's precondition no longer holds (exists, not empty, etag changed, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
