"""Where an object lives, in the cache and on every remote: one owner."""

from __future__ import annotations

import re

FILES_DIR = "files/md5"
_OID_RE = re.compile(r"^[0-9a-f]{32}(\.dir)?$")


def is_oid(oid: str) -> bool:
    return bool(_OID_RE.match(oid))


def oid_relpath(oid: str, *, legacy: bool = False) -> str:
    """`files/md5/ab/cdef…` (DVC 3) or `ab/cdef…` (legacy 2.x), posix."""
    if legacy:
        return f"{oid[:2]}/{oid[2:]}"
    return f"{FILES_DIR}/{oid[:2]}/{oid[2:]}"


def oid_from_parts(prefix: str, rest: str) -> str | None:
    """The oid stored as `prefix/rest`, or None if the name is not an object."""
    oid = prefix + rest
    return oid if len(prefix) == 2 and is_oid(oid) else None


def prefix_folders(*, legacy: bool = False) -> list[str]:
    """The 256 folders objects live in (`files/md5/00` … `ff`, or `00` … for 2.x)."""
    base = "" if legacy else FILES_DIR + "/"
    return [f"{base}{i:02x}" for i in range(256)]
