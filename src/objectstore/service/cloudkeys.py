"""The cloud's key pairs: users bundle images against the certificate; the registry
decrypts bundle keys with the private key. Several may be configured (rotation)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from objectstore.tls import certificate, ensure_pair


@dataclass(frozen=True)
class CloudKey:
    key: rsa.RSAPrivateKey
    cert_pem: bytes


def ensure_default(data_dir: Path) -> tuple[Path, Path]:
    """The data directory's own cloud key pair (RSA-2048), created on first use (by one of
    several gateways starting at once: tls.ensure_pair)."""
    folder = data_dir / "cloud"
    key_path, cert_path = folder / "cloud-key.pem", folder / "cloud-cert.pem"

    def make() -> tuple[bytes, bytes]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = certificate(key, "objectstore cloud")
        return (key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
                cert.public_bytes(serialization.Encoding.PEM))
    ensure_pair(key_path, cert_path, make)
    return key_path, cert_path


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
