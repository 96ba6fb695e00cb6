"""`status`: how the workspace differs from what `.dvc` and `dvc.lock` files record."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from bale.errors import BaleError
from bale.hashing.tree import certainly_differs
from bale.workspace.context import Workspace
from bale.workspace.index import Tracked, collect, load_index

if TYPE_CHECKING:
    from bale.pipeline.changes import StageChanges
    from bale.pipeline.stages import Stage


def output_status(ws: Workspace, tracked: Tracked) -> str | None:
    """DVC's words for one output: not in cache, deleted, modified, or None."""
    out = tracked.out
    if out.oid is not None and out.cache and not ws.in_cache(out):
        return "not in cache"
    listing = None
    if out.oid is not None and out.is_dir and os.path.isdir(ws.repo.abs(tracked.rel)):
        listing = ws.listing(tracked.rel)
        # A changed file in a folder of many: told without the whole new manifest.
        if certainly_differs(
            ws.repo.abs(tracked.rel), tracked.rel, listing, ws.state, out.oid,
            legacy=out.legacy, jobs=ws.jobs,
        ):  # fmt: skip
            return "modified"
    current = ws.current(tracked.rel, legacy=out.legacy, listing=listing)
    if current is None:
        return "deleted"
    if out.oid is None:
        return "new"
    if current.oid != out.oid:
        return "modified"
    if current.tree is not None and current.tree.entries is not None and not out.legacy:
        # Hashed and found equal to the commit (after a checkout, say): from
        # now on a changed file is told from its part alone.
        ws.state.mark_parts_held(tracked.rel, out.oid)
    return None


class Change(NamedTuple):
    """One output that differs: where it is declared (a `.dvc` file, or a
    `dvc.lock` and its stage), its root-relative path, and DVC's word for it."""

    dvcfile: str
    stage: str | None
    path: str
    state: str


class ImportCheck(NamedTuple):
    """An import whose source moved ('update available'; for an import-url,
    'modified' or 'deleted' too), or could not be reached ('not checked':
    what the `.dvc` file records still decides the rest)."""

    dvcfile: str
    path: str  # in the source repository; "" for an import-url
    url: str
    state: str

    @property
    def dep(self) -> str:
        """The dependency as dvc names it in status: `path (url)` for an
        import of a repository, the URL (or path) of an import-url."""
        return f"{self.path} ({self.url})" if self.path else self.url


class Status(NamedTuple):
    """What `status` found: the outputs of `.dvc` files that differ, in the
    order of their files, imports whose source moved, and each pipeline
    stage that is not up to date, in file order, with what changed."""

    changes: list[Change]
    imports: list[ImportCheck]
    stages: list[tuple[Stage, StageChanges]]
    unreadable: list[str]  # folders that could not be read


def status(ws: Workspace, targets: list[str] | None = None) -> Status:
    """Compare what the targets name (all when none) with the workspace:
    outputs, imports, and pipeline stages (a target may name a stage)."""
    from bale.pipeline.changes import stage_changes
    from bale.pipeline.repro import load_dag, resolve_targets

    index = load_index(ws.repo)
    dag = load_dag(ws, index)
    ws.keep_listings()  # nothing is written: a folder two checks read is walked once
    addresses: list[str] = []
    rest = []
    for target in targets or []:
        try:
            addresses += resolve_targets(ws, dag, [target])
        except BaleError:
            rest.append(target)
    changes = []
    picked = [] if targets and not rest else collect(ws.repo, rest or None, index=index)
    for tracked, _sub in picked:
        if tracked.stage is not None:
            if targets:
                addresses += [
                    s.address for s in dag.stages.values()
                    if s.lock_path == tracked.dvcfile and s.name == tracked.stage
                ]  # fmt: skip
            continue  # the stage's own status tells it
        state = output_status(ws, tracked)
        if state is not None:
            changes.append(Change(tracked.dvcfile, tracked.stage, tracked.rel, state))
    files = {tracked.dvcfile for tracked, _sub in picked}
    checks = [(rel, dep, import_check) for rel, dep in index.imports.items()]
    checks += [(rel, dep, url_import_check) for rel, dep in index.url_imports.items()]
    imports = [
        found for rel, dep, check in sorted(checks, key=lambda c: c[0]) if rel in files
        if (found := check(ws, rel, dep)) is not None
    ]  # fmt: skip
    wanted = set(addresses) if targets else set(dag.stages)
    stages = [
        (stage, found) for addr, stage in dag.stages.items() if addr in wanted
        if (found := stage_changes(ws, stage))
    ]  # fmt: skip
    return Status(changes, imports, stages, index.unreadable)


def import_check(ws: Workspace, rel: str, dep: dict) -> ImportCheck | None:
    """Whether an import's source moved past the commit it is locked to (its
    `rev`, or its default branch); never raises for a source it cannot reach."""
    from bale.errors import SourceError
    from bale.repo.clones import open_source, resolve_url

    repo = dep["repo"]
    url = resolve_url(repo["url"], ws.repo.root)
    try:
        source = open_source(url, repo.get("rev"), newest=True)
    except SourceError:
        return ImportCheck(rel, dep.get("path", ""), repo["url"], "not checked")
    if source.commit == repo.get("rev_lock"):
        return None
    return ImportCheck(rel, dep.get("path", ""), repo["url"], "update available")


def url_import_check(ws: Workspace, rel: str, dep: dict) -> ImportCheck | None:
    """Whether an import-url's source changed since its `.dvc` file recorded
    it (`external.import_url.check_url`); 'not checked' when the source
    cannot be reached or read, never an error."""
    from bale.errors import BaleError
    from bale.external.import_url import check_url

    try:
        state = check_url(ws, rel, dep)
    except BaleError:  # unreachable, refused, unreadable: told, not raised
        state = "not checked"
    return None if state is None else ImportCheck(rel, "", dep["path"], state)
