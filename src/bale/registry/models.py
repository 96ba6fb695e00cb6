"""The model registry on git tags: GTO's state of a repository, the tags
that change it, and artifact references (`rf@v1.0.0`, `rf#prod`) resolved to
a commit and a path.

The state is GTO's (`gto/base.py`, `gto/tag.py`, `gto/index.py`), computed
step for step as GTO computes it so `bale model show` and `gto show` agree:
deprecations first, then registrations, then stage assignments (each found a
version by its commit; a commit with none gets a version named by its hash),
then one commit event per version. A version is active when its newest
registration or deregistration is a registration; a stage holds the version
whose newest assignment is the latest among the active ones
(VERSIONS_PER_STAGE = 1, `gto show`'s timestamp order); an artifact is
deprecated while its deprecation is its newest event.

Where GTO orders tags of one second by accident of its sorting, bale orders
them by their `#N` counters, then names: its answer is the one a person meant.

Terms: a *version* is `vX.Y.Z` (SemVer with a `v`), or a commit hash for an
assignment to a commit nothing registered (`--skip-registration`); a *stage*
is a name like `prod`. Writes are annotated tags (`git tag -a`) with GTO's
names and messages; nothing is pushed.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from bale.errors import (
    ArtifactNotFoundError,
    BaleError,
    DvcFileError,
    GitError,
    RevisionNotFoundError,
)
from bale.registry.tags import (
    FULLNAME_RE,
    NAME_RE,
    REFERENCE_RE,
    SEMVER_RE,
    Tag,
    name_problem,
    next_counter,
    registry_tags,
    semver_key,
    tag_prefix,
    zone_seconds,
)
from bale.repo.gittree import run_git


class RegistryError(BaleError, ValueError):
    """A registry change GTO would refuse: a bad name or version, a version
    registered already, a stage a version holds already (exit status 1)."""


FIRST_VERSION = "v0.0.1"
_PRIORITY = {"commit": 0, "deprecation": 2, "registration": 3, "deregistration": 4,
             "assignment": 5, "unassignment": 6}  # fmt: skip
_ADDITION = frozenset({"commit", "registration", "assignment"})


# -- the state ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to an artifact: a tag, or the commit a
    version is on (GTO's enrichment event). `order` sorts events in time
    with no ties."""

    kind: str  # registration, deregistration, assignment, unassignment, deprecation, commit
    artifact: str
    version: str | None
    stage: str | None
    commit: str
    time: int
    offset: int
    author: str
    email: str
    message: str
    tag: str | None  # None for a commit event
    order: tuple[int, int, int]
    committer: str = ""
    committer_email: str = ""

    @property
    def addition(self) -> bool:
        return self.kind in _ADDITION

    @property
    def ref(self) -> str:
        return self.tag or self.commit

    def as_json(self, *, with_kind: bool = False) -> dict[str, Any]:
        """The event as GTO dumps it (its pydantic model's fields, in order)."""
        data: dict[str, Any] = {
            "priority": _PRIORITY[self.kind], "addition": self.addition,
            "artifact": self.artifact, "created_at": iso_time(self.time, self.offset),
            "author": self.author, "author_email": self.email, "message": self.message,
            "commit_hexsha": self.commit,
        }  # fmt: skip
        if self.kind == "commit":
            data.update(version=self.version, enrichments=[], committer=self.committer,
                        committer_email=self.committer_email)  # fmt: skip
        else:
            data["tag"] = self.tag
            if self.kind != "deprecation":
                data["version"] = self.version
            if self.stage is not None:
                data["stage"] = self.stage
        if with_kind:
            data["event"] = self.kind
        return data


def _newest(events: list[Event]) -> Event | None:
    return max(events, key=lambda e: e.order) if events else None


def _owner_json(authoring: Event | None) -> dict[str, Any]:
    """GTO's fields of an object taken from the event that made it."""
    if authoring is None:
        return {"created_at": None, "author": None, "author_email": None, "message": None,
                "ref": None}  # fmt: skip
    return {"created_at": iso_time(authoring.time, authoring.offset), "author": authoring.author,
            "author_email": authoring.email, "message": authoring.message,
            "ref": authoring.ref}  # fmt: skip


