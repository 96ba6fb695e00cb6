"""Read any registry, at any revision, from code, without a pull.

The names and parameters are `dvc.api`'s. `repo` is a repository's path or
git URL (None: the repository around the working folder); `rev` a branch,
tag or commit (None: a local repository's working tree, a URL's default
branch). Paths are relative to the repository's top, and may name a file
inside a tracked folder. Bytes come from a cache of this machine when it has
them, otherwise they are streamed from the remote and checked against their
md5 as they are read; nothing is written into the repository read.

    >>> import bale.api
    >>> with bale.api.open("images/labels.csv", repo="https://host/registry.git",
    ...                    rev="v1.0") as fobj:
    ...     header = fobj.readline()

Errors are `bale.errors` types: `RepositoryNotFoundError`,
`RevisionNotFoundError`, `PathNotFoundError` (also a `FileNotFoundError`),
`UnknownRemoteError`, `UnsafePathError` (a path that leaves the
repository), `ArtifactNotFoundError`, and `ObjectCorruptError` (the integrity
error: `RemoteObjectCorruptError` when the remote's copy is tampered with).

`import bale.api` is light: fsspec is imported when a filesystem is made.
"""

from __future__ import annotations

import io
import os
import posixpath
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from bale.errors import PathIsFolderError, TargetError, UnsafePathError, UsageError

if TYPE_CHECKING:
    from bale.api.balefs import BaleFileSystem
    from bale.view.repoview import Leaf, RepoView

__all__ = [
    "BaleFileSystem",
    "artifacts_show",
    "filesystem",
    "get_url",
    "metrics_show",
    "open",
    "params_show",
    "read",
]

_MODES = {"r": False, "rt": False, "rb": True, "br": True}


@contextmanager
def open(  # dvc.api's name
    path: str,
    repo: str | None = None,
    rev: str | None = None,
    remote: str | None = None,
    remote_config: Mapping[str, str] | None = None,
    mode: str = "r",
    encoding: str | None = None,
) -> Iterator[IO[Any]]:
    """A file of the repository at `rev`, opened for reading as a stream.

    `remote` names the remote to read from in place of the repository's
    default; `remote_config` adds options to it (keys, an endpoint), as in
    `dvc.api`. `mode` is "r" (text, `encoding` or UTF-8) or "rb". `path` may
    be an artifact of the registry's model tags: `classifier@v1.1.0`,
    `classifier#prod`, `classifier@latest` (with `rev` None).

        >>> with bale.api.open("data/train.csv", repo="../registry") as fobj:
        ...     rows = fobj.readlines()

    Raises:
        PathNotFoundError: nothing at `path`; PathIsFolderError: a folder.
        RemoteObjectCorruptError: from a read, when the remote's bytes do not
            match their md5 (raised before the last block is returned).
    """
    binary = _MODES.get(mode)
    if binary is None:
        raise UsageError(f"mode '{mode}' cannot be read; use 'r' or 'rb'")
    from bale.view.reading import open_leaf

    path, rev = _artifact(path, repo, rev)
    with _opened(repo, rev, remote, remote_config) as (_git_dir, view):
        leaf = _file_leaf(view, path)
        fobj = open_leaf(view, leaf)
        try:
            yield fobj if binary else io.TextIOWrapper(fobj, encoding=encoding or "utf-8")  # type: ignore[arg-type]
        finally:
            fobj.close()


def read(
    path: str,
    repo: str | None = None,
    rev: str | None = None,
    remote: str | None = None,
    remote_config: Mapping[str, str] | None = None,
    mode: str = "r",
    encoding: str | None = None,
) -> str | bytes:
    """The whole content of a file (see `open`).

    Examples:
        >>> labels = bale.api.read("images/labels.csv", repo="../registry", rev="v2.0")
    """
    with open(path, repo, rev, remote, remote_config, mode, encoding) as fobj:
        return fobj.read()


