"""`import-url`: track a file or folder of a URL or path in the `.dvc` file
`dvc import-url` writes; tell and bring its changes (status, update, pull).

The `.dvc` file is a frozen stage. Its one dependency records the source as
dvc saw it: `path` (as given), the store's own checksum of each file where
it has one (`etag`, HTTP's `checksum`), else the md5 of the content (a local
path, SSH), `size`, `nfiles`, `version_id`, `fs_config`; a folder is one
`md5` (of the manifest of those checksums), or, version-aware, a `files`
list. The output is the data as cached here.

A local source is hashed in place with the state, keyed by its path from
the root (`../` for one outside), so an unchanged folder is not read again;
a URL's files come through a backend and the transfer engine (`remotes`).
"""

from __future__ import annotations

import json
import math
import os
import posixpath
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from bale.errors import PathNotFoundError, SourceError, UsageError
from bale.external.imports import check_destination, write_import
from bale.formats.dvcfile import DvcFile, Out
from bale.formats.manifest import check_relpath, dump_manifest, manifest_oid
from bale.odb.store import ObjectStore
from bale.remotes import transfer
from bale.remotes.base import FileSource, FileStat, as_bool
from bale.workspace.context import Workspace
from bale.workspace.index import DVCFILE_SUFFIX, out_rel, url_dep

READABLE = ("s3", "ssh", "http", "https", "gs", "azure")
_SUPPORTED = "a local path, s3://, ssh://, http(s)://, gs:// or azure://"
# The dependency's keys that say what the source held; the rest say where it is.
_STATE_KEYS = ("md5", "etag", "checksum", "size", "nfiles", "isexec", "version_id")


class UrlSource(NamedTuple):
    """Where an import-url reads: `path` as its `.dvc` file records it, the
    absolute path it names here (`local`; None for a URL), or where a
    backend reads a URL (`root`, `relpath`); `fs_config` as recorded, and
    the backend's options when they are not that (`remote://`: its remote's)."""

    path: str
    local: str | None
    root: str
    relpath: str
    fs_config: Mapping[str, Any]
    options: Mapping[str, Any] | None = None

    @property
    def version_aware(self) -> bool:
        return as_bool(self.fs_config.get("version_aware")) is True


class Measured(NamedTuple):
    """What a source holds now: the dependency entry dvc writes for it, a
    URL's files (one with relpath "" for a file; none for a local source),
    and the output when measuring stored the data in the cache."""

    dep: dict[str, Any]
    files: list[FileStat]
    out: Out | None


class UrlImported(NamedTuple):
    """An import-url written or checked: its `.dvc` file and output (both
    root-relative), whether anything changed, and objects sent (--to-remote)."""

    dvcfile: str
    out: str
    changed: bool
    uploaded: int = 0


# -- sources -------------------------------------------------------------------


def url_name(url: str) -> str:
    """The base name of what `url` names: the output's default name, as dvc
    takes it (the URL's path, without query).

    Raises:
        SourceError: the URL names no file or folder.
    """
    from urllib.parse import urlsplit

    path = urlsplit(url).path if "://" in url else url
    name = posixpath.basename(posixpath.normpath(path.replace(os.sep, "/")))
    if name in ("", ".", "/", ".."):
        raise SourceError(f"'{url}' names no file or folder; give its path")
    return name


def given_source(
    ws: Workspace,
    url: str,
    dest_rel: str,
    *,
    fs_config: Mapping[str, str],
    version_aware: bool = False,
) -> UrlSource:
    """The source `url`, as given on the command line, for an import to
    `dest_rel`: recorded as given, except that a local path inside the
    repository, or a relative one, is recorded from the `.dvc` file's folder.

    Raises:
        SourceError: see `source_from`.
    """
    from bale.remotes.registry import scheme_of

    config = dict(fs_config)
    if version_aware:
        config["version_aware"] = True  # as dvc sets it, whatever --fs-config said
    if scheme_of(url) == "remote":
        return _remote_source(ws, url, config)
    base = ws.repo.abs(posixpath.dirname(dest_rel))
    path = url
    if not scheme_of(url) and "://" not in url:
        absolute = os.path.abspath(url)
        inside = absolute == ws.repo.root or absolute.startswith(ws.repo.root + os.sep)
        if inside or not os.path.isabs(url):
            path = os.path.relpath(absolute, base).replace(os.sep, "/")
    return source_from(path, base=base, fs_config=config)


