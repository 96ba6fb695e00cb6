"""Opening another repository, by URL or path, at a revision, as a view."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from bale.odb.store import ObjectStore
from bale.progress import NO_PROGRESS, Progress
from bale.repo.clones import Source, open_source
from bale.repo.gittree import GitTree
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
        local_root=source.local, jobs=jobs, progress=progress,
    )  # fmt: skip
    try:
        yield source, view
    finally:
        view.close()
