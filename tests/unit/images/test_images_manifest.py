"""Manifest parsing (strict, precise reasons) and the standard writer."""

from __future__ import annotations

import pytest
from images_util import EUCA

from objectstore.images import Manifest, ManifestError, Part, parse_manifest, render_manifest
from objectstore.images.manifest import check_part_filename

FIXTURE = (EUCA / "1mb.manifest.xml").read_text()
P0 = "<part index=\"0\"><filename>1mb.part.0</filename>"
P1 = "<part index=\"1\"><filename>1mb.part.1</filename>"


def variant(old: str, new: str) -> bytes:
    assert old in FIXTURE
    return FIXTURE.replace(old, new, 1).encode()


BAD = [
    (b"not xml", "not well-formed XML"),
    (b"<x/>", "document element is <x>"),
    (variant("<version>2007-10-10", "<version>2008-01-01"), "unsupported manifest version"),
    (variant('<parts count="2">', '<parts count="3">'), "count says 3 parts but 2 are listed"),
    (variant('<parts count="2">', '<parts count="two">'), "not a number"),
    (variant(P1, P1.replace('"1"', '"0"')), "part index 0 appears twice"),
    (variant(P1, P1.replace('"1"', '"7"')), "part index 7 is out of range 0..1"),
    (variant(P1, P1.replace("1mb.part.1", "../x")), "'../x' contains a path separator"),
    (variant(P1, P1.replace("1mb.part.1", "..")), "filename '..' is '..'"),
    (variant(P1, P1.replace("1mb.part.1", "/etc/passwd")), "contains a path separator"),
    (variant(P1, P1.replace("1mb.part.1", "a\\b")), "contains a path separator"),
    (variant(P1, P1.replace("1mb.part.1", "")), "part 1 has no filename"),
    (variant(P1, P1.replace("1mb.part.1", "1mb.part.0")), "share the filename"),
    (variant("c4413423cf7a57e71187e19bfd5cd4b514a64283", "c44134"), "has 6 hex digits"),
    (variant("<size>1048576", "<size>-1"), "image/size is '-1', not a byte count"),
    (variant("<type>machine", "<type>disk"), "image/type is 'disk'"),
    (variant("<name>1mb</name>", ""), "image/name is missing"),
    (variant("<digest algorithm=\"SHA1\">da39", "<digest algorithm=\"MD5\">da39"),
     "only SHA1 is supported"),
    (variant('<ec2_encrypted_key algorithm="AES-128-CBC">33a2',
             '<ec2_encrypted_key algorithm="AES-256-CBC">33a2'), "only AES-128-CBC"),
    (variant('<ec2_encrypted_key algorithm="AES-128-CBC">33a2',
             '<ec2_encrypted_key algorithm="AES-128-CBC">zz33a2'), "not hexadecimal"),
    (variant("<signature>4e00", "<signature>xx4e00"), "signature is not hexadecimal"),
    (variant("<size>1048576</size>", "<size>1</size><size>2</size>"), "image/size appears 2"),
    # a second <image> hidden in a comment would be signed but not read
    (variant("<manifest>", "<manifest><!-- <image><name>evil</name></image> -->"),
     "exactly one <image> element"),
    (variant("<image>", '<image id="1">'), "exactly one <image> element"),
    (variant("<bundler>", "<bundler><image></image>"), "exactly one <image> element"),
    (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><manifest>&a;</manifest>',
     "forbidden XML features"),
]


@pytest.mark.parametrize(("xml", "reason"), BAD, ids=[r for _, r in BAD])
def test_rejects_with_a_precise_reason(xml: bytes, reason: str) -> None:
    with pytest.raises(ManifestError) as err:
        parse_manifest(xml)
    assert reason in err.value.reason
    assert err.value.code == "failed_manifest"


def test_parts_are_sorted_by_index() -> None:
    part0 = FIXTURE[FIXTURE.index(P0):FIXTURE.index(P1)]
    part1 = FIXTURE[FIXTURE.index(P1):FIXTURE.index("</parts>")]
    xml = FIXTURE.replace(part0 + part1, part1 + part0).encode()
    assert [p.filename for p in parse_manifest(xml).parts] == ["1mb.part.0", "1mb.part.1"]


