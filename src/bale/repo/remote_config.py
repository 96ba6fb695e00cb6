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
        ConfigError: no such remote, no default, or one its config breaks.
    """
    remotes = repo.config.remotes()
    if name is None:
        name = repo.config.get("core", "remote")
        if not name:
            raise ConfigError(
                "no remote given and no default remote set; "
                "run: bale remote add -d NAME URL (or pass -r NAME)"
            )
    name = name.lower()  # remote names are read lower-cased, as dvc reads them
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise ConfigError(f"remote '{name}' does not exist (known: {known}); run: bale remote list")
    problem = repo.config.remote_problem(name)  # found as the config was read
    if problem:
        raise ConfigError(problem)
    options = dict(remotes[name])
    url = options.pop("url")
    return RemoteSpec(name, url, options)
