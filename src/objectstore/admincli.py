"""The `objectstore` admin commands (accounts, users, keys, policies, keyring, KMS,
gc, scrub, lifecycle) on a data directory; the parser and `serve` are in cli.py."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from objectstore.s3 import identity, ownership
from objectstore.service import accounts, blob_gc, gateways
from objectstore.service.stores import Stores
from objectstore.storage.keyring import KMS_PREFIX, SECRETS, SSE, KeyringError, valid_purpose
from objectstore.storage.meta import NotFound
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.sse_scan import sse_key_ids

# the account-wide Block Public Access settings, as command-line flags
PAB_FLAGS = ("block-public-acls", "ignore-public-acls", "block-public-policy",
             "restrict-public-buckets")


def admin(args: argparse.Namespace, stores: Stores) -> int:
    meta = stores.meta
    if args.command == "account":
        if args.action == "create":
            acc = accounts.create_account(meta, args.name, args.email)
            print(f"account {acc.name} id {acc.id}")
        elif args.action == "list":
            for acc in meta.list_accounts():
                print(f"{acc.name}\t{acc.id}\t{acc.email}\t{identity.account_number(acc.id)}")
        elif args.action == "public-access-block":
            return _account_public_block(meta, args)
        else:
            accounts.delete_account(meta, args.name)
            print(f"deleted account {args.name}")
    elif args.command == "user":
        if args.action == "create":
            user = accounts.create_user(meta, args.name, args.account, args.admin)
            print(f"user {user.name} in account {args.account}"
                  + (" (admin)" if user.is_admin else ""))
        elif args.action == "list":
            names = meta.account_names()
            for user in meta.list_users():
                flag = "\tadmin" if user.is_admin else ""
                print(f"{user.name}\t{names.get(user.account_id, user.account_id)}{flag}")
        elif args.action == "cert":
            return _user_cert(meta, args)
        elif args.action == "policy":
            return _user_policy(meta, args)
        else:
            accounts.delete_user(meta, args.name)
            print(f"deleted user {args.name}")
    elif args.command == "key":
        if args.action == "create":
            key = accounts.create_key(meta, args.user, args.access_key, args.secret_key)
            print(f"access key: {key.access_key}\nsecret key: {key.secret}")
        elif args.action == "list":
            for key in meta.key_infos(args.user):
                flag = "\tInactive" if key.status == "Inactive" else ""
                print(f"{key.access_key}\t{key.user_name}{flag}")
        elif args.action in ("deactivate", "activate"):
            status = "Inactive" if args.action == "deactivate" else "Active"
            accounts.set_key_status(meta, args.access_key, status)
            print(f"key {args.access_key} is {status}")
        else:
            accounts.delete_key(meta, args.access_key)
            print(f"deleted key {args.access_key}")
    elif args.command == "gc":
        aborted = 0
        for upload_id in stores.uploads.abandoned(args.abandoned_uploads * 86400):
            try:
                stores.meta.run(stores.uploads.abort_txn(upload_id))
                aborted += 1
            except NotFound:
                pass
        print(f"aborted {aborted} abandoned multipart uploads")
        removed = collect_orphans(stores, args.grace)
        print(f"removed {removed} orphan blobs")
        gateways.record_run(meta, "gc", True, f"aborted {aborted} abandoned multipart "
                            f"uploads, removed {removed} orphan blobs", gateways.ADMIN)
    elif args.command in ("scrub", "fsck"):
        return _scrub(stores, args)
    elif args.command == "lifecycle":
        return _lifecycle_run(stores, args)
    return 0


def _lifecycle_run(stores: Stores, args: argparse.Namespace) -> int:
    import threading

    from objectstore.service import lifecycle
    from objectstore.service.jobs import JobContext, Leases

    leases = Leases(stores.meta)
    lease = leases.acquire(lifecycle.JOB)
    if lease is None:
        holder = leases.row(lifecycle.JOB)
        raise accounts.AdminError(f"a lifecycle sweep is running in {holder[0] if holder else '?'}"
                                  "; try again when it is done")
    try:
        stats = lifecycle.sweep(stores, JobContext(leases, lease, threading.Event()),
                                day=args.day_seconds, only_bucket=args.bucket)
    except NotFound:
        raise accounts.AdminError(f"no bucket {args.bucket!r}") from None
    finally:
        leases.release(lease)
    print(stats.summary())
    return 0


def kms_command(args: argparse.Namespace, stores: Stores) -> int:
    ring = stores.meta.keyring
    if args.action == "list":
        for info in ring.keys():
            if info.purpose.startswith(KMS_PREFIX):
                state = "active" if info.active else "retired"
                print(f"{info.purpose.removeprefix(KMS_PREFIX)}\t{info.id}\t{state}\tcreated "
                      f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(info.created))}")
        return 0
    purpose = KMS_PREFIX + args.name
    if not valid_purpose(purpose):
        raise KeyringError(f"not a KMS key name: {args.name!r} (1-256 of A-Z a-z 0-9 / _ - .)")
    if args.action == "create":
        existed = ring.has(purpose)
        key_id = ring.ensure(purpose)
        print(f"KMS key {args.name} " + ("exists" if existed else "created") + f" ({key_id})")
    else:
        if not ring.has(purpose):
            raise KeyringError(f"no KMS key {args.name!r}")
        print(f"KMS key {args.name}: new active version {ring.rotate(purpose)}")
    print(f"back up {ring.path} now (older backups lack the new key)")
    return 0


def meta_arg(args: argparse.Namespace) -> str | None:
    """The metadata database URL (--meta, else OBJECTSTORE_META_URL; None: SQLite)."""
    value = getattr(args, "meta", None) or os.environ.get("OBJECTSTORE_META_URL")
    return value or None


def migrate_command(args: argparse.Namespace) -> int:
    """objectstore migrate --from DIR|URL --to DIR|URL."""
    from objectstore.service.migrate import MigrationError, migrate
    from objectstore.storage.meta import Unavailable
    from objectstore.storage.postgres import is_url, redacted

    def where(spec: str) -> tuple[Path, str | None]:
        return (Path("./data") if is_url(spec) else Path(spec)), \
            (spec if is_url(spec) else None)

    src_dir, src_url = where(args.source)
    dst_dir, dst_url = where(args.dest)
    if src_url is None and not (src_dir / "meta.sqlite3").exists():
        print(f"objectstore: no metadata database in {src_dir}", file=sys.stderr)
        return 1
    if (src_dir, src_url) == (dst_dir, dst_url):
        print("objectstore: --from and --to name the same store", file=sys.stderr)
        return 2
    keyring = keyring_arg(args)
    if keyring is None and src_url is None:
        keyring = src_dir / "keyring" / "keyring.json"  # the source's own keyring, for both
    try:
        source = Stores.open(src_dir, keyring=keyring, meta_url=src_url)
        dest = Stores.open(dst_dir if dst_url is None else src_dir, keyring=keyring,
                           meta_url=dst_url)
    except (KeyringError, Unavailable) as exc:
        print(f"objectstore: {exc}", file=sys.stderr)
        return 1
    shown = [redacted(s) if is_url(s) else s for s in (args.source, args.dest)]
    print(f"migrating {shown[0]} -> {shown[1]}", file=sys.stderr)
    try:
        reports = migrate(source, dest, skip_nul=args.skip_nul, batch=args.batch)
    except MigrationError as exc:
        print(f"\nobjectstore: {exc}", file=sys.stderr)
        return 1
    finally:
        source.close()
        dest.close()
    rows = sum(r.rows for r in reports)
    skipped = [s for r in reports for s in r.skipped_nul]
    print(f"done: {len(reports)} tables, {rows} rows, counts and checksums equal"
          + (f"; {len(skipped)} rows with U+0000 left out" if skipped else ""))
    return 0


def keyring_arg(args: argparse.Namespace) -> Path | None:
    value = getattr(args, "keyring", None)  # commands without _data_dir_arg: the env's
    return Path(value) if value else None


def keyring_command(args: argparse.Namespace, stores: Stores) -> int:
    meta, ring = stores.meta, stores.meta.keyring
    if args.action == "rotate":
        key_id = ring.rotate(SECRETS)
        count = meta.reseal_secrets()
        print(f"new active key {key_id}; {count} access-key secrets sealed again under it")
        if ring.has(SSE):
            print(f"new SSE-S3 master key {ring.rotate(SSE)}: new objects use it, objects "
                  "stored before keep opening with the retired one")
        print(f"back up {ring.path} now (older backups lack the new key)")
    elif args.action == "prune":
        used = sse_key_ids(meta.reader())
        dropped = ring.prune(SECRETS, set(meta.secret_key_ids()))
        for purpose in ring.purposes():
            if purpose != SECRETS:
                dropped += ring.prune(purpose, used)
        print(f"dropped {len(dropped)} retired keys" +
              (f": {', '.join(dropped)}" if dropped else ""))
    else:
        in_use = meta.secret_key_ids()
        now = time.time()
        print(f"keyring {ring.path}")
        for info in ring.keys():
            age = (now - info.created) / 86400
            state = "active" if info.active else "retired"
            print(f"{info.id}\t{info.purpose}\t{state}\tcreated "
                  f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(info.created))} "
                  f"({age:.1f} days ago)\t{in_use.get(info.id, 0)} secrets")
        plain = in_use.get("(plain text)", 0)
        if plain:
            print(f"{plain} secrets in plain text")
    return 0


def _scrub(stores: Stores, args: argparse.Namespace) -> int:
    from objectstore.storage import scrub

    rate = getattr(args, "rate", 0.0) * 1e6
    report = scrub.scrub(stores.meta.reader(), stores.blobs, rate=rate, grace=args.grace,
                         on_finding=lambda f: print(f.line(), flush=True))
    gateways.record_run(stores.meta, "scrub", not report.problems, report.summary(),
                        gateways.ADMIN)  # for `objectstore status`
    if getattr(args, "repair", False):
        scrub.repair(stores.meta.reader(), stores.blobs, report, args.grace)
        for line in report.repaired:
            print(f"repaired: {line}")
        left = [f for f in report.problems if f.kind != "orphan"]
        print(report.summary())
        if left:
            print(f"{len(left)} problems need attention (not repairable without losing data)")
        return 1 if left else 0
    print(report.summary())
    return 1 if report.problems else 0


def _user_policy(meta: SqliteMeta, args: argparse.Namespace) -> int:
    if args.policy_action == "get":
        user = meta.get_user(args.name)
        if user is None:
            raise accounts.AdminError(f"no user {args.name!r}")
        print(user.policy if user.policy is not None else "(no policy: full access to "
              "the account)")
        return 0
    if args.policy_action == "delete":
        accounts.set_user_policy(meta, args.name, None)
        print(f"removed the policy of {args.name}")
        return 0
    if args.canned:
        text = accounts.canned_policy(args.canned)
    elif args.file:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    else:
        raise accounts.AdminError("give --canned NAME or --file policy.json")
    accounts.set_user_policy(meta, args.name, text)
    print(f"set the policy of {args.name}")
    return 0


def _account_public_block(meta: SqliteMeta, args: argparse.Namespace) -> int:
    flags = [getattr(args, f.replace("-", "_")) for f in PAB_FLAGS]
    if args.off:
        accounts.set_account_public_block(meta, args.name, None)
    elif args.all or any(flags):
        block = ownership.PublicBlock(*[True] * 4) if args.all else ownership.PublicBlock(*flags)
        accounts.set_account_public_block(meta, args.name, block)
    account = meta.account_by_name(args.name)
    if account is None:
        raise accounts.AdminError(f"no account {args.name!r}")
    shown = ownership.PublicBlock.from_json(account.public_block) \
        if account.public_block else ownership.PublicBlock()
    for flag, on in zip(PAB_FLAGS, shown.flags(), strict=True):
        print(f"{flag}\t{'on' if on else 'off'}")
    return 0


def _user_cert(meta: SqliteMeta, args: argparse.Namespace) -> int:
    if args.cert_action == "list":
        for pem in meta.user_certs(args.name):
            print(pem.decode().strip())
        return 0
    if not args.file:
        raise accounts.AdminError("give the certificate file to add")
    pem = Path(args.file).read_bytes()
    from cryptography import x509

    try:
        x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise accounts.AdminError(f"{args.file} is not a PEM certificate") from None
    try:
        meta.add_user_cert(args.name, pem)
    except NotFound:
        raise accounts.AdminError(f"no user {args.name!r}") from None
    print(f"added a certificate for {args.name}")
    return 0


def collect_orphans(stores: Stores, grace: float) -> int:
    from objectstore.storage import scrub

    removed = blob_gc.reap(stores, grace)  # garbage left for a grace period (cluster mode)
    referenced = (stores.meta.referenced_blobs() | stores.uploads.referenced_blobs()
                  | stores.images.referenced_blobs()
                  | scrub.awaiting_reap(stores.meta.reader()))  # the reaper's, after a grace
    cutoff = time.time() - grace
    for blob_id, mtime in stores.blobs.all_ids():
        if blob_id not in referenced and mtime < cutoff:
            stores.blobs.delete(blob_id)
            removed += 1
    stores.blobs.clean_tmp(grace, every=True)
    return removed
