"""js/bucketconfig.js (the settings pages' XML documents) run in headless Chromium: what it
builds parses back to the same values, hostile text is escaped, S3's answers are read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from c_support import chromium_browser

pytest.importorskip("playwright.sync_api")

SOURCE = (Path(__file__).resolve().parents[2]
          / "src/objectstore/console/static/js/bucketconfig.js").read_text()
HOSTILE = "<img src=x onerror=alert(1)> & \"quotes\" 'apos' ]]>"


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium_browser() as b:
        pg = b.new_page()
        pg.goto("data:text/html,<title>bucketconfig</title>")
        pg.add_script_tag(type="module", content=SOURCE.replace("export ", "")
                          + "\nwindow.cfg = {esc, buildTags, parseTags, parseAcl, jsonProblem,"
                          " buildLifecycleRule, buildLifecycle, parseLifecycle, ruleWithStatus,"
                          " buildCors, parseCors, buildLogging, parseLogging, buildObjectLock,"
                          " parseObjectLock, splitList};\n"
                          "window.xml = (t) => new DOMParser().parseFromString(t,"
                          " 'application/xml');\n")
        pg.wait_for_function("() => window.cfg !== undefined")
        yield pg


def run(page: Any, script: str, *args: Any) -> Any:
    return page.evaluate(f"(args) => {{ const [a, b] = args; return {script}; }}", list(args))


def test_escaping_and_tags_round_trip(page: Any) -> None:
    assert run(page, "cfg.esc(a)", "<a & 'b'>\"") == "&lt;a &amp; &apos;b&apos;&gt;&quot;"
    tags = [{"key": HOSTILE, "value": HOSTILE}, {"key": "empty", "value": ""}]
    assert run(page, "cfg.parseTags(xml(cfg.buildTags(a)))", tags) == tags
    doc = run(page, "cfg.buildTags(a)", tags)
    assert "<img" not in doc and "&lt;img src=x" in doc


def test_acl_public_detection(page: Any) -> None:
    acl = """<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Owner><ID>abc</ID><DisplayName>alice</DisplayName></Owner><AccessControlList>
      <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:type="CanonicalUser"><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission>
      </Grant>
      <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>
        <Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"""
    got = run(page, "cfg.parseAcl(xml(a))", acl)
    assert (got["publicRead"], got["publicWrite"]) == (True, False)
    assert got["owner"] == {"id": "abc", "name": "alice"}
    assert [g["type"] for g in got["grants"]] == ["CanonicalUser", "Group"]


def test_json_problems(page: Any) -> None:
    assert run(page, "cfg.jsonProblem(a)", "{").startswith("Not valid JSON: ")
    assert run(page, "cfg.jsonProblem(a)", "[1]") == "A policy must be a JSON object ({ ... })."
    assert run(page, "cfg.jsonProblem(a)", "{}") == 'The policy has no "Statement".'
    assert run(page, "cfg.jsonProblem(a)", json.dumps({"Statement": []})) is None


def test_lifecycle_rules_kept_verbatim_and_status_toggled(page: Any) -> None:
    fetched = """<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Rule><ID>t</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>
      </And></Filter><Status>Enabled</Status><Transition><Days>30</Days>
      <StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>"""
    (rule,) = run(page, "cfg.parseLifecycle(xml(a))", fetched)
    assert (rule["id"], rule["prefix"], rule["filter"], rule["other"]) == \
        ("t", "a/", "tag k=v", ["Transition"])
    added = {"id": HOSTILE, "prefix": "logs/", "status": "Enabled", "expirationDays": 3,
             "noncurrentDays": None, "abortDays": 7}
    both = run(page, "cfg.parseLifecycle(xml(cfg.buildLifecycle([a, cfg.buildLifecycleRule(b)])))",
               rule["xml"], added)
    assert [r["id"] for r in both] == ["t", HOSTILE]
    assert both[0]["other"] == ["Transition"]  # what the form does not know stays
    assert (both[1]["expirationDays"], both[1]["abortDays"], both[1]["noncurrentDays"]) == \
        (3, 7, None)
    off = run(page, "cfg.parseLifecycle(xml(cfg.buildLifecycle([cfg.ruleWithStatus(a, 'Disabled')"
              "])))", rule["xml"])
    assert off[0]["status"] == "Disabled" and off[0]["other"] == ["Transition"]


def test_cors_logging_and_object_lock_round_trips(page: Any) -> None:
    rules = [{"id": "r", "origins": ["https://a.example", HOSTILE], "methods": ["GET", "PUT"],
              "headers": ["*"], "expose": ["ETag"], "maxAge": 60},
             {"id": "", "origins": ["*"], "methods": ["HEAD"], "headers": [], "expose": [],
              "maxAge": None}]
    assert run(page, "cfg.parseCors(xml(cfg.buildCors(a)))", rules) == rules
    target = {"bucket": "logs", "prefix": HOSTILE, "extraXml": ""}
    assert run(page, "cfg.parseLogging(xml(cfg.buildLogging(a)))", target) == target
    assert run(page, "cfg.parseLogging(xml(cfg.buildLogging(null)))") is None
    lock = {"mode": "COMPLIANCE", "period": 2, "unit": "Years"}
    assert run(page, "cfg.parseObjectLock(xml(cfg.buildObjectLock(a)))", lock) == \
        {"enabled": True, **lock}
    assert run(page, "cfg.splitList(a)", " a, b\n\nc ,") == ["a", "b", "c"]
