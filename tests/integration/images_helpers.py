"""Helpers for test_images.py: the shared EC2 bundle fixture, signed `/_images` requests,
EC2 clients, polling, CLI runs and hand-made (possibly malicious) bundles."""

from __future__ import annotations

import datetime
import hashlib
import http.client
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

import boto3
from botocore.auth import HmacV1Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from harness import Creds, Server

from objectstore.images.keys import wrap_key
from objectstore.images.manifest import Manifest, Part, render_manifest
from objectstore.images.signature import sign

MiB = 1 << 20
REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[2]


def _shared() -> Path:
    """shared/ test data: $OBJECTSTORE_SHARED, then ../shared beside the repo, then
    /work/shared (as tests/unit/images does)."""
    env = os.environ.get("OBJECTSTORE_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared", Path("/work/shared")]
    for path in candidates:
        if (path / "fixtures").is_dir():
            return path
    raise FileNotFoundError(f"shared/ test data not found in {candidates}")


EUCA = _shared() / "fixtures" / "ec2-bundle-euca-1.2"
FIXTURE_SIZE = 1048576
FIXTURE_SHA1 = "3b71f43ff30f4b15b5cd85dd9e95ebc7e84eb5a3"


def _unit_util() -> Any:
    """tests/unit/images/images_util.py, imported by path under its own name."""
    path = REPO / "tests" / "unit" / "images" / "images_util.py"
    spec = importlib.util.spec_from_file_location("unit_images_util", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("unit_images_util", module)
    spec.loader.exec_module(module)
    return module


U = _unit_util()  # tar_of, member, encrypt_tar, encrypt_gz, zeros_gzip, KEY, IV, make_cert


def cloud_server(base: Path, *extra: str) -> Server:
    """A Server (not started) configured with the fixture's cloud key (the data dir's own
    key pair is always configured too, tried last)."""
    import secrets

    from harness import free_port
    return Server(base / "data", free_port(),
                  Creds("ROOTACCESSKEY" + secrets.token_hex(4).upper(), secrets.token_hex(20),
                        "admin", "admin"),
                  extra_args=["--cloud-key", str(EUCA / "cakey.pem"),
                              "--cloud-cert", str(EUCA / "cacert.pem"), *extra])


# ---------------------------------------------------------------- keys / certs

def new_key_and_cert(cn: str, folder: Path | None = None) -> tuple[rsa.RSAPrivateKey,
                                                                   x509.Certificate]:
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{cn}-key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        (folder / f"{cn}-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# ---------------------------------------------------------------- hand-made bundles

@dataclass
class Bundle:
    manifest: bytes
    parts: dict[str, bytes]  # file name -> encrypted bytes
    manifest_name: str = "img.manifest.xml"


def bundle_of_tar(tar: bytes, size: int, cloud_cert: x509.Certificate, *,
                  part_size: int = 4096, digest: bool = True,
                  signer: rsa.RSAPrivateKey | None = None, name: str = "img") -> Bundle:
    """tar -> gzip -> AES (unit helpers' KEY/IV) -> parts, and a manifest for them with the
    key and IV wrapped for ``cloud_cert``."""
    parts, data = U.encrypt_tar(tar, part_size=part_size)
    tar_digest = hashlib.sha1(tar).hexdigest() if digest else None
    return _assemble(parts, data, size, cloud_cert, tar_digest, signer, name)


def bundle_of_gz(gz: bytes, size: int, cloud_cert: x509.Certificate, *,
                 part_size: int = 1 << 20) -> Bundle:
    parts, data = U.encrypt_gz(gz, part_size=part_size)
    return _assemble(parts, data, size, cloud_cert, None, None, "img")


def _assemble(parts: Sequence[Part], data: Sequence[bytes], size: int,
              cloud_cert: x509.Certificate, tar_digest: str | None,
              signer: rsa.RSAPrivateKey | None, name: str) -> Bundle:
    named = [Part(p.index, f"{name}.part.{p.index}", p.digest) for p in parts]
    m = Manifest(
        name=name, user="tester", image_type="machine", architecture="x86_64",
        kernel_id=None, ramdisk_id=None, digest=tar_digest, size=size,
        bundled_size=sum(map(len, data)),
        ec2_encrypted_key=wrap_key(U.KEY, cloud_cert), ec2_encrypted_iv=wrap_key(U.IV, cloud_cert),
        parts=tuple(named), bundler=("objectstore-tests", "1", "0"))
    xml = render_manifest(m, None if signer is None else (lambda b: sign(b, signer)))
    return Bundle(xml, {p.filename: d for p, d in zip(named, data, strict=True)},
                  f"{name}.manifest.xml")


def good_tar(payload: bytes, name: str = "disk.img") -> bytes:
    return bytes(U.tar_of(U.member(name, payload)))


def fixture_files(manifest: str = "1mb.manifest.xml") -> Bundle:
    return Bundle((EUCA / manifest).read_bytes(),
                  {n: (EUCA / n).read_bytes() for n in ("1mb.part.0", "1mb.part.1")}, manifest)


def upload(s3: Any, bucket: str, folder: str, b: Bundle, acl: str | None = None) -> str:
    """Put the parts and the manifest under ``folder/``; returns bucket/key of the manifest."""
    extra = {"ACL": acl} if acl else {}
    for name, body in b.parts.items():
        s3.put_object(Bucket=bucket, Key=f"{folder}/{name}", Body=body)
    s3.put_object(Bucket=bucket, Key=f"{folder}/{b.manifest_name}", Body=b.manifest, **extra)
    return f"{bucket}/{folder}/{b.manifest_name}"


def objects(s3: Any, bucket: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = o["ETag"]
    return out


def stored_files(data_dir: Path) -> set[str]:
    """Blob and temporary files of a server's data dir (to see that nothing was left)."""
    return {str(p.relative_to(data_dir)) for sub in ("blobs", "tmp")
            for p in (data_dir / sub).rglob("*") if p.is_file()}


# ---------------------------------------------------------------- /_images (Nova)

@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        try:
            return str(self.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None


class Nova:
    """Signed (SigV4, UNSIGNED-PAYLOAD) requests to `/_images`; ``creds=None`` is anonymous."""

    def __init__(self, server: Server, creds: Creds | None, sigv2: bool = False) -> None:
        self.server = server
        self.creds = creds
        self.sigv2 = sigv2

    def request(self, method: str, path: str = "/_images",
                query: Iterable[tuple[str, str]] | Mapping[str, str] = (),
                headers: Mapping[str, str] | None = None, timeout: float = 60) -> Reply:
        items = list(query.items()) if isinstance(query, Mapping) else list(query)
        qs = urlencode(items, quote_via=quote, safe="-_.~")
        target = path + (f"?{qs}" if qs else "")
        url = self.server.endpoint + target
        hdrs = dict(headers or {})
        if self.creds is not None:
            req = AWSRequest(method=method, url=url, headers=hdrs, data=b"")
            credentials = Credentials(self.creds.access_key, self.creds.secret_key)
            if self.sigv2:
                HmacV1Auth(credentials).add_auth(req)
            else:
                req.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
                SigV4Auth(credentials, "s3", REGION).add_auth(req)
            hdrs = {k: v for k, v in req.headers.items()}
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            conn.request(method, target, body=b"" if method in ("PUT", "POST") else None,
                         headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        finally:
            conn.close()

    def list(self) -> list[dict[str, Any]]:
        r = self.request("GET")
        assert r.status == 200, (r.status, r.body)
        return list(r.json())

    def list_ids(self) -> set[str]:
        return {str(im["imageId"]) for im in self.list()}

    def find(self, image_id: str) -> dict[str, Any] | None:
        for im in self.list():
            if im["imageId"] == image_id:
                return im
        return None

    def register(self, location: str, **params: str) -> Reply:
        return self.request("PUT", query=[("image_location", location), *params.items()])

    def register_ok(self, location: str, **params: str) -> str:
        r = self.register(location, **params)
        assert r.status == 200, (r.status, r.body)
        return str(r.json()["imageId"])

    def wait(self, image_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            im = self.find(image_id)
            assert im is not None, f"{image_id} not listed"
            if im["imageState"] != "pending":
                return im
            assert time.monotonic() < deadline, f"{image_id} still pending after {timeout}s"
            time.sleep(0.1)

    def download(self, image_id: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", f"/_images/{image_id}", headers=headers)


# ---------------------------------------------------------------- EC2

def ec2_client(server: Server, creds: Creds) -> Any:
    return boto3.client(
        "ec2", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
        config=Config(retries={"max_attempts": 1}))


def ec2_wait(ec2: Any, image_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        images = ec2.describe_images(ImageIds=[image_id])["Images"]
        assert [i["ImageId"] for i in images] == [image_id]
        if images[0]["State"] != "pending":
            return dict(images[0])
        assert time.monotonic() < deadline, f"{image_id} still pending after {timeout}s"
        time.sleep(0.1)


def ec2_error(exc: Any) -> tuple[str, int]:
    return (exc.response["Error"]["Code"],
            exc.response["ResponseMetadata"]["HTTPStatusCode"])


# ---------------------------------------------------------------- CLIs

def cli_env(server: Server, creds: Creds) -> dict[str, str]:
    env = dict(os.environ)
    env.update(AWS_ACCESS_KEY_ID=creds.access_key, AWS_SECRET_ACCESS_KEY=creds.secret_key,
               OBJECTSTORE_ENDPOINT=server.endpoint, AWS_DEFAULT_REGION=REGION)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(k, None)
    return env


def run(args: Sequence[str], env: Mapping[str, str] | None = None,
        check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(list(args), env=dict(env) if env is not None else None,
                         capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, (args, out.returncode, out.stdout, out.stderr)
    return out


def objectstore(*args: str, env: Mapping[str, str] | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "objectstore", *args], env, check)


def aws(server: Server, creds: Creds, *args: str,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "awscli", "--endpoint-url", server.endpoint,
                "--output", "json", *args], cli_env(server, creds), check)


def sha1_file(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        while block := f.read(4 * MiB):
            h.update(block)
    return h.hexdigest()


def random_file(path: Path, size: int) -> str:
    """``size`` random bytes; returns their SHA1."""
    h = hashlib.sha1()
    with path.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(4 * MiB, left))
            f.write(block)
            h.update(block)
            left -= len(block)
    return h.hexdigest()
