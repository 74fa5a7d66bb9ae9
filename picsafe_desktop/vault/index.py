"""The SQLite index: schema and connection settings (docs/vault-format.md, "Index").

Plain columns hold only ids, states, sizes, media types and times. Every row carries a MAC over
those columns so an edit made outside the app (e.g. flipping a state to skip consent) is caught.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from picsafe_desktop.vault import state
from picsafe_desktop.vault.errors import UnknownFormat
from picsafe_desktop.vault.sqlerrors import drive_state

# 1: no authenticated state; 2: journal and patient index outside it (both upgraded at open,
# see upgrade.py)
INDEX_VERSION = 3

SCHEMA = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    mac BLOB NOT NULL,
    label BLOB NOT NULL
);
CREATE TABLE consents (
    consent_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches(batch_id),
    created_at TEXT NOT NULL,
    mrn_mac BLOB NOT NULL,
    mac BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX consents_mrn ON consents(mrn_mac);
CREATE TABLE items (
    item_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches(batch_id),
    state TEXT NOT NULL,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    consent_id TEXT REFERENCES consents(consent_id),
    original_mac BLOB UNIQUE,
    mac BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    thumbnail BLOB NOT NULL,
    metadata BLOB NOT NULL
);
CREATE INDEX items_state ON items(state);
CREATE INDEX items_consent_state ON items(consent_id, state);
CREATE INDEX items_batch_state ON items(batch_id, state);
CREATE INDEX items_list ON items(created_at, item_id, batch_id, state, size, media_type,
    consent_id, original_mac, mac);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    body BLOB NOT NULL,
    prev_mac BLOB NOT NULL,
    mac BLOB NOT NULL
);
CREATE INDEX audit_subject ON audit(subject);
CREATE TABLE journal (
    entry_id TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""
    + state.SCHEMA
)


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    # Autocommit mode; Vault opens explicit BEGIN IMMEDIATE transactions. One connection is
    # shared by the app's worker threads under Vault's lock. A read-only connection (verify
    # while the app has the vault open) never writes, not even the journal mode.
    if read_only:
        try:
            return _connect_read_only(path, "?mode=ro")
        except sqlite3.OperationalError:
            # A vault on read-only media (a write-protected card, a read-only mount of a
            # backup): SQLite cannot create the WAL index (-shm) there. Nothing can change
            # the file on such a drive, so it is opened as immutable instead.
            if drive_state(path) != "read-only":
                raise
            return _connect_read_only(path, "?mode=ro&immutable=1")
    if not path.exists():
        # SQLite creates the file with the process umask (often 0644); its -wal and -shm
        # files copy the database file's mode, so creating it owner-only covers all three.
        os.close(
            os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        )
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # a commit survives power loss, not just a crash
        conn.execute("PRAGMA secure_delete=ON")  # deleted rows (wrapped keys) are zeroed
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()  # an open handle would keep the (removed) files and their space
        raise
    return conn


def _connect_read_only(path: Path, query: str) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + query
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10)
    try:
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA user_version").fetchone()  # opens the file (and its WAL) now
    except BaseException:
        conn.close()
        raise
    return conn


def create(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    try:
        conn.executescript(f"BEGIN; {SCHEMA} PRAGMA user_version={INDEX_VERSION}; COMMIT;")
    except BaseException:
        conn.close()
        raise
    return conn


# Indexes added after format 2 was first written (an index changes no stored value, so no
# format version): created when a vault is opened for writing. items_batch_state serves
# "a batch's waiting photos", items_consent_state a patient's photos and the patient list's
# counts (a covering scan); each replaces the index on its leading column. items_list holds
# every plain column in listing order, so listing 100,000 photos reads no table row and sorts
# nothing.
_LATER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS items_batch_state ON items(batch_id, state)",
    "DROP INDEX IF EXISTS items_batch",
    "CREATE INDEX IF NOT EXISTS items_consent_state ON items(consent_id, state)",
    "DROP INDEX IF EXISTS items_consent",
    "CREATE INDEX IF NOT EXISTS items_list ON items(created_at, item_id, batch_id, state, size, "
    "media_type, consent_id, original_mac, mac)",
)


def ensure_indexes(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql in _LATER_INDEXES:
            conn.execute(sql)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def check_version(conn: sqlite3.Connection, path: Path) -> int:
    """The index's format version: INDEX_VERSION, or 1 or 2 (to upgrade); others are refused."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version not in (1, 2, INDEX_VERSION):
        raise UnknownFormat(
            f"{path}: index format version {version} is not supported by this program "
            f"(it reads version {INDEX_VERSION}); update PicSafe Desktop"
        )
    return version
