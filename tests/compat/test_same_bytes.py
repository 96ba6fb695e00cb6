"""For the same data, bale writes byte for byte what dvc writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.data import (
    assert_same_files,
    assert_up_to_date,
    cache_tree,
    metadata_files,
    status_json,
    write_dataset,
    write_tree,
)

pytestmark = pytest.mark.dvc


def _git_repo(path: Path, git) -> Path:
    path.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=path)
    return path


def _staged(root: Path, git) -> list[str]:
    return sorted(git("diff", "--cached", "--name-only", "-z", cwd=root).stdout.split("\0"))


@pytest.mark.parametrize("flags", [(), ("--no-scm",), ("--subdir",)], ids=str)
def test_init_writes_the_skeleton_dvc_writes(tmp_path: Path, git, bale, dvc, flags):
    def init(tool, name: str) -> Path:
        top = tmp_path / name
        top.mkdir()
        if "--no-scm" not in flags:
            git("init", "-q", "-b", "main", cwd=top)
        root = top / "project" if "--subdir" in flags else top
        root.mkdir(exist_ok=True)
        tool("init", *flags, cwd=root)
        return top

    theirs, ours = init(dvc, "dvc"), init(bale, "bale")
    # .dvc/config (empty, or core.no_scm), .dvc/.gitignore, .dvcignore: same names, same bytes.
    assert_same_files(metadata_files(ours), metadata_files(theirs), labels=("bale", "dvc"))
    if "--no-scm" not in flags:
        # dvc init stages its files in git; so must bale.
        assert _staged(ours, git) == _staged(theirs, git)


def test_add_writes_the_dvc_files_gitignores_and_cache_dvc_writes(tmp_path: Path, git, bale, dvc):
    outside = tmp_path / "outside"
    write_tree(outside, {"ext.csv": b"x,y\n1,2\n", "extdir/p.txt": b"p\n", "extdir/q/r": b"r"})
    roots = {}
    for name, tool in (("dvc", dvc), ("bale", bale)):
        root = _git_repo(tmp_path / name, git)
        tool("init", cwd=root)
        targets = write_dataset(root)
        tool("add", *targets, cwd=root)
        # -o: copy data from outside the repository in, and track it.
        tool("add", outside / "ext.csv", "-o", "got.csv", cwd=root)
        tool("add", outside / "extdir", "-o", "gotdir", cwd=root)
        roots[name] = root
    theirs, ours = roots["dvc"], roots["bale"]

    # .dvc files (including sub/deep/x.txt.dvc), every .gitignore, .dvc/config.
    assert_same_files(metadata_files(ours), metadata_files(theirs), labels=("bale", "dvc"))
    # Object names, bytes and read-only mode, `.dir` manifests included.
    assert cache_tree(ours / ".dvc" / "cache") == cache_tree(theirs / ".dvc" / "cache")
    assert (ours / "gotdir" / "q" / "r").read_bytes() == b"r"


def test_add_into_a_tracked_dir_updates_its_manifest_as_dvc_does(tmp_path: Path, git, bale, dvc):
    roots = {}
    for name, tool in (("dvc", dvc), ("bale", bale)):
        root = _git_repo(tmp_path / name, git)
        tool("init", cwd=root)
        write_tree(root, {"data/a.txt": b"a\n", "data/sub/b.txt": b"b\n"})
        tool("add", "data", cwd=root)
        write_tree(root, {"data/sub/new.txt": b"new\n"})
        # Adds one entry to data's .dir manifest; data.dvc stays the only .dvc file.
        tool("add", "data/sub/new.txt", cwd=root)
        roots[name] = root
    ours, theirs = roots["bale"], roots["dvc"]
    assert_same_files(metadata_files(ours), metadata_files(theirs), labels=("bale", "dvc"))
    assert cache_tree(ours / ".dvc" / "cache") == cache_tree(theirs / ".dvc" / "cache")
    assert_up_to_date(dvc("status", cwd=ours))


def test_add_no_commit_then_commit_match_dvc(tmp_path: Path, git, bale, dvc):
    roots = {}
    for name, tool in (("dvc", dvc), ("bale", bale)):
        root = _git_repo(tmp_path / name, git)
        tool("init", cwd=root)
        write_tree(root, {"data/a.txt": b"a\n", "data/b/c.txt": b"c\n", "model.bin": b"m"})
        tool("add", "--no-commit", "data", "model.bin", cwd=root)
        roots[name] = root
    ours, theirs = roots["bale"], roots["dvc"]
    assert_same_files(metadata_files(ours), metadata_files(theirs), labels=("bale", "dvc"))
    assert status_json(bale("status", "--json", cwd=ours)) == status_json(
        dvc("status", "--json", cwd=theirs)
    )
    bale("commit", cwd=ours)
    dvc("commit", cwd=theirs)
    assert_same_files(metadata_files(ours), metadata_files(theirs), labels=("bale", "dvc"))
    assert cache_tree(ours / ".dvc" / "cache") == cache_tree(theirs / ".dvc" / "cache")
    assert_up_to_date(dvc("status", cwd=ours))


def test_add_glob_writes_what_dvc_writes(tmp_path: Path, git, bale, dvc):
    files = {"logs/a.log": b"1\n", "logs/b.log": b"2\n", "logs/keep.txt": b"3\n"}
    roots = {}
    for name, tool in (("dvc", dvc), ("bale", bale)):
        root = _git_repo(tmp_path / name, git)
        tool("init", cwd=root)
        write_tree(root, files)
        tool("add", "--glob", "logs/*.log", cwd=root)
        roots[name] = root
    ours, theirs = metadata_files(roots["bale"]), metadata_files(roots["dvc"])
    # dvc appends glob matches to .gitignore in directory-listing order: compare as sets.
    ours_ignore = set(ours.pop("logs/.gitignore").splitlines())
    assert ours_ignore == set(theirs.pop("logs/.gitignore").splitlines()) == {b"/a.log", b"/b.log"}
    assert_same_files(ours, theirs, labels=("bale", "dvc"))
    assert "logs/keep.txt.dvc" not in ours


def _config_bytes(tmp_path: Path, git, tool, name: str, commands) -> bytes:
    root = _git_repo(tmp_path / name, git)
    tool("init", cwd=root)
    for args in commands:
        tool(*args, cwd=root)
    return (root / ".dvc" / "config").read_bytes()


def test_config_writes_what_dvc_writes(tmp_path: Path, git, bale, dvc):
    commands = [
        ("config", "core.autostage", "true"),
        ("config", "cache.type", "reflink,copy"),
        ("config", "core.remote", "storage"),
        ("remote", "add", "storage", tmp_path / "first"),
        # A relative url given on the command line is relative to where the user is;
        # dvc rewrites it relative to .dvc/ so it keeps pointing at the same place.
        ("config", "remote.storage.url", "../remote"),
    ]
    # configobj layout: 4-space keys, quoted comma lists, ['remote "storage"'] sections.
    assert_same_files(
        {"config": _config_bytes(tmp_path, git, bale, "bale", commands)},
        {"config": _config_bytes(tmp_path, git, dvc, "dvc", commands)},
        labels=("bale", "dvc"),
    )


def test_config_creates_a_remote_like_dvc(tmp_path: Path, git, bale, dvc):
    commands = [("config", "remote.storage.url", tmp_path / "remote")]
    assert_same_files(
        {"config": _config_bytes(tmp_path, git, bale, "bale", commands)},
        {"config": _config_bytes(tmp_path, git, dvc, "dvc", commands)},
        labels=("bale", "dvc"),
    )


def test_autostage_stages_what_dvc_stages(tmp_path: Path, git, bale, dvc):
    roots = {}
    for name, tool in (("dvc", dvc), ("bale", bale)):
        root = _git_repo(tmp_path / name, git)
        tool("init", cwd=root)
        git("commit", "-qm", "init", cwd=root)
        tool("config", "core.autostage", "true", cwd=root)
        write_tree(root, {"data/a.txt": b"a\n", "model.bin": b"m", "sub/x.txt": b"x\n"})
        tool("add", "data", "model.bin", "sub/x.txt", cwd=root)
        roots[name] = root
    # The .dvc files and .gitignore entries are staged in git, nothing else.
    assert _staged(roots["bale"], git) == _staged(roots["dvc"], git)
