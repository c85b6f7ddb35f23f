"""`objectstore image ...`: the user's side of the image registry.

bundle (local) → upload → register → list / describe / wait → publish / unpublish →
download → deregister, against a running server; cloud-cert prints the certificate
bundles are made for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from objectstore.client import Client, ClientError, Progress, reading


def add_parser(sub: Any) -> None:
    image = sub.add_parser("image", help="bundle, upload, register and manage machine images")
    isub = image.add_subparsers(dest="action", required=True)

    p = isub.add_parser("cloud-cert", help="print the certificate users bundle images for")
    p.add_argument("--data-dir", default=os.environ.get("OBJECTSTORE_DATA_DIR", "./data"))

    p = isub.add_parser("bundle", help="bundle an image file into a manifest and parts")
    p.add_argument("file")
    p.add_argument("--cert", required=True, help="the cloud's certificate (PEM)")
    p.add_argument("--user-key", help="your RSA key (PEM) to sign the manifest")
    p.add_argument("--user-cert", help="your certificate (PEM)")
    p.add_argument("--kernel", help="kernel image id, or 'true' if this is a kernel")
    p.add_argument("--ramdisk", help="ramdisk image id, or 'true' if this is a ramdisk")
    p.add_argument("--arch", default="x86_64")
    p.add_argument("--part-size", type=int, default=10 * 1024 * 1024)
    p.add_argument("--prefix", help="file name prefix (default: the image file's name)")
    p.add_argument("-d", "--destination", required=True, help="output directory")

    def remote(name: str, help_text: str) -> argparse.ArgumentParser:
        q: argparse.ArgumentParser = isub.add_parser(name, help=help_text)
        q.add_argument("--endpoint", default=os.environ.get("OBJECTSTORE_ENDPOINT")
                       or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:3333")
        q.add_argument("--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID"))
        q.add_argument("--secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY"))
        q.add_argument("--ca-bundle", default=os.environ.get("AWS_CA_BUNDLE"))
        q.add_argument("--insecure", action="store_true", help="do not verify TLS")
        return q

    p = remote("upload", "upload a bundle (manifest and parts) to a bucket")
    p.add_argument("manifest", help="path of the .manifest.xml written by bundle")
    p.add_argument("bucket")
    p.add_argument("--prefix", default="", help="key prefix (folder) in the bucket")
    p = remote("register", "register an uploaded bundle")
    p.add_argument("location", help="bucket/key of the manifest")
    p.add_argument("--name", default="")
    p.add_argument("--description", default="")
    p.add_argument("--arch")
    p.add_argument("--kernel")
    p.add_argument("--ramdisk")
    p.add_argument("--wait", action="store_true", help="wait until available or failed")
    remote("list", "list the images you may see")
    for name, text in (("describe", "show one image"), ("publish", "make an image public"),
                       ("unpublish", "make an image private"),
                       ("deregister", "deregister an image"),
                       ("wait", "wait until an image is available or failed")):
        remote(name, text).add_argument("image_id")
    p = remote("download", "download a registered image")
    p.add_argument("image_id")
    p.add_argument("-o", "--output", required=True)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ClientError as exc:
        print(f"objectstore: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.action == "cloud-cert":
        from objectstore.service.cloudkeys import ensure_default

        _key, cert = ensure_default(Path(args.data_dir))
        sys.stdout.write(cert.read_text())
        return 0
    if args.action == "bundle":
        return _bundle(args)
    if not args.access_key or not args.secret_key:
        print("objectstore: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --access-key/"
              "--secret-key)", file=sys.stderr)
        return 2
    client = Client(args.endpoint, args.access_key, args.secret_key,
                    ca_bundle=args.ca_bundle, insecure=args.insecure)
    if args.action == "upload":
        return _upload(client, Path(args.manifest), args.bucket, args.prefix)
    if args.action == "register":
        query = [("image_location", args.location)]
        for name, value in (("display_name", args.name), ("description", args.description),
                            ("architecture", args.arch), ("kernel_id", args.kernel),
                            ("ramdisk_id", args.ramdisk)):
            if value:
                query.append((name, value))
        result = client.json("PUT", "/_images", query)
        print(result["imageId"])
        return _wait(client, result["imageId"]) if args.wait else 0
    if args.action == "list":
        for im in client.json("GET", "/_images"):
            print(f"{im['imageId']}\t{im['imageState']}\t"
                  f"{'public' if im['isPublic'] else 'private'}\t{im['imageLocation']}\t"
                  f"{im.get('displayName') or ''}")
        return 0
    if args.action == "describe":
        print(json.dumps(_find(client, args.image_id), indent=2))
        return 0
    if args.action in ("publish", "unpublish"):
        op = "add" if args.action == "publish" else "remove"
        client.json("POST", "/_images", [("image_id", args.image_id), ("operation", op)])
        return 0
    if args.action == "deregister":
        client.request("DELETE", "/_images", [("image_id", args.image_id)])
        return 0
    if args.action == "wait":
        return _wait(client, args.image_id)
    if args.action == "download":
        return _download(client, args.image_id, Path(args.output))
    raise AssertionError(args.action)


def _find(client: Client, image_id: str) -> dict[str, Any]:
    for im in client.json("GET", "/_images"):
        if im["imageId"] == image_id:
            return dict(im)
    raise ClientError(404, json.dumps({"error": {"code": "NotFound",
                                                  "message": f"no image {image_id}"}}).encode())


def _wait(client: Client, image_id: str, timeout: float = 3600) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        im = _find(client, image_id)
        if im["imageState"] != "pending":
            print(f"{image_id} {im['imageState']}"
                  + (f": {im.get('stateReason')}" if im["imageState"] == "failed" else ""))
            return 0 if im["imageState"] == "available" else 1
        time.sleep(0.5)
    print(f"{image_id} still pending", file=sys.stderr)
    return 1


def _upload(client: Client, manifest: Path, bucket: str, prefix: str) -> int:
    from objectstore.service.unbundle import part_names

    names = part_names(manifest.read_bytes())
    try:
        client.request("PUT", f"/{bucket}", ok=(200,))
    except ClientError as exc:
        if exc.status != 409:
            raise
    folder = prefix.strip("/") + "/" if prefix.strip("/") else ""
    for name in [*names, manifest.name]:
        path = manifest.parent / name
        size = path.stat().st_size
        progress = Progress(f"upload {name}", size)
        with path.open("rb") as f:
            client.request("PUT", f"/{bucket}/{folder}{name}", body=reading(f, progress),  # type: ignore[arg-type]
                           length=size, ok=(200,))
        progress.close()
    print(f"{bucket}/{folder}{manifest.name}")
    return 0


def _download(client: Client, image_id: str, output: Path) -> int:
    resp = client.request("GET", f"/_images/{image_id}")
    total = int(resp.getheader("content-length") or 0)
    progress = Progress(f"download {image_id}", total)
    tmp = output.with_name(output.name + ".part")
    with tmp.open("wb") as f:
        while True:
            data = resp.read(1 << 20)
            if not data:
                break
            f.write(data)
            progress.add(len(data))
    progress.close()
    if tmp.stat().st_size != total:
        tmp.unlink()
        print("objectstore: download cut short", file=sys.stderr)
        return 1
    tmp.replace(output)
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from objectstore.service.unbundle import make_bundle

    image = Path(args.file)
    progress = Progress(f"bundle {image.name}", image.stat().st_size)
    manifest = make_bundle(
        image, Path(args.cert), Path(args.destination), progress=progress.set,
        user_key=Path(args.user_key) if args.user_key else None,
        user_cert=Path(args.user_cert) if args.user_cert else None,
        kernel=args.kernel, ramdisk=args.ramdisk, arch=args.arch,
        part_size=args.part_size, prefix=args.prefix)
    progress.close()
    print(manifest)
    return 0
