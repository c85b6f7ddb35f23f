"""Policy.decide() cost for a 20-statement bucket policy (pure, no server).

The policy is parsed once (as the server does at PutBucketPolicy and keeps per bucket);
each decide() then looks only at the statements its action's index entry names. Prints the
median time of one decide() for a few kinds of request, and the parse time.

    PYTHONPATH=src python bench/policy_eval.py [--rounds 7] [--n 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from objectstore.s3.policy import ANONYMOUS, Ask, Caller, parse_bucket_policy

BUCKET = "bench-bucket"
ACCOUNT = "111122223333"
OBJECT_ACTIONS = ("PutObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl",
                  "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", "RestoreObject",
                  "GetObjectRetention", "PutObjectRetention", "GetObjectLegalHold",
                  "PutObjectLegalHold", "AbortMultipartUpload", "ListMultipartUploadParts",
                  "GetObjectAttributes", "DeleteObjectVersion", "GetObjectVersion")


def twenty_statements() -> str:
    statements: list[dict[str, Any]] = [
        {"Sid": a, "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": f"s3:{a}",
         "Resource": f"arn:aws:s3:::{BUCKET}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}
        for a in OBJECT_ACTIONS]
    statements.append({"Sid": "list", "Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                       "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}",
                       "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}})
    statements.append({"Sid": "public", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/public/*"})
    statements.append({"Sid": "tls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert len(statements) == 20
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def context(keys: dict[str, Sequence[str]]) -> Callable[[str], Sequence[str] | None]:
    return keys.get


def median_ns(fn: Callable[[], object], n: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter_ns() - start) / n)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    text = twenty_statements()
    parse_ns = median_ns(lambda: parse_bucket_policy(text, BUCKET), 200, args.rounds)
    policy = parse_bucket_policy(text, BUCKET)
    alice = Caller(ACCOUNT, "a" * 64, f"arn:aws:iam::{ACCOUNT}:user/alice", "alice")
    keys = context({"aws:securetransport": ["true"], "aws:sourceip": ["10.1.2.3"],
                    "s3:prefix": ["home/alice/docs/"]})
    cases = {
        "GetObject, anonymous, public/ (Allow)":
            Ask(ANONYMOUS, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/public/a.txt", keys),
        "GetObject, anonymous, private (no match)":
            Ask(ANONYMOUS, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/private/a.txt", keys),
        "PutObject, account user, IP condition (Allow)":
            Ask(alice, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/a.txt", keys),
        "ListBucket, user, ${aws:username} prefix (Allow)":
            Ask(alice, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", keys),
        "GetBucketAcl (only the Deny statement applies)":
            Ask(alice, "s3:GetBucketAcl", f"arn:aws:s3:::{BUCKET}", keys),
    }
    print(f"parse 20-statement policy: {parse_ns / 1000:.1f} us")
    for name, item in cases.items():
        examined = len(policy.candidates(item.action))
        ns = median_ns(lambda item=item: policy.decide(item), args.n, args.rounds)
        print(f"decide {name}: {ns / 1000:.2f} us ({examined} of 20 statements examined, "
              f"answer {policy.decide(item)})")


if __name__ == "__main__":
    main()
