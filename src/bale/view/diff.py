"""`diff`: the tracked files added, deleted, modified and renamed between two
revisions, or a revision and the workspace, as `dvc diff` reports them
(`dvc/repo/diff.py` over `dvc_data/index/diff.py`).

Each side is the tracked data of one revision, read through the one view of
a repository at a revision (`view.repoview`), or of the workspace, hashed
through the workspace's state (`workspace.context`) so unchanged files are
not read again. Only outputs kept in the cache (`cache: true`) count.

A side is a set of paths: each output (a file's md5, a folder's `.dir` oid),
and for a folder output its files and the folders between them (no oid).
What DVC reports follows from comparing them path by path under each
output (or target):

- a folder without an oid (a folder inside an output) is never reported,
  on either side: its files are;
- a path only in the new side is added, only in the old one deleted; a
  path on both is modified when its oid or its kind (file or folder)
  differ;
- an added path whose oid a deleted one had is a rename (paired in path
  order, so that equal files renamed together pair as named);
- a folder whose manifest cannot be read (not in the cache, no remote)
  stands alone: nothing inside it is reported either way;
- against the workspace, every path of the old side whose object the cache
  lacks is "not in cache", changed or not.

Paths are root-relative, posix; a folder's ends with "/", as DVC prints it.
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, NamedTuple, Protocol

from bale.errors import (
    BaleError,
    GitRequiredError,
    RevisionNotFoundError,
    SourceError,
    TargetNotFoundError,
)
from bale.formats.lockfile import LOCK_FILE, PIPELINE_FILE
from bale.formats.manifest import enclosing
from bale.odb.store import ObjectStore
from bale.repo.repository import Repo

if TYPE_CHECKING:
    from bale.view.repoview import RepoView, ViewOut
    from bale.workspace.context import Workspace

WORKSPACE = "workspace"

ADD, DELETE, MODIFY, RENAME = "add", "delete", "modify", "rename"
UNCHANGED, UNKNOWN = "unchanged", "unknown"


class Node(NamedTuple):
    """One path of a side: a file (its md5), a folder output (its `.dir`
    oid), or a folder inside an output (no oid). `legacy` (DVC 2's md5)
    says where the cache keeps the object; DVC compares the digests alone."""

    isdir: bool
    oid: str | None
    legacy: bool = False


FOLDER = Node(True, None)


class Output(NamedTuple):
    """A tracked output of a side: root-relative path, the file that records
    it (a `.dvc` file, or the `dvc.lock` of its stage), and whether its data
    is kept in the cache (only those are compared)."""

    path: str
    dvcfile: str
    stage: str | None
    cached: bool


class Side(Protocol):
    """The tracked data of one revision, or of the workspace."""

    def outputs(self) -> list[Output]:
        """Every output, of every stage file."""
        ...

    def node(self, out: Output) -> Node | None:
        """What the output is on this side; None when nothing is there."""
        ...

    def files(self, out: Output) -> list[tuple[str, str]] | None:
        """A folder output's (relpath, md5) entries; None when they cannot
        be read (the reason is kept in `unreadable`)."""
        ...

    def has_file(self, rel: str) -> bool:
        """Whether the side holds the (stage) file `rel`."""
        ...

    @property
    def unreadable(self) -> dict[str, str]:
        """Folder output -> why its manifest could not be read."""
        ...


class Changed(NamedTuple):
    """One reported path (a folder's ends with "/"): its oid, or for a
    modified path the old and new oids, for a renamed one the new path."""

    path: str
    oid: str | None
    new_path: str | None = None
    new_oid: str | None = None


class Diff(NamedTuple):
    """What changed, each list sorted by (old) path; `missing` the paths of
    the old side the cache lacks (against the workspace only); `unreadable`
    the folders whose contents could not be compared, with why."""

    added: list[Changed]
    deleted: list[Changed]
    modified: list[Changed]
    renamed: list[Changed]
    missing: list[Changed]
    unreadable: list[tuple[str, str]]

    def empty(self) -> bool:
        return not (self.added or self.deleted or self.modified or self.renamed or self.missing)


NOTHING = Diff([], [], [], [], [], [])


# -- the two kinds of side ------------------------------------------------------


class RevisionSide:
    """A commit of the repository, through a view of its git tree; `prefix`
    is the repository's root inside the git tree ("" when they are one)."""

    def __init__(self, view: RepoView, prefix: str) -> None:
        self.view = view
        self.prefix = prefix
        self.unreadable: dict[str, str] = {}
        self._outs: dict[str, ViewOut] | None = None
        self._declared: list[Output] | None = None

    def _by_path(self) -> dict[str, ViewOut]:
        if self._outs is None:
            self._outs = {vo.tracked.rel: vo for vo in self.view.outputs()
                          if vo.root == self.prefix}  # fmt: skip
        return self._outs

    def _full(self, rel: str) -> str:
        return posixpath.join(self.prefix, rel) if self.prefix else rel

    def outputs(self) -> list[Output]:
        recorded = [Output(rel, vo.tracked.dvcfile, vo.tracked.stage, vo.out.cache)
                    for rel, vo in self._by_path().items()]  # fmt: skip
        if self._declared is None:
            files = self.view.tree.files()
            nested = [r for r in self.view.roots() if r != self.prefix and _under(r, self.prefix)]
            pipelines = []
            for path in files:
                if posixpath.basename(path) != PIPELINE_FILE or not _under(path, self.prefix):
                    continue
                if any(_under(path, root) for root in nested):
                    continue
                pipelines.append(path[len(self.prefix) + 1 :] if self.prefix else path)

            def read(rel: str) -> str | None:
                full = self._full(rel)
                return self.view.tree.read(full).decode("utf-8") if full in files else None

            self._declared = declared(sorted(pipelines), read)
        return _with_declared(recorded, self._declared)

    def node(self, out: Output) -> Node | None:
        vo = self._by_path().get(out.path)
        if vo is None:
            return Node(False, None)  # declared in dvc.yaml, never run
        return Node(vo.out.is_dir, vo.out.oid, vo.out.legacy)

    def files(self, out: Output) -> list[tuple[str, str]] | None:
        vo = self._by_path()[out.path]
        try:
            return self.view.manifest(vo)
        except SourceError as exc:  # DVC, too, compares such a folder as a whole
            self.unreadable[out.path] = str(exc)
            return None

    def has_file(self, rel: str) -> bool:
        return self._full(rel) in self.view.tree.files()


class WorkspaceSide:
    """The files on disk now, at the outputs the workspace's stage files
    name, hashed through the state (a file hashed before and unchanged since
    is not read again)."""

    def __init__(self, ws: Workspace) -> None:
        from bale.workspace.index import load_index, read_text

        self.ws = ws
        self.unreadable: dict[str, str] = {}
        index = load_index(ws.repo)
        self._tracked = {t.rel: t for t in index.tracked}
        recorded = [Output(rel, t.dvcfile, t.stage, t.out.cache)
                    for rel, t in self._tracked.items()]  # fmt: skip
        self._outputs = _with_declared(
            recorded, declared(index.pipelines, lambda rel: read_text(ws.repo, rel))
        )
        ws.keep_listings()  # nothing is written: a folder is walked once

    def outputs(self) -> list[Output]:
        return self._outputs

    def _legacy(self, out: Output) -> bool:
        tracked = self._tracked.get(out.path)
        return tracked is not None and tracked.out.legacy

    def node(self, out: Output) -> Node | None:
        legacy = self._legacy(out)
        current = self.ws.current(out.path, legacy=legacy)
        if current is None:
            return None
        return Node(current.tree is not None, current.oid, legacy)

    def files(self, out: Output) -> list[tuple[str, str]] | None:
        current = self.ws.current(out.path, legacy=self._legacy(out), need_entries=True)
        assert current is not None and current.tree is not None
        return current.tree.entries

    def has_file(self, rel: str) -> bool:
        return os.path.isfile(self.ws.repo.abs(rel))


def declared(pipelines: Iterable[str], read: Callable[[str], str | None]) -> list[Output]:
    """Every output the stages of the `dvc.yaml` files `pipelines` declare
    (root-relative; `read` gives a root-relative file's text, or None). DVC
    compares a declared output its `dvc.lock` has no entry for (a stage
    never run) as one without a hash."""
    found = []
    for yaml_rel in pipelines:
        text = read(yaml_rel)
        if text is None:
            continue
        from bale.formats.pipeline import parse_pipeline  # its import costs 40 ms

        folder = posixpath.dirname(yaml_rel)

        def near(name: str, folder: str = folder) -> str | None:
            rel = posixpath.normpath(posixpath.join(folder, name))
            return None if rel == ".." or rel.startswith("../") else read(rel)

        lock = posixpath.join(folder, LOCK_FILE)
        for stage in parse_pipeline(text, origin=yaml_rel, read=near).stages:
            base = posixpath.normpath(posixpath.join(folder, stage.wdir))
            for out in stage.outs:
                path = posixpath.normpath(posixpath.join(base, out.path))
                found.append(Output(path, lock, stage.name, out.cache))
    return found


def _with_declared(recorded: list[Output], declared: list[Output]) -> list[Output]:
    """The recorded outputs, and the declared ones no stage file records."""
    known = {o.path for o in recorded}
    return recorded + [o for o in declared if o.path not in known]


# -- the command --------------------------------------------------------------


def diff(
    repo: Repo, a_rev: str = "HEAD", b_rev: str | None = None, *,
    targets: list[str] | None = None, jobs: int | None = None,
) -> Diff:  # fmt: skip
    """What changed in tracked data from `a_rev` to `b_rev` (None or
    "workspace": the files on disk, and then what the cache lacks of
    `a_rev`). `targets` (relative to the current folder) are outputs, paths
    inside them, `.dvc` files, `dvc.yaml` files or stages; none: everything.
    A repository without commits, or one side not yet a repository, has
    nothing to compare, as in DVC.

    Raises:
        GitRequiredError: the repository has no git.
        RevisionNotFoundError: git knows no such revision.
        BaleError: a target names nothing on either side (TargetNotFoundError
            when nothing is at that path on disk either).
    """
    git = repo.git
    if git is None:
        raise GitRequiredError(
            "diff compares revisions, which needs git, and this repository has none "
            "(core.no_scm); run: git init"
        )
    prefix = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix
    store = ObjectStore(repo.cache_dir)
    with ExitStack() as stack:
        try:
            old_commit, old = stack.enter_context(_revision(git.root, a_rev, prefix, store))
        except RevisionNotFoundError:
            if not git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False):
                return NOTHING  # no commits yet: nothing to compare, as in DVC
            raise
        check: ObjectStore | None = None
        if b_rev is None or b_rev == WORKSPACE:
            from bale.workspace.context import Workspace

            ws = stack.enter_context(Workspace(repo, jobs=jobs))
            new: Side | None = WorkspaceSide(ws)
            check = store if b_rev is None else None
        else:
            new_commit, new = stack.enter_context(_revision(git.root, b_rev, prefix, store))
            if new_commit == old_commit:
                return NOTHING
        if old is None or new is None:
            return NOTHING
        here = repo.rel(os.getcwd())
        roots = _roots(repo, [old, new], targets, here)
        found = compare(old, new, roots, cache=check)
        unreadable = {**old.unreadable, **new.unreadable}
    return found._replace(unreadable=sorted(unreadable.items()))


@contextmanager
def _revision(
    git_root: str, rev: str, prefix: str, store: ObjectStore
) -> Iterator[tuple[str, RevisionSide | None]]:
    """The commit `rev` names and the repository at it (None when it was no
    repository then: DVC skips such a revision)."""
    from bale.external.sources import opened

    # The repository's own cache: what is there is read in place.
    with opened(git_root, rev, store=store) as (source, view):
        side = RevisionSide(view, prefix) if prefix in view.roots() else None
        yield source.commit, side


# -- targets ------------------------------------------------------------------


def _roots(repo: Repo, sides: list[Side], targets: list[str] | None, here: str) -> list[str]:
    """The paths to compare: every cached output of either side, or what
    the targets name on either side.

    Raises:
        BaleError: a target names nothing on both sides (TargetNotFoundError
            when nothing is there on disk either).
    """
    if not targets:
        return sorted({o.path for side in sides for o in side.outputs() if o.cached})
    roots: set[str] = set()
    for target in targets:
        named = [_named(side, repo, target, here) for side in sides]
        if all(n is None for n in named):
            hint = ("name an output, a path inside one, a .dvc file, a dvc.yaml or a stage "
                    "of either side; see: bale status")  # fmt: skip
            if not os.path.lexists(target):
                raise TargetNotFoundError(target, hint)
            raise BaleError(f"'{target}' is not tracked data on either side; {hint}")
        for side, paths in zip(sides, named, strict=True):
            cached = {o.path for o in side.outputs() if o.cached}
            roots.update(p for p in paths or [] if any(_under(p, c) for c in cached))
    return sorted(roots)


def _named(side: Side, repo: Repo, target: str, here: str) -> list[str] | None:
    """The paths one target names on one side (as DVC's `collect_granular`:
    a stage file, a stage of this folder's `dvc.yaml`, an output or a path
    inside one); None when it names nothing there."""
    outs = side.outputs()
    file, colon, name = target.rpartition(":")
    if colon and posixpath.basename(file.replace(os.sep, "/")) == PIPELINE_FILE:
        lock = posixpath.join(posixpath.dirname(repo.rel(file)), LOCK_FILE)
        found = [o.path for o in outs if o.dvcfile == lock and o.stage == name]
        return found or None
    rel = repo.rel(target)
    base = posixpath.basename(rel)
    if base.endswith(".dvc") or base == PIPELINE_FILE:  # dvc takes no dvc.lock
        if not side.has_file(rel):
            return None
        if base.endswith(".dvc"):
            return [o.path for o in outs if o.dvcfile == rel]
        lock = posixpath.join(posixpath.dirname(rel), LOCK_FILE)
        return [o.path for o in outs if o.dvcfile == lock]
    if "/" not in target and os.sep not in target:  # a stage of this folder's dvc.yaml
        lock = posixpath.join(here, LOCK_FILE)
        found = [o.path for o in outs if o.dvcfile == lock and o.stage == target]
        if found:
            return found
    if any(_under(rel, o.path) for o in outs):
        return [rel]
    return None


# -- comparing ----------------------------------------------------------------


class Change(NamedTuple):
    """One path compared: its kind (ADD, DELETE, MODIFY, RENAME, UNCHANGED
    or UNKNOWN), its path (the old one for a rename, with `new_key`), and
    its node on each side."""

    typ: str
    key: str
    old: Node | None
    new: Node | None
    new_key: str | None = None


def compare(old: Side, new: Side, roots: Iterable[str], *, cache: ObjectStore | None) -> Diff:
    """What changed under each of `roots` from `old` to `new`; with `cache`,
    also every path of `old` whose object it lacks."""
    old_outs, new_outs = _Outputs(old), _Outputs(new)
    lacking: set[str] = set()
    heads: set[str] = set()
    if cache is not None:
        # Told before any manifest is read: one fetched from a remote lands
        # in the cache, and the folder was not there before.
        outs = {p: n for root in roots for p, (_out, n) in old_outs.around(root).items()
                if n is not None and n.oid is not None and _under(p, root)}  # fmt: skip
        heads = set(outs)
        lacking = {k for k, _n in _not_in(cache, list(outs.items()))}
    changes: list[Change] = []
    for root in roots:
        changes += _changes(old_outs, new_outs, root, with_unchanged=cache is not None)
    found = Diff([], [], [], [], [], [])
    for change in _renamed(changes):
        was, now = change.old, change.new
        if change.typ == ADD:
            assert now is not None
            found.added.append(Changed(_shown(change.key, now), now.oid))
        elif change.typ == DELETE:
            assert was is not None
            found.deleted.append(Changed(_shown(change.key, was), was.oid))
        elif change.typ == MODIFY:
            assert was is not None and now is not None
            found.modified.append(Changed(_shown(change.key, was), was.oid, None, now.oid))
        elif change.typ == RENAME:
            assert was is not None and now is not None and change.new_key is not None
            found.renamed.append(
                Changed(_shown(change.key, was), was.oid, _shown(change.new_key, now))
            )
    if cache is not None:
        olds = [(c.key, c.old) for c in changes
                if c.old is not None and c.old.oid is not None and c.key not in heads]  # fmt: skip
        gone = _not_in(cache, olds)
        gone += [(c.key, c.old) for c in changes if c.key in lacking and c.old is not None]
        found.missing.extend(Changed(_shown(k, n), n.oid) for k, n in gone)
    for listed in found[:5]:
        listed.sort(key=lambda c: c.path)
    return found


class _Outputs:
    """A side's cached outputs, found by path, with their nodes (each
    looked up once: in the workspace, that is hashing)."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.by_path = {o.path: o for o in side.outputs() if o.cached}
        self.paths = sorted(self.by_path)
        self._nodes: dict[str, Node | None] = {}
        self._files: dict[str, list[tuple[str, str]] | None] = {}

    def node(self, out: Output) -> Node | None:
        if out.path not in self._nodes:
            self._nodes[out.path] = self.side.node(out)
        return self._nodes[out.path]

    def files(self, out: Output) -> list[tuple[str, str]] | None:
        """`Side.files`, asked once (an unreadable manifest is not fetched twice)."""
        if out.path not in self._files:
            self._files[out.path] = self.side.files(out)
        return self._files[out.path]

    def around(self, root: str) -> dict[str, tuple[Output, Node | None]]:
        """The outputs at or under `root`, and the one `root` lies inside."""
        import bisect

        paths = [root] if root in self.by_path else []
        start = bisect.bisect_left(self.paths, root + "/")
        end = bisect.bisect_left(self.paths, root + "0")  # "0" follows "/"
        paths += self.paths[start:end]
        parent = root.rpartition("/")[0]
        while parent:
            if parent in self.by_path:
                paths.append(parent)
            parent = parent.rpartition("/")[0]
        return {p: (self.by_path[p], self.node(self.by_path[p])) for p in paths}


def _changes(old: _Outputs, new: _Outputs, root: str, *, with_unchanged: bool) -> list[Change]:
    """Every path under `root` that differs; unchanged ones too with
    `with_unchanged` (to tell what the cache lacks)."""
    old_outs = old.around(root)
    new_outs = new.around(root)
    quick = _one_folder(old, new, root, with_unchanged=with_unchanged)
    if quick is not None:
        return quick
    # A folder output the same on both sides holds the same files: they are
    # read (on the old side) only to tell which of them the cache lacks.
    same = {
        path for path, (_out, node) in old_outs.items()
        if node is not None and node.isdir and node.oid is not None
        and path in new_outs and _same(new_outs[path][1], node)
    }  # fmt: skip
    was, old_unknown = _nodes(old, old_outs, root, skip=set() if with_unchanged else same)
    now, new_unknown = _nodes(new, new_outs, root, skip=same)
    unknown = old_unknown | new_unknown
    found = []
    for key in was.keys() | now.keys():
        a, b = was.get(key), now.get(key)
        if (a is not None and a.isdir and a.oid is None) or (
            b is not None and b.isdir and b.oid is None
        ):
            continue  # a folder inside an output: its files tell
        if unknown and enclosing(key, unknown) is not None:
            typ = UNKNOWN
        elif b is None and same and enclosing(key, same) is not None:
            typ = UNCHANGED  # the same file is there (not read on the new side)
        elif a is None:
            typ = ADD
        elif b is None:
            typ = DELETE
        elif a.isdir != b.isdir or a.oid != b.oid:
            typ = MODIFY
        else:
            typ = UNCHANGED
        if typ != UNCHANGED or with_unchanged:
            found.append(Change(typ, key, a, b))
    return found


def _one_folder(
    old: _Outputs, new: _Outputs, root: str, *, with_unchanged: bool
) -> list[Change] | None:
    """`_changes` of the common case, told from the two manifests as sets:
    `root` is a folder output on both sides, both manifests readable. None
    when that is not the case (the general walk tells it then)."""
    old_outs, new_outs = old.around(root), new.around(root)
    if len(old_outs) != 1 or len(new_outs) != 1 or root not in old_outs or root not in new_outs:
        return None
    (old_out, was), (new_out, now) = old_outs[root], new_outs[root]
    if not (was and now and was.isdir and now.isdir and was.oid and now.oid):
        return None
    if was.oid == now.oid and not with_unchanged:
        return []
    before = _files_of(old, old_out)
    if before is None:
        return None
    if was.oid == now.oid:  # only to tell what the cache lacks
        changes = [Change(UNCHANGED, root, was, now)]
        return changes + [Change(UNCHANGED, f"{root}/{rel}", Node(False, md5, was.legacy), None)
                          for rel, md5 in before.items()]  # fmt: skip
    after = _files_of(new, new_out)
    if after is None:
        return None
    gone = before.items() - after.items()
    came = after.items() - before.items()
    changes = [Change(MODIFY, root, was, now)]
    old_keys: list[str] | None = None
    new_keys: list[str] | None = None
    for rel, md5 in gone:
        other = after.get(rel)
        if other is not None:
            changes.append(Change(MODIFY, f"{root}/{rel}", Node(False, md5, was.legacy),
                                  Node(False, other, now.legacy)))  # fmt: skip
            continue
        new_keys = new_keys if new_keys is not None else sorted(after)
        if not _is_folder(rel, new_keys):  # a file that became a folder is not told
            changes.append(Change(DELETE, f"{root}/{rel}", Node(False, md5, was.legacy), None))
    for rel, md5 in came:
        if rel in before:
            continue  # modified: told above
        old_keys = old_keys if old_keys is not None else sorted(before)
        if not _is_folder(rel, old_keys):
            changes.append(Change(ADD, f"{root}/{rel}", None, Node(False, md5, now.legacy)))
    if with_unchanged:
        changes += [Change(UNCHANGED, f"{root}/{rel}", Node(False, md5, was.legacy), None)
                    for rel, md5 in before.items() if after.get(rel) == md5]  # fmt: skip
    return changes


def _files_of(side: _Outputs, out: Output) -> dict[str, str] | None:
    """A folder output's files (relpath -> md5); None when unreadable."""
    entries = side.files(out)
    return None if entries is None else dict(entries)


def _is_folder(rel: str, keys: list[str]) -> bool:
    """Whether some path of the sorted `keys` lies inside `rel`."""
    import bisect

    i = bisect.bisect_left(keys, rel + "/")
    return i < len(keys) and keys[i].startswith(rel + "/")


def _nodes(
    side: _Outputs, outs: dict[str, tuple[Output, Node | None]], root: str, *, skip: set[str]
) -> tuple[dict[str, Node], set[str]]:
    """The nodes of one side under `root`, and the folder outputs whose
    files are unknown (their manifests unreadable). A folder output in
    `skip` is not expanded."""
    nodes: dict[str, Node] = {}
    unknown: set[str] = set()
    for path, (out, node) in outs.items():
        if node is None:
            continue
        if _under(path, root):
            nodes[path] = node
            _add_folders(nodes, posixpath.dirname(path), root)
        if not node.isdir or node.oid is None or path in skip:
            continue
        entries = side.files(out)
        if entries is None:
            unknown.add(path)
            continue
        inside = root != path and _under(root, path)
        for relpath, md5 in entries:
            fpath = f"{path}/{relpath}"
            if inside and not _under(fpath, root):
                continue
            nodes[fpath] = Node(False, md5, node.legacy)
            _add_folders(nodes, fpath.rpartition("/")[0], root, stop=path)
    return nodes, unknown


def _add_folders(nodes: dict[str, Node], folder: str, root: str, *, stop: str = "") -> None:
    """The folders from `folder` up to `root` (or `stop`, excluded), as
    folders without an oid, unless already there."""
    while folder and folder != stop and _under(folder, root) and folder not in nodes:
        nodes[folder] = FOLDER
        folder = folder.rpartition("/")[0]


def _renamed(changes: list[Change]) -> Iterator[Change]:
    """The changes, with each added path whose oid a deleted one had made a
    rename, paired in path order as DVC pairs them."""
    added = []
    deleted = []
    for change in changes:
        if change.typ == ADD:
            added.append(change)
        elif change.typ == DELETE:
            deleted.append(change)
        else:
            yield change
    added.sort(key=lambda c: c.key.split("/"))
    deleted.sort(key=lambda c: c.key.split("/"))
    by_hash: dict[str | None, deque[Change]] = defaultdict(deque)
    for change in deleted:
        assert change.old is not None
        by_hash[change.old.oid].append(change)
    for change in added:
        assert change.new is not None
        key = change.new.oid
        queue = by_hash.get(key) if key is not None else None
        if queue:
            gone = queue.popleft()
            yield Change(RENAME, gone.key, gone.old, change.new, change.key)
        else:
            yield change
    for queue in by_hash.values():
        yield from queue


def _not_in(cache: ObjectStore, nodes: list[tuple[str, Node]]) -> list[tuple[str, Node]]:
    """The (path, node) pairs whose object `cache` lacks, looked up in bulk."""
    from bale.workspace.context import Presence

    by_legacy: dict[bool, list[tuple[str, Node]]] = defaultdict(list)
    for key, node in nodes:
        by_legacy[node.legacy].append((key, node))
    lacking = []
    for legacy, group in by_legacy.items():
        present = Presence(cache, legacy=legacy, expect=len(group))
        lacking += [(key, node) for key, node in group if node.oid not in present]
    return lacking


def _same(node: Node | None, other: Node) -> bool:
    return node is not None and node.isdir == other.isdir and node.oid == other.oid


def _shown(key: str, node: Node) -> str:
    return key + "/" if node.isdir else key


def _under(path: str, top: str) -> bool:
    return top == "" or path == top or path.startswith(top + "/")