@dataclass(slots=True)
class VStage:
    """A stage of one version: its assignments and unassignments."""

    artifact: str
    version: str
    stage: str
    commit: str
    assignments: list[Event] = field(default_factory=list)
    unassignments: list[Event] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        newest = _newest(self.assignments + self.unassignments)
        return newest is not None and newest.kind == "assignment"

    @property
    def authoring(self) -> Event | None:
        """The newest assignment: when the stage last got this version."""
        return _newest(self.assignments)

    def as_json(self) -> dict[str, Any]:
        newest = _newest(self.assignments + self.unassignments)
        active = newest is not None and newest.kind == "assignment"
        return {
            "artifact": self.artifact, "commit_hexsha": self.commit, "version": self.version,
            "stage": self.stage,
            "assignments": [e.as_json(with_kind=True) for e in _ascending(self.assignments)],
            "unassignments": [e.as_json(with_kind=True) for e in _ascending(self.unassignments)],
            "is_active": active,
            "activated_at": iso_time(newest.time, newest.offset) if active and newest else None,
            **_owner_json(self.authoring),
        }  # fmt: skip


def _ascending(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.order)


@dataclass(slots=True)
class Version:
    """A version of an artifact: the commit it names and what happened to it."""

    artifact: str
    version: str
    commit: str
    registrations: list[Event] = field(default_factory=list)
    deregistrations: list[Event] = field(default_factory=list)
    enrichments: list[Event] = field(default_factory=list)
    stages: dict[str, VStage] = field(default_factory=dict)

    def direct(self) -> list[Event]:
        return self.registrations + self.deregistrations

    def indirect(self) -> list[Event]:
        staged = [e for s in self.stages.values() for e in s.assignments + s.unassignments]
        return self.enrichments + staged

    @property
    def is_active(self) -> bool:
        newest = _newest(self.direct())
        if newest is not None:
            return newest.kind == "registration"
        return bool(self.indirect())

    @property
    def is_registered(self) -> bool:
        return bool(self.registrations)

    @property
    def discovered(self) -> bool:
        """No tag registered or deregistered it: a commit a stage was put on."""
        return not self.direct()

    @property
    def authoring(self) -> Event | None:
        added = [e for e in self.direct() if e.addition]
        return _newest(added) or _newest(self.indirect())

    def active_stages(self) -> list[VStage]:
        """Its stages in effect, the first assigned first."""
        active = [s for s in self.stages.values() if s.is_active]
        return sorted(active, key=lambda s: _newest(s.assignments).order)  # type: ignore[union-attr]

    def add(self, event: Event) -> None:
        if event.kind == "registration":
            self.registrations.append(event)
        elif event.kind == "deregistration":
            self.deregistrations.append(event)
        elif event.kind == "commit":
            self.enrichments.append(event)
        else:
            assert event.stage is not None
            vstage = self.stages.setdefault(
                event.stage, VStage(self.artifact, self.version, event.stage, self.commit)
            )
            (vstage.assignments if event.kind == "assignment" else vstage.unassignments).append(
                event
            )

    def as_json(self, winners: list[VStage]) -> dict[str, Any]:
        """The version as `gto show NAME --json` prints it; `winners` are the
        stages it holds."""
        registered = self.registrations
        events = self.direct() + self.indirect()
        activated = registered[0] if registered else min(events, key=lambda e: e.order)
        return {
            "artifact": self.artifact, "commit_hexsha": self.commit, "version": self.version,
            "enrichments": [e.as_json() for e in _ascending(self.enrichments)],
            "registrations": [e.as_json() for e in _ascending(registered)],
            "deregistrations": [e.as_json() for e in _ascending(self.deregistrations)],
            "stages": [s.as_json() for s in winners],
            "is_active": self.is_active,
            "activated_at": iso_time(activated.time, activated.offset),
            **_owner_json(self.authoring),
            "discovered": self.discovered,
        }  # fmt: skip


