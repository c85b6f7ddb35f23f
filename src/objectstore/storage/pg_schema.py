"""The PostgreSQL schema, as versioned migrations applied at start-up.

Every gateway applies the migrations it knows on start, inside one transaction that holds
a transaction-level advisory lock: gateways starting together take turns, and each finds
the schema at the version the first one left (``schema_version``). A database made by a
newer release (a version this one does not know) is refused rather than misread.

Tables and columns are those of the SQLite schema (the SQL is shared), with PostgreSQL's
types: BYTEA for BLOB, DOUBLE PRECISION for REAL, BIGINT where sizes and sequence numbers
may pass 2^31. Object keys and bucket names are ``COLLATE "C"``: ORDER BY and range scans
follow S3's listing order (UTF-8 bytes) and a 1,000-key page is an index range scan of
the (bucket, key) primary key. Inline object data (at most 64 KiB) is stored
uncompressed (it is mostly incompressible), and rows up to a page stay in the table's own
page (``toast_tuple_target``): a small GET reads one heap page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (imported by the CLI, which needs psycopg only for PostgreSQL)
    import psycopg

ADVISORY_LOCK = 0x6F626A7374  # "objst": the key of the migration lock

_V1 = """
CREATE TABLE accounts (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT NOT NULL DEFAULT '',
  created DOUBLE PRECISION NOT NULL, public_block TEXT);
CREATE TABLE users (
  name TEXT PRIMARY KEY, account_id TEXT NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0,
  created DOUBLE PRECISION NOT NULL, policy TEXT);
CREATE INDEX users_by_account ON users(account_id, created, name);
CREATE TABLE keys (
  access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, user_name TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL);
CREATE INDEX keys_by_user ON keys(user_name);
CREATE TABLE buckets (
  name TEXT COLLATE "C" PRIMARY KEY, account_id TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL, region TEXT NOT NULL, acl TEXT NOT NULL, tags TEXT,
  cors TEXT, versioning TEXT NOT NULL DEFAULT '', object_lock TEXT, lifecycle TEXT,
  encryption TEXT, ownership TEXT, public_block TEXT, policy TEXT, website TEXT,
  logging TEXT);
CREATE INDEX buckets_by_account ON buckets(account_id);
CREATE TABLE objects (
  bucket TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, size BIGINT NOT NULL,
  etag TEXT NOT NULL, mtime DOUBLE PRECISION NOT NULL, owner TEXT NOT NULL,
  acl TEXT NOT NULL, headers TEXT NOT NULL, checksums TEXT NOT NULL, checksum_type TEXT,
  segments TEXT NOT NULL, part_count INTEGER NOT NULL DEFAULT 0, data BYTEA, tags TEXT,
  version_id TEXT, seq BIGINT NOT NULL DEFAULT 0, lock_mode TEXT,
  lock_until DOUBLE PRECISION, legal_hold INTEGER NOT NULL DEFAULT 0, sse TEXT,
  PRIMARY KEY (bucket, key)) WITH (toast_tuple_target = 8160);
ALTER TABLE objects ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE versions (
  bucket TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, size BIGINT NOT NULL,
  etag TEXT NOT NULL, mtime DOUBLE PRECISION NOT NULL, owner TEXT NOT NULL,
  acl TEXT NOT NULL, headers TEXT NOT NULL, checksums TEXT NOT NULL, checksum_type TEXT,
  segments TEXT NOT NULL, part_count INTEGER NOT NULL DEFAULT 0, tags TEXT,
  version_id TEXT, seq BIGINT NOT NULL, lock_mode TEXT, lock_until DOUBLE PRECISION,
  legal_hold INTEGER NOT NULL DEFAULT 0, sse TEXT, data BYTEA,
  is_marker INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket, key, seq)) WITH (toast_tuple_target = 8160);
ALTER TABLE versions ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX versions_by_id ON versions(bucket, key, version_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
-- change stamps (storage/postgres.py): each committed write takes a new value of
-- ``changes`` (and of ``config_changes`` when it changed buckets, accounts, users, keys or
-- certificates) after its COMMIT and before it is acknowledged; each request starts by
-- reading both, so the caches it uses are never older than a write acknowledged before it
CREATE SEQUENCE changes;
CREATE SEQUENCE config_changes;
SELECT nextval('changes'), nextval('config_changes');  -- (from now on each moves last_value)
CREATE TABLE blob_refs (blob TEXT PRIMARY KEY, refs INTEGER NOT NULL);
CREATE TABLE user_certs (
  user_name TEXT NOT NULL, pem BYTEA NOT NULL, added DOUBLE PRECISION NOT NULL);
CREATE INDEX user_certs_by_user ON user_certs(user_name);
CREATE TABLE garbage (blob TEXT PRIMARY KEY, since DOUBLE PRECISION NOT NULL);
CREATE TABLE uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL, owner TEXT NOT NULL, initiator TEXT NOT NULL,
  acl TEXT NOT NULL, headers TEXT NOT NULL, checksum_algorithm TEXT, checksum_type TEXT,
  created DOUBLE PRECISION NOT NULL, sse TEXT, lock TEXT);
