"""What every workspace operation needs: the repo, state, cache and linker."""

from __future__ import annotations

import os
import posixpath
import threading
from typing import NamedTuple

from bale.errors import ManifestError, ManifestTooLargeError, ObjectMissingError, UnsafePathError
from bale.formats.dvcfile import Out
from bale.formats.limits import check_manifest
from bale.formats.manifest import parse_manifest
from bale.hashing.state import StateDB
from bale.hashing.tree import TreeHash, hash_files, hash_tree, part_signatures
from bale.hashing.walk import FileEntry, Listing, stat_file, walk_files
from bale.odb.link import Linker
from bale.odb.store import ObjectStore
from bale.progress import NO_PROGRESS, Progress
from bale.repo.repository import Repo
from bale.workspace.index import metadata_problem

MANY = 512  # above this many lookups, list the cache once instead of stat per object


class Current(NamedTuple):
    """What is on disk now at an output's path."""

    oid: str
    size: int
    nfiles: int | None
    isexec: bool
    tree: TreeHash | None
    listing: list[FileEntry] | None


class Presence:
    """Which objects the cache holds, by one listing or by stat, as is cheaper.

    With `expect` above MANY lookups the cache is listed at once; otherwise
    each lookup is a stat until MANY were made, then it is listed. Safe to
    share between threads.
    """

    def __init__(self, store: ObjectStore, *, legacy: bool, expect: int = 0) -> None:
        self.store = store
        self.legacy = legacy
        self._known: set[str] | None = store.oids(legacy=legacy) if expect > MANY else None
        self._added: set[str] = set()
        self._asked = 0
        self._lock = threading.Lock()

    def __contains__(self, oid: str) -> bool:
        if oid in self._added:
            return True
        if self._known is None:
            self._asked += 1
            if self._asked <= MANY:
                return self.store.exists(oid, legacy=self.legacy)
            with self._lock:
                if self._known is None:
                    self._known = self.store.oids(legacy=self.legacy)
        return oid in self._known

    def add(self, oid: str) -> None:
        """`oid` is in the cache now (stored, or seen there), no lookup needed."""
        self._added.add(oid)


