"""A real `objectstore serve` process on a free port, and real clients for it.

(Tests import these from `harness`, not `conftest`: several conftest modules exist.)"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pgtest  # noqa: E402

META_ENV = "OBJECTSTORE_TEST_META"  # "postgresql": servers keep metadata in PostgreSQL
_CLUSTER: list[pgtest.Cluster] = []
META_URLS: dict[Path, str] = {}  # data dir -> its server's PostgreSQL database (helpers')


def admin_env(data_dir: Path) -> dict[str, str]:
    """The environment of an admin command on ``data_dir`` (its server's PostgreSQL database
    when OBJECTSTORE_TEST_META=postgresql)."""
    env = dict(os.environ)
    url = META_URLS.get(data_dir)
    if url is not None:
        env["OBJECTSTORE_META_URL"] = url
    return env


def on_postgres() -> bool:
    return os.environ.get(META_ENV, "").lower() in ("postgresql", "postgres", "pg")


def pg_cluster() -> pgtest.Cluster:
    """The PostgreSQL server of this test run (started on first use, stopped at exit)."""
    if not _CLUSTER:
        import atexit

        cluster = pgtest.start()
        atexit.register(cluster.stop)
        _CLUSTER.append(cluster)
    return _CLUSTER[0]


def root_creds(prefix: str = "ROOTACCESSKEY") -> Creds:
    """Admin credentials for a new server: a recognisable access key, a random secret."""
    return Creds(prefix + secrets.token_hex(6).upper(), secrets.token_hex(20), "admin", "admin")


def new_server(data_dir: Path, prefix: str = "ROOTACCESSKEY",
               extra_args: list[str] | tuple[str, ...] = ()) -> Server:
    """A server (not started) on a free port with new admin credentials."""
    return Server(data_dir, free_port(), root_creds(prefix), extra_args=list(extra_args))


@contextmanager
def running(server: Server, sig: int = signal.SIGKILL) -> Iterator[Server]:
    """``server`` started for the block and stopped after it (with ``sig``) if it still
    runs; tests that stop or restart it themselves may."""
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.stop(sig)


def new_bucket(s3: Any, prefix: str, versioning: str | None = None) -> str:
    """A fresh bucket named ``prefix-<random>``, its versioning set when given."""
    name = f"{prefix}-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=name)
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    return name


def temp_files(data_dir: Path) -> list[Path]:
    """The temp files of uploads under ``data_dir/tmp`` (each gateway has its own directory
    there, holding its ``.alive`` lock file besides them)."""
    return sorted(p for p in (data_dir / "tmp").rglob("*")
                  if not p.name.startswith(".") and p.is_file())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def meta_query(server: Server, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read-only query (``?`` placeholders) on the server's metadata database,
    SQLite or PostgreSQL ([] when a table does not exist yet)."""
    if server.meta_url is not None:
        import psycopg

        with psycopg.connect(server.meta_url, autocommit=True) as conn:
            try:
                return list(conn.execute(sql.replace("%", "%%").replace("?", "%s"),
                                         params).fetchall())
            except psycopg.errors.UndefinedTable:
                return []
    import sqlite3

    path = server.data_dir / "meta.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return list(db.execute(sql, params).fetchall())
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


@dataclass
class Creds:
    access_key: str
    secret_key: str
    account: str
    user: str


@dataclass
class Server:
    data_dir: Path
    port: int
    root: Creds
    proc: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    meta_url: str | None = None  # its PostgreSQL database (OBJECTSTORE_TEST_META=postgresql)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.meta_url is None and on_postgres():
            # servers on one data directory share its metadata, as gateways of a cluster do
            self.meta_url = META_URLS.get(self.data_dir) or pg_cluster().new_database("srv")
        if self.meta_url is not None:
            env["OBJECTSTORE_META_URL"] = self.meta_url
            META_URLS[self.data_dir] = self.meta_url
        return env

    def _no_console(self) -> list[str]:
        """No web console unless a test asks for one: its default port (the S3 port + 1)
        could be a port another test server of the run was given."""
        if any(a.startswith("--console-port") for a in self.extra_args):
            return []
        return ["--console-port", "0"]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        env = self._env()
        env["OBJECTSTORE_ROOT_ACCESS_KEY"] = self.root.access_key
        env["OBJECTSTORE_ROOT_SECRET_KEY"] = self.root.secret_key
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "objectstore", "serve", "--data-dir", str(self.data_dir),
             "--port", str(self.port), *self.extra_args, *self._no_console()],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def admin(self, *args: str) -> str:
        """Run an admin command (`objectstore account|user|key ...`) on this data dir."""
        out = subprocess.run(
            [sys.executable, "-m", "objectstore", *args, "--data-dir", str(self.data_dir)],
            check=True, capture_output=True, text=True, timeout=60, env=self._env())
        return out.stdout

    def new_user(self, account: str | None = None, admin: bool = False) -> Creds:
        """A user with a key; in a new account unless ``account`` names an existing one."""
        if account is None:
            account = "acct-" + secrets.token_hex(4)
            self.admin("account", "create", account, "--email", f"{account}@example.com")
        user = "user-" + secrets.token_hex(4)
        self.admin("user", "create", user, "--account", account, *(["--admin"] if admin else []))
        out = self.admin("key", "create", user)
        fields = dict(line.split(": ", 1) for line in out.strip().splitlines())
        return Creds(fields["access key"], fields["secret key"], account, user)

    def client(self, creds: Creds | None = None, **config: Any) -> Any:
        creds = creds or self.root
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            config=Config(retries={"max_attempts": 1}, **config))


def read_until_cut(conn: Any, resp: Any, chunk: int = 1 << 20) -> None:
    """Read what is left of a streamed answer, which may be cut off (the server aborting
    it), then close its connection."""
    try:
        while resp.read(chunk):
            pass
    except (http.client.IncompleteRead, ConnectionError):
        pass
    conn.close()
