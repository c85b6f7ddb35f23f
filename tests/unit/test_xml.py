"""xml: golden renderer output (parsed back), and the request-body parsers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import unquote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectstore.s3 import xml
from objectstore.s3.acl import ALL_USERS, AUTHENTICATED_USERS, Acl, Grant
from objectstore.s3.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
N = f"{{{NS}}}"


def tags(node: ET.Element) -> list[str]:
    return [c.tag.replace(N, "") for c in node]


def parse(body: bytes) -> ET.Element:
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(body)


# ------------------------------------------------------------------ renderers

def test_error_document() -> None:
    body = xml.error("NoSuchKey", "The specified key does not exist.",
                     {"Key": "a<b>&c", "BucketName": "bkt"}, "REQ123", "HOST456")
    root = parse(body)
    assert root.tag == "Error"  # S3 error documents carry no namespace
    assert tags(root) == ["Code", "Message", "Key", "BucketName", "RequestId", "HostId"]
    assert [c.text for c in root] == ["NoSuchKey", "The specified key does not exist.",
                                      "a<b>&c", "bkt", "REQ123", "HOST456"]


def test_list_buckets() -> None:
    body = xml.list_buckets("owner-id", "owner & co", [
        ("bucket-a", "2019-10-12T17:50:30.000Z", "us-east-1"),
        ("bucket-b", "2020-01-01T00:00:00.000Z", "eu-west-1"),
    ])
    root = parse(body)
    assert root.tag == N + "ListAllMyBucketsResult"
    assert tags(root) == ["Owner", "Buckets"]
    owner = root.find(N + "Owner")
    assert owner is not None
    assert tags(owner) == ["ID", "DisplayName"]
    assert owner.findtext(N + "ID") == "owner-id"
    assert owner.findtext(N + "DisplayName") == "owner & co"
    buckets = root.findall(f"{N}Buckets/{N}Bucket")
    assert [tags(b) for b in buckets] == [["Name", "CreationDate", "BucketRegion"]] * 2
    assert [(b.findtext(N + "Name"), b.findtext(N + "CreationDate"),
             b.findtext(N + "BucketRegion")) for b in buckets] == [
        ("bucket-a", "2019-10-12T17:50:30.000Z", "us-east-1"),
        ("bucket-b", "2020-01-01T00:00:00.000Z", "eu-west-1"),
    ]


def test_list_buckets_empty() -> None:
    root = parse(xml.list_buckets("o", "o", []))
    buckets = root.find(N + "Buckets")
    assert buckets is not None and list(buckets) == []


def test_location() -> None:
    root = parse(xml.location("us-east-1"))
    assert root.tag == N + "LocationConstraint" and not root.text
    assert parse(xml.location("eu-west-1")).text == "eu-west-1"


def _obj(key: str, **kw: object) -> xml.ListedObject:
    args: dict[str, object] = dict(last_modified="2009-10-12T17:50:30.000Z",
                                   etag='"fba9dede5f27731c9771645a39863328"', size=434234,
                                   owner_id="oid", owner_name="oname")
    args.update(kw)
    return xml.ListedObject(key, **args)  # type: ignore[arg-type]


def test_list_objects_v1() -> None:
    body = xml.list_objects_v1(
        bucket="examplebucket", prefix="photos/", marker="photos/a", next_marker="photos/z/",
        max_keys=2, delimiter="/", truncated=True, url=False,
        objects=[_obj("photos/b.jpg")], prefixes=["photos/z/"])
    root = parse(body)
    assert root.tag == N + "ListBucketResult"
    assert tags(root) == ["Name", "Prefix", "Marker", "NextMarker", "MaxKeys", "Delimiter",
                          "IsTruncated", "Contents", "CommonPrefixes"]
    assert root.findtext(N + "Name") == "examplebucket"
    assert root.findtext(N + "Marker") == "photos/a"
    assert root.findtext(N + "NextMarker") == "photos/z/"
    assert root.findtext(N + "MaxKeys") == "2"
    assert root.findtext(N + "IsTruncated") == "true"
    c = root.find(N + "Contents")
    assert c is not None
    assert tags(c) == ["Key", "LastModified", "ETag", "Size", "Owner", "StorageClass"]
    assert c.findtext(N + "Key") == "photos/b.jpg"
    assert c.findtext(N + "ETag") == '"fba9dede5f27731c9771645a39863328"'
    assert c.findtext(N + "Size") == "434234"
    assert c.findtext(N + "StorageClass") == "STANDARD"
    assert c.findtext(f"{N}Owner/{N}ID") == "oid"
    assert root.findtext(f"{N}CommonPrefixes/{N}Prefix") == "photos/z/"


def test_list_objects_v1_minimal() -> None:
    root = parse(xml.list_objects_v1(
        bucket="b", prefix="", marker="", next_marker=None, max_keys=1000, delimiter="",
        truncated=False, url=False, objects=[], prefixes=[]))
    assert tags(root) == ["Name", "Prefix", "Marker", "MaxKeys", "IsTruncated"]
    assert root.findtext(N + "IsTruncated") == "false"


def test_list_objects_v1_url_encoding() -> None:
    key = "a b+c/ü&<>%\x01\r"
    body = xml.list_objects_v1(
        bucket="b", prefix="a b", marker="m m", next_marker="n n/", max_keys=1000,
        delimiter="/", truncated=True, url=True, objects=[_obj(key)], prefixes=["a b/"])
    root = parse(body)
    assert root.findtext(N + "EncodingType") == "url"
    raw_key = root.findtext(f"{N}Contents/{N}Key")
    assert raw_key is not None and raw_key.isascii() and " " not in raw_key
    # botocore decodes these with unquote_plus
    assert unquote_plus(raw_key) == key
    for name, value in (("Prefix", "a b"), ("Marker", "m m"), ("NextMarker", "n n/"),
                        ("Delimiter", "/")):
        text = root.findtext(N + name)
        assert text is not None and unquote_plus(text) == value
    assert unquote_plus(root.findtext(f"{N}CommonPrefixes/{N}Prefix") or "") == "a b/"


def test_list_objects_v2() -> None:
    body = xml.list_objects_v2(
        bucket="examplebucket", prefix="", token="tok", next_token="next", start_after="sa",
        max_keys=3, delimiter="/", truncated=True, url=False, fetch_owner=False,
        objects=[_obj("ExampleGuide.pdf", checksum_algorithm="CRC32",
                      checksum_type="FULL_OBJECT")],
        prefixes=["photos/", "videos/"])
    root = parse(body)
    assert tags(root) == ["Name", "Prefix", "ContinuationToken", "NextContinuationToken",
                          "StartAfter", "KeyCount", "MaxKeys", "Delimiter", "IsTruncated",
                          "Contents", "CommonPrefixes", "CommonPrefixes"]
    assert root.findtext(N + "KeyCount") == "3"
    assert root.findtext(N + "ContinuationToken") == "tok"
    assert root.findtext(N + "NextContinuationToken") == "next"
    c = root.find(N + "Contents")
    assert c is not None
    # no Owner unless fetch-owner=true
    assert tags(c) == ["Key", "LastModified", "ETag", "Size", "ChecksumAlgorithm",
                       "ChecksumType", "StorageClass"]
    assert c.findtext(N + "ChecksumAlgorithm") == "CRC32"
    assert [p.text for p in root.findall(f"{N}CommonPrefixes/{N}Prefix")] == ["photos/",
                                                                             "videos/"]


def test_list_objects_v2_fetch_owner_and_url() -> None:
    root = parse(xml.list_objects_v2(
        bucket="b", prefix="p q", token=None, next_token=None, start_after="s t",
        max_keys=1000, delimiter="", truncated=False, url=True, fetch_owner=True,
        objects=[_obj("k k")], prefixes=[]))
    assert "ContinuationToken" not in tags(root)
    assert root.findtext(N + "KeyCount") == "1"
    assert unquote_plus(root.findtext(N + "StartAfter") or "") == "s t"
    assert unquote_plus(root.findtext(N + "Prefix") or "") == "p q"
    c = root.find(N + "Contents")
    assert c is not None and "Owner" in tags(c)
    assert unquote_plus(c.findtext(N + "Key") or "") == "k k"


@settings(max_examples=80)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_url_encoded_keys_round_trip(key: str) -> None:
    body = xml.list_objects_v2(
        bucket="b", prefix="", token=None, next_token=None, start_after=None, max_keys=1000,
        delimiter="", truncated=False, url=True, fetch_owner=False, objects=[_obj(key)],
        prefixes=[])
    root = ET.fromstring(body)
    assert unquote_plus(root.findtext(f"{N}Contents/{N}Key") or "") == key


@settings(max_examples=80)
@given(st.text(st.characters(blacklist_categories=("Cs",), max_codepoint=0xFFFD,
                             blacklist_characters="\x00"), max_size=30)
       .filter(lambda s: all(c in "\t\n\r" or ord(c) >= 0x20 for c in s)))
def test_plain_keys_round_trip(key: str) -> None:
    # XML 1.0 text: escaping of &, <, > and \r must survive a parse
    body = xml.delete_result([key], [])
    root = ET.fromstring(body)
    assert root.findtext(f"{N}Deleted/{N}Key") == key


def test_control_characters_escaped_as_references() -> None:
    assert xml.esc("a\x01b\rc") == "a&#x1;b&#xD;c"
    assert xml.esc("<&>") == "&lt;&amp;&gt;"


def test_acl_policy() -> None:
    acl = Acl("owner-id", (
        Grant("CanonicalUser", "owner-id", "FULL_CONTROL"),
        Grant("Group", ALL_USERS, "READ"),
        Grant("CanonicalUser", "other-id", "WRITE_ACP"),
    ))
    root = parse(xml.acl_policy(acl, {"owner-id": "Owner Name"}))
    assert root.tag == N + "AccessControlPolicy"
    assert tags(root) == ["Owner", "AccessControlList"]
    assert root.findtext(f"{N}Owner/{N}ID") == "owner-id"
    assert root.findtext(f"{N}Owner/{N}DisplayName") == "Owner Name"
    grants = root.findall(f"{N}AccessControlList/{N}Grant")
    assert [tags(g) for g in grants] == [["Grantee", "Permission"]] * 3
    types = [g.find(N + "Grantee").get(f"{{{XSI}}}type") for g in grants]  # type: ignore[union-attr]
    # group grants first (as canned ACLs show them), the rest in the order put
    assert types == ["Group", "CanonicalUser", "CanonicalUser"]
    assert grants[0].findtext(f"{N}Grantee/{N}URI") == ALL_USERS
    assert grants[1].findtext(f"{N}Grantee/{N}DisplayName") == "Owner Name"
    assert grants[2].findtext(f"{N}Grantee/{N}DisplayName") == "other-id"
    assert [g.findtext(N + "Permission") for g in grants] == ["READ", "FULL_CONTROL",
                                                               "WRITE_ACP"]
    # and it parses back to the same grants
    back = xml.parse_acl(xml.acl_policy(acl, {}), {})
    assert back.owner == acl.owner and set(back.grants) == set(acl.grants)


def test_delete_result() -> None:
    root = parse(xml.delete_result(["a", "b/c"], [("x&y", "AccessDenied", "Access Denied")]))
    assert root.tag == N + "DeleteResult"
    assert tags(root) == ["Deleted", "Deleted", "Error"]
    assert [d.findtext(N + "Key") for d in root.findall(N + "Deleted")] == ["a", "b/c"]
    err = root.find(N + "Error")
    assert err is not None
    assert tags(err) == ["Key", "Code", "Message"]
    assert [c.text for c in err] == ["x&y", "AccessDenied", "Access Denied"]


def test_copy_result_and_versioning() -> None:
    root = parse(xml.copy_result("CopyObjectResult", '"e"', "2009-10-28T22:32:00.000Z",
                                 {"CRC32": "AAAAAA=="}))
    assert root.tag == N + "CopyObjectResult"
    assert tags(root) == ["ETag", "LastModified", "ChecksumCRC32"]
    assert parse(xml.versioning(None)).tag == N + "VersioningConfiguration"
    assert list(parse(xml.versioning(None))) == []
    assert parse(xml.versioning("Enabled")).findtext(N + "Status") == "Enabled"


# ------------------------------------------------------------------ parsers

DELETE = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
          b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
          b"<Object><Key>sample1.txt</Key></Object>"
          b"<Object><Key>sample2.txt</Key><VersionId>v</VersionId></Object>"
          b"<Quiet>true</Quiet></Delete>")


def test_parse_delete() -> None:
    assert xml.parse_delete(DELETE) == (["sample1.txt", "sample2.txt"], True)
    assert xml.parse_delete(b"<Delete><Object><Key> a &amp; b </Key></Object></Delete>") == (
        [" a & b "], False)
    assert xml.parse_delete(b"<Delete><Object><Key>k</Key></Object><Quiet>false</Quiet>"
                            b"</Delete>") == (["k"], False)
    assert xml.parse_delete(b"<Delete><Object><Key></Key></Object></Delete>") == ([""], False)
    thousand = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1000 + b"</Delete>"
    assert len(xml.parse_delete(thousand)[0]) == 1000


@pytest.mark.parametrize("body", [
    b"",
    b"not xml",
    b"<Delete>",
    b"<Delete></Delete>",
    b"<Delete><Object></Object></Delete>",
    b"<Other><Object><Key>k</Key></Object></Other>",
    b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
    b"<Delete><Object><Key>k</Key></Object></Delete><Extra/>",
])
def test_parse_delete_malformed(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        xml.parse_delete(body)
    assert ei.value.code == "MalformedXML"
    assert ei.value.status == 400


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Delete><Object><Key>&lol3;</Key></Object></Delete>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&xxe;</Key></Object></Delete>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Delete SYSTEM "http://127.0.0.1:1/evil.dtd">
<Delete><Object><Key>k</Key></Object></Delete>"""