def source_from(path: str, *, base: str, fs_config: Mapping[str, Any] | None = None) -> UrlSource:
    """The source a dependency's `path` names; a relative path is relative
    to `base`, the folder of the `.dvc` file.

    Raises:
        SourceError: a scheme bale does not read, a secret or an option for a
            local path in `fs_config`, or a URL naming no file.
    """
    from urllib.parse import unquote, urlsplit

    from bale.remotes.registry import scheme_of, split_source

    if not isinstance(fs_config, Mapping | None):
        raise SourceError(f"'{path}': fs_config must be a mapping of options; fix the .dvc file")
    config = dict(fs_config or {})
    scheme = scheme_of(path)
    if not scheme:
        local = unquote(urlsplit(path).path) if "://" in path else path
        if set(config) - {"version_aware"}:
            raise SourceError(
                f"--fs-config takes no options for a local path ('{path}'); drop "
                f"{', '.join(sorted(set(config) - {'version_aware'}))}"
            )
        if as_bool(config.get("version_aware")):
            raise SourceError(
                f"'{path}' is a local path, which has no versions; drop --version-aware"
            )
        return UrlSource(path, os.path.normpath(os.path.join(base, local)), "", "", config)
    if scheme not in READABLE:
        raise SourceError(f"cannot import '{path}': {scheme}:// is not supported; use {_SUPPORTED}")
    _check_recorded(scheme, config)
    if as_bool(config.get("version_aware")) and scheme != "s3":
        # Asked before a client opens: gcsfs alone may wait 15 s for credentials.
        raise SourceError(f"--version-aware: bale reads versions on s3:// only, not on {scheme}://")
    root, relpath = split_source(path)
    relpath = relpath.rstrip("/")
    if not relpath:
        raise SourceError(f"'{path}' names no file or folder; give its path")
    if scheme not in ("http", "https") and ("?" in relpath or "#" in relpath):
        raise SourceError(
            f"'{path}': a version in the URL (?versionId=, #generation) is not supported; "
            "import the plain URL with --version-aware"
        )
    return UrlSource(path, None, root, relpath, config)


def _check_recorded(scheme: str, config: Mapping[str, Any]) -> None:
    """Refuse options of a URL's `fs_config` that the `.dvc` file must not hold.

    Raises:
        SourceError: a secret, or the URL itself.
    """
    from bale.remotes.registry import SCHEMES, SECRET

    options = SCHEMES[scheme].options or {}
    for key in config:
        if options.get(key) == SECRET:
            raise SourceError(
                f"--fs-config {key}: the .dvc file, which git tracks, would hold a secret; "
                "give it in the environment instead (the client's variables, such as "
                "AWS_SECRET_ACCESS_KEY or AZURE_STORAGE_CONNECTION_STRING)"
            )
        if key == "url":
            raise SourceError("--fs-config url: the URL is the import's own; drop it")


def dep_source(ws: Workspace, dvcfile_rel: str, dep: Mapping[str, Any]) -> UrlSource:
    """The source an import-url's `.dvc` file records.

    Raises:
        SourceError: see `source_from`.
    """
    from bale.remotes.registry import scheme_of

    path = dep["path"]
    if isinstance(path, str) and scheme_of(path) == "remote":
        return _remote_source(ws, path, dep.get("fs_config"))
    base = ws.repo.abs(posixpath.dirname(dvcfile_rel))
    return source_from(path, base=base, fs_config=dep.get("fs_config"))


