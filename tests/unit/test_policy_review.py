"""Review of the policy language (s3/policy*.py): one failing-first test per bug found.

Each test names what went wrong before its fix; the pathological-input tests run the
evaluation in a child process with a time limit, so that a regression fails instead of
hanging the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from functools import lru_cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3.errors import S3Error
from objectstore.s3.policy import (
    ANONYMOUS,
    Ask,
    Caller,
    parse_bucket_policy,
    parse_identity_policy,
)
from objectstore.s3.policy_match import compile_pattern

ALICE = Caller("111122223333", "a" * 64, "arn:aws:iam::111122223333:user/alice", "alice")


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _finishes(code: str, seconds: float = 10.0) -> str:
    """Run ``code`` in a fresh interpreter; fail (not hang) when it takes too long."""
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True,
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"did not finish within {seconds} s") from None
    return done.stdout.strip()


# --- wildcard matching must not backtrack exponentially ------------------------------------

_PRELUDE = """
    import json, time
    from objectstore.s3.policy import ANONYMOUS, Ask, parse_bucket_policy, parse_identity_policy
"""


def test_resource_wildcards_are_not_exponential() -> None:
    # Before: the Resource pattern became the regex a.*a.*...b, and matching it against a key
    # of a's backtracked through every split (hours for this 1 KiB key).
    out = _finishes(_PRELUDE + """
    star = "arn:aws:s3:::b/" + "a*" * 40 + "b"
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
           "Action": "s3:GetObject", "Resource": star}]}
    pol = parse_bucket_policy(json.dumps(doc), "b")
    t = time.monotonic()
    miss = pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/" + "a" * 1024))
    hit = pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/" + "a" * 1023 + "b"))
    print(miss, hit, time.monotonic() - t < 2)
    """)
    assert out == "None Allow True"


def test_string_like_and_arn_like_are_not_exponential() -> None:
    out = _finishes(_PRELUDE + """
    pat = "a*" * 40 + "b"
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
           "Resource": "*", "Condition": {
               "StringLike": {"s3:prefix": pat},
               "ArnLike": {"aws:sourcearn": "arn:aws:s3:::" + pat}}}]}
    pol = parse_identity_policy(json.dumps(doc))
    keys = {"s3:prefix": ["a" * 1023 + "b"], "aws:sourcearn": ["arn:aws:s3:::" + "a" * 1024]}
    t = time.monotonic()
    got = pol.decide(Ask(ANONYMOUS, "s3:ListBucket", "arn:aws:s3:::b", keys.get))
    keys["aws:sourcearn"] = ["arn:aws:s3:::" + "a" * 1023 + "b"]
    got2 = pol.decide(Ask(ANONYMOUS, "s3:ListBucket", "arn:aws:s3:::b", keys.get))
    print(got, got2, time.monotonic() - t < 2)
    """)
    assert out == "None Allow True"


def test_resource_variables_with_wildcards_are_not_exponential() -> None:
    out = _finishes(_PRELUDE + """
    from objectstore.s3.policy import Caller
    alice = Caller("111122223333", None, None, "alice")
    res = "arn:aws:s3:::b/${aws:username}/" + "a*" * 40 + "b"
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
           "Resource": res}]}
    pol = parse_identity_policy(json.dumps(doc))
    t = time.monotonic()
    miss = pol.decide(Ask(alice, "s3:GetObject", "arn:aws:s3:::b/alice/" + "a" * 1024))
    hit = pol.decide(Ask(alice, "s3:GetObject", "arn:aws:s3:::b/alice/" + "a" * 1023 + "b"))
    print(miss, hit, time.monotonic() - t < 2)
    """)
    assert out == "None Allow True"


def test_action_wildcards_are_not_exponential() -> None:
    # Before: the parser checked an Action pattern against the action catalog with the same
    # backtracking regex, so this document took hours to parse.
    out = _finishes(_PRELUDE + """
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
           "Action": "s3:" + "*?" * 30 + "*q", "Resource": "*"}]}
    t = time.monotonic()
    try:
        parse_identity_policy(json.dumps(doc))
        print("parsed", time.monotonic() - t < 2)
    except Exception as e:
        print(type(e).__name__, time.monotonic() - t < 2)
    """)
    assert out == "S3Error True"


def _glob_reference(pattern: str, text: str) -> bool:
    """``*`` any run, ``?`` any one character: dynamic programming, obviously right."""
    @lru_cache(maxsize=None)
    def at(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return at(i + 1, j) or (j < len(text) and at(i, j + 1))
        return j < len(text) and pattern[i] in ("?", text[j]) and at(i + 1, j + 1)
    return at(0, 0)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab*?.\n", max_size=9), st.text(alphabet="ab.*?\n", max_size=9))
def test_wildcards_agree_with_a_reference_matcher(pattern: str, text: str) -> None:
    assert compile_pattern(pattern).match(text) == _glob_reference(pattern, text)
    # the same pattern with a variable in the middle, resolved to a literal "a*"
    cut = len(pattern) // 2
    with_var = pattern[:cut] + "${aws:username}" + pattern[cut:]
    literal = pattern[:cut] + "a${*}" + pattern[cut:]
    got = compile_pattern(with_var).match(text, {"aws:username": "a*"}.get)
    assert got == compile_pattern(literal).match(text)


# --- JSON the parser must refuse (MalformedPolicy, never another exception) ------------------

def _malformed(text: str, message: str | None = None) -> None:
    for parse in (lambda t: parse_bucket_policy(t, "b"), parse_identity_policy):
        with pytest.raises(S3Error) as got:
            parse(text)
        assert got.value.code == "MalformedPolicy"
        if message is not None:
            assert got.value.message == message


def test_lone_surrogate_is_malformed_not_a_crash() -> None:
    # Before: the bucket policy's size check encoded the document as UTF-8 and raised
    # UnicodeEncodeError (a 500) on a lone surrogate escape.
    statement = ('{"Sid":"%s","Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
                 '"Resource":"arn:aws:s3:::b/*"}')
    for sid in ("\\ud800", "x\\udfff", "\\uDBFF"):
        text = '{"Version":"2012-10-17","Statement":[' + statement % sid + "]}"
        for parse in (lambda t: parse_bucket_policy(t, "b"),
                      lambda t: parse_identity_policy(t.replace('"Principal":"*",', ""))):
            with pytest.raises(S3Error) as got:
                parse(text)
            assert got.value.message == "This policy contains invalid Json"
    # a proper pair is one character, and fine
    ok = '{"Version":"2012-10-17","Statement":[' + statement % "\\ud83d\\ude00" + "]}"
    assert parse_bucket_policy(ok, "b").statements[0].sid == "\U0001F600"


def test_non_standard_json_constants_are_invalid_json() -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        _malformed('{"Version":"2012-10-17","Statement":[{"Sid":%s}]}' % constant,
                   "This policy contains invalid Json")


def test_duplicate_keys_are_malformed() -> None:
    # Before: Python's json kept the last of two keys, so this document (which a reader may
    # well take for a Deny) allowed.
    text = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
            '"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Effect":"Allow"}]}')
    _malformed(text)
    _malformed(text.replace('"Effect":"Deny",', '"Effect":"Allow",', 1)
               .replace('"Effect":"Allow"}', '"Action":"s3:PutObject"}'))
    cond = ('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
            '"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":'
            '{"StringEquals":{"aws:SourceVpc":"vpc-1","aws:SourceVpc":"vpc-2"}}}]}')
    _malformed(cond)


def test_condition_keys_differing_in_case_only_are_malformed() -> None:
    # IAM: "The condition key appears more than once with different capitalization in the
    # same condition block" is an error; before, both were kept and ANDed, so a Deny meant
    # for either VPC denied neither.
    text = _doc({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {
                     "aws:SourceVpc": "vpc-1", "AWS:sourcevpc": "vpc-2"}}})
    _malformed(text)


# --- evaluation ------------------------------------------------------------------------------

def test_context_answering_a_string_is_one_value() -> None:
    # Ask.context should give a sequence of values; a plain string is a Sequence[str] too,
    # and before it was taken character by character, so "vpce-1" satisfied
    # StringEquals "v" (and StringNotEquals "vpce-1" held).
    pol = parse_identity_policy(_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceVpce": "v"}}},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}))
    keys = {"aws:sourcevpce": "vpce-1"}
    assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/k", keys.get)) is None
    keys["aws:sourcevpce"] = "v"
    assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/k", keys.get)) == "Deny"


def test_user_arn_with_account_id_does_not_name_an_account_called_like_it() -> None:
    # Objectstore's extension lets a user ARN name an account by its objectstore name when the
    # account part is not 12 digits. Before, the ids and the names were kept in one set, so an
    # account *named* "111122223333" (names are free text) had its user bob named by
    # arn:aws:iam::111122223333:user/bob, an ARN for account id 111122223333's bob.
    for element in ("Principal", "NotPrincipal"):
        effect = "Allow" if element == "Principal" else "Deny"
        pol = parse_bucket_policy(_doc({
            "Effect": effect, element: {"AWS": "arn:aws:iam::111122223333:user/bob"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}), "b")
        impostor = Caller("999988887777", "c" * 64, "arn:aws:iam::999988887777:user/bob",
                          "bob", account_name="111122223333")
        real = Caller("111122223333", "d" * 64, "arn:aws:iam::111122223333:user/bob", "bob")
        got = pol.decide(Ask(impostor, "s3:GetObject", "arn:aws:s3:::b/k"))
        assert got == (None if effect == "Allow" else "Deny")
        if effect == "Allow":
            assert pol.decide(Ask(real, "s3:GetObject", "arn:aws:s3:::b/k")) == "Allow"
    # the extension itself still works for names that are not 12 digits
    pol = parse_bucket_policy(_doc({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::tenant1:user/bob"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}), "b")
    tenant_bob = Caller("999988887777", "c" * 64, None, "bob", account_name="tenant1")
    assert pol.decide(Ask(tenant_bob, "s3:GetObject", "arn:aws:s3:::b/k")) == "Allow"


def test_ipv4_mapped_networks_in_a_policy_match_ipv4_callers() -> None:
    # The evaluator reads a dual-stack socket's ::ffff:a.b.c.d as the IPv4 address it is;
    # before, a policy network written the same way (as such addresses appear in logs) was
    # kept as IPv6 and so matched no request at all: this Deny denied nobody.
    pol = parse_bucket_policy(_doc({
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {"IpAddress": {"aws:SourceIp": ["::ffff:10.0.0.0/104",
                                                      "::ffff:192.0.2.7"]}}}), "b")
    for address, want in (("10.1.2.3", "Deny"), ("::ffff:10.1.2.3", "Deny"),
                          ("192.0.2.7", "Deny"), ("11.0.0.1", None), ("2001:db8::1", None)):
        keys = {"aws:sourceip": [address]}
        assert pol.decide(Ask(ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/k", keys.get)) == want


def test_ipv4_mapped_networks_count_as_ipv4_for_is_public() -> None:
    def public(cidr: str) -> bool:
        return parse_bucket_policy(_doc({
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}), "b").public
    assert public("::ffff:0.0.0.0/96")  # every IPv4 address
    assert public("::ffff:0.0.0.0/100")  # an IPv4 /4
    assert not public("::ffff:10.0.0.0/104")  # an IPv4 /8
    assert not public("10.0.0.0/8")
    assert public("0.0.0.0/1")
