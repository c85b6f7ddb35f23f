"""The `objectstore` command: serve, and admin commands on the same data directory."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Sequence

from objectstore import gateway, imagecli, statuscli
from objectstore.admincli import (
    PAB_FLAGS,
    admin,
    keyring_arg,
    keyring_command,
    kms_command,
    meta_arg,
    migrate_command,
)
from objectstore.config import (
    DEFAULT_PORT,
    DEFAULT_WEBSITE_DOMAIN,
    Settings,
    env_switch,
)
from objectstore.service import accounts
from objectstore.service.stores import Stores
from objectstore.storage.keyring import KeyringError
from objectstore.storage.meta import Unavailable
from objectstore.storage.pg_schema import SchemaTooNew


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"OBJECTSTORE_{name}", default)


def _float_flag(parser: argparse.ArgumentParser, flag: str, default: float,
                help: str) -> None:
    """A number option whose default comes from OBJECTSTORE_<FLAG NAME> (e.g.
    --tmp-max-age: OBJECTSTORE_TMP_MAX_AGE), else ``default``."""
    env = flag[2:].upper().replace("-", "_")
    parser.add_argument(flag, type=float, default=float(_env(env) or default), help=help)


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from "1048576", "512K", "256M", "1G" (binary units; a trailing "B"/"iB" is
    allowed)."""
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = t[-1:] if t[-1:] in _UNITS and t[-1:] else ""
    number = t[:-1] if unit else t
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if not 0 <= value < 1 << 62:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(value * _UNITS[unit])