@dataclass(slots=True)
class Artifact:
    """An artifact's versions and deprecations, as GTO's `Artifact`."""

    name: str
    versions: list[Version] = field(default_factory=list)
    deprecations: list[Event] = field(default_factory=list)

    def events(self) -> list[Event]:
        found = list(self.deprecations)
        for version in self.versions:
            found += version.direct() + version.indirect()
        return found

    @property
    def is_active(self) -> bool:
        newest = _newest(self.events())
        return newest is not None and newest.kind != "deprecation"

    @property
    def is_registered(self) -> bool:
        """Some tag names it (every artifact bale reads comes from tags)."""
        return any(e.kind != "commit" for e in self.events())

    def find_version(
        self, name: str | None = None, commit: str | None = None, *,
        include_discovered: bool = False, create: bool = False,
    ) -> Version | None:  # fmt: skip
        """GTO's `find_version`: the one version named `name` at `commit`
        (either may be None: any); discovered versions only when asked.

        Raises:
            RegistryError: several versions match (tags made by hand).
        """
        found = [
            v for v in self.versions
            if (name is None or v.version == name) and (commit is None or v.commit == commit)
            and (include_discovered or not v.discovered)
        ]  # fmt: skip
        if not found and create:
            assert name is not None or commit is not None
            found = [Version(self.name, name or commit or "", commit or "")]
            self.versions.append(found[0])
        if len(found) > 1:
            names = ", ".join(sorted({v.version for v in found}))
            raise RegistryError(
                f"artifact '{self.name}' has several versions there ({names}); deregister "
                "all but one (bale model deregister)"
            )
        return found[0] if found else None

    def versions_in_effect(
        self, *, active_only: bool = True, unregistered: bool = True, discovered: bool = False
    ) -> list[Version]:
        """Versions, greatest first: registered ones by SemVer, then those
        named by a commit (GTO's `get_versions` and `sort_versions`).
        `unregistered` takes versions no tag registered, `discovered` also
        those only a commit event names."""
        chosen = [
            v for v in self.versions
            if not active_only or (v.is_active and (
                v.is_registered or (discovered and v.discovered)
                or (unregistered and not v.is_registered)))
        ]  # fmt: skip
        return _sorted_versions(chosen)

    def latest(self) -> Version | None:
        """The greatest registered version in effect."""
        found = self.versions_in_effect(unregistered=False)
        return found[0] if found else None

    def owner(self, vstage: VStage) -> Version:
        """The version a stage entry belongs to."""
        return next(v for v in self.versions if any(s is vstage for s in v.stages.values()))

    def stage_holders(self) -> dict[str, VStage]:
        """Stage -> the version's stage that holds it: among active
        versions' active stages, the one assigned last."""
        held: dict[str, VStage] = {}
        for version in self.versions_in_effect():
            for vstage in version.active_stages():
                current = held.get(vstage.stage)
                mine = vstage.authoring
                assert mine is not None
                if current is None or mine.order > current.authoring.order:  # type: ignore[union-attr]
                    held[vstage.stage] = vstage
        return held


def iso_time(time: int, offset: int) -> str:
    """A tag's or commit's time as GTO prints it: ISO 8601 in its own zone."""
    return datetime.fromtimestamp(time, timezone(timedelta(seconds=offset))).isoformat()


def registry_state(git_dir: str) -> dict[str, Artifact]:
    """Every artifact the repository's registry tags name, as GTO's
    `GitRegistry.get_state` computes them (artifacts.yaml is not read).

    Raises:
        RegistryError: a commit carries several versions of one artifact.
    """
    tags = registry_tags(git_dir)
    state: dict[str, Artifact] = {}

    def event(tag: Tag, index: int, kind: str, version: str | None) -> Event:
        return Event(kind, tag.artifact, version, tag.stage, tag.commit, tag.time, tag.offset,
                     tag.tagger, tag.email, tag.message, tag.name,
                     (tag.time, 1, index))  # fmt: skip

    def artifact(name: str) -> Artifact:
        return state.setdefault(name, Artifact(name))

    for index, tag in enumerate(tags):
        if tag.deprecated:
            artifact(tag.artifact).deprecations.append(event(tag, index, "deprecation", None))
    for index, tag in enumerate(tags):
        if tag.version is not None:
            kind = "deregistration" if tag.cancel else "registration"
            art = artifact(tag.artifact)
            found = art.find_version(tag.version, tag.commit, create=True)
            assert found is not None
            found.add(event(tag, index, kind, tag.version))
    for index, tag in enumerate(tags):
        if tag.stage is not None:
            art = artifact(tag.artifact)
            at = art.find_version(commit=tag.commit, create=True)
            assert at is not None
            kind = "unassignment" if tag.cancel else "assignment"
            # GTO looks the version up again by name and commit, which skips
            # the one just made for a bare commit and makes another: each
            # stage tag on such a commit has its own version, as in GTO.
            owner = art.find_version(at.version, tag.commit, create=True)
            assert owner is not None
            owner.add(event(tag, index, kind, at.version))
    commits = _commits(git_dir, {v.commit for a in state.values() for v in a.versions})
    for art in state.values():
        for version in art.versions:
            info = commits.get(version.commit)
            if info is not None:
                version.add(info._replace(artifact=art.name, version=version.version).event())
    return state


