"""Static website hosting (pure): the WebsiteConfiguration document (parse with S3's errors,
render, JSON for the bucket row), and the website endpoint's routing decision — a request
path, the configuration and lookups of keys in, "serve this key", "redirect there" or
"answer this error" out — and S3's HTML error page.

The decision takes the lookups as a function so that it stays free of I/O: the caller
answers, per key, whether the object exists, may be read anonymously, and carries an
``x-amz-website-redirect-location``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Literal
from urllib.parse import quote
from xml.etree.ElementTree import Element

from objectstore.s3.errors import S3Error
from objectstore.s3.headers import check_value
from objectstore.s3.xml import child, children, doc, el, local, parse, text

MAX_RULES = 50
PROTOCOLS = ("http", "https")
_PROTOCOL_MESSAGE = ("Invalid protocol, protocol can be http or https. If not defined the "
                     "protocol will be selected automatically.")


@dataclass(frozen=True, slots=True)
class Redirect:
    host: str | None = None
    protocol: str | None = None
    replace_prefix: str | None = None  # ReplaceKeyPrefixWith
    replace_key: str | None = None  # ReplaceKeyWith
    code: str | None = None  # HttpRedirectCode, as given (301 when None)


@dataclass(frozen=True, slots=True)
class Rule:
    redirect: Redirect
    prefix: str | None = None  # Condition/KeyPrefixEquals
    error_code: str | None = None  # Condition/HttpErrorCodeReturnedEquals
    has_condition: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    index: str | None = None  # IndexDocument/Suffix
    error_key: str | None = None  # ErrorDocument/Key
    redirect_all_host: str | None = None  # RedirectAllRequestsTo/HostName
    redirect_all_protocol: str | None = None
    rules: tuple[Rule, ...] = ()


# ------------------------------------------------------------------------------- parsing
def _invalid(message: str, name: str, value: str | None) -> S3Error:
    return S3Error("InvalidArgument", message, ArgumentName=name,
                   ArgumentValue="null" if value is None else value)


def _protocol(node: Element) -> str | None:
    value = text(node, "Protocol")
    if value is not None and value not in PROTOCOLS:
        raise S3Error("InvalidRequest", _PROTOCOL_MESSAGE)
    return value


def _code(value: str, low: int, high: int, what: str, valid: str) -> str:
    """An HTTP status code element: three digits within [low, high], else S3's error."""
    digits = value.strip()
    if not digits.isdigit() or len(digits) > 3:
        raise S3Error("MalformedXML")
    n = int(digits)
    if not low <= n <= high:
        raise S3Error("InvalidRequest", f"The provided HTTP {what} code ({n}) is not valid. "
                      f"Valid codes are {valid}.")
    return str(n)


def _rule(node: Element) -> Rule:
    cond = child(node, "Condition")
    red = child(node, "Redirect")
    if red is None:
        raise S3Error("MalformedXML")
    prefix = error_code = None
    if cond is not None:
        prefix = text(cond, "KeyPrefixEquals")
        error_code = text(cond, "HttpErrorCodeReturnedEquals")
        if prefix is None and error_code is None:
            raise S3Error("InvalidRequest", "Condition cannot be empty. To redirect all "
                          "requests without a condition, the condition element shouldn't be "
                          "present.")
        if error_code is not None:
            error_code = _code(error_code, 400, 599, "error", "4XX or 5XX")
    code = text(red, "HttpRedirectCode")
    if code is not None:
        code = _code(code, 301, 399, "redirect", "3XX except 300")
    replace_prefix = text(red, "ReplaceKeyPrefixWith")
    replace_key = text(red, "ReplaceKeyWith")
    if replace_prefix is not None and replace_key is not None:
        raise S3Error("InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey "
                      "but not both.")
    host = text(red, "HostName")
    if host is not None and not host.strip():
        raise S3Error("InvalidRequest", "The host name cannot be blank. To redirect within "
                      "the same domain, the element should not be present.")
    if host is not None:
        check_value("HostName", host)  # it goes into a Location header
    redirect = Redirect(host.strip() if host else None, _protocol(red), replace_prefix,
                        replace_key, code)
    return Rule(redirect, prefix, error_code, cond is not None)