CREATE INDEX uploads_by_key ON uploads(bucket, key, created, upload_id);
CREATE INDEX uploads_by_created ON uploads(created);
CREATE TABLE parts (
  upload_id TEXT NOT NULL, number INTEGER NOT NULL, blob TEXT NOT NULL, size BIGINT NOT NULL,
  etag TEXT NOT NULL, checksum TEXT, mtime DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (upload_id, number));
CREATE TABLE completed_uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL, etag TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE TABLE images (
  image_id TEXT PRIMARY KEY, owner TEXT NOT NULL, location TEXT NOT NULL,
  state TEXT NOT NULL, reason TEXT NOT NULL, image_type TEXT NOT NULL,
  architecture TEXT NOT NULL, kernel_id TEXT, ramdisk_id TEXT, is_public INTEGER NOT NULL,
  name TEXT NOT NULL, description TEXT NOT NULL, block_devices TEXT NOT NULL,
  size BIGINT NOT NULL, blob TEXT NOT NULL, registered_by TEXT NOT NULL,
  created DOUBLE PRECISION NOT NULL, token TEXT NOT NULL DEFAULT '',
  declared_size BIGINT NOT NULL DEFAULT 0);
CREATE INDEX images_by_owner ON images(owner);
CREATE TABLE leases (
  name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch INTEGER NOT NULL,
  expires DOUBLE PRECISION NOT NULL, state TEXT);
CREATE TABLE access_log (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, bucket TEXT NOT NULL,
  config TEXT NOT NULL, time DOUBLE PRECISION NOT NULL, line TEXT NOT NULL);
CREATE INDEX access_log_bucket ON access_log (bucket, config, id);
-- the shared SQL asks SQLite's catalogue whether an optional table exists
CREATE VIEW sqlite_master AS
  SELECT 'table'::text AS type, tablename::text AS name FROM pg_tables
  WHERE schemaname = current_schema();
"""

# (version, SQL): append, never edit one that has shipped
# 2: leases.done (when a job last finished a run, by any holder: service/jobs.py); the
# gateways seen and the last upkeep runs (service/gateways.py, `objectstore status`)
_V2 = """
ALTER TABLE leases ADD COLUMN done DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE TABLE gateways (
  gateway TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
  started DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (gateway, pid));
CREATE TABLE job_runs (
  job TEXT PRIMARY KEY, finished DOUBLE PRECISION NOT NULL, ok INTEGER NOT NULL,
  summary TEXT NOT NULL, gateway TEXT NOT NULL);
"""

# 3: a pending image registration's claim by the gateway working on it (service/registry.py)
_V3 = """
ALTER TABLE images ADD COLUMN claim_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN claim_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN claim_expires DOUBLE PRECISION NOT NULL DEFAULT 0;
"""

# 4: session credentials (STS GetSessionToken; storage/sqlite_sessions.py)
_V4 = """
CREATE TABLE sessions (
  access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, token_sha256 TEXT NOT NULL,
  user_name TEXT NOT NULL, source_key TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
  expires DOUBLE PRECISION NOT NULL);
CREATE INDEX sessions_by_source ON sessions(source_key);
CREATE INDEX sessions_by_expiry ON sessions(expires);
"""

# 5: access keys may be deactivated (Active | Inactive): an inactive key signs nothing
_V5 = """
ALTER TABLE keys ADD COLUMN status TEXT NOT NULL DEFAULT 'Active';
"""

MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, _V3), (4, _V4), (5, _V5))


class SchemaTooNew(Exception):
    pass


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Bring the database's schema to the newest version (under the advisory lock, in one
    transaction); the version it is at now."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                     "version INTEGER PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)")
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        current = int(row[0]) if row else 0
        newest = MIGRATIONS[-1][0]
        if current > newest:
            raise SchemaTooNew(
                f"the metadata database's schema is version {current}, newer than this "
                f"release knows ({newest}): upgrade objectstore on this gateway")
        for version, sql in MIGRATIONS:
            if version > current:
                conn.execute(sql.encode())
                conn.execute("INSERT INTO schema_version VALUES (%s, "
                             "EXTRACT(EPOCH FROM now()))", (version,))
                current = version
    return current
