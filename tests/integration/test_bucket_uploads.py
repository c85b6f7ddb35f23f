"""In-progress multipart uploads go with their bucket (issue 9, item 4)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from harness import Server


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_delete_bucket_takes_its_uploads_along(server: Server, s3: Any) -> None:
    name = "mpu-gone-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    up = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=name, Key="k", UploadId=up, PartNumber=1,
                          Body=b"x" * (300 * 1024))["ETag"]
    before = _blob_files(server.data_dir)
    s3.delete_bucket(Bucket=name)  # S3: only in-progress uploads left is no obstacle
    other = server.client(server.new_user())
    other.create_bucket(Bucket=name)
    assert other.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    with pytest.raises(ClientError) as exc:
        other.list_parts(Bucket=name, Key="k", UploadId=up)
    assert _code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        other.complete_multipart_upload(
            Bucket=name, Key="k", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert _code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        other.upload_part(Bucket=name, Key="k", UploadId=up, PartNumber=2, Body=b"y")
    assert _code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        other.get_object(Bucket=name, Key="k")
    assert _code(exc) == "NoSuchKey"
    # the part's blob became garbage and was removed with the next commit
    other.put_object(Bucket=name, Key="nudge", Body=b"n")
    other.delete_object(Bucket=name, Key="nudge")
    assert len(_blob_files(server.data_dir) & before) < len(before)
    other.delete_bucket(Bucket=name)


def _blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs").rglob("*") if p.is_file()}
