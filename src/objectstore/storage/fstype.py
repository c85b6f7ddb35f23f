"""Which kind of file system holds a path: is it shared over a network (or a FUSE mount,
which may be one)?

Used to pick how blobs are read (storage/localfs.py, ``--blob-read auto``): a page of a
memory-mapped file that another NFS client unlinks faults with SIGBUS on access, which kills
the process, so blobs on such file systems are read with pread. ``os.statvfs`` does not tell
the file system's type; statfs(2)'s ``f_type`` does (through ctypes), and
/proc/self/mountinfo is the fallback where that is not available.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

# statfs(2) f_type magic numbers (linux/magic.h, and the file systems' own headers) of file
# systems whose files other machines can change or unlink behind this one's back.
NETWORK_MAGIC: dict[int, str] = {
    0x6969: "nfs",
    0x00C36400: "ceph",
    0x65735546: "fuse",  # GlusterFS, JuiceFS, s3fs, sshfs, ... (fuse.<name> in mountinfo)
    0x517B: "smb",
    0xFF534D42: "cifs",
    0xFE534D42: "smb2",
    0x0BD00BD0: "lustre",
    0x01161970: "gfs2",
    0x7461636F: "ocfs2",
    0x47504653: "gpfs",
    0x5346414F: "afs",
    0x6B414653: "afs",
    0x01021997: "9p",
    0x73757245: "coda",
    0x564C: "ncp",
    0xAAD7AAEA: "panfs",
    0x20030528: "orangefs",
    0x19830326: "beegfs",
}
# the same, by the names /proc/self/mountinfo gives
NETWORK_NAMES = frozenset({"nfs", "nfs4", "ceph", "fuse", "fuseblk", "cifs", "smb3", "smbfs",
                           "lustre", "gfs2", "ocfs2", "gpfs", "afs", "9p", "coda", "ncpfs",
                           "glusterfs", "beegfs", "panfs", "pvfs2", "orangefs"})


class _Statfs(ctypes.Structure):
    # struct statfs starts with its f_type (a word); the rest is room for the kernel's fields
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 256)]


def _statfs_type(path: Path) -> int | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = _Statfs()
        if libc.statfs(os.fsencode(path), ctypes.byref(buf)) != 0:
            return None
        return int(buf.f_type) & 0xFFFFFFFF
    except (OSError, AttributeError):
        return None


def _mountinfo_type(path: Path) -> str | None:
    """The file system type of the longest mount point holding ``path``."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        fields = line.split(" - ", 1)
        if len(fields) != 2:
            continue
        point = fields[0].split()[4].replace("\\040", " ")
        if (target == point or target.startswith(point.rstrip("/") + "/")) and \
                len(point) >= len(best):
            best, kind = point, fields[1].split()[0]
    return kind


def network_fs(path: Path) -> str | None:
    """The name of the network (or FUSE) file system holding ``path``; None for a local
    one (ext4, xfs, btrfs, tmpfs, overlay, ...)."""
    magic = _statfs_type(path)
    if magic is not None:
        return NETWORK_MAGIC.get(magic)
    kind = _mountinfo_type(path)
    if kind is None:
        return None
    base = kind.split(".", 1)[0]
    return kind if kind in NETWORK_NAMES or base in NETWORK_NAMES else None
