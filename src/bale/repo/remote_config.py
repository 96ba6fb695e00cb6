"""Which remote a command uses and with what options."""

from __future__ import annotations

from typing import NamedTuple

from bale.errors import ConfigError
from bale.repo.repository import Repo


class RemoteSpec(NamedTuple):
    name: str
    url: str
    options: dict[str, str]


def remote_spec(repo: Repo, name: str | None = None) -> RemoteSpec:
    """The named remote, or the default (`core.remote`).

    Raises:
        ConfigError: no such remote, no default, or no url.
    """
    remotes = repo.config.remotes()
    if name is None:
        name = repo.config.get("core", "remote")
        if not name:
            raise ConfigError(
                "no remote given and no default remote set; "
                "run: bale remote add -d NAME URL (or pass -r NAME)"
            )
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise ConfigError(f"remote '{name}' does not exist (known: {known}); run: bale remote list")
    options = dict(remotes[name])
    url = options.pop("url", "")
    if not url:
        raise ConfigError(
            f"remote '{name}' has no url (.dvc/config); run: bale remote modify {name} url URL"
        )
    return RemoteSpec(name, url, options)