def _remote_source(ws: Workspace, path: str, fs_config: Any) -> UrlSource:
    """`remote://NAME/PATH`, as dvc reads it: PATH under the URL of this
    repository's remote NAME, opened with that remote's options (its keys
    from config.local too), while the `.dvc` file records only what was given.

    Raises:
        SourceError: no path after the name, a version-aware import, or bad fs_config.
        ConfigError: no remote NAME, or its config is wrong.
    """
    from bale.remotes.registry import scheme_of, split_source
    from bale.repo.remote_config import remote_spec

    if not isinstance(fs_config, Mapping | None):
        raise SourceError(f"'{path}': fs_config must be a mapping of options; fix the .dvc file")
    config = dict(fs_config or {})
    name, _, sub = path.split("://", 1)[1].partition("/")
    sub = sub.strip("/")
    if not name or not sub:
        raise SourceError(f"'{path}' names no file or folder; use remote://NAME/PATH")
    if as_bool(config.get("version_aware")):
        raise SourceError(f"--version-aware: bale reads versions on s3:// only, not on '{path}'")
    try:
        check_relpath(sub)
    except ValueError as exc:
        raise SourceError(f"'{path}' leaves its remote's folder; name a path inside it") from exc
    spec = remote_spec(ws.repo, name)
    scheme = scheme_of(spec.url)
    if not scheme:
        if config:
            raise SourceError(f"'{path}' is in a folder remote, which takes no --fs-config")
        return UrlSource(path, os.path.join(spec.url, *sub.split("/")), "", "", config)
    if scheme not in READABLE:
        raise SourceError(f"cannot import '{path}': its remote is {scheme}://; use {_SUPPORTED}")
    _check_recorded(scheme, config)
    root, relpath = split_source(spec.url.rstrip("/") + "/" + sub)
    return UrlSource(path, None, root, relpath, config, {**spec.options, **config})


@contextmanager
def reading(source: UrlSource) -> Iterator[FileSource | None]:
    """A backend reading a URL's source, closed after the block; None for a
    local path (hashed in place).

    Raises:
        RemoteConfigError: the URL or its options are wrong.
    """
    if source.local is not None:
        yield None
        return
    from bale.remotes import open_remote

    backend = open_remote(
        source.root, source.fs_config if source.options is None else source.options
    )
    try:
        yield backend
    finally:
        backend.close()


# -- measuring -----------------------------------------------------------------


def measure(
    ws: Workspace, source: UrlSource, backend: FileSource | None, *, keep: bool, name: str
) -> Measured:
    """What `source` holds now. With `keep`, content hashed to learn its md5
    (a local path, SSH) goes into the cache and the output `name` comes back;
    without, nothing is stored (status, --no-download).

    Raises:
        PathNotFoundError: nothing is there.
        SourceError: a name in the folder cannot be a path, or a version-aware
            source has no versions.
        RemoteAccessError: the store could not tell.
    """
    if backend is None:
        return _measure_local(ws, source, keep=keep, name=name)
    if not keep or backend.checksum_name != "md5":
        return _measure_url(ws, source, backend, into=None, name=name)
    return _measure_url(ws, source, backend, into=ws.store, name=name)


def _measure_local(ws: Workspace, source: UrlSource, *, keep: bool, name: str) -> Measured:
    from bale.workspace.save import save_path

    assert source.local is not None
    key, listing = _local_listing(ws, source)
    if keep:
        oid, size, nfiles, isexec = save_path(ws, key, listing=listing)
    else:
        current = ws.current(key, listing=listing)
        assert current is not None
        oid, size, nfiles, isexec = current.oid, current.size, current.nfiles, current.isexec
    dep = _dep(source, {"md5": oid}, size=size, nfiles=nfiles, isexec=isexec)
    # dvc records the source's execute bit on the dependency only.
    out = Out(path=name).with_hash(oid, size=size, nfiles=nfiles) if keep else None
    return Measured(dep, [], out)


def _local_listing(ws: Workspace, source: UrlSource) -> tuple[str, Any]:
    """A local source's state key (its path from the root) and, for a
    folder, its listing: the workspace's walk inside the repository (its
    .dvcignore applies), a plain one outside it.

    Raises:
        PathNotFoundError: nothing is there.
    """
    from bale.hashing.tree import part_signatures
    from bale.hashing.walk import walk_files

    path = source.local
    assert path is not None
    if not os.path.lexists(path):
        raise PathNotFoundError(f"'{source.path}' does not exist; check the path")
    root = ws.repo.root
    if root == path or root.startswith(path.rstrip(os.sep) + os.sep):
        raise SourceError(
            f"'{source.path}' holds this repository itself; import a folder beside it"
        )
    key = os.path.relpath(path, ws.repo.root).replace(os.sep, "/")
    if not os.path.isdir(path):
        return key, None
    if key != ".." and not key.startswith("../"):
        return key, ws.listing(key)
    return key, walk_files(path, link_roots=(os.path.realpath(path),), sign=part_signatures)


