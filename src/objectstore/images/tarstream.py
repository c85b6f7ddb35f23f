"""A streaming reader for a tar archive that must hold exactly one regular file.

Reads ustar, GNU (long names, base-256 sizes, old-style sparse members as written by
``tar -c -S``) and pax headers. Rejects links, devices, directories, FIFOs, absolute or
``..`` names, any second member and non-zero data after the end of the archive. Memory
stays bounded: file data is passed through, holes of sparse files are produced in
``chunk_size`` pieces (or, given a ``hole`` callback, only announced so that the sink can
seek instead of writing zeros), and only headers (capped by ``max_metadata_bytes``) are
buffered. A member's expanded size (sparse or not) is checked against ``expected_size``
from its header, before a single byte or hole reaches the sink.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from objectstore.images.errors import BundleError, Failure

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_OCTAL = re.compile(rb"[0-7]+")
_REJECTED = {
    b"1": "a hard link", b"2": "a symbolic link", b"3": "a character device",
    b"4": "a block device", b"5": "a directory", b"6": "a FIFO", b"V": "a volume label",
    b"M": "a multi-volume continuation", b"N": "an old GNU long-name entry",
    b"D": "a GNU dump directory",
}

# states
_HEADER, _META, _SPARSE_EXT, _DATA, _PAD, _TRAILER = range(6)


def _untar(reason: str) -> BundleError:
    return BundleError(Failure.UNTAR, reason)


def _cstr(field: bytes) -> bytes:
    end = field.find(b"\0")
    return field if end < 0 else field[:end]


def _number(field: bytes, what: str) -> int:
    if field and field[0] & 0x80:
        if field[0] != 0x80:
            raise _untar(f"the tar header has a negative {what}")
        return int.from_bytes(field[1:], "big")
    text = field.replace(b"\0", b" ").strip()
    if not text:
        return 0
    if not _OCTAL.fullmatch(text):
        raise _untar(f"the tar header's {what} field {text!r} is not an octal number")
    return int(text, 8)


def _round(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


def _check_name(name: str) -> None:
    if not name:
        raise _untar("the archive's file has an empty name")
    if "\0" in name:
        raise _untar(f"the archive's file name {name!r} contains NUL")
    if name.startswith("/"):
        raise _untar(f"the archive's file has an absolute name {name!r}")
    if ".." in name.split("/"):
        raise _untar(f"the archive's file name {name!r} has a '..' component")
    if name.endswith("/"):
        raise _untar(f"the archive's member {name!r} is a directory")


class TarReader:
    """Feed the tar stream; the one file's bytes go to ``sink``.

    ``expected_size`` is checked against the member's header before any data flows.
    ``hole(n)``, when given, receives the ``n`` zero bytes of each hole of a sparse member
    in place of ``sink(bytes(n))`` (the sink's position moves on by ``n``).
    """

    def __init__(self, expected_size: int, sink: Callable[[bytes], None], *,
                 chunk_size: int = 1 << 20, max_metadata_bytes: int = 64 * 1024,
                 max_trailer_bytes: int = 1 << 20,
                 hole: Callable[[int], None] | None = None) -> None:
        self._expected = expected_size
        self._sink = sink
        self._hole = hole
        self._chunk = chunk_size
        self._max_meta = max_metadata_bytes
        self._max_trailer = max_trailer_bytes
        self._state = _HEADER
        self._buf = bytearray()
        self._need = BLOCK  # bytes to buffer (header states) or to pass (data states)
        self._meta_used = 0
        self._meta_kind = b""
        self._pax: dict[str, str] = {}
        self._longname: str | None = None
        self._member_seen = False
        self._trailer = 0
        self._written = 0
        self._pad = 0
        # sparse map: (offset, length) segments of a GNU sparse member
        self._sparse: list[tuple[int, int]] | None = None
        self._sparse_real = 0
        self._sparse_stored = 0
        self._meta_size = 0
        self._seg = 0
        self._seg_done = 0
        self.member_name: str | None = None

    @property
    def written(self) -> int:
        return self._written

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._state == _DATA:
                n = min(len(view), self._need)
                self._data(view[:n])
                view = view[n:]
                self._need -= n
                if not self._need:
                    self._end_data()
            elif self._state == _PAD:
                n = min(len(view), self._need)
                view = view[n:]
                self._need -= n
                if not self._need:
                    self._state, self._need = _HEADER, BLOCK
            elif self._state == _TRAILER:
                self._trailing(bytes(view))
                return
            else:
                n = min(len(view), self._need - len(self._buf))
                self._buf += view[:n]
                view = view[n:]
                if len(self._buf) == self._need:
                    block = bytes(self._buf)
                    self._buf.clear()
                    self._block(block)

    def finish(self) -> None:
        if self._state in (_HEADER, _TRAILER) and not self._buf and self._member_seen:
            if self._written != self._expected:  # unreachable unless the header lied
                raise BundleError(Failure.CHECKSUM, f"the image is {self._written} bytes "
                                  f"but the manifest size is {self._expected}")
            return
        if not self._member_seen and self._state in (_HEADER, _TRAILER) and not self._buf:
            raise _untar("the archive holds no file")
        raise _untar("the archive is truncated")

    # ------------------------------------------------------------ headers

    def _block(self, block: bytes) -> None:
        if self._state == _HEADER:
            self._header(block)
        elif self._state == _META:
            self._metadata(block)
        else:
            self._sparse_extension(block)

    def _header(self, block: bytes) -> None:
        if block == _ZERO_BLOCK:
            if not self._member_seen:
                raise _untar("the archive holds no file")
            self._state = _TRAILER
            self._trailing(b"")
            return
        self._check_checksum(block)
        name = self._name(block)
        if self._member_seen:
            raise _untar(f"the archive holds more than one member (the second is {name!r})")
        flag = block[156:157]
        size = _number(block[124:136], "size")
        if flag in (b"x", b"g", b"L", b"K"):
            self._meta_used += _round(size) + BLOCK
            if self._meta_used > self._max_meta:
                raise _untar(f"the archive's extended headers exceed {self._max_meta} bytes")
            self._state, self._need, self._meta_kind = _META, _round(size), flag
            self._meta_size = size
            if size == 0:
                self._state, self._need = _HEADER, BLOCK
            return
        if flag in _REJECTED:
            raise _untar(f"the archive's member {name!r} is {_REJECTED[flag]}, "
                         "not a regular file")
        if flag not in (b"0", b"\0", b"7", b"S"):
            raise _untar(f"the archive's member {name!r} has unsupported type {flag!r}")
        _check_name(name)
        self.member_name = name
        self._member_seen = True
        if "size" in self._pax:
            size = self._pax_int("size")
        if flag == b"S":
            self._start_sparse(block, size)
        else:
            self._start_data(size, size)

    def _check_checksum(self, block: bytes) -> None:
        try:
            stored = _number(block[148:156], "checksum")
        except BundleError:
            stored = -1
        blanked = block[:148] + b" " * 8 + block[156:]
        unsigned = sum(blanked)
        signed = unsigned - 256 * sum(1 for b in blanked if b > 127)
        if stored not in (unsigned, signed):
            raise _untar("the data is not a tar archive (header checksum mismatch)")
        magic = block[257:263]
        if magic not in (b"ustar\0", b"ustar ", bytes(6)):
            raise _untar(f"the tar header has an unknown magic {magic!r}")

    def _name(self, block: bytes) -> str:
        if "path" in self._pax:
            return self._pax["path"]
        if self._longname is not None:
            return self._longname
        name = _cstr(block[0:100])
        prefix = _cstr(block[345:500])
        if block[257:263] == b"ustar\0" and prefix:
            name = prefix + b"/" + name
        return name.decode("utf-8", "replace")

    def _metadata(self, block: bytes) -> None:
        data = block[:self._meta_size]
        if self._meta_kind in (b"x", b"g"):
            self._parse_pax(data)
        elif self._meta_kind == b"L":
            self._longname = _cstr(data).decode("utf-8", "replace")
        # "K" (long link target) only matters for links, which are rejected anyway
        self._state, self._need = _HEADER, BLOCK

    def _parse_pax(self, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            space = data.find(b" ", pos)
            length_text = data[pos:space] if space > 0 else b""
            if not length_text.isdigit():
                raise _untar("malformed pax extended header")
            end = pos + int(length_text)
            record = data[space + 1:end]
            if end > len(data) or not record.endswith(b"\n") or b"=" not in record:
                raise _untar("malformed pax extended header")
            key, _, value = record[:-1].partition(b"=")
            text_key = key.decode("utf-8", "replace")
            if text_key.startswith("GNU.sparse."):
                raise _untar("pax-format sparse files are not supported "
                             "(bundle with GNU tar's default format)")
            self._pax[text_key] = value.decode("utf-8", "replace")
            pos = end

    def _pax_int(self, key: str) -> int:
        value = self._pax[key]
        if not value.isdigit():
            raise _untar(f"the pax header's {key} {value!r} is not a number")
        return int(value)

    # ------------------------------------------------------------ data

    def _start_data(self, stored: int, real: int) -> None:
        if real != self._expected:
            raise BundleError(Failure.CHECKSUM, f"the archive's file is {real} bytes but "
                              f"the manifest size is {self._expected}")
        self._pad = _round(stored) - stored
        self._state, self._need = _DATA, stored
        if not stored:
            self._end_data()

    def _start_sparse(self, block: bytes, stored: int) -> None:
        self._sparse = []
        self._sparse_real = _number(block[483:495], "sparse real size")
        self._sparse_stored = stored
        self._add_segments(block[386:482], 4)
        if block[482]:
            self._state, self._need = _SPARSE_EXT, BLOCK
        else:
            self._begin_sparse_data()

    def _sparse_extension(self, block: bytes) -> None:
        self._meta_used += BLOCK
        if self._meta_used > self._max_meta:
            raise _untar(f"the archive's sparse map exceeds {self._max_meta} bytes")
        self._add_segments(block[:504], 21)
        if block[504]:
            self._need = BLOCK
        else:
            self._begin_sparse_data()

    def _add_segments(self, area: bytes, count: int) -> None:
        assert self._sparse is not None
        for i in range(count):
            entry = area[i * 24:(i + 1) * 24]
            if not entry.strip(b"\0"):
                continue
            offset = _number(entry[:12], "sparse offset")
            length = _number(entry[12:], "sparse length")
            self._sparse.append((offset, length))

    def _begin_sparse_data(self) -> None:
        assert self._sparse is not None
        end = 0
        for offset, length in self._sparse:
            if offset < end or offset + length > self._sparse_real:
                raise _untar("the archive's sparse map is invalid (overlapping or out of range)")
            end = offset + length
        if sum(length for _, length in self._sparse) != self._sparse_stored:
            raise _untar("the archive's sparse map does not match the stored size")
        self._seg = self._seg_done = 0
        self._start_data(self._sparse_stored, self._sparse_real)

    def _data(self, piece: memoryview) -> None:
        if self._sparse is None:
            self._out(piece)
            return
        while piece:
            offset, length = self._sparse[self._seg]
            if self._seg_done == 0:
                self._zeros(offset - self._written)
            n = min(len(piece), length - self._seg_done)
            self._out(piece[:n])
            piece = piece[n:]
            self._seg_done += n
            if self._seg_done == length:
                self._seg, self._seg_done = self._seg + 1, 0

    def _end_data(self) -> None:
        if self._sparse is not None:
            self._zeros(self._sparse_real - self._written)
        self._pax.clear()
        self._longname = None
        self._state, self._need = (_PAD, self._pad) if self._pad else (_HEADER, BLOCK)

    def _out(self, piece: memoryview) -> None:
        if piece:
            if self._written + len(piece) > self._expected:  # unreachable: size checked
                raise BundleError(Failure.CHECKSUM, "the archive's file grows beyond the "
                                  f"manifest size of {self._expected}")
            self._written += len(piece)
            self._sink(bytes(piece))

    def _zeros(self, n: int) -> None:
        if n > 0 and self._written + n > self._expected:  # unreachable: real size checked
            raise BundleError(Failure.CHECKSUM, "the archive's file grows beyond the "
                              f"manifest size of {self._expected}")
        if self._hole is not None:
            if n > 0:
                self._written += n
                self._hole(n)
            return
        while n > 0:
            step = min(n, self._chunk)
            self._written += step
            self._sink(bytes(step))
            n -= step

    def _trailing(self, data: bytes) -> None:
        if data.strip(b"\0"):
            raise _untar("the archive has data after its end (a second member?)")
        self._trailer += len(data) + (0 if data else BLOCK)
        if self._trailer > self._max_trailer:
            raise _untar(f"the archive has more than {self._max_trailer} bytes of "
                         "zeros after its end")
