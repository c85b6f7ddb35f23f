"""s3/lifecycle.py and s3/lifecycle_xml.py: parsing and validation (S3's error codes),
JSON/XML round trips, rule matching and the expiry dates S3 computes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from objectstore.s3 import lifecycle as lc
from objectstore.s3 import lifecycle_xml as lx
from objectstore.s3.errors import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def doc(*rules: str) -> bytes:
    return (f'<LifecycleConfiguration xmlns="{NS}">' + "".join(f"<Rule>{r}</Rule>" for r in rules)
            + "</LifecycleConfiguration>").encode()


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


EXP1 = "<Expiration><Days>1</Days></Expiration>"
ON = "<Status>Enabled</Status>"


@pytest.mark.parametrize("rule, code", [
    # Status
    (f"<ID>a</ID><Prefix>x/</Prefix><Status>enabled</Status>{EXP1}", "MalformedXML"),
    (f"<ID>a</ID><Prefix>x/</Prefix>{EXP1}", "MalformedXML"),
    # ID length
    (f"<ID>{'a' * 256}</ID><Prefix/>{ON}{EXP1}", "InvalidArgument"),
    # Filter and legacy Prefix together; several predicates in one Filter
    (f"<Prefix>a</Prefix><Filter><Prefix>a</Prefix></Filter>{ON}{EXP1}", "MalformedXML"),
    (f"<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>{ON}{EXP1}",
     "MalformedXML"),
    (f"<Filter><Bogus/></Filter>{ON}{EXP1}", "MalformedXML"),
    (f"<Filter><And><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k</Key>"
     f"<Value>w</Value></Tag></And></Filter>{ON}{EXP1}", "InvalidArgument"),
    (f"<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
     f"<ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter>{ON}{EXP1}", "InvalidArgument"),
    (f"<Filter><ObjectSizeGreaterThan>x</ObjectSizeGreaterThan></Filter>{ON}{EXP1}",
     "MalformedXML"),
    # Expiration
    (f"<Prefix/>{ON}<Expiration><Days>0</Days></Expiration>", "InvalidArgument"),
    (f"<Prefix/>{ON}<Expiration><Days>-3</Days></Expiration>", "InvalidArgument"),
    (f"<Prefix/>{ON}<Expiration><Days>one</Days></Expiration>", "MalformedXML"),
    (f"<Prefix/>{ON}<Expiration><Date>2020-01-01T10:00:00Z</Date></Expiration>",
     "InvalidArgument"),
    (f"<Prefix/>{ON}<Expiration><Date>not a date</Date></Expiration>", "InvalidArgument"),
    (f"<Prefix/>{ON}<Expiration><Days>1</Days><Date>2020-01-01T00:00:00Z</Date></Expiration>",
     "MalformedXML"),
    (f"<Prefix/>{ON}<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true"
     "</ExpiredObjectDeleteMarker></Expiration>", "InvalidArgument"),
    (f"<Prefix/>{ON}<Expiration></Expiration>", "MalformedXML"),
    (f"<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>{ON}<Expiration>"
     "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
     "InvalidArgument"),
    # Noncurrent, abort
    (f"<Prefix/>{ON}<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays>"
     "</NoncurrentVersionExpiration>", "InvalidArgument"),
    (f"<Prefix/>{ON}<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
     "<NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>",
     "InvalidArgument"),
    (f"<Prefix/>{ON}<AbortIncompleteMultipartUpload><DaysAfterInitiation>0"
     "</DaysAfterInitiation></AbortIncompleteMultipartUpload>", "InvalidArgument"),
    (f"<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>{ON}"
     "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>"
     "</AbortIncompleteMultipartUpload>", "InvalidRequest"),
    # Transitions
    (f"<Prefix/>{ON}<Transition><Days>1</Days><StorageClass>NOPE</StorageClass></Transition>",
     "MalformedXML"),
    (f"<Prefix/>{ON}<Transition><Days>1</Days><StorageClass>STANDARD_IA</StorageClass>"
     "</Transition>", "InvalidArgument"),
    (f"<Prefix/>{ON}<Transition><Date>20220927</Date><StorageClass>GLACIER</StorageClass>"
     "</Transition>", "InvalidArgument"),
    (f"<Prefix/>{ON}<Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration><Transition>"
     "<Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>", "InvalidRequest"),
    # no action at all; unknown element
    (f"<Prefix/>{ON}", "InvalidRequest"),
    (f"<Prefix/>{ON}{EXP1}<Unknown/>", "MalformedXML"),
])
def test_invalid_rules(rule: str, code: str) -> None:
    with pytest.raises(S3Error) as err:
        lx.parse_config(doc(rule))
    assert err.value.code == code


@pytest.mark.parametrize("body", [
    b"<LifecycleConfiguration/>",
    b"<Other><Rule/></Other>",
    b"not xml",
    doc(f"<ID>x</ID><Prefix/>{ON}{EXP1}")[:-10],
])
def test_malformed_documents(body: bytes) -> None:
    with pytest.raises(S3Error) as err:
        lx.parse_config(body)
    assert err.value.code == "MalformedXML"


def test_duplicate_ids() -> None:
    with pytest.raises(S3Error) as err:
        lx.parse_config(doc(f"<ID>r</ID><Prefix>a</Prefix>{ON}{EXP1}",
                            f"<ID>r</ID><Prefix>b</Prefix>{ON}{EXP1}"))
    assert err.value.code == "InvalidArgument"
    assert err.value.extra["ArgumentName"] == "ID"


def test_missing_ids_are_generated_unique() -> None:
    config = lx.parse_config(doc(f"<Prefix>a</Prefix>{ON}{EXP1}", f"<Prefix>b</Prefix>{ON}{EXP1}"))
    ids = [r.id for r in config.rules]
    assert all(ids) and len(set(ids)) == 2 and all(len(i) <= 255 for i in ids)


FULL = doc(
    "<ID>legacy</ID><Prefix>logs/</Prefix><Status>Disabled</Status>"
    "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>",
    f"<ID>tags</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>"
    f"<ObjectSizeGreaterThan>5</ObjectSizeGreaterThan><ObjectSizeLessThan>50"
    f"</ObjectSizeLessThan></And></Filter>{ON}{EXP1}"
    "<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays>"
    "<NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>",
    f"<ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter>{ON}<AbortIncompleteMultipartUpload>"
    "<DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
    "<Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition>"
    "<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays>"
    "<StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>",
    f"<ID>marker</ID><Filter></Filter>{ON}<Expiration><ExpiredObjectDeleteMarker>true"
    "</ExpiredObjectDeleteMarker></Expiration>",
    f"<ID>big</ID><Filter><ObjectSizeGreaterThan>2000</ObjectSizeGreaterThan></Filter>{ON}"
    f"{EXP1}",
    f"<ID>tag</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>{ON}{EXP1}",
)


def test_json_and_xml_round_trip() -> None:
    config = lx.parse_config(FULL)
    assert lc.from_json(lc.to_json(config)) == config
    again = lx.parse_config(lx.render(config))
    assert again == config
    root = ET.fromstring(lx.render(config))
    rules = root.findall(f"{{{NS}}}Rule")
    assert [r.findtext(f"{{{NS}}}ID") for r in rules] == ["legacy", "tags", "mpu", "marker",
                                                           "big", "tag"]
    assert rules[0].findtext(f"{{{NS}}}Prefix") == "logs/"  # legacy form kept
    assert rules[0].find(f"{{{NS}}}Filter") is None
    assert rules[3].find(f"{{{NS}}}Filter") is not None  # an empty Filter stays a Filter
    assert rules[0].findtext(f"{{{NS}}}Expiration/{{{NS}}}Date") == "2030-01-01T00:00:00.000Z"


def test_dates_accepted() -> None:
    for text in ("2017-09-27", "2017-09-27T00:00:00Z", "2017-09-27T00:00:00.000Z",
                 "2017-09-27T02:00:00+02:00"):
        assert lx.parse_date(text) == "2017-09-27"


def test_filter_matching() -> None:
    rules = {r.id: r for r in lx.parse_config(FULL).rules}
    f = rules["tags"].filter
    assert f.matches("p/x", 10, (("a", "1"), ("b", "2")))
    assert not f.matches("q/x", 10, (("a", "1"),))
    assert not f.matches("p/x", 10, (("a", "2"),))
    assert not f.matches("p/x", 5, (("a", "1"),))  # greater than is strict
    assert not f.matches("p/x", 50, (("a", "1"),))
    assert rules["big"].filter.matches("any", 2001, ())
    assert not rules["big"].filter.matches("any", 2000, ())
    assert rules["marker"].filter.matches("anything", 0, ())


def test_expiry_rounds_up_to_midnight_utc() -> None:
    # S3: creation + days, rounded up to the next midnight UTC
    assert lc.due(ts("2024-01-10T15:30:00"), 1) == ts("2024-01-12T00:00:00")
    assert lc.due(ts("2024-01-10T00:00:00"), 1) == ts("2024-01-11T00:00:00")
    assert lc.due(ts("2024-01-10T23:59:59"), 30) == ts("2024-02-10T00:00:00")
    # a shortened day (tests) is not rounded
    assert lc.due(1000.5, 3, day=10) == 1030.5


def test_expiration_header_picks_the_earliest_rule() -> None:
    config = lx.parse_config(doc(
        f"<ID>late</ID><Filter><Prefix>a/</Prefix></Filter>{ON}"
        "<Expiration><Days>30</Days></Expiration>",
        f"<ID>soon</ID><Filter><Prefix>a/b</Prefix></Filter>{ON}"
        "<Expiration><Days>2</Days></Expiration>",
        "<ID>off</ID><Filter><Prefix>a/</Prefix></Filter><Status>Disabled</Status>"
        "<Expiration><Days>1</Days></Expiration>",
        f"<ID>marker</ID><Filter/>{ON}<Expiration><ExpiredObjectDeleteMarker>true"
        "</ExpiredObjectDeleteMarker></Expiration>"))
    text = lc.to_json(config)
    mtime = ts("2024-03-01T12:00:00")
    assert lc.expiration_header(text, "a/b/c", 1, (), mtime) == \
        'expiry-date="Mon, 04 Mar 2024 00:00:00 GMT", rule-id="soon"'
    assert lc.expiration_header(text, "a/x", 1, (), mtime) == \
        'expiry-date="Mon, 01 Apr 2024 00:00:00 GMT", rule-id="late"'
    assert lc.expiration_header(text, "z", 1, (), mtime) is None
    assert lc.expiration_header(None, "a/x", 1, (), mtime) is None


def test_expiration_by_date() -> None:
    config = lx.parse_config(doc(f"<ID>d</ID><Prefix>past/</Prefix>{ON}"
                                 "<Expiration><Date>2015-01-01</Date></Expiration>"))
    assert lc.expiration(config, "past/x", 1, (), ts("2024-01-01T00:00:00")) == \
        (ts("2015-01-01T00:00:00"), "d")


def test_noncurrent_and_markers_and_uploads() -> None:
    rules = {r.id: r for r in lx.parse_config(FULL).rules}
    nc = rules["tags"]  # NoncurrentDays 3, keep 2 newer
    assert not lc.noncurrent_expired(nc, 0.0, 1, 100.0, day=10)  # among the newest 2
    assert not lc.noncurrent_expired(nc, 0.0, 2, 29.0, day=10)  # not old enough
    assert lc.noncurrent_expired(nc, 0.0, 2, 30.0, day=10)
    assert lc.marker_expired(rules["marker"], 0.0, 0.0)
    assert not lc.marker_expired(rules["legacy"], 0.0, 1e12)  # disabled
    assert lc.marker_expired(rules["big"], 0.0, 10.0, day=10)  # Days 1 reached
    assert not lc.marker_expired(rules["big"], 0.0, 9.0, day=10)
    mpu = rules["mpu"]
    assert lc.upload_expired(mpu, "up/x", 0.0, 70.0, day=10)
    assert not lc.upload_expired(mpu, "up/x", 0.0, 69.0, day=10)
    assert not lc.upload_expired(mpu, "down/x", 0.0, 1e9, day=10)


def test_prefixes_cover_the_rules() -> None:
    config = lx.parse_config(doc(f"<ID>1</ID><Prefix>a/</Prefix>{ON}{EXP1}",
                                 f"<ID>2</ID><Prefix>a/b/</Prefix>{ON}{EXP1}",
                                 f"<ID>3</ID><Prefix>c</Prefix>{ON}{EXP1}"))
    assert list(lc.prefixes(config)) == ["a/", "c"]
    config = lx.parse_config(doc(f"<ID>1</ID><Prefix>a/</Prefix>{ON}{EXP1}",
                                 f"<ID>2</ID><Filter/>{ON}{EXP1}"))
    assert list(lc.prefixes(config)) == [""]


def test_transition_default_minimum_size_header() -> None:
    body = doc(f"<ID>x</ID><Prefix/>{ON}{EXP1}")
    assert lx.parse_config(body).min_size == "all_storage_classes_128K"
    assert lx.parse_config(body, "varies_by_storage_class").min_size == "varies_by_storage_class"
    with pytest.raises(S3Error) as err:
        lx.parse_config(body, "bogus")
    assert err.value.code == "InvalidArgument"
