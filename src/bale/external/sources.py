"""Opening another repository, by URL or path, at a revision, as a view."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bale.odb.store import ObjectStore
from bale.progress import NO_PROGRESS, Progress
from bale.repo.clones import Source, local_path, open_source
from bale.repo.gittree import GitTree
from bale.repo.worktree import WorkTree
from bale.view.repoview import RepoView


def user_store() -> ObjectStore:
    """Where objects fetched outside any repository land (`bale list` and
    `bale get` run anywhere): one content-addressed cache per user."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return ObjectStore(os.path.join(base, "bale", "objects"))


@contextmanager
def opened(
    url: str,
    rev: str | None = None,
    *,
    store: ObjectStore | None = None,
    newest: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> Iterator[tuple[Source, RepoView]]:
    """The source at `rev` (None: its default branch) and a view of it whose
    fetched objects land in `store` (None: the user's cache).

    Raises:
        RepositoryNotFoundError, RevisionNotFoundError: see `repo.clones.open_source`.
    """
    source = open_source(url, rev, newest=newest)
    target = store or user_store()
    caches = [] if store is None else [user_store()]
    view = RepoView(
        GitTree(source.git_dir, source.commit), url=url, store=target, caches=caches,
        local_root=source.local, jobs=jobs, progress=progress, rev=rev,
    )  # fmt: skip
    try:
        yield source, view
    finally:
        view.close()


@contextmanager
def reading_view(
    repo: str | None,
    rev: str | None = None,
    *,
    remote: str | None = None,
    remote_config: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, RepoView]]:
    """What the Python API reads: a repository of this machine (`repo` None:
    the one around the working folder) without a revision is its working
    tree, as `dvc.api` reads it; anything else is the source at `rev` (None:
    its default branch). Yields the git directory (for its tags) and the
    view; fetched objects land in the user's cache, never in the repository.

    Raises:
        RepositoryNotFoundError, RevisionNotFoundError: see `repo.clones.open_source`.
    """
    path = os.getcwd() if repo is None else local_path(repo)
    if path is not None:
        top = _work_top(path)
        if top is None and repo is None:
            from bale.errors import RepositoryNotFoundError

            raise RepositoryNotFoundError(
                f"the working folder '{path}' is inside no bale/DVC repository; pass repo= "
                "a repository's path or git URL"
            )
        if top is not None and rev is None:
            view = RepoView(WorkTree(top), url=repo or top, store=user_store(), local_root=top,
                            remote=remote, remote_config=remote_config)  # fmt: skip
            try:
                yield os.path.join(top, ".git"), view
            finally:
                view.close()
            return
        repo = top or repo  # else a bare repository, or none: open_source tells
    assert repo is not None
    source = open_source(repo, rev)
    tree = GitTree(source.git_dir, source.commit)
    view = RepoView(tree, url=repo, store=user_store(), local_root=source.local,
                    remote=remote, remote_config=remote_config, rev=rev)  # fmt: skip
    try:
        yield source.git_dir, view
    finally:
        view.close()


def _work_top(path: str) -> str | None:
    """The top of the working tree holding `path`: its git top level, else
    the nearest folder with `.dvc/` (a repository without git); None when
    neither is there."""
    from bale.errors import NotARepoError
    from bale.repo.git import find_git_root
    from bale.repo.repository import find_root

    if not os.path.isdir(path):
        return None
    top = find_git_root(path)
    if top is not None:
        return top
    try:
        return find_root(path)
    except NotARepoError:
        return None
