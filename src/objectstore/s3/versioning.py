"""Versioning protocol: the VersioningConfiguration document, version-id arguments and
ListObjectVersions pagination (pure: the caller passes the scan)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Generic, Iterator, Protocol, Sequence, TypeVar

from objectstore.s3 import xml
from objectstore.s3.errors import S3Error
from objectstore.s3.listing import after_prefix

_VERSION_ID = re.compile(r"[A-Za-z0-9_-]{32}\Z")


def parse_versioning(body: bytes) -> str:
    """The Status of a PutBucketVersioning body: "Enabled" or "Suspended". MFA delete is
    not supported (there are no MFA devices): MfaDelete=Enabled is refused."""
    root = xml.parse(body)
    if xml.local(root.tag) != "VersioningConfiguration":
        raise S3Error("MalformedXML")
    for c in root:
        if xml.local(c.tag) not in ("Status", "MfaDelete", "MFADelete"):
            raise S3Error("MalformedXML")
    status = xml.text(root, "Status")
    mfa = xml.text(root, "MfaDelete") or xml.text(root, "MFADelete")
    if mfa is not None and mfa not in ("Enabled", "Disabled"):
        raise S3Error("MalformedXML")
    if mfa == "Enabled":
        raise S3Error("InvalidRequest", "MFA Delete is not supported: this server has no MFA "
                      "devices. Only MfaDelete=Disabled is accepted.")
    if status not in ("Enabled", "Suspended"):
        raise S3Error("MalformedXML")
    return status


def version_arg(value: str | None) -> str | None | bool:
    """A versionId argument: False when absent, None for "null", else the id (checked)."""
    if value is None:
        return False
    if value == "null":
        return None
    if not _VERSION_ID.match(value):
        raise S3Error("InvalidArgument", "Invalid version id specified",
                      ArgumentName="versionId", ArgumentValue=value[:128])
    return value


class VersionLike(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def version_id(self) -> str: ...


V = TypeVar("V", bound=VersionLike)
# scan(after_key, after_seq): entries after (key, seq) in listing order (seq None: after
# every version of after_key); keys start with the prefix.
VersionScan = Callable[[bytes, int | None], Iterator[V]]


@dataclass(slots=True)
class VersionPage(Generic[V]):
    entries: list[V] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    next_key: str | None = None
    next_version: str | None = None


def versions_page(scan: VersionScan[V], *, prefix: str, delimiter: str, key_marker: str,
                  marker_seq: int | None, max_keys: int) -> VersionPage[V]:
    """One page of ListObjectVersions: versions and common prefixes, at most ``max_keys``
    of them together, after (``key_marker``, ``marker_seq``)."""
    page: VersionPage[V] = VersionPage()
    if max_keys <= 0:
        return page
    marker = key_marker.encode()
    it = scan(marker, marker_seq)
    count = 0
    while True:
        entry = next(it, None)
        if entry is None:
            return page
        key = entry.key
        if not key.startswith(prefix):
            continue  # the rest of a marker's key outside the prefix
        if delimiter:
            idx = key.find(delimiter, len(prefix))
            if idx >= 0:
                cp = key[: idx + len(delimiter)]
                if cp.encode() <= marker:  # returned on an earlier page
                    it = scan(after_prefix(cp), None)
                    continue
                if count == max_keys:
                    page.is_truncated = True
                    return page
                page.common_prefixes.append(cp)
                page.next_key, page.next_version = cp, None
                count += 1
                it = scan(after_prefix(cp), None)
                continue
        if count == max_keys:
            page.is_truncated = True
            return page
        page.entries.append(entry)
        page.next_key, page.next_version = key, entry.version_id
        count += 1


@dataclass(frozen=True, slots=True)
class ListedVersion:
    key: str
    version_id: str
    is_latest: bool
    is_marker: bool
    last_modified: str
    etag: str
    size: int
    owner_id: str
    owner_name: str
    checksum_algorithm: str | None = None


def _enc(value: str, url: bool) -> str:
    from urllib.parse import quote
    return quote(value, safe="/") if url else value


def list_versions(*, bucket: str, prefix: str, key_marker: str, version_id_marker: str,
                  page: VersionPage[V], listed: Sequence[ListedVersion], max_keys: int,
                  delimiter: str, url: bool) -> bytes:
    """ListVersionsResult, in the element order S3 answers with."""
    el = xml.el
    inner = el("Name", bucket) + el("Prefix", _enc(prefix, url))
    inner += el("KeyMarker", _enc(key_marker, url)) + el("VersionIdMarker", version_id_marker)
    if page.is_truncated and page.next_key is not None:
        inner += el("NextKeyMarker", _enc(page.next_key, url))
        if page.next_version is not None:
            inner += el("NextVersionIdMarker", page.next_version)
    inner += el("MaxKeys", max_keys)
    if delimiter:
        inner += el("Delimiter", _enc(delimiter, url))
    inner += el("IsTruncated", "true" if page.is_truncated else "false")
    if url:
        inner += el("EncodingType", "url")
    for v in listed:
        head = (el("Key", _enc(v.key, url)) + el("VersionId", v.version_id)
                + el("IsLatest", "true" if v.is_latest else "false")
                + el("LastModified", v.last_modified))
        own = xml.owner(v.owner_id, v.owner_name)
        if v.is_marker:
            inner += f"<DeleteMarker>{head}{own}</DeleteMarker>"
            continue
        s = head + el("ETag", v.etag) + el("Size", v.size) + own
        s += "<StorageClass>STANDARD</StorageClass>"
        if v.checksum_algorithm:
            s += el("ChecksumAlgorithm", v.checksum_algorithm)
        inner += f"<Version>{s}</Version>"
    inner += "".join(f"<CommonPrefixes>{el('Prefix', _enc(p, url))}</CommonPrefixes>"
                     for p in page.common_prefixes)
    return xml.doc("ListVersionsResult", inner)


@dataclass(frozen=True, slots=True)
class DeleteEntry:
    key: str
    version: str | None | bool  # False: no VersionId; None: "null"
    sent_version: str | None  # the VersionId as sent (echoed in the result)


def parse_delete(body: bytes) -> tuple[list[DeleteEntry], bool]:
    """The Delete document of DeleteObjects: entries (key, version) and Quiet."""
    root = xml.parse(body)
    if xml.local(root.tag) != "Delete":
        raise S3Error("MalformedXML")
    entries = []
    for obj in xml.children(root, "Object"):
        key = xml.text(obj, "Key")
        if key is None:
            raise S3Error("MalformedXML")
        vid = xml.text(obj, "VersionId")
        entries.append(DeleteEntry(key, version_arg(vid) if vid is not None else False, vid))
    if not entries or len(entries) > 1000:
        raise S3Error("MalformedXML")
    quiet = (xml.text(root, "Quiet") or "").strip().lower() == "true"
    return entries, quiet


@dataclass(frozen=True, slots=True)
class Deleted:
    key: str
    version_id: str | None = None
    delete_marker: bool = False
    marker_version_id: str | None = None


def delete_result(deleted: Sequence[Deleted],
                  errors: Sequence[tuple[str, str | None, str, str]]) -> bytes:
    """DeleteResult: Deleted (Key, VersionId, DeleteMarker, DeleteMarkerVersionId) and
    Error (Key, VersionId, Code, Message) entries."""
    el = xml.el
    inner = ""
    for d in deleted:
        s = el("Key", d.key)
        if d.version_id is not None:
            s += el("VersionId", d.version_id)
        if d.delete_marker:
            s += el("DeleteMarker", "true")
            if d.marker_version_id is not None:
                s += el("DeleteMarkerVersionId", d.marker_version_id)
        inner += f"<Deleted>{s}</Deleted>"
    for key, vid, code, message in errors:
        s = el("Key", key) + (el("VersionId", vid) if vid is not None else "")
        inner += f"<Error>{s}{el('Code', code)}{el('Message', message)}</Error>"
    return xml.doc("DeleteResult", inner)
