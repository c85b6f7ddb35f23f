"""The lifecycle configuration document (pure): PutBucketLifecycle(Configuration)'s XML
parsed and validated with S3's error codes, and GetBucketLifecycleConfiguration's rendered."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timezone

from objectstore.s3.errors import S3Error
from objectstore.s3.lifecycle import (
    AND,
    EMPTY,
    GT,
    LEGACY,
    LT,
    MAX_ID,
    MAX_RULES,
    MIN_SIZE_DEFAULT,
    MIN_SIZE_VALUES,
    NONE,
    PREFIX,
    STORAGE_CLASSES,
    TAG,
    Config,
    Filter,
    Rule,
    Transition,
)
from objectstore.s3.xml import child, children, doc, el, local, parse, text

# ---------------------------------------------------------------- parsing

def _bad(message: str | None = None) -> S3Error:
    return S3Error("MalformedXML") if message is None else S3Error("MalformedXML", message)


def _arg(message: str, name: str | None = None, value: str | None = None) -> S3Error:
    extra = {"ArgumentName": name, "ArgumentValue": value} if name and value is not None else {}
    return S3Error("InvalidArgument", message, extra=extra)


def _int(node: ET.Element, name: str) -> int | None:
    value = text(node, name)
    if value is None:
        return None
    value = value.strip()
    digits = value[1:] if value[:1] in "+-" else value
    if not digits.isdigit() or not digits.isascii() or len(digits) > 18:
        raise _bad()
    return int(value)


def _positive(node: ET.Element, name: str, message: str) -> int | None:
    value = _int(node, name)
    if value is not None and value <= 0:
        raise _arg(message)
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
                       r"(?:Z|z|[+-]\d{2}:?\d{2})?)?\Z", re.ASCII)


def parse_date(value: str) -> str:
    """An ISO 8601 date(-time) that must fall on midnight UTC -> YYYY-MM-DD."""
    v = value.strip()
    if not _ISO_DATE.match(v):
        raise _arg("Invalid date value. Date must be in ISO 8601 format")
    try:
        if len(v) == 10:
            when = datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        else:
            when = datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _arg("Invalid date value. Date must be in ISO 8601 format") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    if (when.hour, when.minute, when.second, when.microsecond) != (0, 0, 0, 0):
        raise _arg("'Date' must be at midnight GMT")
    return when.strftime("%Y-%m-%d")


def _tag(node: ET.Element) -> tuple[str, str]:
    key, value = text(node, "Key"), text(node, "Value")
    if key is None:
        raise _bad()
    value = value or ""  # a Key without Value matches objects with that tag and no value
    if not key or len(key) > 128 or len(value) > 256:
        raise S3Error("InvalidTag", "The TagKey you have provided is invalid"
                      if not key or len(key) > 128 else "The TagValue you have provided is "
                      "invalid")
    return key, value


def _sizes(node: ET.Element) -> tuple[int | None, int | None]:
    gt, lt = _int(node, "ObjectSizeGreaterThan"), _int(node, "ObjectSizeLessThan")
    for v in (gt, lt):
        if v is not None and v < 0:
            raise _arg("ObjectSize must be a non-negative number")
    if gt is not None and lt is not None and gt >= lt:
        raise _arg("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
    return gt, lt


FILTER_PARTS = ("Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan")


def _filter(node: ET.Element) -> Filter:
    present = [local(c.tag) for c in node]
    if any(p not in FILTER_PARTS for p in present) or len(present) > 1:
        raise _bad()  # a Filter holds exactly one predicate (several go in And)
    if not present:
        return Filter(EMPTY)
    kind = present[0]
    if kind == "Prefix":
        return Filter(PREFIX, prefix=text(node, "Prefix") or "")
    if kind == "Tag":
        tag_node = child(node, "Tag")
        assert tag_node is not None
        return Filter(TAG, tags=(_tag(tag_node),))
    if kind == "And":
        and_node = child(node, "And")
        assert and_node is not None
        parts = [local(c.tag) for c in and_node]
        if any(p not in ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
               for p in parts) or parts.count("Prefix") > 1:
            raise _bad()
        tags = tuple(_tag(t) for t in children(and_node, "Tag"))
        if len({k for k, _ in tags}) != len(tags):
            raise _arg("Duplicate Tag Keys are not allowed.")
        gt, lt = _sizes(and_node)
        return Filter(AND, prefix=text(and_node, "Prefix") or "", tags=tags,
                      size_gt=gt, size_lt=lt)
    gt, lt = _sizes(node)
    return Filter(GT, size_gt=gt) if kind == "ObjectSizeGreaterThan" else Filter(LT, size_lt=lt)


def _transition(node: ET.Element, days_name: str) -> Transition:
    days, date_text = _int(node, days_name), text(node, "Date")
    storage = (text(node, "StorageClass") or "").strip()
    if storage not in STORAGE_CLASSES:
        raise _bad()
    if days_name == "Days" and (days is None) == (date_text is None):
        raise _bad()  # a Transition has Days or Date
    if days_name == "NoncurrentDays" and (days is None or date_text is not None):
        raise _bad()
    if days is not None and days < 0:
        raise _arg(f"'{days_name}' in {'Transition' if days_name == 'Days' else 'NoncurrentVersionTransition'} action must be nonnegative")  # noqa: E501
    if days is not None and storage in ("STANDARD_IA", "ONEZONE_IA") and days < 30:
        raise _arg(f"'{days_name}' in the {'Transition' if days_name == 'Days' else 'NoncurrentVersionTransition'} action for StorageClass '{storage}' must be 30 or greater")  # noqa: E501
    date = parse_date(date_text) if date_text is not None else None
    newer = _positive(node, "NewerNoncurrentVersions",
                      "'NewerNoncurrentVersions' must be a positive integer")
    return Transition(days, date, storage, newer)


RULE_PARTS = frozenset({"ID", "Prefix", "Filter", "Status", "Expiration", "Transition",
                        "NoncurrentVersionTransition", "NoncurrentVersionExpiration",
                        "AbortIncompleteMultipartUpload"})


def _rule(node: ET.Element) -> Rule:
    names = [local(c.tag) for c in node]
    if any(n not in RULE_PARTS for n in names):
        raise _bad()
    for once in RULE_PARTS - {"Transition", "NoncurrentVersionTransition"}:
        if names.count(once) > 1:
            raise _bad()
    rule_id = text(node, "ID")
    if rule_id is not None and len(rule_id) > MAX_ID:
        raise _arg("ID length should not exceed allowed limit of 255")
    status = text(node, "Status")
    if status not in ("Enabled", "Disabled"):
        raise _bad()
    prefix_node, filter_node = child(node, "Prefix"), child(node, "Filter")
    if prefix_node is not None and filter_node is not None:
        raise _bad()
    if filter_node is not None:
        flt = _filter(filter_node)
    elif prefix_node is not None:
        flt = Filter(LEGACY, prefix=prefix_node.text or "")
    else:
        flt = Filter(NONE)
    rule = Rule(id=rule_id or "", enabled=status == "Enabled", filter=flt)
    exp = child(node, "Expiration")
    if exp is not None:
        days = _int(exp, "Days")
        date_text = text(exp, "Date")
        marker_text = text(exp, "ExpiredObjectDeleteMarker")
        given = [v is not None for v in (days, date_text, marker_text)]
        if sum(given) != 1:
            if marker_text is not None and sum(given) > 1:
                raise _arg("ExpiredObjectDeleteMarker cannot be specified with Days or Date "
                           "in a Lifecycle Expiration Policy.")
            raise _bad()
        if days is not None and days <= 0:
            raise _arg("'Days' for Expiration action must be a positive integer")
        marker: bool | None = None
        if marker_text is not None:
            if marker_text.strip() not in ("true", "false"):
                raise _bad()
            marker = marker_text.strip() == "true"
            if flt.tags:
                raise _arg("ExpiredObjectDeleteMarker cannot be specified with tags.")
        rule = replace(rule, days=days, date=parse_date(date_text) if date_text else None,
                       expired_marker=marker)
    nve = child(node, "NoncurrentVersionExpiration")
    if nve is not None:
        nd = _positive(nve, "NoncurrentDays",
                       "'NoncurrentDays' for NoncurrentVersionExpiration action must be a "
                       "positive integer")
        newer = _positive(nve, "NewerNoncurrentVersions",
                          "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action "
                          "must be a positive integer")
        if nd is None:
            raise _bad()
        if newer is not None and newer > 100:
            raise _arg("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action "
                       "must be a positive integer up to 100")
        rule = replace(rule, noncurrent_days=nd, newer_noncurrent=newer)
    abort = child(node, "AbortIncompleteMultipartUpload")
    if abort is not None:
        ad = _positive(abort, "DaysAfterInitiation",
                       "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must "
                       "be a positive integer")
        if ad is None:
            raise _bad()
        if flt.tags or flt.size_gt is not None or flt.size_lt is not None:
            raise S3Error("InvalidRequest", "AbortIncompleteMultipartUpload cannot be "
                          "specified with Tags or object size filters.")
        rule = replace(rule, abort_days=ad)
    trans = tuple(_transition(t, "Days") for t in children(node, "Transition"))
    ntrans = tuple(_transition(t, "NoncurrentDays")
                   for t in children(node, "NoncurrentVersionTransition"))
    rule = replace(rule, transitions=trans, noncurrent_transitions=ntrans)
    for group, what in ((trans, "Transition"), (ntrans, "NoncurrentVersionTransition")):
        classes = [t.storage_class for t in group]
        if len(set(classes)) != len(classes):
            raise _arg(f"'StorageClass' must be different for '{what}' actions in same "
                       "'Rule' with prefix")
    dated = [t.date is not None for t in trans] + ([rule.date is not None]
                                                   if rule.date or rule.days else [])
    if dated and any(dated) and not all(dated):
        raise S3Error("InvalidRequest", "Found mixed 'Date' and 'Days' based Expiration and "
                      "Transition actions in lifecycle rule")
    if (rule.days is None and rule.date is None and rule.expired_marker is None
            and rule.noncurrent_days is None and rule.abort_days is None
            and not trans and not ntrans):
        raise S3Error("InvalidRequest", "At least one action needs to be specified in a rule")
    return rule


def parse_config(body: bytes, min_size_header: str | None = None) -> Config:
    """The document of PutBucketLifecycle(Configuration); rules without an ID get one."""
    root = parse(body)
    if local(root.tag) != "LifecycleConfiguration":
        raise _bad()
    if any(local(c.tag) != "Rule" for c in root):
        raise _bad()
    nodes = children(root, "Rule")
    if not nodes or len(nodes) > MAX_RULES:
        raise _bad()
    rules = [_rule(n) for n in nodes]
    seen: set[str] = set()
    for r in rules:
        if r.id and r.id in seen:
            raise _arg("Rule ID must be unique. Found same ID for more than one rule",
                       "ID", r.id)
        seen.add(r.id)
    out = []
    for r in rules:
        if not r.id:  # S3 names an unnamed rule with a random string
            while True:
                new = secrets.token_urlsafe(36)[:48]
                if new not in seen:
                    break
            seen.add(new)
            r = replace(r, id=new)
        out.append(r)
    min_size = min_size_header if min_size_header else MIN_SIZE_DEFAULT
    if min_size not in MIN_SIZE_VALUES:
        raise _arg("Invalid value for x-amz-transition-default-minimum-object-size",
                   "x-amz-transition-default-minimum-object-size", min_size)
    return Config(tuple(out), min_size)


def _tag_xml(tag: tuple[str, str]) -> str:
    return f"<Tag>{el('Key', tag[0])}{el('Value', tag[1])}</Tag>"


def _filter_xml(f: Filter) -> str:
    if f.form == NONE:
        return ""
    if f.form == LEGACY:
        return el("Prefix", f.prefix)
    if f.form == EMPTY:
        return "<Filter></Filter>"
    if f.form == PREFIX:
        return f"<Filter>{el('Prefix', f.prefix)}</Filter>"
    if f.form == TAG:
        return f"<Filter>{_tag_xml(f.tags[0])}</Filter>"
    if f.form == GT:
        return f"<Filter>{el('ObjectSizeGreaterThan', f.size_gt)}</Filter>"
    if f.form == LT:
        return f"<Filter>{el('ObjectSizeLessThan', f.size_lt)}</Filter>"
    inner = el("Prefix", f.prefix) if f.prefix else ""
    inner += "".join(_tag_xml(t) for t in f.tags)
    if f.size_gt is not None:
        inner += el("ObjectSizeGreaterThan", f.size_gt)
    if f.size_lt is not None:
        inner += el("ObjectSizeLessThan", f.size_lt)
    return f"<Filter><And>{inner}</And></Filter>"


def _date_xml(date: str) -> str:
    return el("Date", f"{date}T00:00:00.000Z")


def _transition_xml(name: str, t: Transition, days_name: str) -> str:
    inner = _date_xml(t.date) if t.date else el(days_name, t.days)
    if t.newer is not None:
        inner += el("NewerNoncurrentVersions", t.newer)
    return f"<{name}>{inner}{el('StorageClass', t.storage_class)}</{name}>"


def render(config: Config) -> bytes:
    out = []
    for r in config.rules:
        s = ""
        if r.days is not None or r.date is not None or r.expired_marker is not None:
            e = el("Days", r.days) if r.days is not None else ""
            e += _date_xml(r.date) if r.date is not None else ""
            if r.expired_marker is not None:
                e += el("ExpiredObjectDeleteMarker", "true" if r.expired_marker else "false")
            s += f"<Expiration>{e}</Expiration>"
        s += el("ID", r.id) + _filter_xml(r.filter)
        s += el("Status", "Enabled" if r.enabled else "Disabled")
        s += "".join(_transition_xml("Transition", t, "Days") for t in r.transitions)
        s += "".join(_transition_xml("NoncurrentVersionTransition", t, "NoncurrentDays")
                     for t in r.noncurrent_transitions)
        if r.noncurrent_days is not None:
            n = el("NoncurrentDays", r.noncurrent_days)
            if r.newer_noncurrent is not None:
                n += el("NewerNoncurrentVersions", r.newer_noncurrent)
            s += f"<NoncurrentVersionExpiration>{n}</NoncurrentVersionExpiration>"
        if r.abort_days is not None:
            s += ("<AbortIncompleteMultipartUpload>" + el("DaysAfterInitiation", r.abort_days)
                  + "</AbortIncompleteMultipartUpload>")
        out.append(f"<Rule>{s}</Rule>")
    return doc("LifecycleConfiguration", "".join(out))

