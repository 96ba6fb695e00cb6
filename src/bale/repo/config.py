"""DVC's config files: `.dvc/config`, `.dvc/config.local`, global and system.

Files are configobj INI, read and written as DVC does: named sections look
like `['remote "name"']`, keys are lower-cased, values with commas quoted.
Rewriting a file keeps every section and key bale does not know.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from bale.errors import ConfigError
from bale.fsutil import atomic_write

LEVELS = ("system", "global", "repo", "local")
_NAMED = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')
# Keys whose relative values are relative to the config file's folder.
PATH_KEYS = frozenset(
    {
        "url", "dir", "credentialpath", "configpath", "keyfile", "cert_path", "key_path",
        "gdrive_service_account_json_file_path", "gdrive_user_credentials_file",
    }
)  # fmt: skip
SECRET_KEYS = frozenset(
    {
        "password", "secret_access_key", "session_token", "access_key_id", "account_key",
        "sas_token", "connection_string", "client_secret", "token", "key_passphrase",
        "gdrive_client_secret", "ask_password",
    }
)  # fmt: skip


def level_paths(dvc_dir: str | None) -> dict[str, str]:
    """Where each level's file lives; env overrides as DVC honours them."""
    home_cfg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    paths = {
        "system": os.path.join(os.environ.get("DVC_SYSTEM_CONFIG_DIR", "/etc/xdg/dvc"), "config"),
        "global": os.path.join(
            os.environ.get("DVC_GLOBAL_CONFIG_DIR", os.path.join(home_cfg, "dvc")), "config"
        ),
    }
    if dvc_dir:
        paths["repo"] = os.path.join(dvc_dir, "config")
        paths["local"] = os.path.join(dvc_dir, "config.local")
    return paths


_SECTION = re.compile(r"^\[\s*(?:'([^'\[\]]*)'|\"([^\"\[\]]*)\"|([^'\"\[\]]*?))\s*\]$")
_KEY = re.compile(r"^([A-Za-z0-9_.-]+)\s*=\s*(.*)$")


def _read_simple(path: str) -> dict[str, dict[str, str]] | None:
    """Read the plain INI DVC writes without importing configobj (start-up
    time); None for anything fancier, which configobj then reads."""
    with open(path, encoding="utf-8") as fobj:
        text = fobj.read()
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SECTION.match(line)
        if match:
            current = sections.setdefault(next(g for g in match.groups() if g is not None), {})
            continue
        match = _KEY.match(line)
        if match is None or current is None:
            return None
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
            if "'" in value or '"' in value:
                return None
        elif any(c in value for c in ",#'\""):
            return None
        current[key] = value
    return sections


