"""S3 Object Lock, pure: the bucket's ObjectLockConfiguration, per-version Retention and
LegalHold documents, the x-amz-object-lock-* request headers, and the decisions
"may this version be permanently deleted now?" and "may its retention become X?".

No I/O. Times are epoch seconds (float); retain-until dates are kept to the millisecond,
the precision S3 answers them with.
"""

from __future__ import annotations

import calendar
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from objectstore.s3.errors import S3Error
from objectstore.s3.numbers import signed
from objectstore.s3.xml import child, doc, el, local, parse, text

MODES = ("GOVERNANCE", "COMPLIANCE")
MODE_HEADER = "x-amz-object-lock-mode"
UNTIL_HEADER = "x-amz-object-lock-retain-until-date"
HOLD_HEADER = "x-amz-object-lock-legal-hold"
BYPASS_HEADER = "x-amz-bypass-governance-retention"
BUCKET_HEADER = "x-amz-bucket-object-lock-enabled"
MAX_DAYS = 36500  # 100 years: longer periods are refused (and would overflow dates)
MAX_YEARS = 100
MAX_EPOCH = 253402300800  # 10000-01-01T00:00:00Z: dates end before it

MISSING_CONFIG = "Bucket is missing Object Lock Configuration"
PROTECTED = "Access Denied because object protected by object lock."
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                  r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})?", re.ASCII)


# ---------------------------------------------------------------- dates

