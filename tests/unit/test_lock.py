"""s3.lock: configuration / retention / legal-hold documents, request headers, default
retention, and the decision tables (permanent delete, retention change)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from objectstore.s3 import lock
from objectstore.s3.errors import S3Error
from objectstore.s3.lock import DefaultRetention, LockConfig, LockRequest, Retention

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
N = f"{{{NS}}}"
NOW = datetime(2026, 1, 31, 12, 0, 0, tzinfo=timezone.utc).timestamp()
DAY = 86400.0


def code(exc: pytest.ExceptionInfo[S3Error]) -> str:
    return exc.value.code


def config_xml(inner: str) -> bytes:
    return f'<ObjectLockConfiguration xmlns="{NS}">{inner}</ObjectLockConfiguration>'.encode()


def rule(inner: str) -> str:
    return f"<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>{inner}" \
           "</DefaultRetention></Rule>"


# ------------------------------------------------------------------ dates

@pytest.mark.parametrize("text,expected", [
    ("2030-01-01T00:00:00Z", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
    ("2030-01-01T00:00:00.000Z", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
    ("2030-01-01T00:00:00.123456Z",
     datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() + 0.123),
    ("2030-01-01T02:00:00+02:00", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
    ("2030-01-01T00:00:00", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
])
def test_parse_date(text: str, expected: float) -> None:
    assert lock.parse_date(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", ["", "tomorrow", "2030-13-01T00:00:00Z",
                                  "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00Z",
                                  "2030-02-30T00:00:00Z", "2030-01-01", "٢٠٣٠-01-01T00:00:00Z"])
def test_parse_date_rejects(text: str) -> None:
    assert lock.parse_date(text) is None


def test_latest_date_renders() -> None:
    latest = lock.parse_date("9999-12-31T23:59:59.999Z")
    assert latest is not None
    assert lock.format_date(latest) == "9999-12-31T23:59:59.999Z"


def test_format_date_round_trips_to_the_millisecond() -> None:
    t = datetime(2030, 1, 1, 0, 0, 0, tzinfo=timezone.utc).timestamp() + 0.5
    assert lock.format_date(t) == "2030-01-01T00:00:00.500Z"
    assert lock.parse_date(lock.format_date(t)) == t


# ------------------------------------------------------------------ configuration

def test_configuration_round_trip_in_aws_element_order() -> None:
    cfg = lock.parse_configuration(config_xml(rule("<Mode>GOVERNANCE</Mode><Days>1</Days>")))
    assert cfg == LockConfig(DefaultRetention("GOVERNANCE", days=1))
    assert LockConfig.from_json(cfg.to_json()) == cfg
    root = ET.fromstring(lock.render_configuration(cfg))
    assert [c.tag.replace(N, "") for c in root] == ["ObjectLockEnabled", "Rule"]
    default = root.find(f"{N}Rule/{N}DefaultRetention")
    assert default is not None
    assert [(c.tag.replace(N, ""), c.text) for c in default] == [("Mode", "GOVERNANCE"),
                                                                   ("Days", "1")]


def test_configuration_without_rule() -> None:
    cfg = lock.parse_configuration(config_xml("<ObjectLockEnabled>Enabled</ObjectLockEnabled>"))
    assert cfg == LockConfig()
    assert LockConfig.from_json(cfg.to_json()) == LockConfig()
    assert LockConfig.from_json(None) is None
    root = ET.fromstring(lock.render_configuration(cfg))
    assert [c.tag.replace(N, "") for c in root] == ["ObjectLockEnabled"]


def test_years_configuration() -> None:
    cfg = lock.parse_configuration(config_xml(rule("<Mode>COMPLIANCE</Mode><Years>2</Years>")))
    assert cfg.rule == DefaultRetention("COMPLIANCE", years=2)
    assert b"<Years>2</Years>" in lock.render_configuration(cfg)


@pytest.mark.parametrize("body,expected", [
    (config_xml(rule("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")), "MalformedXML"),
    (config_xml(rule("<Mode>GOVERNANCE</Mode>")), "MalformedXML"),
    (config_xml(rule("<Days>1</Days>")), "MalformedXML"),
    (config_xml(rule("<Mode>governance</Mode><Days>1</Days>")), "MalformedXML"),
    (config_xml(rule("<Mode>abc</Mode><Days>1</Days>")), "MalformedXML"),
    (config_xml(rule("<Mode>GOVERNANCE</Mode><Days>x</Days>")), "MalformedXML"),
    (config_xml(rule("<Mode>GOVERNANCE</Mode><Days>0</Days>")), "InvalidRetentionPeriod"),
    (config_xml(rule("<Mode>GOVERNANCE</Mode><Years>-1</Years>")), "InvalidRetentionPeriod"),
    (config_xml(rule("<Mode>GOVERNANCE</Mode><Years>101</Years>")), "InvalidRetentionPeriod"),
    (config_xml(rule("<Mode>GOVERNANCE</Mode><Days>99999999999999999999</Days>")),
     "MalformedXML"),
    (config_xml("<ObjectLockEnabled>Disabled</ObjectLockEnabled>"), "MalformedXML"),
    (config_xml("<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days>"
                "</DefaultRetention></Rule>"), "MalformedXML"),
    (config_xml("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule></Rule>"), "MalformedXML"),
    (b"<Other/>", "MalformedXML"),
    (b"not xml", "MalformedXML"),
])
def test_configuration_errors(body: bytes, expected: str) -> None:
    with pytest.raises(S3Error) as exc:
        lock.parse_configuration(body)
    assert code(exc) == expected


def test_default_retention_until() -> None:
    assert DefaultRetention("GOVERNANCE", days=3).until(NOW) == NOW + 3 * DAY
    leap = datetime(2028, 2, 29, 10, tzinfo=timezone.utc).timestamp()
    assert DefaultRetention("COMPLIANCE", years=1).until(leap) == \
        datetime(2029, 2, 28, 10, tzinfo=timezone.utc).timestamp()
    assert DefaultRetention("COMPLIANCE", years=2).until(NOW) == \
        datetime(2028, 1, 31, 12, tzinfo=timezone.utc).timestamp()


def test_versioning_and_configure_states() -> None:
    lock.check_versioning_change(None, "Suspended")
    lock.check_versioning_change('{"enabled":true}', "Enabled")
    with pytest.raises(S3Error) as exc:
        lock.check_versioning_change('{"enabled":true}', "Suspended")
    assert code(exc) == "InvalidBucketState" and exc.value.status == 409
    lock.check_can_configure("Enabled")
    for state in ("", "Suspended"):
        with pytest.raises(S3Error) as exc:
            lock.check_can_configure(state)
        assert code(exc) == "InvalidBucketState"


def test_bucket_header() -> None:
    assert lock.bucket_header({"x-amz-bucket-object-lock-enabled": "True"})
    assert not lock.bucket_header({"x-amz-bucket-object-lock-enabled": "false"})
    assert not lock.bucket_header({})


# ------------------------------------------------------------------ retention / legal hold

def test_retention_document() -> None:
    body = (f'<Retention xmlns="{NS}"><Mode>COMPLIANCE</Mode>'
            "<RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>").encode()
    r = lock.parse_retention(body)
    assert r == Retention("COMPLIANCE", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp())
    assert r.until is not None
    root = ET.fromstring(lock.render_retention("COMPLIANCE", r.until))
    assert [(c.tag.replace(N, ""), c.text) for c in root] == [
        ("Mode", "COMPLIANCE"), ("RetainUntilDate", "2030-01-01T00:00:00.000Z")]
    assert lock.parse_retention(f'<Retention xmlns="{NS}"/>'.encode()) == Retention()


@pytest.mark.parametrize("body", [
    b"<Retention><Mode>governance</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"
    b"</Retention>",
    b"<Retention><Mode>GOVERNANCE</Mode></Retention>",
    b"<Retention><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>",
    b"<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>soon</RetainUntilDate></Retention>",
    b"<LegalHold><Status>ON</Status></LegalHold>",
])
def test_retention_errors(body: bytes) -> None:
    with pytest.raises(S3Error) as exc:
        lock.parse_retention(body)
    assert code(exc) == "MalformedXML"


def test_legal_hold_document() -> None:
    assert lock.parse_legal_hold(f'<LegalHold xmlns="{NS}"><Status>ON</Status></LegalHold>'
                                 .encode()) is True
    assert lock.parse_legal_hold(b"<LegalHold><Status>OFF</Status></LegalHold>") is False
    for bad in (b"<LegalHold><Status>on</Status></LegalHold>", b"<LegalHold/>",
                b"<Retention><Status>ON</Status></Retention>"):
        with pytest.raises(S3Error) as exc:
            lock.parse_legal_hold(bad)
        assert code(exc) == "MalformedXML"
    root = ET.fromstring(lock.render_legal_hold(True))
    assert [(c.tag.replace(N, ""), c.text) for c in root] == [("Status", "ON")]


# ------------------------------------------------------------------ request headers

FUTURE = "2030-01-01T00:00:00Z"


def test_headers() -> None:
    asked = lock.parse_headers({lock.MODE_HEADER: "GOVERNANCE", lock.UNTIL_HEADER: FUTURE,
                                lock.HOLD_HEADER: "ON"}, NOW)
    assert asked == LockRequest("GOVERNANCE", lock.parse_date(FUTURE), True)
    assert LockRequest.from_json(asked.to_json()) == asked
    assert lock.parse_headers({lock.HOLD_HEADER: "OFF"}, NOW) == LockRequest(None, None, False)
    assert lock.parse_headers({}, NOW).empty
    assert LockRequest().to_json() is None
    assert LockRequest.from_json(None) == LockRequest()


@pytest.mark.parametrize("headers,message", [
    ({lock.MODE_HEADER: "GOVERNANCE"}, "must both be supplied"),
    ({lock.UNTIL_HEADER: FUTURE}, "must both be supplied"),
    ({lock.MODE_HEADER: "governance", lock.UNTIL_HEADER: FUTURE}, "Unknown wormMode"),
    ({lock.MODE_HEADER: "GOVERNANCE", lock.UNTIL_HEADER: "soon"}, "ISO 8601"),
    ({lock.MODE_HEADER: "GOVERNANCE", lock.UNTIL_HEADER: "2020-01-01T00:00:00Z"},
     "in the future"),
    ({lock.HOLD_HEADER: "on"}, "'ON' or 'OFF'"),
])
def test_header_errors(headers: dict[str, str], message: str) -> None:
    with pytest.raises(S3Error) as exc:
        lock.parse_headers(headers, NOW)
    assert code(exc) == "InvalidArgument"
    assert message in exc.value.message


def test_new_version_lock() -> None:
    default = LockConfig(DefaultRetention("COMPLIANCE", days=2)).to_json()
    plain = LockConfig().to_json()
    explicit = LockRequest("GOVERNANCE", NOW + 10, None)
    assert lock.for_new_version(None, LockRequest(), NOW) == (None, None, False)
    assert lock.for_new_version(plain, LockRequest(), NOW) == (None, None, False)
    assert lock.for_new_version(default, LockRequest(), NOW) == ("COMPLIANCE", NOW + 2 * DAY,
                                                                  False)
    assert lock.for_new_version(default, explicit, NOW) == ("GOVERNANCE", NOW + 10, False)
    assert lock.for_new_version(default, LockRequest(legal_hold=True), NOW) == \
        ("COMPLIANCE", NOW + 2 * DAY, True)
    with pytest.raises(S3Error) as exc:
        lock.for_new_version(None, explicit, NOW)
    assert code(exc) == "InvalidRequest"
    assert exc.value.message == "Bucket is missing Object Lock Configuration"
    assert lock.applies(default, LockRequest())
    assert not lock.applies(plain, LockRequest())
    assert lock.applies(plain, LockRequest(legal_hold=False))
    assert not lock.applies(None, LockRequest())


def test_integrity_headers() -> None:
    assert lock.has_integrity_header({"content-md5": "x"})
    assert lock.has_integrity_header({"x-amz-checksum-crc32": "x"})
    assert lock.has_integrity_header({"x-amz-trailer": "x-amz-checksum-crc32"})
    assert not lock.has_integrity_header({"x-amz-checksum-algorithm": "CRC32"})
    assert not lock.has_integrity_header({"x-amz-checksum-mode": "ENABLED"})
    assert not lock.has_integrity_header({})
    with pytest.raises(S3Error) as exc:
        lock.require_integrity_for_lock({})
    assert code(exc) == "InvalidRequest" and "Object Lock" in exc.value.message
    with pytest.raises(S3Error) as exc:
        lock.require_integrity({"x-amz-sdk-checksum-algorithm": "CRC32"})
    assert code(exc) == "InvalidRequest" and "Content-MD5" in exc.value.message


def test_bypass_and_response_headers() -> None:
    assert lock.bypass_asked({lock.BYPASS_HEADER: "true"})
    assert lock.bypass_asked({lock.BYPASS_HEADER: "True"})
    assert not lock.bypass_asked({lock.BYPASS_HEADER: "false"})
    assert not lock.bypass_asked({})
    until = datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()
    assert lock.response_headers("GOVERNANCE", until, True) == [
        (lock.MODE_HEADER, "GOVERNANCE"), (lock.UNTIL_HEADER, "2030-01-01T00:00:00.000Z"),
        (lock.HOLD_HEADER, "ON")]
    assert lock.response_headers(None, None, False) == []


# ------------------------------------------------------------------ decisions

LATER = NOW + DAY
EARLIER = NOW - DAY


@pytest.mark.parametrize("mode,until,hold,bypass,allowed", [
    (None, None, False, False, True),
    (None, None, True, False, False),          # legal hold: never bypassed
    (None, None, True, True, False),
    ("GOVERNANCE", LATER, False, False, False),
    ("GOVERNANCE", LATER, False, True, True),  # bypass
    ("GOVERNANCE", LATER, True, True, False),
    ("COMPLIANCE", LATER, False, False, False),
    ("COMPLIANCE", LATER, False, True, False),  # compliance: never
    ("COMPLIANCE", EARLIER, False, False, True),  # expired
    ("GOVERNANCE", EARLIER, False, False, True),
    ("GOVERNANCE", NOW, False, False, True),      # retain-until reached
    ("COMPLIANCE", EARLIER, True, False, False),
])
def test_deletion_table(mode: str | None, until: float | None, hold: bool, bypass: bool,
                        allowed: bool) -> None:
    refusal = lock.deletion_refusal(mode, until, hold, NOW, bypass)
    assert (refusal is None) == allowed
    if not allowed:
        assert refusal == "Access Denied because object protected by object lock."


G, C = "GOVERNANCE", "COMPLIANCE"


@pytest.mark.parametrize("mode,until,new,bypass,allowed", [
    (None, None, Retention(G, LATER), False, True),
    (None, None, Retention(), False, True),
    (G, LATER, Retention(G, LATER + 1), False, True),     # extend
    (G, LATER, Retention(G, LATER), False, True),          # same
    (G, LATER, Retention(G, LATER - 1), False, False),     # shorten
    (G, LATER, Retention(G, LATER - 1), True, True),       # shorten with bypass
    (G, LATER, Retention(), False, False),                 # remove
    (G, LATER, Retention(), True, True),
    (G, LATER, Retention(C, LATER), False, False),         # change mode: needs bypass
    (G, LATER, Retention(C, LATER), True, True),
    (C, LATER, Retention(C, LATER + 1), False, True),      # extend compliance
    (C, LATER, Retention(C, LATER - 1), True, False),      # never shortened
    (C, LATER, Retention(), True, False),                  # never removed
    (C, LATER, Retention(G, LATER + 1), True, False),      # never weakened
    (C, EARLIER, Retention(G, LATER), False, True),        # expired: free again
    (G, EARLIER, Retention(), False, True),
])
def test_retention_change_table(mode: str | None, until: float | None, new: Retention,
                                bypass: bool, allowed: bool) -> None:
    assert (lock.retention_change_refusal(mode, until, new, NOW, bypass) is None) == allowed


def test_new_retention_must_be_in_the_future() -> None:
    lock.check_new_retention(Retention(), NOW)
    lock.check_new_retention(Retention(G, LATER), NOW)
    with pytest.raises(S3Error) as exc:
        lock.check_new_retention(Retention(G, EARLIER), NOW)
    assert code(exc) == "InvalidArgument"
