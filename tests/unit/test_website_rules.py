"""s3/website.py: the WebsiteConfiguration document (S3's errors), the website endpoint's
routing decision, and the HTML error page."""

from __future__ import annotations

import pytest

from objectstore.s3 import website
from objectstore.s3.errors import S3Error
from objectstore.s3.website import Config, Failure, Found, Redirect, Redirection, Rule, Serve

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def body(inner: str) -> bytes:
    return f"<WebsiteConfiguration {NS}>{inner}</WebsiteConfiguration>".encode()


INDEX = "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>"


def rules(*rule: str) -> bytes:
    return body(INDEX + "<RoutingRules>" + "".join(
        f"<RoutingRule>{r}</RoutingRule>" for r in rule) + "</RoutingRules>")


def refused(data: bytes) -> tuple[str, str]:
    with pytest.raises(S3Error) as info:
        website.parse_config(data)
    return info.value.code, info.value.message


# ------------------------------------------------------------------------ configuration
def test_full_configuration_round_trips_in_aws_order() -> None:
    data = body(
        INDEX + "<ErrorDocument><Key>404.html</Key></ErrorDocument><RoutingRules>"
        "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>"
        "<Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect>"
        "</RoutingRule><RoutingRule><Condition><HttpErrorCodeReturnedEquals>404"
        "</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>example.com</HostName>"
        "<HttpRedirectCode>302</HttpRedirectCode><Protocol>https</Protocol>"
        "<ReplaceKeyWith>missing.html</ReplaceKeyWith></Redirect></RoutingRule></RoutingRules>")
    config = website.parse_config(data)
    assert config == Config("index.html", "404.html", None, None, (
        Rule(Redirect(replace_prefix="documents/"), "docs/", None, True),
        Rule(Redirect("example.com", "https", None, "missing.html", "302"), None, "404", True)))
    rendered = website.render(config)
    assert rendered.endswith(data)  # after the XML declaration, the same document
    assert website.from_json(website.to_json(config)) == config


def test_redirect_all_requests() -> None:
    data = body("<RedirectAllRequestsTo><HostName>example.com</HostName>"
                "<Protocol>https</Protocol></RedirectAllRequestsTo>")
    config = website.parse_config(data)
    assert config == Config(redirect_all_host="example.com", redirect_all_protocol="https")
    assert website.render(config).endswith(data)
    assert website.from_json(website.to_json(config)) == config


def test_empty_replace_key_prefix_is_kept() -> None:
    config = website.parse_config(rules(
        "<Condition><KeyPrefixEquals>old/</KeyPrefixEquals></Condition>"
        "<Redirect><ReplaceKeyPrefixWith></ReplaceKeyPrefixWith></Redirect>"))
    assert config.rules[0].redirect.replace_prefix == ""
    assert b"<ReplaceKeyPrefixWith></ReplaceKeyPrefixWith>" in website.render(config)


