"""Remembering pure functions of request values without letting clients pin memory.

Several parses on the request path are remembered because the same values repeat from
request to request (credential scopes, dates, Host headers). The values come from clients,
so only short ones are remembered, in a cache of bounded size: a flood of large unique
values costs CPU, never memory that stays.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")

MAX_LEN = 256  # longest argument remembered; longer ones are computed every time


class _Memo(dict[str, Any]):
    """A dict that computes what it lacks: a hit is one C-level dict look-up (no Python
    frame), a miss calls ``fn`` and keeps the answer when the argument is short. When full
    it starts over, so it never holds more than ``maxsize`` entries."""

    __slots__ = ("fn", "maxsize", "max_len")

    def __init__(self, fn: Callable[[str], Any], maxsize: int, max_len: int) -> None:
        super().__init__()
        self.fn = fn
        self.maxsize = maxsize
        self.max_len = max_len

    def __missing__(self, key: str) -> Any:
        value = self.fn(key)
        if len(key) <= self.max_len:
            if len(self) >= self.maxsize:
                self.clear()
            self[key] = value
        return value


def short_memo(maxsize: int, max_len: int = MAX_LEN) -> Callable[[Callable[[str], T]],
                                                                  Callable[[str], T]]:
    """Remember a function of one string, for strings up to ``max_len`` characters, in at
    most ``maxsize`` entries (about maxsize * max_len characters). The remembered function
    is the memo's ``__getitem__``; ``memo_size(f)`` tells how many entries it holds."""

    def wrap(fn: Callable[[str], T]) -> Callable[[str], T]:
        return _Memo(fn, maxsize, max_len).__getitem__

    return wrap


def memo_size(fn: Callable[[str], Any]) -> int:
    return len(fn.__self__)  # type: ignore[attr-defined]