@pytest.mark.parametrize("body", [BOMB, XXE], ids=["billion-laughs", "xxe"])
def test_entity_expansion_rejected(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        xml.parse_delete(body)
    assert ei.value.code == "MalformedXML"
    with pytest.raises(S3Error) as ei:
        xml.parse_acl(body, {})
    assert ei.value.code == "MalformedACLError"
    with pytest.raises(S3Error) as ei:
        xml.parse_create_bucket(body)
    assert ei.value.code == "MalformedXML"


def test_external_dtd_not_fetched() -> None:
    # either rejected or parsed without fetching anything; never an unhandled exception
    try:
        keys, _ = xml.parse_delete(EXTERNAL_DTD)
    except S3Error as e:
        assert e.code == "MalformedXML"
    else:
        assert keys == ["k"]


CBC = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
       b"<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")


def test_parse_create_bucket() -> None:
    assert xml.parse_create_bucket(b"") is None
    assert xml.parse_create_bucket(b"  \n ") is None
    assert xml.parse_create_bucket(CBC) == "eu-west-1"
    assert xml.parse_create_bucket(b"<CreateBucketConfiguration/>") is None
    assert xml.parse_create_bucket(
        b"<CreateBucketConfiguration><LocationConstraint></LocationConstraint>"
        b"</CreateBucketConfiguration>") is None


