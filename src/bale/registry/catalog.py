"""The catalog: every entry of a registry at a revision, with what a person
looking for data wants to know: kind, size, files, its card's title and
fields, the git tags that hold this version of it, its model versions and
stages, and (when asked) whether its data is on its remote."""

from __future__ import annotations

from typing import Any, NamedTuple

from bale.errors import BaleError
from bale.registry.cards import CardError, card_path, parse_card, settings_of
from bale.registry.entries import Entry, entries
from bale.registry.tags import parse_tag, registry_tags, semver_key
from bale.repo.gittree import GitTree, run_git
from bale.view.repoview import RepoView


class Item(NamedTuple):
    entry: Entry
    title: str | None
    fields: dict[str, Any]  # the card's front matter
    tags: list[str]  # git tags whose commit records this same content
    versions: list[str]  # registered model versions, oldest first
    stages: dict[str, str]  # stage -> the version it holds
    on_remote: bool | None  # None: not checked

    def as_json(self) -> dict[str, Any]:
        e = self.entry
        return {
            "path": e.path, "kind": e.kind, "size": e.size, "files": e.files,
            "source": e.source, "artifact": e.artifact, "title": self.title,
            "card": self.fields, "tags": self.tags, "versions": self.versions,
            "stages": self.stages, "on_remote": self.on_remote,
        }  # fmt: skip


def catalog(
    view: RepoView, git_dir: str | None, *, kind: str | None = None, query: str | None = None,
    check_remote: bool = False,
) -> list[Item]:  # fmt: skip
    """The view's entries, of `kind`, matching `query` (any word of path,
    artifact, title or card field, case-insensitive).

    Raises:
        SourceError: a stage file or a remote of the view cannot be read.
        ConfigError: its bale.yaml is malformed.
    """
    found = [e for e in entries(view, settings_of(view)) if kind is None or e.kind == kind]
    tagged = _tags_holding(view, git_dir) if git_dir else {}
    registry = registry_tags(git_dir) if git_dir else []
    items = []
    for entry in found:
        title, fields = _card(view, entry)
        versions, stages = _model(registry, entry.artifact)
        item = Item(entry, title, fields, tagged.get((entry.path, _oid(entry)), []),
                    versions, stages, None)  # fmt: skip
        if query is None or _matches(item, query):
            items.append(item)
    if check_remote:
        items = [i._replace(on_remote=_on_remote(view, i.entry)) for i in items]
    return items


def _oid(entry: Entry) -> str | None:
    return entry.out.out.oid if entry.out is not None else None


def _card(view: RepoView, entry: Entry) -> tuple[str | None, dict[str, Any]]:
    path = card_path(entry.path)
    if path not in view.tree.files():
        return None, {}
    try:
        card = parse_card(view.tree.read(path).decode("utf-8", "replace"))
    except CardError:
        return None, {}  # `bale card check` says what is wrong with it
    return card.title, card.front


def _matches(item: Item, query: str) -> bool:
    words = [item.entry.path, item.entry.artifact or "", item.title or ""]
    words += [f"{k} {v}" for k, v in item.fields.items()]
    text = " ".join(words).lower()
    return all(word in text for word in query.lower().split())


def _tags_holding(view: RepoView, git_dir: str) -> dict[tuple[str, str | None], list[str]]:
    """(entry path, oid) -> the plain tags whose commit records that output."""
    out = run_git(git_dir, "for-each-ref", "refs/tags",
                  "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)")  # fmt: skip
    by_commit: dict[str, list[str]] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        name, obj, peeled = [*line.split("\0"), "", ""][:3]
        if parse_tag(name) is not None:
            continue  # a model registry tag: shown as a version or stage
        by_commit.setdefault(peeled or obj, []).append(name)
    held: dict[tuple[str, str | None], list[str]] = {}
    for commit, names in by_commit.items():
        tree = GitTree(git_dir, commit)
        try:
            at = RepoView(tree, url=view.url, store=view.store)
            for vo in at.outputs():
                held.setdefault((vo.path, vo.out.oid), []).extend(names)
        except BaleError:
            continue  # a tag whose files cannot be read holds nothing we can name
        finally:
            tree.close()
    return {key: sorted(names) for key, names in held.items()}


def _model(registry: list, artifact: str | None) -> tuple[list[str], dict[str, str]]:
    if artifact is None:
        return [], {}
    mine = [t for t in registry if t.artifact == artifact]
    versions: dict[str, str] = {}  # version -> commit
    for tag in mine:
        if tag.version is not None:
            if tag.cancel:
                versions.pop(tag.version, None)
            else:
                versions[tag.version] = tag.commit
    stages: dict[str, str] = {}
    for tag in mine:
        if tag.stage is None:
            continue
        if tag.cancel:
            stages.pop(tag.stage, None)
            continue
        at = [v for v, c in versions.items() if c == tag.commit]
        stages[tag.stage] = max(at, key=semver_key) if at else tag.commit[:8]
    return sorted(versions, key=semver_key), dict(sorted(stages.items()))


def _on_remote(view: RepoView, entry: Entry) -> bool | None:
    """Whether every object of the entry is on its remote."""
    if entry.out is None or entry.out.out.oid is None:
        return None
    from bale.odb.layout import oid_relpath
    from bale.view.repoview import Pick

    objs = view.objects(Pick(entry.out, None, None))
    backend = view.open_backend(entry.out)
    try:
        rels = [oid_relpath(oid, legacy=legacy) for oid, legacy in objs]
        return len(backend.exists_many(rels)) == len(set(rels))
    finally:
        backend.close()