def _meta_url(text: str) -> str:
    if text and not text.startswith(("postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError("a postgresql://user@host:port/db URL (the "
                                         "default, SQLite, needs none)")
    return text


def _data_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=_env("DATA_DIR", "./data"),
                   help="where objects and metadata live (env OBJECTSTORE_DATA_DIR)")
    p.add_argument("--keyring", default=_env("KEYRING"),
                   help="the keyring file of master keys (env OBJECTSTORE_KEYRING; default "
                        "DATA_DIR/keyring/keyring.json)")
    p.add_argument("--meta", default=_env("META_URL"), metavar="URL", type=_meta_url,
                   help="the metadata database: postgresql://user@host:port/db (env "
                        "OBJECTSTORE_META_URL; default SQLite in DATA_DIR)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="objectstore", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the S3 server")
    _data_dir_arg(serve)
    serve.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(_env("PORT", str(DEFAULT_PORT)) or 0))
    serve.add_argument("--domain", action="append", dest="domains",
                       help="virtual-hosted-style base domain (repeatable; env "
                            "OBJECTSTORE_DOMAIN, comma-separated; default s3.localhost)")
    serve.add_argument("--website-domain", default=_env("WEBSITE_DOMAIN", DEFAULT_WEBSITE_DOMAIN),
                       help="static websites at BUCKET.<this domain> (env "
                            "OBJECTSTORE_WEBSITE_DOMAIN; default s3-website.localhost; "
                            "'' turns it off)")
    serve.add_argument("--website-port", type=int,
                       default=int(_env("WEBSITE_PORT", "0") or 0),
                       help="also listen on this port for static websites, the Host name "
                            "being the bucket (CNAME style; env OBJECTSTORE_WEBSITE_PORT; "
                            "default 0: off)")
    _console_args(serve)
    serve.add_argument("--region", default=_env("REGION", "us-east-1"))
    serve.add_argument("--workers", type=int, default=int(_env("WORKERS", "1") or 1),
                       help="server processes sharing the data directory (default 1)")
    serve.add_argument("--no-fsync", action="store_true",
                       default=env_switch("NO_FSYNC"),
                       help="do not fsync (throwaway test servers only: a crash may lose data)")
    serve.add_argument("--tls-cert", default=_env("TLS_CERT"), help="serve HTTPS with this PEM "
                       "certificate (with --tls-key)")
    serve.add_argument("--tls-key", default=_env("TLS_KEY"))
    serve.add_argument("--tls-self-signed", action="store_true",
                       help="serve HTTPS with a self-signed certificate kept in the data dir")
    serve.add_argument("--cloud-key", action="append", default=[],
                       help="PEM RSA key of the cloud that decrypts image bundles (repeatable, "
                            "with --cloud-cert; the data dir's own pair is always tried last)")
    serve.add_argument("--cloud-cert", action="append", default=[],
                       help="the certificate matching each --cloud-key")
    serve.add_argument("--max-image-size", type=int,
                       default=int(_env("MAX_IMAGE_SIZE", str(10 << 30)) or 0),
                       help="largest image (bytes) a registration may produce (default 10 GiB)")
    serve.add_argument("--image-quota-bytes", type=int,
                       default=int(_env("IMAGE_QUOTA_BYTES", str(100 << 30)) or 0),
                       help="bytes of registered and pending images per account "
                            "(default 100 GiB)")
    serve.add_argument("--image-quota-pending", type=int,
                       default=int(_env("IMAGE_QUOTA_PENDING", "4") or 0),
                       help="image registrations one account may have pending (default 4)")
    serve.add_argument("--min-free-space", type=parse_size,
                       default=parse_size(_env("MIN_FREE_SPACE", "256M") or "0"),
                       help="free space kept on the data directory's file system; below it "
                            "new data is refused with 507 so deletes still work (bytes, or "
                            "with K/M/G suffix; default 256M; 0 disables)")
    _float_flag(serve, "--tmp-max-age", 900,
                "seconds after which a temp file of a cut-off upload is removed, at "
                "start-up and every few minutes (default 900)")
    _float_flag(serve, "--scrub-interval", 0,
                "hours between background scrubs of all blobs (default 0: off)")
    serve.add_argument("--verify-reads", choices=("uncached", "all"),
                       default=_env("VERIFY_READS", "uncached"),
                       help="which windows of a streamed GET are checked against their block "
                            "checksums: those not in the page cache (default), or all")
    _float_flag(serve, "--scrub-rate", 8, "MB/s a background scrub reads at most (default 8)")
    _float_flag(serve, "--lifecycle-day-seconds", 86400,
                "how long a lifecycle day lasts for the sweeper, in seconds "
                "(default 86400; tests use 10, like Ceph's rgw_lc_debug_interval; "
                "x-amz-expiration headers always count real days)")
    _float_flag(serve, "--lifecycle-interval", 0,
                "seconds between lifecycle sweeps (default 0: hourly, or a fifth of "
                "a shortened lifecycle day)")
    _float_flag(serve, "--job-lease-seconds", 30,
                "how long a background job's lease lasts without renewal: when its "
                "process dies another takes the job over after this; also an image "
                "registration's claim (default 30)")
    _float_flag(serve, "--log-delivery-interval", 300,
                "seconds a server access log record waits at most before it is "
                "delivered to its target bucket (default 300; ceph/s3-tests expect 5)")
    serve.add_argument("--default-encryption", choices=("none", "sse-s3"),
                       default=_env("DEFAULT_ENCRYPTION", "none") or "none",
                       help="sse-s3: every new object is encrypted with SSE-S3 unless the "
                            "request or the bucket asks otherwise (Amazon S3 since 2023); "
                            "none (default): only when asked")
    serve.add_argument("--allow-sse-c-over-http", action="store_true",
                       default=env_switch("ALLOW_SSE_C_OVER_HTTP"),
                       help="accept SSE-C keys over plain HTTP (local testing only: the key "
                            "crosses the network in the clear)")
    serve.add_argument("--bucket-defaults", choices=("ceph", "aws"),
                       default=_env("BUCKET_DEFAULTS", "ceph") or "ceph",
                       help="settings of new buckets: ceph (default: ObjectWriter, no public "
                            "access block) or aws (BucketOwnerEnforced and all four public "
                            "access blocks, as Amazon S3 since April 2023)")
    serve.add_argument("--kms-key", action="append", dest="kms_keys",
                       help="make this KMS key (for aws:kms) at start unless it exists "
                            "(repeatable; env OBJECTSTORE_KMS_KEYS, comma-separated)")
    _limit_args(serve)
    gateway.add_args(serve)
    serve.add_argument("--log-level", default=_env("LOG_LEVEL", "info"))
    _observe_args(serve)

    account = sub.add_parser("account", help="manage accounts (Nova's projects)")
    asub = account.add_subparsers(dest="action", required=True)
    a = asub.add_parser("create")
    a.add_argument("name")
    a.add_argument("--email", default="")
    _data_dir_arg(a)
    a = asub.add_parser("list")
    _data_dir_arg(a)
    a = asub.add_parser("delete")
    a.add_argument("name")
    _data_dir_arg(a)
    a = asub.add_parser("public-access-block",
                        help="the account-wide Block Public Access settings (shown when no "
                        "flag is given); each bucket's own settings add to them")
    a.add_argument("name")
    for flag in PAB_FLAGS:
        a.add_argument(f"--{flag}", action="store_true")
    a.add_argument("--all", action="store_true", help="all four settings on")
    a.add_argument("--off", action="store_true", help="remove the account-wide settings")
    _data_dir_arg(a)

    user = sub.add_parser("user", help="manage users")
    usub = user.add_subparsers(dest="action", required=True)
    u = usub.add_parser("create")
    u.add_argument("name")
    u.add_argument("--account", required=True)
    u.add_argument("--admin", action="store_true")
    _data_dir_arg(u)
    u = usub.add_parser("list")
    _data_dir_arg(u)
    u = usub.add_parser("delete")
    u.add_argument("name")
    _data_dir_arg(u)
    u = usub.add_parser("policy", help="the user's identity policy (none: the user may do "
                        "all its account may)")
    u.add_argument("policy_action", choices=["set", "get", "delete"])
    u.add_argument("name")
    src = u.add_mutually_exclusive_group()
    src.add_argument("--canned", choices=["readonly", "readwrite", "writeonly"])
    src.add_argument("--file", help="a policy document (JSON), '-' for standard input")
    _data_dir_arg(u)
    u = usub.add_parser("cert", help="certificates that verify the user's image manifests")
    u.add_argument("cert_action", choices=["add", "list"])
    u.add_argument("name")
    u.add_argument("file", nargs="?", help="PEM certificate (for add)")
    _data_dir_arg(u)

    key = sub.add_parser("key", help="manage access keys")
    ksub = key.add_subparsers(dest="action", required=True)
    k = ksub.add_parser("create")
    k.add_argument("user")
    k.add_argument("--access-key", help=argparse.SUPPRESS)
    k.add_argument("--secret-key", help=argparse.SUPPRESS)
    _data_dir_arg(k)
    k = ksub.add_parser("list")
    k.add_argument("user", nargs="?")
    _data_dir_arg(k)
    k = ksub.add_parser("delete")
    k.add_argument("access_key")
    _data_dir_arg(k)
    for status in ("deactivate", "activate"):  # an inactive key signs nothing (403)
        k = ksub.add_parser(status)
        k.add_argument("access_key")
        _data_dir_arg(k)

    mig = sub.add_parser("migrate", help="copy all metadata to another store (SQLite <-> "
                                         "PostgreSQL), verified and resumable")
    mig.add_argument("--from", dest="source", required=True, metavar="DIR|URL",
                     help="a data directory (its SQLite database) or a postgresql:// URL")
    mig.add_argument("--to", dest="dest", required=True, metavar="DIR|URL",
                     help="a data directory or a postgresql:// URL")
    mig.add_argument("--skip-nul", action="store_true",
                     help="leave out rows whose keys hold U+0000 (PostgreSQL cannot store "
                          "them) instead of refusing")
    mig.add_argument("--batch", type=int, default=500, help="rows per transaction")
    mig.add_argument("--keyring", default=_env("KEYRING"),
                     help="the keyring file both stores' secrets are sealed with")

    ring = sub.add_parser("keyring", help="master keys that seal secrets at rest")
    rsub = ring.add_subparsers(dest="action", required=True)
    r = rsub.add_parser("status", help="key ids, ages and use (never the keys)")
    _data_dir_arg(r)
    r = rsub.add_parser("rotate", help="a new active key; every secret sealed again under it "
                        "(and a new SSE-S3 master key for new objects)")
    _data_dir_arg(r)
    r = rsub.add_parser("prune", help="drop retired keys that nothing is sealed with")
    _data_dir_arg(r)

    kms = sub.add_parser("kms", help="KMS keys for SSE-KMS (aws:kms), kept in the keyring")
    ksub2 = kms.add_subparsers(dest="action", required=True)
    for name, text in (("create", "make a KMS key"), ("rotate", "a new version of a KMS key "
                       "(objects encrypted before keep opening)")):
        r = ksub2.add_parser(name, help=text)
        r.add_argument("name")
        _data_dir_arg(r)
    r = ksub2.add_parser("list", help="KMS key names and versions (never the keys)")
    _data_dir_arg(r)

    imagecli.add_parser(sub)
    statuscli.add_parser(sub, _data_dir_arg)

    gc = sub.add_parser("gc", help="remove blobs no object refers to")
    gc.add_argument("--grace", type=float, default=3600.0,
                    help="leave blobs younger than this many seconds (default 3600)")
    gc.add_argument("--abandoned-uploads", type=float, default=7.0, metavar="DAYS",
                    help="abort multipart uploads started more than DAYS days ago (default 7)")
    _data_dir_arg(gc)

    sc = sub.add_parser("scrub", help="check every blob against its block checksums and every "
                        "record against its data; exit 1 if anything is wrong")
    sc.add_argument("--rate", type=float, default=0.0, metavar="MB/S",
                    help="read at most this many MB per second (default: unlimited)")
    sc.add_argument("--grace", type=float, default=3600.0,
                    help="blobs and temp files younger than this many seconds are never "
                         "orphans (default 3600)")
    _data_dir_arg(sc)
    fs = sub.add_parser("fsck", help="scrub, and with --repair fix what loses no "
                        "acknowledged data")
    fs.add_argument("--repair", action="store_true",
                    help="remove orphan blobs and stale temp files, add block checksums to "
                         "blobs written before they existed (damaged objects are reported, "
                         "never removed)")
    fs.add_argument("--grace", type=float, default=3600.0,
                    help="leave blobs and temp files younger than this many seconds "
                         "(default 3600)")
    _data_dir_arg(fs)
    lc = sub.add_parser("lifecycle", help="bucket lifecycle rules")
    lsub = lc.add_subparsers(dest="action", required=True)
    lr = lsub.add_parser("run", help="run one lifecycle sweep now (expirations, aborts of "
                         "incomplete multipart uploads)")
    lr.add_argument("--bucket", help="only this bucket")
    lr.add_argument("--day-seconds", type=float,
                    default=float(_env("LIFECYCLE_DAY_SECONDS", "86400") or 86400),
                    help="how long a lifecycle day lasts (default 86400)")
    _data_dir_arg(lr)
    return top


