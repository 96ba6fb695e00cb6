"""The state database: what bale already knows about files it has hashed.

Keyed by path relative to the repository root, so a moved or copied clone
keeps its state. Rows are read and written in batches: one query per tree,
one transaction per command.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

from bale.hashing.walk import FileEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, ino INTEGER, mtime INTEGER, size INTEGER,
    md5 TEXT, d2u TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trees (
    path TEXT PRIMARY KEY, sig TEXT, oid TEXT, size INTEGER, nfiles INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS complete (
    oid TEXT PRIMARY KEY, stamp TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parts (
    tree TEXT, part TEXT, sig TEXT, md5s TEXT, held TEXT, PRIMARY KEY (tree, part)
);
"""

# (ino, mtime_ns, size, md5, d2u) per relpath
Known = dict[str, tuple[int, int, int, str | None, str | None]]
# A row of the files table: (path, ino, mtime_ns, size, md5, d2u)
FileRow = tuple[str, int, int, int, str | None, str | None]
# (signature, md5s of its files joined, oid of a committed tree holding it) per part
Parts = dict[str, tuple[str, str, str | None]]


def file_row(path: str, ino: int, mtime_ns: int, size: int, md5: str, *, legacy: bool) -> FileRow:
    """A row of the files table: the DVC 3 md5 and the DVC 2 (dos2unix) one
    have a column each, so one file can be known both ways."""
    if legacy:
        return (path, ino, mtime_ns, size, None, md5)
    return (path, ino, mtime_ns, size, md5, None)


def row_md5(
    row: tuple[int, int, int, str | None, str | None] | None, entry: FileEntry, *, legacy: bool
) -> str | None:
    """The md5 a stored (ino, mtime, size, md5, d2u) row gives for `entry`,
    if the row still describes that file (same inode, mtime and size)."""
    if row is None or row[0] != entry.ino or row[1] != entry.mtime_ns or row[2] != entry.size:
        return None
    return row[4] if legacy else row[3]


class StateDB:
    """A small sqlite file; safe to delete at any time (it is only a cache)."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError:
            # A corrupt cache is rebuilt, never trusted.
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            self._db = self._open(path)

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        return db

    def close(self) -> None:
        self._db.close()

    def files_under(self, prefix: str) -> Known:
        """Known files whose path is `prefix` itself or lies under `prefix/`."""
        rows = self._db.execute(
            "SELECT path, ino, mtime, size, md5, d2u FROM files "
            "WHERE path = ? OR (path > ? AND path < ?)",
            (prefix, prefix + "/", prefix + "0"),
        )
        return {row[0]: row[1:] for row in rows}

    def lookup(self, path: str) -> tuple[int, int, int, str | None, str | None] | None:
        row = self._db.execute(
            "SELECT ino, mtime, size, md5, d2u FROM files WHERE path = ?", (path,)
        ).fetchone()
        return row

    def md5_of(self, path: str, entry: FileEntry, *, legacy: bool) -> str | None:
        """The md5 remembered for the file at `path`, if it is still that file."""
        return row_md5(self.lookup(path), entry, legacy=legacy)

    def record_files(self, items: Iterable[tuple[str, FileEntry, str]], *, legacy: bool) -> None:
        """Remember (path, entry, md5) in one transaction; `legacy` md5s are DVC 2's."""
        self.record_rows(
            file_row(p, e.ino, e.mtime_ns, e.size, md5, legacy=legacy) for p, e, md5 in items
        )

    def record_rows(self, rows: Iterable[FileRow]) -> None:
        """Remember (path, ino, mtime, size, md5, d2u) rows in one transaction."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", rows)

    def tree(self, path: str) -> tuple[str, str, int, int] | None:
        """(signature, oid, size, nfiles) last computed for a folder."""
        return self._db.execute(
            "SELECT sig, oid, size, nfiles FROM trees WHERE path = ?", (path,)
        ).fetchone()

    def record_tree(self, path: str, sig: str, oid: str, size: int, nfiles: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO trees VALUES (?, ?, ?, ?, ?)",
                (path, sig, oid, size, nfiles),
            )

    def parts(self, tree: str) -> Parts:
        """The parts of a folder's listing last hashed (`tree.listing_parts`)."""
        rows = self._db.execute("SELECT part, sig, md5s, held FROM parts WHERE tree = ?", (tree,))
        return {row[0]: row[1:] for row in rows}

    def record_parts(
        self, tree: str, rows: Iterable[tuple[str, str, str]], drop: Iterable[str] = ()
    ) -> None:
        """Remember (part, signature, md5s) rows, not yet held by any commit,
        and forget the parts in `drop`, in one transaction."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, NULL)",
                ((tree, part, sig, md5s) for part, sig, md5s in rows),
            )
            self._db.executemany(
                "DELETE FROM parts WHERE tree = ? AND part = ?", ((tree, p) for p in drop)
            )

    def mark_parts_held(self, tree: str, oid: str) -> None:
        """Every part of `tree` as last hashed is in the committed folder `oid`."""
        with self._db:
            self._db.execute("UPDATE parts SET held = ? WHERE tree = ?", (oid, tree))

    def is_complete(self, oid: str, stamp: str) -> bool:
        """Whether the cache held all of folder `oid` when it last looked like `stamp`."""
        row = self._db.execute("SELECT stamp FROM complete WHERE oid = ?", (oid,)).fetchone()
        return row is not None and row[0] == stamp

    def mark_complete(self, oid: str, stamp: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO complete VALUES (?, ?)", (oid, stamp))
