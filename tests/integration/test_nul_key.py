"""A key holding U+0000 is refused by every write (400 InvalidArgument), on both stores; a
read of one answers NoSuchKey."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_put_with_nul_key_is_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="a\x00b", Body=b"x")
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        s3.create_multipart_upload(Bucket=bucket, Key="\x00")
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="a\x00b")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.put_object(Bucket=bucket, Key="a\x01b", Body=b"y")  # other controls stay allowed
    assert s3.get_object(Bucket=bucket, Key="a\x01b")["Body"].read() == b"y"
