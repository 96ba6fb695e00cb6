"""`BaleFileSystem`: a repository at a revision as a read-only fsspec filesystem.

Git files and tracked data are one tree. The tree is indexed once, as dicts
of folders, and a tracked folder's manifest is read only when something
looks inside it, so `find` of 20,000 files is dict walks, not 20,000 calls.

A file is read from a cache of this machine when one holds it; otherwise
from the remote in ranged reads, hashed as they arrive in order, the last
block held back until the whole matches its md5. A read out of order (a seek
back, or to a footer first, as Parquet readers do) fetches the object whole
into the user's cache, verified, and goes on from there: every byte handed
out has been checked. URLs are `bale://PATH?repo=URL&rev=REV`; the same keys
may come as `storage_options`.
"""

from __future__ import annotations

import io
import os
import posixpath
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fsspec import AbstractFileSystem
from fsspec.spec import AbstractBufferedFile

from bale.errors import PathNotFoundError, RemoteObjectCorruptError, UsageError
from bale.hashing.md5 import Md5Stream
from bale.odb.layout import oid_relpath
from bale.odb.store import uses_dos2unix
from bale.remotes.base import read_range
from bale.view.repoview import Leaf, RepoView, ViewOut

BLOCK = 4 << 20  # one ranged read of a remote object
_URL_KEYS = ("repo", "rev", "remote")


