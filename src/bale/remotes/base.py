"""The backend interface: a few primitives every remote gives, nothing more.

Keys are *relpaths*: posix paths relative to the remote's URL, as
`odb.layout.oid_relpath` names them (`files/md5/ab/cdef…`). Retries,
concurrency, verification and progress are not here; `transfer.py` wraps
them around these primitives once for every backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from bale.errors import RemoteConfigError

# Options every remote accepts (DVC's common remote keys); backends read their own.
COMMON_OPTIONS = frozenset(
    {"url", "jobs", "checksum_jobs", "verify", "worktree", "version_aware", "no_traverse"}
)
_BOOLS = {"true": True, "false": False}
READ_CHUNK = 1 << 20  # what `read_chunks` yields at most: a buffer, not a file, in memory


class FileStat(NamedTuple):
    """One file of a store, as dvc records a dependency on it (dvc-data's
    `Meta.from_info`): `checksum` is the value dvc writes under the store's
    `checksum_name` (an S3 etag, a GCS etag in hex, an Azure etag in quotes,
    an HTTP ETag, Content-MD5 or token), None where dvc hashes the content
    instead (a folder, SSH); `version_id` where the store keeps versions."""

    relpath: str
    size: int | None
    checksum: str | None = None
    version_id: str | None = None


@runtime_checkable
class FileSource(Protocol):
    """Reading files that are not objects: what `import-url` needs of a store.

    `checksum_name` is the key dvc records a file of this store under:
    "md5" where the content itself is hashed, else "etag" or "checksum".
    `versioned_reads`: `get_file` and `walk` take version ids (S3).
    `list_cost` is infinite where nothing can be listed (HTTP).

    Every method raises a `RemoteAccessError` subclass on failure; an answer the
    store could not get is an error, never "absent".
    """

    url: str
    default_jobs: int
    list_cost: float
    local: bool
    checksum_name: str
    versioned_reads: bool

    def stat(self, relpath: str) -> FileStat:
        """The file at `relpath`, its newest version.

        Raises:
            FileNotFoundError: no file is there (nothing, or a folder).
        """
        ...

    def walk(self, prefix: str, *, versions: bool = False) -> Iterator[FileStat]:
        """Every file under the folder `prefix` at any depth, relpaths relative
        to it (none if it is absent); with `versions`, each with its version id.

        Raises:
            RemoteConfigError: `versions` on a store without `versioned_reads`.
        """
        ...

    def get_file(
        self, relpath: str, local_path: str, *, version_id: str | None = None
    ) -> str | None:
        """Download to `local_path` (a new file the caller owns); return the
        md5 of the bytes written if the backend took it on the way, so the
        engine verifies without reading the file again. `version_id` picks a
        version (`versioned_reads` stores only).

        Raises:
            FileNotFoundError: there is no such file (or version).
            RemoteConfigError: `version_id` on a store without `versioned_reads`.
        """
        ...

    def local_path(self, relpath: str) -> str | None:
        """A path the engine may read directly (folder remotes), else None."""
        ...

    def read_chunks(
        self, relpath: str, *, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        """The bytes of `relpath` from offset `start` up to `end` (None: the
        file's end), in chunks of at most `READ_CHUNK` bytes as they arrive,
        nothing written to disk: what a streamed or ranged read needs. A
        range past the end gives what there is (possibly nothing).

        Errors come from the first `next()`, as from any generator.

        Raises:
            FileNotFoundError: there is no such file.
        """
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


@runtime_checkable
class Backend(FileSource, Protocol):
    """A remote's primitives.

    `url` is the remote's URL with any password removed, for messages.
    `default_jobs` is the concurrency the engine uses when the caller gives none.
    Listing a folder costs `list_cost` per page of `page_size` names plus
    `name_cost` per name, counted in single-object existence checks; the engine
    uses these to choose between listing a prefix and asking object by object.
    `local`: the objects are files of this machine, reached without a client,
    so transfers may run in forked processes (`bale.forks`).
    """

    name_cost: float
    page_size: int

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        """The subset of `relpaths` present on the remote."""
        ...

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        """Relpaths of the files directly under folder `prefix` (none if it is absent)."""
        ...

    def iter_prefix_times(self, prefix: str) -> Iterator[tuple[str, float | None]]:
        """`iter_prefix`'s relpaths, each with when it last changed on the store
        (seconds since the epoch; None where the store did not say), taken from
        the same listing: no request per file. For gc's grace period."""
        ...

    def put_file(self, local_path: str, relpath: str) -> None:
        """Upload so that `relpath` appears only once its content is complete."""
        ...

    def remove_many(self, relpaths: Sequence[str]) -> None:
        """Delete these objects; already absent ones are fine."""
        ...


def read_range(source: FileSource, relpath: str, start: int, end: int) -> bytes:
    """The bytes of `relpath` in `[start, end)`, in one piece (a ranged read).

    Raises:
        FileNotFoundError: there is no such file.
    """
    return b"".join(source.read_chunks(relpath, start=start, end=end))


def no_versions(url: str, scheme: str) -> RemoteConfigError:
    """The error for a version asked of a store whose versions bale cannot read."""
    return RemoteConfigError(url, f"bale reads versions on s3:// only, not on {scheme}://")


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
