"""Multipart upload documents: Initiate/Complete results, ListParts, ListMultipartUploads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from objectstore.s3.errors import S3Error
from objectstore.s3.numbers import digits
from objectstore.s3.xml import _enc, children, doc, el, local, owner, parse, text


def initiate(bucket: str, key: str, upload_id: str) -> bytes:
    return doc("InitiateMultipartUploadResult",
               el("Bucket", bucket) + el("Key", key) + el("UploadId", upload_id))


def complete(location: str, bucket: str, key: str, etag: str,
             checksums: Mapping[str, str], checksum_type: str | None) -> bytes:
    inner = el("Location", location) + el("Bucket", bucket) + el("Key", key) + el("ETag", etag)
    inner += "".join(el(f"Checksum{alg}", v) for alg, v in checksums.items())
    if checksum_type and checksums:
        inner += el("ChecksumType", checksum_type)
    return doc("CompleteMultipartUploadResult", inner)


@dataclass(frozen=True, slots=True)
class ListedPart:
    number: int
    last_modified: str
    etag: str
    size: int
    checksum_algorithm: str | None
    checksum: str | None


def list_parts(*, bucket: str, key: str, upload_id: str, marker: int, next_marker: int | None,
               max_parts: int, truncated: bool, parts: Sequence[ListedPart],
               initiator: tuple[str, str], owner_: tuple[str, str],
               checksum_algorithm: str | None, checksum_type: str | None) -> bytes:
    inner = el("Bucket", bucket) + el("Key", key) + el("UploadId", upload_id)
    inner += f"<Initiator>{el('ID', initiator[0])}{el('DisplayName', initiator[1])}</Initiator>"
    inner += owner(*owner_) + "<StorageClass>STANDARD</StorageClass>"
    inner += el("PartNumberMarker", marker)
    if next_marker is not None:
        inner += el("NextPartNumberMarker", next_marker)
    inner += el("MaxParts", max_parts) + el("IsTruncated", "true" if truncated else "false")
    if checksum_algorithm:
        inner += el("ChecksumAlgorithm", checksum_algorithm)
        if checksum_type:
            inner += el("ChecksumType", checksum_type)
    for p in parts:
        s = (el("PartNumber", p.number) + el("LastModified", p.last_modified)
             + el("ETag", p.etag) + el("Size", p.size))
        if p.checksum_algorithm and p.checksum:
            s += el(f"Checksum{p.checksum_algorithm}", p.checksum)
        inner += f"<Part>{s}</Part>"
    return doc("ListPartsResult", inner)


@dataclass(frozen=True, slots=True)
class ListedUpload:
    key: str
    upload_id: str
    initiator: tuple[str, str]
    owner: tuple[str, str]
    initiated: str
    checksum_algorithm: str | None


def list_uploads(*, bucket: str, key_marker: str, upload_id_marker: str,
                 next_key_marker: str | None, next_upload_id_marker: str | None,
                 max_uploads: int, truncated: bool, prefix: str, delimiter: str, url: bool,
                 uploads: Sequence[ListedUpload], prefixes: Sequence[str]) -> bytes:
    inner = el("Bucket", bucket) + el("KeyMarker", _enc(key_marker, url))
    inner += el("UploadIdMarker", upload_id_marker)
    if next_key_marker is not None:
        inner += el("NextKeyMarker", _enc(next_key_marker, url))
    if next_upload_id_marker is not None:
        inner += el("NextUploadIdMarker", next_upload_id_marker)
    inner += el("Prefix", _enc(prefix, url))
    if delimiter:
        inner += el("Delimiter", _enc(delimiter, url))
    inner += el("MaxUploads", max_uploads) + el("IsTruncated", "true" if truncated else "false")
    if url:
        inner += el("EncodingType", "url")
    for u in uploads:
        s = el("Key", _enc(u.key, url)) + el("UploadId", u.upload_id)
        s += f"<Initiator>{el('ID', u.initiator[0])}{el('DisplayName', u.initiator[1])}"
        s += "</Initiator>" + owner(*u.owner) + "<StorageClass>STANDARD</StorageClass>"
        s += el("Initiated", u.initiated)
        if u.checksum_algorithm:
            s += el("ChecksumAlgorithm", u.checksum_algorithm)
        inner += f"<Upload>{s}</Upload>"
    inner += "".join(f"<CommonPrefixes>{el('Prefix', _enc(p, url))}</CommonPrefixes>"
                     for p in prefixes)
    return doc("ListMultipartUploadsResult", inner)


@dataclass(frozen=True, slots=True)
class CompletedPart:
    number: int
    etag: str
    checksums: Mapping[str, str]


def parse_complete(body: bytes) -> list[CompletedPart]:
    root = parse(body)
    if local(root.tag) != "CompleteMultipartUpload":
        raise S3Error("MalformedXML")
    parts = []
    for node in children(root, "Part"):
        number = text(node, "PartNumber")
        etag = text(node, "ETag")
        if number is None or etag is None:
            raise S3Error("MalformedXML")
        n = digits(number.strip(), 10)
        if n is None:
            raise S3Error("MalformedXML")
        sums = {}
        for alg in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
            value = text(node, f"Checksum{alg}")
            if value:
                sums[alg] = value.strip()
        parts.append(CompletedPart(n, etag.strip(), sums))
    if not parts:
        raise S3Error("MalformedXML")
    return parts
