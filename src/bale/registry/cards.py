"""Cards: `<entry>.card.md` beside each entry, Markdown with an optional YAML
front matter (Hugging Face's dataset and model card keys where they fit).

A folder's `template.card.md` makes new cards there and says that its
entries need one; `bale.yaml` may say so too, with the fields they must
fill. The title is the first `# ` heading and names the entry
(`# Card: <entry name>` is the registry convention).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from bale.registry.entries import Entry
from bale.registry.settings import NO_SETTINGS, SETTINGS_FILE, Settings, parse_settings
from bale.view.repoview import RepoView

CARD_SUFFIX = ".card.md"
TEMPLATE = "template.card.md"
MAX_CARD = 1 << 20  # a card is prose; a bigger file is refused, not parsed
DEFAULT_TEMPLATE = """\
---
pretty_name: {{ name }}
---
# Card: {{ name }}

- size: {{ size }}
- files: {{ files }}
- source: {{ source }}

## Description

What this {{ kind }} is, where it comes from, and how it may be used.
"""
_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def default_template(required: Iterable[str]) -> str:
    """DEFAULT_TEMPLATE with an empty line for each field the folder's cards
    must fill, so a new card shows what `card check` will ask for."""
    blanks = "".join(f"{field}:\n" for field in required if field != "pretty_name")
    return DEFAULT_TEMPLATE.replace("---\n# Card", blanks + "---\n# Card", 1)


class CardError(ValueError):
    """Why a card cannot be read (one problem, no path)."""


class Card(NamedTuple):
    front: dict[str, Any]
    title: str | None


class Problem(NamedTuple):
    path: str  # the card or entry it is about
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def card_path(entry_path: str) -> str:
    return entry_path + CARD_SUFFIX


def parse_card(text: str) -> Card:
    """Raises CardError: the front matter is not closed, not YAML, or not a mapping."""
    import yaml

    front: Any = {}
    body = text
    if text.startswith("---\n") or text.startswith("---\r\n"):
        match = re.search(r"^---[ \t]*\r?$", text[4:], re.MULTILINE)
        if match is None:
            raise CardError("its front matter has no closing '---' line")
        try:
            front = yaml.safe_load(text[4 : 4 + match.start()])
        except (yaml.YAMLError, RecursionError) as exc:  # RecursionError: nested too deep
            mark = getattr(exc, "problem_mark", None)
            line = f" (line {mark.line + 2})" if mark else ""
            raise CardError(f"its front matter is not valid YAML{line}") from exc
        front = front or {}
        if not isinstance(front, dict):
            raise CardError("its front matter must be a mapping of fields")
        body = text[4 + match.end() :]
    title = next((line[2:].strip() for line in body.splitlines() if line.startswith("# ")), None)
    return Card(front, title)


def render(template: str, fields: dict[str, str]) -> str:
    """`{{ name }}` and the like replaced; unknown names are left as written."""
    return _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), template)


def fields_of(entry: Entry) -> dict[str, str]:
    return {
        "name": posixpath.basename(entry.path),
        "path": entry.path,
        "kind": entry.kind,
        "size": _size(entry.size),
        "files": "unknown" if entry.files is None else str(entry.files),
        "source": entry.source,
    }


def _size(size: int | None) -> str:
    if size is None:
        return "unknown"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError


def settings_of(view: RepoView) -> Settings:
    """The rules of every root's `bale.yaml` (beside its `.dvc/`), their
    folders named from the view's top (none: no folder rules).

    Raises:
        ConfigError: one is malformed.
    """
    folders = {}
    for root in view.roots():
        path = posixpath.join(root, SETTINGS_FILE) if root else SETTINGS_FILE
        if path in view.tree.files():
            text = view.tree.read(path).decode("utf-8", "replace")
            found = parse_settings(text, path).folders
            folders.update({posixpath.join(root, f) if root and f else f or root: rules
                            for f, rules in found.items()})  # fmt: skip
    return Settings(folders) if folders else NO_SETTINGS


def needs_card(entry: Entry, settings: Settings, files: Iterable[str]) -> bool:
    rules = settings.rules_for(entry.path)
    if rules is not None and rules.card:
        return True
    template = posixpath.join(posixpath.dirname(entry.path), TEMPLATE)
    return template in files


def check(view: RepoView, entries: list[Entry], settings: Settings) -> list[Problem]:
    """Every problem of the view's cards, one per line to print."""
    files = view.tree.files()
    problems: list[Problem] = []
    by_card = {card_path(e.path): e for e in entries}
    for entry in entries:
        path = card_path(entry.path)
        if path not in files:
            if needs_card(entry, settings, files):
                problems.append(
                    Problem(entry.path, f"has no card; run: bale card new {entry.path}")
                )
            continue
        problems += _check_card(view, path, entry, settings)
    for path in files:
        orphan = path not in by_card and posixpath.basename(path) != TEMPLATE
        orphan = orphan and not settings.ignored(path)
        if path.endswith(CARD_SUFFIX) and orphan:
            problems.append(Problem(path, "is a card without an entry; remove it, or "
                                        "track the entry it describes"))  # fmt: skip
    return sorted(problems)


def _check_card(view: RepoView, path: str, entry: Entry, settings: Settings) -> list[Problem]:
    data = view.tree.read(path)
    if len(data) > MAX_CARD:
        return [Problem(path, f"is larger than {MAX_CARD} bytes; a card is prose, keep it short")]
    try:
        card = parse_card(data.decode("utf-8"))
    except UnicodeDecodeError:
        return [Problem(path, "is not UTF-8 text")]
    except CardError as exc:
        return [Problem(path, f"{exc}; fix it")]
    name = posixpath.basename(entry.path)
    found = []
    if card.title is None or name not in card.title:
        found.append(Problem(path, f"its title (the first '# ' line) must name '{name}', "
                             f"like: # Card: {name}"))  # fmt: skip
    rules = settings.rules_for(entry.path)
    for field in rules.required if rules else ():
        if card.front.get(field) in (None, "", [], {}):
            found.append(Problem(path, f"field '{field}' is required in "
                                 f"{posixpath.dirname(entry.path) or '.'}; fill it in the "
                                 "front matter"))  # fmt: skip
    return found
