"""Neutral storage errors shared by every store."""

from __future__ import annotations

import time

from objectstore.s3.lock import deletion_refusal


class StorageError(Exception):
    pass


class NotFound(StorageError):
    pass


class Conflict(StorageError):
    """The write's precondition no longer holds (exists, not empty, etag changed, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Locked(StorageError):
    """Object Lock forbids this: a permanent delete of a version under retention or legal
    hold, or a retention change that shortens or removes a binding retention."""


def check_deletable(mode: str | None, until: float | None, legal_hold: bool,
                    bypass_governance: bool, now: float | None = None) -> None:
    """Raise Locked unless a version with this lock state may be deleted for good now.
    Every permanent delete of a version calls this inside its transaction."""
    reason = deletion_refusal(mode, until, legal_hold, time.time() if now is None else now,
                              bypass_governance)
    if reason is not None:
        raise Locked(reason)


class Unavailable(StorageError):
    """The metadata store cannot be reached now (PostgreSQL down or restarting, a pool
    exhausted past its timeout). The server answers 503 with Retry-After.
    ``retry_after``: seconds a client should wait; ``overloaded``: reachable but too busy
    (a pool exhausted), answered ``SlowDown`` as S3 does for too high a request rate, rather
    than ``ServiceUnavailable``; ``outcome_unknown``: the connection was lost during the
    COMMIT, so the write may have been made — whoever wrote blobs for it must leave them
    (an orphan is removed later by gc/scrub; a deleted blob under a committed record would
    be data lost). Otherwise nothing was written."""

    def __init__(self, reason: str, retry_after: int = 1, *, overloaded: bool = False,
                 outcome_unknown: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.overloaded = overloaded
        self.outcome_unknown = outcome_unknown


def may_have_committed(exc: BaseException) -> bool:
    """Whether a failed metadata write may still have been made (see Unavailable)."""
    return isinstance(exc, Unavailable) and exc.outcome_unknown