def get_url(
    path: str,
    repo: str | None = None,
    rev: str | None = None,
    remote: str | None = None,
    remote_config: Mapping[str, str] | None = None,
) -> str:
    """Where the remote keeps the data of `path` (a tracked file, a file
    inside a tracked folder, or a tracked folder: its `.dir` manifest).

        >>> bale.api.get_url("images", repo="../registry")
        's3://bucket/store/files/md5/8c/7dd922ad47494fc02c388e12c00eac.dir'

    Raises:
        TargetError: `path` is a git file, not tracked data.
        SourceError: the repository names no usable remote.
    """
    from bale.odb.layout import oid_relpath

    path, rev = _artifact(path, repo, rev)
    with _opened(repo, rev, remote, remote_config) as (_git_dir, view):
        top = _inside_path(view, path)
        pick = view.pick(top)
        if pick.out is None:
            raise TargetError(f"'{path}' is a git file, not tracked data; it has no remote URL")
        vo = pick.out
        if pick.sub is None:
            oid = vo.out.oid
        else:
            found = [md5 for rel, md5 in view.manifest(vo) if rel == pick.sub]
            if not found:
                raise PathIsFolderError(
                    f"'{path}' is a folder inside '{vo.path}'; name one of its files"
                )
            oid = found[0]
        assert oid is not None
        spec = view.remote_spec(vo.root, vo.out.remote)
        return spec.url.rstrip("/") + "/" + oid_relpath(oid, legacy=vo.out.legacy)


def params_show(
    *targets: str,
    repo: str | None = None,
    stages: str | Iterable[str] | None = None,
    rev: str | None = None,
    deps: bool = False,
) -> dict[str, Any]:
    """The params the repository's stages use, merged from their files
    (a key found in two files is prefixed with its file, as in `dvc.api`).

        >>> bale.api.params_show(repo="../registry")["train"]["epochs"]
        10

    `targets` read those params files whole; `stages` only what those
    stages read; `deps` only what any stage reads.
    """
    from bale.pipeline.metrics import params_of

    names = [stages] if isinstance(stages, str) else list(stages or [])
    return _show(repo, rev, lambda files: params_of(
        files, targets=list(targets) or None, deps_only=deps, stages=names or None))  # fmt: skip


def metrics_show(*targets: str, repo: str | None = None, rev: str | None = None) -> dict[str, Any]:
    """The metrics of the repository (its stages' metrics files, or `targets`), merged.

    Examples:
        >>> bale.api.metrics_show(repo="../registry", rev="v1.0")
        {'accuracy': 0.91, 'loss': 0.25}
    """
    from bale.pipeline.metrics import metrics_of

    return _show(repo, rev, lambda files: metrics_of(files, targets=list(targets) or None))


def artifacts_show(
    name: str, version: str | None = None, stage: str | None = None, repo: str | None = None
) -> dict[str, str]:
    """The commit and path of an artifact declared in a `dvc.yaml`'s
    `artifacts:`, at a registered version (None: the greatest) or at the
    version a stage holds, from the registry's GTO tags.

        >>> bale.api.artifacts_show("classifier", stage="prod", repo="../registry")
        {'rev': '5b2c…', 'path': 'models/classifier.pkl'}

    Raises:
        ArtifactNotFoundError: no such artifact, version or stage.
    """
    if version and stage:
        raise UsageError("give a version or a stage of the artifact, not both")
    from bale.errors import ArtifactNotFoundError
    from bale.registry.entries import artifacts
    from bale.registry.tags import FULLNAME_RE, artifact_commit, check_artifact_name

    check_artifact_name(name)
    with _opened(repo, None, None, None) as (git_dir, _view):
        commit = artifact_commit(git_dir, name, version=version, stage=stage)
    match = FULLNAME_RE.match(name)
    assert match is not None
    folder = (match.group("dirname") or "").rstrip(":").strip("/")
    where = repo if repo is not None else os.path.dirname(git_dir)
    with _opened(where, commit, None, None) as (_git, view):
        paths = {full: path for path, (full, _kind) in artifacts(view).items()}
    full = f"{folder}:{match.group('name')}" if folder else match.group("name")
    if full in paths:
        return {"rev": commit, "path": paths[full].replace("/", os.sep)}
    raise ArtifactNotFoundError(
        f"artifact '{name}' is not declared in {posixpath.join(folder, 'dvc.yaml')} at "
        f"{commit[:8]}; add it under artifacts:"
    )


