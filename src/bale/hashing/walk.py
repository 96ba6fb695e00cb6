"""Walking a directory once: one scandir per folder, one stat per file."""

from __future__ import annotations

import marshal
import os
import stat as st
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import itemgetter
from typing import NamedTuple

from bale.errors import TargetNotFoundError, UnsafePathError
from bale.fsutil import check_utf8_names, is_temporary

# Folders never part of a dataset: version control and repository metadata.
SKIP_DIRS = frozenset({".git", ".hg", ".dvc"})

# Given a folder's path relative to the walk root, a predicate over
# (name, is_dir) telling what to ignore there, or None when nothing is.
IgnoreFor = Callable[[str], Callable[[str, bool], bool] | None]


class FileEntry(NamedTuple):
    relpath: str
    ino: int
    mtime_ns: int
    size: int
    isexec: bool


# FileEntry(...) runs a Python-level __new__; this builds the same tuple in C,
# which a walk of 100,000 files notices.
_new_entry = tuple.__new__
_IFMT = 0o170000
_IFREG = 0o100000
_IFDIR = 0o040000
_IFLNK = 0o120000
_EXEC = st.S_IXUSR | st.S_IXGRP | st.S_IXOTH


# A walk that has listed this many files and has folders left goes on in
# forked workers: two processes stat in parallel where two threads would only
# hand the interpreter lock to each other.
FORK_AFTER = 1000


class Listing(list[FileEntry]):
    """A walk's files, with `folders`: (relpath prefix, start, end) of each
    folder's run of files (the walk lists a folder's files together), `sigs`:
    the part signatures, when the walk made them, and `ignore_files`: the
    `.dvcignore` files met (never data; dvc refuses to track a folder
    holding one below its top)."""

    def __init__(self) -> None:
        super().__init__()
        self.folders: list[tuple[str, int, int]] = []
        self.sigs: list[str] | None = None
        self.ignore_files: list[str] = []


def is_exec(mode: int) -> bool:
    return bool(mode & (st.S_IXUSR | st.S_IXGRP | st.S_IXOTH))


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def walk_files(
    root: str,
    *,
    ignore_for: IgnoreFor | None = None,
    link_roots: tuple[str, ...] = (),
    temporary: bool = False,
    sign: Callable[[Listing], list[str]] | None = None,
) -> Listing:
    """List every file under `root` (relpaths posix, unsorted).

    With `sign` (`tree.part_signatures`), a large walk may go on in forked
    workers, which sign what they list; the listing's `sigs` then holds the
    signatures.

    The temporary files a killed bale leaves (`fsutil.tmp_name`) are not data
    and are left out unless `temporary` (checkout lists them to remove them).

    A symlink to a file is followed when the file lies inside one of
    `link_roots` (the repository and its cache); a symlink to a folder inside
    them is skipped, as DVC's walk does (its manifest must list the same
    files); any symlink leading elsewhere is refused.

    Raises:
        UnsafePathError: a symlink points outside `link_roots`.
        TargetNotFoundError: a symlink points to nothing.
        TargetError: a file's name is not UTF-8.
    """
    walker = _Walker(root, ignore_for, link_roots, temporary)
    files = Listing()
    stack = walker.walk(files, [""], stop_at=FORK_AFTER if sign else None)
    if stack:
        _walk_forked(walker, files, stack, sign)
    check_utf8_names(map(itemgetter(0), files), root)
    return files


