"""The authenticated vault state (docs/vault-format.md, section 6.4).

Row MACs catch an edited row but not a deleted one, nor an older, once-valid row written back.
So the index also keeps one entry per batch, consent and item (a MAC over its row MAC and, for
items, its sealed metadata) in the `state` table, and one record in `meta` holding a generation
counter and a MAC over the generation, the audit head and every entry. Each change updates the
entries it touched, the generation and the MAC in the same SQLite transaction; the generation
and the audit head are also anchored in the OS keyring (anchor.py), so an index restored from
an older copy is told apart from the current one.

Since format 3 the import journal's rows (a resume acts on them: it wipes sources and drops
half-stored photos) and the patient list's sealed index (`meta` row "patients") are entries
too, so neither can be edited, deleted or written back from an older copy unnoticed.

Entries are only ever recomputed for rows the vault itself changed: an edit made outside
PicSafe to any other row keeps disagreeing with its entry until an admin repairs it.
"""

from __future__ import annotations

import bisect
import hashlib
import sqlite3
import struct
from dataclasses import dataclass

from picsafe_desktop.vault.crypto import (
    _NONE,
    MacKey,
    encode_fields,
    encode_text_fields,
    mac,
    same,
)

STATE_KEY = "state"
_RECORD = struct.Struct(">Q32s")  # generation, state MAC
KINDS = ("batch", "consent", "item", "journal", "meta")
V2_KINDS = ("batch", "consent", "item")  # what format 2 authenticated

SCHEMA = """
CREATE TABLE state (
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    entry BLOB NOT NULL,
    PRIMARY KEY (kind, object_id)
) WITHOUT ROWID;
"""

# The columns each entry covers, by kind (after the id): the row MAC (which covers the plain
# columns) and, for items, the sealed metadata (the only sealed part of a row that ever
# changes); for journal rows every column; for meta, the patient index's sealed value.
_ROWS = {
    "batch": "SELECT batch_id, mac, NULL FROM batches WHERE 1",
    "consent": "SELECT consent_id, mac, NULL FROM consents WHERE 1",
    "item": "SELECT item_id, mac, metadata FROM items WHERE 1",
    "journal": "SELECT entry_id, step, updated_at, payload FROM journal WHERE 1",
    "meta": "SELECT key, value FROM meta WHERE key = 'patients'",
}
_ID_COLUMN = {
    "batch": "batch_id",
    "consent": "consent_id",
    "item": "item_id",
    "journal": "entry_id",
    "meta": "key",
}


@dataclass(frozen=True)
class Head:
    """What the state record and the keyring anchor hold."""

    generation: int
    audit_seq: int
    audit_mac: bytes


def entry(key: bytes, kind: str, object_id: str, *fields: bytes | str | None) -> bytes:
    """HMAC(ks, E("entry", kind, id, fields...)); fields as _ROWS selects them."""
    return mac(key, "entry", kind, object_id, *fields)


def set_digest(entries: dict[tuple[str, str], bytes]) -> bytes:
    """SHA-256 over E(kind, id, entry, ...) in (kind, id) order."""
    return digest_of(encoded(entries))


class Encoded(dict):
    """Entries as the bytes they add to the set digest, with their keys (`order`) and those
    bytes (`values`) kept in digest order, so a change re-encodes only the entries it touched
    and neither sorts nor looks up 120,000 entries: one join and one SHA-256."""

    order: list[tuple[str, str]]
    values: list[bytes]

    def put(self, key: tuple[str, str], value: bytes) -> None:
        at = bisect.bisect_left(self.order, key)
        if key in self:
            self.values[at] = value
        else:
            self.order.insert(at, key)
            self.values.insert(at, value)
        self[key] = value

    def drop(self, key: tuple[str, str]) -> None:
        if self.pop(key, None) is not None:
            at = bisect.bisect_left(self.order, key)
            del self.order[at]
            del self.values[at]

    def copy(self) -> Encoded:
        out = Encoded(self)
        out.order, out.values = list(self.order), list(self.values)
        return out


def encoded(entries: dict[tuple[str, str], bytes]) -> Encoded:
    """Each entry as the bytes it adds to the set digest (kept by an open vault)."""
    out = Encoded({k: _encode_entry(k, v) for k, v in entries.items()})
    out.order = sorted(out)
    out.values = [out[k] for k in out.order]
    return out


_KIND_FIELD = {kind: encode_fields((kind,)) for kind in KINDS}


