"""Object and bucket tags: the Tagging XML document and the x-amz-tagging header."""

from __future__ import annotations

from typing import Sequence
from urllib.parse import parse_qsl

from objectstore.s3.errors import S3Error
from objectstore.s3.xml import child, children, doc, el, local, parse, text

Tags = tuple[tuple[str, str], ...]
MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50


def validate(tags: Sequence[tuple[str, str]], limit: int) -> Tags:
    if len(tags) > limit:
        raise S3Error("BadRequest" if limit == MAX_OBJECT_TAGS else "InvalidTag",
                      f"Object tags cannot be greater than {limit}" if limit == MAX_OBJECT_TAGS
                      else f"Bucket tag count cannot be greater than {limit}")
    seen = set()
    for key, value in tags:
        if not key or len(key) > 128:
            raise S3Error("InvalidTag", "The TagKey you have provided is invalid")
        if len(value) > 256:
            raise S3Error("InvalidTag", "The TagValue you have provided is invalid")
        if key.lower().startswith("aws:"):
            raise S3Error("InvalidTag", "Your TagKey cannot be prefixed with aws:")
        if key in seen:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key")
        seen.add(key)
    return tuple(tags)


def parse_header(value: str, limit: int = MAX_OBJECT_TAGS) -> Tags:
    """``x-amz-tagging: k1=v1&k2=v2`` (URL-encoded; a name without ``=`` has an empty
    value, as in any query string: ``k1=v1&k2``)."""
    try:
        pieces = value.split("&") if value else []
        if any(not piece for piece in pieces):
            raise ValueError(value)
        pairs = [pair for piece in pieces
                 for pair in parse_qsl(piece if "=" in piece else piece + "=",
                                       keep_blank_values=True, strict_parsing=True)]
    except ValueError:
        raise S3Error("InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 "
                      "then URLEncoded URL query parameters without tag name duplicates.",
                      ArgumentName="x-amz-tagging", ArgumentValue=value) from None
    return validate(pairs, limit)


def parse_document(body: bytes, limit: int = MAX_OBJECT_TAGS) -> Tags:
    root = parse(body)
    tagset = child(root, "TagSet")
    if local(root.tag) != "Tagging" or tagset is None:
        raise S3Error("MalformedXML")
    tags = []
    for tag in children(tagset, "Tag"):
        key, value = text(tag, "Key"), text(tag, "Value")
        if key is None or value is None:
            raise S3Error("MalformedXML")
        tags.append((key, value))
    return validate(tags, limit)


def render(tags: Tags) -> bytes:
    """The Tagging document, tags in key order: a tag set has no order in S3, so the answer
    is the same whatever order the tags were given in (header or document)."""
    items = "".join(f"<Tag>{el('Key', k)}{el('Value', v)}</Tag>" for k, v in sorted(tags))
    return doc("Tagging", f"<TagSet>{items}</TagSet>")
