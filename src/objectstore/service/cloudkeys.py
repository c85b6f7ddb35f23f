"""The cloud's key pairs: users bundle images against the certificate; the registry
decrypts bundle keys with the private key. Several may be configured (rotation)."""

from __future__ import annotations

import fcntl
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from objectstore.tls import certificate


@dataclass(frozen=True)
class CloudKey:
    key: rsa.RSAPrivateKey
    cert_pem: bytes


def ensure_default(data_dir: Path) -> tuple[Path, Path]:
    """The data directory's own cloud key pair (RSA-2048), created on first use. Gateways
    starting at once on one (shared) directory make it one at a time under a lock file,
    the others reading it, so a key never meets another process's certificate."""
    folder = data_dir / "cloud"
    key_path, cert_path = folder / "cloud-key.pem", folder / "cloud-cert.pem"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if key_path.exists() and cert_path.exists():
            return key_path, cert_path
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = certificate(key, "objectstore cloud")
        tag = f".{os.getpid()}.{secrets.token_hex(4)}.tmp"
        tmp_cert = cert_path.with_name(cert_path.name + tag)
        tmp_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        tmp_key = key_path.with_name(key_path.name + tag)
        tmp_key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        tmp_key.chmod(0o600)
        tmp_cert.rename(cert_path)
        tmp_key.rename(key_path)  # last: the pair exists once both are in place
        return key_path, cert_path
    finally:
        os.close(fd)


def load(pairs: list[tuple[Path, Path]]) -> list[CloudKey]:
    out = []
    for key_path, cert_path in pairs:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path}: not an RSA private key")
        out.append(CloudKey(key, cert_path.read_bytes()))
    return out


def configured(data_dir: Path, keys: list[str], certs: list[str]) -> list[tuple[Path, Path]]:
    """The configured pairs (--cloud-key/--cloud-cert, in order), then the data dir's own."""
    if len(keys) != len(certs):
        raise ValueError("give --cloud-key and --cloud-cert the same number of times")
    pairs = [(Path(k), Path(c)) for k, c in zip(keys, certs, strict=True)]
    pairs.append(ensure_default(data_dir))
    return pairs