def _measure_url(
    ws: Workspace, source: UrlSource, backend: FileSource, *, into: ObjectStore | None, name: str
) -> Measured:
    """A URL's source: stat it as a file, else list it as a folder. Where the
    store has no checksum (SSH), the content is downloaded and hashed, into
    `into` (then the output comes back) or a scratch folder."""
    try:
        files = [transfer.stat_source(backend, source.relpath)._replace(relpath="")]
    except FileNotFoundError:
        files = []
        if not math.isinf(backend.list_cost):  # HTTP cannot list: a file or nothing
            files = transfer.walk_source(backend, source.relpath, versions=source.version_aware)
    if not files:
        raise PathNotFoundError(f"'{source.path}' does not exist; check the URL")
    for stat in files:
        if stat.relpath:
            try:
                check_relpath(stat.relpath)
            except ValueError as err:
                raise SourceError(
                    f"'{source.path}' holds '{stat.relpath}', which cannot be a file's path "
                    "in a folder; import the files around it one by one"
                ) from err
        if source.version_aware and stat.version_id is None:
            raise SourceError(
                f"'{source.path}' has no versions (is versioning on for its bucket?); "
                "drop --version-aware"
            )
    key = backend.checksum_name
    if key != "md5":
        return Measured(_url_dep(source, files, key, [f.checksum for f in files]), files, None)
    if into is not None:
        md5s = _download_md5s(ws, into, backend, source, files)
        out = _out_of(into, files, md5s, name)
        return Measured(_url_dep(source, files, key, md5s), files, out)
    with ws.store.scratch() as tmp:
        md5s = _download_md5s(ws, ObjectStore(tmp), backend, source, files)
    return Measured(_url_dep(source, files, key, md5s), files, None)


def _entries(store: ObjectStore, out: Out) -> list[tuple[str, str]]:
    from bale.formats.manifest import parse_manifest

    assert out.oid is not None
    return parse_manifest(store.read_bytes(out.oid), oid=out.oid)


def _dep(
    source: UrlSource,
    value: Mapping[str, Any],
    *,
    size: int | None = None,
    nfiles: int | None = None,
    isexec: bool = False,
    version_id: str | None = None,
) -> dict[str, Any]:
    """A dependency entry in dvc's key order (`Output.dumpd`): the hash, the
    file's meta, `hash: md5` (written whatever the hash is), `path`, `fs_config`."""
    dep = {k: v for k, v in value.items() if v is not None}
    meta = (("size", size), ("nfiles", nfiles), ("isexec", isexec or None),
            ("version_id", version_id))  # fmt: skip
    dep.update((key, item) for key, item in meta if item is not None)
    dep["hash"] = "md5"
    dep["path"] = source.path
    if source.fs_config:
        dep["fs_config"] = dict(source.fs_config)
    return dep


def _url_dep(
    source: UrlSource, files: list[FileStat], key: str, values: Sequence[str | None]
) -> dict[str, Any]:
    """The dependency on a URL's file (its checksum), folder (the md5 of the
    manifest of its files' checksums) or version-aware folder (`files`)."""
    if len(files) == 1 and not files[0].relpath:
        stat = files[0]
        return _dep(source, {key: values[0]}, size=stat.size, version_id=stat.version_id)
    pairs = sorted(zip(files, values, strict=True), key=lambda p: p[0].relpath)
    if source.version_aware:
        dep = _dep(source, {})
        dep["files"] = [
            {"relpath": f.relpath, key: value, "size": f.size, "version_id": f.version_id}
            for f, value in pairs
        ]
        return dep
    manifest = json.dumps([{key: value, "relpath": f.relpath} for f, value in pairs],
                          sort_keys=True).encode()  # fmt: skip
    size = sum(f.size or 0 for f in files)
    return _dep(source, {"md5": manifest_oid(manifest)}, size=size, nfiles=len(files))


