"""A self-signed certificate for `serve --tls-self-signed` (made once in the data dir)."""

from __future__ import annotations

import datetime
import fcntl
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def certificate(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, common_name: str, *,
                alt_names: list[x509.GeneralName] | None = None,
                days: int = 3650) -> x509.Certificate:
    """A self-signed certificate for ``key``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                        critical=True)
    return builder.sign(key, hashes.SHA256())


def ensure_pair(key_path: Path, cert_path: Path,
                make: Callable[[], tuple[bytes, bytes]]) -> None:
    """Make a key and certificate file pair (PEM bytes from ``make()``) unless both exist.
    Processes starting at once on one (shared) directory take turns under a lock file
    beside them and look again, so a key never meets another process's certificate; each
    file appears whole (written aside, then renamed), the key last."""
    if key_path.exists() and cert_path.exists():
        return
    folder = key_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if key_path.exists() and cert_path.exists():
            return
        key_pem, cert_pem = make()
        tag = f".{os.getpid()}.{secrets.token_hex(4)}.tmp"
        tmp_cert = cert_path.with_name(cert_path.name + tag)
        tmp_cert.write_bytes(cert_pem)
        tmp_key = key_path.with_name(key_path.name + tag)
        tmp_key.write_bytes(key_pem)
        tmp_key.chmod(0o600)
        tmp_cert.rename(cert_path)
        tmp_key.rename(key_path)
    finally:
        os.close(fd)  # releases the lock


def self_signed(data_dir: Path, hosts: list[str]) -> tuple[Path, Path]:
    """(cert, key) paths under ``data_dir/tls``; created on first use."""
    folder = data_dir / "tls"
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"

    def make() -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        alt: list[x509.GeneralName] = []
        for host in dict.fromkeys(["localhost", "127.0.0.1", "::1", *hosts]):
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
                alt.append(x509.DNSName("*." + host))
        cert = certificate(key, "objectstore", alt_names=alt)
        return (key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
                cert.public_bytes(serialization.Encoding.PEM))
    ensure_pair(key_path, cert_path, make)
    return cert_path, key_path