class _Commit(NamedTuple):
    sha: str
    time: int
    offset: int
    author: str
    email: str
    committer: str
    committer_email: str
    message: str
    artifact: str = ""
    version: str = ""

    def event(self) -> Event:
        # Before any tag of the same second: a tag names a commit made before it.
        return Event("commit", self.artifact, self.version, None, self.sha, self.time,
                     self.offset, self.author, self.email, self.message, None,
                     (self.time, 0, 0), self.committer, self.committer_email)  # fmt: skip


def _commits(git_dir: str, shas: set[str]) -> dict[str, _Commit]:
    """What GTO's enrichment events say of each commit: committer time, the
    author, the committer, the whole message."""
    if not shas:
        return {}
    out = run_git(git_dir, "log", "--no-walk=unsorted", "--stdin", "--date=raw",
                  "--format=%H%x00%cd%x00%an%x00%ae%x00%cn%x00%ce%x00%B%x00%x00",
                  input="\n".join(sorted(shas)).encode() + b"\n")  # fmt: skip
    found = {}
    for record in out.decode("utf-8", "replace").split("\0\0\n"):
        parts = record.split("\0")
        if len(parts) != 7:
            continue
        sha, when, author, email, committer, committer_email, message = parts
        seconds, _, zone = when.partition(" ")
        found[sha] = _Commit(sha, int(seconds), zone_seconds(zone), author, email, committer,
                             committer_email, message)  # fmt: skip
    return found


# -- showing it ---------------------------------------------------------------


def used_stages(state: Mapping[str, Artifact], allowed: list[str] | None) -> list[str]:
    """The stages a registry table has columns for: `.gto`'s, else every
    stage some artifact holds (GTO's `get_stages`)."""
    if allowed is not None:
        return list(allowed)
    return sorted({s for a in state.values() for s in a.stage_holders()})


def registry_json(
    state: Mapping[str, Artifact], *, allowed: list[str] | None = None, deprecated: bool = False
) -> dict[str, Any]:
    """The registry as `gto show --json` prints it: per artifact, its
    greatest version, the version each stage holds, whether any tag names it
    and whether it is in effect."""
    stages = used_stages(state, allowed)
    shown = {}
    for name, art in state.items():
        if not (art.is_active or deprecated):
            continue
        latest = art.latest()
        held = art.stage_holders()
        shown[name] = {
            "version": latest.version if latest else None,
            "stage": {s: held[s].version if s in held else None for s in stages},
            "registered": art.is_registered,
            "active": art.is_active,
        }
    return shown


def versions_json(
    state: Mapping[str, Artifact], reference: str, *, deprecated: bool = False
) -> list[dict[str, Any]]:
    """An artifact's versions as `gto show NAME --json` prints them, greatest
    first; `reference` may be a shortcut (`rf@v1.0.0`, `rf@latest`, `rf#prod`).

    Raises:
        RegistryError: not an artifact name or shortcut.
        ArtifactNotFoundError: no tag names that artifact.
    """
    name, version, stage = _split_reference(reference)
    art = state.get(name)
    if art is None:
        raise ArtifactNotFoundError(_unknown(name))
    # The stages each version holds, the latest assigned first, as GTO lists them.
    held = sorted(art.stage_holders().values(), reverse=True,
                  key=lambda s: s.authoring.order)  # type: ignore[union-attr]  # fmt: skip
    shown = []
    if art.is_active or deprecated:
        for found in art.versions_in_effect(active_only=not deprecated, discovered=True):
            shown.append(found.as_json([s for s in held if s.version == found.version]))
    if version in ("latest", "greatest"):
        return shown[:1]
    if version is not None:
        return [v for v in shown if v["version"] == version]
    if stage is not None:
        return [v for v in shown for s in v["stages"] if s["stage"] == stage]
    return shown


def _sorted_versions(versions: list[Version]) -> list[Version]:
    """Greatest first: SemVer ones, then those named by a commit; equal ones
    in reverse order of their making, as GTO's reversed ascending sort leaves them."""
    semver = sorted((v for v in versions if SEMVER_RE.match(v.version)),
                    key=lambda v: semver_key(v.version))[::-1]  # fmt: skip
    other = sorted((v for v in versions if not SEMVER_RE.match(v.version)),
                   key=lambda v: v.version)[::-1]  # fmt: skip
    return semver + other


def _split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """(artifact, version or latest/greatest, stage) of a name or shortcut.

    Raises:
        RegistryError: neither.
    """
    match = REFERENCE_RE.match(reference)
    if match is not None:
        return match["artifact"], match["version"], match["stage"]
    problem = name_problem(reference)
    if problem is not None:
        raise RegistryError(problem)
    return reference, None, None