@pytest.mark.parametrize(("data", "code", "message"), [
    (b"<WebsiteConfiguration", "MalformedXML", None),
    (b"<Other/>", "MalformedXML", None),
    (body(""), "InvalidArgument",
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
    (body("<ErrorDocument><Key>e.html</Key></ErrorDocument>"), "InvalidArgument",
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
    (body("<IndexDocument><Suffix></Suffix></IndexDocument>"), "InvalidArgument",
     "The IndexDocument Suffix is not well formed"),
    (body("<IndexDocument><Suffix>a/index.html</Suffix></IndexDocument>"), "InvalidArgument",
     "The IndexDocument Suffix is not well formed"),
    (body("<IndexDocument/>"), "InvalidArgument", "The IndexDocument Suffix is not well formed"),
    (body(INDEX + "<ErrorDocument></ErrorDocument>"), "MalformedXML", None),
    (body(INDEX + "<RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>"),
     "InvalidArgument",
     "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules."),
    (body("<RedirectAllRequestsTo><Protocol>http</Protocol></RedirectAllRequestsTo>"),
     "MalformedXML", None),
    (body("<RedirectAllRequestsTo><HostName>h</HostName><Protocol>ftp</Protocol>"
          "</RedirectAllRequestsTo>"), "InvalidRequest",
     "Invalid protocol, protocol can be http or https. If not defined the protocol will be "
     "selected automatically."),
    (body(INDEX + "<RoutingRules></RoutingRules>"), "MalformedXML", None),
    (rules("<Condition><KeyPrefixEquals>a</KeyPrefixEquals></Condition>"), "MalformedXML", None),
    (rules("<Condition></Condition><Redirect><HostName>h</HostName></Redirect>"),
     "InvalidRequest", "Condition cannot be empty. To redirect all requests without a "
     "condition, the condition element shouldn't be present."),
    (rules("<Redirect><HttpRedirectCode>300</HttpRedirectCode></Redirect>"), "InvalidRequest",
     "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300."),
    (rules("<Redirect><HttpRedirectCode>200</HttpRedirectCode></Redirect>"), "InvalidRequest",
     "The provided HTTP redirect code (200) is not valid. Valid codes are 3XX except 300."),
    (rules("<Redirect><HttpRedirectCode>abc</HttpRedirectCode></Redirect>"), "MalformedXML",
     None),
    (rules("<Condition><HttpErrorCodeReturnedEquals>302</HttpErrorCodeReturnedEquals>"
           "</Condition><Redirect><HostName>h</HostName></Redirect>"), "InvalidRequest",
     "The provided HTTP error code (302) is not valid. Valid codes are 4XX or 5XX."),
    (rules("<Redirect><ReplaceKeyWith>a</ReplaceKeyWith>"
           "<ReplaceKeyPrefixWith>b/</ReplaceKeyPrefixWith></Redirect>"), "InvalidRequest",
     "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
    (rules("<Redirect><Protocol>gopher</Protocol></Redirect>"), "InvalidRequest",
     "Invalid protocol, protocol can be http or https. If not defined the protocol will be "
     "selected automatically."),
    (rules(*["<Redirect><HostName>h</HostName></Redirect>"] * 51), "InvalidRequest",
     "51 routing rules provided, the number of routing rules in a website configuration is "
     "limited to 50."),
])
def test_refused_as_s3_refuses(data: bytes, code: str, message: str | None) -> None:
    got_code, got_message = refused(data)
    assert got_code == code
    if message is not None:
        assert got_message == message


@pytest.mark.parametrize("data", [
    body("<RedirectAllRequestsTo><HostName>a\r\nSet-Cookie: x</HostName>"
         "</RedirectAllRequestsTo>"),
    rules("<Redirect><HostName>a&#10;b</HostName></Redirect>"),
])
def test_host_names_cannot_break_the_location_header(data: bytes) -> None:
    assert refused(data)[0] == "InvalidArgument"


def test_invalid_argument_names_the_element() -> None:
    with pytest.raises(S3Error) as info:
        website.parse_config(body("<IndexDocument><Suffix>a/b</Suffix></IndexDocument>"))
    assert info.value.extra == {"ArgumentName": "IndexDocument", "ArgumentValue": "a/b"}


def test_fifty_rules_are_accepted() -> None:
    config = website.parse_config(rules(*["<Redirect><HostName>h</HostName></Redirect>"] * 50))
    assert len(config.rules) == 50


# ------------------------------------------------------------------------------ routing
SITE = Config(index="index.html", error_key="404.html")


def store(objects: dict[str, str | None], denied: frozenset[str] = frozenset(),
          listable: bool = True) -> website.Lookup:
    """A lookup over ``objects`` (key -> redirect location); ``denied`` keys exist but may
    not be read; a missing key is "denied" when the bucket is not listable."""
    def lookup(key: str) -> Found:
        if key in denied:
            return Found("denied")
        if key not in objects:
            return Found("missing" if listable else "denied")
        return Found("found", objects[key])
    return lookup


FILES: dict[str, str | None] = {"index.html": None, "docs/index.html": None,
                                "404.html": None, "a.txt": None, "old": "/docs/",
                                "away": "https://example.com/x"}


def decide(path: str, config: Config = SITE, lookup: website.Lookup | None = None,
           **kw: str) -> website.Decision:
    return website.decide(config, path, lookup or store(FILES), scheme="http",
                          host="site.s3-website.localhost:3393", **kw)


@pytest.mark.parametrize(("path", "expected"), [
    ("/", Serve("index.html")),
    ("/a.txt", Serve("a.txt")),
    ("/docs/", Serve("docs/index.html")),
    ("/docs", Redirection("/docs/", 302)),
    ("/old", Redirection("/docs/", 301)),
    ("/away", Redirection("https://example.com/x", 301)),
    ("/nothing", Serve("404.html", 404)),
    ("/nothing/", Serve("404.html", 404)),
])
def test_serving(path: str, expected: website.Decision) -> None:
    assert decide(path) == expected


def test_index_missing_without_error_document() -> None:
    got = decide("/empty/", Config(index="index.html"))
    assert got == Failure(404, "NoSuchKey", "The specified key does not exist.",
                          "empty/index.html")


def test_error_document_missing_too() -> None:
    got = decide("/x", Config(index="index.html", error_key="gone.html"))
    assert got == Failure(404, "NoSuchKey", "The specified key does not exist.", "x",
                          ("NoSuchKey", "The specified key does not exist.", "gone.html"))


def test_not_listable_is_403_with_the_error_document() -> None:
    assert decide("/x", lookup=store(FILES, listable=False)) == Serve("404.html", 403)


def test_unreadable_object_and_error_document() -> None:
    lookup = store(FILES, denied=frozenset({"a.txt", "404.html"}))
    assert decide("/a.txt", lookup=lookup) == Failure(
        403, "AccessDenied", "Access Denied", None, ("AccessDenied", "Access Denied", None))


def test_folder_redirect_also_where_misses_are_403() -> None:
    assert decide("/docs", lookup=store(FILES, listable=False)) == Redirection("/docs/", 302)


def test_redirect_all_keeps_path_and_query() -> None:
    config = Config(redirect_all_host="example.com", redirect_all_protocol="https")
    assert decide("/a b/c", config, raw_query="x=1") == \
        Redirection("https://example.com/a%20b/c?x=1", 301)
    assert decide("/", Config(redirect_all_host="example.com")) == \
        Redirection("http://example.com/", 301)


def rule(redirect: Redirect, prefix: str | None = None, error: str | None = None) -> Rule:
    return Rule(redirect, prefix, error, prefix is not None or error is not None)


def test_prefix_rule_replaces_the_prefix_on_the_same_host() -> None:
    config = Config(index="index.html", rules=(
        rule(Redirect(replace_prefix="documents/"), "docs/"),))
    assert decide("/docs/a.html", config) == \
        Redirection("http://site.s3-website.localhost:3393/documents/a.html", 301)
    assert decide("/a.txt", config) == Serve("a.txt")  # no match: served


def test_rules_apply_in_order_first_match_wins() -> None:
    config = Config(index="index.html", rules=(
        rule(Redirect(replace_key="first.html"), "a"),
        rule(Redirect(replace_key="second.html"), "a.")))
    assert decide("/a.txt", config) == \
        Redirection("http://site.s3-website.localhost:3393/first.html", 301)


def test_rule_without_condition_redirects_everything() -> None:
    config = Config(index="index.html", rules=(
        rule(Redirect(host="example.com", protocol="https", code="307")),))
    assert decide("/a.txt", config) == Redirection("https://example.com/a.txt", 307)


def test_error_code_rule_applies_only_after_the_lookup_fails() -> None:
    config = Config(index="index.html", error_key="404.html", rules=(
        rule(Redirect(host="example.com", replace_prefix="report-404/"), error="404"),))
    assert decide("/a.txt", config) == Serve("a.txt")
    assert decide("/gone.html", config) == \
        Redirection("http://example.com/report-404/gone.html", 301)
    # a 403 does not match a 404 rule: the error document is served with 403
    assert decide("/gone.html", config, store(FILES, listable=False)) == \
        Serve("404.html", 403)


def test_prefix_and_error_code_must_both_match() -> None:
    config = Config(index="index.html", rules=(
        rule(Redirect(replace_key="moved.html", code="302"), "images/", "404"),))
    assert decide("/images/x.png", config) == \
        Redirection("http://site.s3-website.localhost:3393/moved.html", 302)
    assert isinstance(decide("/other/x.png", config), Failure)


def test_error_document_with_redirect_location() -> None:
    """S3 answers 301 with the error document's location, and the document as the body."""
    lookup = store({**FILES, "404.html": "/example"})
    assert decide("/x", lookup=lookup) == Serve("404.html", 301, "/example")


def test_error_code_rule_before_an_unconditional_one() -> None:
    config = Config(index="index.html", rules=(
        rule(Redirect(host="primary.example.com"), error="404"),
        rule(Redirect(host="secondary.example.com"))))
    assert decide("/any", config) == Redirection("http://primary.example.com/any", 301)
    assert decide("/a.txt", config) == Redirection("http://secondary.example.com/a.txt", 301)


def test_prefix_rule_redirects_existing_keys_too() -> None:
    config = Config(index="index.html", rules=(rule(Redirect(host="example.com"), "a"),))
    assert decide("/a.txt", config) == Redirection("http://example.com/a.txt", 301)
    assert decide("/docs/", config) == Serve("docs/index.html")


def test_error_code_rule_does_not_match_a_folder_redirect() -> None:
    config = Config(index="index.html", rules=(rule(Redirect(host="x.example"), error="404"),))
    assert decide("/docs", config) == Redirection("/docs/", 302)


def test_slashed_key_without_index_is_404() -> None:
    lookup = store({"key/": None})
    assert decide("/key/", Config(index="index.html"), lookup) == Failure(
        404, "NoSuchKey", "The specified key does not exist.", "key/index.html")


def test_location_is_percent_encoded() -> None:
    config = Config(index="index.html", rules=(rule(Redirect(replace_prefix="new dir/"), "a"),))
    assert decide("/a\u00e9?", config) == \
        Redirection("http://site.s3-website.localhost:3393/new%20dir/%C3%A9%3F", 301)


# ----------------------------------------------------------------------------- error page
def test_error_page_like_s3() -> None:
    page = website.error_page(404, "NoSuchKey", "The specified key does not exist.",
                              [("Key", "a<b")], "REQ", "HOST",
                              ("NoSuchKey", "The specified key does not exist.", "404.html"))
    text = page.decode()
    assert text.startswith("<html>\n<head><title>404 Not Found</title></head>")
    assert "<h1>404 Not Found</h1>" in text
    assert "<li>Code: NoSuchKey</li>" in text
    assert "<li>Key: a&lt;b</li>" in text
    assert "<li>RequestId: REQ</li>\n<li>HostId: HOST</li>" in text
    assert "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>" \
        in text
    assert "<li>Key: 404.html</li>" in text
    assert text.rstrip().endswith("<hr/>\n</body>\n</html>")


def test_error_page_without_document_failure() -> None:
    page = website.error_page(403, "AccessDenied", "Access Denied", [], "R", "H").decode()
    assert "<title>403 Forbidden</title>" in page
    assert "<h3>" not in page
