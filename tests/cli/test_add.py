"""`bale add`: what it writes (the .dvc file, .gitignore, the cache) and how
each option changes that."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cli.util import cache_objects, read_tree, status_json, write_tree

# FORMATS.md §3-4: the folder dvc's docs use, and the bytes dvc writes for it.
EXAMPLE = {"B.txt": "x", "a.txt": "a\n", "sub/b.txt": "b\n", "ü.txt": "u"}
EXAMPLE_OID = "4916ced8d6bb2fd2b31b00c7685c61e3.dir"
EXAMPLE_MANIFEST = (
    b'[{"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "B.txt"}, '
    b'{"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"}, '
    b'{"md5": "3b5d5c3712955042212316173ccf37be", "relpath": "sub/b.txt"}, '
    b'{"md5": "7b774effe4a349c6dd82ad4f4f21d34c", "relpath": "\\u00fc.txt"}]'
)


def _oid(dvcfile: Path) -> str:
    return dvcfile.read_text().split("md5: ")[1].split()[0]


def test_add_a_file(repo: Path, bale):
    write_tree(repo, {"crlf.txt": b"hello\r\nworld\r\n"})
    proc = bale("add", "crlf.txt", cwd=repo)
    assert (repo / "crlf.txt.dvc").read_text() == (
        "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  size: 14\n  hash: md5\n"
        "  path: crlf.txt\n"
    )
    assert (repo / ".gitignore").read_text() == "/crlf.txt\n"
    obj = repo / ".dvc/cache/files/md5/7a/c062d8a84466e70d9b899c0821a51c"
    assert obj.read_bytes() == b"hello\r\nworld\r\n"  # plain md5: no dos2unix in DVC 3
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    assert (repo / "crlf.txt").read_bytes() == b"hello\r\nworld\r\n"
    assert "git add .gitignore crlf.txt.dvc" in proc.stdout


def test_add_a_folder_writes_dvcs_manifest(repo: Path, bale):
    write_tree(repo, {f"data/{k}": v for k, v in EXAMPLE.items()})
    bale("add", "data", cwd=repo)
    assert (repo / "data.dvc").read_text() == (
        f"outs:\n- md5: {EXAMPLE_OID}\n  size: 6\n  nfiles: 4\n  hash: md5\n  path: data\n"
    )
    objects = cache_objects(repo)
    assert objects[EXAMPLE_OID] == EXAMPLE_MANIFEST
    assert len(EXAMPLE_MANIFEST) == 269
    assert len(objects) == 5  # the manifest and 4 files


def test_add_an_empty_folder(repo: Path, bale):
    (repo / "empty").mkdir()
    bale("add", "empty", cwd=repo)
    assert (
        "md5: d751713988987e9331980363e24189ce.dir\n  size: 0\n  nfiles: 0\n"
        in (repo / "empty.dvc").read_text()
    )


def test_add_several_targets_and_nested_paths(repo: Path, bale):
    write_tree(repo, {"one.txt": "1\n", "two/x.txt": "x\n", "out/prep/p.txt": "p\n"})
    bale("add", "one.txt", "two", "out/prep", cwd=repo)
    assert (repo / ".gitignore").read_text() == "/one.txt\n/two\n"
    assert (repo / "out" / ".gitignore").read_text() == "/prep\n"
    assert "path: prep\n" in (repo / "out" / "prep.dvc").read_text()
    assert status_json(bale, repo) == {}


def test_add_glob(repo: Path, bale):
    write_tree(repo, {"raw/c1/a": "a\n", "raw/c2/b": "b\n", "raw/notes.md": "n\n"})
    bale("add", "--glob", "raw/c*", cwd=repo)
    assert sorted(p.name for p in (repo / "raw").glob("*.dvc")) == ["c1.dvc", "c2.dvc"]
    assert (repo / "raw" / ".gitignore").read_text() == "/c1\n/c2\n"


def test_add_out_copies_data_from_outside(repo: Path, outside: Path, bale):
    write_tree(outside, {"ext/a.txt": "a\n", "ext/b/c.txt": "c\n"})
    before = read_tree(outside)
    bale("add", outside / "ext", "-o", "inputs/ext", cwd=repo)
    assert read_tree(repo / "inputs" / "ext") == {"a.txt": b"a\n", "b/c.txt": b"c\n"}
    assert "path: ext\n" in (repo / "inputs" / "ext.dvc").read_text()
    assert (repo / "inputs" / ".gitignore").read_text() == "/ext\n"
    assert read_tree(outside) == before
    assert status_json(bale, repo) == {}


def test_add_no_commit_then_commit(repo: Path, bale):
    write_tree(repo, {"data/a.txt": "a\n", "f.txt": "f\n"})
    bale("add", "--no-commit", "data", "f.txt", cwd=repo)
    assert (repo / "data.dvc").exists() and (repo / "f.txt.dvc").exists()
    assert cache_objects(repo) == {}
    assert status_json(bale, repo) == {
        "data.dvc": [{"changed outs": {"data": "not in cache"}}],
        "f.txt.dvc": [{"changed outs": {"f.txt": "not in cache"}}],
    }
    text = (repo / "data.dvc").read_text()
    bale("commit", cwd=repo)
    assert (repo / "data.dvc").read_text() == text
    assert len(cache_objects(repo)) == 3
    assert status_json(bale, repo) == {}


def test_re_add_after_a_change_records_the_new_content(tracked: Path, bale):
    old_file, old_dir = _oid(tracked / "model.bin.dvc"), _oid(tracked / "data.dvc")
    (tracked / "model.bin").write_bytes(b"model v2")
    (tracked / "data" / "b.txt").unlink()
    write_tree(tracked, {"data/new.txt": "new\n"})
    bale("add", "model.bin", "data", cwd=tracked)
    assert _oid(tracked / "model.bin.dvc") not in (old_file, "")
    assert "nfiles: 3\n" in (tracked / "data.dvc").read_text()
    assert _oid(tracked / "data.dvc") != old_dir
    objects = cache_objects(tracked)
    assert old_file in objects and old_dir in objects  # old versions stay for checkout
    assert (tracked / ".gitignore").read_text() == "/data\n/model.bin\n"  # no duplicates
    assert status_json(bale, tracked) == {}


def test_re_add_after_a_change_stores_unchanged_files_the_cache_lost(tracked: Path, bale):
    # The folder's old version no longer is whole in the cache, so the files
    # that did not change must be looked up too, not only the changed one.
    status_json(bale, tracked)  # the state now knows every file's md5
    lost = {oid: data for oid, data in cache_objects(tracked).items() if data == b"b\n"}
    assert len(lost) == 1
    (oid,) = lost
    path = tracked / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    path.chmod(0o644)
    path.unlink()
    (tracked / "data" / "a.txt").write_text("a changed\n")
    bale("add", "data", cwd=tracked)
    objects = cache_objects(tracked)
    assert objects[oid] == b"b\n"
    assert b"a changed\n" in objects.values()
    assert status_json(bale, tracked) == {}


def test_re_add_of_unchanged_data_leaves_the_dvc_file_alone(tracked: Path, bale):
    files = [tracked / "data.dvc", tracked / "model.bin.dvc"]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]
    bale("add", "data", "model.bin", cwd=tracked)
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == before


def test_granular_add_updates_the_manifest_without_the_other_files(tracked: Path, bale):
    # The other files need not even be here: the manifest in the cache has them.
    (tracked / "data" / "a.txt").unlink()
    (tracked / "data" / "sub" / "c.txt").unlink()
    write_tree(tracked, {"data/new.txt": "new\n", "data/b.txt": "b changed\n"})
    bale("add", "data/new.txt", "data/b.txt", cwd=tracked)  # two in one run
    text = (tracked / "data.dvc").read_text()
    assert "nfiles: 4\n" in text
    assert f"size: {2 + 10 + 2 + 4}\n" in text
    bale("checkout", "data", cwd=tracked)
    assert read_tree(tracked / "data") == {
        "a.txt": b"a\n",
        "b.txt": b"b changed\n",
        "new.txt": b"new\n",
        "sub/c.txt": b"c\n",
    }
    assert status_json(bale, tracked) == {}


def test_granular_add_size_counts_recorded_content_not_unsaved_edits(tracked: Path, bale):
    (tracked / "data" / "a.txt").write_text("unsaved edit\n")  # 13 bytes, not added
    write_tree(tracked, {"data/new.txt": "new\n"})
    bale("add", "data/new.txt", cwd=tracked)
    assert f"size: {2 + 2 + 2 + 4}\n  nfiles: 4\n" in (tracked / "data.dvc").read_text()
    assert status_json(bale, tracked) == {"data.dvc": [{"changed outs": {"data": "modified"}}]}


def test_dvcignore_is_honoured(repo: Path, bale):
    # A .dvcignore inside the added folder is refused, as dvc refuses it
    # (test_hostile.py); one above it, in any folder, applies.
    write_tree(repo, {".dvcignore": "*.log\ntmp/\n", "data/a.txt": "a\n", "data/x.log": "x\n"})
    write_tree(repo, {"data/tmp/t.txt": "t\n", "top/.dvcignore": "b.txt\n"})
    write_tree(repo, {"top/data/sub/b.txt": "b\n", "top/data/sub/c.txt": "c\n"})
    bale("add", "data", "top/data", cwd=repo)
    assert "nfiles: 1\n" in (repo / "data.dvc").read_text()  # a.txt
    assert "nfiles: 1\n" in (repo / "top" / "data.dvc").read_text()  # sub/c.txt
    (repo / "data" / "x.log").write_text("changed\n")
    (repo / "top" / "data" / "sub" / "b.txt").write_text("changed\n")
    assert status_json(bale, repo) == {}


@pytest.mark.parametrize("link", ["hardlink", "symlink", "copy"])
def test_cache_type_decides_what_the_workspace_holds(repo: Path, bale, link: str):
    bale("config", "cache.type", link, cwd=repo)
    write_tree(repo, {"data/a.txt": "a\n", "f.txt": "f\n"})
    bale("add", "data", "f.txt", cwd=repo)
    for path in (repo / "data" / "a.txt", repo / "f.txt"):
        obj = repo / ".dvc/cache/files/md5" / _md5_path(path.read_bytes())
        if link == "hardlink":
            assert os.path.samefile(path, obj)
            assert stat.S_IMODE(path.stat().st_mode) == 0o444
        elif link == "symlink":
            assert path.is_symlink() and os.readlink(path) == str(obj)
        else:
            assert not path.is_symlink() and not os.path.samefile(path, obj)
            assert stat.S_IMODE(path.stat().st_mode) & 0o200
    assert status_json(bale, repo) == {}


def _md5_path(data: bytes) -> str:
    import hashlib

    oid = hashlib.md5(data).hexdigest()
    return f"{oid[:2]}/{oid[2:]}"


def test_autostage_stages_the_dvc_file_and_gitignore(repo: Path, bale, git):
    bale("config", "core.autostage", "true", cwd=repo)
    write_tree(repo, {"sub/data/a.txt": "a\n"})
    proc = bale("add", "sub/data", cwd=repo)
    assert "git add" not in proc.stdout
    staged = git("diff", "--cached", "--name-only", cwd=repo).stdout.split()
    assert sorted(staged) == ["sub/.gitignore", "sub/data.dvc"]


# Lines dvc 3.67.1 writes to .gitignore for these names (FORMATS §14).
GITIGNORE = {
    "we ird[1].txt": "/we ird\\[1\\].txt",
    "a*b": "/a\\*b",
    "!bang": "/\\!bang",
    "#hash": "/\\#hash",
    "q?": "/q\\?",
    "back\\slash": "/back\\\\slash",
    "ü.txt": "/ü.txt",
    "x #y": "/x \\#y",
    "? q": "/\\? q",
}


def test_gitignore_entries_are_escaped_as_dvc_writes_them(repo: Path, bale, git):
    write_tree(repo, {name: "x\n" for name in GITIGNORE})
    (repo / ".gitignore").write_text("# mine\n*.pyc")  # no newline at the end
    bale("add", *GITIGNORE, cwd=repo)
    assert (repo / ".gitignore").read_text("utf-8") == "# mine\n*.pyc\n" + "".join(
        line + "\n" for line in GITIGNORE.values()
    )
    # git reads them back as exactly these files.
    ignored = git("status", "--porcelain", "--ignored", "-z", cwd=repo).stdout.split("\0")
    names = {e[3:] for e in ignored if e.startswith("!! ") and not e[3:].startswith(".dvc/")}
    assert names == set(GITIGNORE)


def test_no_entry_when_git_already_ignores_the_output(repo: Path, bale):
    (repo / ".gitignore").write_text("/big/\n")
    write_tree(repo, {"big/x/a.txt": "a\n"})
    bale("add", "big/x", cwd=repo)
    assert not (repo / "big" / ".gitignore").exists()
    assert (repo / ".gitignore").read_text() == "/big/\n"


def test_the_git_hint_names_only_files_that_exist(tracked: Path, bale):
    write_tree(tracked, {"data/new.txt": "new\n"})
    proc = bale("add", "data/new.txt", cwd=tracked)
    hint = proc.stdout.split("git add ", 1)[1].split()
    assert hint == ["data.dvc"]
    assert all((tracked / name).exists() for name in hint)


def test_a_deeper_dvcignore_can_re_include(repo: Path, bale):
    write_tree(repo, {".dvcignore": "*.log\n", "proj/.dvcignore": "!keep.log\nsub/\n"})
    write_tree(repo, {"proj/data/a.log": "1\n", "proj/data/keep.log": "2\n"})
    write_tree(repo, {"proj/data/x.txt": "3\n", "proj/data/sub/y.txt": "4\n"})
    bale("add", "proj/data", cwd=repo)
    # The manifest dvc 3.67.1 writes for this tree: keep.log is back, sub/ is out.
    assert cache_objects(repo)[_oid(repo / "proj" / "data.dvc")] == (
        b'[{"md5": "26ab0db90d72e28ad0ba1e22ee510510", "relpath": "keep.log"}, '
        b'{"md5": "6d7fce9fee471194aa8b5b6e47267f03", "relpath": "x.txt"}]'
    )


def test_temporary_files_of_a_killed_run_are_not_data(repo: Path, bale):
    # What a checkout or add killed while placing files leaves beside them.
    write_tree(repo, {"data/a.txt": "a\n", "data/a.txt.0123456789ab-7.tmp": "a\n"})
    write_tree(repo, {"data/notes.tmp": "mine\n"})  # not bale's: data
    bale("add", "data", cwd=repo)
    assert "nfiles: 2\n" in (repo / "data.dvc").read_text()
    assert status_json(bale, repo) == {}
