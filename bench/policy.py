"""objectstore with a bucket policy: 4 KiB GET from a bucket with a 20-statement policy vs
from a bucket without one (issue #11: a policy must add less than 10%).

    python bench/policy.py                 # 7 rounds of 4 s per mode (~1 min)
    python bench/policy.py --quick         # 3 rounds of 2 s
    python bench/policy.py --out /tmp/p.md

One objectstore (fsync on) serves both buckets; the caller is an ordinary user of the
owning account (not an admin, whom no policy concerns). Without a policy its GET takes the
fast path (no parse, no context); with one every GET is evaluated: the parsed policy comes
from the memo, the statements indexed under s3:GetObject are matched, conditions read the
request. Two policies: statements spread over the actions a policy typically covers (two
apply to a GET), and the worst case (every statement names s3:GetObject, 16 of them with
another account's users as principals and tag conditions). The modes are interleaved round
by round (15 rounds of 2 s); rates are medians, "time per GET" the median over rounds of
each round's ratio to the same round's no-policy run, and the server's CPU time per GET
(from /proc, what the machine's other load disturbs least) the median of the rounds. One
keep-alive connection sends presigned GETs back to back. The last mode reads the policy
bucket anonymously through its public-prefix statement (no signature to check, hence
faster than a signed GET).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Target, conn, cpu_seconds, emit_table, ensure_bucket, request, scratch  # noqa: E402
from servers import Server  # noqa: E402

OBJECTS = 200


def policy_20(bucket: str, other: str) -> str:
    """20 statements of the kinds real policies have: denials with conditions, grants to
    other accounts, a public prefix, TLS and IP rules, tag conditions."""
    arn, objs = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"
    st = [
        {"Sid": "PublicPrefix", "Effect": "Allow", "Principal": "*",
         "Action": "s3:GetObject", "Resource": f"{arn}/public/*"},
        {"Sid": "DenyNoTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, objs], "Condition": {"Bool": {"aws:SecureTransport": "false"},
                                                 "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Sid": "DenyUnencryptedPuts", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": objs,
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"},
                       "StringEquals": {"s3:x-amz-acl": "public-read-write"}}},
        {"Sid": "PartnerList", "Effect": "Allow", "Principal": {"AWS": other},
         "Action": "s3:ListBucket", "Resource": arn,
         "Condition": {"StringLike": {"s3:prefix": ["shared/*", "exchange/*"]}}},
    ]
    for i in range(16):
        st.append({"Sid": f"Partner{i}", "Effect": "Allow",
                   "Principal": {"AWS": f"arn:aws:iam::{other}:user/partner-{i}"},
                   "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                   "Resource": f"{arn}/partners/{i}/*",
                   "Condition": {"StringEquals": {"s3:ExistingObjectTag/team": f"t{i}"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": st})


def policy_spread(bucket: str, other: str) -> str:
    """20 statements spread over the actions a bucket's policy typically covers: two apply
    to every GET (a public prefix, a TLS / source-address denial), the rest name other
    actions."""
    arn, objs = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"
    doc = json.loads(policy_20(bucket, other))
    st = doc["Statement"][:2]
    bucket_level = ["s3:ListBucket", "s3:GetBucketAcl", "s3:ListBucketVersions",
                    "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetBucketCORS",
                    "s3:GetLifecycleConfiguration", "s3:GetBucketVersioning"]
    object_level = ["s3:PutObject", "s3:DeleteObject", "s3:GetObjectTagging",
                    "s3:PutObjectTagging", "s3:GetObjectAcl", "s3:PutObjectAcl",
                    "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
                    "s3:DeleteObjectVersion", "s3:RestoreObject"]
    for i, action in enumerate(bucket_level + object_level):
        st.append({"Sid": f"Partner{i}", "Effect": "Allow",
                   "Principal": {"AWS": f"arn:aws:iam::{other}:user/partner-{i}"},
                   "Action": action, "Resource": arn if action in bucket_level else objs})
    return json.dumps({"Version": "2012-10-17", "Statement": st})


def gets(t: Target, bucket: str, prefix: str, seconds: float, signed: bool,
         pid: int) -> tuple[float, float]:
    """GETs per second and server CPU microseconds per GET."""
    urls = [t.presign("GET", bucket, f"{prefix}{i}") if signed else f"/{bucket}/{prefix}{i}"
            for i in range(OBJECTS)]
    c = conn(t)
    try:
        n, start, cpu = 0, time.perf_counter(), cpu_seconds(pid)
        while time.perf_counter() - start < seconds:
            st, size, _ = request(c, "GET", urls[n % OBJECTS])
            assert st == 200 and size == 4096, st
            n += 1
        return n / (time.perf_counter() - start), (cpu_seconds(pid) - cpu) / n * 1e6
    finally:
        c.close()


def _admin(data_dir: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "objectstore", *args, "--data-dir",
                           str(data_dir)], check=True, capture_output=True, text=True).stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    seconds = 1.0 if args.quick else 2.0
    work = scratch("bench-policy-")
    srv = Server("objectstore", "objectstore", work)
    srv.start()
    policies = {"bench-spread": policy_spread, "bench-policy": policy_20}
    modes = {"no policy": ("bench-plain", "obj/", True),
             "20 statements, 2 on s3:GetObject": ("bench-spread", "obj/", True),
             "20 statements, 20 on s3:GetObject": ("bench-policy", "obj/", True),
             "20 statements, anonymous (public prefix)": ("bench-policy", "public/", False)}
    results: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    try:
        assert srv.data_dir is not None
        _admin(srv.data_dir, "account", "create", "bench-team")
        _admin(srv.data_dir, "user", "create", "bench-user", "--account", "bench-team")
        keys = dict(line.split(": ", 1) for line in _admin(
            srv.data_dir, "key", "create", "bench-user").strip().splitlines())
        admin_t = srv.target
        t = Target(admin_t.name, admin_t.port, keys["access key"], keys["secret key"])
        body = os.urandom(4096)
        c = conn(t)
        for bucket in ("bench-plain", *policies):
            ensure_bucket(t, bucket)
            for prefix in ("obj/", "public/"):
                for i in range(OBJECTS):
                    st, _, _ = request(c, "PUT", t.presign("PUT", bucket, f"{prefix}{i}"),
                                       body, {"Content-Length": "4096"})
                    assert st == 200, st
        for bucket, make in policies.items():
            text = make(bucket, "123456789012").encode()
            assert len(json.loads(text)["Statement"]) == 20
            st, _, out = request(c, "PUT", t.presign("PUT", bucket, params={"policy": ""}),
                                 text, {"Content-Length": str(len(text))})
            assert st == 204, (st, out[:300])
        c.close()
        for r in range(rounds):
            for mode, (bucket, prefix, signed) in modes.items():
                rate, us = gets(t, bucket, prefix, seconds, signed, srv.pid)
                results[mode].append(rate)
                cpu[mode].append(us)
                print(f"round {r + 1} {mode}: {rate:,.0f} GET/s, {us:.0f} µs server CPU "
                      "per GET", flush=True)
    finally:
        srv.stop()
    med = {m: statistics.median(v) for m, v in results.items()}
    med_cpu = {m: statistics.median(v) for m, v in cpu.items()}
    # per round, time per GET against the same round's no-policy run (paired), median
    paired = {m: statistics.median(b / r - 1 for b, r in zip(results["no policy"], v,
                                                              strict=True))
              for m, v in results.items()}
    base_cpu = med_cpu["no policy"]
    lines = ["| bucket | 4 KiB GET /s | time per GET vs no policy (paired) | server CPU µs "
             "per GET | CPU vs no policy |", "|---|---|---|---|---|"]
    for mode, rate in med.items():
        lines.append(f"| {mode} | {rate:,.0f} | {100 * paired[mode]:+.1f}% | "
                     f"{med_cpu[mode]:.0f} | {100 * (med_cpu[mode] / base_cpu - 1):+.1f}% |")
    emit_table(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
