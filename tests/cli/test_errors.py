"""Bad input through the command line: one `ERROR:` line that says what and
where (and the fix), exit 1 (2 for usage), no traceback, nothing half-written
and nothing written outside the workspace.

Every refusal is checked against a snapshot of the whole temporary folder:
the repository, its parent and the folder beside it (`outside`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_cache_valid, assert_error, write_tree

DATA_CMDS = ("status", "checkout", "commit")


def _manifest_object(repo: Path, entries: list[tuple[str, str]]) -> str:
    """Write a `.dir` object by hand (as a hostile cache or remote could) and return its oid."""
    data = json.dumps([{"md5": m, "relpath": r} for r, m in entries], sort_keys=True).encode()
    oid = hashlib.md5(data).hexdigest() + ".dir"
    path = repo / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return oid


# -- add -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_add_outside_the_repository(repo: Path, outside: Path, tmp_path: Path, bale, how):
    target = outside / "secret.txt" if how == "absolute" else "../outside/secret.txt"
    guard = Unchanged(tmp_path)
    assert_error(bale("add", target, cwd=repo, ok=False), "secret.txt", "outside the repository")
    guard.check()


def test_add_of_files_git_tracks(repo: Path, tmp_path: Path, bale, git):
    write_tree(repo, {"code.py": "print()\n", "mixed/a.txt": "a\n", "mixed/b.txt": "b\n"})
    git("add", "code.py", "mixed/a.txt", cwd=repo)
    guard = Unchanged(tmp_path)
    for target in ("code.py", "mixed"):
        line = assert_error(
            bale("add", target, cwd=repo, ok=False), target, "already tracked by git"
        )
        assert "git rm -r --cached" in line  # the fix
    guard.check()


def test_add_of_a_folder_holding_a_tracked_folder(repo: Path, tmp_path: Path, bale):
    write_tree(repo, {"raw/c1/a.txt": "a\n", "raw/c2/b.txt": "b\n"})
    bale("add", "raw/c1", cwd=repo)
    guard = Unchanged(tmp_path)
    line = assert_error(bale("add", "raw", cwd=repo, ok=False), "'raw'", "raw/c1", "raw/c1.dvc")
    assert "bale remove" in line
    guard.check()


def test_add_of_an_output_another_dvc_file_tracks(tracked: Path, tmp_path: Path, bale):
    (tracked / "meta").mkdir()
    (tracked / "meta" / "d.dvc").write_text(
        "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  path: ../data2\n"
    )
    write_tree(tracked, {"data2/z.txt": "z\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "data2", cwd=tracked, ok=False), "data2", "meta/d.dvc")
    guard.check()


def test_add_of_a_missing_target(repo: Path, tmp_path: Path, bale):
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "nope.txt", cwd=repo, ok=False), "'nope.txt' does not exist")
    assert_error(bale("add", "no*.txt", "--glob", cwd=repo, ok=False), "no*.txt", "matches nothing")
    guard.check()


@pytest.mark.parametrize(
    "target", [".", ".dvc", ".dvc/config", ".git", ".git/config"], ids=lambda t: t
)
def test_add_of_the_repository_or_its_metadata(repo: Path, tmp_path: Path, bale, target):
    guard = Unchanged(tmp_path)
    assert_error(bale("add", target, cwd=repo, ok=False), "cannot be tracked")
    guard.check()


def test_add_of_a_dvc_file(tracked: Path, tmp_path: Path, bale):
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "data.dvc", cwd=tracked, ok=False), "data.dvc", "is a .dvc file")
    guard.check()


def test_add_out_with_two_targets_or_an_existing_destination(tracked: Path, tmp_path, bale):
    guard = Unchanged(tmp_path)
    # A wrong command line is a usage error: exit status 2.
    assert_error(bale("add", "data", "model.bin", "-o", "x", cwd=tracked, ok=False), "-o", code=2)
    assert_error(
        bale("add", "model.bin", "-o", "data", cwd=tracked, ok=False), "'data' already exists"
    )
    guard.check()


@pytest.mark.parametrize(
    ("dest", "problem"),
    [(".dvc/stolen.txt", "cannot be tracked"), ("copy.txt.dvc", "is a .dvc file")],
)
def test_add_copy_refused_after_copying_leaves_no_copy(
    repo: Path, outside: Path, tmp_path: Path, bale, dest: str, problem: str
):
    guard = Unchanged(tmp_path)
    proc = bale("add", outside / "secret.txt", "-o", dest, cwd=repo, ok=False)
    assert_error(proc, problem)
    guard.check()


def test_add_names_a_corrupt_dvc_file_elsewhere(tracked: Path, tmp_path: Path, bale):
    (tracked / "data.dvc").write_text("outs: [\n")
    write_tree(tracked, {"new.txt": "n\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "new.txt", cwd=tracked, ok=False), "data.dvc", "not valid YAML")
    guard.check()


def test_add_of_unreadable_targets(repo: Path, tmp_path: Path, bale, as_user):
    write_tree(repo, {"secret.txt": "s\n", "locked/a.txt": "a\n"})
    os.chmod(repo / "secret.txt", 0)
    os.chmod(repo / "locked", 0)
    try:
        guard = Unchanged(tmp_path)
        for target in ("secret.txt", "locked"):
            proc = bale("add", target, cwd=repo, ok=False, **as_user)
            assert_error(proc, target, "not readable", "permissions")
        guard.check()
    finally:
        os.chmod(repo / "locked", 0o755)
        os.chmod(repo / "secret.txt", 0o644)


def test_add_of_a_folder_with_an_unreadable_file(repo: Path, bale, as_user):
    write_tree(repo, {"part/ok.txt": "ok\n", "part/deny.txt": "no\n"})
    os.chmod(repo / "part" / "deny.txt", 0)
    try:
        # Found while hashing: the error names the file; no .dvc, no .gitignore.
        # Objects of the readable files may stay in the cache: they are valid.
        proc = bale("add", "part", cwd=repo, ok=False, **as_user)
        assert_error(proc, "part/deny.txt", "ermission denied")
        assert not (repo / "part.dvc").exists()
        assert not (repo / ".gitignore").exists()
        assert_cache_valid(repo)
    finally:
        os.chmod(repo / "part" / "deny.txt", 0o644)


# -- status, checkout, commit ----------------------------------------------------------------


def test_missing_untracked_and_outside_targets(tracked: Path, outside: Path, tmp_path, bale):
    write_tree(tracked, {"plain.txt": "p\n"})
    guard = Unchanged(tmp_path)
    for cmd in DATA_CMDS:
        assert_error(bale(cmd, "nope", cwd=tracked, ok=False), "'nope' does not exist")
        proc = bale(cmd, "plain.txt", cwd=tracked, ok=False)
        assert "bale add plain.txt" in assert_error(proc, "'plain.txt' is not tracked")
        proc = bale(cmd, outside / "secret.txt", cwd=tracked, ok=False)
        assert_error(proc, "secret.txt", "outside the repository")
    guard.check()


CORRUPT = {
    "invalid YAML": ("outs: [\n", "not valid YAML"),
    "outs not a list": ("outs: 3\n", "'outs' must be a list"),
    "not a mapping": ("- a\n- b\n", "mapping"),
    "bad md5": ("outs:\n- md5: zz\n  path: model.bin\n", "malformed md5"),
    "entry not a mapping": ("outs:\n- model.bin\n", "mapping"),
    "no path": ("outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n", "no 'path'"),
    "path escapes": ("outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  path: ../x\n", "outside"),
    "absolute path": (
        "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  path: /etc/passwd\n",
        "outside",
    ),
    "bad size": ("outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  size: x\n  path: m\n", "size"),
    "binary": ("\udcff\udcfe".encode("utf-8", "surrogateescape").decode("latin-1"), ""),
}


@pytest.mark.parametrize("kind", CORRUPT, ids=lambda k: k.replace(" ", "-"))
def test_corrupt_dvc_file(tracked: Path, tmp_path: Path, bale, kind: str):
    text, problem = CORRUPT[kind]
    if kind == "binary":
        (tracked / "model.bin.dvc").write_bytes(b"\xff\xfe\x00outs")
    else:
        (tracked / "model.bin.dvc").write_text(text)
    guard = Unchanged(tmp_path)
    for args in (["status"], ["checkout"], ["commit"], ["remove", "model.bin.dvc"]):
        assert_error(bale(*args, cwd=tracked, ok=False), "model.bin.dvc", problem)
    guard.check()


UNSAFE = ["../x", "/etc/passwd", "a/../../x", "a/./b", "a//b", "..", "", "a\\..\\..\\x"]


@pytest.mark.parametrize("relpath", UNSAFE, ids=lambda r: repr(r))
def test_manifest_naming_an_unsafe_path(repo: Path, tmp_path: Path, bale, relpath: str):
    write_tree(repo, {"x.txt": "x\n"})
    bale("add", "x.txt", cwd=repo)  # the file object the manifest points at
    oid = _manifest_object(repo, [(relpath, "401b30e3b8b5d629635a5c613cdb7919")])
    (repo / "evil.dvc").write_text(
        f"outs:\n- md5: {oid}\n  size: 2\n  nfiles: 1\n  hash: md5\n  path: evil\n"
    )
    guard = Unchanged(tmp_path)
    for args in (["checkout"], ["checkout", "-f", "evil"], ["status"]):
        line = assert_error(bale(*args, cwd=repo, ok=False), oid)
        assert "path" in line or "relpath" in line
    guard.check()
    assert not (repo / "evil").exists()


def test_granular_add_into_a_folder_with_an_unsafe_manifest(repo: Path, tmp_path: Path, bale):
    write_tree(repo, {"evil/new.txt": "n\n"})
    oid = _manifest_object(repo, [("../../x", "401b30e3b8b5d629635a5c613cdb7919")])
    (repo / "evil.dvc").write_text(
        f"outs:\n- md5: {oid}\n  size: 2\n  nfiles: 1\n  hash: md5\n  path: evil\n"
    )
    guard = Unchanged(tmp_path)
    assert_error(bale("add", "evil/new.txt", cwd=repo, ok=False), oid, "unsafe")
    guard.check()


def test_checkout_without_the_objects_says_what_to_run(tracked: Path, tmp_path: Path, bale):
    shutil.rmtree(tracked / ".dvc" / "cache")
    shutil.rmtree(tracked / "data")
    (tracked / "model.bin").unlink()
    guard = Unchanged(tmp_path)
    line = assert_error(bale("checkout", cwd=tracked, ok=False), "data", "model.bin")
    assert "bale pull" in line or "bale fetch" in line
    guard.check()
    status = json.loads(bale("status", "--json", cwd=tracked).stdout)
    assert status == {
        "data.dvc": [{"changed outs": {"data": "not in cache"}}],
        "model.bin.dvc": [{"changed outs": {"model.bin": "not in cache"}}],
    }


def test_status_of_an_unreadable_file_in_a_folder(tracked: Path, bale, git, as_user):
    # A fresh clone: the state knows nothing, so the file must be read.
    shutil.rmtree(tracked / ".dvc" / "tmp", ignore_errors=True)
    (tracked / "data" / "a.txt").chmod(0o666)
    (tracked / "data" / "a.txt").write_text("changed\n")
    os.chmod(tracked / "data" / "a.txt", 0)
    try:
        proc = bale("status", cwd=tracked, ok=False, **as_user)
        assert_error(proc, "data/a.txt", "ermission denied")
    finally:
        os.chmod(tracked / "data" / "a.txt", 0o644)


# -- remove, move ----------------------------------------------------------------------------


def test_remove_of_missing_untracked_and_outside_targets(tracked, outside, tmp_path, bale):
    write_tree(tracked, {"plain.txt": "p\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("remove", "nope", cwd=tracked, ok=False), "'nope' does not exist")
    assert_error(bale("remove", "plain.txt", cwd=tracked, ok=False), "'plain.txt' is not tracked")
    proc = bale("remove", outside / "secret.txt", cwd=tracked, ok=False)
    assert_error(proc, "outside the repository")
    # One bad target among good ones: nothing is removed.
    assert_error(bale("remove", "data.dvc", "nope", cwd=tracked, ok=False), "nope")
    guard.check()


@pytest.mark.parametrize(
    ("src", "dst", "problem"),
    [
        ("nope", "x", "'nope' does not exist"),
        ("plain.txt", "x", "'plain.txt' is not tracked"),
        ("data", "../outside/data", "outside the repository"),
        ("data", "model.bin", "already exists"),
        ("model.bin", "data/model.bin", "overlaps"),  # into a tracked folder
        ("data", "data/sub/inner", "into itself"),
        ("data", ".dvc/data", "metadata"),
    ],
)
def test_move_refusals(tracked, outside, tmp_path, bale, src: str, dst: str, problem: str):
    write_tree(tracked, {"plain.txt": "p\n"})
    guard = Unchanged(tmp_path)
    assert_error(bale("move", src, dst, cwd=tracked, ok=False), problem)
    guard.check()


# -- config, init, the command line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["core.nonsense", "1"], "'core.nonsense' is not a config option"),
        (["cache.type", "foo"], "cache.type 'foo' is not valid"),
        (["cache.type", "hardlink,foo"], "is not valid"),
        (["core.autostage", "maybe"], "core.autostage must be true or false"),
        (["core.checksum_jobs", "-1"], "whole number"),
        (["nonsense.key", "1"], "'nonsense' is not a config section"),
        (["core", "1"], "'core' is not a config name"),
        (["core.remote"], "'core.remote' is not set"),
    ],
)
def test_config_refusals(repo: Path, tmp_path: Path, bale, args: list[str], problem: str):
    guard = Unchanged(tmp_path)
    assert_error(bale("config", *args, cwd=repo, ok=False), problem)
    assert_error(bale("config", "--local", *args, cwd=repo, ok=False), problem)
    guard.check()


def test_config_usage_errors_exit_2(repo: Path, tmp_path: Path, bale):
    guard = Unchanged(tmp_path)
    assert_error(bale("config", cwd=repo, ok=False), "name a config option", code=2)
    assert_error(bale("config", "-l", "core.remote", cwd=repo, ok=False), "-l", code=2)
    guard.check()


def test_a_config_file_that_does_not_parse(tracked: Path, tmp_path: Path, bale):
    (tracked / ".dvc" / "config").write_text("[core\nremote = x\n")
    guard = Unchanged(tmp_path)
    for args in (["status"], ["add", "model.bin"], ["config", "core.remote", "y"]):
        assert_error(bale(*args, cwd=tracked, ok=False), ".dvc/config", "fix the file")
    guard.check()


def test_init_outside_git_twice_and_in_a_git_subfolder(tmp_path: Path, git, bale):
    plain = tmp_path / "plain"
    plain.mkdir()
    guard = Unchanged(tmp_path)
    line = assert_error(bale("init", cwd=plain, ok=False), "not in a git repository")
    assert "--no-scm" in line
    guard.check()
    bale("init", "--no-scm", cwd=plain)
    guard = Unchanged(tmp_path)
    assert_error(bale("init", "--no-scm", cwd=plain, ok=False), "already", "-f")
    guard.check()
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    git("init", "-q", cwd=top)
    guard = Unchanged(tmp_path)
    assert_error(bale("init", cwd=top / "sub", ok=False), "--subdir")
    guard.check()


def test_commands_outside_any_repository(tmp_path: Path, bale):
    plain = tmp_path / "plain"
    plain.mkdir()
    guard = Unchanged(tmp_path)
    for cmd in ("status", "checkout", "commit", "add"):
        args = [cmd, "x"] if cmd == "add" else [cmd]
        line = assert_error(bale(*args, cwd=plain, ok=False), "not inside a bale/DVC repository")
        assert "bale init" in line
    guard.check()


def test_unknown_command_and_flag_exit_2(repo: Path, tmp_path: Path, bale):
    guard = Unchanged(tmp_path)
    proc = bale("frobnicate", cwd=repo, ok=False)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "ERROR: unknown command 'frobnicate'"
    assert "Traceback" not in proc.stderr
    proc = bale("add", "--nope", "x", cwd=repo, ok=False)
    assert proc.returncode == 2
    assert "--nope" in proc.stderr.splitlines()[-1]
    assert "Traceback" not in proc.stderr
    guard.check()


def _legacy_folder(repo: Path) -> None:
    """`data` as dvc 2 recorded it: dos2unix md5s, objects in the 2.x cache layout."""
    files = {"a.txt": b"a\r\n", "b.txt": b"b\r\n"}
    entries = []
    for name, data in files.items():
        write_tree(repo, {f"data/{name}": data})
        md5 = hashlib.md5(data.replace(b"\r\n", b"\n")).hexdigest()
        entries.append({"md5": md5, "relpath": name})
        (repo / ".dvc" / "cache" / md5[:2]).mkdir(parents=True, exist_ok=True)
        (repo / ".dvc" / "cache" / md5[:2] / md5[2:]).write_bytes(data)
    manifest = json.dumps(entries, sort_keys=True).encode()
    oid = hashlib.md5(manifest).hexdigest() + ".dir"
    (repo / ".dvc" / "cache" / oid[:2]).mkdir(exist_ok=True)
    (repo / ".dvc" / "cache" / oid[:2] / oid[2:]).write_bytes(manifest)
    (repo / "data.dvc").write_text(f"outs:\n- md5: {oid}\n  size: 6\n  nfiles: 2\n  path: data\n")


def test_granular_add_into_a_dvc_2_folder_is_refused(repo: Path, tmp_path: Path, bale):
    _legacy_folder(repo)
    assert json.loads(bale("status", "--json", cwd=repo).stdout) == {}
    write_tree(repo, {"data/new.txt": "new\n"})
    guard = Unchanged(tmp_path)
    line = assert_error(bale("add", "data/new.txt", cwd=repo, ok=False), "data/new.txt", "DVC 2")
    assert "bale add data" in line
    guard.check()
    # The way out works, and the new entry's objects are all there.
    bale("add", "data", cwd=repo)
    shutil.rmtree(repo / "data")
    bale("checkout", cwd=repo)
    assert (repo / "data" / "a.txt").read_bytes() == b"a\r\n"
    assert json.loads(bale("status", "--json", cwd=repo).stdout) == {}


# -- config files that cannot be written or read ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["config", "core.autostage", "true"], ".dvc/config"),
        (["config", "--local", "core.autostage", "true"], ".dvc/config.local"),
        (["remote", "add", "-d", "s", "/srv/s"], ".dvc/config"),
    ],
)
def test_a_config_file_that_cannot_be_written_is_named(
    repo: Path, tmp_path: Path, bale, as_user, args: list[str], name: str
):
    """Not the temporary file beside it, which is gone."""
    dvc_dir = repo / ".dvc"
    dvc_dir.chmod(0o555)
    try:
        guard = Unchanged(tmp_path)
        line = assert_error(
            bale(*args, cwd=repo, ok=False, **as_user),
            f"cannot write {name}: Permission denied; check the permissions of .dvc",
        )
        assert ".tmp" not in line
        guard.check()
    finally:
        dvc_dir.chmod(0o755)


def test_a_config_file_that_cannot_be_read_is_named(repo: Path, tmp_path: Path, bale, as_user):
    config = repo / ".dvc" / "config"
    config.chmod(0)
    try:
        guard = Unchanged(tmp_path)
        for args in (["status"], ["config", "-l"], ["remote", "list"]):
            proc = bale(*args, cwd=repo, ok=False, **as_user)
            assert_error(proc, "cannot read .dvc/config: Permission denied")
        guard.check()
    finally:
        config.chmod(0o644)
