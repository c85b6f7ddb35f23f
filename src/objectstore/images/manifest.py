"""EC2 image bundle manifests, version 2007-10-10: a strict parser and the standard writer.

The signature covers the raw text of ``<machine_configuration>…</machine_configuration>``
followed by ``<image>…</image>``, found by plain substring search (as ec2-ami-tools does).
So that what is signed is what is read, each of those two elements must appear exactly
once, written without attributes, and its raw text must parse to the very element the
document holds; comments or CDATA hiding a second ``<image>`` are therefore rejected.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from objectstore.images.errors import ManifestError

VERSION = "2007-10-10"
EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"  # euca2ools 1.x wrote this
IMAGE_TYPES = ("machine", "kernel", "ramdisk")
CIPHER = "AES-128-CBC"
DIGEST_ALGORITHM = "SHA1"
_HEX = re.compile(r"[0-9a-fA-F]+")
_INT = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in XML text
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_ENCODINGS = ("utf-8", "utf8", "us-ascii", "ascii")
MAX_DEPTH = 8  # <manifest><image><parts><part><digest> is 5 deep


@dataclass(frozen=True, slots=True)
class Part:
    index: int
    filename: str  # a plain name, relative to the manifest's folder
    digest: str  # lowercase hex SHA1 of the (encrypted) part file


@dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    user: str
    image_type: str  # machine | kernel | ramdisk
    architecture: str | None
    kernel_id: str | None  # "true": this bundle is itself a kernel
    ramdisk_id: str | None  # "true": this bundle is itself a ramdisk
    digest: str | None  # hex SHA1 of the tar stream; None when absent or SHA1("")
    size: int  # image bytes
    bundled_size: int  # sum of the part sizes
    ec2_encrypted_key: str  # hex
    ec2_encrypted_iv: str  # hex
    parts: tuple[Part, ...]  # sorted by index, indexes 0..N-1
    user_encrypted_key: str | None = None
    user_encrypted_iv: str | None = None
    block_device_mapping: tuple[tuple[str, str], ...] = ()  # (virtual, device)
    product_codes: tuple[str, ...] = ()
    kernel_name: str | None = None
    bundler: tuple[str, str, str] | None = None  # (name, version, release)
    signature: str | None = None  # hex
    raw_machine_configuration: bytes = field(default=b"", repr=False)
    raw_image: bytes = field(default=b"", repr=False)

    @property
    def signed_bytes(self) -> bytes:
        """What the signature covers: machine_configuration text + image text."""
        return self.raw_machine_configuration + self.raw_image


# ---------------------------------------------------------------- parsing

def parse_manifest(data: bytes) -> Manifest:
    """Parse and check a manifest; raise :class:`ManifestError` with a precise reason."""
    root = _parse_xml(data, "manifest")
    if root.tag != "manifest":
        raise ManifestError(f"the document element is <{root.tag}>, not <manifest>")
    version = _text(root, "version")
    if version != VERSION:
        raise ManifestError(f"unsupported manifest version {version!r} (expected {VERSION})")
    raw_mc = _raw_element(data, root, "machine_configuration", required=False)
    raw_image = _raw_element(data, root, "image", required=True)
    mc = _one(root, "machine_configuration", "manifest")
    image = _one(root, "image", "manifest")
    assert image is not None
    bundler = _one(root, "bundler", "manifest")
    digest = _hex_text(image, "digest", "image/digest", 40)
    _check_algorithm(image, "digest", DIGEST_ALGORITHM)
    _check_algorithm(image, "ec2_encrypted_key", CIPHER)
    image_type = _req(image, "type", "image")
    if image_type not in IMAGE_TYPES:
        raise ManifestError(f"image/type is {image_type!r}; expected machine, kernel or ramdisk")
    size = _int_text(image, "size")
    return Manifest(
        name=_req(image, "name", "image"),
        user=_text(image, "user") or "",
        image_type=image_type,
        architecture=_text(mc, "architecture"),
        kernel_id=_text(mc, "kernel_id"),
        ramdisk_id=_text(mc, "ramdisk_id"),
        digest=None if digest == EMPTY_SHA1 else digest,
        size=size,
        bundled_size=_int_text(image, "bundled_size"),
        ec2_encrypted_key=_hex_text(image, "ec2_encrypted_key", "image/ec2_encrypted_key"),
        ec2_encrypted_iv=_hex_text(image, "ec2_encrypted_iv", "image/ec2_encrypted_iv"),
        parts=_parts(image),
        user_encrypted_key=_opt_hex(image, "user_encrypted_key"),
        user_encrypted_iv=_opt_hex(image, "user_encrypted_iv"),
        block_device_mapping=_mappings(mc),
        product_codes=_product_codes(mc),
        kernel_name=_text(image, "kernel_name"),
        bundler=None if bundler is None else (
            _text(bundler, "name") or "", _text(bundler, "version") or "",
            _text(bundler, "release") or ""),
        signature=_opt_hex(root, "signature"),
        raw_machine_configuration=raw_mc,
        raw_image=raw_image,
    )


def _parse_xml(data: bytes, what: str, *, check_depth: bool = True) -> ET.Element:
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00")) or (
            len(data) > 1 and data[1] == 0):
        raise ManifestError(f"{what} is not UTF-8 (a byte-order mark or UTF-16/32 text); "
                            "the signed text is found by byte search, so only UTF-8 is read")
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _ENCODINGS:
        raise ManifestError(f"{what} declares the encoding "
                            f"{declared.group(1).decode('ascii', 'replace')[:40]!r}; "
                            "only UTF-8 is supported")
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ManifestError(f"{what} uses forbidden XML features ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ManifestError(f"{what} is not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # e.g. an encoding expat cannot use
        raise ManifestError(f"{what} cannot be read: {exc}") from None
    if check_depth:
        _check_depth(root, what)
    return root


def _check_depth(root: ET.Element, what: str) -> None:
    """Refuse documents nested deeper than any manifest is (level by level: no recursion)."""
    level = [root]
    for _ in range(MAX_DEPTH):
        level = [child for elem in level for child in elem]
        if not level:
            return
    raise ManifestError(f"{what} nests elements more than {MAX_DEPTH} deep")


def _raw_element(data: bytes, root: ET.Element, tag: str, *, required: bool) -> bytes:
    start, end = f"<{tag}>".encode(), f"</{tag}>".encode()
    n_start, n_end = data.count(start), data.count(end)
    n_elems = len(root.findall(tag))
    if n_start == n_end == n_elems == 0 and not required:
        return b""
    if not n_start == n_end == n_elems == 1:
        raise ManifestError(
            f"the manifest must hold exactly one <{tag}> element, written as <{tag}>…</{tag}> "
            "(the signed text is found by that literal tag)")
    i = data.index(start)
    j = data.find(end, i)
    if j < 0:
        raise ManifestError(f"</{tag}> comes before <{tag}>")
    raw = data[i:j + len(end)]
    elem = root.find(tag)
    assert elem is not None
    # (no depth check: _same stops at the first level where the trees differ, and the
    # document's own tree has been checked)
    if not _same(_parse_xml(raw, f"the <{tag}> text", check_depth=False), elem):
        raise ManifestError(f"the raw <{tag}> text does not match the parsed <{tag}> element")
    return raw


def _same(a: ET.Element, b: ET.Element) -> bool:
    if (a.tag, a.attrib, a.text or "") != (b.tag, b.attrib, b.text or "") or len(a) != len(b):
        return False
    return all((x.tail or "") == (y.tail or "") and _same(x, y) for x, y in zip(a, b, strict=True))


def _one(parent: ET.Element | None, tag: str, where: str) -> ET.Element | None:
    if parent is None:
        return None
    found = parent.findall(tag)
    if len(found) > 1:
        raise ManifestError(f"{where}/{tag} appears {len(found)} times")
    return found[0] if found else None


def _text(parent: ET.Element | None, tag: str) -> str | None:
    elem = _one(parent, tag, parent.tag if parent is not None else "")
    if elem is None:
        return None
    if len(elem):
        raise ManifestError(f"{parent.tag if parent is not None else ''}/{tag} "
                            "must hold text, not elements")
    return (elem.text or "").strip() or None


def _req(parent: ET.Element, tag: str, where: str) -> str:
    value = _text(parent, tag)
    if value is None:
        raise ManifestError(f"{where}/{tag} is missing or empty")
    return value


def _int_text(image: ET.Element, tag: str) -> int:
    value = _req(image, tag, "image")
    if not _INT.fullmatch(value):
        raise ManifestError(f"image/{tag} is {value!r}, not a byte count")
    return int(value)


def _hex_text(parent: ET.Element, tag: str, where: str, length: int | None = None) -> str:
    value = _text(parent, tag)
    if value is None:
        raise ManifestError(f"{where} is missing or empty")
    return _check_hex(value, where, length)


def _opt_hex(parent: ET.Element, tag: str) -> str | None:
    value = _text(parent, tag)
    return None if value is None else _check_hex(value, f"{parent.tag}/{tag}", None)


def _check_hex(value: str, where: str, length: int | None) -> str:
    if not _HEX.fullmatch(value) or len(value) % 2:
        raise ManifestError(f"{where} is not hexadecimal")
    if length is not None and len(value) != length:
        raise ManifestError(f"{where} has {len(value)} hex digits, expected {length}")
    return value.lower()


def _check_algorithm(image: ET.Element, tag: str, expected: str) -> None:
    elem = image.find(tag)
    algorithm = None if elem is None else elem.get("algorithm")
    if algorithm is not None and algorithm.strip().upper() != expected:
        raise ManifestError(f"image/{tag} algorithm is {algorithm!r}; only {expected} is supported")


def _mappings(mc: ET.Element | None) -> tuple[tuple[str, str], ...]:
    bdm = _one(mc, "block_device_mapping", "machine_configuration")
    if bdm is None:
        return ()
    out = []
    for mapping in bdm.findall("mapping"):
        virtual, device = _text(mapping, "virtual"), _text(mapping, "device")
        if virtual is None or device is None:
            raise ManifestError("a block_device_mapping/mapping lacks virtual or device")
        out.append((virtual, device))
    return tuple(out)


def _product_codes(mc: ET.Element | None) -> tuple[str, ...]:
    codes = _one(mc, "product_codes", "machine_configuration")
    if codes is None:
        return ()
    return tuple((c.text or "").strip() for c in codes.findall("product_code")
                 if (c.text or "").strip())


def check_part_filename(name: str) -> str | None:
    """Why ``name`` is not a plain file name (None when it is one)."""
    if not name:
        return "is empty"
    if name in (".", ".."):
        return f"is {name!r}"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if _NAME_CONTROL.search(name):
        return "contains a control character"
    if len(name.encode("utf-8")) > 1024:
        return "is longer than 1024 bytes"
    return None


def _parts(image: ET.Element) -> tuple[Part, ...]:
    parts_elem = _one(image, "parts", "image")
    if parts_elem is None:
        raise ManifestError("image/parts is missing")
    count_text = (parts_elem.get("count") or "").strip()
    if not _INT.fullmatch(count_text):
        raise ManifestError(f"image/parts@count is {count_text!r}, not a number")
    count = int(count_text)
    elems = parts_elem.findall("part")
    if len(elems) != count:
        raise ManifestError(f"image/parts@count says {count} parts but {len(elems)} are listed")
    if len(parts_elem) != count:
        raise ManifestError("image/parts holds elements other than <part>")
    by_index: dict[int, Part] = {}
    names: dict[str, int] = {}
    for elem in elems:
        index_text = (elem.get("index") or "").strip()
        if not _INT.fullmatch(index_text):
            raise ManifestError(f"a part has index {index_text!r}, not a number")
        index = int(index_text)
        if index >= count:
            raise ManifestError(f"part index {index} is out of range 0..{count - 1}")
        if index in by_index:
            raise ManifestError(f"part index {index} appears twice")
        filename = _text(elem, "filename")
        if filename is None:
            raise ManifestError(f"part {index} has no filename")
        why = check_part_filename(filename)
        if why is not None:
            raise ManifestError(f"part {index} filename {filename!r} {why}; "
                                "part names must be plain names in the manifest's folder")
        if filename in names:
            raise ManifestError(f"parts {names[filename]} and {index} share "
                                f"the filename {filename!r}")
        names[filename] = index
        _check_algorithm(elem, "digest", DIGEST_ALGORITHM)
        digest = _hex_text(elem, "digest", f"part {index} digest", 40)
        by_index[index] = Part(index, filename, digest)
    if count == 0:
        raise ManifestError("the manifest lists no parts")
    return tuple(by_index[i] for i in range(count))


# ---------------------------------------------------------------- writing

def render_manifest(m: Manifest, signer: Callable[[bytes], str] | None = None) -> bytes:
    """The manifest in the standard form (ec2-ami-tools element order, no whitespace).

    ``signer`` gets the bytes to sign (machine_configuration + image) and returns the hex
    signature; without one no <signature> is written. ``m.signature`` and the raw fields
    are ignored.
    """
    mc = _render_machine_configuration(m)
    image = _render_image(m)
    out = ['<?xml version="1.0"?><manifest>', _el("version", VERSION)]
    if m.bundler is not None:
        name, version, release = m.bundler
        out.append("<bundler>" + _el("name", name) + _el("version", version)
                   + _el("release", release) + "</bundler>")
    body = "".join(out).encode() + mc + image
    if signer is not None:
        body += _el("signature", signer(mc + image)).encode()
    return body + b"</manifest>"


def _render_machine_configuration(m: Manifest) -> bytes:
    inner = []
    if m.architecture is not None:
        inner.append(_el("architecture", m.architecture))
    if m.block_device_mapping:
        inner.append("<block_device_mapping>" + "".join(
            "<mapping>" + _el("virtual", v) + _el("device", d) + "</mapping>"
            for v, d in sorted(m.block_device_mapping)) + "</block_device_mapping>")
    if m.kernel_id is not None:
        inner.append(_el("kernel_id", m.kernel_id))
    if m.ramdisk_id is not None:
        inner.append(_el("ramdisk_id", m.ramdisk_id))
    if m.product_codes:
        inner.append("<product_codes>" + "".join(_el("product_code", c) for c in m.product_codes)
                     + "</product_codes>")
    if not inner:
        return b""
    return ("<machine_configuration>" + "".join(inner) + "</machine_configuration>").encode()


def _render_image(m: Manifest) -> bytes:
    if m.image_type not in IMAGE_TYPES:
        raise ValueError(f"image type {m.image_type!r} is not one of {IMAGE_TYPES}")
    out = ["<image>", _el("name", m.name), _el("user", m.user), _el("type", m.image_type)]
    if m.kernel_name is not None:
        out.append(_el("kernel_name", m.kernel_name))
    out += [
        f'<digest algorithm="{DIGEST_ALGORITHM}">{m.digest or EMPTY_SHA1}</digest>',
        _el("size", m.size),
        _el("bundled_size", m.bundled_size),
        f'<ec2_encrypted_key algorithm="{CIPHER}">{m.ec2_encrypted_key}</ec2_encrypted_key>',
    ]
    if m.user_encrypted_key is not None:
        out.append(f'<user_encrypted_key algorithm="{CIPHER}">'
                   f"{m.user_encrypted_key}</user_encrypted_key>")
    out.append(_el("ec2_encrypted_iv", m.ec2_encrypted_iv))
    if m.user_encrypted_iv is not None:
        out.append(_el("user_encrypted_iv", m.user_encrypted_iv))
    out.append(f'<parts count="{len(m.parts)}">')
    for i, part in enumerate(m.parts):
        if part.index != i:
            raise ValueError(f"part {i} has index {part.index}")
        out.append(f'<part index="{i}">' + _el("filename", part.filename)
                   + f'<digest algorithm="{DIGEST_ALGORITHM}">{part.digest}</digest></part>')
    out.append("</parts></image>")
    return "".join(out).encode()


def _el(tag: str, value: object) -> str:
    text = str(value)
    if _CONTROL.search(text):
        raise ValueError(f"<{tag}> value {text!r} contains a control character")
    return f"<{tag}>{escape(text)}</{tag}>"
