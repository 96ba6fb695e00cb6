"""The `.dir` manifest: the listing that names a directory's content.

Bytes must equal DVC's: `json.dumps(sorted_entries, sort_keys=True)` with the
default separators, ASCII escapes, no trailing newline; entries sorted by
relpath in code-point order. The oid is the md5 of those bytes plus `.dir`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii

from bale.errors import ManifestError

DIR_SUFFIX = ".dir"
EMPTY_DIR_OID = hashlib.md5(b"[]").hexdigest() + DIR_SUFFIX

_HEX = frozenset("0123456789abcdef")


def dump_manifest(entries: Iterable[tuple[str, str]]) -> bytes:
    """Serialise (relpath, md5) pairs; they are sorted here."""
    parts = [
        f'{{"md5": "{md5}", "relpath": {encode_basestring_ascii(relpath)}}}'
        for relpath, md5 in sorted(entries)
    ]
    return ("[" + ", ".join(parts) + "]").encode("ascii")


def manifest_oid(data: bytes) -> str:
    return hashlib.md5(data).hexdigest() + DIR_SUFFIX


def is_dir_oid(oid: str) -> bool:
    return oid.endswith(DIR_SUFFIX)


def is_md5(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and _HEX.issuperset(value)


def check_relpath(relpath: object) -> str:
    """Return relpath if it is a safe relative posix path, else raise ValueError."""
    if not isinstance(relpath, str) or not relpath:
        raise ValueError("an entry has no relpath")
    if "\0" in relpath or relpath.startswith("/") or "\\" in relpath:
        raise ValueError(f"unsafe path {relpath!r}")
    for part in relpath.split("/"):
        if part in ("", ".", ".."):
            raise ValueError(f"unsafe path {relpath!r}")
    return relpath


def parse_manifest(data: bytes, *, oid: str) -> list[tuple[str, str]]:
    """Read a manifest into sorted (relpath, md5) pairs, refusing unsafe paths.

    Raises:
        ManifestError: malformed JSON, a bad hash, or a path that is absolute,
            contains `..`, or repeats.
    """
    try:
        items = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(oid, f"not valid JSON ({exc})") from exc
    if not isinstance(items, list):
        raise ManifestError(oid, "not a JSON list")
    entries = []
    try:
        for item in items:
            if not isinstance(item, dict):
                raise ValueError("an entry is not an object")
            md5 = item.get("md5")
            if not is_md5(md5):
                raise ValueError(f"bad md5 {md5!r}")
            entries.append((check_relpath(item.get("relpath")), md5))
    except ValueError as exc:
        raise ManifestError(oid, str(exc)) from exc
    entries.sort()
    files = {relpath for relpath, _ in entries}
    if len(files) != len(entries):
        raise ManifestError(oid, "a path is listed twice")
    for relpath in files:
        parent = relpath.rpartition("/")[0]
        while parent:
            if parent in files:
                raise ManifestError(oid, f"path {relpath!r} is inside file {parent!r}")
            parent = parent.rpartition("/")[0]
    return entries
