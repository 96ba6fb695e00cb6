"""repo/config_edit.py: config and remote edits over levels, checked before
anything is written, returning records."""

from __future__ import annotations

from pathlib import Path

import pytest

from bale.errors import ConfigError, NotARepoError
from bale.repo import config_edit as edit
from bale.repo.config import shown_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "r" / ".dvc").mkdir(parents=True)
    return tmp_path / "r"


def files(root: Path) -> dict[str, str]:
    found = {}
    for name in ("config", "config.local"):
        if (root / ".dvc" / name).exists():
            found[name] = (root / ".dvc" / name).read_text()
    return found


def test_levels_outside_a_repository(tmp_path: Path):
    levels = edit.levels_at(str(tmp_path))
    assert set(levels.paths) == {"system", "global"}
    with pytest.raises(NotARepoError):
        edit.set_option(levels, "core.autostage", "true")
    with pytest.raises(NotARepoError):
        edit.levels_at(str(tmp_path), "local")


def test_options_set_get_list_and_unset(root: Path):
    levels = edit.levels_at(str(root))
    edit.set_option(levels, "core.remote", "shared")
    edit.set_option(levels, "remote.s.url", "s3://bucket/p")
    edit.set_option(edit.levels_at(str(root), "local"), "remote.s.secret_access_key", "k")
    assert edit.get_option(levels, "core.remote") == edit.Option(
        "core.remote", "shared", str(root / ".dvc" / "config"), False
    )
    assert [(o.name, o.secret) for o in edit.list_options(levels)] == [
        ("core.remote", False),
        ("remote.s.url", False),
        ("remote.s.secret_access_key", True),
    ]
    edit.unset_option(levels, "core.remote")
    with pytest.raises(ConfigError, match=r"'core\.remote' is not set"):
        edit.get_option(levels, "core.remote")
    with pytest.raises(ConfigError, match=r"'core\.bogus' is not a config option"):
        edit.get_option(levels, "core.bogus")
    with pytest.raises(ConfigError, match=r"'core\.remote' is not set in"):
        edit.unset_option(levels, "core.remote")


def test_a_refused_edit_writes_nothing_and_says_what(root: Path):
    levels = edit.levels_at(str(root))
    edit.add_remote(levels, "s3r", "s3://bucket/p")
    before = files(root)
    for call, message in (
        (lambda: edit.set_option(levels, "core.no_scm", "yes"), "no_scm must be true or false"),
        (lambda: edit.modify_remote(levels, "s3r", "keyfile", "k"), "not a remote option for s3"),
        (lambda: edit.modify_remote(levels, "s3r", "url", "ssh://h:abc/p"), "port 'abc'"),
        (lambda: edit.add_remote(levels, "s3r", "/x"), "'s3r' already exists"),
    ):
        with pytest.raises(ConfigError, match=message) as info:
            call()
        assert "; run:" not in str(info.value)  # the value given is the problem
        assert files(root) == before


def test_changing_a_url_refuses_options_the_new_scheme_does_not_take(root: Path):
    levels = edit.levels_at(str(root))
    edit.add_remote(levels, "r", "s3://bucket/p")
    edit.modify_remote(edit.levels_at(str(root), "local"), "r", "region", "eu-west-1")
    with pytest.raises(ConfigError) as info:
        edit.modify_remote(levels, "r", "url", "ssh://host/p")
    assert str(info.value).endswith(
        "'region' is not a remote option for ssh remotes; they take: "
        "allow_agent, ask_passphrase, ask_password, checksum_jobs, gss_auth, jobs, keyfile, "
        "max_sessions, no_traverse, passphrase, password, port, timeout, type, url, user, "
        "verify, version_aware, worktree; run: bale remote modify --local -u r region"
    )


def test_an_edit_may_leave_a_problem_it_did_not_make(root: Path):
    """So that a broken file can be fixed one command at a time."""
    (root / ".dvc" / "config").write_text("[core]\n    remot = x\n    no_scm = maybe\n")
    levels = edit.levels_at(str(root))
    edit.set_option(levels, "core.autostage", "true")
    edit.unset_option(levels, "core.remot")
    edit.set_option(levels, "core.no_scm", "false")
    assert edit.config_problems(levels) == []
    assert files(root) == {"config": "[core]\n    no_scm = false\n    autostage = true\n"}


def test_remove_and_rename_follow_the_default_and_config_local(root: Path):
    levels, local = edit.levels_at(str(root)), edit.levels_at(str(root), "local")
    assert edit.add_remote(levels, "Store", "/srv/x", default=True) == "store"
    edit.modify_remote(local, "store", "jobs", "4")
    edit.set_default_remote(local, "store")
    edit.rename_remote(levels, "STORE", "Other")
    assert files(root) == {
        "config": "[core]\n    remote = Other\n['remote \"Other\"']\n    url = /srv/x\n",
        "config.local": "[core]\n    remote = Other\n['remote \"Other\"']\n    jobs = 4\n",
    }
    assert edit.list_remotes(levels) == [edit.RemoteInfo("other", "/srv/x", True, None)]
    edit.remove_remote(levels, "other")
    assert files(root) == {"config": "", "config.local": ""}
    with pytest.raises(ConfigError, match=r"remote 'other' does not exist \(known: none\)"):
        edit.remove_remote(levels, "other")


def test_list_remotes_marks_an_invalid_one(root: Path):
    (root / ".dvc" / "config").write_text("['remote \"s\"']\n    url = ssh://host:abc/p\n")
    [info] = edit.list_remotes(edit.levels_at(str(root)))
    assert info.url == "ssh://host:abc/p"
    assert info.problem == (
        f"{shown_path(str(root / '.dvc' / 'config'))}: remote.s.url 'ssh://host:abc/p': "
        "port 'abc' is not a number from 1 to 65535; run: bale remote modify s url URL"
    )
