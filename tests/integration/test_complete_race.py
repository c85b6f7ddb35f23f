"""CompleteMultipartUploads of one upload racing each other (each naming another part):
one commit; every loser gets NoSuchUpload or the repeat answer naming the winner — never
InvalidPart, although the winner's commit took the parts away under it."""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

from botocore.exceptions import ClientError
from harness import Server


def test_racing_completes_one_winner_no_invalid_part(server: Server, s3: Any,
                                                     bucket: str) -> None:
    clients = [server.client() for _ in range(6)]
    for round_ in range(10):
        key = f"raced{round_}"
        up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        bodies = [secrets.token_bytes(500 + i) for i in range(6)]
        etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i + 1,
                                Body=bodies[i])["ETag"] for i in range(6)]
        barrier = threading.Barrier(6)
        out: list[tuple[str, str]] = [("", "")] * 6

        def complete(i: int, key: str = key, up: str = up, etags: list[str] = etags,
                     barrier: threading.Barrier = barrier,
                     out: list[tuple[str, str]] = out) -> None:
            barrier.wait()
            try:
                r = clients[i].complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": etags[i]}]})
                out[i] = ("ok", r["ETag"])
            except ClientError as err:
                out[i] = (err.response["Error"]["Code"], "")
        threads = [threading.Thread(target=complete, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert {code for code, _ in out} <= {"ok", "NoSuchUpload"}, out
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        winners = [i for i in range(6) if body == bodies[i]]
        assert len(winners) == 1
        final = '"' + hashlib.md5(bytes.fromhex(etags[winners[0]].strip('"'))).hexdigest() + '-1"'
        assert out[winners[0]] == ("ok", final)
        assert all(etag == final for code, etag in out if code == "ok"), out
