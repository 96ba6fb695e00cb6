"""`bale init` and finding the repository from anywhere inside it."""

from __future__ import annotations

from pathlib import Path

from tests.cli.util import assert_error, status_json, write_tree

DVCIGNORE = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)


def test_init_writes_dvcs_skeleton_and_stages_it(tmp_path: Path, bale, git):
    root = tmp_path / "r"
    root.mkdir()
    git("init", "-q", cwd=root)
    bale("init", cwd=root)
    assert (root / ".dvc" / "config").read_bytes() == b""
    assert (root / ".dvc" / ".gitignore").read_text() == "/config.local\n/tmp\n/cache\n"
    assert (root / ".dvcignore").read_text() == DVCIGNORE
    staged = git("diff", "--cached", "--name-only", cwd=root).stdout.split()
    assert sorted(staged) == [".dvc/.gitignore", ".dvc/config", ".dvcignore"]


def test_init_force_starts_over(repo: Path, bale):
    bale("config", "core.remote", "x", cwd=repo)
    bale("init", "-f", cwd=repo)
    assert (repo / ".dvc" / "config").read_bytes() == b""


def test_no_scm_repository_works_without_git(tmp_path: Path, bale):
    root = tmp_path / "r"
    root.mkdir()
    bale("init", "--no-scm", cwd=root)
    assert (root / ".dvc" / "config").read_text() == "[core]\n    no_scm = True\n"
    write_tree(root, {"data/a.txt": "a\n"})
    proc = bale("add", "data", cwd=root)
    assert "git add" not in proc.stdout
    assert not (root / ".gitignore").exists()
    assert status_json(bale, root) == {}


def test_commands_find_the_root_from_a_subfolder(repo: Path, bale):
    deep = repo / "sub" / "deep"
    write_tree(deep, {"x.txt": "x\n", "more/y.txt": "y\n"})
    bale("add", "x.txt", "more", cwd=deep)
    assert "  path: x.txt\n" in (deep / "x.txt.dvc").read_text()
    assert (deep / ".gitignore").read_text() == "/x.txt\n/more\n"
    (deep / "x.txt").unlink()
    assert status_json(bale, deep) == {"x.txt.dvc": [{"changed outs": {"x.txt": "deleted"}}]}
    bale("checkout", cwd=repo / "sub")
    assert (deep / "x.txt").read_text() == "x\n"


def test_two_roots_in_one_git_repository(tmp_path: Path, bale, git):
    top = tmp_path / "registry"
    for name in ("images", "audio"):
        (top / name / "raw").mkdir(parents=True)
    git("init", "-q", cwd=top)
    assert_error(bale("init", cwd=top / "images", ok=False), "--subdir")
    for name in ("images", "audio"):
        bale("init", "--subdir", cwd=top / name)
        write_tree(top / name, {"raw/c1/a.bin": name})
        bale("add", "c1", cwd=top / name / "raw")
    assert (top / "images" / "raw" / ".gitignore").read_text() == "/c1\n"
    assert (top / "images" / ".dvc" / "cache").is_dir()
    assert (top / "audio" / ".dvc" / "cache").is_dir()
    # Each root sees only its own outputs and cache.
    (top / "audio" / "raw" / "c1" / "a.bin").write_text("changed")
    assert status_json(bale, top / "images" / "raw" / "c1") == {}
    assert status_json(bale, top / "audio") == {
        "raw/c1.dvc": [{"changed outs": {"raw/c1": "modified"}}]
    }
    # The git top is not a root itself.
    assert_error(bale("status", cwd=top, ok=False), "not inside a bale/DVC repository")
