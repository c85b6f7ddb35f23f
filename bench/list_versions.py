"""ListObjectVersions page cost against bucket size: 10^4 versus 10^6 versions.

Fills a fresh metadata store directly (no HTTP: filling 10^6 versions through PUTs would
take most of an hour) with keys holding two versions each — a noncurrent version and the
current object in ``objects`` or, for every fifth key, a second noncurrent version under a
delete marker — then
times 1000-entry pages through the server's own code path (storage scan + the pure
paginator) at the start, in the middle (key-marker + version-id-marker) and at the end,
with and without a delimiter. A page is index range scans merged in key/seq order, so it
should cost the same at both sizes.

    PYTHONPATH=src python bench/list_versions.py [--sizes 10000,1000000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Iterator

from objectstore.s3.versioning import versions_page
from objectstore.storage import versions
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.versions import Version

BUCKET = "bench-versions"


def fill(meta: SqliteMeta, n_versions: int) -> None:
    keys = n_versions * 5 // 11  # 2.2 versions per key on average

    def txn(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO buckets (name, account_id, created, region, acl, versioning) "
                  "VALUES (?, 'a', 0, 'us-east-1', '{}', 'Enabled')", (BUCKET,))
        cols = versions.WITH_DATA
        seq = 0
        batch_o: list[tuple[object, ...]] = []
        batch_v: list[tuple[object, ...]] = []

        def row(key: str, seq: int, vid: str, marker: bool) -> tuple[object, ...]:
            return (BUCKET, key, 0 if marker else 100, "" if marker else '"e"', 1.7e9, "a",
                    "{}", "{}", "{}", None, "[]", 0, None, vid, seq, None, None, 0, None,
                    None)

        for i in range(keys):
            key = f"k/{i:07d}"
            seq += 1
            batch_v.append((*row(key, seq, versions.new_version_id(), False), 0))
            seq += 1
            if i % 5 == 0:  # a noncurrent version, then a delete marker on top
                batch_v.append((*row(key, seq, versions.new_version_id(), False), 0))
                seq += 1
                batch_v.append((*row(key, seq, versions.new_version_id(), True), 1))
            else:  # the current version
                batch_o.append(row(key, seq, versions.new_version_id(), False))
            if len(batch_v) > 50_000:
                _flush(c, cols, batch_o, batch_v)
        _flush(c, cols, batch_o, batch_v)
        c.execute("INSERT OR REPLACE INTO counters VALUES ('seq', ?)", (seq,))
    meta.run(txn)


def _flush(c: sqlite3.Connection, cols: str, objs: list[tuple[object, ...]],
           vers: list[tuple[object, ...]]) -> None:
    c.executemany(f"INSERT OR IGNORE INTO objects ({cols}) VALUES ({versions.MARKS})", objs)
    c.executemany(f"INSERT OR IGNORE INTO versions ({cols}, is_marker) "
                  f"VALUES ({versions.MARKS}, ?)", vers)
    objs.clear()
    vers.clear()


def page_ms(meta: SqliteMeta, key_marker: str, vid_marker: str | None, delimiter: str,
            prefix: str = "") -> float:
    seq = None
    if vid_marker is not None:
        seq = meta.version_seq(BUCKET, key_marker, vid_marker)

    def scan(after: bytes, after_seq: int | None) -> Iterator[Version]:
        return meta.scan_versions(BUCKET, prefix, after, after_seq, batch=1001)

    t0 = time.perf_counter()
    page = versions_page(scan, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
                         marker_seq=seq, max_keys=1000)
    ms = (time.perf_counter() - t0) * 1000
    assert page.entries or page.common_prefixes
    return ms


def measure(n: int, workdir: Path, repeats: int) -> dict[str, float]:
    meta = SqliteMeta(workdir / f"meta-{n}-{time.monotonic_ns()}.sqlite3", fsync=False)
    try:
        t0 = time.perf_counter()
        fill(meta, n)
        fill_s = time.perf_counter() - t0
        keys = n * 5 // 11
        mid = f"k/{keys // 2:07d}"
        row = meta.reader().execute(
            "SELECT version_id FROM versions WHERE bucket=? AND key=? ORDER BY seq DESC "
            "LIMIT 1", (BUCKET, mid)).fetchone()
        cases = {
            "first page": ("", None, ""),
            "middle (key + version-id marker)": (mid, row[0], ""),
            "last page": (f"k/{keys - 300:07d}", None, ""),
            "delimiter '/' (one common prefix)": ("", None, "/"),
        }
        out = {"fill_s": round(fill_s, 1)}
        for name, (km, vm, delim) in cases.items():
            out[name] = round(statistics.median(
                page_ms(meta, km, vm, delim) for _ in range(repeats)), 2)
        return out
    finally:
        meta.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {f"{s} versions (run {i + 1})": measure(int(s), Path(tmp), args.repeats)
                   for i, s in enumerate(args.sizes.split(","))}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
