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
_DIRNAME = r"[a-zA-Z0-9-_./]+"
_FULLNAME = rf"(?:{_DIRNAME}:)?{_NAME}"
FULLNAME_RE = re.compile(rf"^(?P<dirname>[a-zA-Z0-9-_./]+:)?(?P<name>{_NAME})$")
SEMVER_RE = re.compile(rf"^v{_SEMVER}$")
NAME_RE = re.compile(rf"^{_NAME}$")  # a stage, or an artifact without its folder
# GTO's naming shortcut (`gto/constants.py::shortcut_re`): rf@v1.0.0, rf@latest, rf#prod.
REFERENCE_RE = re.compile(
    rf"^(?P<artifact>{_FULLNAME})(?:#(?P<stage>{_NAME})|@(?P<version>latest|greatest|v{_SEMVER}))$"
)
_TAG_RE = re.compile(
    rf"^(?P<artifact>(?:{_DIRNAME}=)?{_NAME})"  # `dir:name` is written `dir=name` in tags
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated)|@created)(?:#(?P<counter>[0-9]+))?$"
)


class Tag(NamedTuple):
    """One registry tag: what it says, the commit it points to, when it was
    made and by whom (what `gto show --json` reports of it)."""

    name: str
    artifact: str  # `dir:name` form
    version: str | None
    stage: str | None
    cancel: bool
    counter: int
    commit: str
    time: int
    deprecated: bool = False  # `NAME@deprecated`
    offset: int = 0  # the tagger's offset from UTC, in seconds
    tagger: str = ""
    email: str = ""
    message: str = ""  # stripped, as GTO keeps it


def parse_tag(tag: str) -> dict[str, str | None] | None:
    """The fields of a registry tag's name, or None when it is not one."""
    match = _TAG_RE.match(tag)
    if match is None:
        return None
    fields = match.groupdict()
    fields["artifact"] = (fields["artifact"] or "").replace("=", ":")
    return fields


def registry_tags(git_dir: str) -> list[Tag]:
    """Every annotated registry tag of the repository, oldest first (tags of
    one second in the order of their counters, then names).

    `@created` tags are left out: GTO's parser has no action for them.
    """
    # NUL cannot occur in a ref name, a tagger or a message, so two of them end
    # a record whatever the message holds.
    out = run_git(git_dir, "for-each-ref", "refs/tags",
                  "--format=%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00"
                  "%(taggerdate:raw)%00%(taggername)%00%(taggeremail)%00%(contents)"
                  "%00%00")  # fmt: skip
    tags = []
    for record in out.decode("utf-8", "replace").split("\0\0\n"):
        name, kind, target, when, tagger, email, message = [*record.split("\0"), *[""] * 7][:7]
        fields = parse_tag(name)
        if fields is None or kind != "tag" or not target:
            continue  # a lightweight tag, or not a registry one
        if not (fields["version"] or fields["stage"] or fields["deprecated"]):
            continue  # `@created`
        seconds, _, zone = when.partition(" ")
        tags.append(Tag(
            name, fields["artifact"] or "", fields["version"], fields["stage"],
            bool(fields["cancel"]), int(fields["counter"] or 0), target, int(seconds or 0),
            deprecated=bool(fields["deprecated"]), offset=zone_seconds(zone), tagger=tagger,
            email=email.strip().removeprefix("<").removesuffix(">"), message=message.strip(),
        ))  # fmt: skip
    return sorted(tags, key=lambda t: (t.time, t.counter))


def zone_seconds(zone: str) -> int:
    """`+0130` -> 5400; anything unreadable is UTC."""
    if len(zone) != 5 or zone[0] not in "+-" or not zone[1:].isdigit():
        return 0
    seconds = int(zone[1:3]) * 3600 + int(zone[3:]) * 60
    return -seconds if zone[0] == "-" else seconds


def next_counter(git_dir: str, artifact: str) -> int:
    """1 + the highest `#N` on any tag of `artifact`, lightweight ones
    included, as GTO numbers a new tag (`gto/tag.py::name_tag`)."""
    out = run_git(git_dir, "for-each-ref", "refs/tags", "--format=%(refname:strip=2)")
    highest = 0
    for name in out.decode("utf-8", "replace").splitlines():
        fields = parse_tag(name)
        if fields is not None and fields["artifact"] == artifact and fields["counter"]:
            highest = max(highest, int(fields["counter"]))
    return highest + 1


def tag_prefix(artifact: str) -> str:
    """The artifact as tags spell it: `dir:name` becomes `dir=name`."""
    return artifact.replace(":", "=")


def semver_key(version: str) -> tuple:
    """Order of SemVer 2.0: numbers, then a release after its pre-releases."""
    core, _, pre = version[1:].partition("+")[0].partition("-")
    numbers = tuple(int(n) for n in core.split("."))
    if not pre:
        return (numbers, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (numbers, 0, parts)


def name_problem(name: str) -> str | None:
    """Why GTO would refuse `name` as an artifact name; None when it takes it."""
    if FULLNAME_RE.match(name):
        return None
    return (
        f"'{name}' is not an artifact name: letters, digits, '-', '_' and '/', starting "
        "and ending with a letter or digit, optionally after 'dir:'"
    )


def check_artifact_name(name: str) -> None:
    """Raises UsageError for a name GTO would refuse."""
    problem = name_problem(name)
    if problem is not None:
        raise UsageError(problem)


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
