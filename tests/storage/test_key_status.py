"""Access-key status (Active / Inactive) and rotation, on both metadata stores."""

from __future__ import annotations

import time

import pytest

from objectstore.service import accounts, admin_stats
from objectstore.service.stores import Stores
from objectstore.storage.meta import Conflict, NotFound
from objectstore.storage.model import AccessKey


def _user(stores: Stores) -> AccessKey:
    accounts.create_account(stores.meta, "team")
    accounts.create_user(stores.meta, "ann", "team", False)
    return accounts.create_key(stores.meta, "ann", "AKANN", "s" * 40)


def test_an_inactive_key_is_not_found_by_lookups(stores: Stores) -> None:
    meta = stores.meta
    _user(stores)
    assert meta.lookup_key("AKANN") is not None
    meta.set_key_status("AKANN", "Inactive")
    assert meta.lookup_key("AKANN") is None  # as an unknown key: InvalidAccessKeyId
    info = meta.key_info("AKANN")
    assert info is not None and (info.status, info.secret, info.user_name) == \
        ("Inactive", "", "ann")
    assert [k.status for k in meta.list_keys("ann")] == ["Inactive"]
    assert meta.list_keys("ann")[0].secret == "s" * 40
    meta.set_key_status("AKANN", "Active")
    found = meta.lookup_key("AKANN")
    assert found is not None and found[0] == "s" * 40
    with pytest.raises(NotFound):
        meta.set_key_status("NOSUCHKEY", "Inactive")
    with pytest.raises(ValueError):
        meta.set_key_status("AKANN", "Paused")


def test_rotation_adds_a_key_and_deactivates_the_old_one(stores: Stores) -> None:
    meta = stores.meta
    _user(stores)
    new = accounts.rotate_key(meta, "AKANN")
    assert new.user_name == "ann" and new.status == "Active"
    assert {k.access_key: k.status for k in meta.key_infos("ann")} == \
        {"AKANN": "Inactive", new.access_key: "Active"}
    assert meta.lookup_key("AKANN") is None
    found = meta.lookup_key(new.access_key)
    assert found is not None and found[0] == new.secret
    with pytest.raises(Conflict):  # the new key exists: nothing changes
        meta.rotate_key(new.access_key, AccessKey("AKANN", "x" * 40, "ann", 0.0))
    assert meta.lookup_key(new.access_key) is not None
    with pytest.raises(accounts.AdminError) as err:
        accounts.rotate_key(meta, "NOSUCHKEY")
    assert err.value.code == "NoSuchEntity"
    assert admin_stats.keys_per_user(meta)["ann"] == 2


def test_bootstrap_leaves_an_inactive_root_key_inactive(stores: Stores) -> None:
    meta = stores.meta
    accounts.bootstrap(meta, "ROOTKEY", "r" * 40)
    meta.set_key_status("ROOTKEY", "Inactive")
    again = accounts.bootstrap(meta, "ROOTKEY", "r" * 40)  # a restart with the same env
    assert not again.created and meta.lookup_key("ROOTKEY") is None
    info = meta.key_info("ROOTKEY")
    assert info is not None and info.status == "Inactive"


def test_deactivating_a_key_ends_its_sessions(stores: Stores) -> None:
    meta = stores.meta
    _user(stores)
    later = time.time() + 3600
    meta.add_session("ASIAONE", "t" * 40, "0" * 64, "ann", "AKANN", later)
    meta.set_key_status("AKANN", "Active")  # (no change: the session lives on)
    found = meta.lookup_session("ASIAONE")
    assert found is not None and found.expires == later
    meta.set_key_status("AKANN", "Inactive")
    found = meta.lookup_session("ASIAONE")
    assert found is not None and found.expires <= time.time()
    meta.set_key_status("AKANN", "Active")  # ended for good
    found = meta.lookup_session("ASIAONE")
    assert found is not None and found.expires <= time.time()
    assert meta.list_sessions("ann") == []


def test_no_session_is_stored_for_an_inactive_or_deleted_key(stores: Stores) -> None:
    """GetSessionToken authenticated just before its key was deactivated stores nothing."""
    meta = stores.meta
    _user(stores)
    later = time.time() + 3600
    meta.set_key_status("AKANN", "Inactive")
    with pytest.raises(NotFound):
        meta.add_session("ASIATWO", "t" * 40, "0" * 64, "ann", "AKANN", later)
    assert meta.lookup_session("ASIATWO") is None


def test_a_key_made_again_gets_no_session_back(stores: Stores) -> None:
    meta = stores.meta
    _user(stores)
    later = time.time() + 3600
    meta.add_session("ASIATHREE", "t" * 40, "0" * 64, "ann", "AKANN", later)
    meta.delete_key("AKANN")
    assert meta.lookup_session("ASIATHREE") is None
    accounts.create_key(meta, "ann", "AKANN", "s" * 40)
    found = meta.lookup_session("ASIATHREE")
    assert found is not None and found.expires <= time.time()