def _fingerprint(dep: Mapping[str, Any]) -> tuple:
    """What a dependency says the source held, to compare two of them."""
    files = dep.get("files")
    listed = None
    if isinstance(files, list):
        listed = [
            tuple(sorted((k, v) for k, v in f.items() if k == "relpath" or k in _STATE_KEYS))
            for f in files
            if isinstance(f, dict)
        ]
    return tuple(dep.get(k) for k in _STATE_KEYS), listed


def _wanted(
    backend: FileSource, source: UrlSource, files: Sequence[FileStat]
) -> list[tuple[str, str | None]]:
    """(relpath under the backend's root, version to read) of each file: the
    version it was seen at, where the store reads versions."""
    wanted = []
    for stat in files:
        rel = f"{source.relpath}/{stat.relpath}" if stat.relpath else source.relpath
        wanted.append((rel, stat.version_id if backend.versioned_reads else None))
    return wanted


def download(
    ws: Workspace,
    store: ObjectStore,
    backend: FileSource,
    source: UrlSource,
    files: list[FileStat],
    name: str,
) -> Out:
    """Download a URL's files into `store`; the output `name` recording them
    (a folder's manifest stored too)."""
    return _out_of(store, files, _download_md5s(ws, store, backend, source, files), name)


def _download_md5s(
    ws: Workspace, store: ObjectStore, backend: FileSource, source: UrlSource, files: list[FileStat]
) -> list[str]:
    wanted = _wanted(backend, source, files)
    return transfer.download(store, backend, wanted, jobs=ws.jobs, progress=ws.progress)


def _out_of(store: ObjectStore, files: list[FileStat], md5s: list[str], name: str) -> Out:
    """The output `name` recording files stored in `store` under `md5s`."""
    if len(files) == 1 and not files[0].relpath:
        return Out(path=name).with_hash(md5s[0], size=os.stat(store.path(md5s[0])).st_size)
    entries = sorted(zip((f.relpath for f in files), md5s, strict=True))
    manifest = dump_manifest(entries)
    oid = manifest_oid(manifest)
    if not store.exists(oid):
        store.add_bytes(oid, manifest)
    size = sum(os.stat(store.path(md5)).st_size for _, md5 in entries)
    return Out(path=name).with_hash(oid, size=size, nfiles=len(entries))


def _complete(
    ws: Workspace, source: UrlSource, backend: FileSource | None, measured: Measured, name: str
) -> Measured:
    """`measured` with its output in the cache: downloaded for a URL, or a
    local source measured again, storing (dependency and output then come
    from the same reading)."""
    if measured.out is not None:
        return measured
    if backend is None:
        return _measure_local(ws, source, keep=True, name=name)
    return measured._replace(out=download(ws, ws.store, backend, source, measured.files, name))


# -- import, update, status, pull ------------------------------------------------


def import_url(
    ws: Workspace,
    source: UrlSource,
    dest_rel: str,
    *,
    no_download: bool = False,
    to_remote: bool = False,
    remote: str | None = None,
    force: bool = False,
) -> UrlImported:
    """Import `source` to `dest_rel`: its data into the cache (or, with
    `to_remote`, straight to the remote; with `no_download`, nowhere yet),
    the `.dvc` file and `.gitignore` entry, the data checked out. Every check
    of the destination runs before the source is read.

    Raises:
        UsageError: options that do not go together.
        TargetError, OverlappingOutputError: see `imports.check_destination`.
        PathNotFoundError, SourceError, RemoteAccessError: see `measure`.
        TransferError: an upload to the remote failed; nothing was recorded.
    """
    if to_remote and (no_download or source.version_aware):
        raise UsageError("--to-remote takes neither --no-download nor --version-aware")
    if remote is not None and not to_remote:
        raise UsageError("-r/--remote names the remote of --to-remote; add --to-remote")
    dvcfile_rel = dest_rel + DVCFILE_SUFFIX
    check_destination(ws, dest_rel, force=force, own=dvcfile_rel)
    name = posixpath.basename(dest_rel)
    uploaded = 0
    with reading(source) as backend:
        if to_remote:
            measured, uploaded = _send(ws, source, backend, name, remote)
        else:
            measured = measure(ws, source, backend, keep=not no_download, name=name)
            if not no_download:
                measured = _complete(ws, source, backend, measured, name)
    out = Out(path=name) if no_download else measured.out
    assert out is not None
    if source.version_aware:
        out = out._replace(push=False)  # its versions are the source's to keep
    dvcfile = DvcFile(outs=(out,), extra={"frozen": True, "deps": [measured.dep]})
    write_import(ws, dvcfile_rel, dest_rel, dvcfile, download=not (no_download or to_remote),
                 force=force)  # fmt: skip
    return UrlImported(dvcfile_rel, dest_rel, True, uploaded)


