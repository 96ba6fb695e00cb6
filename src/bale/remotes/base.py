"""The backend interface: a few primitives every remote gives, nothing more.

Keys are *relpaths*: posix paths relative to the remote's URL, as
`odb.layout.oid_relpath` names them (`files/md5/ab/cdef…`). Retries,
concurrency, verification and progress are not here; `transfer.py` wraps
them around these primitives once for every backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from bale.errors import RemoteConfigError

# Options every remote accepts (DVC's common remote keys); backends read their own.
COMMON_OPTIONS = frozenset(
    {"url", "jobs", "checksum_jobs", "verify", "worktree", "version_aware", "no_traverse"}
)
_BOOLS = {"true": True, "false": False}


@runtime_checkable
class Backend(Protocol):
    """A remote's primitives.

    `url` is the remote's URL with any password removed, for messages.
    `default_jobs` is the concurrency the engine uses when the caller gives none.
    Listing a folder costs `list_cost` per page of `page_size` names plus
    `name_cost` per name, counted in single-object existence checks; the engine
    uses these to choose between listing a prefix and asking object by object.
    `local`: the objects are files of this machine, reached without a client,
    so transfers may run in forked processes (`bale.forks`).

    Every method raises a `RemoteAccessError` subclass on failure; an answer the
    backend could not get is an error, never "absent".
    """

    url: str
    default_jobs: int
    list_cost: float
    name_cost: float
    page_size: int
    local: bool

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        """The subset of `relpaths` present on the remote."""
        ...

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        """Relpaths of the files directly under folder `prefix` (none if it is absent)."""
        ...

    def put_file(self, local_path: str, relpath: str) -> None:
        """Upload so that `relpath` appears only once its content is complete."""
        ...

    def get_file(self, relpath: str, local_path: str) -> str | None:
        """Download to `local_path` (a new file the caller owns); return the
        md5 of the bytes written if the backend took it on the way, so the
        engine verifies without reading the file again.

        Raises:
            FileNotFoundError: the object is not on the remote.
        """
        ...

    def remove_many(self, relpaths: Sequence[str]) -> None:
        """Delete these objects; already absent ones are fine."""
        ...

    def local_path(self, relpath: str) -> str | None:
        """A path the engine may read directly (folder remotes), else None."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


def as_bool(value: object) -> bool | None:
    """DVC's booleans, the one definition bale has: `true` or `false` in any
    case, as dvc 3.67 reads them (`yes`, `1` or a padded ` true` it refuses);
    a bool is itself; None for anything else."""
    if isinstance(value, bool):
        return value
    return _BOOLS.get(value.lower()) if isinstance(value, str) else None


def parse_bool(url: str, name: str, value: object, default: bool) -> bool:
    """A boolean option's value (`as_bool`); `default` when it is not set.

    Raises:
        RemoteConfigError: it is set to something else.
    """
    if value is None or value == "":
        return default
    parsed = as_bool(value)
    if parsed is None:
        raise RemoteConfigError(url, f"option '{name}' must be true or false, not '{value}'")
    return parsed


def parse_int(url: str, name: str, value: object, *, minimum: int = 1) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise RemoteConfigError(
            url, f"option '{name}' must be a whole number >= {minimum}, not '{value}'"
        )
    return number


def check_options(url: str, scheme: str, options: Mapping[str, object], known: set[str]) -> None:
    """Refuse option names a backend does not know: a typo must not be ignored."""
    unknown = sorted(set(options) - known - COMMON_OPTIONS)
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        raise RemoteConfigError(
            url,
            f"option {names} is not supported for {scheme} remotes; "
            f"supported: {', '.join(sorted(known))}",
        )


def split_url(url: str) -> tuple[str, str, str]:
    """`scheme://netloc/rest` -> (scheme, netloc, "/rest"); ("", "", url) when
    `url` has no scheme (a folder path). String work only: no regex to compile
    at start-up, and nothing raises, whatever the URL holds."""
    scheme, sep, rest = url.partition("://")
    if not sep or not (scheme[:1].isalpha() and scheme.isascii()):
        return "", "", url
    if not all(c.isalnum() or c in "+.-" for c in scheme):
        return "", "", url
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    return scheme, rest[:end], rest[end:]


def display_url(url: str) -> str:
    """The URL without a password, safe for messages and logs; never raises,
    whatever the URL holds (a bad port is shown, to be fixed)."""
    scheme, netloc, rest = split_url(url)
    userinfo, at, host = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}@{host}{rest}"


def scrub(text: str, secrets: Sequence[str | None]) -> str:
    """`text` with every secret value replaced, for the rare message that quotes a library."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cpu_jobs(factor: int, *, low: int, high: int) -> int:
    return max(low, min(high, factor * (os.cpu_count() or 1)))
