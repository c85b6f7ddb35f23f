"""`objectstore status`: what an operator asks first — version, metadata store, data
directory, object and byte counts, disk free, gateways seen recently, last gc / scrub."""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from objectstore.service import gateways, jobs
from objectstore.service.stores import Stores

SECRET_PARAMS = ("password", "sslpassword", "passfile", "sslkey")


def add_parser(sub: Any, data_dir_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("status", help="version, metadata store, data directory, counts, disk "
                       "free, gateways seen recently, last gc / scrub")
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    data_dir_arg(p)


def redact_url(url: str) -> str:
    """A database URL fit to print: its password (and secret query values) replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in creds else f"{user}@{host}"
    query = urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def describe_store(meta: Any) -> str:
    """The metadata store: a PostgreSQL store's URL (redacted), or the SQLite file."""
    url = getattr(meta, "url", None)
    if isinstance(url, str):
        return redact_url(url)
    return f"sqlite:{meta.path}"


def _one(meta: Any, sql: str) -> tuple[Any, ...]:
    row = meta.reader().execute(sql).fetchone()
    return tuple(row) if row is not None else ()


def gather(stores: Stores, data_dir: str, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    meta: Any = stores.meta
    buckets = _one(meta, "SELECT COUNT(*) FROM buckets")[0]
    total = "COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT)"  # PostgreSQL: SUM is NUMERIC
    objects, size = _one(meta, f"SELECT {total} FROM objects")
    versions, vsize = _one(meta, f"SELECT {total} FROM versions WHERE is_marker = 0")
    uploads = _one(meta, "SELECT COUNT(*) FROM uploads")[0]
    garbage = _one(meta, "SELECT COUNT(*) FROM garbage")[0]
    fs = os.statvfs(stores.blobs.root)
    meta.ensure_schema(jobs.SCHEMA)  # a data directory no server has run on yet
    leases = {r[0]: {"holder": r[1], "expires": r[2]} for r in meta.reader().execute(
        "SELECT name, holder, expires FROM leases").fetchall()}
    return {
        "version": gateways.version(),
        "metadata_store": describe_store(meta),
        "data_directory": os.path.abspath(data_dir),
        "buckets": buckets, "objects": objects, "bytes": size,
        "noncurrent_versions": versions, "noncurrent_bytes": vsize,
        "multipart_uploads": uploads, "gc_pending_blobs": garbage,
        "disk": {"free_bytes": fs.f_bavail * fs.f_frsize, "total_bytes": fs.f_blocks * fs.f_frsize},
        "gateways": [vars(g) for g in gateways.gateways(meta, now - gateways.RECENT)],
        "last_runs": [vars(r) for r in gateways.job_runs(meta)],
        "leases": leases,
    }


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _when(t: float, now: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    ago = now - t
    return f"{stamp} ({ago:.0f}s ago)" if ago < 3600 else f"{stamp} ({ago / 3600:.1f}h ago)"


def render(s: dict[str, Any], now: float) -> str:
    disk = s["disk"]
    pct = 100.0 * disk["free_bytes"] / disk["total_bytes"] if disk["total_bytes"] else 0.0
    lines = [
        f"objectstore {s['version']}",
        f"metadata store:  {s['metadata_store']}",
        f"data directory:  {s['data_directory']}",
        f"buckets:         {s['buckets']}",
        f"objects:         {s['objects']} ({_size(s['bytes'])}, {s['bytes']} bytes)",
        f"noncurrent:      {s['noncurrent_versions']} versions ({_size(s['noncurrent_bytes'])})",
        f"multipart:       {s['multipart_uploads']} uploads in progress",
        f"gc pending:      {s['gc_pending_blobs']} blobs",
        f"disk free:       {_size(disk['free_bytes'])} of {_size(disk['total_bytes'])} "
        f"({pct:.1f}%)",
        f"gateways seen in the last {gateways.RECENT / 60:.0f} minutes: {len(s['gateways'])}",
    ]
    for g in s["gateways"]:
        lines.append(f"  {g['gateway']:<28} pid {g['pid']:<8} {g['version']:<10} "
                     f"up since {_when(g['started'], now)}, seen {now - g['seen']:.0f}s ago")
    lines.append("last runs:")
    runs = {r["job"]: r for r in s["last_runs"]}
    for job in ("gc", "scrub", *sorted(set(runs) - {"gc", "scrub"})):
        r = runs.get(job)
        if r is None:
            lines.append(f"  {job:<12} never")
        else:
            lines.append(f"  {job:<12} {_when(r['finished'], now)} "
                         f"{'ok' if r['ok'] else 'FAILED'} by {r['gateway']}: {r['summary']}")
    return "\n".join(lines)


def run(args: argparse.Namespace, stores: Stores) -> int:
    now = time.time()
    found = gather(stores, args.data_dir, now)
    print(json.dumps(found, indent=2) if args.json else render(found, now))
    return 0