def allowed_stages(top: str | None) -> list[str] | None:
    """The stages `.gto` at the top of a working tree allows; None: any.

    Raises:
        RegistryError: `.gto` is not YAML, or its `stages` not a list of names.
    """
    if top is None:
        return None
    path = os.path.join(top, ".gto")
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        return None
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path} is not YAML ({exc}); fix it") from exc
    stages = data.get("stages") if isinstance(data, dict) else None
    if stages is None:
        return None
    if not isinstance(stages, list) or not all(
        isinstance(s, str) and NAME_RE.match(s) for s in stages
    ):
        raise RegistryError(f"{path}: 'stages' must be a list of stage names; fix it")
    return stages


# -- changing it --------------------------------------------------------------


class Created(NamedTuple):
    """A tag bale made: its name, what it does (GTO's words), and the version."""

    tag: str
    what: str
    version: str


def register(
    git_dir: str, name: str, rev: str = "HEAD", *, version: str | None = None,
    bump: str | None = None, message: str | None = None,
) -> Created:  # fmt: skip
    """Tag `rev` as a new version of `name`: `version`, or the greatest
    registered one bumped (`bump`: major, minor or patch; patch by default),
    or v0.0.1 for the first, as `gto register` does. A lower version than
    the greatest is allowed, as in GTO.

    GTO takes any valid name; bale also wants `dvc.yaml`'s `artifacts:` to
    declare it at that commit, because that is where dvc (`dvc artifacts
    get`, `dvc.api.artifacts_show`) and `bale get NAME@vX.Y.Z` find its
    path: a tag of an undeclared name names no data, and is most often a typo.

    Raises:
        RegistryError: a bad name or version, a version registered before
            (deregistered ones too), a commit already registered, a bump with
            nothing to bump, an artifact `dvc.yaml` does not declare.
        RevisionNotFoundError: no such revision.
    """
    _check_name(name)
    if version is not None:
        _check_version(version)
    if version is not None and bump is not None:
        raise RegistryError("give a version or a bump, not both")
    commit = resolve_commit(git_dir, rev)
    state = registry_state(git_dir)
    art = state.get(name) or Artifact(name)
    at = art.find_version(commit=commit)
    if at is not None:
        if at.is_registered and at.is_active:
            raise RegistryError(
                f"'{name}' is registered at {commit[:8]} already, as {at.version}; register "
                f"another commit, or deregister {at.version} first"
            )
        if version is None:
            version = at.version
        elif at.version != version:
            raise RegistryError(
                f"{commit[:8]} was version {at.version} of '{name}' before; register it as "
                f"{at.version} again, or register another commit"
            )
    if version is None:
        latest = art.latest()
        if latest is not None:
            version = _bump(latest.version, bump or "patch")
        elif bump is not None:
            raise RegistryError(
                f"'{name}' has no version to bump yet; register without --bump-{bump} (it "
                "becomes v0.0.1) or give --version"
            )
        else:
            version = FIRST_VERSION
    taken = art.find_version(name=version)
    if taken is not None and taken is not at:
        again = "" if taken.is_active else " (deregistered since; versions are not reused)"
        raise RegistryError(
            f"version {version} of '{name}' was registered already, at {taken.commit[:8]}"
            f"{again}; choose another version"
        )
    check_declared(git_dir, commit, name)
    tag = _free_tag(git_dir, f"{tag_prefix(name)}@{version}", name)
    _create_tag(git_dir, tag, commit, message or f"Registering artifact {name} version {version}",
                after=_last_time(art))  # fmt: skip
    return Created(tag, "registers version", version)


def deregister(
    git_dir: str, name: str, *, version: str | None = None, rev: str | None = None,
    message: str | None = None,
) -> Created:  # fmt: skip
    """Cancel a registered version (`NAME@vX.Y.Z!`), named by its version or
    its commit, as `gto deprecate NAME VERSION` does.

    Raises:
        RegistryError: a bad name or version, neither or both given, a
            version not registered or deregistered already.
        ArtifactNotFoundError: no such version.
    """
    _check_name(name)
    _one_of(version, rev)
    if version is not None:
        _check_version(version)
    commit = resolve_commit(git_dir, rev) if rev is not None else None
    art = registry_state(git_dir).get(name) or Artifact(name)
    found = art.find_version(name=version, commit=commit)
    if found is None:
        raise ArtifactNotFoundError(_no_version(name, version, commit))
    if not found.is_registered:
        raise RegistryError(f"version {found.version} of '{name}' is not registered")
    if not found.is_active:
        raise RegistryError(f"version {found.version} of '{name}' is deregistered already")
    tag = _free_tag(git_dir, f"{tag_prefix(name)}@{found.version}!", name)
    _create_tag(git_dir, tag, found.commit,
                message or f"Deregistering artifact {name} version {found.version}",
                after=_last_time(art))  # fmt: skip
    return Created(tag, "deregisters version", found.version)