# Limits and timeouts of the HTTP layer: (flag, Settings field, type, help); the env var is
# OBJECTSTORE_<FIELD>, the default the Settings default (docs/running.md).
_LIMITS: tuple[tuple[str, str, type, str], ...] = (
    ("--max-head-bytes", "max_head_bytes", int, "largest request head (line + headers)"),
    ("--max-url-bytes", "max_url_bytes", int, "longest request target (path + query)"),
    ("--max-headers", "max_headers", int, "most header lines in one request"),
    ("--head-timeout", "head_timeout", float, "seconds to send a request head, from its "
                                              "first byte"),
    ("--idle-timeout", "idle_timeout", float, "seconds a connection may wait for its next "
                                              "(or first) request"),
    ("--body-timeout", "body_timeout", float, "seconds an upload may go without sending "
                                              "a byte, or a download without reading one"),
    ("--max-connections", "max_connections", int, "open connections per process beyond "
                                                  "which new ones get 503 SlowDown (0: from "
                                                  "RLIMIT_NOFILE)"),
    ("--shutdown-timeout", "shutdown_timeout", float, "seconds SIGTERM waits for requests in "
                                                      "flight"),
)


def _limit_args(p: argparse.ArgumentParser) -> None:
    for flag, name, kind, text in _LIMITS:
        default = getattr(Settings, name)
        p.add_argument(flag, dest=name, type=kind,
                       default=kind(_env(name.upper(), str(default)) or default),
                       help=f"{text} (default {default}; env OBJECTSTORE_{name.upper()})")


