"""`bale.yaml`: a registry's own conventions, committed at its top.

dvc never reads this file (its config schema refuses sections it does not
know, so they cannot live in `.dvc/config`). It says, per folder, what kind
of entries it holds and which card fields they must fill:

    folders:
      raw_datasets:
        kind: dataset
        card:
          required: [license, pretty_name]
      champion_models:
        kind: model
        card: {required: [license, base_model]}
        sync: {remote: store, prefix: champions}   # mirrored, not versioned
      experiments:
        ignored: true                              # neither versioned nor synced

A synced folder (an *area*) is mirrored file by file under `prefix` of a
remote of `.dvc/config` (its default when `remote` is not given).

The file comes from the repository being read: it is checked, never run.
"""

from __future__ import annotations

import posixpath
from typing import Any, NamedTuple

from bale.errors import ConfigError

SETTINGS_FILE = "bale.yaml"
KINDS = ("dataset", "model")


class Area(NamedTuple):
    """A synced folder: `folder` mirrored under `prefix` of `remote` (None: the default)."""

    folder: str
    remote: str | None
    prefix: str


class FolderRules(NamedTuple):
    kind: str | None
    card: bool  # entries here need a card
    required: tuple[str, ...]  # front-matter fields each card must fill
    sync: Area | None = None
    ignored: bool = False


class Settings(NamedTuple):
    folders: dict[str, FolderRules]

    def rules_for(self, path: str) -> FolderRules | None:
        """The rules of the deepest declared folder holding `path`."""
        folder = posixpath.dirname(path)
        while True:
            if folder in self.folders:
                return self.folders[folder]
            if not folder:
                return None
            folder = posixpath.dirname(folder)

    def areas(self) -> list[Area]:
        return [r.sync for r in self.folders.values() if r.sync is not None]

    def ignored(self, path: str) -> bool:
        rules = self.rules_for(path + "/x")  # the folder's own rules count
        return rules is not None and rules.ignored

    def kind_of(self, path: str) -> str:
        rules = self.rules_for(path)
        return (rules.kind if rules else None) or "dataset"


NO_SETTINGS = Settings({})


def parse_settings(text: str, origin: str = SETTINGS_FILE) -> Settings:
    """Raises ConfigError naming the file and the key when it is malformed."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:  # RecursionError: nested too deep
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark else origin
        raise ConfigError(f"{where}: not valid YAML; fix the file") from exc
    if data is None:
        return NO_SETTINGS
    if not isinstance(data, dict) or set(data) - {"folders"}:
        raise ConfigError(f"{origin}: the top level holds only 'folders:'; see bale card -h")
    folders = data.get("folders") or {}
    if not isinstance(folders, dict):
        raise ConfigError(f"{origin}: 'folders' must map folder paths to their rules")
    parsed = {_folder(name, origin): _rules(name, rules, origin) for name, rules in folders.items()}
    _check_areas(parsed, origin)
    return Settings(parsed)


# The remote's own layout (DVC 3 `files/`, the run cache, DVC 2's two-hex
# folders at the top): a synced area there would mix with versioned objects.
_RESERVED = ("files", "runs", "tmp")


def _check_areas(folders: dict[str, FolderRules], origin: str) -> None:
    areas = [r.sync for r in folders.values() if r.sync is not None]
    for area in areas:
        for other in areas:
            if (
                other is not area
                and other.remote == area.remote
                and _overlap(area.prefix, other.prefix)
            ):
                raise ConfigError(f"{origin}: areas '{area.folder}' and '{other.folder}' "
                                  "share a prefix on one remote; give each its own")  # fmt: skip
            if other is not area and _overlap(area.folder, other.folder):
                raise ConfigError(f"{origin}: area '{area.folder}' and area '{other.folder}' "
                                  "overlap; sync one of them")  # fmt: skip


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _folder(name: Any, origin: str) -> str:
    path = posixpath.normpath(str(name).strip("/"))
    if posixpath.isabs(str(name)) or path == ".." or path.startswith("../") or "\0" in path:
        raise ConfigError(f"{origin}: folder '{name}' is outside the repository; name one inside")
    return "" if path == "." else path


def _rules(name: Any, rules: Any, origin: str) -> FolderRules:
    where = f"{origin}: folders.{name}"
    if rules is None:
        rules = {}
    if not isinstance(rules, dict) or set(rules) - {"kind", "card", "sync", "ignored"}:
        raise ConfigError(f"{where}: only 'kind', 'card', 'sync' and 'ignored' may be set")
    kind = rules.get("kind")
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"{where}.kind: '{kind}' is not one of {', '.join(KINDS)}")
    ignored = rules.get("ignored", False)
    if not isinstance(ignored, bool):
        raise ConfigError(f"{where}.ignored: must be true or false")
    sync = None if rules.get("sync") is None else _area(name, rules["sync"], where)
    if ignored and sync is not None:
        raise ConfigError(f"{where}: an ignored folder is not synced; drop one of the two")
    card = rules.get("card")
    if card is None:
        return FolderRules(kind, False, (), sync, ignored)
    if card is True:
        card = {}
    if not isinstance(card, dict) or set(card) - {"required"}:
        raise ConfigError(f"{where}.card: only 'required: [field, ...]' may be set")
    required = card.get("required") or []
    if not isinstance(required, list) or not all(isinstance(f, str) for f in required):
        raise ConfigError(f"{where}.card.required: must be a list of field names")
    return FolderRules(kind, True, tuple(required), sync, ignored)


def _area(name: Any, spec: Any, where: str) -> Area:
    from bale.workspace.index import metadata_problem

    folder = _folder(name, where)
    problem = metadata_problem(folder)
    if problem is not None:
        raise ConfigError(f"{where}: folder '{name}' {problem}; sync another folder")
    if not isinstance(spec, dict) or set(spec) - {"remote", "prefix"} or "prefix" not in spec:
        raise ConfigError(f"{where}.sync: give 'prefix' (and optionally 'remote')")
    remote = spec.get("remote")
    if remote is not None and not isinstance(remote, str):
        raise ConfigError(f"{where}.sync.remote: must be a remote's name")
    raw = str(spec["prefix"])
    prefix = posixpath.normpath(raw.strip("/")) if raw.strip("/") else ""
    first = prefix.split("/")[0]
    two_hex = len(first) == 2 and all(c in "0123456789abcdef" for c in first)
    if (posixpath.isabs(raw) or prefix in ("", ".") or first == ".." or "\0" in raw
            or first in _RESERVED or two_hex):  # fmt: skip
        raise ConfigError(f"{where}.sync.prefix: '{raw}' must be a folder inside the remote, "
                          "apart from its versioned objects (not files/, runs/ or a two-hex "
                          "folder); name one like 'synced/models'")  # fmt: skip
    return Area(folder, remote, prefix)
