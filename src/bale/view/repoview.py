"""A repository at a revision as one tree of git files and tracked data.

`RepoView` reads the stage files of a `FileTree` (a commit, or a working
tree) through `workspace.index.tracked_in`, the same checked reader the
workspace uses, so a source's `.dvc` file naming `.git/hooks` or `../x` is
refused here too. Tracked folders are expanded from their manifests; objects
come, in this order, from the caches given (the consumer's first), the
source's own cache when it is a local repository, and the source's remotes
as its committed `.dvc/config` names them (an output's `remote:` first). What
is fetched lands in `store`, verified; nothing is written into the source.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from bale.errors import (
    ManifestError,
    ObjectCorruptError,
    PathNotFoundError,
    RemoteAccessError,
    SourceError,
    UnknownRemoteError,
)
from bale.formats.dvcfile import Out
from bale.formats.lockfile import LOCK_FILE, PIPELINE_FILE
from bale.formats.manifest import DIR_SUFFIX, manifest_oid, parse_manifest
from bale.odb.store import ObjectStore
from bale.parallel import map_batched
from bale.progress import NO_PROGRESS, Progress
from bale.repo.gittree import FileTree

if TYPE_CHECKING:
    from bale.remotes.base import Backend
from bale.workspace.index import DVCFILE_SUFFIX, Tracked, tracked_in

Obj = tuple[str, bool]  # (oid, legacy)


class Entry(NamedTuple):
    """One path of the view, with DVC's `list --json` fields."""

    path: str
    isdir: bool
    isexec: bool
    isout: bool  # tracked data: an output or a file inside one
    size: int | None
    md5: str | None


class ViewOut(NamedTuple):
    """A tracked output of the view: its path from the view's top, the root
    (a folder holding `.dvc/`) it belongs to, and the record."""

    path: str
    root: str
    tracked: Tracked

    @property
    def out(self) -> Out:
        return self.tracked.out


class Leaf(NamedTuple):
    """A file of the view: a git file (`out` None), a file output, or a file
    inside a tracked folder (`md5` its object), or an unexpanded folder output."""

    path: str
    out: ViewOut | None
    md5: str | None
    isexec: bool


class Pick(NamedTuple):
    """What a path of the view names: an output (all of it, or the file or
    folder `sub` inside it), or a git file."""

    out: ViewOut | None
    sub: str | None
    git_file: str | None


class RemoteSpec(NamedTuple):
    name: str
    url: str
    options: dict[str, str]


