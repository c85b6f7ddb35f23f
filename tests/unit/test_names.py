"""Bucket naming rules (general purpose buckets) and the 1024-byte key limit.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.errors import S3Error
from objectstore.s3.names import (
    MAX_KEY_BYTES,
    bucket_name_problem,
    check_bucket_name,
    check_key,
    check_location_constraint,
)

VALID = [
    # examples of valid names from the AWS page
    "docexamplebucket1", "log-delivery-march-2020", "my-hosted-content",
    "docexamplewebsite.com", "www.docexamplewebsite.com", "my.example.s3.bucket",
    "abc", "a" * 63, "123", "1-2", "a.b.c", "0bucket9", "bucket--name",
    "192.168.5.4a", "1.2.3", "1.2.3.4.5",
]

INVALID = [
    # examples of invalid names from the AWS page
    "doc_example_bucket",  # underscores
    "DocExampleBucket",  # upper case
    "doc-example-bucket-",  # ends with a hyphen
    # length
    "", "a", "ab", "a" * 64,
    # characters / start / end
    "-abc", "abc-", ".abc", "abc.", "ab c", "abc/d", "ab:c", "abç", "ABC",
    # adjacent periods, period next to hyphen
    "a..b", "a.-b", "a-.b",
    # IP addresses
    "192.168.5.4", "10.0.0.1", "999.999.999.999",
    # reserved prefixes and suffixes
    "xn--bucket", "sthree-bucket", "sthree-configurator", "amzn-s3-demo-bucket",
    "bucket-s3alias", "bucket--ol-s3", "bucket.mrap", "bucket--x-s3", "bucket--table-s3",
]


@pytest.mark.parametrize("name", VALID)
def test_valid_bucket_names(name: str) -> None:
    assert bucket_name_problem(name) is None
    check_bucket_name(name)


@pytest.mark.parametrize("name", INVALID)
def test_invalid_bucket_names(name: str) -> None:
    assert isinstance(bucket_name_problem(name), str)
    with pytest.raises(S3Error) as ei:
        check_bucket_name(name)
    assert ei.value.code == "InvalidBucketName"
    assert ei.value.status == 400
    assert ei.value.extra["BucketName"] == name


@pytest.mark.parametrize("name", ["abc\n", "my-bucket\n"])
def test_trailing_newline_is_invalid(name: str) -> None:
    assert bucket_name_problem(name) is not None


_RULE = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_RESERVED_PREFIX = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIX = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _reference(name: str) -> bool:
    """The rules, written independently."""
    if not 3 <= len(name) <= 63 or not _RULE.fullmatch(name):
        return False
    if ".." in name or ".-" in name or "-." in name:
        return False
    parts = name.split(".")
    if len(parts) == 4 and all(p.isdigit() and 1 <= len(p) <= 3 for p in parts):
        return False
    return not name.startswith(_RESERVED_PREFIX) and not name.endswith(_RESERVED_SUFFIX)


@settings(max_examples=150)
@given(st.text(st.sampled_from(list("ab09.-_Zx")), max_size=66)
       | st.text(st.sampled_from(list("abcz0189.-")), min_size=1, max_size=64))
def test_bucket_names_against_reference(name: str) -> None:
    assert (bucket_name_problem(name) is None) == _reference(name)


@pytest.mark.parametrize("key", [
    "a", "a" * MAX_KEY_BYTES, "é" * 512, "日" * 341 + "a", "😀" * 256, "/", "../..", " ",
])
def test_keys_within_limit(key: str) -> None:
    assert len(key.encode()) <= 1024
    check_key(key)


@pytest.mark.parametrize("key", [
    "a" * 1025, "é" * 513, "日" * 342, "😀" * 256 + "a", "a" * 1023 + "é",
])
def test_keys_too_long(key: str) -> None:
    assert len(key.encode()) > 1024
    with pytest.raises(S3Error) as ei:
        check_key(key)
    assert ei.value.code == "KeyTooLongError"
    assert ei.value.status == 400


def test_key_limit_counts_bytes_not_characters() -> None:
    check_key("é" * 512)  # 512 characters, 1024 bytes
    with pytest.raises(S3Error):
        check_key("é" * 512 + "a")  # 513 characters, 1025 bytes


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2", "us-gov-west-1", "EU",
                                    "cn-north-1"])
def test_location_constraint_accepted(region: str) -> None:
    check_location_constraint(region, "us-east-1")


@pytest.mark.parametrize("region", ["us-east-1", "moon", "Not A Region", "eu-west-", "x" * 300])
def test_location_constraint_refused(region: str) -> None:
    with pytest.raises(S3Error) as ei:
        check_location_constraint(region, "us-east-1")
    assert ei.value.code == "InvalidLocationConstraint"


def test_location_constraint_server_region_any_shape() -> None:
    check_location_constraint("garage", "garage")
    with pytest.raises(S3Error):
        check_location_constraint("garage", "us-east-1")