def _encode_entry(key: tuple[str, str], value: bytes) -> bytes:
    """encode_fields((kind, object_id, entry)) with the kind's field precomputed."""
    kind, object_id = key
    prefix = _KIND_FIELD.get(kind)
    if prefix is None or type(object_id) is not str or type(value) is not bytes:
        return encode_fields((kind, object_id, value))
    oid = object_id.encode("utf-8")
    return b"".join(
        (prefix, len(oid).to_bytes(4, "big"), oid, len(value).to_bytes(4, "big"), value)
    )


def encoded_copy(encoded_entries: dict[tuple[str, str], bytes]) -> Encoded:
    """An Encoded from a plain dict of already encoded entries."""
    out = Encoded(encoded_entries)
    out.order = sorted(out)
    out.values = [out[k] for k in out.order]
    return out


def digest_of(encoded_entries: dict[tuple[str, str], bytes]) -> bytes:
    values = getattr(encoded_entries, "values", None)
    if not isinstance(values, list):
        values = [encoded_entries[k] for k in sorted(encoded_entries)]
    return hashlib.sha256(b"".join(values)).digest()


def state_mac(key: bytes, head: Head, digest: bytes) -> bytes:
    return mac(key, "state", head.generation, head.audit_seq, head.audit_mac, digest)


def create(conn: sqlite3.Connection) -> None:
    conn.execute(SCHEMA)  # one statement; executescript would commit the caller's transaction


def stored_entries(conn: sqlite3.Connection) -> dict[tuple[str, str], bytes]:
    """In (kind, object_id) order: the table's key (no sort), and the set digest's order."""
    rows = conn.execute("SELECT kind, object_id, entry FROM state ORDER BY kind, object_id")
    return {(k, i): e for k, i, e in rows}


def row_entries(
    conn: sqlite3.Connection, key: bytes, kinds: tuple[str, ...] = KINDS
) -> dict[tuple[str, str], bytes]:
    """Entries computed from the rows as they are now."""
    out = {}
    # The same value as entry(), without a key schedule per row or re-encoding the constants.
    entry_mac = MacKey(key).mac_encoded
    for kind in kinds:
        prefix = encode_fields(("entry", kind))
        for row in conn.execute(_ROWS[kind]):
            out[(kind, row[0])] = entry_mac(encode_text_fields(prefix, row))
    return out


# --- the open's check, as two digests ----------------------------------------------------------
# An open must confirm that the record's MAC matches the stored entries and that the stored
# entries match the rows. Both are decided here over two byte strings, each the set digest's
# encoding of every entry in (kind, id) order: the stored entries as SQLite returns them
# (BLOB-cast, so no text is decoded and encoded again) and the entries recomputed from the rows
# (ordered by their primary keys). Equal digests mean equal entry sets (the encoding is
# unambiguous), so this checks exactly what record_ok() and differences() check; anything
# else (a mismatch, an odd value) goes to those, which name what differs.

_L = [n.to_bytes(4, "big") for n in range(256)]
# _ROWS as BLOBs in id order (constants only: no value is put into the SQL). `ORDER BY +i`
# sorts a scan of the table: half the CPU of walking the id index and looking up each row.
_COLUMNS = {kind: sql.split(" FROM ")[0].count(",") + 1 for kind, sql in _ROWS.items()}
_ORDERED_ROWS = {
    kind: "WITH r({cols}) AS ({sql}) SELECT {casts} FROM r ORDER BY +c0".format(  # noqa: S608  # nosec B608 - constants of this module only
        cols=", ".join(f"c{i}" for i in range(_COLUMNS[kind])),
        sql=sql,
        casts=", ".join(f"CAST(c{i} AS BLOB)" for i in range(_COLUMNS[kind])),
    )
    for kind, sql in _ROWS.items()
}
_MAC_LEN = _L[32]


def _len4(n: int) -> bytes:
    return _L[n] if n < 256 else n.to_bytes(4, "big")


def stored_digest(conn: sqlite3.Connection) -> bytes | None:
    """digest_of(encoded(stored_entries(conn))), without building either; None if a value is
    not what the vault writes (the caller then takes the detailed path)."""
    parts: list[bytes] = []
    add = parts.extend
    rows = conn.execute(
        "SELECT CAST(kind AS BLOB) AS k, CAST(object_id AS BLOB) AS o, CAST(entry AS BLOB) AS e "
        "FROM state ORDER BY kind, object_id"
    )
    try:
        for kind, object_id, value in rows:
            add((_L[len(kind)], kind, _L[len(object_id)], object_id, _L[len(value)], value))
    except (IndexError, TypeError):  # a field of 256+ bytes or NULL: not one the vault wrote
        return None
    return hashlib.sha256(b"".join(parts)).digest()


