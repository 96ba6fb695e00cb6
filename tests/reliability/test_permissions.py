"""Caches and workspaces bale may not write, files it may not read.

File modes bind for root only without CAP_DAC_OVERRIDE: the commands run
under `tests.cli.util.unprivileged()`, and a read-only filesystem comes from
a bind mount in a private namespace (namespaces.py). Unreadable targets of
`add`, an unreadable file in a folder being added or shown by `status`, and
config files that cannot be read or written are tested in
tests/cli/test_errors.py; this adds the cache and the workspace.

Every refusal is one `ERROR:` line naming the path, never a temporary name,
and leaves the repository as it was; commands that only need to read a
complete cache (`status`, `checkout`) still work.
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from bale.fsutil import is_temporary
from tests.cli.util import (
    Unchanged,
    assert_error,
    bale_argv,
    can_drop_privileges,
    read_tree,
    unprivileged,
    write_tree,
)
from tests.reliability.namespaces import PrivateMounts
from tests.reliability.report import case

PART = "permissions"
FILES = {"data/a.txt": "a\n", "data/sub/b.txt": "b\n", "model.bin": "model\n"}


def _case(what: str) -> AbstractContextManager[None]:
    """One case of the page's table: what was tried."""
    return case(PART, what, "pytest tests/reliability/test_permissions.py")


@pytest.fixture
def as_user() -> dict:
    if not can_drop_privileges():
        pytest.skip("running as root without CAP_SETPCAP: cannot make a file unwritable")
    return unprivileged()


@pytest.fixture
def tracked(tmp_path: Path, bale, git) -> Path:
    """A repository with `data/` and `model.bin` added, pushed to a folder
    remote and committed, and one file `new.txt` not tracked yet."""
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    bale("remote", "add", "-d", "storage", str(tmp_path / "store"), cwd=root)
    write_tree(root, FILES)
    bale("add", "-q", "data", "model.bin", cwd=root)
    bale("push", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "data", cwd=root)
    write_tree(root, {"new.txt": "new\n"})
    return root


def _set_mode(top: Path, mode: int) -> None:
    """`mode` for `top` and every folder under it (files keep theirs)."""
    for dirpath, _dirs, _files in os.walk(top):
        os.chmod(dirpath, mode)


def _delete_outputs(repo: Path) -> None:
    shutil.rmtree(repo / "data")
    (repo / "model.bin").unlink()


def _outputs(repo: Path) -> dict[str, bytes]:
    found = read_tree(repo / "data")
    return {
        **{f"data/{k}": v for k, v in found.items()},
        "model.bin": (repo / "model.bin").read_bytes(),
    }


def _no_temporaries(root: Path) -> None:
    left = [str(p) for p in root.rglob("*") if is_temporary(p.name)]
    assert not left, left


def _reads_still_work(repo: Path, run) -> None:
    """status, and checkout of deleted outputs, need only reads of the cache."""
    assert "up to date" in run("status").stdout
    _delete_outputs(repo)
    run("checkout")
    assert _outputs(repo) == {k: v.encode() for k, v in FILES.items()}
    assert "up to date" in run("status").stdout


def test_a_read_only_cache(tracked: Path, tmp_path: Path, bale, as_user: dict):
    cache = tracked / ".dvc" / "cache"
    _set_mode(cache, 0o555)
    try:
        with _case("bale add new.txt with the cache folders mode 0555"):
            guard = Unchanged(tmp_path)
            proc = bale("add", "new.txt", cwd=tracked, ok=False, **as_user)
            assert_error(proc, str(cache), "Permission denied", "check the permissions")
            guard.check()
        with _case("status and checkout with the cache folders mode 0555"):
            _reads_still_work(tracked, lambda *a: bale(*a, cwd=tracked, **as_user))
    finally:
        _set_mode(cache, 0o755)


def test_a_cache_on_a_read_only_filesystem(tracked: Path, tmp_path: Path):
    ns = PrivateMounts()
    try:
        cache = tracked / ".dvc" / "cache"
        ns.read_only(cache)

        def run(*args: str, ok: bool = True):
            proc = ns.run([*bale_argv(), *args], cwd=tracked)
            assert (proc.returncode == 0) == ok, (args, proc.stdout, proc.stderr)
            return proc

        with _case("bale add new.txt with the cache on a read-only bind mount"):
            guard = Unchanged(tmp_path)
            line = assert_error(run("add", "new.txt", ok=False), str(cache), "read-only")
            assert ".tmp" not in line
            guard.check()
        with _case("status and checkout on a read-only bind-mounted cache"):
            _reads_still_work(tracked, run)
    finally:
        ns.close()


@pytest.mark.parametrize("command", ["checkout", "pull"])
def test_an_unwritable_workspace_folder(
    tracked: Path, tmp_path: Path, bale, git, as_user: dict, command: str
):
    """The folder an output goes into is mode 0555: one line naming the output,
    no staging folder or temporary file left; once writable, the rerun works."""
    repo = tracked
    if command == "pull":  # a clone: the objects come from the remote first
        repo = tmp_path / "clone"
        git("clone", "-q", str(tracked), str(repo), cwd=tmp_path)
    else:
        _delete_outputs(repo)
    repo.chmod(0o555)
    try:
        with _case(f"bale {command} with the repository root mode 0555"):
            proc = bale(command, cwd=repo, ok=False, **as_user)
            line = assert_error(proc, "Permission denied", str(repo / "data"))
            assert ".tmp" not in line
            _no_temporaries(repo)
            assert not (repo / "data").exists()
    finally:
        repo.chmod(0o755)
    bale(command, cwd=repo, **as_user)
    assert _outputs(repo) == {k: v.encode() for k, v in FILES.items()}


def test_an_unwritable_folder_inside_a_tracked_folder(tracked: Path, bale, as_user: dict):
    """`data/sub` is 0555 and its file changed: checkout -f names the file."""
    sub = tracked / "data" / "sub"
    (sub / "b.txt").write_text("changed\n")
    sub.chmod(0o555)
    try:
        with _case("bale checkout -f with a changed file in a 0555 folder"):
            proc = bale("checkout", "-f", cwd=tracked, ok=False, **as_user)
            line = assert_error(proc, "Permission denied", str(sub / "b.txt"))
            assert ".tmp" not in line
            assert (sub / "b.txt").read_text() == "changed\n"
            _no_temporaries(tracked / "data")
    finally:
        sub.chmod(0o755)
    bale("checkout", "-f", cwd=tracked)
    assert (sub / "b.txt").read_text() == "b\n"


def test_re_adding_a_folder_with_an_unreadable_file_keeps_its_dvc_file(
    tracked: Path, bale, as_user: dict
):
    """An already tracked folder: its `.dvc` file and `.gitignore` stay as they were."""
    secret = tracked / "data" / "sub" / "secret.txt"
    secret.write_text("s\n")
    secret.chmod(0)
    try:
        before = {n: (tracked / n).read_bytes() for n in ("data.dvc", ".gitignore")}
        with _case("bale add data (tracked) with a mode 0000 file in it"):
            proc = bale("add", "data", cwd=tracked, ok=False, **as_user)
            assert_error(proc, "data/sub/secret.txt", "ermission denied")
            assert {n: (tracked / n).read_bytes() for n in before} == before
        with _case("bale status with a mode 0000 file in a tracked folder"):
            guard = Unchanged(tracked)
            proc = bale("status", cwd=tracked, ok=False, **as_user)
            assert_error(proc, "data/sub/secret.txt", "ermission denied")
            guard.check()
    finally:
        secret.chmod(0o644)