def parse_date(value: str) -> float | None:
    """An ISO 8601 date-time (as SDKs send RetainUntilDate) -> epoch seconds, to the
    millisecond; None when it is not one. A missing zone means UTC."""
    m = _ISO.fullmatch(value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    millis = int((m.group(7) or "0")[:3].ljust(3, "0"))
    zone = m.group(8) or "Z"
    offset = 0
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    epoch = calendar.timegm(moment.timetuple()) - offset + millis / 1000
    if not 0 <= epoch < MAX_EPOCH:
        return None  # outside what a date can be rendered as (years 1970..9999)
    return epoch


def format_date(epoch: float) -> str:
    """Epoch seconds -> ``2030-01-01T00:00:00.000Z`` (as S3 renders retain-until dates)."""
    millis = int(round(epoch * 1000))
    moment = datetime.fromtimestamp(millis // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


# ---------------------------------------------------------------- bucket configuration

@dataclass(frozen=True, slots=True)
class DefaultRetention:
    mode: str
    days: int | None = None
    years: int | None = None

    def until(self, now: float) -> float:
        """The retain-until date of a version created at ``now``."""
        if self.days is not None:
            return _millis(now + self.days * 86400)
        moment = datetime.fromtimestamp(now, tz=timezone.utc)
        year = moment.year + (self.years or 0)
        day = min(moment.day, calendar.monthrange(year, moment.month)[1])  # Feb 29
        later = moment.replace(year=year, day=day)
        return _millis(later.timestamp())


@dataclass(frozen=True, slots=True)
class LockConfig:
    """A bucket's Object Lock configuration (only lock-enabled buckets have one)."""

    rule: DefaultRetention | None = None

    def to_json(self) -> str:
        out: dict[str, object] = {"enabled": True}
        if self.rule is not None:
            out["mode"] = self.rule.mode
            if self.rule.days is not None:
                out["days"] = self.rule.days
            if self.rule.years is not None:
                out["years"] = self.rule.years
        return json.dumps(out, separators=(",", ":"))

    @staticmethod
    def from_json(value: str | None) -> LockConfig | None:
        if not value:
            return None
        data = json.loads(value)
        if "mode" not in data:
            return LockConfig()
        return LockConfig(DefaultRetention(str(data["mode"]), data.get("days"),
                                           data.get("years")))


def _period(node: ET.Element, name: str) -> int | None:
    value = text(node, name)
    if value is None:
        return None
    number = signed(value.strip(), 12)
    if number is None:
        raise S3Error("MalformedXML")
    if number <= 0:
        raise S3Error("InvalidRetentionPeriod",
                      "Default retention period must be a positive integer value.")
    if number > (MAX_DAYS if name == "Days" else MAX_YEARS):
        raise S3Error("InvalidRetentionPeriod", "Default retention period is too large.")
    return number


def parse_configuration(body: bytes) -> LockConfig:
    """PutObjectLockConfiguration's body. ObjectLockEnabled must be "Enabled"; a Rule holds
    one DefaultRetention with a Mode and exactly one of Days and Years."""
    root = parse(body)
    if local(root.tag) != "ObjectLockConfiguration":
        raise S3Error("MalformedXML")
    if (text(root, "ObjectLockEnabled") or "").strip() != "Enabled":
        raise S3Error("MalformedXML")
    rule = child(root, "Rule")
    if rule is None:
        return LockConfig()
    default = child(rule, "DefaultRetention")
    if default is None:
        raise S3Error("MalformedXML")
    mode = (text(default, "Mode") or "").strip()
    if mode not in MODES:
        raise S3Error("MalformedXML")
    days, years = _period(default, "Days"), _period(default, "Years")
    if (days is None) == (years is None):
        raise S3Error("MalformedXML")
    return LockConfig(DefaultRetention(mode, days, years))


def render_configuration(cfg: LockConfig) -> bytes:
    inner = el("ObjectLockEnabled", "Enabled")
    if cfg.rule is not None:
        r = cfg.rule
        period = el("Days", r.days) if r.days is not None else el("Years", r.years)
        inner += f"<Rule><DefaultRetention>{el('Mode', r.mode)}{period}</DefaultRetention></Rule>"
    return doc("ObjectLockConfiguration", inner)


def check_versioning_change(object_lock: str | None, status: str) -> None:
    """PutBucketVersioning: a lock-enabled bucket stays Enabled for good."""
    if object_lock is not None and status != "Enabled":
        raise S3Error("InvalidBucketState", "An Object Lock configuration is present on this "
                      "bucket, so the versioning state cannot be changed.")


def check_can_configure(versioning: str) -> None:
    """PutObjectLockConfiguration on a bucket created without Object Lock."""
    if versioning != "Enabled":
        raise S3Error("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to "
                      "apply a Object Lock configuration")


def bucket_header(headers: Mapping[str, str]) -> bool:
    """CreateBucket's x-amz-bucket-object-lock-enabled."""
    return headers.get(BUCKET_HEADER, "").strip().lower() == "true"


# ---------------------------------------------------------------- per-version documents

@dataclass(frozen=True, slots=True)
class Retention:
    mode: str | None = None  # None (with until None): no retention
    until: float | None = None


def parse_retention(body: bytes) -> Retention:
    """PutObjectRetention's body: Mode and RetainUntilDate together, or neither (an empty
    Retention removes a GOVERNANCE retention, with bypass)."""
    root = parse(body)
    if local(root.tag) != "Retention":
        raise S3Error("MalformedXML")
    mode, date = text(root, "Mode"), text(root, "RetainUntilDate")
    if mode is None and date is None:
        return Retention()
    if mode is None or date is None or mode.strip() not in MODES:
        raise S3Error("MalformedXML")
    until = parse_date(date)
    if until is None:
        raise S3Error("MalformedXML")
    return Retention(mode.strip(), until)


def render_retention(mode: str, until: float) -> bytes:
    return doc("Retention", el("Mode", mode) + el("RetainUntilDate", format_date(until)))


def parse_legal_hold(body: bytes) -> bool:
    root = parse(body)
    if local(root.tag) != "LegalHold":
        raise S3Error("MalformedXML")
    status = (text(root, "Status") or "").strip()
    if status not in ("ON", "OFF"):
        raise S3Error("MalformedXML")
    return status == "ON"


def render_legal_hold(on: bool) -> bytes:
    return doc("LegalHold", el("Status", "ON" if on else "OFF"))


# ---------------------------------------------------------------- request headers

@dataclass(frozen=True, slots=True)
class LockRequest:
    """What a write asks for with x-amz-object-lock-* headers (or an upload stored)."""

    mode: str | None = None
    until: float | None = None
    legal_hold: bool | None = None  # None: not asked

    @property
    def empty(self) -> bool:
        return self.mode is None and self.legal_hold is None

    def to_json(self) -> str | None:
        if self.empty:
            return None
        return json.dumps({"mode": self.mode, "until": self.until, "hold": self.legal_hold},
                          separators=(",", ":"))

    @staticmethod
    def from_json(value: str | None) -> LockRequest:
        if not value:
            return LockRequest()
        data = json.loads(value)
        return LockRequest(data.get("mode"), data.get("until"), data.get("hold"))


def has_headers(headers: Mapping[str, str]) -> bool:
    return MODE_HEADER in headers or UNTIL_HEADER in headers or HOLD_HEADER in headers


def parse_headers(headers: Mapping[str, str], now: float) -> LockRequest:
    """The x-amz-object-lock-* headers of PutObject, CopyObject, CreateMultipartUpload."""
    mode = headers.get(MODE_HEADER)
    date = headers.get(UNTIL_HEADER)
    hold = headers.get(HOLD_HEADER)
    until = None
    if mode is not None or date is not None:
        if mode is None or date is None:
            raise S3Error("InvalidArgument", "x-amz-object-lock-retain-until-date and "
                          "x-amz-object-lock-mode must both be supplied")
        if mode not in MODES:
            raise S3Error("InvalidArgument", "Unknown wormMode directive.",
                          ArgumentName=MODE_HEADER, ArgumentValue=mode[:64])
        until = parse_date(date)
        if until is None:
            raise S3Error("InvalidArgument", "The retain until date must be provided in "
                          "ISO 8601 format", ArgumentName=UNTIL_HEADER,
                          ArgumentValue=date[:64])
        if until <= now:
            raise S3Error("InvalidArgument", "The retain until date must be in the future!",
                          ArgumentName=UNTIL_HEADER, ArgumentValue=date[:64])
    legal = None
    if hold is not None:
        if hold not in ("ON", "OFF"):
            raise S3Error("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'",
                          ArgumentName=HOLD_HEADER, ArgumentValue=hold[:64])
        legal = hold == "ON"
    return LockRequest(mode, until, legal)


def for_new_version(object_lock: str | None, asked: LockRequest,
                    now: float) -> tuple[str | None, float | None, bool]:
    """(mode, retain-until, legal hold) of a new version in a bucket with this lock
    configuration: what the write asked for, else the bucket's default retention.
    Asking for anything in a bucket without Object Lock is InvalidRequest."""
    cfg = LockConfig.from_json(object_lock)
    if cfg is None:
        if not asked.empty:
            raise S3Error("InvalidRequest", MISSING_CONFIG)
        return None, None, False
    mode, until = asked.mode, asked.until
    if mode is None and cfg.rule is not None:
        mode, until = cfg.rule.mode, cfg.rule.until(now)
    return mode, until, bool(asked.legal_hold)


def applies(object_lock: str | None, asked: LockRequest) -> bool:
    """Whether a write carries Object Lock parameters (its own or the bucket's default
    retention): S3 then requires a Content-MD5 or a checksum of the body."""
    if not asked.empty:
        return True
    cfg = LockConfig.from_json(object_lock)
    return cfg is not None and cfg.rule is not None


def has_integrity_header(headers: Mapping[str, str]) -> bool:
    """Content-MD5, an x-amz-checksum-* value, or a checksum announced for the trailer."""
    if "content-md5" in headers:
        return True
    if any(name.startswith("x-amz-checksum-") and name not in
           ("x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-checksum-mode")
           for name in headers):
        return True
    return headers.get("x-amz-trailer", "").strip().lower().startswith("x-amz-checksum-")


def require_integrity_for_lock(headers: Mapping[str, str]) -> None:
    if not has_integrity_header(headers):
        raise S3Error("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is "
                      "required for Put Object requests with Object Lock parameters")


def require_integrity(headers: Mapping[str, str]) -> None:
    """Operations S3 requires a Content-MD5 or checksum for (PutObjectRetention,
    PutObjectLegalHold, PutObjectLockConfiguration, DeleteObjects)."""
    if not has_integrity_header(headers):
        raise S3Error("InvalidRequest", "Missing required header for this request: "
                      "Content-MD5")


def bypass_asked(headers: Mapping[str, str]) -> bool:
    return headers.get(BYPASS_HEADER, "").strip().lower() == "true"


def response_headers(mode: str | None, until: float | None,
                     legal_hold: bool) -> list[tuple[str, str]]:
    """GET/HEAD's x-amz-object-lock-* headers of a version (a legal hold that is off is
    not stored apart from one never set, so only ON is answered)."""
    out = []
    if mode is not None and until is not None:
        out += [(MODE_HEADER, mode), (UNTIL_HEADER, format_date(until))]
    if legal_hold:
        out.append((HOLD_HEADER, "ON"))
    return out


# ---------------------------------------------------------------- decisions

def _active(mode: str | None, until: float | None, now: float) -> bool:
    return mode is not None and until is not None and until > now


def deletion_refusal(mode: str | None, until: float | None, legal_hold: bool, now: float,
                     bypass: bool) -> str | None:
    """Why this version may not be permanently deleted now (a message), or None.
    ``bypass``: x-amz-bypass-governance-retention by a caller allowed to use it."""
    if legal_hold:
        return PROTECTED
    if _active(mode, until, now) and (mode == "COMPLIANCE" or not bypass):
        return PROTECTED
    return None


def retention_change_refusal(mode: str | None, until: float | None, new: Retention,
                             now: float, bypass: bool) -> str | None:
    """Why a version's retention may not become ``new`` (a message), or None. Extending
    in the same mode is always allowed; COMPLIANCE is never shortened, changed or removed;
    GOVERNANCE only with bypass. An expired retention no longer binds."""
    if not _active(mode, until, now):
        return None
    assert until is not None
    if new.mode == mode and new.until is not None and new.until >= until:
        return None
    if mode == "GOVERNANCE" and bypass:
        return None
    return "Access Denied"


def check_new_retention(new: Retention, now: float) -> None:
    if new.until is not None and new.until <= now:
        raise S3Error("InvalidArgument", "The retain until date must be in the future!")


def _millis(epoch: float) -> float:
    return round(epoch * 1000) / 1000