class _Walker:
    """The walk's loop, shared by this process and forked workers."""

    def __init__(
        self, root: str, ignore_for: IgnoreFor | None, link_roots: tuple[str, ...], temporary: bool
    ) -> None:
        self.root = root
        self.ignore_for = ignore_for
        self.link_roots = link_roots
        self.temporary = temporary

    def walk(self, files: Listing, stack: list[str], stop_at: int | None = None) -> list[str]:
        """Append the files under the folders of `stack` (walked last to
        first, each to its end) to `files`. With `stop_at`, stop between
        folders once `files` holds that many and more than one folder is left;
        the folders left to walk, else []."""
        root, ignore_for, temporary = self.root, self.ignore_for, self.temporary
        append = files.append
        new, cls = _new_entry, FileEntry
        while stack:
            if stop_at is not None and len(files) >= stop_at and len(stack) > 1:
                return stack
            rel = stack.pop()
            prefix = rel + "/" if rel else ""
            ignored = ignore_for(rel) if ignore_for else None
            folder = os.path.join(root, rel) if rel else root
            first = len(files)
            # Listed through a descriptor, each stat looks up one name, not the path.
            folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                with os.scandir(folder_fd) as it:
                    for entry in it:
                        name = entry.name
                        # One lstat per entry tells folders, files and links apart.
                        sres = entry.stat(follow_symlinks=False)
                        mode = sres.st_mode
                        kind = mode & _IFMT
                        if kind == _IFDIR:
                            # A folder a killed `add -o` or checkout was filling is not data.
                            if (
                                name not in SKIP_DIRS
                                and not (ignored and ignored(name, True))
                                and not (name[-4:] == ".tmp" and is_temporary(name))
                            ):
                                stack.append(prefix + name)
                            continue
                        if name == ".dvcignore":
                            files.ignore_files.append(prefix + name)
                            continue
                        if ignored and ignored(name, False):
                            continue
                        if name[-4:] == ".tmp" and not temporary and is_temporary(name):
                            continue
                        if kind == _IFREG:  # the common case first: one stat, no more
                            append(
                                new(
                                    cls,
                                    (
                                        prefix + name,
                                        sres.st_ino,
                                        sres.st_mtime_ns,
                                        sres.st_size,
                                        mode & _EXEC != 0,
                                    ),
                                )
                            )
                            continue
                        if kind == _IFLNK:
                            sres = _link_target(os.path.join(folder, name), self.link_roots)
                            if sres is not None and st.S_ISREG(sres.st_mode):
                                append(
                                    FileEntry(
                                        prefix + name,
                                        sres.st_ino,
                                        sres.st_mtime_ns,
                                        sres.st_size,
                                        is_exec(sres.st_mode),
                                    )
                                )
            finally:
                os.close(folder_fd)
            if len(files) > first:
                files.folders.append((prefix, first, len(files)))
        return []


# What a worker sends back: its files marshalled, their folders' runs,
# signatures, the `.dvcignore` files it met.
_Walked = tuple[bytes, list[tuple[str, int, int]], list[str], list[str]]


def _walk_forked(
    walker: _Walker, files: Listing, stack: list[str], sign: Callable[[Listing], list[str]]
) -> None:
    """Walk the folders left on `stack` in forked workers, when this process
    may fork, appending to `files` in the order one process would; else here.

    Workers also sign what they walked (`sign`), so the part signatures of
    an unchanged tree are ready without another pass here."""
    from bale import forks
    from bale.parallel import default_jobs

    jobs = default_jobs()
    if jobs < 2 or not forks.usable():
        walker.walk(files, stack)
        return
    files.sigs = sign(files)
    order = stack[::-1]  # the next folder a single walk would take comes first
    size = max(1, -(-len(order) // (jobs * 8)))
    slices = [order[i : i + size] for i in range(0, len(order), size)]

    def walk_slice(folders: Sequence[str]) -> _Walked:
        part = Listing()
        for folder in folders:
            walker.walk(part, [folder])
        # marshal: plain tuples cross fastest; FileEntry is rebuilt here.
        return marshal.dumps([tuple(e) for e in part]), part.folders, sign(part), part.ignore_files

    results: list[_Walked | None] = [None] * len(slices)

    def on_slice(index: int, result: _Walked) -> None:
        results[index] = result

    with forks.Workers(walk_slice, slices, jobs) as workers:
        workers.collect(on_slice)
    new = partial(_new_entry, FileEntry)
    for result in results:
        assert result is not None  # collect returns once every slice arrived
        packed, folders, sigs, ignore_files = result
        files.ignore_files += ignore_files
        base = len(files)
        files.extend(map(new, marshal.loads(packed)))
        files.folders.extend((prefix, base + start, base + end) for prefix, start, end in folders)
        files.sigs.extend(sigs)


def _link_target(path: str, link_roots: tuple[str, ...]) -> os.stat_result | None:
    """The stat of the file a symlink inside the repository leads to; None
    for a folder (skipped, as DVC does)."""
    target = os.path.realpath(path)
    if not _inside(target, link_roots):
        raise UnsafePathError(
            f"'{path}' is a symlink to '{target}', outside the repository; "
            "replace it with the file itself"
        )
    try:
        sres = os.stat(target)
    except FileNotFoundError as exc:
        raise TargetNotFoundError(
            target, f"'{path}' is a symlink to it; remove the symlink or restore what it points to"
        ) from exc
    return None if st.S_ISDIR(sres.st_mode) else sres


def stat_file(path: str) -> FileEntry | None:
    """The entry for one file, or None if it does not exist."""
    try:
        sres = os.stat(path)
    except FileNotFoundError:
        return None
    return FileEntry(
        os.path.basename(path), sres.st_ino, sres.st_mtime_ns, sres.st_size, is_exec(sres.st_mode)
    )
