"""Clones of other repositories, kept in one cache outside any workspace.

A source given by URL is cloned once, bare and partial (`--filter=blob:none`:
only the blobs bale reads are fetched, so a registry's long history is not
downloaded), into `$XDG_CACHE_HOME/bale/repos/`; a later command fetches
instead of cloning again. A lock file beside each clone lets two commands
share it. The user's git never sees these clones. A local path is read in
place, through its own `.git`, without a clone (reading changes nothing there).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from bale.errors import GitError, RepositoryNotFoundError, RevisionNotFoundError
from bale.repo.gittree import run_git

_SHA = re.compile(r"^[0-9a-f]{7,40}$")


class Source(NamedTuple):
    """A repository resolved to one commit: where git reads it, the commit,
    the revision the user named (None: the default branch), and the local
    working tree when the source is a local path."""

    url: str
    git_dir: str
    commit: str
    rev: str | None
    local: str | None


def cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bale", "repos")


def local_path(url: str) -> str | None:
    """The folder a source URL names on this machine, or None (a remote URL)."""
    if url.startswith("file://"):
        return unquote(urlsplit(url).path)
    if "://" in url or re.match(r"^[\w.-]+@[\w.-]+:", url):
        return None
    return os.path.abspath(os.path.expanduser(url))


def resolve_url(url: str, base: str) -> str:
    """`url` with a relative local path made absolute against `base` (the
    repository root an import's `.dvc` file lives in); other URLs as given."""
    if local_path(url) is None or os.path.isabs(os.path.expanduser(url)) or "://" in url:
        return url
    return os.path.normpath(os.path.join(base, url))


def recorded_url(url: str, root: str) -> str:
    """The URL an import of `url`, typed in the current folder, records in
    its `.dvc` file under the repository root `root`: as typed, unless it is
    a relative path typed in a subfolder, which is rewritten from the root,
    where `resolve_url` (and dvc run from the root) read it."""
    if local_path(url) is None or os.path.isabs(os.path.expanduser(url)) or "://" in url:
        return url
    here, real_root = os.path.realpath(url), os.path.realpath(root)
    if os.path.realpath(resolve_url(url, real_root)) == here:
        return url
    return os.path.relpath(here, real_root).replace(os.sep, "/")


def open_source(url: str, rev: str | None = None, *, newest: bool = False) -> Source:
    """Resolve `url` at `rev` (a branch, tag or commit; None: the default branch).

    With `newest`, a clone is fetched first even when it knows `rev`, so a
    branch resolves to its newest commit (what `update` needs).

    Raises:
        RepositoryNotFoundError: not a git repository, or unreachable.
        RevisionNotFoundError: it has no such revision.
    """
    path = local_path(url)
    if path is not None:
        return _open_local(url, path, rev)
    with _locked_clone(url) as git_dir:
        if not os.path.isdir(os.path.join(git_dir, "objects")):
            _clone(url, git_dir)
        elif newest or _resolve(git_dir, rev) is None:
            _fetch(url, git_dir)
        commit = _resolve(git_dir, rev)
        if commit is None and rev is not None and _SHA.match(rev):
            _fetch(url, git_dir, rev)  # a commit no branch or tag names
            commit = _resolve(git_dir, rev)
    if commit is None:
        raise RevisionNotFoundError(
            f"revision '{rev}' does not exist in {url}; name a branch, tag or commit it has"
        )
    return Source(url, git_dir, commit, rev, None)


def _open_local(url: str, path: str, rev: str | None) -> Source:
    if not os.path.isdir(path):
        raise RepositoryNotFoundError(
            f"'{url}' does not exist; give a repository's path or a git URL"
        )
    try:
        top = run_git(os.path.join(path, ".git"), "rev-parse", "--absolute-git-dir")
    except GitError:
        top = None
    if top is None:
        try:  # a bare repository
            top = run_git(path, "rev-parse", "--absolute-git-dir")
        except GitError as exc:
            raise RepositoryNotFoundError(
                f"'{url}' is not a git repository; give a repository's path or a git URL"
            ) from exc
    git_dir = top.decode().strip()
    commit = _resolve(git_dir, rev)
    if commit is None:
        what = f"revision '{rev}'" if rev else "a commit (the repository is empty)"
        raise RevisionNotFoundError(f"'{url}' has no {what}; name a branch, tag or commit it has")
    work = os.path.dirname(git_dir) if os.path.basename(git_dir) == ".git" else None
    return Source(url, git_dir, commit, rev, work)


def _resolve(git_dir: str, rev: str | None) -> str | None:
    """The commit `rev` names (None: HEAD), or None if git does not know it."""
    names = ["HEAD"] if rev is None else [rev, f"refs/remotes/origin/{rev}", f"refs/tags/{rev}"]
    for name in names:
        try:
            out = run_git(git_dir, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        except GitError:
            continue
        return out.decode().strip()
    return None


def clone_dir(url: str) -> str:
    """Where the clone of `url` lives: one folder per URL."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", url.rstrip("/").rsplit("/", 1)[-1])[:40] or "repo"
    return os.path.join(cache_root(), f"{name}-{digest}")


@contextmanager
def _locked_clone(url: str) -> Iterator[str]:
    """The clone's folder, locked against another bale cloning or fetching it."""
    git_dir = clone_dir(url)
    os.makedirs(os.path.dirname(git_dir), exist_ok=True)
    fd = os.open(git_dir + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield git_dir
    finally:
        os.close(fd)


_REFS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


def _clone(url: str, git_dir: str) -> None:
    """A bare, partial clone; git warns and clones whole where the server
    cannot filter."""
    import shutil

    from bale.fsutil import remove_leftovers, tmp_name

    # Under the clone's lock: what a killed clone left beside it is no one's.
    remove_leftovers(os.path.dirname(git_dir), [os.path.basename(git_dir)])
    tmp = tmp_name(git_dir)
    try:
        _git_remote("clone", "--bare", "--quiet", "--filter=blob:none", "--", url, tmp, url=url)
        os.replace(tmp, git_dir)  # appears whole, or not at all
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fetch(url: str, git_dir: str, *refspecs: str) -> None:
    _git_remote(
        f"--git-dir={git_dir}", "fetch", "--quiet", "--filter=blob:none", "--prune", "origin",
        *(refspecs or _REFS), url=url,
    )  # fmt: skip


def _git_remote(*args: str, url: str) -> None:
    """Run a git command that talks to `url`, without prompting for credentials.

    Raises:
        RepositoryNotFoundError: naming git's reason.
    """
    import subprocess

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", *args], capture_output=True, env=env, check=False)
    except FileNotFoundError as exc:
        raise RepositoryNotFoundError("git is not installed; install git") from exc
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        reason = lines[-1].removeprefix("fatal: ") if lines else f"git exited {proc.returncode}"
        raise RepositoryNotFoundError(
            f"cannot read the repository {url}: {reason}; check the URL and access"
        )