def parse_config(body: bytes) -> Config:
    """A PutBucketWebsite body, checked as S3 checks it."""
    root = parse(body)
    if local(root.tag) != "WebsiteConfiguration":
        raise S3Error("MalformedXML")
    redirect_all = child(root, "RedirectAllRequestsTo")
    index_node = child(root, "IndexDocument")
    error_node = child(root, "ErrorDocument")
    rules_node = child(root, "RoutingRules")
    if redirect_all is not None:
        if index_node is not None or error_node is not None or rules_node is not None:
            raise _invalid("RedirectAllRequestsTo cannot be provided in conjunction with "
                           "other Routing Rules.", "RedirectAllRequestsTo", "not null")
        host = (text(redirect_all, "HostName") or "").strip()
        if not host:
            raise S3Error("MalformedXML")
        check_value("HostName", host)  # it goes into a Location header
        return Config(redirect_all_host=host, redirect_all_protocol=_protocol(redirect_all))
    if index_node is None:
        raise _invalid("A value for IndexDocument Suffix must be provided if "
                       "RedirectAllRequestsTo is empty", "IndexDocument", None)
    suffix = text(index_node, "Suffix")
    if not suffix or "/" in suffix:
        raise _invalid("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
    error_key = None
    if error_node is not None:
        error_key = text(error_node, "Key")
        if not error_key:
            raise S3Error("MalformedXML")
    rules: tuple[Rule, ...] = ()
    if rules_node is not None:
        nodes = children(rules_node, "RoutingRule")
        if not nodes:
            raise S3Error("MalformedXML")
        if len(nodes) > MAX_RULES:
            raise S3Error("InvalidRequest", f"{len(nodes)} routing rules provided, the number "
                          f"of routing rules in a website configuration is limited to "
                          f"{MAX_RULES}.")
        rules = tuple(_rule(n) for n in nodes)
    return Config(index=suffix, error_key=error_key, rules=rules)


# ----------------------------------------------------------------------------- rendering
def _opt(name: str, value: str | None) -> str:
    return "" if value is None else el(name, value)


def render(config: Config) -> bytes:
    """The GetBucketWebsite document (AWS's element order)."""
    if config.redirect_all_host is not None:
        inner = el("HostName", config.redirect_all_host) + _opt(
            "Protocol", config.redirect_all_protocol)
        return doc("WebsiteConfiguration", f"<RedirectAllRequestsTo>{inner}"
                                           "</RedirectAllRequestsTo>")
    out = f"<IndexDocument>{el('Suffix', config.index)}</IndexDocument>"
    if config.error_key is not None:
        out += f"<ErrorDocument>{el('Key', config.error_key)}</ErrorDocument>"
    if config.rules:
        out += "<RoutingRules>"
        for r in config.rules:
            out += "<RoutingRule>"
            if r.has_condition:
                out += ("<Condition>" + _opt("HttpErrorCodeReturnedEquals", r.error_code)
                        + _opt("KeyPrefixEquals", r.prefix) + "</Condition>")
            d = r.redirect
            out += ("<Redirect>" + _opt("HostName", d.host) + _opt("HttpRedirectCode", d.code)
                    + _opt("Protocol", d.protocol) + _opt("ReplaceKeyPrefixWith", d.replace_prefix)
                    + _opt("ReplaceKeyWith", d.replace_key) + "</Redirect></RoutingRule>")
        out += "</RoutingRules>"
    return doc("WebsiteConfiguration", out)


def to_json(config: Config) -> str:
    rules = [[r.prefix, r.error_code, r.has_condition, r.redirect.host, r.redirect.protocol,
              r.redirect.replace_prefix, r.redirect.replace_key, r.redirect.code]
             for r in config.rules]
    return json.dumps({"index": config.index, "error": config.error_key,
                       "all_host": config.redirect_all_host,
                       "all_protocol": config.redirect_all_protocol, "rules": rules})


@lru_cache(maxsize=256)
def from_json(value: str) -> Config:
    """A bucket's stored configuration (remembered: every website request reads it; keyed
    on the stored text, never on anything a request sends)."""
    d = json.loads(value)
    rules = tuple(Rule(Redirect(h, p, rp, rk, c), prefix, ec, has)
                  for prefix, ec, has, h, p, rp, rk, c in d["rules"])
    return Config(d["index"], d["error"], d["all_host"], d["all_protocol"], rules)


# ------------------------------------------------------------------------------ routing
@dataclass(frozen=True, slots=True)
class Found:
    """What a lookup of one key found: "found" (readable by the website's anonymous
    visitor), "missing" (404) or "denied" (403: not readable, or missing and the bucket
    not listable); ``redirect`` is the object's x-amz-website-redirect-location."""
    state: Literal["found", "missing", "denied"]
    redirect: str | None = None


@dataclass(frozen=True, slots=True)
class Serve:
    key: str
    status: int = 200  # the error document is served with the original error's status
    location: str | None = None  # an error document's own redirect location (status 301)


@dataclass(frozen=True, slots=True)
class Redirection:
    location: str
    status: int


@dataclass(frozen=True, slots=True)
class Failure:
    status: int
    code: str
    message: str
    key: str | None = None  # the key named on the page
    document: tuple[str, str, str | None] | None = None  # the error document's own failure


NOT_FOUND = ("NoSuchKey", "The specified key does not exist.")
DENIED = ("AccessDenied", "Access Denied")
Decision = Serve | Redirection | Failure
Lookup = Callable[[str], Found]


def _quote(key: str) -> str:
    return quote(key, safe="/~!$&'()*+,;=:@-._")


def _rule_location(rule: Rule, key: str, scheme: str, host: str) -> str:
    d = rule.redirect
    if d.replace_key is not None:
        new_key = d.replace_key
    elif d.replace_prefix is not None:
        new_key = d.replace_prefix + key[len(rule.prefix or ""):]
    else:
        new_key = key
    return f"{d.protocol or scheme}://{d.host or host}/{_quote(new_key)}"


def _redirect(rule: Rule, key: str, scheme: str, host: str) -> Redirection:
    return Redirection(_rule_location(rule, key, scheme, host), int(rule.redirect.code or 301))


def _resolve(config: Config, key: str, lookup: Lookup) -> Serve | Redirection | int:
    """What the bucket holds for ``key``: the object (or the index document of a folder),
    its redirect location, the folder redirect — or the error status, 404 or 403."""
    index = config.index or "index.html"
    wanted = key + index if key == "" or key.endswith("/") else key
    found = lookup(wanted)
    if found.state == "found":
        if found.redirect is not None:
            return Redirection(found.redirect, 301)
        return Serve(wanted)
    if wanted == key:  # "/dir" when dir/<index> exists (also where a miss is a 403)
        folder = lookup(f"{key}/{index}")
        if folder.state == "found":
            return Redirection(f"/{_quote(key)}/", 302)
    return 404 if found.state == "missing" else 403


def decide(config: Config, path: str, lookup: Lookup, *, scheme: str = "http",
           host: str = "", raw_query: str = "") -> Decision:
    """What the website endpoint answers a GET/HEAD of ``path`` (percent-decoded, starting
    with "/"; the query is ignored), as S3 answers it: RedirectAllRequestsTo (path and
    query kept); else the routing rules in order, the first match winning — a rule with an
    HttpErrorCodeReturnedEquals condition matches when the key's lookup fails with that
    status (and its prefix, if any, matches), any other rule on its prefix alone; else the
    key: the index document for "/" and ".../", an object's redirect location as 301,
    "/dir" -> 302 "/dir/" when "dir/<index>" exists; on 404/403 the error document, served
    with the error's status (an error document carrying a redirect location: 301 with that
    Location, and its body, as S3 answers), else S3's error page."""
    if config.redirect_all_host is not None:
        query = f"?{raw_query}" if raw_query else ""
        return Redirection(f"{config.redirect_all_protocol or scheme}://"
                           f"{config.redirect_all_host}{_quote(path)}{query}", 301)
    key = path[1:] if path.startswith("/") else path
    outcome: Serve | Redirection | int | None = None  # looked up only when a rule asks
    for rule in config.rules:
        if rule.prefix is not None and not key.startswith(rule.prefix):
            continue
        if rule.error_code is not None:
            if outcome is None:
                outcome = _resolve(config, key, lookup)
            if outcome != int(rule.error_code):
                continue
        return _redirect(rule, key, scheme, host)
    if outcome is None:
        outcome = _resolve(config, key, lookup)
    if not isinstance(outcome, int):
        return outcome
    status = outcome
    code, message = NOT_FOUND if status == 404 else DENIED
    index = config.index or "index.html"
    shown = (key + index if key == "" or key.endswith("/") else key) if status == 404 \
        else None
    if config.error_key is None:
        return Failure(status, code, message, shown)
    doc_found = lookup(config.error_key)
    if doc_found.state == "found":
        if doc_found.redirect is not None:
            return Serve(config.error_key, 301, doc_found.redirect)
        return Serve(config.error_key, status)
    doc_code, doc_message = NOT_FOUND if doc_found.state == "missing" else DENIED
    return Failure(status, code, message, shown,
                   (doc_code, doc_message,
                    config.error_key if doc_found.state == "missing" else None))


# --------------------------------------------------------------------------- error pages
REASONS = {301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           412: "Precondition Failed", 416: "Requested Range Not Satisfiable",
           500: "Internal Server Error", 503: "Service Unavailable"}


def _items(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>\n" for k, v in pairs)


def error_page(status: int, code: str, message: str, details: list[tuple[str, str]],
               request_id: str, host_id: str,
               document: tuple[str, str, str | None] | None = None) -> bytes:
    """S3's HTML error page of the website endpoint (``details``: Key, BucketName, ...;
    ``document``: the custom error document's own failure — code, message, key)."""
    title = f"{status} {REASONS.get(status, 'Error')}"
    out = (f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n"
           + _items([("Code", code), ("Message", message), *details,
                     ("RequestId", request_id), ("HostId", host_id)]) + "</ul>\n")
    if document is not None:
        doc_code, doc_message, doc_key = document
        pairs = [("Code", doc_code), ("Message", doc_message)]
        if doc_key is not None:
            pairs.append(("Key", doc_key))
        out += ("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document"
                "</h3>\n<ul>\n" + _items(pairs) + "</ul>\n")
    out += "<hr/>\n</body>\n</html>\n"
    return out.encode("utf-8")