class Workspace:
    def __init__(
        self, repo: Repo, *, jobs: int | None = None, progress: Progress = NO_PROGRESS
    ) -> None:
        self.repo = repo
        self.jobs = jobs
        self.progress = progress
        self.store = ObjectStore(
            repo.cache_dir, shared=(repo.config.get("cache", "shared") or "").lower() == "group"
        )
        self._state: StateDB | None = None
        self._linker: Linker | None = None
        self._manifests: dict[tuple[str, bool], list[tuple[str, str]]] = {}
        self._listings: dict[str, Listing] | None = None
        self.real_root = os.path.realpath(repo.root)
        self.link_roots = (repo.root, self.real_root, os.path.realpath(repo.cache_dir))

    @property
    def state(self) -> StateDB:
        if self._state is None:
            self._state = StateDB(self.repo.state_path)
        return self._state

    @property
    def linker(self) -> Linker:
        if self._linker is None:
            self._linker = Linker(self.repo.link_types)
        return self._linker

    def close(self) -> None:
        if self._state is not None:
            self._state.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_inside(self, rel: str, *, follow: bool = False) -> None:
        """Refuse `rel` if a symlink on the way to it leads out of the
        repository, or into a place bale never writes (`.git`, `.dvc`, …).

        A `.dvc` file or a `.gitignore` entry may name `data/x` while `data` is
        a symlink to another folder (git checks symlinks out as they were
        committed): writing there would write outside the workspace, or into
        `.git/hooks`. With `follow`, `rel` itself may not be such a symlink
        either (a folder output that checkout fills).

        Raises:
            UnsafePathError: it is reached through such a symlink.
        """
        path = self.repo.abs(rel)
        real = os.path.realpath(path if follow else os.path.dirname(path))
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            raise UnsafePathError(
                f"'{rel}' leads to '{real}', outside the repository, through a symlink; "
                "replace the symlink with a folder"
            )
        inner = os.path.relpath(real, self.real_root).replace(os.sep, "/")
        if not follow:
            inner = posixpath.join(inner, posixpath.basename(rel))
        inner = posixpath.normpath(inner)
        problem = metadata_problem(inner)
        if problem is not None and inner != posixpath.normpath(rel):
            raise UnsafePathError(
                f"'{rel}' leads to '{inner}' through a symlink, and that {problem}; "
                "replace the symlink with a folder"
            )

    def listing(self, rel: str, *, temporary: bool = False) -> Listing:
        """The files of the folder `rel`; the temporary files a killed checkout
        leaves are not data and are left out unless `temporary` (checkout
        lists them to remove them). While `keep_listings` holds, a folder is
        walked once: status asks of `data` for data.dvc and again for the
        stage that reads it (20,000 files: 0.2 s each)."""
        if self._listings is not None and not temporary and rel in self._listings:
            return self._listings[rel]
        found = walk_files(
            self.repo.abs(rel),
            ignore_for=self.repo.ignore.for_walk(rel),
            link_roots=self.link_roots,
            temporary=temporary,
            sign=part_signatures,
        )
        if self._listings is not None and not temporary:
            self._listings[rel] = found
        return found

    def keep_listings(self, keep: bool = True) -> None:
        """Walk each folder once from now on (`keep`), for a command that
        does not change the workspace, or until it does (False: forget them)."""
        self._listings = {} if keep else None

    def known_md5(self, rel: str, entry: FileEntry, *, legacy: bool) -> str | None:
        """The md5 the state remembers for this exact file, if any."""
        return self.state.md5_of(rel, entry, legacy=legacy)

    def remember(self, rel: str, entry: FileEntry, md5: str, *, legacy: bool = False) -> None:
        self.state.record_files([(rel, entry, md5)], legacy=legacy)

    def file_md5(self, rel: str, entry: FileEntry, *, legacy: bool) -> str:
        md5 = self.known_md5(rel, entry, legacy=legacy)
        if md5 is None:
            md5 = hash_files(self.repo.root, [entry._replace(relpath=rel)], legacy=legacy)[0]
            self.remember(rel, entry, md5, legacy=legacy)
        return md5

    def current(
        self,
        rel: str,
        *,
        legacy: bool = False,
        need_entries: bool = False,
        listing: list[FileEntry] | None = None,
    ) -> Current | None:
        """Hash what is at `rel` now (state first); None if nothing is there.
        `listing` is the folder's walk when the caller already made it."""
        path = self.repo.abs(rel)
        if os.path.isdir(path):
            if listing is None:
                listing = self.listing(rel)
            tree = hash_tree(
                path, rel, listing, self.state, legacy=legacy, jobs=self.jobs,
                need_entries=need_entries,
            )  # fmt: skip
            return Current(tree.oid, tree.size, tree.nfiles, False, tree, listing)
        entry = stat_file(path)
        if entry is None:
            return None
        md5 = self.file_md5(rel, entry, legacy=legacy)
        return Current(md5, entry.size, None, entry.isexec, None, None)

    def manifest(self, out: Out) -> list[tuple[str, str]]:
        """The (relpath, md5) entries of a folder output, from the cache.
        Read once per command (an object never changes): callers share the
        list and must not modify it."""
        assert out.oid is not None
        key = (out.oid, out.legacy)
        if key in self._manifests:
            return self._manifests[key]
        try:
            size = os.stat(self.store.path(out.oid, legacy=out.legacy)).st_size
            check_manifest(out.oid, size, path=out.path)  # before reading a GiB
            data = self.store.read_bytes(out.oid, legacy=out.legacy)
        except FileNotFoundError as exc:
            raise ObjectMissingError(out.oid, out.path) from exc
        try:
            entries = parse_manifest(data, oid=out.oid)
        except ManifestTooLargeError:
            raise  # the object is sound: no advice to delete it
        except ManifestError as exc:
            raise ManifestError(
                out.oid,
                f"{exc.problem}, in the manifest of '{out.path}'; nothing was written: "
                "delete this object from the cache and run bale fetch",
            ) from exc
        self._manifests[key] = entries
        return entries

    def known_whole(self, out: Out) -> bool:
        """Whether the state knows the cache holds all of the folder `out`
        (checked under the cache's current stamp): no lookup, no listing."""
        if out.oid is None or not out.is_dir:
            return False
        stamp = self.store.stamp(legacy=out.legacy)
        return self.state.is_complete(out.oid, stamp)

    def in_cache(self, out: Out) -> bool:
        """Whether the cache holds everything `out` needs."""
        if out.oid is None:
            return False
        if not out.is_dir:
            return self.store.exists(out.oid, legacy=out.legacy)
        if not self.store.exists(out.oid, legacy=out.legacy):
            return False
        stamp = self.store.stamp(legacy=out.legacy)
        if self.state.is_complete(out.oid, stamp):
            return True
        entries = self.manifest(out)
        present = Presence(self.store, legacy=out.legacy, expect=len(entries))
        if all(md5 in present for _, md5 in entries):
            self.state.mark_complete(out.oid, stamp)
            return True
        return False
