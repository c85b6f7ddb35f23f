"""The web console's own origin (docs/console.md): its static files on the console port,
the redirect from ``/_console/`` on the S3 port, and the server-level CORS answers the S3
port gives the console's origin, apart from any bucket's CORS configuration.

The console port serves nothing but these files and ``/config.json``: objects are only
ever served on the S3 port, a different origin, so an uploaded HTML or SVG object can
never run script in the console's origin. Every page answer carries a strict
Content-Security-Policy (scripts and styles from the console's own files only, no inline
script, no framing). The console holds no cookie and every call it makes is signed, so a
forged cross-site request has nothing to ride on (no CSRF by construction).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from objectstore.config import Settings
from objectstore.s3.errors import S3Error
from objectstore.s3.routing import host_name
from objectstore.server.request import Request, Response
from objectstore.service.gateways import version

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
MAX_ASSET = 4 << 20  # bytes: larger files are not console assets
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json",
         ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
         ".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8"}
SECURITY = [("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"), ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin")]
# what the S3 port lets the console's scripts read of its answers (S3's own headers and
# objects' x-amz-meta-*; "*" does it for requests without credentials, which these are)
EXPOSE = ("*, ETag, Content-Length, Content-Type, Content-Range, Content-Disposition, "
          "Content-Encoding, Content-Language, Cache-Control, Expires, Last-Modified, "
          "Retry-After, x-amz-request-id, x-amz-id-2, x-amz-version-id, x-amz-delete-marker, "
          "x-amz-checksum-crc32, x-amz-checksum-crc32c, x-amz-checksum-crc64nvme, "
          "x-amz-checksum-sha1, x-amz-checksum-sha256, x-amz-checksum-type, "
          "x-amz-server-side-encryption, x-amz-server-side-encryption-aws-kms-key-id, "
          "x-amz-object-lock-mode, x-amz-object-lock-retain-until-date, "
          "x-amz-object-lock-legal-hold, x-amz-website-redirect-location, "
          "x-amz-storage-class, x-amz-tagging-count, x-amz-expiration, x-amz-mp-parts-count")
METHODS = "GET, PUT, POST, DELETE, HEAD"
MAX_AGE = "600"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str


def load_assets(root: Path = STATIC) -> dict[str, Asset]:
    """Every file under ``root`` by its URL path ("/js/main.js"), read once at start."""
    assets: dict[str, Asset] = {}
    if not root.is_dir():
        return assets
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_size > MAX_ASSET:
            continue
        rel = "/" + path.relative_to(root).as_posix()
        kind = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or \
            "application/octet-stream"
        assets[rel] = Asset(path.read_bytes(), kind)
    return assets


class Console:
    def __init__(self, settings: Settings, assets: dict[str, Asset] | None = None) -> None:
        self.settings = settings
        self.port = settings.console_port
        self.assets = load_assets() if assets is None else assets
        self.origins = frozenset(o.rstrip("/").lower() for o in settings.console_origins)
        self.version = version()

    # ---------------------------------------------------------------- the console port
    def serve(self, req: Request, scheme: str) -> Response:
        if req.method not in ("GET", "HEAD"):
            return self._page(405, "text/plain; charset=utf-8", b"Method Not Allowed\n",
                              scheme, req, [("Allow", "GET, HEAD")])
        path = req.path
        if path == "/config.json":
            body = json.dumps({"endpoint": self.endpoint(req, scheme),
                               "region": self.settings.region, "version": self.version,
                               "sessionSeconds": min(3600, self.settings.max_session_seconds),
                               "maxSessionSeconds": self.settings.max_session_seconds}).encode()
            return self._page(200, "application/json", body, scheme, req)
        asset = self.assets.get("/index.html" if path in ("/", "/index.html") else path)
        if asset is None:
            return self._page(404, "text/plain; charset=utf-8", b"Not Found\n", scheme, req)
        return self._page(200, asset.content_type, asset.body, scheme, req,
                          [("Cache-Control", "no-store" if path in ("/", "/index.html")
                            else "no-cache")])

    def endpoint(self, req: Request, scheme: str) -> str:
        """The S3 endpoint the console calls: --console-endpoint, or the host name the
        browser used for the console, on the S3 port."""
        if self.settings.console_endpoint:
            return self.settings.console_endpoint.rstrip("/")
        name = host_name(req.headers.get("host", "")) or self.settings.host
        return f"{scheme}://{name}:{self.settings.port}"

    def _page(self, status: int, kind: str, body: bytes, scheme: str, req: Request,
              extra: list[tuple[str, str]] | None = None) -> Response:
        endpoint = urlsplit(self.endpoint(req, scheme))
        s3 = f"{endpoint.scheme}://{endpoint.netloc}"
        csp = ("default-src 'none'; script-src 'self'; style-src 'self'; "
               "img-src 'self' blob: data:; media-src blob:; font-src 'self'; "
               f"connect-src 'self' {s3}; frame-src 'none'; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'; object-src 'none'")
        headers = [("Content-Type", kind), ("Content-Security-Policy", csp), *SECURITY,
                   *(extra or [("Cache-Control", "no-store")])]
        return Response(status, headers, body)

    # ------------------------------------------------------------------- the S3 port
    def redirect(self, req: Request, scheme: str) -> Response:
        """``/_console/...`` on the S3 port: 302 to the console's own origin."""
        if not self.port:
            raise S3Error("NoSuchBucket", BucketName="_console")
        name = host_name(req.headers.get("host", "")) or self.settings.host
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        return Response(302, [("Location", f"{scheme}://{name}:{self.port}/")])

    def allows(self, origin: str, host: str) -> bool:
        """Whether ``origin`` is the console's: the host name the request was sent to on
        the console port, or one named by --console-origin."""
        if not self.port and not self.origins:
            return False
        if origin.rstrip("/").lower() in self.origins:
            return True
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return False
        return (self.port != 0 and parts.scheme in ("http", "https") and port == self.port
                and (parts.hostname or "") == host_name(host).strip("[]"))

    @staticmethod
    def cors_headers(origin: str) -> list[tuple[str, str]]:
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Expose-Headers", EXPOSE)]

    @staticmethod
    def preflight(req: Request, origin: str) -> Response:
        """An OPTIONS preflight from the console's origin, on any path of the S3 port."""
        asked = req.headers.get("access-control-request-headers", "")
        names = ", ".join(h.strip() for h in asked.split(",")
                          if h.strip() and all(c.isalnum() or c in "-_" for c in h.strip()))
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                   ("Access-Control-Allow-Methods", METHODS),
                   ("Access-Control-Max-Age", MAX_AGE)]
        if names:
            headers.append(("Access-Control-Allow-Headers", names))
        return Response(200, headers)