def rows_digest(conn: sqlite3.Connection, key: bytes) -> bytes | None:
    """digest_of(encoded(row_entries(conn, key))), without building either; None if a row
    holds a value the fast encoding does not take (the caller takes the detailed path)."""
    entry_mac = MacKey(key).mac_encoded
    parts: list[bytes] = []
    add = parts.extend
    try:
        for kind in sorted(_ROWS):  # the state table's order: kind, then id
            kind_b = kind.encode("utf-8")
            kind_field = _L[len(kind_b)] + kind_b
            prefix = encode_fields(("entry", kind))
            rows = conn.execute(_ORDERED_ROWS[kind])
            if _COLUMNS[kind] == 3:  # batches, consents, items: (id, row MAC, metadata or NULL)
                for object_id, row_mac, extra in rows:
                    id_field = _L[len(object_id)] + object_id
                    tail = _NONE if extra is None else _len4(len(extra)) + extra
                    value = entry_mac(prefix + id_field + _len4(len(row_mac)) + row_mac + tail)
                    add((kind_field, id_field, _MAC_LEN, value))
                continue
            for object_id, *fields in rows:  # journal entries, the patient index: few rows
                id_field = _L[len(object_id)] + object_id
                body = b"".join(_NONE if f is None else _len4(len(f)) + f for f in fields)
                add((kind_field, id_field, _MAC_LEN, entry_mac(prefix + id_field + body)))
    except (IndexError, TypeError):  # an id of 256+ bytes, or NULL where the vault never wrote it
        return None
    return hashlib.sha256(b"".join(parts)).digest()


def verified_quickly(conn: sqlite3.Connection, key: bytes, audit: tuple[int, bytes]) -> int | None:
    """The generation when the state record matches the stored entries and `audit`, and the
    stored entries match the rows; None when that is not so or not decided here."""
    record = read_record(conn)
    if record is None:
        return None
    generation, digest_mac = record
    stored = stored_digest(conn)
    if stored is None or not same(digest_mac, state_mac(key, Head(generation, *audit), stored)):
        return None
    actual = rows_digest(conn, key)
    return generation if actual is not None and same(stored, actual) else None


def _same_entries(a: dict[tuple[str, str], bytes], b: dict[tuple[str, str], bytes]) -> bool:
    """Whether two sets of entries are equal: the same keys (ids, not secret) and, compared in
    constant time as one digest each, the same 32-byte MACs."""
    if a.keys() != b.keys():
        return False
    order = list(a)
    if any(len(a[k]) != 32 for k in order):
        return False  # a stored entry that is not a MAC: let the detailed comparison name it
    left = hashlib.sha256(b"".join([a[k] for k in order])).digest()
    right = hashlib.sha256(b"".join([b[k] for k in order])).digest()
    return same(left, right)


def read_record(conn: sqlite3.Connection) -> tuple[int, bytes] | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (STATE_KEY,)).fetchone()
    if row is None or not isinstance(row[0], bytes) or len(row[0]) != _RECORD.size:
        return None
    return _RECORD.unpack(row[0])


def write_record(conn: sqlite3.Connection, generation: int, digest_mac: bytes) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        (STATE_KEY, _RECORD.pack(generation, digest_mac)),
    )


def record_ok(
    conn: sqlite3.Connection,
    key: bytes,
    audit: tuple[int, bytes],
    stored: dict[tuple[str, str], bytes] | None = None,
) -> tuple[int, bool] | None:
    """(generation, whether the record's MAC matches the stored entries and `audit` head).
    `stored` is `stored_entries(conn)` when the caller has read them already."""
    record = read_record(conn)
    if record is None:
        return None
    generation, digest_mac = record
    head = Head(generation, *audit)
    stored = stored_entries(conn) if stored is None else stored
    # stored_entries come in digest order (UTF-8 text sorts in SQLite as str sorts in Python):
    # digest them as they are, without building and sorting an Encoded of 120,000 keys; only
    # if that does not match are they sorted, to be sure, before the record is called wrong.
    quick = hashlib.sha256(b"".join([_encode_entry(k, v) for k, v in stored.items()])).digest()
    if same(digest_mac, state_mac(key, head, quick)):
        return generation, True
    return generation, same(digest_mac, state_mac(key, head, set_digest(stored)))


