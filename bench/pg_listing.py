"""A 1,000-key ListObjectsV2 page of one PostgreSQL gateway as the bucket grows 10^4 -> 10^6.

    python bench/pg_listing.py                     # OBJECTSTORE_TEST_PG_URL, or a private
    python bench/pg_listing.py --sizes 10000,100000 --pages 40

The bucket is filled by inserting object rows straight into the database (a million PUTs
would take the machine an hour; a listing reads only rows), then the change stamps are
moved so the gateway's caches see them. At each size it times ``--pages`` page requests
through the server: the first page, and pages starting after random keys (``StartAfter``:
an index range scan from the middle), one keep-alive connection. Issue 12 asks that a page
costs the same from 10^4 to 10^6 keys (keys are ``COLLATE "C"``, the primary key is
(bucket, key)).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from common import conn, ensure_bucket, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

import pgtest  # noqa: E402

BUCKET = "bench-list"


def key_of(i: int) -> str:
    # fixed width: byte order is i's order, so a page after key i holds 1,000 keys
    return f"data/object-{i:09d}.bin"


def fill(url: str, start: int, stop: int, owner: str, acl: str) -> None:
    import psycopg

    empty = json.dumps({})
    with psycopg.connect(url) as pg, pg.cursor() as cur:
        with cur.copy("COPY objects (bucket, key, size, etag, mtime, owner, acl, headers, "
                      "checksums, segments) FROM STDIN") as copy:
            now = time.time()
            for i in range(start, stop):
                copy.write_row((BUCKET, key_of(i), 4096, '"0f343b0931126a20f133d67c2b018a3b"',
                                now, owner, acl, empty, empty, "[]"))
        cur.execute("SELECT nextval('changes'), nextval('config_changes')")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--pages", type=int, default=40)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    cluster = pgtest.start()
    url = cluster.new_database("list")
    os.environ["PYTHONPATH"] = str(HERE.parent / "src")
    os.environ["OBJECTSTORE_META_URL"] = url
    srv = Server("objectstore", "objectstore", scratch("bench-list-"))
    srv.start()
    rows: list[tuple[int, float, float]] = []
    try:
        t = srv.target
        ensure_bucket(t, BUCKET)
        import psycopg

        with psycopg.connect(url) as pg:
            found = pg.execute("SELECT acl, account_id FROM buckets WHERE name = %s",
                               (BUCKET,)).fetchone()
        assert found is not None
        acl, owner = found
        c = conn(t)
        have = 0
        rng = random.Random(12)
        for size in sizes:
            started = time.perf_counter()
            fill(url, have, size, owner, acl)
            print(f"{size:,} keys (filled in {time.perf_counter() - started:.0f} s)",
                  flush=True)
            have = size
            first: list[float] = []
            middle: list[float] = []
            for p in range(args.pages):
                after = "" if p % 2 == 0 else key_of(rng.randrange(size - 1000))
                query = {"list-type": "2", "max-keys": "1000"}
                if after:
                    query["start-after"] = after
                u = t.presign("GET", BUCKET, "", params=query)
                t0 = time.perf_counter()
                st, _, body = request(c, "GET", u)
                took = (time.perf_counter() - t0) * 1000
                assert st == 200, (st, body[:300])
                assert body.count(b"<Key>") == 1000, body[:300]
                (middle if after else first).append(took)
            rows.append((size, statistics.median(first), statistics.median(middle)))
            print(f"  page of 1,000: first {rows[-1][1]:.1f} ms, from the middle "
                  f"{rows[-1][2]:.1f} ms (medians of {args.pages // 2})", flush=True)
    finally:
        srv.stop()
        os.environ.pop("OBJECTSTORE_META_URL", None)
        cluster.stop()
    print("\n| keys in the bucket | first page | page after a random key |")
    print("|---|---|---|")
    for size, a, b in rows:
        print(f"| {size:,} | {a:.1f} ms | {b:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