def _send(
    ws: Workspace, source: UrlSource, backend: FileSource | None, name: str, remote: str | None
) -> tuple[Measured, int]:
    """--to-remote: the source's files to this repository's remote, through a
    scratch folder for a URL's, the folder's manifest last (a remote never
    names a folder it cannot serve); nothing stays in the cache. Returns the
    measure (with the output) and the objects sent."""
    from bale.workspace.sync import open_backend

    _spec, target = open_backend(ws, remote)
    try:
        with ws.store.scratch() as tmp:
            scratch = ObjectStore(tmp)
            if backend is None:
                measured, sources = _local_sources(ws, source, scratch, name)
            else:
                measured = _measure_url(ws, source, backend, into=scratch, name=name)
                if measured.out is None:
                    measured = measured._replace(
                        out=download(ws, scratch, backend, source, measured.files, name)
                    )
                sources = _store_sources(scratch, measured.out)
            out = measured.out
            assert out is not None and out.oid is not None
            manifest = (out.oid, scratch.read_bytes(out.oid)) if out.is_dir else None
            sent = transfer.upload_output(target, sources, manifest, scratch=ws.store,
                                          what=source.path, jobs=ws.jobs,
                                          progress=ws.progress)  # fmt: skip
    finally:
        target.close()
    return measured, sent


def _local_sources(
    ws: Workspace, source: UrlSource, scratch: ObjectStore, name: str
) -> tuple[Measured, list[tuple[str, str, bool]]]:
    """A local source hashed in place for --to-remote: its measure and the
    files to upload as they are; a folder's manifest goes into `scratch`."""
    assert source.local is not None
    key, listing = _local_listing(ws, source)
    current = ws.current(key, listing=listing, need_entries=True)
    assert current is not None
    if current.tree is None:
        sources = [(source.local, current.oid, False)]
    else:
        assert current.tree.entries is not None and current.tree.manifest is not None
        sources = [(os.path.join(source.local, p), m, False) for p, m in current.tree.entries]
        scratch.add_bytes(current.oid, current.tree.manifest)
    out = Out(path=name).with_hash(current.oid, size=current.size, nfiles=current.nfiles)
    dep = _dep(source, {"md5": current.oid}, size=current.size, nfiles=current.nfiles,
               isexec=current.isexec)  # fmt: skip
    return Measured(dep, [], out), sources


def _store_sources(store: ObjectStore, out: Out | None) -> list[tuple[str, str, bool]]:
    assert out is not None and out.oid is not None
    oids = [m for _, m in _entries(store, out)] if out.is_dir else [out.oid]
    return [(store.path(oid), oid, False) for oid in oids]


def _recorded(
    ws: Workspace, rel: str, dvcfile: DvcFile
) -> tuple[dict[str, Any], Out, str, UrlSource]:
    """An import-url's dependency, output, output path and source, as its
    `.dvc` file `rel` records them."""
    dep = url_dep(dvcfile)
    assert dep is not None
    out = dvcfile.outs[0]
    return dep, out, out_rel(rel, out.path), dep_source(ws, rel, dep)


def update_url(
    ws: Workspace, rel: str, dvcfile: DvcFile, *, no_download: bool = False
) -> UrlImported:
    """Bring the source's changes into one import-url; nothing is written
    when the source holds what the `.dvc` file records.

    Raises:
        PathNotFoundError, SourceError, RemoteAccessError: see `measure`.
        CheckoutError: the workspace copy holds changes not in the cache.
    """
    dep, out, dest_rel, source = _recorded(ws, rel, dvcfile)
    with reading(source) as backend:
        # A local folder is checked through the state first: nothing stored
        # for an unchanged one. SSH is hashed by downloading: kept at once.
        keep = not no_download and backend is not None
        measured = measure(ws, source, backend, keep=keep, name=out.path)
        if _fingerprint(measured.dep) == _fingerprint(dep) and (out.oid or no_download):
            return UrlImported(rel, dest_rel, False)
        if not no_download:
            measured = _complete(ws, source, backend, measured, out.path)
    recorded = Out(path=out.path) if no_download else measured.out
    assert recorded is not None
    recorded = recorded._replace(extra=out.extra, remote=out.remote, push=out.push)
    extra = {k: v for k, v in dvcfile.extra.items() if k != "md5"}
    extra["deps"] = [measured.dep]
    write_import(ws, rel, dest_rel, DvcFile(outs=(recorded,), extra=extra),
                 download=not no_download, force=False)  # fmt: skip
    return UrlImported(rel, dest_rel, True)