def assign(
    git_dir: str, name: str, stage: str, *, version: str | None = None, rev: str | None = None,
    new_version: str | None = None, skip_registration: bool = False,
    message: str | None = None, force: bool = False, allowed: list[str] | None = None,
) -> list[Created]:  # fmt: skip
    """Put `stage` on a version (`NAME#STAGE#N`, N one more than any counter
    of the artifact's tags): an existing `version`, or the version at `rev`,
    registering `rev` first (as `new_version`, or bumped) unless
    `skip_registration`, as `gto assign` does. The tags made, in order.

    Raises:
        RegistryError: a bad name, stage or version; a stage `.gto` does not
            allow; the version holds the stage already (without `force`).
        ArtifactNotFoundError: no such version.
    """
    _check_name(name)
    _check_stage(stage, allowed)
    if version is not None and rev is not None:
        raise RegistryError("give a version or a revision, not both")
    if version is not None:
        _check_version(version)
    if new_version is not None:
        _check_version(new_version)
        if skip_registration:
            raise RegistryError("a version to register and --skip-registration exclude each other")
    made = []
    art = registry_state(git_dir).get(name) or Artifact(name)
    if version is not None:
        found = art.find_version(name=version)
        if found is None:
            raise ArtifactNotFoundError(
                f"'{name}' has no version {version}; register it first: bale model register "
                f"{name} --version {version} REV"
            )
        commit = found.commit
    else:
        commit = resolve_commit(git_dir, rev or "HEAD")
        found = art.find_version(commit=commit)
        if found is not None and new_version is not None:
            raise RegistryError(
                f"cannot register {new_version}: {found.version} of '{name}' is registered at "
                f"{commit[:8]} already"
            )
        if found is None:
            if not skip_registration:
                made.append(register(git_dir, name, commit, version=new_version))
                art = registry_state(git_dir).get(name) or Artifact(name)
            found = art.find_version(commit=commit, create=True)
            assert found is not None
    if not force and any(s.stage == stage for s in found.active_stages()):
        raise RegistryError(
            f"version {found.version} of '{name}' is in stage '{stage}' already; use --force "
            "to tag it again"
        )
    tag = f"{tag_prefix(name)}#{stage}#{next_counter(git_dir, name)}"
    # Right after the registration it made, nothing of the artifact is as new.
    _create_tag(git_dir, tag, commit, message or
                f"Assigning stage {stage} to artifact {name} version {found.version}",
                after=0 if made else _last_time(art))  # fmt: skip
    return [*made, Created(tag, f"assigns stage to version '{found.version}'", found.version)]


def unassign(
    git_dir: str, name: str, stage: str, *, version: str | None = None, rev: str | None = None,
    message: str | None = None,
) -> Created:  # fmt: skip
    """Take `stage` off a version (`NAME#STAGE!#N`): the given one, the one
    at `rev`, or (neither given) the one holding the stage now.

    Raises:
        RegistryError: a bad name, stage or version; the version never had
            the stage.
        ArtifactNotFoundError: no such version, or nothing holds the stage.
    """
    _check_name(name)
    _check_stage(stage, None)
    if version is not None and rev is not None:
        raise RegistryError("give a version or a revision, not both")
    if version is not None:
        _check_version(version)
    art = registry_state(git_dir).get(name) or Artifact(name)
    if version is None and rev is None:
        holder = art.stage_holders().get(stage)
        if holder is None:
            raise ArtifactNotFoundError(f"no version of '{name}' is in stage '{stage}'")
        found = art.owner(holder)
    else:
        commit = resolve_commit(git_dir, rev) if rev is not None else None
        found = art.find_version(name=version, commit=commit)
        if found is None:
            raise ArtifactNotFoundError(_no_version(name, version, commit))
    assert found is not None
    if stage not in found.stages:
        raise RegistryError(f"stage '{stage}' is not assigned to version {found.version} of "
                            f"'{name}'")  # fmt: skip
    tag = f"{tag_prefix(name)}#{stage}!#{next_counter(git_dir, name)}"
    default = f"Unassigning stage '{stage}' to artifact '{name}' version '{found.version}'"
    _create_tag(git_dir, tag, found.commit, message or default, after=_last_time(art))
    return Created(tag, f"unassigns stage from version '{found.version}'", found.version)