def filesystem(
    repo: str | None = None,
    rev: str | None = None,
    remote: str | None = None,
    remote_config: Mapping[str, str] | None = None,
) -> BaleFileSystem:
    """An fsspec filesystem of the repository at `rev`: its git files and
    tracked data as one read-only tree (see `BaleFileSystem`).

        >>> fs = bale.api.filesystem("../registry", rev="v1.0")
        >>> len(fs.find("images"))
        20000
    """
    from bale.api.balefs import BaleFileSystem

    return BaleFileSystem(repo=repo, rev=rev, remote=remote, remote_config=remote_config)


def __getattr__(name: str) -> Any:
    if name == "BaleFileSystem":  # fsspec is imported only now
        from bale.api.balefs import BaleFileSystem

        return BaleFileSystem
    raise AttributeError(f"module 'bale.api' has no attribute '{name}'")


# -- helpers ---------------------------------------------------------------------


@contextmanager
def _opened(
    repo: str | None, rev: str | None, remote: str | None,
    remote_config: Mapping[str, str] | None,
) -> Iterator[tuple[str, RepoView]]:  # fmt: skip
    from bale.external.sources import reading_view

    with reading_view(repo, rev, remote=remote, remote_config=remote_config) as opened:
        yield opened


def _artifact(path: str, repo: str | None, rev: str | None) -> tuple[str, str | None]:
    """An artifact reference of the registry's tags (`rf@v1.0.0`, `rf#prod`,
    `rf@latest`) as the path and commit it names; anything else as given."""
    if rev is not None or not ("@" in path or "#" in path):
        return path, rev  # not a reference: the model registry is not imported (12 ms)
    from bale.registry.models import is_reference, resolve_reference

    if not is_reference(path):
        return path, rev
    with _opened(repo, None, None, None) as (git_dir, _view):
        found = resolve_reference(git_dir, path)
    return (path, rev) if found is None else (found.path, found.rev)


def _inside_path(view: RepoView, path: str) -> str:
    """`path` as the view names it (posix, from the top).

    Raises:
        UnsafePathError: it is absolute or leaves the repository.
    """
    posix = path.replace(os.sep, "/")
    norm = posixpath.normpath(posix) if posix else "."
    if posixpath.isabs(posix) or norm == ".." or norm.startswith("../") or "\0" in path:
        raise UnsafePathError(
            f"'{path}' leaves the repository {view.url}; give a path from its top, "
            "like data/train.csv"
        )
    return "" if norm == "." else norm


def _file_leaf(view: RepoView, path: str) -> Leaf:
    top = _inside_path(view, path)
    leaves = view.leaves(top, expand=False)
    for leaf in leaves:
        if leaf.path == top:
            if leaf.out is not None and leaf.out.out.is_dir and leaf.path == leaf.out.path:
                break
            return leaf
    else:
        if not leaves:
            view.pick(top)  # raises PathNotFoundError
    raise PathIsFolderError(f"'{path}' is a folder in {view.url}; name one of its files")


def _show(repo: str | None, rev: str | None, what: Any) -> dict[str, Any]:
    """Collected values of every file, merged as `dvc.api` merges them."""
    from bale.pipeline.metrics import ViewFiles

    with _opened(repo, rev, None, None) as (_git_dir, view):
        roots = view.roots()
        prefix = roots[0] if len(roots) == 1 else ""
        collected = what(ViewFiles(view, prefix))
    errors = collected.errors()
    if errors:
        raise errors[0]
    counts: Counter[str] = Counter()
    for loaded in collected.files.values():
        counts.update((loaded.data or {}).keys())
    merged: dict[str, Any] = {}
    for rel, loaded in collected.files.items():
        for key, value in (loaded.data or {}).items():
            merged[key if counts[key] == 1 else f"{rel}:{key}"] = value
    return merged
