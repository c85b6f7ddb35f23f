"""s3/conditions.py: the condition keys a request offers a policy, computed when asked."""

from __future__ import annotations

from objectstore.s3 import conditions
from objectstore.s3.conditions import Facts


def facts(**kw: object) -> Facts:
    base: dict[str, object] = {
        "method": "PUT", "query": (("prefix", "logs/"), ("max-keys", "10")),
        "headers": {"user-agent": "boto3", "referer": "http://www.example.com/",
                    "authorization": "AWS4-HMAC-SHA256 Credential=...",
                    "x-amz-acl": "bucket-owner-full-control",
                    "x-amz-grant-read": 'id="abc"',
                    "x-amz-server-side-encryption": "aws:kms",
                    "x-amz-copy-source": "/src/a%20b?versionId=1",
                    "x-amz-tagging": "Project=blue&team=a",
                    "x-amz-object-lock-mode": "GOVERNANCE",
                    "x-amz-object-lock-retain-until-date": "2030-01-01T00:00:00Z",
                    "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
        "source_ip": "10.1.2.3", "secure": True, "now": 1_700_000_000.0,
        "account": "123456789012", "user": "alice", "userid": "alice"}
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def test_global_keys() -> None:
    get = conditions.context(facts())
    assert get("aws:sourceip") == ["10.1.2.3"]
    assert get("aws:securetransport") == ["true"]
    assert get("aws:epochtime") == ["1700000000"]
    assert get("aws:currenttime") == ["2023-11-14T22:13:20Z"]
    assert get("aws:useragent") == ["boto3"]
    assert get("aws:referer") == ["http://www.example.com/"]
    assert get("aws:principalaccount") == ["123456789012"]
    assert get("aws:principalarn") == ["arn:aws:iam::123456789012:user/alice"]
    assert get("aws:username") == ["alice"]
    assert get("aws:sourcearn") is None


def test_s3_keys() -> None:
    get = conditions.context(facts())
    assert get("s3:prefix") == ["logs/"]
    assert get("s3:max-keys") == ["10"]
    assert get("s3:delimiter") is None
    assert get("s3:x-amz-acl") == ["bucket-owner-full-control"]
    assert get("s3:x-amz-grant-read") == ['id="abc"']
    assert get("s3:x-amz-grant-write") is None
    assert get("s3:x-amz-server-side-encryption") == ["aws:kms"]
    assert get("s3:x-amz-copy-source") == ["src/a b"]
    assert get("s3:requestobjecttag/project") == ["blue"]
    assert get("s3:requestobjecttagkeys") == ["Project", "team"]
    assert get("s3:object-lock-mode") == ["GOVERNANCE"]
    assert get("s3:object-lock-remaining-retention-days") is not None
    assert get("s3:signatureversion") == ["AWS4-HMAC-SHA256"]
    assert get("s3:authtype") == ["REST-HEADER"]
    assert get("s3:x-amz-content-sha256") == ["UNSIGNED-PAYLOAD"]


def test_anonymous_and_presigned() -> None:
    get = conditions.context(facts(headers={}, account=None, user=None, userid=None,
                                   query=(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),)))
    assert get("aws:principalaccount") is None
    assert get("aws:principaltype") == ["Anonymous"]
    assert get("s3:authtype") == ["REST-QUERY-STRING"]
    assert conditions.context(facts(headers={}, query=()))("s3:authtype") is None


def test_existing_tags_read_only_when_asked() -> None:
    asked: list[int] = []

    def tags() -> tuple[tuple[str, str], ...]:
        asked.append(1)
        return (("Team", "t1"),)

    get = conditions.context(facts(existing_tags=tags))
    assert get("s3:prefix") == ["logs/"] and not asked
    assert get("s3:existingobjecttag/team") == ["t1"] and asked


def test_lazy_builds_facts_once_and_only_when_asked() -> None:
    built: list[int] = []

    def build() -> Facts:
        built.append(1)
        return facts()

    get = conditions.lazy(build)
    assert not built
    assert get("aws:sourceip") == ["10.1.2.3"]
    assert get("s3:prefix") == ["logs/"]
    assert built == [1]


def test_extra_keys_from_the_handler() -> None:
    get = conditions.context(facts(extra={"s3:prefix": ["public/object"]}))
    assert get("s3:prefix") == ["public/object"]