@pytest.mark.parametrize("body", [b"<", b"junk", b"<Other/>",
                                  b"<CreateBucketConfiguration>"])
def test_parse_create_bucket_malformed(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        xml.parse_create_bucket(body)
    assert ei.value.code == "MalformedXML"


ACL_DOC = f"""<AccessControlPolicy xmlns="{NS}">
  <Owner><ID>owner-id</ID><DisplayName>me</DisplayName></Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="{XSI}" xsi:type="CanonicalUser"><ID> owner-id </ID></Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="{XSI}" xsi:type="Group"><URI>{AUTHENTICATED_USERS}</URI></Grantee>
      <Permission>READ</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="{XSI}" xsi:type="AmazonCustomerByEmail">
        <EmailAddress>User@Example.com</EmailAddress></Grantee>
      <Permission>WRITE</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>""".encode()


def test_parse_acl() -> None:
    acl = xml.parse_acl(ACL_DOC, {"user@example.com": "user-id"})
    assert acl == Acl("owner-id", (
        Grant("CanonicalUser", "owner-id", "FULL_CONTROL"),
        Grant("Group", AUTHENTICATED_USERS, "READ"),
        Grant("CanonicalUser", "user-id", "WRITE"),
    ))


def test_parse_acl_empty_list() -> None:
    body = (b"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList/>"
            b"</AccessControlPolicy>")
    assert xml.parse_acl(body, {}) == Acl("o", ())


_G = f'<Grantee xmlns:xsi="{XSI}" xsi:type="CanonicalUser"><ID>x</ID></Grantee>'


@pytest.mark.parametrize("body", [
    b"",
    b"<AccessControlPolicy>",
    b"<Other/>",
    b"<AccessControlPolicy><AccessControlList/></AccessControlPolicy>",
    b"<AccessControlPolicy><Owner><ID>o</ID></Owner></AccessControlPolicy>",
    b"<AccessControlPolicy><Owner/><AccessControlList/></AccessControlPolicy>",
    f"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>{_G}"
    f"<Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>"
    .encode(),
    f"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>{_G}"
    f"</Grant></AccessControlList></AccessControlPolicy>".encode(),
    b"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>"
    b"<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
    b"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>"
    b"<Grantee><ID>x</ID></Grantee><Permission>READ</Permission></Grant>"
    b"</AccessControlList></AccessControlPolicy>",
])
def test_parse_acl_malformed(body: bytes) -> None:
    with pytest.raises(S3Error) as ei:
        xml.parse_acl(body, {})
    assert ei.value.code == "MalformedACLError"


def _one_grant(grantee: str) -> bytes:
    return (f"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>"
            f'<Grantee xmlns:xsi="{XSI}" {grantee}</Grantee><Permission>READ</Permission>'
            f"</Grant></AccessControlList></AccessControlPolicy>").encode()


@pytest.mark.parametrize("grantee,code", [
    ('xsi:type="Group"><URI>http://example.com/not-a-group</URI>', "InvalidArgument"),
    ('xsi:type="CanonicalUser"><ID></ID>', "InvalidArgument"),
    ('xsi:type="AmazonCustomerByEmail"><EmailAddress>nobody@x.y</EmailAddress>',
     "UnresolvableGrantByEmailAddress"),
])
def test_parse_acl_bad_grantee(grantee: str, code: str) -> None:
    with pytest.raises(S3Error) as ei:
        xml.parse_acl(_one_grant(grantee), {})
    assert ei.value.code == code
