"""A thread-safe job queue shared fairly between accounts.

Jobs wait in one queue per account; workers take them round-robin between accounts, and
at most ``per_account`` jobs of one account run at once, so one account's long jobs
cannot hold every worker while another account's short job waits.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, deque
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self, per_account: int = 1) -> None:
        self._per_account = max(1, per_account)
        self._cv = threading.Condition()
        self._queues: OrderedDict[str, deque[T]] = OrderedDict()
        self._running: Counter[str] = Counter()
        self._closed = False

    def put(self, account: str, job: T) -> None:
        with self._cv:
            self._queues.setdefault(account, deque()).append(job)
            self._cv.notify()

    def take(self, timeout: float | None = None) -> tuple[str, T] | None:
        """The next job (blocking), as (account, job); None once closed or on timeout.
        The caller must call ``done(account)`` when the job has run."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while not self._closed:
                for account, jobs in self._queues.items():
                    if jobs and self._running[account] < self._per_account:
                        job = jobs.popleft()
                        self._running[account] += 1
                        if jobs:
                            self._queues.move_to_end(account)  # round-robin
                        else:
                            del self._queues[account]
                        return account, job
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cv.wait(left)
            return None

    def done(self, account: str) -> None:
        with self._cv:
            self._running[account] -= 1
            if self._running[account] <= 0:
                del self._running[account]
            self._cv.notify_all()

    def remove(self, match: Callable[[T], bool]) -> int:
        """Drop queued (not running) jobs for which ``match`` is true; returns how many."""
        removed = 0
        with self._cv:
            for account in list(self._queues):
                jobs = self._queues[account]
                kept = deque(j for j in jobs if not match(j))
                removed += len(jobs) - len(kept)
                if kept:
                    self._queues[account] = kept
                else:
                    del self._queues[account]
            self._cv.notify_all()
        return removed

    def close(self) -> None:
        """Wake every worker; ``take`` answers None from now on (queued jobs stay unrun)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def wait_idle(self, timeout: float | None = None, *, running_only: bool = False) -> bool:
        """Wait until nothing is queued (unless ``running_only``) and nothing runs."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while self._running or (self._queues and not running_only and not self._closed):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cv.wait(left)
            return True