class RepoView:
    """One repository at one revision.

    `tree` gives its files; `local_root` is its working tree when the source
    is a folder of this machine (its cache is read then); `store` receives
    what is fetched; `caches` are read first (the consumer's cache).
    """

    def __init__(
        self,
        tree: FileTree,
        *,
        url: str,
        store: ObjectStore,
        caches: Iterable[ObjectStore] = (),
        local_root: str | None = None,
        jobs: int | None = None,
        progress: Progress = NO_PROGRESS,
        remote: str | None = None,
        remote_config: Mapping[str, str] | None = None,
        rev: str | None = None,
    ) -> None:
        self.tree = tree
        self.rev = rev  # the revision as the person named it (a tag, a branch), for messages
        self.remote = remote  # the default remote, in place of the config's
        self.remote_config = dict(remote_config or {})  # merged into the default's options
        self.url = url
        self.store = store
        self.caches = [c for c in caches if c.root != store.root]
        self.local_root = local_root
        self.jobs = jobs
        self.progress = progress
        self._outs: list[ViewOut] | None = None
        self._manifests: dict[Obj, list[tuple[str, str]]] = {}
        self._configs: dict[str, object] = {}
        self.fetched = 0  # objects downloaded from a remote so far

    def close(self) -> None:
        self.tree.close()

    def __enter__(self) -> RepoView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the tree holds ---------------------------------------------------

    def roots(self) -> list[str]:
        """The folders holding a `.dvc/config` (the repository roots), deepest last."""
        found = {
            posixpath.dirname(posixpath.dirname(path))
            for path in self.tree.files()
            if path == ".dvc/config" or path.endswith("/.dvc/config")
        }
        return sorted(found, key=lambda r: (r.count("/"), r))

    def outputs(self) -> list[ViewOut]:
        """Every output the stage files of each root record.

        Raises:
            SourceError: a stage file cannot be read, or names a path bale
                never writes (the source's problem, named with its path).
        """
        if self._outs is not None:
            return self._outs
        files = self.tree.files()
        roots = self.roots()
        stage_files: dict[str, dict[str, bytes]] = {root: {} for root in roots}
        for path in files:
            name = posixpath.basename(path)
            if not (name.endswith(DVCFILE_SUFFIX) or name in (PIPELINE_FILE, LOCK_FILE)):
                continue
            root = _root_of(path, roots)
            if root is None:
                continue
            rel = path[len(root) + 1 :] if root else path
            stage_files[root][rel] = self.tree.read(path)
        outs: list[ViewOut] = []
        for root, blobs in stage_files.items():
            tracked, problems = tracked_in(blobs)
            if problems:
                where, problem = problems[0]
                raise SourceError(
                    f"{self.url}: {posixpath.join(root, where)}: {problem} (in the source; "
                    "nothing was written)"
                )
            outs += [ViewOut(posixpath.join(root, t.rel) if root else t.rel, root, t)
                     for t in tracked]  # fmt: skip
        self._outs = sorted(outs, key=lambda o: o.path)
        return self._outs

    def pick(self, path: str) -> Pick:
        """What `path` (posix, from the top) names.

        Raises:
            PathNotFoundError: nothing at `path`.
        """
        path = _norm(path)
        for vo in self.outputs():
            if path == vo.path:
                return Pick(vo, None, None)
            if path.startswith(vo.path + "/"):
                sub = path[len(vo.path) + 1 :]
                if not vo.out.is_dir:
                    break
                entries = self.manifest(vo)
                if any(p == sub or p.startswith(sub + "/") for p, _ in entries):
                    return Pick(vo, sub, None)
                break
        if path in self.tree.files():
            return Pick(None, None, path)
        raise PathNotFoundError(
            f"'{path}' does not exist in {self.url}"
            + (f" at {self._rev_text}" if self._rev_text else "")
            + "; see: bale list "
            + self.url
            + (f" --rev {shlex.quote(self.rev)}" if self.rev else "")
        )

    def git_file(self, path: str) -> bytes:
        """The bytes of the git file `path`, to be written somewhere as a file.

        Raises:
            SourceError: it is a symlink: its target is a path, not data, and
                a link (or a copy of what it points to) could reach outside.
        """
        data = self.tree.read(path)
        if self.tree.files()[path].islink:
            target = data.decode("utf-8", "backslashreplace")
            raise SourceError(
                f"{self.url}: '{path}' is a symlink (to '{target}'); bale does not copy or "
                "follow a source's symlinks: name the file it points to"
            )
        return data

    @property
    def _rev_text(self) -> str:
        commit = getattr(self.tree, "commit", None)
        if not commit:
            return ""
        if self.rev and not commit.startswith(self.rev):
            return f"revision {self.rev} ({commit[:8]})"
        return f"revision {commit[:8]}"

    def leaves(self, top: str, *, expand: bool, dvc_only: bool = False) -> list[Leaf]:
        """The files at or under `top`: git files, and outputs (with `expand`,
        or when `top` lies inside one, a tracked folder is expanded into its
        files from its manifest; else it stands as one leaf)."""
        top = _norm(top)
        found: list[Leaf] = []
        outs = self.outputs()
        if not dvc_only:
            hidden = [posixpath.join(root, ".dvc") for root in self.roots()]
            for gpath, gfile in self.tree.files().items():
                if (
                    _under(gpath, top)
                    and not any(_under(gpath, o.path) for o in outs)
                    and not any(_under(gpath, h) for h in hidden)
                ):
                    found.append(Leaf(gpath, None, None, gfile.isexec))
        for vo in outs:
            inside = top != vo.path and _under(top, vo.path)
            if not (_under(vo.path, top) or inside):
                continue
            if vo.out.is_dir and (expand or inside or top == vo.path):
                for relpath, md5 in self.manifest(vo):
                    fpath = f"{vo.path}/{relpath}"
                    if _under(fpath, top):
                        found.append(Leaf(fpath, vo, md5, False))
            else:
                found.append(Leaf(vo.path, vo, vo.out.oid, vo.out.isexec))
        return sorted(found, key=lambda leaf: leaf.path)

    def entries(
        self, path: str = "", *, recursive: bool = False, dvc_only: bool = False,
        sizes: bool = False,
    ) -> list[Entry]:  # fmt: skip
        """What `path` holds, as `dvc list` shows it: its direct children, or
        with `recursive` every file below it (tracked folders expanded from
        their manifests, fetched only when the listing goes inside them); a
        file lists itself.

        Raises:
            PathNotFoundError: nothing at `path`.
        """
        top = _norm(path)
        leaves = {leaf.path: self._entry(leaf, sizes)
                  for leaf in self.leaves(top, expand=recursive, dvc_only=dvc_only)}  # fmt: skip
        if top in leaves:
            return [leaves[top]]
        if not leaves:
            self.pick(top)  # raises when nothing is there
        if recursive:
            return list(leaves.values())
        outs = self.outputs()
        children: dict[str, Entry] = {}
        for lpath, entry in leaves.items():
            rest = lpath[len(top) + 1 :] if top else lpath
            child = posixpath.join(top, rest.split("/", 1)[0]) if top else rest.split("/", 1)[0]
            if child == lpath:
                children[child] = entry
            elif child not in children:
                isout = any(_under(child, o.path) for o in outs)
                children[child] = Entry(child, True, False, isout, None, None)
        return [children[p] for p in sorted(children)]

    def _entry(self, leaf: Leaf, sizes: bool) -> Entry:
        vo = leaf.out
        if vo is None:
            size = len(self.tree.read(leaf.path)) if sizes else None
            return Entry(leaf.path, False, leaf.isexec, False, size, None)
        if leaf.path == vo.path:
            out = vo.out
            return Entry(leaf.path, out.is_dir, out.isexec, True, out.size, out.oid)
        assert leaf.md5 is not None
        size = self._object_size(leaf.md5, vo.out.legacy) if sizes else None
        return Entry(leaf.path, False, False, True, size, leaf.md5)

    def _object_size(self, oid: str, legacy: bool) -> int | None:
        path = self.cached_path(oid, legacy)
        return None if path is None else os.stat(path).st_size

    def cached_path(self, oid: str, legacy: bool) -> str | None:
        """Where a cache of this machine holds the object (read in place:
        objects enter a cache verified), or None."""
        for cache in (self.store, *self.caches, *self._source_caches()):
            path = cache.path(oid, legacy=legacy)
            if os.path.exists(path):
                return path
        return None

    def open_backend(self, vo: ViewOut) -> Backend:
        """A client of the remote the output `vo` uses; the caller closes it.

        Raises:
            SourceError: the source names no usable remote.
            RemoteConfigError: its URL or options are wrong.
        """
        from bale.remotes import open_remote

        spec = self.remote_spec(vo.root, vo.out.remote)
        return open_remote(spec.url, spec.options)

    # -- objects ----------------------------------------------------------------

    def manifest(self, vo: ViewOut) -> list[tuple[str, str]]:
        """A tracked folder's (relpath, md5) entries, fetched if needed.

        Raises:
            SourceError: no cache or remote of the source holds it, or it is
                malformed (a `../` or absolute path: refused, nothing written).
        """
        out = vo.out
        assert out.oid is not None
        key = (out.oid, out.legacy)
        if key not in self._manifests:
            data, fetched = self._manifest_bytes(vo)
            try:
                self._manifests[key] = parse_manifest(data, oid=out.oid)
            except ManifestError as exc:
                raise SourceError(
                    f"{self.url}: the manifest of '{vo.path}' {exc.problem}; nothing was written"
                ) from exc
            if fetched:  # kept, so the next read of this folder needs no remote
                self.store.add_bytes(out.oid, data, legacy=out.legacy)
        return self._manifests[key]

    def _manifest_bytes(self, vo: ViewOut) -> tuple[bytes, bool]:
        """A folder's manifest, verified, read before anything stores it (a
        hostile one must not reach the cache), and whether it came from the remote."""
        out = vo.out
        assert out.oid is not None
        for cache in (self.store, *self.caches, *self._source_caches()):
            if cache.exists(out.oid, legacy=out.legacy):
                data = cache.read_bytes(out.oid, legacy=out.legacy)
                if manifest_oid(data) == out.oid:
                    return data, False
        with self.store.scratch() as scratch:
            staging = ObjectStore(scratch)
            self.fetch(vo, [(out.oid, out.legacy)], into=staging)
            return staging.read_bytes(out.oid, legacy=out.legacy), True

    def objects(self, pick: Pick) -> list[Obj]:
        """The objects a pick needs (a folder's manifest first, then its files)."""
        vo = pick.out
        assert vo is not None and vo.out.oid is not None
        out = vo.out
        if not out.is_dir:
            return [(out.oid, out.legacy)]
        entries = self.manifest(vo)
        if pick.sub is not None:
            entries = [(p, m) for p, m in entries if p == pick.sub or p.startswith(pick.sub + "/")]
        return [(out.oid, out.legacy)] + [(m, out.legacy) for _, m in entries]

    def fetch(self, vo: ViewOut, objs: list[Obj], *, into: ObjectStore | None = None) -> int:
        """Put `objs` (needed by the output `vo`) into `store` (or `into`):
        copied (verified) from the caches, else downloaded (verified) from
        the output's remote. Returns how many came from the remote.

        Raises:
            SourceError: an object is in no cache and not on the remote.
            RemoteObjectCorruptError: the remote's copy does not match its name.
        """
        target = into or self.store
        wanted = [o for o in dict.fromkeys(objs) if not target.exists(o[0], legacy=o[1])]
        for cache in (*self.caches, *self._source_caches()):
            if not wanted:
                break
            from bale.workspace.context import Presence  # the state db: only when copying

            held = {lg: Presence(cache, legacy=lg, expect=len(wanted))
                    for lg in {legacy for _, legacy in wanted}}  # fmt: skip
            here = [o for o in wanted if o[0] in held[o[1]]]
            if here:

                def copy(batch: list[Obj], cache: ObjectStore = cache) -> list[None]:
                    for oid, legacy in batch:
                        self._copy_in(cache, target, oid, legacy)
                    return [None] * len(batch)

                map_batched(copy, here, jobs=self.jobs, forked=True)
                got = set(here)
                wanted = [o for o in wanted if o not in got]
        if not wanted:
            return 0
        from bale.remotes import transfer

        backend = self.open_backend(vo)
        try:
            done = transfer.fetch(target, backend, wanted, jobs=self.jobs,
                                  progress=self.progress)  # fmt: skip
        except RemoteAccessError as exc:
            raise SourceError(f"{self.url}: '{vo.path}' cannot be fetched: {exc}") from exc
        finally:
            backend.close()
        self.fetched += len(done.transferred)
        if done.failed:
            _oid, why = done.failed[0]
            if isinstance(why, ObjectCorruptError):
                raise why  # the integrity error itself: it names the remote and the fix
            base = backend.local_path("")
            if base is not None and not os.path.isdir(base):
                why = (
                    f"remote {backend.url}: the folder does not exist; check the source's "
                    "remote url"
                )
            raise SourceError(f"{self.url}: '{vo.path}' cannot be fetched: {why}")
        return len(done.transferred)

    def _copy_in(self, cache: ObjectStore, target: ObjectStore, oid: str, legacy: bool) -> None:
        """Copy an object of another cache into `target`, verified as it is read.

        Raises:
            SourceError: the object there does not match its name.
        """
        src = cache.path(oid, legacy=legacy)
        try:
            if oid.endswith(DIR_SUFFIX):
                data = cache.read_bytes(oid, legacy=legacy)
                if manifest_oid(data) != oid:
                    raise ObjectCorruptError(oid, manifest_oid(data), src)
                target.add_bytes(oid, data, legacy=legacy)
            else:
                target.add_file(src, legacy=legacy, expected=oid)
        except ObjectCorruptError as exc:
            raise SourceError(
                f"{self.url}: object {oid} in {cache.root} is corrupt (it hashes to "
                f"{exc.actual}); run bale fsck --repair there"
            ) from exc

    def _source_caches(self) -> list[ObjectStore]:
        if self.local_root is None:
            return []
        stores = []
        for root in self.roots():
            config = self.config(root)
            default = os.path.join(self.local_root, root, ".dvc", "cache")
            stores.append(ObjectStore(config.get("cache", "dir") or default))
        return stores

    def config(self, root: str):
        """The source root's committed `.dvc/config` (and, for a local source,
        its `config.local`, where keys and cache.dir live)."""
        if root not in self._configs:
            from bale.repo.config import merge_files, parse_text

            # A source seen only through git has no folder here: its relative
            # remote paths stay relative, and `remote_spec` refuses them.
            where = os.path.join(self.local_root or "<source>", root, ".dvc")
            path = posixpath.join(root, ".dvc/config") if root else ".dvc/config"
            files = [("repo", os.path.join(where, "config"),
                      parse_text(self.tree.read(path).decode("utf-8"), path))]  # fmt: skip
            local = os.path.join(where, "config.local")
            if self.local_root is not None and os.path.exists(local):
                with open(local, encoding="utf-8") as fobj:
                    files.append(("local", local, parse_text(fobj.read(), local)))
            self._configs[root] = merge_files(files)
        return self._configs[root]

    def remote_spec(self, root: str, name: str | None) -> RemoteSpec:
        """The remote an output of `root` uses (its own, else the default).

        Raises:
            SourceError: the source names no such remote, or none at all.
        """
        config = self.config(root)
        remotes = config.remotes()  # type: ignore[attr-defined]
        default = self.remote or config.get("core", "remote")  # type: ignore[attr-defined]
        name = name or default
        if name and name == default and self.remote_config:
            remotes = {**remotes, name: {**remotes.get(name, {}), **self.remote_config}}
        if self.remote and self.remote not in remotes:
            known = ", ".join(sorted(remotes)) or "none"
            raise UnknownRemoteError(
                f"{self.url} has no remote '{self.remote}' (its remotes: {known}); "
                "name one of them, or give its url in remote_config"
            )
        if not name:
            raise SourceError(
                f"{self.url} has no default remote in its .dvc/config, so its data cannot be "
                "fetched; ask its owners to set one (bale remote add -d) and push"
            )
        if name not in remotes or not remotes[name].get("url"):
            raise SourceError(f"{self.url}: its config names no usable remote '{name}'")
        options = dict(remotes[name])
        url = options.pop("url")
        if "://" not in url and not os.path.isabs(url) and self.local_root is None:
            raise SourceError(
                f"{self.url}: remote '{name}' is the relative folder '{url}', which only "
                "a local copy of the source can reach"
            )
        return RemoteSpec(name, url, options)


def _root_of(path: str, roots: list[str]) -> str | None:
    """The deepest root `path` lies in."""
    for root in reversed(roots):
        if root == "" or path.startswith(root + "/"):
            return root
    return None


def _under(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")


def _norm(path: str) -> str:
    path = path.replace(os.sep, "/").strip("/")
    return posixpath.normpath(path) if path else ""
