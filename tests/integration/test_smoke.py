from __future__ import annotations

from typing import Any

from harness import Server


def test_put_get_roundtrip(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a/b c+d%e", Body=b"hello", Metadata={"k": "v"})
    got = s3.get_object(Bucket=bucket, Key="a/b c+d%e")
    assert got["Body"].read() == b"hello"
    assert got["Metadata"] == {"k": "v"}
    assert got["ETag"] == '"5d41402abc4b2a76b9719d911017c592"'


def test_new_user_in_other_account_is_denied(server: Server, s3: Any, bucket: str) -> None:
    other = server.client(server.new_user())
    s3.put_object(Bucket=bucket, Key="secret", Body=b"x")
    try:
        other.get_object(Bucket=bucket, Key="secret")
    except other.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDenied"
    else:
        raise AssertionError("other account could read a private object")