def deprecate(git_dir: str, name: str, *, message: str | None = None) -> Created:
    """Mark the artifact deprecated (`NAME@deprecated`) on the commit of its
    newest event, as `gto deprecate NAME` does; a later registration or
    assignment brings it back.

    Raises:
        RegistryError: a bad name, or deprecated already.
        ArtifactNotFoundError: no tag names the artifact.
    """
    _check_name(name)
    art = registry_state(git_dir).get(name)
    if art is None:
        raise ArtifactNotFoundError(_unknown(name))
    if not art.is_active:
        raise RegistryError(f"'{name}' is deprecated already")
    newest = _newest(art.events())
    assert newest is not None
    tag = _free_tag(git_dir, f"{tag_prefix(name)}@deprecated", name)
    # GTO takes a deprecation of the same second as a version's commit for
    # the older of the two, so it waits past commits too.
    _create_tag(git_dir, tag, newest.commit, message or f"Deprecating artifact '{name}'",
                after=_last_time(art, commits=True))  # fmt: skip
    return Created(tag, "deprecates artifact", "")


def _unknown(name: str) -> str:
    return f"no registry tag names artifact '{name}'; see: bale model list"


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise RegistryError(problem)


def _check_version(version: str) -> None:
    if not SEMVER_RE.match(version):
        raise RegistryError(f"'{version}' is not a version: write v and SemVer, like v1.2.3")


def _check_stage(stage: str, allowed: list[str] | None) -> None:
    if not NAME_RE.match(stage):
        raise RegistryError(
            f"'{stage}' is not a stage name: letters, digits, '-', '_' and '/', starting and "
            "ending with a letter or digit"
        )
    if allowed is not None and stage not in allowed:
        raise RegistryError(f"stage '{stage}' is not one .gto allows: {', '.join(allowed)}")


def _one_of(version: str | None, rev: str | None) -> None:
    if (version is None) == (rev is None):
        raise RegistryError("give the version (--version) or its revision, one of them")


def _no_version(name: str, version: str | None, commit: str | None) -> str:
    what = f"version {version}" if version else f"version at {(commit or '')[:8]}"
    return f"'{name}' has no {what}; see: bale model show {name}"


def _bump(version: str, part: str) -> str:
    """`semver`'s bump, as GTO applies it: pre-release and build dropped."""
    core = version[1:].partition("+")[0].partition("-")[0]
    major, minor, patch = (int(n) for n in core.split("."))
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def _free_tag(git_dir: str, simple: str, name: str) -> str:
    """The simple form of a tag, or its counter form when that name is taken
    (a version deregistered and registered again, an artifact deprecated
    twice), as `--simple false` writes it: GTO itself would stop there."""
    if not _tag_exists(git_dir, simple):
        return simple
    return f"{simple}#{next_counter(git_dir, name)}"


def _tag_exists(git_dir: str, tag: str) -> bool:
    try:
        run_git(git_dir, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}")
    except GitError:
        return False
    return True


def _last_time(art: Artifact, *, commits: bool = False) -> int:
    """The time of the artifact's newest tag (or commit)."""
    times = [e.time for e in art.events() if commits or e.kind != "commit"]
    return max(times, default=0)


def _create_tag(git_dir: str, tag: str, commit: str, message: str, *, after: int) -> None:
    """An annotated tag, dated later than `after` (a second after it at the
    least, waiting for that second when it is now): GTO orders tags of one
    second by accident, so bale gives it none. With GIT_COMMITTER_DATE set,
    the date is the caller's and nothing waits."""
    import time

    if "GIT_COMMITTER_DATE" not in os.environ and after + 1 - time.time() <= 1:
        # sleep() counts on a clock that may run apart from the wall clock git
        # reads: wait until the wall clock itself says the next second.
        while (wait := after + 1 - time.time()) > 0:
            time.sleep(wait + 0.005)
    run_git(git_dir, "tag", "-a", "-m", message, "--", tag, commit)