def check_url(ws: Workspace, rel: str, dep: Mapping[str, Any]) -> str | None:
    """dvc's word for how an import-url's source differs from what `dep`
    records: 'update available' (a versioned file has a newer version, as
    dvc says), 'modified', 'deleted', or None. Nothing is stored.

    Raises:
        SourceError, RemoteAccessError: it could not tell.
    """
    source = dep_source(ws, rel, dep)
    with reading(source) as backend:
        try:
            if backend is not None and "files" not in dep and dep.get("version_id"):
                now = transfer.stat_source(backend, source.relpath)
                return None if now.version_id == dep["version_id"] else "update available"
            measured = measure(ws, source, backend, keep=False, name="")
        except (FileNotFoundError, PathNotFoundError):
            return "deleted"
    return None if _fingerprint(measured.dep) == _fingerprint(dep) else "modified"


def fetch_url(ws: Workspace, rel: str, dvcfile: DvcFile) -> int:
    """Bring an import-url's data into the cache from its source (pull, when
    no remote has it); returns the files downloaded. Recorded versions are
    read as recorded; any other source must still hold what the `.dvc` file
    records. A `--no-download` import then gets its output recorded in its
    `.dvc` file (the bytes `dvc update` writes), so checkout places it.

    Raises:
        SourceError: the source changed since it was recorded.
        PathNotFoundError, RemoteAccessError: see `measure`.
    """
    from bale.repo.lock import repo_lock

    dep, out, dest_rel, source = _recorded(ws, rel, dvcfile)
    with reading(source) as backend:
        files = _recorded_versions(dep) if backend is not None and backend.versioned_reads else None
        if files is not None:
            got = download(ws, ws.store, backend, source, files, out.path)
        else:
            measured = measure(ws, source, backend, keep=True, name=out.path)
            if _fingerprint(measured.dep) != _fingerprint(dep):
                raise SourceError(
                    f"the source of '{dest_rel}' ({source.path}) changed since {rel} recorded "
                    f"it; run: bale update {rel}"
                )
            got = _complete(ws, source, backend, measured, out.path).out
    assert got is not None and got.oid is not None
    if out.oid is not None:
        if got.oid != out.oid:
            raise SourceError(
                f"'{source.path}' no longer holds the data {rel} records ({out.oid}); "
                f"run: bale update {rel}"
            )
        return got.nfiles or 1
    recorded = got._replace(extra=out.extra, remote=out.remote, push=out.push)
    new = DvcFile(outs=(recorded,), extra={k: v for k, v in dvcfile.extra.items() if k != "md5"})
    with repo_lock(ws.repo.tmp_dir):
        write_import(ws, rel, dest_rel, new, download=False, force=False)
    return got.nfiles or 1


def _recorded_versions(dep: Mapping[str, Any]) -> list[FileStat] | None:
    """The files and versions a dependency pins (a version-aware folder's
    `files`, a versioned file's `version_id`), or None."""
    files = dep.get("files")
    if isinstance(files, list):
        pinned = []
        for entry in files:
            relpath = entry.get("relpath") if isinstance(entry, dict) else None
            try:
                check_relpath(relpath)
            except ValueError as err:
                raise SourceError(
                    f"'{dep['path']}': its files list names {relpath!r}, which cannot be a "
                    "path in a folder; fix or restore the .dvc file"
                ) from err
            pinned.append(FileStat(relpath, entry.get("size"), None, entry.get("version_id")))
        return pinned
    if dep.get("version_id"):
        return [FileStat("", dep.get("size"), None, dep["version_id"])]
    return None
