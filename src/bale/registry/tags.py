"""Model-registry git tags in GTO's format: reading them.

Registration is `NAME@vX.Y.Z`, a stage assignment `NAME#STAGE` (often with a
`#N` counter), a `!` after either cancels it; only annotated tags count, as
in GTO. A `dir:name` artifact is written `dir=name` in tags.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bale.errors import ArtifactNotFoundError, UsageError
from bale.repo.gittree import run_git

_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_FULLNAME = rf"(?:[a-zA-Z0-9-_./]+:)?{_NAME}"
FULLNAME_RE = re.compile(rf"^(?P<dirname>[a-zA-Z0-9-_./]+:)?(?P<name>{_NAME})$")
SEMVER_RE = re.compile(rf"^v{_SEMVER}$")
_TAG_RE = re.compile(
    rf"^(?P<artifact>{_FULLNAME.replace(':', '=')})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated)|@created)(?:#(?P<counter>[0-9]+))?$"
)


class Tag(NamedTuple):
    """One registry tag: what it says, the commit it points to, when it was made."""

    name: str
    artifact: str  # `dir:name` form
    version: str | None
    stage: str | None
    cancel: bool
    counter: int
    commit: str
    time: int


def parse_tag(tag: str) -> dict[str, str | None] | None:
    """The fields of a registry tag's name, or None when it is not one."""
    match = _TAG_RE.match(tag)
    if match is None:
        return None
    fields = match.groupdict()
    fields["artifact"] = (fields["artifact"] or "").replace("=", ":")
    return fields


def registry_tags(git_dir: str) -> list[Tag]:
    """Every annotated registry tag of the repository, oldest first."""
    out = run_git(git_dir, "for-each-ref", "refs/tags",
                  "--format=%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00"
                  "%(taggerdate:unix)")  # fmt: skip
    tags = []
    for line in out.decode("utf-8", "replace").splitlines():
        name, kind, target, when = [*line.split("\0"), "", "", ""][:4]
        fields = parse_tag(name)
        if fields is None or kind != "tag" or not target:
            continue  # a lightweight tag, or not a registry one
        tags.append(Tag(name, fields["artifact"] or "", fields["version"], fields["stage"],
                        bool(fields["cancel"]), int(fields["counter"] or 0), target,
                        int(when or 0)))  # fmt: skip
    return sorted(tags, key=lambda t: (t.time, t.counter))


def semver_key(version: str) -> tuple:
    """Order of SemVer 2.0: numbers, then a release after its pre-releases."""
    core, _, pre = version[1:].partition("+")[0].partition("-")
    numbers = tuple(int(n) for n in core.split("."))
    if not pre:
        return (numbers, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (numbers, 0, parts)


def check_artifact_name(name: str) -> None:
    """Raises UsageError for a name GTO would refuse."""
    if not FULLNAME_RE.match(name):
        raise UsageError(
            f"'{name}' is not an artifact name: letters, digits, '-', '_' and '/', starting "
            "and ending with a letter or digit, optionally after 'dir:'"
        )


def artifact_commit(
    git_dir: str, name: str, *, version: str | None = None, stage: str | None = None
) -> str:
    """The commit an artifact's version (None: its greatest) or its stage's
    latest assignment points to.

    Raises:
        ArtifactNotFoundError: no such registered version or assigned stage.
    """
    check_artifact_name(name)
    if version is not None and not SEMVER_RE.match(version):
        raise UsageError(f"'{version}' is not a version: write v and SemVer, like v1.2.3")
    mine = [t for t in registry_tags(git_dir) if t.artifact == name]
    if stage is not None:
        assigned = [t for t in mine if t.stage == stage]
        if not assigned or assigned[-1].cancel:
            raise ArtifactNotFoundError(f"artifact '{name}' has no version in stage '{stage}'")
        return assigned[-1].commit
    registered: dict[str, Tag] = {}
    for tag in mine:
        if tag.version is not None:
            if tag.cancel:
                registered.pop(tag.version, None)
            else:
                registered[tag.version] = tag
    if version is not None:
        if version not in registered:
            raise ArtifactNotFoundError(f"artifact '{name}' has no version {version}")
        return registered[version].commit
    if not registered:
        raise ArtifactNotFoundError(f"artifact '{name}' has no registered version")
    return registered[max(registered, key=semver_key)].commit
