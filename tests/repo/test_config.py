"""repo/config.py: reading files as dvc reads them, merging levels, the one
message shape, and editing a file while keeping what the edit does not touch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bale.errors import ConfigError
from bale.repo.config import ConfigFile, describe, load_paths, parse_name, read_file
from bale.repo.schema import Problem


def test_names_and_keys_are_lower_cased_as_dvc_reads_them(tmp_path: Path):
    path = tmp_path / "config"
    path.write_text("[Core]\n    Remote = MyStore\n['Remote \"MyStore\"']\n    URL = /srv/x\n")
    assert read_file(str(path)) == {
        ("core", None): {"remote": "MyStore"},
        ("remote", "mystore"): {"url": "/srv/x"},
    }
    config = load_paths({"repo": str(path)})
    assert config.get("core", "remote") == "mystore"  # dvc's Lower
    assert list(config.remotes()) == ["mystore"]


@pytest.mark.parametrize(
    "text",
    ["[core]\nremote = a\n[core]\nremote = b\n", "[core]\nremote = a\nremote = b\n"],
    ids=["section", "key"],
)
def test_a_repeated_section_or_key_is_refused_as_configobj_refuses_it(tmp_path: Path, text):
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(ConfigError, match="cannot parse config"):
        read_file(str(path))


def test_a_nested_section_is_refused(tmp_path: Path):
    path = tmp_path / "config"
    path.write_text("[core]\n    remote = a\n    [[sub]]\n    x = 1\n")
    with pytest.raises(ConfigError, match=r"nested section \[\[sub\]\]"):
        read_file(str(path))


def test_relative_paths_are_relative_to_their_file(tmp_path: Path):
    (tmp_path / "dvc").mkdir()
    path = tmp_path / "dvc" / "config"
    path.write_text(
        "[cache]\n    dir = ../cache\n[state]\n    dir = st\n"
        "['remote \"r\"']\n    url = ../store\n    keyfile = k\n"
    )
    config = load_paths({"repo": str(path)}, check=False)  # (a folder takes no keyfile)
    assert config.get("cache", "dir") == str(tmp_path / "cache")
    assert config.get("state", "dir") == "st"  # dvc leaves this one as written
    assert config.remotes()["r"] == {
        "url": str(tmp_path / "store"),
        "keyfile": str(tmp_path / "dvc" / "k"),
    }


def test_load_checks_every_level_and_names_the_file(tmp_path: Path):
    repo, local = tmp_path / "config", tmp_path / "config.local"
    repo.write_text("['remote \"s3r\"']\n    url = s3://bucket/p\n")
    local.write_text("[core]\n    no_scm = maybe\n")
    paths = {"repo": str(repo), "local": str(local)}
    with pytest.raises(ConfigError) as info:
        load_paths(paths)
    assert str(info.value) == (
        f"{local}: core.no_scm must be true or false, not 'maybe'; "
        "run: bale config --local core.no_scm VALUE"
    )
    assert load_paths(paths, check=False).messages() == [str(info.value)]


def test_a_remotes_problem_is_kept_for_the_commands_that_use_it(tmp_path: Path):
    repo, local = tmp_path / "config", tmp_path / "config.local"
    repo.write_text("['remote \"s3r\"']\n    url = s3://bucket/p\n")
    local.write_text("['remote \"s3r\"']\n    keyfile = id_rsa\n")
    config = load_paths({"repo": str(repo), "local": str(local)})
    message = config.remote_problem("s3r") or ""
    assert message.startswith(f"{local}: 'keyfile' is not a remote option for s3 remotes")
    assert message.endswith("; run: bale remote modify --local -u s3r keyfile")
    assert config.messages() == [message]


def test_cache_dir_may_be_missing_but_not_a_file(tmp_path: Path):
    path = tmp_path / "config"
    path.write_text("[cache]\n    dir = not-yet\n")
    assert load_paths({"repo": str(path)}).get("cache", "dir") == str(tmp_path / "not-yet")
    (tmp_path / "afile").write_text("")
    for value, problem in (("afile", "is a file, not a folder"), ("afile/sub", "lies under")):
        path.write_text(f"[cache]\n    dir = {value}\n")
        with pytest.raises(ConfigError, match=problem):
            load_paths({"repo": str(path)})


@pytest.mark.parametrize(
    ("problem", "fix"),
    [
        (Problem("core", None, "remot", "t", True, "repo"), "run: bale config --unset core.remot"),
        (Problem("core", None, "no_scm", "t", False, "global"),
         "run: bale config --global core.no_scm VALUE"),
        (Problem("junk", None, None, "t", True, "repo"), "fix or remove that section"),
        (Problem("remote", "s", "url", "t", False, "local"),
         "run: bale remote modify --local s url URL"),
        (Problem("remote", "s", "keyfile", "t", True, "repo"),
         "run: bale remote modify -u s keyfile"),
        (Problem("remote", "s", "port", "t", False, "system"),
         "run: bale remote modify --system s port VALUE"),
    ],
)  # fmt: skip
def test_each_message_names_the_file_and_the_command_that_fixes_it(problem, fix):
    path = os.path.join(os.getcwd(), ".dvc", "config")
    assert describe(problem, path) == f"{os.path.join('.dvc', 'config')}: t; {fix}"
    assert describe(problem, "/etc/dvc/config", setting=True) == "/etc/dvc/config: t"


def test_parse_name():
    assert parse_name("Core.Remote") == ("core", None, "remote")
    assert parse_name("remote.MyStore.URL") == ("remote", "mystore", "url")
    with pytest.raises(ConfigError, match="not a config name"):
        parse_name("core")


def test_edits_keep_what_they_do_not_touch(tmp_path: Path):
    path = tmp_path / "config"
    text = "# top\n[Core]\n    Remote = a    # why\n['remote \"A\"']\n    URL = /x\n    Jobs = 2\n"
    path.write_text(text)
    edited = ConfigFile(str(path))
    edited.set("core", None, "autostage", "true")
    edited.set("cache", None, "type", "reflink,copy")
    assert edited.unset("remote", "a", "jobs")
    assert not edited.unset("remote", "a", "nothing")
    edited.write()
    assert path.read_text() == (
        "# top\n[Core]\n    Remote = a    # why\n    autostage = true\n"
        '[cache]\n    type = "reflink,copy"\n[\'remote "A"\']\n    URL = /x\n'
    )
    assert edited.remove("remote", "a") and not edited.remove("remote", "a")


def test_a_file_that_cannot_be_written_is_named_not_its_temporary(tmp_path: Path):
    folder = tmp_path / "not-a-folder"
    folder.write_text("")
    edited = ConfigFile(str(folder / "config"))
    edited.set("core", None, "autostage", "true")
    with pytest.raises(ConfigError) as info:
        edited.write()
    assert str(info.value).startswith(f"cannot write {folder / 'config'}: ")
    assert ".tmp" not in str(info.value)
