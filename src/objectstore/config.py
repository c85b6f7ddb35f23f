"""One frozen Settings, from flags and OBJECTSTORE_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 3333
DEFAULT_DOMAIN = "s3.localhost"


def default_data_dir() -> Path:
    return Path(os.environ.get("OBJECTSTORE_DATA_DIR") or "./data")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    domains: tuple[str, ...] = (DEFAULT_DOMAIN,)
    region: str = "us-east-1"
    fsync: bool = True
    root_access_key: str | None = None
    root_secret_key: str | None = None
    log_level: str = "info"
    access_log: bool = False
    cloud_keys: tuple[str, ...] = ()  # extra cloud key pairs (PEM paths), newest first
    cloud_certs: tuple[str, ...] = ()