def _load_obj(path: str) -> Any:
    from configobj import ConfigObj, ConfigObjError

    try:
        return ConfigObj(path, encoding="utf-8", interpolation=False, write_empty_values=True)
    except (ConfigObjError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: cannot parse config ({exc}); fix the file") from exc


def section_key(name: str) -> tuple[str, str | None]:
    """`remote "s3"` -> ("remote", "s3"); `core` -> ("core", None)."""
    match = _NAMED.match(name)
    if match:
        return match.group(1).lower(), match.group(2)
    return name.strip().lower(), None


def _section_name(kind: str, name: str | None) -> str:
    return f'{kind} "{name}"' if name is not None else kind


def _as_str(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


class Config:
    """The merged view of all levels; `sources` tells which file set a key."""

    def __init__(
        self,
        values: dict[tuple[str, str | None], dict[str, str]],
        sources: dict[tuple[str, str | None, str], str],
    ) -> None:
        self.values = values
        self.sources = sources

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        return self.values.get((section, None), {}).get(key, default)

    def get_bool(self, section: str, key: str, default: bool = False) -> bool:
        value = self.get(section, key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off", ""):
            return False
        raise ConfigError(f"{section}.{key} must be true or false, not {value!r}")

    def remotes(self) -> dict[str, dict[str, str]]:
        return {
            name: opts for (kind, name), opts in self.values.items() if kind == "remote" and name
        }

    def items(self) -> Iterator[tuple[str, str]]:
        """Every `section.key`, `remote.NAME.key` with its value."""
        for (kind, name), opts in sorted(
            self.values.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            for key, value in opts.items():
                yield (f"{kind}.{name}.{key}" if name is not None else f"{kind}.{key}"), value


def load_config(dvc_dir: str | None, *, levels: tuple[str, ...] = LEVELS) -> Config:
    """Merge the levels, lowest precedence first; relative paths made absolute."""
    values: dict[tuple[str, str | None], dict[str, str]] = {}
    sources: dict[tuple[str, str | None, str], str] = {}
    for level, path in level_paths(dvc_dir).items():
        if level not in levels or not os.path.exists(path):
            continue
        obj = _read_simple(path)
        if obj is None:
            obj = _load_obj(path)
        base = os.path.dirname(path)
        for sec_name, section in obj.items():
            if not isinstance(section, dict):
                continue
            kind, name = section_key(sec_name)
            merged = values.setdefault((kind, name), {})
            for key, value in section.items():
                if isinstance(value, dict):
                    continue
                key = key.lower()
                text = _as_str(value)
                if key in PATH_KEYS and text and _is_relative_path(text):
                    text = os.path.normpath(os.path.join(base, text))
                merged[key] = text
                sources[(kind, name, key)] = level
    return Config(values, sources)


def load_file(path: str) -> dict[tuple[str, str | None], dict[str, str]]:
    """One config file's sections, values as written (no path resolution)."""
    values: dict[tuple[str, str | None], dict[str, str]] = {}
    if not os.path.exists(path):
        return values
    for sec_name, section in _load_obj(path).items():
        if isinstance(section, dict):
            values[section_key(sec_name)] = {
                k.lower(): _as_str(v) for k, v in section.items() if not isinstance(v, dict)
            }
    return values


def stored_path(value: str, config_path: str) -> str:
    """A relative folder path as written into `config_path`: relative to that
    file's folder, as DVC stores it (given relative to the current folder)."""
    if not value or not _is_relative_path(value):
        return value
    return os.path.relpath(os.path.abspath(value), os.path.dirname(config_path))


def _is_relative_path(value: str) -> bool:
    return "://" not in value and not os.path.isabs(value) and not value.startswith("~")


def parse_name(name: str) -> tuple[str, str | None, str]:
    """`core.remote` -> (core, None, remote); `remote.s3.url` -> (remote, s3, url)."""
    parts = name.split(".")
    if len(parts) == 2 and all(parts):
        return parts[0].lower(), None, parts[1].lower()
    if len(parts) >= 3 and parts[0].lower() in ("remote", "machine", "db") and all(parts):
        return parts[0].lower(), ".".join(parts[1:-1]), parts[-1].lower()
    raise ConfigError(
        f"'{name}' is not a config name; use SECTION.KEY (e.g. core.remote) or remote.NAME.OPTION"
    )


def edit_config(
    path: str,
    edits: list[tuple[str, str | None, str, str | None]],
    *,
    keep_empty: bool = False,
) -> None:
    """Apply (kind, name, key, value-or-None-to-unset) edits to one file atomically.

    Sections and keys not named in `edits` are kept as they were; a section an
    unset empties goes, unless `keep_empty` (what `remote modify -u` does in dvc).
    A new plain section goes before the named ones, where dvc writes it.
    """
    obj = _load_obj(path) if os.path.exists(path) else _load_obj_empty()
    for kind, name, key, value in edits:
        sec = _find_section(obj, kind, name)
        if value is None:
            if sec is not None and key in obj[sec]:
                del obj[sec][key]
                if not obj[sec] and not keep_empty:
                    del obj[sec]
            continue
        if sec is None:
            sec = _section_name(kind, name)
            obj[sec] = {}
            if name is None:
                _move_before_named(obj, sec)
        obj[sec][key] = value
    write_obj(path, obj)


def _move_before_named(obj: Any, sec: str) -> None:
    order = [s for s in obj.sections if s != sec]
    first_named = next((i for i, s in enumerate(order) if section_key(s)[1] is not None), None)
    if first_named is not None:
        order.insert(first_named, sec)
        obj.sections[:] = order


def rename_section(path: str, kind: str, old: str, new: str) -> bool:
    if not os.path.exists(path):
        return False
    obj = _load_obj(path)
    sec = _find_section(obj, kind, old)
    if sec is None:
        return False
    obj.rename(sec, _section_name(kind, new))
    write_obj(path, obj)
    return True


def remove_section(path: str, kind: str, name: str) -> bool:
    if not os.path.exists(path):
        return False
    obj = _load_obj(path)
    sec = _find_section(obj, kind, name)
    if sec is None:
        return False
    del obj[sec]
    write_obj(path, obj)
    return True


def _load_obj_empty() -> Any:
    from configobj import ConfigObj

    return ConfigObj(encoding="utf-8", interpolation=False, write_empty_values=True)


def _find_section(obj: Any, kind: str, name: str | None) -> str | None:
    for sec_name in obj:
        if section_key(sec_name) == (kind, name):
            return sec_name
    return None


def write_obj(path: str, obj: Any) -> None:
    obj.filename = None
    if not obj.indent_type:
        obj.indent_type = "    "  # what DVC's files use
    lines = [ln.decode("utf-8") if isinstance(ln, bytes) else ln for ln in obj.write()]
    text = "\n".join(lines) + "\n" if lines else ""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write(path, text.encode("utf-8"))
