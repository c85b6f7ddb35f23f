"""Installing and starting the servers under test: objectstore, the bare ASGI app, moto's
server and s3rver, each on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Target, free_port
from loads import conn_ok

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / ".peers"
S3RVER_JS = PEERS / "node_modules" / "s3rver" / "bin" / "s3rver.js"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _run(cmd: list[str], timeout: float = 600) -> bool:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"  {' '.join(cmd)}: {exc}")
        return False
    if r.returncode != 0:
        log(f"  {' '.join(cmd)} failed: {(r.stderr or r.stdout)[-500:]}")
    return r.returncode == 0


def apt_install(*pkgs: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    if not _run([*env_cmd, "apt-get", "install", "-y", "-qq", *pkgs]):
        _run([*env_cmd, "apt-get", "update", "-qq"])
        return _run([*env_cmd, "apt-get", "install", "-y", "-qq", *pkgs])
    return True


def ensure_wrk() -> str | None:
    if shutil.which("wrk"):
        return None
    log("installing wrk (apt-get install wrk)")
    if apt_install("wrk") and shutil.which("wrk"):
        return None
    return "wrk could not be installed: small-object rows use bench/aioload.py instead"


def ensure_moto() -> str | None:
    try:
        import flask  # noqa: F401
        import moto.server  # noqa: F401
        return None
    except ImportError:
        pass
    log("installing moto[server] (pip)")
    if _run([sys.executable, "-m", "pip", "install", "-q", "moto[server]"]):
        return None
    return "moto[server] could not be installed from PyPI: moto column skipped"


def ensure_s3rver() -> str | None:
    if not shutil.which("node") or not shutil.which("npm"):
        log("installing nodejs and npm (apt-get)")
        apt_install("nodejs", "npm")
    if not shutil.which("node") or not shutil.which("npm"):
        return "node/npm not available: s3rver column skipped"
    if S3RVER_JS.exists():
        return None
    log(f"installing s3rver (npm install --prefix {PEERS.relative_to(REPO)} s3rver@3)")
    PEERS.mkdir(parents=True, exist_ok=True)
    if _run(["npm", "install", "--prefix", str(PEERS), "--no-audit", "--no-fund",
             "s3rver@3"]) and S3RVER_JS.exists():
        return None
    return "s3rver could not be installed from npm: s3rver column skipped"


def node_major() -> int:
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError):
        return 0


def versions() -> dict[str, str]:
    import platform

    out: dict[str, str] = {"python": platform.python_version()}
    for mod in ("uvicorn", "uvloop", "httptools", "boto3", "moto"):
        try:
            from importlib.metadata import version

            out[mod] = version(mod)
        except Exception:
            pass
    try:
        from importlib.metadata import version

        out["objectstore"] = version("objectstore")
    except Exception:
        out["objectstore"] = "?"
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if rev:
            out["objectstore"] += f" (git {rev})"
    except OSError:
        pass
    pkg = PEERS / "node_modules" / "s3rver" / "package.json"
    if pkg.exists():
        out["s3rver"] = json.loads(pkg.read_text())["version"]
    if shutil.which("node"):
        out["node"] = subprocess.run(["node", "--version"], capture_output=True,
                                     text=True).stdout.strip()
    if shutil.which("wrk"):
        v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        out["wrk"] = (v.stdout + v.stderr).split("Copyright")[0].replace("wrk", "").strip()
    return out


@dataclass
class Server:
    """A server process; `kind` is objectstore | objectstore-nofsync | objectstore-w2 | bare |
    bare-w2 | moto | s3rver (-w2: two worker processes)."""

    kind: str
    label: str
    workdir: Path
    data_dir: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    target: Target = field(default_factory=lambda: Target("?", 0))
    startup_s: float = 0.0
    durable: bool = False

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        t = self.target
        if self.kind.startswith("objectstore"):
            env["OBJECTSTORE_ROOT_ACCESS_KEY"] = t.access_key
            env["OBJECTSTORE_ROOT_SECRET_KEY"] = t.secret_key
            cmd = [sys.executable, "-m", "objectstore", "serve", "--data-dir",
                   str(self.data_dir), "--port", str(port)]
            if self.kind == "objectstore-nofsync":
                cmd.append("--no-fsync")
            if self.kind.endswith("-w2"):
                cmd += ["--workers", "2"]
            return cmd, env
        if self.kind.startswith("bare"):
            workers = ["--workers", "2"] if self.kind.endswith("-w2") else []
            return [sys.executable, str(HERE / "bare_app.py"), "--port", str(port),
                    *workers], env
        if self.kind == "moto":
            return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env
        if self.kind == "s3rver":
            # s3rver's continuation tokens use DES, which Node >= 17 (OpenSSL 3) only has
            # with the legacy provider; without it a ListObjectsV2 that pages answers 500.
            legacy = ["--openssl-legacy-provider"] if node_major() >= 17 else []
            return ["node", *legacy, str(S3RVER_JS), "-d", str(self.data_dir), "-a",
                    "127.0.0.1", "-p", str(port), "--silent"], env
        raise ValueError(self.kind)

    def start(self, fresh: bool = True, timeout: float = 60.0, port: int | None = None) -> float:
        """Start on ``port`` or a new free one; returns seconds from spawn to first answered
        request (an authenticated ListBuckets, or GET / for the bare app)."""
        port = port or free_port()
        if self.kind == "s3rver":
            self.target = Target(self.label, port, "S3RVER", "S3RVER")
        else:
            self.target = Target(self.label, port, is_s3=not self.kind.startswith("bare"))
        if self.data_dir is None:
            self.data_dir = self.workdir / f"data-{self.kind}"
        if fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd, env = self.command(port)
        logf = open(self.workdir / f"{self.kind}.log", "ab")
        probe = self.target.presign("GET", "") if self.target.is_s3 else "/"
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(self.workdir))
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited at start-up; see "
                                   f"{self.workdir / (self.kind + '.log')}")
            if conn_ok(port, probe):
                self.startup_s = time.perf_counter() - t0
                return self.startup_s
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.label} did not answer within {timeout:.0f} s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
