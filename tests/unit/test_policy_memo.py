"""A condition's remembered answers: right for every value, bounded, and never used for
conditions whose values hold policy variables."""

from __future__ import annotations

import json

from objectstore.s3 import policy as pol
from objectstore.s3.policy_conditions import MEMO_ENTRIES, MEMO_VALUE_CHARS


def _policy(condition: dict[str, object]) -> pol.Policy:
    return pol.parse_bucket_policy(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*", "Condition": condition}]}), "b")


def _ask(values: dict[str, list[str]], user: str | None = None) -> pol.Ask:
    caller = pol.Caller("111122223333", arn=None, user=user) if user else pol.ANONYMOUS
    return pol.Ask(caller, "s3:GetObject", "arn:aws:s3:::b/k", lambda k: values.get(k))


def test_answers_stay_right_when_values_alternate() -> None:
    p = _policy({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    for _ in range(3):
        assert p.decide(_ask({"aws:sourceip": ["10.1.2.3"]})) == "Allow"
        assert p.decide(_ask({"aws:sourceip": ["192.0.2.1"]})) is None
        assert p.decide(_ask({})) is None


def test_memo_is_bounded_and_skips_long_values() -> None:
    p = _policy({"StringLike": {"aws:UserAgent": "good-*"}})
    memo = p.statements[0].conditions[0].memo
    assert memo is not None
    for i in range(MEMO_ENTRIES * 3):
        assert p.decide(_ask({"aws:useragent": [f"good-{i}"]})) == "Allow"
        assert p.decide(_ask({"aws:useragent": [f"bad-{i}"]})) is None
    assert len(memo) == MEMO_ENTRIES
    long = "good-" + "x" * MEMO_VALUE_CHARS
    memo.clear()
    assert p.decide(_ask({"aws:useragent": [long]})) == "Allow"
    assert not memo


def test_no_memo_for_policy_variables() -> None:
    p = _policy({"StringEquals": {"aws:Referer": "https://${aws:username}.example/"}})
    assert p.statements[0].conditions[0].memo is None
    seen = {"aws:referer": ["https://ann.example/"]}
    assert p.decide(_ask(seen, user="ann")) == "Allow"
    assert p.decide(_ask(seen, user="bob")) is None
