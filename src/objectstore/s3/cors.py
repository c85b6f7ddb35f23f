"""Bucket CORS configuration: parsing, rendering, and matching requests to rules (pure)."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

from objectstore.s3.errors import S3Error
from objectstore.s3.headers import check_value
from objectstore.s3.numbers import signed
from objectstore.s3.xml import child, children, doc, el, local, parse, text

METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
MAX_RULES = 100
MAX_REQUEST_HEADERS = 100  # names in one Access-Control-Request-Headers


@dataclass(frozen=True, slots=True)
class Rule:
    methods: tuple[str, ...]
    origins: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None
    rule_id: str | None = None

    def allows_origin(self, origin: str) -> bool:
        return _patterns(self.origins).match(origin) is not None

    def allows_headers(self, requested: Sequence[str]) -> bool:
        if not requested:
            return True
        allowed = _patterns(tuple(h.lower() for h in self.headers))
        return all(allowed.match(r.lower()) is not None for r in requested)


@lru_cache(maxsize=1024)
def _patterns(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex for a rule's wildcard list (an anonymous preflight tries every
    rule: compiling once per rule, not per request and header, keeps that cheap). Keyed
    on the bucket owner's configuration, never on request values."""
    if not globs:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def to_json(rules: Sequence[Rule]) -> str:
    return json.dumps([[r.methods, r.origins, r.headers, r.expose, r.max_age, r.rule_id]
                       for r in rules])


@lru_cache(maxsize=256)
def from_json(value: str | None) -> tuple[Rule, ...]:
    """A bucket's stored rules (remembered: every preflight and browser request reads
    them; keyed on the stored configuration, not on anything a request sends)."""
    if not value:
        return ()
    return tuple(Rule(tuple(m), tuple(o), tuple(h), tuple(e), a, i)
                 for m, o, h, e, a, i in json.loads(value))


def parse_config(body: bytes) -> tuple[Rule, ...]:
    root = parse(body)
    if local(root.tag) != "CORSConfiguration":
        raise S3Error("MalformedXML")
    rules = []
    for node in children(root, "CORSRule"):
        methods = tuple((m.text or "").strip() for m in children(node, "AllowedMethod"))
        origins = tuple((o.text or "").strip() for o in children(node, "AllowedOrigin"))
        if not methods or not origins:
            raise S3Error("MalformedXML")
        for m in methods:
            if m not in METHODS:
                raise S3Error("InvalidRequest", f"Found unsupported HTTP method in CORS config. "
                              f"Unsupported method is {m}")
        max_age_text = text(node, "MaxAgeSeconds")
        max_age = signed(max_age_text.strip(), 10) if max_age_text else None
        if max_age_text and max_age is None:
            raise S3Error("MalformedXML")
        rule_id = text(node, "ID")
        allowed = tuple((h.text or "").strip() for h in children(node, "AllowedHeader"))
        expose = tuple((h.text or "").strip() for h in children(node, "ExposeHeader"))
        for name, values in (("AllowedOrigin", origins), ("AllowedHeader", allowed),
                             ("ExposeHeader", expose)):
            for value in values:  # these are sent back in response headers
                check_value(name, value)
        rules.append(Rule(methods, origins, allowed, expose, max_age, rule_id))
    if not rules or len(rules) > MAX_RULES or child(root, "CORSRule") is None:
        raise S3Error("MalformedXML")
    return tuple(rules)


def render(rules: Sequence[Rule]) -> bytes:
    out = []
    for r in rules:
        s = el("ID", r.rule_id) if r.rule_id else ""
        s += "".join(el("AllowedHeader", h) for h in r.headers)
        s += "".join(el("AllowedMethod", m) for m in r.methods)
        s += "".join(el("AllowedOrigin", o) for o in r.origins)
        s += "".join(el("ExposeHeader", h) for h in r.expose)
        if r.max_age is not None:
            s += el("MaxAgeSeconds", r.max_age)
        out.append(f"<CORSRule>{s}</CORSRule>")
    return doc("CORSConfiguration", "".join(out))


def match(rules: Sequence[Rule], origin: str, method: str,
          requested_headers: Sequence[str] = ()) -> Rule | None:
    for r in rules:
        if method in r.methods and r.allows_origin(origin) and \
                r.allows_headers(requested_headers):
            return r
    return None


def response_headers(rule: Rule, origin: str, *, preflight: bool,
                     requested: Mapping[str, str]) -> list[tuple[str, str]]:
    allow_origin = "*" if "*" in rule.origins else origin
    out = [("Access-Control-Allow-Origin", allow_origin),
           ("Access-Control-Allow-Methods", ", ".join(rule.methods)),
           ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")]
    if allow_origin != "*":
        out.append(("Access-Control-Allow-Credentials", "true"))
    if rule.expose:
        out.append(("Access-Control-Expose-Headers", ", ".join(rule.expose)))
    if rule.max_age is not None:
        out.append(("Access-Control-Max-Age", str(rule.max_age)))
    if preflight and requested.get("access-control-request-headers"):
        out.append(("Access-Control-Allow-Headers", requested["access-control-request-headers"]))
    return out