def resolve_commit(git_dir: str, rev: str) -> str:
    """The commit `rev` names.

    Raises:
        RevisionNotFoundError: git knows no such revision.
    """
    try:
        out = run_git(git_dir, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitError:
        out = b""
    if not out.strip():
        raise RevisionNotFoundError(
            f"revision '{rev}' does not exist; name a branch, tag or commit"
        )
    return out.decode().strip()


# -- artifacts declared in dvc.yaml -------------------------------------------


def split_name(name: str) -> tuple[str, str]:
    """(folder of its dvc.yaml, short name) of `dir:name` or `name`."""
    match = FULLNAME_RE.match(name)
    assert match is not None, name
    return (match["dirname"] or "").rstrip(":").strip("/"), match["name"]


def declared_path(git_dir: str, commit: str, name: str) -> str | None:
    """The path (from the top of the git tree) `dvc.yaml` declares for the
    artifact at `commit`, the way dvc finds it (`dir:name` in `dir/dvc.yaml`);
    None when it is not declared.

    Raises:
        DvcFileError: that `dvc.yaml` is malformed or its path leaves the tree.
    """
    from bale.formats.pipeline import parse_pipeline
    from bale.pipeline.metrics import join_inside
    from bale.repo.gittree import GitTree

    folder, short = split_name(name)
    rel = posixpath.join(folder, "dvc.yaml") if folder else "dvc.yaml"
    tree = GitTree(git_dir, commit)
    try:
        files = tree.files()
        if rel not in files:
            return None

        def text(path: str) -> str:
            try:
                return tree.read(path).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DvcFileError(path, "not UTF-8 text; fix the file") from exc

        def read(path: str) -> str | None:
            full = join_inside(folder, path, origin=rel)
            return text(full) if full in files else None

        pipeline = parse_pipeline(text(rel), origin=rel, read=read)
    finally:
        tree.close()
    entry = (pipeline.extra.get("artifacts") or {}).get(short)
    if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
        return None
    return join_inside(folder, entry["path"], origin=rel)


def check_declared(git_dir: str, commit: str, name: str) -> str:
    """The artifact's path at `commit`.

    Raises:
        RegistryError: its `dvc.yaml` does not declare it.
    """
    path = declared_path(git_dir, commit, name)
    if path is None:
        folder, short = split_name(name)
        where = posixpath.join(folder, "dvc.yaml") if folder else "dvc.yaml"
        raise RegistryError(
            f"'{short}' is not declared in {where} at {commit[:8]}; add it under artifacts: "
            f"with its path (artifacts: {{{short}: {{path: ...}}}}), commit, and register again"
        )
    return path


# -- references of another registry --------------------------------------------


class Resolved(NamedTuple):
    """An artifact reference of a registry: the path it names, the tag to
    record as the revision, and the commit."""

    artifact: str
    version: str
    path: str  # from the top of the registry's git tree
    rev: str  # the registration tag (the assignment tag for an unregistered commit)
    commit: str


def is_reference(text: str) -> bool:
    """Whether `text` reads as an artifact reference (`NAME@vX.Y.Z`,
    `NAME@latest`, `NAME#STAGE`) rather than a path."""
    return REFERENCE_RE.match(text) is not None


def resolve_reference(git_dir: str, text: str) -> Resolved | None:
    """What an artifact reference names in the registry at `git_dir`; None
    when `text` is no reference or no tag names its artifact (a path that
    looks like one).

    Raises:
        ArtifactNotFoundError: no such version in effect, nothing in that
            stage, or the artifact is not declared at that commit.
    """
    match = REFERENCE_RE.match(text)
    if match is None:
        return None
    name, version, stage = match["artifact"], match["version"], match["stage"]
    art = registry_state(git_dir).get(name)
    if art is None:
        return None
    assignment = None
    if stage is not None:
        holder = art.stage_holders().get(stage)
        if holder is None:
            raise ArtifactNotFoundError(f"no version of '{name}' is in stage '{stage}'; see: "
                                        f"bale model show {name}")  # fmt: skip
        found = art.owner(holder)
        assignment = holder.authoring
    elif version in ("latest", "greatest"):
        found = art.latest()
        if found is None:
            raise ArtifactNotFoundError(f"'{name}' has no registered version in effect")
    else:
        found = next((v for v in art.versions_in_effect() if v.version == version), None)
        if found is None:
            raise ArtifactNotFoundError(
                f"'{name}' has no version {version} in effect; see: bale model show {name}"
            )
    assert found is not None
    registration = _newest(found.registrations)
    rev = registration.tag if registration is not None else assignment.tag  # type: ignore[union-attr]
    assert rev is not None
    path = declared_path(git_dir, found.commit, name)
    if path is None:
        raise ArtifactNotFoundError(
            f"'{name}' is not declared in the registry's dvc.yaml at {found.commit[:8]} "
            f"({rev}); dvc.yaml's artifacts: must name it with its path"
        )
    return Resolved(name, found.version, path, rev, found.commit)
