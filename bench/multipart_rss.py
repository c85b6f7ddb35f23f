"""Peak RSS of objectstore during a 5 GiB multipart upload (80 x 64 MiB parts, 4 at once).

    python bench/multipart_rss.py

Starts `objectstore serve` (fsync on) on a scratch data dir, uploads with boto3 and
prints the rate and the server's peak VmRSS (polled every 100 ms).
"""

from __future__ import annotations

import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RssSampler, scratch  # noqa: E402
from servers import Server  # noqa: E402

PART = 64 << 20
PARTS = 80


def main() -> int:
    work = scratch("objectstore-mp5g-")
    srv = Server("objectstore", "objectstore", work)
    srv.start()
    try:
        s3: Any = srv.target.boto3()
        s3.create_bucket(Bucket="big")
        up = s3.create_multipart_upload(Bucket="big", Key="5g")["UploadId"]
        part = secrets.token_bytes(PART)

        def send(n: int) -> dict[str, Any]:
            etag = s3.upload_part(Bucket="big", Key="5g", UploadId=up, PartNumber=n,
                                  Body=part)["ETag"]
            return {"PartNumber": n, "ETag": etag}

        with RssSampler(srv.pid) as rss:
            t0 = time.time()
            with ThreadPoolExecutor(4) as ex:
                parts = list(ex.map(send, range(1, PARTS + 1)))
            s3.complete_multipart_upload(Bucket="big", Key="5g", UploadId=up,
                                         MultipartUpload={"Parts": parts})
            secs = time.time() - t0
        size = s3.head_object(Bucket="big", Key="5g")["ContentLength"]
        print(f"5 GiB multipart upload: {size} bytes in {secs:.1f} s "
              f"({size / secs / 1e6:.0f} MB/s); server peak RSS {rss.peak / 1e6:.1f} MB")
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
