"""The keyring file and its sealing (storage/keyring.py), and log redaction."""

from __future__ import annotations

import json
import logging
import string
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objectstore.server.redact import REDACTED, RedactFilter, redact
from objectstore.storage.keyring import SECRETS, Keyring, KeyringError, is_sealed


def test_seal_and_open_bind_to_the_row(tmp_path: Path) -> None:
    ring = Keyring.open(tmp_path / "k" / "ring.json", create=True)
    sealed = ring.seal(SECRETS, b"s3cr3t", b"access-key:A")
    assert is_sealed(sealed) and b"s3cr3t" not in sealed.encode()
    assert sealed.split(":")[1] == ring.active_id(SECRETS)
    assert ring.open_sealed(sealed, b"access-key:A") == b"s3cr3t"
    assert ring.seal(SECRETS, b"s3cr3t", b"access-key:A") != sealed  # fresh nonce
    with pytest.raises(KeyringError):
        ring.open_sealed(sealed, b"access-key:B")
    tampered = sealed[:-6] + ("AAAA" if sealed[-6:-2] != "AAAA" else "BBBB") + sealed[-2:]
    with pytest.raises(KeyringError):
        ring.open_sealed(tampered, b"access-key:A")


def test_missing_keyring_is_not_created_unless_asked(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="does not exist"):
        Keyring.open(tmp_path / "ring.json", create=False)
    assert not (tmp_path / "ring.json").exists()


def test_rotation_keeps_old_keys_and_reaches_other_readers(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    writer, reader = Keyring.open(path, create=True), Keyring(path)
    old_id = writer.active_id(SECRETS)
    old = writer.seal(SECRETS, b"one", b"r")
    new_id = writer.rotate(SECRETS)
    assert new_id != old_id and writer.active_id(SECRETS) == new_id
    new = writer.seal(SECRETS, b"two", b"r")
    assert new.split(":")[1] == new_id
    assert reader.open_sealed(new, b"r") == b"two"  # the reader loads the replaced file
    assert reader.open_sealed(old, b"r") == b"one"  # retired keys still open
    assert [k.active for k in reader.keys()] == [False, True]
    assert writer.prune(SECRETS, in_use={old_id}) == []
    assert writer.prune(SECRETS, in_use=set()) == [old_id]
    with pytest.raises(KeyringError, match="no key"):
        Keyring(path).open_sealed(old, b"r")
    assert not hasattr(reader.keys()[0], "key")  # what is shown never holds the key
    doc = json.loads(path.read_text())
    assert [k["id"] for k in doc["keys"]] == [new_id]


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        ids.append(Keyring.open(path, create=True).active_id(SECRETS))
    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ring.json"]  # no temp files left


@pytest.mark.parametrize("content", [b"", b"{}", b"not json", b'{"version": 2, "keys": []}',
                                     b'{"version": 1, "keys": [{"id": "k1"}]}'])
def test_damaged_keyring_is_an_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "ring.json").write_bytes(content)
    with pytest.raises(KeyringError):
        Keyring(tmp_path / "ring.json")


def test_redact_query_values_and_fields() -> None:
    line = ('GET /b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc123&x=1 '
            'AWSAccessKeyId=AK&Signature=p%2Bq%3D&Expires=1')
    out = redact(line)
    assert "abc123" not in out and "p%2Bq%3D" not in out
    assert "X-Amz-Signature=REDACTED&x=1" in out and "&Signature=REDACTED&" in out
    assert "X-Amz-Credential=AK%2F1" in out  # not a secret
    assert redact("Credential=AK/x, SignedHeaders=host, Signature=deadbeef") \
        .endswith("Signature=REDACTED")
    assert "k3y" not in redact("{'x-amz-server-side-encryption-customer-key': 'k3y'}")
    assert redact("nothing to hide") == "nothing to hide"


@given(st.text(alphabet=string.ascii_letters + string.digits + "%+/=-_.~:", min_size=1))
def test_redact_never_lets_a_signature_through(value: str) -> None:
    for name in ("X-Amz-Signature", "Signature", "X-Amz-Security-Token"):
        line = f"/b/k?a=1&{name}={value}"
        out = redact(line)
        assert out == f"/b/k?a=1&{name}={REDACTED}"


def test_filter_keeps_the_access_log_argument_shape() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/b/k?Signature=xyz", "1.1", 200), None)
    assert RedactFilter().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.args[2] == "/b/k?Signature=REDACTED" and record.args[4] == 200
