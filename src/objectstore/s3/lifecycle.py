"""Bucket lifecycle configuration (pure): the rules, their JSON form, and what a rule means
for one object, version, marker or upload at a time (the XML document: lifecycle_xml.py).

Times are epoch seconds. A lifecycle "day" is ``DAY`` seconds; the sweeper may be given a
shorter one (``--lifecycle-day-seconds``, for tests), the x-amz-expiration header never.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Sequence

from objectstore.s3.http import http_date

DAY = 86400.0
MAX_RULES = 1000
MAX_ID = 255
STORAGE_CLASSES = frozenset({"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                             "DEEP_ARCHIVE", "GLACIER_IR"})
MIN_SIZE_DEFAULT = "all_storage_classes_128K"
MIN_SIZE_VALUES = frozenset({"all_storage_classes_128K", "varies_by_storage_class"})
Tags = tuple[tuple[str, str], ...]

# How a rule's filter was written (rendered back the same way).
NONE, LEGACY, EMPTY, PREFIX, TAG, AND, GT, LT = ("none", "legacy", "empty", "prefix", "tag",
                                                 "and", "gt", "lt")


@dataclass(frozen=True, slots=True)
class Filter:
    form: str = NONE
    prefix: str = ""
    tags: Tags = ()
    size_gt: int | None = None
    size_lt: int | None = None

    def matches(self, key: str, size: int, tags: Tags) -> bool:
        if self.prefix and not key.startswith(self.prefix):
            return False
        if self.size_gt is not None and not size > self.size_gt:
            return False
        if self.size_lt is not None and not size < self.size_lt:
            return False
        if self.tags:
            have = set(tags)
            return all(t in have for t in self.tags)
        return True


@dataclass(frozen=True, slots=True)
class Transition:
    days: int | None
    date: str | None  # YYYY-MM-DD
    storage_class: str
    newer: int | None = None  # NewerNoncurrentVersions (noncurrent transitions)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    enabled: bool
    filter: Filter = Filter()
    days: int | None = None  # Expiration
    date: str | None = None  # Expiration, YYYY-MM-DD (midnight UTC)
    expired_marker: bool | None = None  # Expiration/ExpiredObjectDeleteMarker
    noncurrent_days: int | None = None
    newer_noncurrent: int | None = None
    abort_days: int | None = None
    transitions: tuple[Transition, ...] = ()
    noncurrent_transitions: tuple[Transition, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    rules: tuple[Rule, ...]
    min_size: str = MIN_SIZE_DEFAULT  # x-amz-transition-default-minimum-object-size


# ---------------------------------------------------------------- JSON

def _trans_json(t: Transition) -> list[Any]:
    return [t.days, t.date, t.storage_class, t.newer]


def to_json(config: Config) -> str:
    rules = []
    for r in config.rules:
        f = r.filter
        rules.append({
            "id": r.id, "enabled": r.enabled,
            "filter": [f.form, f.prefix, [list(t) for t in f.tags], f.size_gt, f.size_lt],
            "days": r.days, "date": r.date, "marker": r.expired_marker,
            "nc_days": r.noncurrent_days, "nc_newer": r.newer_noncurrent,
            "abort": r.abort_days,
            "trans": [_trans_json(t) for t in r.transitions],
            "nc_trans": [_trans_json(t) for t in r.noncurrent_transitions],
        })
    return json.dumps({"rules": rules, "min_size": config.min_size})


@lru_cache(maxsize=256)
def from_json(value: str | None) -> Config | None:
    """A bucket's stored configuration (remembered: every GET/HEAD of an object in a bucket
    with a configuration reads it; keyed on the stored text, not on request values)."""
    if not value:
        return None
    data = json.loads(value)
    rules = []
    for r in data["rules"]:
        form, prefix, tags, gt, lt = r["filter"]
        rules.append(Rule(
            id=r["id"], enabled=r["enabled"],
            filter=Filter(form, prefix, tuple((k, v) for k, v in tags), gt, lt),
            days=r["days"], date=r["date"], expired_marker=r["marker"],
            noncurrent_days=r["nc_days"], newer_noncurrent=r["nc_newer"],
            abort_days=r["abort"],
            transitions=tuple(Transition(*t) for t in r["trans"]),
            noncurrent_transitions=tuple(Transition(*t) for t in r["nc_trans"])))
    return Config(tuple(rules), data.get("min_size", MIN_SIZE_DEFAULT))


# ---------------------------------------------------------------- decisions

def date_epoch(date: str) -> float:
    return datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()


def due(start: float, days: int, day: float = DAY) -> float:
    """When something started at ``start`` is ``days`` lifecycle days old. With real days,
    S3 rounds up to the next midnight UTC; a shortened test day is not rounded (as Ceph's
    rgw_lc_debug_interval), so tests can time it to a few seconds."""
    end = start + days * day
    if day == DAY:
        return math.ceil(end / DAY) * DAY
    return end


def current_expiry(rule: Rule, mtime: float, day: float = DAY) -> float | None:
    """When the current version written at ``mtime`` expires by ``rule`` (None: never)."""
    if not rule.enabled:
        return None
    if rule.days is not None:
        return due(mtime, rule.days, day)
    if rule.date is not None:
        return date_epoch(rule.date)
    return None


def expiration(config: Config, key: str, size: int, tags: Tags, mtime: float,
               day: float = DAY) -> tuple[float, str] | None:
    """(expiry time, rule id) of the rule that expires this current object first."""
    best: tuple[float, str] | None = None
    for r in config.rules:
        if (r.days is None and r.date is None) or not r.enabled:
            continue
        if not r.filter.matches(key, size, tags):
            continue
        when = current_expiry(r, mtime, day)
        if when is not None and (best is None or when < best[0]):
            best = (when, r.id)
    return best


def expiration_header(config_json: str | None, key: str, size: int, tags: Tags,
                      mtime: float) -> str | None:
    """The x-amz-expiration value for an object (real days, always)."""
    config = from_json(config_json)
    if config is None:
        return None
    found = expiration(config, key, size, tags, mtime)
    if found is None:
        return None
    return f'expiry-date="{http_date(found[0])}", rule-id="{found[1]}"'


def noncurrent_expired(rule: Rule, noncurrent_since: float, newer_count: int, now: float,
                       day: float = DAY) -> bool:
    """Whether a noncurrent version (noncurrent since ``noncurrent_since``, with
    ``newer_count`` noncurrent versions newer than it) is expired by ``rule``."""
    if not rule.enabled or rule.noncurrent_days is None:
        return False
    if rule.newer_noncurrent is not None and newer_count < rule.newer_noncurrent:
        return False
    return now >= due(noncurrent_since, rule.noncurrent_days, day)


def marker_expired(rule: Rule, marker_mtime: float, now: float, day: float = DAY) -> bool:
    """Whether a delete marker that is the only version of its key is removed: with
    ExpiredObjectDeleteMarker, or once an Expiration Days/Date would expire it."""
    if not rule.enabled:
        return False
    if rule.expired_marker:
        return True
    when = current_expiry(rule, marker_mtime, day)
    return when is not None and now >= when


def upload_expired(rule: Rule, key: str, created: float, now: float,
                   day: float = DAY) -> bool:
    if not rule.enabled or rule.abort_days is None:
        return False
    if not rule.filter.matches(key, 0, ()) or rule.filter.tags:
        return False
    return now >= due(created, rule.abort_days, day)


def prefixes(config: Config) -> Sequence[str]:
    """The key prefixes the enabled rules look at ("" when one looks at every key)."""
    found = sorted({r.filter.prefix for r in config.rules if r.enabled})
    if not found or "" in found:
        return [""]
    out: list[str] = []
    for p in found:  # drop prefixes covered by a shorter one
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return out
