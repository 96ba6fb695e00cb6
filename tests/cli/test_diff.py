"""`bale diff` beside `dvc diff` on the same repositories: stdout byte for byte
(text, --json, --md, --show-hash), for two revisions and for a revision
against the workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, write_tree

pytestmark = pytest.mark.dvc

ALL = ((), ("--json",), ("--md",), ("--show-hash",), ("--json", "--show-hash"))
TEXT_JSON = ((), ("--json",))


def same(bale, dvc, cwd: Path, *args: str, formats=((),)) -> str:
    """Run both tools in every format; their stdout must be identical. The
    plain text output is returned, for the test to check it says something."""
    texts = []
    for fmt in formats:
        ours = bale("diff", *args, *fmt, cwd=cwd)
        theirs = dvc("diff", *args, *fmt, cwd=cwd)
        assert ours.stdout == theirs.stdout, (args, fmt, ours.stdout, theirs.stdout)
        texts.append(ours.stdout)
    return texts[0]


def commit(git, repo: Path, message: str) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def test_workspace_against_head(tracked: Path, bale, dvc):
    """Modified, deleted, added and renamed files inside a tracked folder, a
    new tracked file, and a removed `.dvc` file."""
    assert same(bale, dvc, tracked) == ""  # nothing changed: nothing printed
    write_tree(tracked, {"data/a.txt": "changed\n", "data/sub/new.txt": "new\n", "other.bin": "o"})
    (tracked / "data" / "b.txt").unlink()
    (tracked / "data" / "sub" / "c.txt").rename(tracked / "data" / "sub" / "c2.txt")
    bale("add", "other.bin", cwd=tracked)
    (tracked / "model.bin.dvc").unlink()
    text = same(bale, dvc, tracked, formats=ALL)
    assert text == (
        "Added:\n    data/sub/new.txt\n    other.bin\n\n"
        "Deleted:\n    data/b.txt\n    model.bin\n\n"
        "Renamed:\n    data/sub/c.txt -> data/sub/c2.txt\n\n"
        "Modified:\n    data/\n    data/a.txt\n\n"
        "files summary: 2 added, 2 deleted, 1 renamed, 1 modified\n"
    )
    found = json.loads(bale("diff", "--json", cwd=tracked).stdout)
    assert found["renamed"] == [{"path": {"old": "data/sub/c.txt", "new": "data/sub/c2.txt"}}]
    assert found["not in cache"] == []
    same(bale, dvc, tracked / "data", formats=TEXT_JSON)  # paths stay root-relative
    assert bale("diff", "-q", cwd=tracked).stdout == ""


def test_two_revisions(tracked: Path, bale, dvc, git):
    write_tree(tracked, {"data/a.txt": "changed\n", "data/sub/deep/d.txt": "d\n"})
    (tracked / "data" / "b.txt").unlink()
    bale("add", "data", cwd=tracked)
    commit(git, tracked, "v2")
    bale("move", "model.bin", "weights.bin", cwd=tracked)  # same content, new path
    commit(git, tracked, "v3")
    text = same(bale, dvc, tracked, "HEAD~2", "HEAD", formats=ALL)
    assert "Renamed:\n    model.bin -> weights.bin\n" in text
    assert "Added:\n    data/sub/deep/d.txt\n" in text
    same(bale, dvc, tracked, "HEAD", "HEAD~2")
    same(bale, dvc, tracked, "HEAD~2")  # against the workspace
    # One commit by two names: nothing to compare.
    assert same(bale, dvc, tracked, "HEAD", "main", formats=TEXT_JSON) == ""


def test_folder_output_renamed_and_nested_folders(repo: Path, bale, dvc, git):
    write_tree(repo, {"raw/c1/x/y/f1": "1\n", "raw/c1/x/g": "2\n", "raw/c2/h": "3\n"})
    bale("add", "raw/c1", "raw/c2", cwd=repo)
    commit(git, repo, "v1")
    bale("move", "raw/c2", "raw/c3", cwd=repo)
    shutil.rmtree(repo / "raw" / "c1" / "x" / "y")
    write_tree(repo, {"raw/c1/x/y2/f1": "1\n", "raw/c1/x/z/new": "n\n"})
    text = same(bale, dvc, repo)
    assert "raw/c2/ -> raw/c3/" in text and "raw/c1/x/y/f1 -> raw/c1/x/y2/f1" in text
    bale("add", "raw/c1", cwd=repo)
    commit(git, repo, "v2")
    same(bale, dvc, repo, "HEAD~1", "HEAD")


def test_equal_files_renamed_together_pair_in_path_order(repo: Path, bale, dvc, git):
    write_tree(repo, {"d/a/s1": "same\n", "d/a/s2": "same\n", "d/a/s3": "same\n"})
    bale("add", "d", cwd=repo)
    commit(git, repo, "v1")
    (repo / "d" / "a" / "s1").unlink()
    (repo / "d" / "a" / "s2").unlink()
    write_tree(repo, {"d/b/t1": "same\n", "d/b/t2": "same\n", "d/a/s4": "same\n"})
    text = same(bale, dvc, repo)
    assert "Renamed:\n    d/a/s1 -> d/a/s4\n    d/a/s2 -> d/b/t1\n" in text


def test_a_file_output_becomes_a_folder_and_a_folder_a_file(repo: Path, bale, dvc, git):
    write_tree(repo, {"fileout": "f\n", "dirout/q": "q\n", "dirout/r/s": "s\n"})
    bale("add", "fileout", "dirout", cwd=repo)
    commit(git, repo, "v1")
    (repo / "fileout").unlink()
    write_tree(repo, {"fileout/inner": "i\n"})
    shutil.rmtree(repo / "dirout")
    write_tree(repo, {"dirout": "now a file\n"})
    text = same(bale, dvc, repo, formats=ALL)
    assert "Modified:\n    dirout/\n    fileout\n" in text
    bale("add", "fileout", "dirout", cwd=repo)
    commit(git, repo, "v2")
    same(bale, dvc, repo, "HEAD~1", "HEAD")


def test_pipeline_outputs_in_dvc_lock(repo: Path, bale, dvc, git):
    write_tree(repo, {"in.txt": "a\n"})
    dvc("stage", "add", "-q", "-n", "prep", "-d", "in.txt", "-o", "out",
        "mkdir -p out/sub && cp in.txt out/sub/copy && cp in.txt out/top", cwd=repo)  # fmt: skip
    dvc("stage", "add", "-q", "-n", "count", "-d", "out", "-o", "count.txt", "-O", "log",
        "cat out/top > count.txt && echo ran > log", cwd=repo)  # fmt: skip
    dvc("repro", "-q", cwd=repo)
    commit(git, repo, "v1")
    write_tree(repo, {"in.txt": "b\n"})
    dvc("repro", "-q", cwd=repo)
    text = same(bale, dvc, repo)
    assert "out/sub/copy" in text and "count.txt" in text and "log" not in text  # cache: false
    commit(git, repo, "v2")
    same(bale, dvc, repo, "HEAD~1", "HEAD")
    # A stage declared and never run: its output has no hash in dvc.lock.
    dvc("stage", "add", "-q", "-n", "later", "-d", "count.txt", "-o", "later.txt",
        "cp count.txt later.txt", cwd=repo)  # fmt: skip
    commit(git, repo, "v3")
    write_tree(repo, {"later.txt": "made by hand\n"})
    assert "Modified:\n    later.txt\n" in same(bale, dvc, repo, formats=(*TEXT_JSON, ("--md",)))
    same(bale, dvc, repo, "HEAD~1", "HEAD", formats=(*TEXT_JSON, ("--md",)))


def test_targets(tracked: Path, bale, dvc, git):
    write_tree(tracked, {"in.txt": "a\n"})
    dvc("stage", "add", "-q", "-n", "copy", "-d", "in.txt", "-o", "copy.txt",
        "cp in.txt copy.txt", cwd=tracked)  # fmt: skip
    dvc("repro", "-q", cwd=tracked)
    commit(git, tracked, "pipeline")
    write_tree(tracked, {"data/a.txt": "changed\n", "data/sub/c.txt": "c2\n", "model.bin": "m2",
                         "in.txt": "b\n", "data/sub/new.txt": "n\n"})  # fmt: skip
    dvc("repro", "-q", cwd=tracked)
    (tracked / "data" / "b.txt").unlink()
    for target in ("data/", "data.dvc", "data/a.txt", "data/missing.txt", "copy", "dvc.yaml:copy"):
        same(bale, dvc, tracked, "--targets", target)
    text = same(bale, dvc, tracked, "--targets", "data/sub", "model.bin.dvc", formats=TEXT_JSON)
    assert text.splitlines()[:4] == ["Added:", "    data/sub/new.txt", "", "Modified:"]
    same(bale, dvc, tracked / "data", "--targets", "sub", "../dvc.yaml")
    same(bale, dvc, tracked, "HEAD~1", "HEAD", "--targets", "copy.txt")


def test_not_in_cache(tracked: Path, bale, dvc):
    from tests.cli.util import cache_objects

    objects = cache_objects(tracked)
    a_txt = next(oid for oid, data in objects.items() if data == b"a\n")
    (tracked / ".dvc/cache/files/md5" / a_txt[:2] / a_txt[2:]).unlink()
    text = same(bale, dvc, tracked, formats=ALL)
    assert text == "Not in cache:\n    data/a.txt\n\nfiles summary: 1 not in cache\n"
    assert same(bale, dvc, tracked, "--hide-missing") == ""
    assert same(bale, dvc, tracked, "HEAD", "HEAD") == ""  # b_rev given: never told
    # No manifest either (a clone before a pull): the folder stands alone.
    shutil.rmtree(tracked / ".dvc" / "cache")
    shutil.rmtree(tracked / ".dvc" / "tmp")  # dvc keeps manifests it read in its index there
    write_tree(tracked, {"data/new.txt": "n\n"})
    text = same(bale, dvc, tracked)
    assert text == "Modified:\n    data/\n\nNot in cache:\n    data/\n    model.bin\n\n" + (
        "files summary: 1 not in cache\n"
    )
    shutil.rmtree(tracked / "data")
    same(bale, dvc, tracked)


def test_manifest_fetched_from_the_remote_is_not_in_cache(tracked: Path, tmp_path, bale, dvc, git):
    bale("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=tracked)
    commit(git, tracked, "remote")  # dvc reads a revision's remotes from its own config
    bale("push", cwd=tracked)
    shutil.rmtree(tracked / ".dvc" / "cache")
    shutil.rmtree(tracked / ".dvc" / "tmp")
    write_tree(tracked, {"data/a.txt": "changed\n"})
    expected = dvc("diff", cwd=tracked).stdout
    assert "Not in cache:\n    data/\n    data/a.txt\n" in expected
    assert bale("diff", cwd=tracked).stdout == expected


def test_repository_in_a_git_subfolder(tmp_path: Path, bale, dvc, git):
    top = tmp_path / "mono"
    project = top / "project"
    project.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=top)
    write_tree(top, {"README": "r\n"})
    commit(git, top, "before the repository")
    bale("init", "--subdir", cwd=project)
    write_tree(project, {"data/s/one": "1\n", "data/two": "2\n"})
    bale("add", "data", cwd=project)
    commit(git, top, "data")
    write_tree(project, {"data/s/one": "3\n", "data/new": "n\n"})
    assert "data/s/one" in same(bale, dvc, project)
    same(bale, dvc, project / "data", "--targets", "s")
    # A revision from before the repository existed: nothing to compare, as in dvc.
    assert same(bale, dvc, project, "HEAD~1") == ""


def test_nothing_to_compare(tmp_path: Path, tracked: Path, bale, dvc, git):
    assert bale("diff", "--json", cwd=tracked).stdout == dvc("diff", "--json", cwd=tracked).stdout
    same(bale, dvc, tracked, "--md", formats=((),))  # a header and no rows
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git("init", "-q", cwd=fresh)
    bale("init", cwd=fresh)
    write_tree(fresh, {"a": "a\n"})
    bale("add", "a", cwd=fresh)
    assert same(bale, dvc, fresh, formats=TEXT_JSON) == ""  # no commits yet


def test_errors(tracked: Path, tmp_path: Path, bale, dvc):
    before = Unchanged(tracked)
    for args, needles in (
        (("nope",), ("nope", "revision")),
        (("HEAD", "nope"), ("nope", "revision")),
        (("--targets", "nothere"), ("nothere", "does not exist")),
        (("--targets", ".gitignore"), (".gitignore", "not tracked")),
        (("--targets", "dvc.lock"), ("dvc.lock",)),
    ):
        assert_error(bale("diff", *args, cwd=tracked, ok=False), *needles)
        assert dvc("diff", *args, cwd=tracked, ok=None).returncode != 0
    before.check()
    plain = tmp_path / "plain"
    plain.mkdir()
    bale("init", "--no-scm", cwd=plain)
    assert_error(bale("diff", cwd=plain, ok=False), "git")
    assert dvc("diff", cwd=plain, ok=None).returncode != 0
