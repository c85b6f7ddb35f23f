"""Request parsers (defusedxml) and one renderer per S3 result document."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from objectstore.s3.acl import GROUPS, PERMISSIONS, Acl, Grant
from objectstore.s3.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def esc(value: object) -> str:
    text = escape(str(value))
    # XML 1.0 cannot carry most control characters; S3 escapes them as references.
    if any(ord(c) < 0x20 and c not in "\t\n\r" for c in text):
        text = "".join(f"&#x{ord(c):X};" if ord(c) < 0x20 and c not in "\t\n\r" else c
                       for c in text)
    return text.replace("\r", "&#xD;")


def el(name: str, value: object) -> str:
    return f"<{name}>{esc(value)}</{name}>"


def doc(root: str, inner: str) -> bytes:
    return f'{HEAD}<{root} xmlns="{NS}">{inner}</{root}>'.encode("utf-8", "replace")


# ---------------------------------------------------------------- renderers

def error(code: str, message: str, extra: Mapping[str, str], request_id: str,
          host_id: str) -> bytes:
    parts = [el("Code", code), el("Message", message)]
    parts += [el(k, v) for k, v in extra.items()]
    parts += [el("RequestId", request_id), el("HostId", host_id)]
    return f"{HEAD}<Error>{''.join(parts)}</Error>".encode("utf-8", "replace")


def owner(owner_id: str, display_name: str) -> str:
    return f"<Owner>{el('ID', owner_id)}{el('DisplayName', display_name)}</Owner>"


def list_buckets(owner_id: str, display_name: str, buckets: Iterable[tuple[str, str, str]],
                 *, continuation_token: str | None = None, prefix: str | None = None) -> bytes:
    items = "".join(
        f"<Bucket>{el('Name', n)}{el('CreationDate', c)}{el('BucketRegion', r)}</Bucket>"
        for n, c, r in buckets
    )
    inner = f"{owner(owner_id, display_name)}<Buckets>{items}</Buckets>"
    if continuation_token is not None:
        inner += el("ContinuationToken", continuation_token)
    if prefix is not None:
        inner += el("Prefix", prefix)
    return doc("ListAllMyBucketsResult", inner)


def location(region: str) -> bytes:
    value = "" if region == "us-east-1" else esc(region)
    return f'{HEAD}<LocationConstraint xmlns="{NS}">{value}</LocationConstraint>'.encode()


@dataclass(frozen=True, slots=True)
class ListedObject:
    key: str
    last_modified: str
    etag: str
    size: int
    owner_id: str
    owner_name: str
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


def _enc(value: str, url: bool) -> str:
    return quote(value, safe="/") if url else value


def _contents(objs: Sequence[ListedObject], url: bool, with_owner: bool) -> str:
    out = []
    for o in objs:
        s = (el("Key", _enc(o.key, url)) + el("LastModified", o.last_modified)
             + el("ETag", o.etag) + el("Size", o.size))
        if with_owner:
            s += owner(o.owner_id, o.owner_name)
        if o.checksum_algorithm:
            s += el("ChecksumAlgorithm", o.checksum_algorithm)
            if o.checksum_type:
                s += el("ChecksumType", o.checksum_type)
        s += "<StorageClass>STANDARD</StorageClass>"
        out.append(f"<Contents>{s}</Contents>")
    return "".join(out)


def _prefixes(prefixes: Sequence[str], url: bool) -> str:
    return "".join(f"<CommonPrefixes>{el('Prefix', _enc(p, url))}</CommonPrefixes>"
                   for p in prefixes)


def list_objects_v1(*, bucket: str, prefix: str, marker: str, next_marker: str | None,
                    max_keys: int, delimiter: str, truncated: bool, url: bool,
                    objects: Sequence[ListedObject], prefixes: Sequence[str]) -> bytes:
    # As S3 does (and botocore expects), v1 leaves the top-level Prefix unencoded.
    inner = el("Name", bucket) + el("Prefix", prefix) + el("Marker", _enc(marker, url))
    if next_marker is not None:
        inner += el("NextMarker", _enc(next_marker, url))
    inner += el("MaxKeys", max_keys)
    if delimiter:
        inner += el("Delimiter", _enc(delimiter, url))
    inner += el("IsTruncated", "true" if truncated else "false")
    if url:
        inner += el("EncodingType", "url")
    inner += _contents(objects, url, True) + _prefixes(prefixes, url)
    return doc("ListBucketResult", inner)


def list_objects_v2(*, bucket: str, prefix: str, token: str | None, next_token: str | None,
                    start_after: str | None, max_keys: int, delimiter: str, truncated: bool,
                    url: bool, fetch_owner: bool, objects: Sequence[ListedObject],
                    prefixes: Sequence[str]) -> bytes:
    inner = el("Name", bucket) + el("Prefix", _enc(prefix, url))
    if token is not None:
        inner += el("ContinuationToken", token)
    if next_token is not None:
        inner += el("NextContinuationToken", next_token)
    if start_after is not None:
        inner += el("StartAfter", _enc(start_after, url))
    inner += el("KeyCount", len(objects) + len(prefixes)) + el("MaxKeys", max_keys)
    if delimiter:
        inner += el("Delimiter", _enc(delimiter, url))
    inner += el("IsTruncated", "true" if truncated else "false")
    if url:
        inner += el("EncodingType", "url")
    inner += _contents(objects, url, fetch_owner) + _prefixes(prefixes, url)
    return doc("ListBucketResult", inner)


def grant(kind: str, value: str, permission: str, names: Mapping[str, str]) -> str:
    """One <Grant> of an ACL (or of a logging configuration's TargetGrants)."""
    if kind == "Group":
        who = f'<Grantee xmlns:xsi="{XSI}" xsi:type="Group">{el("URI", value)}</Grantee>'
    else:
        who = (f'<Grantee xmlns:xsi="{XSI}" xsi:type="CanonicalUser">{el("ID", value)}'
               f'{el("DisplayName", names.get(value, value))}</Grantee>')
    return f"<Grant>{who}{el('Permission', permission)}</Grant>"


def acl_policy(acl: Acl, names: Mapping[str, str]) -> bytes:
    """Group grants first, then the others, each in the order they were put (the order
    canned ACLs have always been shown in; S3 documents none)."""
    ordered = sorted(acl.grants, key=lambda g: g.kind != "Group")
    grants = [grant(g.kind, g.value, g.permission, names) for g in ordered]
    inner = (owner(acl.owner, names.get(acl.owner, acl.owner))
             + f"<AccessControlList>{''.join(grants)}</AccessControlList>")
    return doc("AccessControlPolicy", inner)


def copy_result(root: str, etag: str, last_modified: str,
                checksums: Mapping[str, str]) -> bytes:
    inner = el("ETag", etag) + el("LastModified", last_modified)
    inner += "".join(el(f"Checksum{alg}", v) for alg, v in checksums.items())
    return doc(root, inner)


def delete_result(deleted: Sequence[str], errors: Sequence[tuple[str, str, str]]) -> bytes:
    inner = "".join(f"<Deleted>{el('Key', k)}</Deleted>" for k in deleted)
    inner += "".join(
        f"<Error>{el('Key', k)}{el('Code', c)}{el('Message', m)}</Error>" for k, c, m in errors
    )
    return doc("DeleteResult", inner)


def versioning(status: str | None) -> bytes:
    return doc("VersioningConfiguration", el("Status", status) if status else "")


# ---------------------------------------------------------------- parsers

def parse(body: bytes, code: str = "MalformedXML") -> ET.Element:
    try:
        root = SafeET.fromstring(body)
    except (ET.ParseError, DefusedXmlException, ValueError, LookupError):
        # LookupError: the XML declaration names an encoding Python does not know
        raise S3Error(code) from None
    if not isinstance(root, ET.Element):
        raise S3Error(code)
    return root


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(node: ET.Element, name: str) -> ET.Element | None:
    for c in node:
        if local(c.tag) == name:
            return c
    return None


def children(node: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in node if local(c.tag) == name]


def text(node: ET.Element, name: str) -> str | None:
    c = child(node, name)
    if c is None:
        return None
    return c.text or ""


def parse_create_bucket(body: bytes) -> str | None:
    if not body.strip():
        return None
    root = parse(body)
    if local(root.tag) != "CreateBucketConfiguration":
        raise S3Error("MalformedXML")
    loc = text(root, "LocationConstraint")
    return loc or None


def parse_delete(body: bytes) -> tuple[list[str], bool]:
    root = parse(body)
    if local(root.tag) != "Delete":
        raise S3Error("MalformedXML")
    keys = []
    for obj in children(root, "Object"):
        key = text(obj, "Key")
        if key is None:
            raise S3Error("MalformedXML")
        keys.append(key)
    if not keys or len(keys) > 1000:
        raise S3Error("MalformedXML")
    quiet = (text(root, "Quiet") or "").strip().lower() == "true"
    return keys, quiet


def parse_acl(body: bytes, resolve_email: Mapping[str, str]) -> Acl:
    root = parse(body, "MalformedACLError")
    if local(root.tag) != "AccessControlPolicy":
        raise S3Error("MalformedACLError")
    own = child(root, "Owner")
    owner_id = text(own, "ID") if own is not None else None
    acl_node = child(root, "AccessControlList")
    if owner_id is None or acl_node is None:
        raise S3Error("MalformedACLError")
    grants = []
    for g in children(acl_node, "Grant"):
        grantee = child(g, "Grantee")
        perm = text(g, "Permission")
        if grantee is None or perm not in PERMISSIONS:
            raise S3Error("MalformedACLError")
        kind = grantee.get(f"{{{XSI}}}type") or ""
        if kind == "CanonicalUser":
            gid = text(grantee, "ID")
            if not gid:
                raise S3Error("InvalidArgument", ArgumentName="CanonicalUser/ID",
                              ArgumentValue="")
            grants.append(Grant("CanonicalUser", gid.strip(), perm))
        elif kind == "Group":
            uri = (text(grantee, "URI") or "").strip()
            if uri not in GROUPS:
                raise S3Error("InvalidArgument", "Invalid group uri", ArgumentName="Group/URI",
                              ArgumentValue=uri)
            grants.append(Grant("Group", uri, perm))
        elif kind == "AmazonCustomerByEmail":
            email = (text(grantee, "EmailAddress") or "").strip()
            account = resolve_email.get(email.lower())
            if account is None:
                raise S3Error("UnresolvableGrantByEmailAddress", Email=email)
            grants.append(Grant("CanonicalUser", account, perm))
        else:
            raise S3Error("MalformedACLError")
    return Acl(owner_id.strip(), tuple(grants))


def list_versions(*, bucket: str, prefix: str, key_marker: str, version_id_marker: str,
                  next_key_marker: str | None, next_version_id_marker: str | None,
                  max_keys: int, delimiter: str, truncated: bool, url: bool,
                  objects: Sequence[ListedObject], prefixes: Sequence[str]) -> bytes:
    """ListObjectVersions for an unversioned bucket: each object is its "null" version."""
    inner = el("Name", bucket) + el("Prefix", _enc(prefix, url))
    inner += el("KeyMarker", _enc(key_marker, url)) + el("VersionIdMarker", version_id_marker)
    if next_key_marker is not None:
        inner += el("NextKeyMarker", _enc(next_key_marker, url))
    if next_version_id_marker is not None:
        inner += el("NextVersionIdMarker", next_version_id_marker)
    inner += el("MaxKeys", max_keys)
    if delimiter:
        inner += el("Delimiter", _enc(delimiter, url))
    inner += el("IsTruncated", "true" if truncated else "false")
    if url:
        inner += el("EncodingType", "url")
    for o in objects:
        s = (el("Key", _enc(o.key, url)) + "<VersionId>null</VersionId><IsLatest>true</IsLatest>"
             + el("LastModified", o.last_modified) + el("ETag", o.etag) + el("Size", o.size)
             + owner(o.owner_id, o.owner_name) + "<StorageClass>STANDARD</StorageClass>")
        if o.checksum_algorithm:
            s += el("ChecksumAlgorithm", o.checksum_algorithm)
        inner += f"<Version>{s}</Version>"
    inner += _prefixes(prefixes, url)
    return doc("ListVersionsResult", inner)


def single_rule(body: bytes, root_name: str) -> ET.Element:
    """The one ``Rule`` of a ``root_name`` configuration document (ownership controls,
    default encryption): MalformedXML for another root or any other number of rules."""
    root = parse(body)
    if local(root.tag) != root_name:
        raise S3Error("MalformedXML")
    rules = children(root, "Rule")
    if len(rules) != 1:
        raise S3Error("MalformedXML")
    return rules[0]

