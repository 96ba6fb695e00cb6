"""Repositories someone else wrote: `.dvc` files and symlinks that aim at `.git`,
`.dvc` or the whole workspace, outputs two files claim, ignored targets.

Each reproduction here let a command write a git hook, replace a config or
delete the workspace before the one output-path check (`index.checked_out_path`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, snapshot, write_tree

MODEL = "model.bin"  # tracked by the `tracked` fixture: b"\x00\x01model"


def _copy_dvcfile(repo: Path, name: str, path: str) -> None:
    """A copy of model.bin.dvc that names `path` as its output."""
    text = (repo / f"{MODEL}.dvc").read_text()
    (repo / name).write_text(text.replace(f"path: {MODEL}", f"path: {path}"))


HOSTILE = [
    (".git/hooks/post-checkout", "inside .git/"),
    (".git/config", "inside .git/"),
    (".dvc/config", "inside .dvc/"),
    (".", "repository root"),
    ("dd/..", "repository root"),
    ("sub/.git/x", "inside .git/"),
    ("other.dvc", "is a .dvc file"),
    ("dvc.yaml", "pipeline file"),
    ("../outside.txt", "outside the repository"),
]


@pytest.mark.parametrize(("path", "problem"), HOSTILE, ids=[p for p, _ in HOSTILE])
@pytest.mark.parametrize(
    "command", [["checkout"], ["checkout", "-f"], ["status"], ["commit"], ["add", MODEL]]
)
def test_a_dvc_file_naming_metadata_or_the_root_is_refused(
    tracked: Path, tmp_path: Path, bale, path: str, problem: str, command: list[str]
):
    _copy_dvcfile(tracked, "hostile.dvc", path)
    guard = Unchanged(tmp_path)
    line = assert_error(bale(*command, cwd=tracked, ok=False), "hostile.dvc", problem)
    assert "remove this entry" in line
    guard.check()


def test_a_dvc_file_ignored_by_dvcignore_is_refused_naming_the_line(
    tracked: Path, tmp_path: Path, bale
):
    (tracked / ".dvcignore").write_text("# comment\nsecret\n")
    _copy_dvcfile(tracked, "hostile.dvc", "secret/key")
    guard = Unchanged(tmp_path)
    assert_error(
        bale("checkout", "-f", cwd=tracked, ok=False), "hostile.dvc", ".dvcignore:2:secret"
    )
    guard.check()


def test_a_cloned_registry_with_hostile_dvc_files_leaves_git_dvc_and_workspace_alone(
    tracked: Path, tmp_path: Path, bale, git
):
    """The attack as it arrives: a clone whose committed `.dvc` files aim at
    `.git/hooks`, `.dvc/config` and the root, with the object on the remote."""
    store = tmp_path / "store"
    bale("remote", "add", "-d", "storage", str(store), cwd=tracked)
    bale("push", cwd=tracked)
    for name, path in [
        ("hook.dvc", ".git/hooks/post-checkout"),
        ("config.dvc", ".dvc/config"),
        ("root.dvc", "."),
    ]:
        _copy_dvcfile(tracked, name, path)
    git("add", "-A", cwd=tracked)
    git("commit", "-qm", "hostile", cwd=tracked)
    victim = tmp_path / "victim"
    git("clone", "-q", str(tracked), str(victim), cwd=tmp_path)
    before = snapshot(victim)
    for command in (["pull"], ["pull", "-f"], ["checkout", "-f"], ["fetch"], ["status"]):
        proc = bale(*command, cwd=victim, ok=False)
        assert_error(proc, ".dvc", "remove this entry")
    assert not (victim / ".git" / "hooks" / "post-checkout").exists()
    assert snapshot(victim) == before  # nothing placed, nothing deleted, no cache made


def test_a_committed_symlink_into_git_is_not_written_through(tracked: Path, tmp_path: Path, bale):
    """git checks a symlink out as committed: `hooks -> .git/hooks` and a
    `.dvc` file naming `hooks/post-checkout` would write a git hook."""
    os.symlink(".git/hooks", tracked / "hooks")
    _copy_dvcfile(tracked, "hooks.dvc", "hooks/post-checkout")
    guard = Unchanged(tmp_path)
    line = assert_error(bale("checkout", "-f", "hooks.dvc", cwd=tracked, ok=False), "symlink")
    assert ".git" in line
    guard.check()


def test_a_symlink_inside_a_tracked_folder_is_not_written_through(
    tracked: Path, tmp_path: Path, bale
):
    """`data/sub` replaced by a symlink to `.git/hooks`: the manifest's
    `sub/c.txt` must not land in `.git/hooks/c.txt`."""
    shutil.rmtree(tracked / "data" / "sub")
    os.symlink("../.git/hooks", tracked / "data" / "sub")
    guard = Unchanged(tmp_path)
    assert_error(bale("checkout", "-f", cwd=tracked, ok=False), "data/sub", "symlink")
    assert not (tracked / ".git" / "hooks" / "c.txt").exists()
    guard.check()


# -- two files, one output ------------------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["checkout"], ["add", "data"], ["commit"]])
def test_two_dvc_files_naming_one_output_are_refused(
    tracked: Path, tmp_path: Path, bale, command: list[str]
):
    sub = tracked / "other"
    sub.mkdir()
    text = (tracked / f"{MODEL}.dvc").read_text()
    (sub / "again.dvc").write_text(text.replace(f"path: {MODEL}", f"path: ../{MODEL}"))
    guard = Unchanged(tmp_path)
    assert_error(
        bale(*command, cwd=tracked, ok=False), f"'{MODEL}'", f"{MODEL}.dvc", "other/again.dvc"
    )
    guard.check()


def test_an_output_inside_another_output_is_refused(tracked: Path, tmp_path: Path, bale):
    text = (tracked / f"{MODEL}.dvc").read_text()
    (tracked / "inner.dvc").write_text(text.replace(f"path: {MODEL}", "path: data/a.txt"))
    guard = Unchanged(tmp_path)
    assert_error(bale("checkout", cwd=tracked, ok=False), "inner.dvc", "inside 'data'", "data.dvc")
    guard.check()


# -- .dvcignore -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["dd", "dd/f.txt"])
def test_add_of_an_ignored_target_names_the_dvcignore_line(
    repo: Path, tmp_path: Path, bale, target: str
):
    (repo / ".dvcignore").write_text("dd\n")
    write_tree(repo, {"dd/f.txt": "1\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("add", target, cwd=repo, ok=False), f"'{target}'", ".dvcignore:1:dd")
    guard.check()
    assert not (repo / "dd.dvc").exists() and not (repo / ".gitignore").exists()


@pytest.mark.parametrize("command", [["status"], ["add", "data"], ["checkout"]])
def test_an_invalid_dvcignore_pattern_is_one_line_naming_it(
    tracked: Path, tmp_path: Path, bale, command: list[str]
):
    (tracked / ".dvcignore").write_text("ok\n\\\n")
    guard = Unchanged(tmp_path)
    assert_error(bale(*command, cwd=tracked, ok=False), ".dvcignore:2", "not a valid pattern")
    guard.check()


# -- add --to-remote checks before it uploads -------------------------------------------------


@pytest.mark.parametrize(
    ("target", "problem"),
    [("tracked.txt", "already tracked by git"), (".", "repository root"), ("nope", "not exist")],
)
def test_add_to_remote_refuses_before_uploading(
    repo: Path, tmp_path: Path, bale, git, target: str, problem: str
):
    write_tree(repo, {"tracked.txt": "in git\n", "data/x.txt": "x\n"})
    git("add", "tracked.txt", cwd=repo)
    store = tmp_path / "store"
    store.mkdir()
    bale("remote", "add", "-d", "storage", str(store), cwd=repo)
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "--to-remote", "data", target, cwd=repo, ok=False), problem)
    guard.check()
    assert not any(store.rglob("*"))  # not even data/ went up


def test_add_to_remote_with_glob_uses_adds_expansion(repo: Path, tmp_path: Path, bale):
    write_tree(repo, {"a1.txt": "1\n", "a2.txt": "2\n"})
    store = tmp_path / "store"
    bale("remote", "add", "-d", "storage", str(store), cwd=repo)
    assert_error(bale("add", "--to-remote", "--glob", "z*", cwd=repo, ok=False), "matches nothing")
    out = bale("add", "--to-remote", "--glob", "a*.txt", cwd=repo).stdout
    assert out.startswith("2 files uploaded")
    assert (repo / "a1.txt.dvc").exists() and (repo / "a2.txt.dvc").exists()
    assert not (repo / ".dvc" / "cache").exists()


def test_a_name_no_gitignore_line_can_hold_is_refused(repo: Path, tmp_path: Path, bale):
    write_tree(repo, {"two\nlines.txt": "x\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "two\nlines.txt", cwd=repo, ok=False), "line break", "rename it")
    guard.check()


def test_trailing_spaces_are_escaped_so_git_ignores_the_output(repo: Path, bale, git):
    write_tree(repo, {"trail  ": "x\n"})
    bale("add", "trail  ", cwd=repo)
    assert (repo / ".gitignore").read_text() == "/trail\\ \\ \n"
    assert git("status", "--porcelain", "--untracked-files=all", cwd=repo).stdout.splitlines() == [
        "?? .gitignore",
        '?? "trail  .dvc"',
    ]


def test_an_unreadable_folder_is_warned_about_and_stops_gc(
    tracked: Path, tmp_path: Path, bale, as_user
):
    locked = tracked / "private"
    locked.mkdir()
    (locked / "x.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: x\n")
    locked.chmod(0)
    try:
        proc = bale("status", cwd=tracked, **as_user)
        assert "WARNING: 'private' cannot be read" in proc.stderr
        before = sorted(p.name for p in (tracked / ".dvc" / "cache").rglob("*"))
        assert_error(
            bale("gc", "-w", "-f", cwd=tracked, ok=False, **as_user),
            "folder 'private' (permission denied)",
            "nothing was deleted",
        )
        assert sorted(p.name for p in (tracked / ".dvc" / "cache").rglob("*")) == before
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("where", ["data/.dvcignore", "data/sub/.dvcignore"])
def test_add_of_a_folder_holding_a_dvcignore_is_refused(repo: Path, tmp_path: Path, bale, where):
    """As dvc refuses it: the rules would change what the folder holds."""
    write_tree(repo, {"data/sub/a.txt": "a\n", where: "*.log\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "data", cwd=repo, ok=False), where, "cannot be inside a tracked")
    guard.check()
