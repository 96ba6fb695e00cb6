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

The file comes from the repository being read: it is checked, never run.
"""

from __future__ import annotations

import posixpath
from typing import Any, NamedTuple

from bale.errors import ConfigError

SETTINGS_FILE = "bale.yaml"
KINDS = ("dataset", "model")


class FolderRules(NamedTuple):
    kind: str | None
    card: bool  # entries here need a card
    required: tuple[str, ...]  # front-matter fields each card must fill


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

    def kind_of(self, path: str) -> str:
        rules = self.rules_for(path)
        return (rules.kind if rules else None) or "dataset"


NO_SETTINGS = Settings({})


def parse_settings(text: str, origin: str = SETTINGS_FILE) -> Settings:
    """Raises ConfigError naming the file and the key when it is malformed."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
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
    return Settings({_folder(name, origin): _rules(name, rules, origin)
                     for name, rules in folders.items()})  # fmt: skip


def _folder(name: Any, origin: str) -> str:
    path = posixpath.normpath(str(name).strip("/"))
    if posixpath.isabs(str(name)) or path == ".." or path.startswith("../") or "\0" in path:
        raise ConfigError(f"{origin}: folder '{name}' is outside the repository; name one inside")
    return "" if path == "." else path


def _rules(name: Any, rules: Any, origin: str) -> FolderRules:
    where = f"{origin}: folders.{name}"
    if rules is None:
        rules = {}
    if not isinstance(rules, dict) or set(rules) - {"kind", "card"}:
        raise ConfigError(f"{where}: only 'kind' and 'card' may be set")
    kind = rules.get("kind")
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"{where}.kind: '{kind}' is not one of {', '.join(KINDS)}")
    card = rules.get("card")
    if card is None:
        return FolderRules(kind, False, ())
    if card is True:
        card = {}
    if not isinstance(card, dict) or set(card) - {"required"}:
        raise ConfigError(f"{where}.card: only 'required: [field, ...]' may be set")
    required = card.get("required") or []
    if not isinstance(required, list) or not all(isinstance(f, str) for f in required):
        raise ConfigError(f"{where}.card.required: must be a list of field names")
    return FolderRules(kind, True, tuple(required))
