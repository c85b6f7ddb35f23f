"""S3 Object Ownership and Block Public Access: the bucket settings' XML and the pure rules
that decide which ACLs a bucket accepts (no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from objectstore.s3.acl import ALL_USERS, AUTHENTICATED_USERS, Acl
from objectstore.s3.errors import S3Error
from objectstore.s3.xml import child, children, doc, el, local, parse, single_rule, text

ENFORCED: Final = "BucketOwnerEnforced"
PREFERRED: Final = "BucketOwnerPreferred"
WRITER: Final = "ObjectWriter"
OWNERSHIPS: Final = (ENFORCED, PREFERRED, WRITER)
HEADER: Final = "x-amz-object-ownership"
PUBLIC_GROUPS: Final = frozenset({ALL_USERS, AUTHENTICATED_USERS})
_FLAGS: Final = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                 "RestrictPublicBuckets")


# ------------------------------------------------------------------------ object ownership
def parse_controls(body: bytes) -> str:
    """The ObjectOwnership of an OwnershipControls document (exactly one Rule)."""
    value = (text(single_rule(body, "OwnershipControls"), "ObjectOwnership") or "").strip()
    if value not in OWNERSHIPS:
        raise S3Error("MalformedXML")
    return value


def render_controls(ownership: str) -> bytes:
    return doc("OwnershipControls", f"<Rule>{el('ObjectOwnership', ownership)}</Rule>")


def header_value(value: str) -> str:
    """The ``x-amz-object-ownership`` of a CreateBucket, checked."""
    value = value.strip()
    if value not in OWNERSHIPS:
        raise S3Error("InvalidArgument", "Invalid x-amz-object-ownership header: " + value,
                      ArgumentName=HEADER, ArgumentValue=value)
    return value


def only_owner(acl: Acl, bucket_owner: str) -> bool:
    """Whether ``acl`` grants nothing but the bucket owner's FULL_CONTROL (the XML form of
    ``bucket-owner-full-control``; the only ACL a BucketOwnerEnforced bucket accepts)."""
    return all(g.kind == "CanonicalUser" and g.value == bucket_owner
               and g.permission == "FULL_CONTROL" for g in acl.grants)


def object_owner(ownership: str | None, bucket_owner: str, writer: str,
                 canned_acl: str | None) -> str:
    """Who owns an object ``writer`` uploads: BucketOwnerEnforced — the bucket owner;
    BucketOwnerPreferred — the bucket owner when the upload says bucket-owner-full-control;
    else (ObjectWriter, or no setting) the writer."""
    if ownership == ENFORCED:
        return bucket_owner
    if ownership == PREFERRED and canned_acl is not None \
            and canned_acl.strip() == "bucket-owner-full-control":
        return bucket_owner
    return writer


def check_acl(ownership: str | None, block: PublicBlock | None, acl: Acl,
              bucket_owner: str, canned_acl: str | None) -> None:
    """Refuse an ACL a request sets (a PUT's ACL headers, PutBucketAcl, PutObjectAcl;
    ``canned_acl``: its x-amz-acl, if any): BucketOwnerEnforced disables ACLs — only
    ``bucket-owner-full-control`` or grants of FULL_CONTROL to the bucket owner alone pass,
    else 400 AccessControlListNotSupported; BlockPublicAcls refuses public ones (403)."""
    if ownership == ENFORCED:
        if canned_acl is not None:
            allowed = canned_acl.strip() == "bucket-owner-full-control"
        else:
            allowed = bool(acl.grants) and only_owner(acl, bucket_owner)
        if not allowed:
            raise S3Error("AccessControlListNotSupported")
    if block is not None and block.block_public_acls and is_public(acl):
        raise S3Error("AccessDenied")


def is_public(acl: Acl) -> bool:
    """Whether ``acl`` grants anything to AllUsers or AuthenticatedUsers (S3's "public")."""
    return any(g.kind == "Group" and g.value in PUBLIC_GROUPS for g in acl.grants)


# ---------------------------------------------------------------------- public access block
@dataclass(frozen=True, slots=True)
class PublicBlock:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    def flags(self) -> tuple[bool, bool, bool, bool]:
        return (self.block_public_acls, self.ignore_public_acls, self.block_public_policy,
                self.restrict_public_buckets)

    def to_json(self) -> str:
        return json.dumps(dict(zip(_FLAGS, self.flags(), strict=True)))

    @staticmethod
    def from_json(stored: str) -> PublicBlock:
        return _from_json(stored)


@lru_cache(maxsize=256)
def _from_json(stored: str) -> PublicBlock:
    data = json.loads(stored)
    return PublicBlock(*(bool(data.get(name, False)) for name in _FLAGS))


def ignores_public_acls(stored: str | None) -> bool:
    return stored is not None and _from_json(stored).ignore_public_acls


def parse_public_block(body: bytes) -> PublicBlock:
    """A PublicAccessBlockConfiguration document; absent elements are false."""
    root = parse(body)
    if local(root.tag) != "PublicAccessBlockConfiguration":
        raise S3Error("MalformedXML")
    known = set(_FLAGS)
    for c in root:
        if local(c.tag) not in known:
            raise S3Error("MalformedXML")
    values: list[bool] = []
    for name in _FLAGS:
        node = child(root, name)
        if node is None:
            values.append(False)
            continue
        if len(children(root, name)) > 1:
            raise S3Error("MalformedXML")
        value = (node.text or "").strip().lower()
        if value not in ("true", "false"):
            raise S3Error("MalformedXML")
        values.append(value == "true")
    return PublicBlock(*values)


def render_public_block(block: PublicBlock) -> bytes:
    inner = "".join(el(name, "true" if flag else "false")
                    for name, flag in zip(_FLAGS, block.flags(), strict=True))
    return doc("PublicAccessBlockConfiguration", inner)
