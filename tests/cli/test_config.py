"""`bale config`: DVC's INI files, edited without losing what bale does not know."""

from __future__ import annotations

import os
from pathlib import Path

WRITTEN_BY_DVC = """[core]
    remote = storage
# a comment
[feature]
    plots = true
[cache]
    type = "reflink,hardlink"
['remote "storage"']
    url = /srv/x
    Weird_Key = 1
[unknown_sect]
    foo = bar
"""


def test_set_keeps_every_other_section_key_and_comment(repo: Path, bale):
    config = repo / ".dvc" / "config"
    config.write_text(WRITTEN_BY_DVC)
    bale("config", "core.autostage", "true", cwd=repo)
    assert config.read_text() == WRITTEN_BY_DVC.replace(
        "    remote = storage\n", "    remote = storage\n    autostage = true\n"
    )
    bale("config", "--unset", "core.autostage", cwd=repo)
    assert config.read_text() == WRITTEN_BY_DVC


def test_get_set_and_list(repo: Path, bale):
    bale("config", "core.remote", "storage", cwd=repo)
    bale("config", "cache.type", "hardlink,symlink", cwd=repo)
    assert (repo / ".dvc" / "config").read_text() == (
        '[core]\n    remote = storage\n[cache]\n    type = "hardlink,symlink"\n'
    )
    assert bale("config", "core.remote", cwd=repo).stdout == "storage\n"
    assert bale("config", "-l", cwd=repo).stdout.splitlines() == [
        "cache.type=hardlink,symlink",
        "core.remote=storage",
    ]


def test_local_and_global_levels(repo: Path, bale):
    bale("config", "core.remote", "shared", cwd=repo)
    bale("config", "--local", "core.remote", "mine", cwd=repo)
    assert (repo / ".dvc" / "config.local").read_text() == "[core]\n    remote = mine\n"
    assert (repo / ".dvc" / "config").read_text() == "[core]\n    remote = shared\n"
    assert bale("config", "core.remote", cwd=repo).stdout == "mine\n"  # local wins
    assert bale("config", "--project", "core.remote", cwd=repo).stdout == "shared\n"

    bale("config", "--global", "core.check_update", "false", cwd=repo)
    global_file = Path(os.environ["XDG_CONFIG_HOME"]) / "dvc" / "config"
    assert global_file.read_text() == "[core]\n    check_update = false\n"
    assert "core.check_update=false" in bale("config", "-l", cwd=repo).stdout.splitlines()
    # config.local is git-ignored by .dvc/.gitignore: secrets stay out of git.
    assert "/config.local" in (repo / ".dvc" / ".gitignore").read_text().splitlines()


def test_values_are_written_as_dvc_writes_them(repo: Path, bale):
    # Bytes from dvc 3.67.1 for the same three commands.
    bale("config", "core.autostage", "True", cwd=repo)
    bale("config", "core.checksum_jobs", "4", cwd=repo)
    bale("config", "cache.type", "hardlink, symlink", cwd=repo)
    assert (repo / ".dvc" / "config").read_text() == (
        "[core]\n    autostage = True\n    checksum_jobs = 4\n"
        '[cache]\n    type = "hardlink, symlink"\n'
    )


def test_show_origin_names_the_file(repo: Path, bale):
    bale("config", "core.remote", "shared", cwd=repo)
    bale("config", "--local", "cache.type", "copy", cwd=repo)
    # What dvc 3.67.1 prints for the same settings.
    assert bale("config", "--show-origin", "core.remote", cwd=repo).stdout == (
        ".dvc/config\tshared\n"
    )
    assert bale("config", "--show-origin", "cache.type", cwd=repo).stdout == (
        ".dvc/config.local\tcopy\n"
    )