def _console_args(p: argparse.ArgumentParser) -> None:
    """The web console (server/console.py; docs/console.md)."""
    p.add_argument("--console-port", type=int, default=int(_env("CONSOLE_PORT", "-1") or -1),
                   help="serve the web console on this port (env OBJECTSTORE_CONSOLE_PORT; "
                        "default: the S3 port + 1 when it is free; 0: no console)")
    p.add_argument("--console-origin", action="append", dest="console_origins",
                   default=[o for o in (_env("CONSOLE_ORIGIN") or "").split(",") if o],
                   help="another origin the console is reached at, through a proxy "
                        "(repeatable; env OBJECTSTORE_CONSOLE_ORIGIN, comma-separated)")
    p.add_argument("--console-endpoint", default=_env("CONSOLE_ENDPOINT", ""),
                   help="the S3 endpoint URL the console calls (default: the console's host "
                        "name on the S3 port)")
    p.add_argument("--max-session-seconds", type=int,
                   default=int(_env("MAX_SESSION_SECONDS", "43200") or 43200),
                   help="longest life of session credentials (STS GetSessionToken, the "
                        "console's sign-in; default 43200)")


def _observe_args(p: argparse.ArgumentParser) -> None:
    """Metrics, the JSON access log and draining (server/observe.py; docs/running.md)."""
    p.add_argument("--access-log", nargs="?", const=True, default=_env("ACCESS_LOG", ""),
                   metavar="PATH|-", help="JSON lines access log, one record per request, to "
                   "PATH or '-' (standard output) (env OBJECTSTORE_ACCESS_LOG); the bare "
                   "flag: uvicorn's plain request lines, as before")
    p.add_argument("--metrics", action="store_true",
                   default=env_switch("METRICS"),
                   help="Prometheus metrics on /_metrics (admin keys or --metrics-token; env "
                        "OBJECTSTORE_METRICS=1)")
    p.add_argument("--metrics-port", type=int, default=int(_env("METRICS_PORT", "0") or 0),
                   help="also serve them as /metrics on this port (implies --metrics; env "
                        "OBJECTSTORE_METRICS_PORT)")
    p.add_argument("--metrics-token", default=_env("METRICS_TOKEN", ""),
                   help="bearer token that may read the metrics (implies --metrics; prefer "
                        "env OBJECTSTORE_METRICS_TOKEN: a flag shows in ps)")
    _float_flag(p, "--drain-seconds", 0, "after SIGTERM, /_health/ready answers 503 for this "
                "many seconds while requests are still served, then the server stops "
                "(default 0)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        from objectstore.servecli import serve  # (uvicorn and the server: only to serve)

        return serve(args)
    if args.command == "image":
        return imagecli.run(args)
    if args.command == "migrate":
        return migrate_command(args)
    try:
        # admin commands never unlink garbage blobs after their commits: a gateway may still
        # be reading them (--blob-grace); `gc` reaps those older than its --grace
        stores = Stores.open(Path(args.data_dir), keyring=keyring_arg(args), grace=math.inf,
                             meta_url=meta_arg(args))
    except (KeyringError, Unavailable, SchemaTooNew) as exc:
        print(f"objectstore: {exc}", file=sys.stderr)
        return 1
    try:
        if args.command == "keyring":
            return keyring_command(args, stores)
        if args.command == "kms":
            return kms_command(args, stores)
        if args.command == "status":
            return statuscli.run(args, stores)
        return admin(args, stores)
    except (accounts.AdminError, KeyringError) as exc:
        print(f"objectstore: {exc}", file=sys.stderr)
        return 1
    finally:
        stores.close()