def test_real_digest_is_kept_and_empty_sha1_is_none() -> None:
    real = "ab" * 20
    assert parse_manifest(variant("da39a3ee5e6b4b0d3255bfef95601890afd80709", real)).digest == real
    assert parse_manifest(FIXTURE.encode()).digest is None


def test_whitespace_and_pretty_printing_are_accepted() -> None:
    xml = FIXTURE.replace("><", ">\n  <").encode()
    m = parse_manifest(xml)
    assert m.size == 1048576 and m.raw_image.startswith(b"<image>\n  <name>")


@pytest.mark.parametrize(("name", "why"), [
    ("a\0b", "control character"), ("a\nb", "control character"), ("", "is empty"),
    (".", "is '.'"), ("x" * 1025, "longer than 1024"), ("a/b", "path separator")])
def test_part_filename_rules(name: str, why: str) -> None:
    assert why in (check_part_filename(name) or "")


def test_plain_names_are_fine() -> None:
    assert check_part_filename("my..image.part.07") is None


GOLDEN = (
    '<?xml version="1.0"?><manifest><version>2007-10-10</version>'
    "<bundler><name>objectstore</name><version>1.0</version><release>0</release></bundler>"
    "<machine_configuration><architecture>i386</architecture>"
    "<block_device_mapping><mapping><virtual>ami</virtual><device>sda1</device></mapping>"
    "<mapping><virtual>root</virtual><device>/dev/sda1</device></mapping></block_device_mapping>"
    "<kernel_id>aki-1</kernel_id><ramdisk_id>ari-1</ramdisk_id>"
    "<product_codes><product_code>pc1</product_code></product_codes></machine_configuration>"
    "<image><name>a&amp;b</name><user>42</user><type>machine</type>"
    '<digest algorithm="SHA1">da39a3ee5e6b4b0d3255bfef95601890afd80709</digest>'
    "<size>10</size><bundled_size>32</bundled_size>"
    '<ec2_encrypted_key algorithm="AES-128-CBC">aa</ec2_encrypted_key>'
    '<user_encrypted_key algorithm="AES-128-CBC">bb</user_encrypted_key>'
    "<ec2_encrypted_iv>cc</ec2_encrypted_iv><user_encrypted_iv>dd</user_encrypted_iv>"
    '<parts count="1"><part index="0"><filename>a.part.0</filename>'
    f'<digest algorithm="SHA1">{"e" * 40}</digest></part></parts></image>'
    "<signature>5167</signature></manifest>").encode()


def test_writer_uses_the_standard_element_order() -> None:
    m = Manifest(name="a&b", user="42", image_type="machine", architecture="i386",
                 kernel_id="aki-1", ramdisk_id="ari-1", digest=None, size=10, bundled_size=32,
                 ec2_encrypted_key="aa", ec2_encrypted_iv="cc", user_encrypted_key="bb",
                 user_encrypted_iv="dd", parts=(Part(0, "a.part.0", "e" * 40),),
                 block_device_mapping=(("root", "/dev/sda1"), ("ami", "sda1")),
                 product_codes=("pc1",), bundler=("objectstore", "1.0", "0"))
    signed: list[bytes] = []

    def signer(data: bytes) -> str:
        signed.append(data)
        return "5167"

    xml = render_manifest(m, signer)
    assert xml == GOLDEN
    back = parse_manifest(xml)
    assert signed == [back.signed_bytes]
    assert back.name == "a&b" and back.block_device_mapping == (("ami", "sda1"),
                                                                ("root", "/dev/sda1"))


def test_writer_refuses_control_characters() -> None:
    m = parse_manifest(FIXTURE.encode())
    with pytest.raises(ValueError, match="control character"):
        render_manifest(Manifest(**{**{f: getattr(m, f) for f in m.__dataclass_fields__},
                                    "name": "a\x01"}))
