"""Whether a range of a file is wholly in the page cache: mincore(2) on a PROT_NONE mapping
of it (nothing is read or faulted in; three system calls through ctypes).

A streamed GET checks a window's block checksums when the window is not wholly in the page
cache (it comes from the disk, where bit rot lives) and trusts it when it is (its pages were
written by the server or read by a verifying reader). Any failure here answers False: the
window is checked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap

PAGE = mmap.PAGESIZE
_PROT_NONE = 0
_MAP_SHARED = 1
_FAILED = ctypes.c_void_p(-1).value
_LOW_BIT = bytes(i & 1 for i in range(256))


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


def resident(fd: int, offset: int, length: int) -> bool:
    """Whether every page of ``length`` bytes at ``offset`` of ``fd`` is in the page cache."""
    if _LIBC is None or length <= 0:
        return False
    base = offset - offset % PAGE
    n = length + offset - base
    addr = _LIBC.mmap(None, n, _PROT_NONE, _MAP_SHARED, fd, base)
    if addr is None or addr == _FAILED:
        return False
    try:
        pages = (n + PAGE - 1) // PAGE
        vec = ctypes.create_string_buffer(pages)
        if _LIBC.mincore(addr, n, vec) != 0:
            return False
        return b"\x00" not in vec.raw[:pages].translate(_LOW_BIT)
    finally:
        _LIBC.munmap(addr, n)