class BaleFileSystem(AbstractFileSystem):
    """A repository at a revision (git files and tracked data), read-only.

    Examples:
        >>> import pandas
        >>> frame = pandas.read_csv("bale://data/train.csv?repo=../registry&rev=v1.0")
        >>> fs = BaleFileSystem(repo="../registry", rev="v1.0")
        >>> fs.ls("data", detail=False)
        ['data/train.csv', 'data/images']
    """

    protocol = "bale"
    root_marker = ""

    def __init__(
        self,
        repo: str | None = None,
        rev: str | None = None,
        remote: str | None = None,
        remote_config: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from bale.external.sources import reading_view

        self._stack = ExitStack()
        _git_dir, self.view = self._stack.enter_context(
            reading_view(repo, rev, remote=remote, remote_config=remote_config)
        )
        self._dirs: dict[str, dict[str, dict[str, Any]]] | None = None
        self._leaves: dict[str, Leaf] = {}  # git files and file outputs
        self._folders: dict[str, ViewOut] = {}  # every tracked folder
        self._pending: set[str] = set()  # tracked folders whose manifest is not read yet

    def close(self) -> None:
        """End the view's git reader; the next `BaleFileSystem(...)` or
        `bale://` URL of the same repository opens it afresh."""
        self._stack.close()
        type(self)._cache.pop(self._fs_token, None)

    # -- paths -------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: str) -> str:  # type: ignore[override]
        if isinstance(path, list | tuple):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        path = str(path)
        if path.startswith("bale://"):
            path = path[len("bale://") :].split("?", 1)[0]  # the query names the repository
        path = path.replace(os.sep, "/").strip("/")
        path = posixpath.normpath(path) if path else ""
        return "" if path == "." else path

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, str]:
        if "?" not in path:
            return {}
        query = parse_qs(urlsplit(path).query)
        unknown = sorted(set(query) - set(_URL_KEYS))
        if unknown:
            raise UsageError(
                f"'{unknown[0]}' is not a bale:// URL key; use repo, rev and remote, "
                "like bale://data/x.csv?repo=URL&rev=v1.0"
            )
        return {key: values[-1] for key, values in query.items()}

    @classmethod
    def _url_path(cls, path: str) -> str:
        """A path from a `bale://` URL, inside the repository.

        Raises:
            UnsafePathError: it leaves the repository.
        """
        from bale.errors import UnsafePathError

        stripped = cls._strip_protocol(path)
        if stripped == ".." or stripped.startswith("../") or "\0" in stripped:
            raise UnsafePathError(
                f"'{path}' leaves the repository; give a path from its top, like data/train.csv"
            )
        return stripped

    # -- the index ---------------------------------------------------------------

    def _index(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._dirs is None:
            self._dirs = {"": {}}
            for leaf in self.view.leaves("", expand=False):
                vo = leaf.out
                if vo is not None and vo.out.is_dir and leaf.path == vo.path:
                    self._add(leaf.path, "directory", size=vo.out.size, isout=True)
                    self._folders[leaf.path] = vo
                    self._pending.add(leaf.path)
                    self._dirs[leaf.path] = {}
                else:
                    self._add_leaf(leaf)
        return self._dirs

    def _add_leaf(self, leaf: Leaf) -> None:
        vo = leaf.out
        size = vo.out.size if vo is not None and leaf.path == vo.path else None
        self._add(leaf.path, "file", size=size, isout=vo is not None, md5=leaf.md5,
                  isexec=leaf.isexec)  # fmt: skip
        self._leaves[leaf.path] = leaf

    def _add(self, path: str, kind: str, **fields: Any) -> None:
        parent, name = posixpath.split(path)
        self._folder(parent)
        assert self._dirs is not None
        self._dirs[parent][name] = {"name": path, "type": kind, **fields}

    def _folder(self, folder: str) -> None:
        """Make `folder` and those above it (folders that only hold tracked data)."""
        dirs = self._dirs
        assert dirs is not None
        if folder in dirs:
            return
        parent, name = posixpath.split(folder)
        self._folder(parent)
        dirs[folder] = {}
        dirs[parent].setdefault(
            name, {"name": folder, "type": "directory", "size": 0, "isout": False}
        )

    def _expand(self, top: str, *, below: bool) -> None:
        """Read the manifests of the tracked folders holding `top` (and, with
        `below`, of those under it)."""
        self._index()
        dirs = self._index()
        for path in [p for p in self._pending if _under(top, p) or (below and _under(p, top))]:
            self._pending.discard(path)
            prefix = path + "/"
            # One pass, one dict per file: `find` of 20,000 files is this loop.
            for rel, md5 in self.view.manifest(self._folders[path]):
                parent, _, name = rel.rpartition("/")
                folder = prefix + parent if parent else path
                children = dirs.get(folder)
                if children is None:
                    self._folder(folder)
                    children = dirs[folder]
                children[name] = {"name": prefix + rel, "type": "file", "size": None,
                                  "isout": True, "md5": md5, "isexec": False}  # fmt: skip

    def _leaf(self, path: str) -> Leaf:
        """The file `path` as the view reads it (the index holds its info)."""
        leaf = self._leaves.get(path)
        if leaf is not None:
            return leaf
        owner = max((p for p in self._folders if path.startswith(p + "/")), key=len)
        info = self._lookup(path)
        assert info is not None
        return Leaf(path, self._folders[owner], info["md5"], False)

    def _lookup(self, path: str) -> dict[str, Any] | None:
        dirs = self._index()
        self._expand(path, below=False)
        if path == "":
            return {"name": "", "type": "directory", "size": 0}
        parent, name = posixpath.split(path)
        return dirs.get(parent, {}).get(name)

    def _missing(self, path: str) -> FileNotFoundError:
        try:
            self.view.pick(path)
        except PathNotFoundError as exc:
            return exc
        return PathNotFoundError(f"'{path}' does not exist in {self.view.url}")

    def _sized(self, info: dict[str, Any]) -> dict[str, Any]:
        """`info` with the size of a file from a cache (a manifest has none) or git."""
        if info["type"] == "file" and info.get("size") is None:
            leaf = self._leaf(info["name"])
            if leaf.out is None:
                info["size"] = len(self.view.tree.read(leaf.path))
            else:
                assert leaf.md5 is not None
                cached = self.view.cached_path(leaf.md5, leaf.out.out.legacy)
                info["size"] = os.stat(cached).st_size if cached else None
        return info

    # -- listing -----------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._url_path(path)
        if not detail and path in self._index() and path in self._pending:
            # A tracked folder's children straight from its sorted manifest.
            prefix, shown = path + "/", kwargs.get("dvcfiles", False)
            entries = self.view.manifest(self._folders[path])
            heads = dict.fromkeys(rel.partition("/")[0] for rel, _ in entries)
            return sorted(prefix + h for h in heads if shown or not _metadata(h))
        info = self._lookup(path)
        if info is None:
            raise self._missing(path)
        if info["type"] == "file":
            found = [self._sized(dict(info))]
        else:
            children = self._index().get(path, {})
            shown = kwargs.get("dvcfiles", False)
            found = [children[n] for n in sorted(children) if shown or not _metadata(n)]
            if detail:
                found = [self._sized(dict(child)) for child in found]
        return found if detail else [i["name"] for i in found]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._url_path(path)
        info = self._lookup(path)
        if info is None:
            raise self._missing(path)
        return self._sized(dict(info))

    def find(
        self, path: str, maxdepth: int | None = None, withdirs: bool = False,
        detail: bool = False, **kwargs: Any,
    ) -> Any:  # fmt: skip
        path = self._url_path(path)
        if not (detail or withdirs or maxdepth is not None):
            names = self._names_below(path, kwargs.get("dvcfiles", False))
            if names is not None:
                return names
        info = self._lookup(path)
        if info is None:
            return {} if detail else []
        if info["type"] == "file":
            found = {path: info}
        else:
            self._expand(path, below=True)
            dirs = self._index()
            depth = path.count("/") + 1 if path else 0
            found = {}
            for folder, children in dirs.items():
                if not _under(folder, path):
                    continue
                level = (folder.count("/") + 1 if folder else 0) - depth
                if maxdepth is not None and level >= maxdepth:
                    continue
                for name, child in children.items():
                    if _metadata(name) and not kwargs.get("dvcfiles", False):
                        continue
                    if withdirs or child["type"] == "file":
                        found[child["name"]] = child
            if withdirs and path:
                found[path] = info
        names = sorted(found)
        if detail:
            return {name: self._sized(dict(found[name])) for name in names}
        return names

    def _names_below(self, path: str, dvcfiles: bool) -> list[str] | None:
        """`find`'s names for a folder, a tracked folder's straight from its
        sorted manifest, without indexing it (a third of a first `find` of
        20,000 files); None when `path` is not such a folder."""
        dirs = self._index()
        if path not in dirs or any(_under(path, p) and path != p for p in self._pending):
            return None
        names: list[str] = []
        for folder, children in dirs.items():
            if _under(folder, path):
                names += [c["name"] for n, c in children.items()
                          if c["type"] == "file" and (dvcfiles or not _metadata(n))]  # fmt: skip
        for folder in [p for p in self._pending if _under(p, path)]:
            prefix = folder + "/"
            names += [prefix + rel for rel, _ in self.view.manifest(self._folders[folder])
                      if dvcfiles or not _metadata(rel.rpartition("/")[2])]  # fmt: skip
        names.sort()
        return names

    def du(self, path: str, total: bool = True, maxdepth: int | None = None,
           withdirs: bool = False, **kwargs: Any) -> Any:  # fmt: skip
        """Bytes under `path`: a whole tracked folder counts what its `.dvc`
        or `dvc.lock` records, without reading its manifest."""
        if not total or maxdepth is not None:
            return super().du(path, total=total, maxdepth=maxdepth, withdirs=withdirs, **kwargs)
        top = self._url_path(path)
        if self._lookup(top) is None:
            raise self._missing(top)
        size = 0
        whole = [p for p in self._folders if _under(p, top) and p != top]
        whole = [p for p in whole if not any(_under(p, w) and p != w for w in whole)]
        if top in self._folders and self._folders[top].out.size is not None:
            whole = [top]
        for folder in whole:
            size += self._folders[folder].out.size or 0
        for name, info in self.find(top, detail=True).items():
            if not any(_under(name, w) for w in whole):
                size += info.get("size") or 0
        return size

    # -- reading -----------------------------------------------------------------

    def _open(
        self, path: str, mode: str = "rb", block_size: int | None = None,
        autocommit: bool = True, cache_options: dict | None = None, **kwargs: Any,
    ) -> Any:  # fmt: skip
        if mode != "rb":
            raise UsageError(f"bale:// files are read-only; open them with 'rb', not '{mode}'")
        path = self._url_path(path)
        info = self._lookup(path)
        if info is None:
            raise self._missing(path)
        if info["type"] != "file":
            from bale.errors import PathIsFolderError

            raise PathIsFolderError(f"'{path}' is a folder in {self.view.url}")
        leaf = self._leaf(path)
        if leaf.out is None:
            return io.BytesIO(self.view.tree.read(path))
        assert leaf.md5 is not None
        cached = self.view.cached_path(leaf.md5, leaf.out.out.legacy)
        if cached is not None:
            return open(cached, "rb")  # the caller closes it
        return RemoteObjectFile(self, path, leaf, block_size=block_size or BLOCK,
                                size=info.get("size"))  # fmt: skip

    def get(self, rpath: Any, lpath: Any, recursive: bool = False, **kwargs: Any) -> None:
        """Download, verified, objects fetched in parallel (`bale get`'s engine)."""
        if not (isinstance(rpath, str) and isinstance(lpath, str)):
            return super().get(rpath, lpath, recursive=recursive, **kwargs)
        from bale.external.get import get

        path = self._url_path(rpath)
        info = self.info(path)
        if info["type"] == "directory" and not recursive:
            from bale.errors import PathIsFolderError

            raise PathIsFolderError(f"'{path}' is a folder; pass recursive=True to get it")
        dest = lpath
        if os.path.isdir(lpath) or lpath.endswith(("/", os.sep)):
            dest = os.path.join(lpath, posixpath.basename(path) or "top")
        get(self.view, path, dest, force=True)
        return None

    def get_file(self, rpath: str, lpath: str, **kwargs: Any) -> None:
        from bale.external.get import get

        get(self.view, self._url_path(rpath), lpath, force=True)


class RemoteObjectFile(AbstractBufferedFile):
    """An object on a remote, read in ranges and verified (see the module)."""

    def __init__(self, fs: BaleFileSystem, path: str, leaf: Leaf, *, block_size: int,
                 size: int | None) -> None:  # fmt: skip
        vo = leaf.out
        assert vo is not None and leaf.md5 is not None
        self._view: RepoView = fs.view
        self._vo = vo
        self._oid = leaf.md5
        self._legacy = vo.out.legacy
        self._relpath = oid_relpath(leaf.md5, legacy=vo.out.legacy)
        self._backend = fs.view.open_backend(vo)
        try:
            if size is None:
                size = self._backend.stat(self._relpath).size
        except FileNotFoundError as err:
            self._backend.close()
            from bale.errors import RemoteObjectMissingError

            raise RemoteObjectMissingError(self._backend.url, leaf.md5) from err
        self._hasher = Md5Stream(legacy=uses_dos2unix(leaf.md5, legacy=vo.out.legacy))
        self._hashed = 0  # bytes read in order from the start, hashed
        self._whole: Any = None  # the verified object in a cache, once fetched whole
        super().__init__(fs, path, mode="rb", block_size=block_size, cache_type="readahead",
                         size=size)  # fmt: skip

    def _fetch_range(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        if start >= end:
            return b""
        if self._whole is None and start != self._hashed:
            self._view.fetch(self._vo, [(self._oid, self._legacy)])
            self._whole = open(self._view.store.path(self._oid, legacy=self._legacy), "rb")  # noqa: SIM115
        if self._whole is not None:
            self._whole.seek(start)
            return self._whole.read(end - start)
        data = read_range(self._backend, self._relpath, start, end)
        self._hasher.update(data)
        self._hashed += len(data)
        if len(data) < end - start or self._hashed >= self.size:
            actual = self._hasher.hexdigest()
            if actual != self._oid or len(data) < end - start:
                raise RemoteObjectCorruptError(self._backend.url, self._oid, actual)
        return data

    def close(self) -> None:
        super().close()
        if self._whole is not None:
            self._whole.close()
        self._backend.close()


def _metadata(name: str) -> bool:
    """A stage file or `.dvcignore`: hidden from listings unless `dvcfiles=True`,
    as `DVCFileSystem` hides them."""
    return name.endswith(".dvc") or name in ("dvc.yaml", ".dvcignore")


def _under(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")
