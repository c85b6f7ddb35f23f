"""Physical limits of this machine, measured in the same session: loopback TCP throughput,
sequential disk write with fsync, small-write fsync rate, MD5 and SHA-256 speed."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import socket
import time
from pathlib import Path

from common import GiB, MiB

LOOP_BLOCK = 4 * MiB


def _receiver(sock: socket.socket, q: "mp.Queue[tuple[int, float]]") -> None:
    c, _ = sock.accept()
    buf = bytearray(LOOP_BLOCK)
    view = memoryview(buf)
    total = 0
    t0 = 0.0
    while True:
        n = c.recv_into(view)
        if not n:
            break
        if t0 == 0.0:
            t0 = time.perf_counter()
        total += n
    q.put((total, time.perf_counter() - t0))
    c.close()


def loopback_mb_s(seconds: float = 2.0) -> float:
    """One TCP stream over 127.0.0.1 between two processes, 4 MiB send/recv_into buffers."""
    ctx = mp.get_context("fork")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    q: "mp.Queue[tuple[int, float]]" = ctx.Queue()
    p = ctx.Process(target=_receiver, args=(srv, q))
    p.start()
    c = socket.create_connection(srv.getsockname())
    data = memoryview(os.urandom(LOOP_BLOCK))
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(16):
            c.sendall(data)
    c.close()
    total, secs = q.get(timeout=60)
    p.join()
    srv.close()
    return total / secs / 1e6


def disk_write_fsync_mb_s(directory: Path, size: int = GiB) -> float:
    """Write `size` bytes in 1 MiB blocks to a new file in `directory`, then fsync it."""
    path = directory / "bench-disk-probe"
    block = os.urandom(MiB)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        t = time.perf_counter()
        left = size
        while left > 0:
            left -= os.write(fd, block[: min(left, MiB)])
        os.fsync(fd)
        secs = time.perf_counter() - t
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return size / secs / 1e6


def fsyncs_per_s(directory: Path, seconds: float = 1.0) -> float:
    """4 KiB appends each followed by fdatasync, one thread: the serial fsync rate."""
    path = directory / "bench-fsync-probe"
    block = os.urandom(4096)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    n = 0
    try:
        t = time.perf_counter()
        while time.perf_counter() - t < seconds:
            os.write(fd, block)
            os.fdatasync(fd)
            n += 1
        secs = time.perf_counter() - t
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return n / secs


def hash_mb_s(name: str, size: int = GiB) -> float:
    block = os.urandom(MiB)
    h = hashlib.new(name)
    t = time.perf_counter()
    for _ in range(size // MiB):
        h.update(block)
    h.hexdigest()
    return size / (time.perf_counter() - t) / 1e6


def measure(directory: Path, size: int = GiB, seconds: float = 2.0) -> dict[str, float]:
    """Each limit is the best of several tries (a limit is what the machine can do)."""
    return {
        "loopback": max(loopback_mb_s(seconds / 2) for _ in range(4)),
        "disk": max(disk_write_fsync_mb_s(directory, size) for _ in range(2)),
        "fsync_rate": fsyncs_per_s(directory, min(1.0, seconds)),
        "md5": hash_mb_s("md5", size),
        "sha256": hash_mb_s("sha256", size),
    }


def machine(directory: Path) -> dict[str, str]:
    info: dict[str, str] = {"cores": str(os.cpu_count())}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    st = os.statvfs(directory)
    dev, fstype = "?", "?"
    best = ""
    try:
        real = str(directory.resolve())
        for line in open("/proc/mounts"):
            parts = line.split()
            mnt = parts[1]
            if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, dev, fstype = mnt, parts[0], parts[2]
    except OSError:
        pass
    rot = ""
    name = Path(dev).name
    rot_path = Path(f"/sys/block/{name}/queue/rotational")
    if rot_path.exists():
        rot = ", rotational" if rot_path.read_text().strip() == "1" else ", non-rotational"
    virt = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags") and " hypervisor" in line:
                virt = " (virtual machine)"
                break
    except OSError:
        pass
    info["disk"] = (f"{dev} ({fstype}{rot}, {st.f_blocks * st.f_frsize / 2**30:.0f} GiB) "
                    f"holding the data dirs")
    info["kernel"] = os.uname().release + virt
    info["load"] = "%.2f %.2f %.2f" % os.getloadavg()
    return info


def busy_jiffies() -> float:
    """Non-idle CPU seconds of the whole machine so far (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU seconds of this process and its reaped children (servers, wrk, probes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
