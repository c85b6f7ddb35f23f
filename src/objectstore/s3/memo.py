"""Remembering pure functions of request values without letting clients pin memory.

Several parses on the request path are remembered because the same values repeat from
request to request (credential scopes, dates, Host headers). The values come from clients,
so only short ones are remembered, in a cache of bounded size: a flood of large unique
values costs CPU, never memory that stays.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, TypeVar

T = TypeVar("T")

MAX_LEN = 256  # longest argument remembered; longer ones are computed every time


def short_memo(maxsize: int, max_len: int = MAX_LEN) -> Callable[[Callable[[str], T]],
                                                                  Callable[[str], T]]:
    """lru_cache(maxsize) for a function of one string, used only for strings up to
    ``max_len`` characters. The cache holds at most about maxsize * max_len characters."""

    def wrap(fn: Callable[[str], T]) -> Callable[[str], T]:
        cached = lru_cache(maxsize)(fn)

        def call(value: str) -> T:
            return cached(value) if len(value) <= max_len else fn(value)

        call.__doc__ = fn.__doc__
        call.__wrapped__ = fn  # type: ignore[attr-defined]
        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return call

    return wrap
