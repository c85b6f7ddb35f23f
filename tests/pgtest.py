"""A PostgreSQL server for the tests: OBJECTSTORE_TEST_PG_URL's, or a private cluster.

Without OBJECTSTORE_TEST_PG_URL (a URL of a database whose user may create databases),
``cluster()`` starts one: initdb into a temporary directory owned by the unprivileged user
``postgres`` (PostgreSQL refuses to run as root), pg_ctl start on a free loopback port
(OBJECTSTORE_TEST_PG_PORT to choose it) with its socket in that directory, trust
authentication on loopback only; ``stop()`` stops it and removes the directory. When the
binaries are missing, ``unavailable()`` says why (the tests skip with that reason).

Usable as a script too: ``python tests/pgtest.py start`` prints the URL and leaves the
cluster running (``stop DIR`` stops it), for .ci/run and for trying a server by hand.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENV_URL = "OBJECTSTORE_TEST_PG_URL"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


def unavailable() -> str | None:
    """Why no PostgreSQL can be had for the tests (None: one can)."""
    if os.environ.get(ENV_URL):
        return None
    if _bindir() is None:
        return ("PostgreSQL binaries not found (apt-get install postgresql, or set "
                f"{ENV_URL} to a database URL)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run PostgreSQL as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    url: str  # of the cluster's maintenance database
    directory: Path | None  # None: an outside server (OBJECTSTORE_TEST_PG_URL)

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))

    def new_database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"{prefix}_{secrets.token_hex(6)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.directory is None:
            return
        stop_dir(self.directory)

    def pg_ctl(self, action: str) -> None:
        """``stop`` (fast: connections are cut) or ``start`` a private cluster again."""
        assert self.directory is not None, "not a private cluster"
        bindir = _bindir()
        assert bindir is not None
        data = self.directory / "data"
        args = ["-m", "fast"] if action == "stop" else ["-l", str(self.directory / "log")]
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60",
                                     *args, action]), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start(port: int | None = None) -> Cluster:
    """The outside server named by OBJECTSTORE_TEST_PG_URL, or a new private cluster."""
    outside = os.environ.get(ENV_URL)
    if outside:
        return Cluster(outside, None)
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    fixed = port or int(os.environ.get("OBJECTSTORE_TEST_PG_PORT") or 0)
    for attempt in range(3):
        try:
            return _start_private(fixed or _free_port())
        except PortTaken:
            if fixed or attempt == 2:  # a free port taken meanwhile: another one
                raise
    raise AssertionError("unreachable")


def _start_private(port: int) -> Cluster:
    bindir = _bindir()
    assert bindir is not None
    base = Path(tempfile.mkdtemp(prefix="objectstore-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
    os.chmod(base, 0o700)
    data = base / "data"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                                 "--no-sync"]), check=True, **quiet)  # type: ignore[arg-type]
    settings = ["listen_addresses = '127.0.0.1'", f"port = {port}",
                f"unix_socket_directories = '{base}'", "max_connections = 300"]
    if not os.environ.get("OBJECTSTORE_TEST_PG_DURABLE"):  # (benchmarks: durable commits)
        settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
    with open(data / "postgresql.conf", "a") as conf:  # (kept by a restart, unlike -o)
        conf.write("\n".join(settings) + "\n")
    cluster = Cluster(f"postgresql://postgres@127.0.0.1:{port}/postgres", base)
    try:
        cluster.pg_ctl("start")
    except subprocess.CalledProcessError:
        log = (base / "log").read_text(errors="replace")[-2000:] if (base / "log").exists() \
            else ""
        stop_dir(base)  # nothing left behind
        raise PortTaken(log) if "already in use" in log else \
            RuntimeError(f"PostgreSQL did not start on port {port}: {log}") from None
    return cluster


class PortTaken(RuntimeError):
    pass


def stop_dir(base: Path) -> None:
    bindir = _bindir()
    if bindir is not None and (base / "data").exists():
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-w",
                                     "-m", "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    for _ in range(20):
        shutil.rmtree(base, ignore_errors=True)
        if not base.exists():
            return
        time.sleep(0.1)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "start":
        c = start(int(sys.argv[2]) if len(sys.argv) > 2 else None)
        print(c.url, c.directory or "")
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        stop_dir(Path(sys.argv[2]))
    else:
        print("usage: pgtest.py start [PORT] | stop DIR", file=sys.stderr)
        sys.exit(2)
