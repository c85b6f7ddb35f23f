"""Frozen values that cross the storage boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True, slots=True)
class Account:
    id: str  # canonical user id (64 hex)
    name: str  # also the display name
    email: str
    created: float
    public_block: str | None = None  # JSON, see s3.ownership.PublicBlock (account-wide)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    account_id: str
    is_admin: bool
    created: float
    policy: str | None = None  # identity policy document (None: full access to the account)
    first: bool = False  # the account's first user (filled in by key lookups)


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key: str
    secret: str
    user_name: str
    created: float
    status: str = "Active"  # "Active" | "Inactive" (an inactive key signs nothing)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified request acts as."""

    user: str
    account_id: str
    account_name: str
    is_admin: bool
    access_key: str
    account_number: str = ""  # the account's 12-digit id (s3.identity.account_number)
    policy: str | None = None  # the user's identity policy (None: all the account may do)
    is_root: bool = False  # the account's first user: may always manage bucket policies
    session_expires: float | None = None  # signed with session credentials: when they end

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_number}:user/{self.user}"


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    account_id: str
    created: float
    region: str
    acl: str  # JSON, see s3.acl.Acl
    tags: tuple[tuple[str, str], ...] = ()
    cors: str | None = None  # JSON, see s3.cors
    versioning: str = ""  # "" (never enabled) | "Enabled" | "Suspended"
    object_lock: str | None = None  # JSON, see s3.lock (None: object lock not enabled)
    lifecycle: str | None = None  # JSON, see s3.lifecycle
    encryption: str | None = None  # JSON, see s3.sse (bucket default encryption)
    ownership: str | None = None  # ObjectOwnership (s3.ownership); None: no OwnershipControls
    public_block: str | None = None  # JSON, see s3.ownership.PublicBlock
    policy: str | None = None  # the bucket policy document, as PutBucketPolicy stored it
    website: str | None = None  # JSON, see s3.website
    logging: str | None = None  # JSON, see s3.logging (server access logging)


@dataclass(frozen=True, slots=True)
class Segment:
    blob: str  # "" for an empty part (no blob file)
    size: int
    checksum: str | None = None  # base64 checksum of this part (multipart objects)


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    bucket: str
    key: str
    size: int
    etag: str  # quoted
    last_modified: float
    owner: str  # canonical id of the writing account
    acl: str  # JSON
    headers: Mapping[str, str] = field(default_factory=dict)  # content-*, x-amz-meta-*
    checksums: Mapping[str, str] = field(default_factory=dict)  # algorithm -> base64
    checksum_type: str | None = None
    segments: tuple[Segment, ...] = ()
    part_count: int = 0  # >0 for objects completed from a multipart upload
    inline: bytes | None = None  # small objects live in the metadata row, not in a blob
    tags: tuple[tuple[str, str], ...] = ()
    version_id: str | None = None  # None: the "null" version (unversioned or Suspended writes)
    seq: int = 0  # metadata-store sequence: orders the versions of a key (0: before versioning)
    lock_mode: str | None = None  # GOVERNANCE | COMPLIANCE
    lock_until: float | None = None  # retain-until (epoch seconds)
    legal_hold: bool = False
    sse: str | None = None  # JSON, see s3.sse / storage.crypto (None: stored in the clear)


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    owner: str  # canonical id of the initiating account
    initiator: str  # user name
    acl: str
    headers: Mapping[str, str]
    checksum_algorithm: str | None
    checksum_type: str | None  # COMPOSITE | FULL_OBJECT
    created: float
    sse: str | None = None  # JSON: the encryption every part and the object will have
    lock: str | None = None  # JSON: retention / legal hold asked for at CreateMultipartUpload


@dataclass(frozen=True, slots=True)
class Part:
    upload_id: str
    number: int
    blob: str  # "" for an empty part (no blob file)
    size: int
    etag: str  # quoted
    checksum: str | None  # base64, of the upload's algorithm
    last_modified: float


@dataclass(frozen=True, slots=True)
class Image:
    """A registered machine image (Nova's /_images entry, EC2's AMI/AKI/ARI)."""

    image_id: str  # ami-/aki-/ari- + 17 hex
    owner: str  # canonical id of the registering account
    location: str  # bucket/key of the manifest
    state: str  # pending | available | failed
    reason: str  # why it failed ("" otherwise)
    image_type: str  # machine | kernel | ramdisk
    architecture: str
    kernel_id: str | None
    ramdisk_id: str | None
    is_public: bool
    name: str
    description: str
    block_devices: tuple[tuple[str, str], ...]
    size: int
    blob: str  # "" until available
    registered_by: str  # user name
    created: float
    token: str = ""  # this registration's random generation: only its worker may finish it
    declared_size: int = 0  # the manifest's image size (what quotas count while pending)