def check_record(
    conn: sqlite3.Connection,
    key: bytes,
    audit: tuple[int, bytes],
    stored: dict[tuple[str, str], bytes] | None = None,
) -> tuple[int, bool, Encoded] | None:
    """record_ok, plus the stored entries `encoded()` (what an open vault keeps as its cache)."""
    record = read_record(conn)
    if record is None:
        return None
    generation, digest_mac = record
    head = Head(generation, *audit)
    cache = encoded(stored_entries(conn) if stored is None else stored)
    return generation, same(digest_mac, state_mac(key, head, digest_of(cache))), cache


def refresh(
    conn: sqlite3.Connection,
    key: bytes,
    touched: set[tuple[str, str]],
    audit: tuple[int, bytes],
    generation: int,
    cache: dict[tuple[str, str], bytes],
) -> tuple[Head, dict[tuple[str, str], bytes]]:
    """Inside the caller's transaction: recompute the entries of `touched` rows (dropping those
    whose row is gone), then write the record for `generation`. `cache` is `encoded()` of the
    stored entries before the change; returns the new head and the cache after it (for the
    caller to keep once the transaction commits)."""
    # A copy: the caller keeps it only if the transaction commits.
    after = cache.copy() if isinstance(cache, Encoded) else encoded_copy(cache)
    for kind, object_id in touched:
        row = conn.execute(_ROWS[kind] + f" AND {_ID_COLUMN[kind]} = ?", (object_id,)).fetchone()
        if row is None:
            conn.execute("DELETE FROM state WHERE kind = ? AND object_id = ?", (kind, object_id))
            after.drop((kind, object_id))
        else:
            value = entry(key, kind, object_id, *row[1:])
            conn.execute(
                "INSERT OR REPLACE INTO state (kind, object_id, entry) VALUES (?, ?, ?)",
                (kind, object_id, value),
            )
            after.put((kind, object_id), encode_fields((kind, object_id, value)))
    head = Head(generation, *audit)
    write_record(conn, generation, state_mac(key, head, digest_of(after)))
    return head, after


def rebuild(
    conn: sqlite3.Connection, key: bytes, audit: tuple[int, bytes], generation: int
) -> Head:
    """Accept the rows as they are now (upgrade from format 1, or an admin's audited repair)."""
    conn.execute("DELETE FROM state")
    conn.executemany(
        "INSERT INTO state (kind, object_id, entry) VALUES (?, ?, ?)",
        [(k, i, e) for (k, i), e in row_entries(conn, key).items()],
    )
    head = Head(generation, *audit)
    write_record(conn, generation, state_mac(key, head, set_digest(stored_entries(conn))))
    return head


_NAMES = {"journal": "import journal entry", "meta": "index value"}


def differences(
    conn: sqlite3.Connection,
    key: bytes,
    index_path: str,
    kinds: tuple[str, ...] = KINDS,
    stored: dict[tuple[str, str], bytes] | None = None,
) -> list[str]:
    """Name every batch, consent, item, journal entry or patient index whose row disagrees
    with its authenticated entry."""
    stored = stored_entries(conn) if stored is None else stored
    if kinds != KINDS:
        stored = {k: v for k, v in stored.items() if k[0] in kinds}
    actual = row_entries(conn, key, kinds)
    if _same_entries(stored, actual):
        return []  # the usual case, decided without a Python loop comparing 120,000 entries
    problems = []
    for kind_key, object_id in sorted(stored.keys() | actual.keys()):
        want, got = stored.get((kind_key, object_id)), actual.get((kind_key, object_id))
        kind = _NAMES.get(kind_key, kind_key)
        if kind_key == "meta":
            kind, object_id = "the patient list's index", f"(meta '{object_id}')"
        if want is None:
            problems.append(
                f"{index_path}: {kind} {object_id} is not part of the vault's authenticated "
                "state (a row added or written back outside PicSafe)"
            )
        elif got is None:
            problems.append(
                f"{index_path}: {kind} {object_id} was removed from the index outside PicSafe"
            )
        elif not same(want, got):
            what = "row or metadata" if kind_key == "item" else "row"
            problems.append(
                f"{index_path}: the {what} of {kind} {object_id} differs from the vault's "
                "authenticated state (edited or rolled back outside PicSafe)"
            )
    return problems
