"""One frozen Settings, from flags and OBJECTSTORE_* environment variables."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_PORT = 3333
DEFAULT_DOMAIN = "s3.localhost"
DEFAULT_WEBSITE_DOMAIN = "s3-website.localhost"


def default_data_dir() -> Path:
    return Path(os.environ.get("OBJECTSTORE_DATA_DIR") or "./data")


def env_switch(name: str) -> bool:
    """Whether OBJECTSTORE_<name> turns a switch on (set, and not "", "0" or "false")."""
    return os.environ.get(f"OBJECTSTORE_{name}", "") not in ("", "0", "false")


def default_keyring() -> Path | None:
    """The keyring file named by OBJECTSTORE_KEYRING (None: the data dir's own)."""
    value = os.environ.get("OBJECTSTORE_KEYRING")
    return Path(value) if value else None


def default_meta_url() -> str | None:
    """OBJECTSTORE_META_URL: a postgresql:// URL of the metadata database (None: SQLite)."""
    return os.environ.get("OBJECTSTORE_META_URL") or None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    domains: tuple[str, ...] = (DEFAULT_DOMAIN,)
    # the website endpoint: BUCKET.<website_domain> ("" : none); a second port (0: none)
    # where the Host name is the bucket (CNAME style); docs/running.md, "Static websites"
    website_domain: str = DEFAULT_WEBSITE_DOMAIN
    website_port: int = 0
    region: str = "us-east-1"
    fsync: bool = True
    root_access_key: str | None = None
    root_secret_key: str | None = None
    log_level: str = "info"
    access_log: str = ""  # JSON lines access log: "" off, "-" standard output, else a file
    cloud_keys: tuple[str, ...] = ()  # extra cloud key pairs (PEM paths), newest first
    cloud_certs: tuple[str, ...] = ()
    keyring: Path | None = field(default_factory=default_keyring)  # master keys, apart
    meta_url: str | None = field(default_factory=default_meta_url)  # PostgreSQL (None: SQLite)
    # image registry limits (docs/running.md, "Image registry limits")
    max_image_size: int = 10 << 30  # bytes of one image (EC2's limit for bundled AMIs)
    image_quota_bytes: int = 100 << 30  # bytes of all images of one account
    image_quota_pending: int = 4  # registrations of one account pending at once
    min_free_space: int = 256 << 20  # bytes kept free: below, new data answers 507
    tmp_max_age: float = 900.0  # seconds before a stale temp file (a cut-off upload) goes
    scrub_interval: float = 0.0  # hours between background scrubs (0: off)
    scrub_rate: float = 8.0  # MB/s read by a background scrub
    verify_reads: str = "uncached"  # GET checks blocks read from disk ("all": cached too)
    lifecycle_day_seconds: float = 86400.0  # a lifecycle "day" for the sweeper (tests: 10)
    lifecycle_interval: float = 0.0  # seconds between lifecycle sweeps (0: from the day)
    job_lease_seconds: float = 30.0  # a background job's lease lasts this long unrenewed
    log_delivery_interval: float = 300.0  # seconds a server access log record may wait
    # encryption at rest (docs/running.md, "Encryption at rest")
    default_encryption: str = ""  # "sse-s3": every new object SSE-S3 unless asked otherwise
    allow_sse_c_over_http: bool = False  # accept SSE-C keys over plain HTTP (testing only)
    kms_keys: tuple[str, ...] = ()  # KMS key names made at start if missing
    # settings of new buckets: "ceph" (ObjectWriter, no public access block) or "aws"
    # (BucketOwnerEnforced and all four public access blocks, Amazon S3 since April 2023)
    bucket_defaults: str = "ceph"
    # Limits and timeouts of the HTTP layer (server/protocol.py; docs/running.md).
    max_head_bytes: int = 32 * 1024  # request line + headers of one request
    max_url_bytes: int = 16 * 1024  # the request target (path + query)
    max_headers: int = 200  # header lines per request
    head_timeout: float = 30.0  # seconds to send a whole request head, from its first byte
    idle_timeout: float = 30.0  # seconds a connection may wait for its next (or first) request
    body_timeout: float = 60.0  # seconds an upload/download may go without moving a byte
    max_connections: int = 0  # open connections per process; 0: from RLIMIT_NOFILE
    shutdown_timeout: float = 10.0  # seconds SIGTERM waits for requests in flight
    # Several gateways on one data directory (docs/cluster.md; objectstore/gateway.py).
    gateway_id: str = ""  # names this gateway (temp dir, logs); "": host name + port
    cluster: bool = False  # the data directory is shared by several gateways (also found)
    blob_read: str = "auto"  # "mmap", "pread", "auto": pread on network file systems
    blob_grace: float = -1.0  # seconds garbage blobs stay after their last use (<0: auto)
    meta_timeout: float = 30.0  # seconds a metadata operation waits for the store: then 503
    # Operators (server/observe.py; docs/running.md, "Metrics, health checks, access log")
    metrics: bool = False  # Prometheus metrics on /_metrics (and --metrics-port)
    metrics_port: int = 0  # also /metrics on this port (0: none)
    metrics_token: str = field(default="", repr=False)  # bearer token for metrics ("": none)
    drain_seconds: float = 0.0  # after SIGTERM: /_health/ready answers 503 this long first
    # The web console (server/console.py; docs/console.md): its own port (0: none; -1: the
    # S3 port + 1 when free), extra origins it is served from (a proxy's), the S3 endpoint it
    # calls ("": the request's host name on the S3 port), and session credentials' longest life
    console_port: int = 0
    console_origins: tuple[str, ...] = ()
    console_endpoint: str = ""
    max_session_seconds: int = 43200


SETTINGS_ENV = "OBJECTSTORE_SETTINGS_JSON"  # how `serve --workers N` hands settings to workers


def settings_to_json(settings: Settings) -> str:
    data = asdict(settings)
    data["data_dir"] = str(settings.data_dir)
    data["keyring"] = str(settings.keyring) if settings.keyring else None
    return json.dumps(data)


def settings_from_json(text: str) -> Settings:
    data = json.loads(text)
    data["data_dir"] = Path(data["data_dir"])
    data["keyring"] = Path(data["keyring"]) if data.get("keyring") else None
    for name in ("domains", "cloud_keys", "cloud_certs", "kms_keys", "console_origins"):
        data[name] = tuple(data[name])
    return Settings(**data)
