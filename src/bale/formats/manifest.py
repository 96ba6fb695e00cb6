"""The `.dir` manifest: the listing that names a directory's content.

Bytes must equal DVC's: `json.dumps(sorted_entries, sort_keys=True)` with the
default separators, ASCII escapes, no trailing newline; entries sorted by
relpath in code-point order. The oid is the md5 of those bytes plus `.dir`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from bale.errors import ManifestError
from bale.formats.limits import check_manifest

DIR_SUFFIX = ".dir"
EMPTY_DIR_OID = hashlib.md5(b"[]").hexdigest() + DIR_SUFFIX

_HEX = frozenset("0123456789abcdef")


def dump_manifest(entries: Iterable[tuple[str, str]]) -> bytes:
    """Serialise (relpath, md5) pairs; they are sorted here."""
    from json.encoder import encode_basestring_ascii  # only writers need json

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
    if not relpath.isascii() and not _is_utf8(relpath):
        raise ValueError(f"path {relpath!r} is not UTF-8 text")
    for part in relpath.split("/"):
        if part in ("", ".", ".."):
            raise ValueError(f"unsafe path {relpath!r}")
    return relpath


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def parse_manifest(data: bytes, *, oid: str) -> list[tuple[str, str]]:
    """Read a manifest into sorted (relpath, md5) pairs, refusing unsafe paths.

    Raises:
        ManifestError: malformed JSON, a bad hash, or a path that is absolute,
            contains `..`, or repeats.
        ManifestTooLargeError: past `limits.check_manifest`'s limit.
    """
    check_manifest(oid, len(data))
    try:
        import json

        items = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ManifestError(oid, f"not valid JSON ({exc})") from exc
    if not isinstance(items, list):
        raise ManifestError(oid, "not a JSON list")
    entries = _well_formed(items)
    if entries is None:
        entries = _checked(items, oid)
    entries.sort()
    files = {relpath for relpath, _ in entries}
    if len(files) != len(entries):
        raise ManifestError(oid, "a path is listed twice")
    folders = {relpath.rpartition("/")[0] for relpath in files}
    for folder in list(folders):
        while folder:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    if not folders.isdisjoint(files):
        inside = min(r for r in files if enclosing(r, files))
        raise ManifestError(oid, f"path {inside!r} is inside file {enclosing(inside, files)!r}")
    return entries


def enclosing(relpath: str, paths: set[str]) -> str | None:
    """The path among `paths` that `relpath` lies strictly inside, if any."""
    parent = relpath.rpartition("/")[0]
    while parent:
        if parent in paths:
            return parent
        parent = parent.rpartition("/")[0]
    return None


_MD5S = re.compile(r"(?:[0-9a-f]{32}\0)*")  # every md5, joined: one match, not one per file
# In the paths joined by NUL and framed by it, any of these marks an unsafe one.
_UNSAFE = ("\\", "\0\0", "\0/", "/\0", "//", "\0.\0", "\0./", "/./", "/.\0",
           "\0..\0", "\0../", "/../", "/..\0")  # fmt: skip


def _well_formed(items: list) -> list[tuple[str, str]] | None:
    """The entries when every one is well formed (checked in C-speed passes
    over all of them, as large folders hold hundreds of thousands), else None."""
    try:
        md5s = [item["md5"] for item in items]
        rels = [item["relpath"] for item in items]
        joined = "\0" + "\0".join(rels) + "\0"
    except (TypeError, KeyError):
        return None
    try:
        joined_md5s = "\0".join(md5s) + "\0"
        if len(joined_md5s) != 33 * len(md5s) or not _MD5S.fullmatch(joined_md5s):
            return None  # (the length check: no md5 may hide a NUL and a second md5)
    except TypeError:  # an md5 that is not a string
        return None
    if joined.count("\0") != len(rels) + 1 or any(mark in joined for mark in _UNSAFE):
        return None
    if not joined.isascii() and not _is_utf8(joined):
        return None  # a lone surrogate ("\\udcff"): a name no file system shares
    return list(zip(rels, md5s, strict=True))


def _checked(items: list, oid: str) -> list[tuple[str, str]]:
    """The entries, one by one; raises ManifestError naming the first bad one."""
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
    return entries
