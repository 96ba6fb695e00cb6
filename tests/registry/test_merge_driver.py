"""bale's merge driver under real `git merge`s: tracked folders merged by
their manifests (even when the cache lacks one side's files, DVC issue 8638),
`dvc.lock` merged per stage, conflicts left as git leaves them, and hostile
or malformed versions refused without a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tests.cli.util import assert_error, cache_objects, snapshot


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def _write(folder: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = folder / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def _branch(repo: Path, bale, git, name: str, start: str, files: dict[str, str | None],
            *, target: str = "data") -> None:  # fmt: skip
    """A branch off `start` whose commit changes these files of `target` and re-adds it."""
    git("checkout", "-q", "-b", name, start, cwd=repo)
    bale("checkout", "-q", cwd=repo)
    _write(repo / target, files)
    bale("add", "-q", target, cwd=repo)
    git("commit", "-qam", name, cwd=repo)


def _setup(repo: Path, bale, git) -> None:
    _write(repo / "data", {"a.txt": "a", "b.txt": "b", "c.txt": "c", "sub/s.txt": "s"})
    bale("add", "-q", "data", cwd=repo)
    bale("git-hook", "install", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)


def _readd_is_the_same(repo: Path, bale, dvc, dvcfile: str = "data.dvc") -> None:
    """The merged `.dvc` file is what `bale add` writes for the checked-out
    folder, and bale and dvc both find the workspace up to date."""
    merged = (repo / dvcfile).read_bytes()
    bale("add", "-q", dvcfile.removesuffix(".dvc"), cwd=repo)
    assert (repo / dvcfile).read_bytes() == merged
    assert "up to date" in bale("status", cwd=repo).stdout
    assert "up to date" in dvc("status", cwd=repo).stdout


def test_additions_and_removals_on_both_sides_merge(repo: Path, bale, git, dvc) -> None:
    _setup(repo, bale, git)
    _branch(repo, bale, git, "ours", "main", {"d.txt": "d", "a.txt": None, "sub/t.txt": "t"})
    _branch(repo, bale, git, "theirs", "main", {"e.txt": "e", "b.txt": None})
    git("checkout", "-q", "ours", cwd=repo)  # the post-checkout hook checks data out
    assert sorted(_files(repo / "data")) == ["b.txt", "c.txt", "d.txt", "sub/s.txt", "sub/t.txt"]
    proc = git("merge", "--no-edit", "theirs", cwd=repo)
    assert "CONFLICT" not in proc.stdout + proc.stderr
    bale("checkout", "-q", cwd=repo)
    assert _files(repo / "data") == {"c.txt": "c", "d.txt": "d", "e.txt": "e",
                                     "sub/s.txt": "s", "sub/t.txt": "t"}  # fmt: skip
    _readd_is_the_same(repo, bale, dvc)


def test_the_same_change_on_both_sides_is_one_change(repo: Path, bale, git, dvc) -> None:
    _setup(repo, bale, git)
    _branch(repo, bale, git, "ours", "main", {"c.txt": "C", "f.txt": "same", "g.txt": "g"})
    _branch(repo, bale, git, "theirs", "main", {"c.txt": "C", "f.txt": "same", "a.txt": None})
    git("checkout", "-q", "ours", cwd=repo)
    git("merge", "--no-edit", "theirs", cwd=repo)
    bale("checkout", "-q", cwd=repo)
    assert _files(repo / "data") == {"b.txt": "b", "c.txt": "C", "f.txt": "same", "g.txt": "g",
                                     "sub/s.txt": "s"}  # fmt: skip
    _readd_is_the_same(repo, bale, dvc)


def test_a_file_changed_differently_on_both_sides_is_a_conflict(repo: Path, bale, git) -> None:
    (repo / "model.bin").write_text("v1")
    bale("add", "-q", "model.bin", cwd=repo)
    _setup(repo, bale, git)
    for side in ("ours", "theirs"):
        _branch(repo, bale, git, side, "main", {"b.txt": side, f"{side}.txt": side, "a.txt": None})
        (repo / "model.bin").write_text(side)
        bale("add", "-q", "model.bin", cwd=repo)
        git("commit", "-qam", f"{side} model", cwd=repo)
    git("checkout", "-q", "ours", cwd=repo)
    cache = cache_objects(repo)
    proc = git("merge", "--no-edit", "theirs", cwd=repo, ok=False)
    assert "CONFLICT: data/b.txt: changed on both sides" in proc.stderr
    assert "CONFLICT: model.bin: changed on both sides" in proc.stderr
    assert "Traceback" not in proc.stderr
    status = git("status", "--porcelain", cwd=repo).stdout.splitlines()
    assert sorted(status) == ["UU data.dvc", "UU model.bin.dvc"]
    for name in ("data.dvc", "model.bin.dvc"):
        text = (repo / name).read_text()
        assert "<<<<<<< ours\n" in text and "=======\n" in text and ">>>>>>> theirs\n" in text
    assert cache_objects(repo) == cache  # a conflict stores no merged manifest


def test_a_file_deleted_on_one_side_and_changed_on_the_other(repo: Path, bale, git) -> None:
    _setup(repo, bale, git)
    _branch(repo, bale, git, "ours", "main", {"sub/s.txt": None, "x.txt": "x"})
    _branch(repo, bale, git, "theirs", "main", {"sub/s.txt": "changed"})
    git("checkout", "-q", "ours", cwd=repo)
    proc = git("merge", "--no-edit", "theirs", cwd=repo, ok=False)
    assert "data/sub/s.txt: deleted on one side and changed on the other" in proc.stderr
    assert git("status", "--porcelain", cwd=repo).stdout == "UU data.dvc\n"


def test_merges_with_only_the_manifests_of_the_other_side(
    repo: Path, tmp_path: Path, bale, git, dvc
) -> None:
    """Their branch was made in a clone and pushed to the remote; our cache
    has neither its files nor, at first, its manifest."""
    store = tmp_path / "store"
    bale("remote", "add", "-d", "store", str(store), cwd=repo)
    _setup(repo, bale, git)
    bale("push", "-q", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    bale("pull", "-q", cwd=clone)
    _branch(clone, bale, git, "theirs", "main", {"e.txt": "e" * 100, "b.txt": None})
    theirs_dir = (clone / "data.dvc").read_text().split()[3]
    e_md5 = hashlib.md5(b"e" * 100).hexdigest()
    git("fetch", "-q", str(clone), "theirs:theirs", cwd=repo)
    _branch(repo, bale, git, "ours", "main", {"d.txt": "d", "a.txt": None})
    before = snapshot(repo, skip=(".git",))

    # Not pushed yet: the manifest is nowhere this repository can read.
    proc = git("merge", "--no-edit", "theirs", cwd=repo, ok=False)
    assert f"the manifest {theirs_dir} (theirs) is not in the cache nor on remote 'store'" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert git("status", "--porcelain", cwd=repo).stdout == "UU data.dvc\n"
    git("merge", "--abort", cwd=repo)
    assert snapshot(repo, skip=(".git",)) == before  # no scratch folder left in the cache

    bale("push", "-q", cwd=clone)
    git("merge", "--no-edit", "theirs", cwd=repo)
    objects = cache_objects(repo)
    assert theirs_dir in objects  # the manifest was fetched
    assert e_md5 not in objects  # and nothing else
    merged = (repo / "data.dvc").read_text()
    assert "size: 103\n" in merged and "nfiles: 4\n" in merged  # c, d, e and sub/s
    bale("pull", "-q", cwd=repo)
    assert sorted(_files(repo / "data")) == ["c.txt", "d.txt", "e.txt", "sub/s.txt"]
    _readd_is_the_same(repo, bale, dvc)


LOCK_STAGE = ["stage", "add", "-q", "-n"]


def _stage(repo: Path, bale, name: str) -> None:
    (repo / f"{name}_in.txt").write_text(name)
    bale(*LOCK_STAGE, name, "-d", f"{name}_in.txt", "-o", f"{name}.txt",
         f"cp {name}_in.txt {name}.txt", cwd=repo)  # fmt: skip


def test_dvc_lock_merges_stage_by_stage(repo: Path, bale, git, dvc) -> None:
    bale("git-hook", "install", "-q", cwd=repo)
    for name in ("a", "b"):
        _stage(repo, bale, name)
    bale("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "pipeline", cwd=repo)
    # Ours changes stage b, the last; theirs adds stage c after it: a line
    # merge conflicts there, a merge by stage does not.
    git("checkout", "-q", "-b", "ours", cwd=repo)
    (repo / "b_in.txt").write_text("b2")
    bale("repro", "-q", cwd=repo)
    git("commit", "-qam", "b2", cwd=repo)
    git("checkout", "-q", "-b", "theirs", "main", cwd=repo)
    _stage(repo, bale, "c")
    bale("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "c", cwd=repo)
    # The same stage changed differently: a conflict, named.
    git("checkout", "-q", "-b", "other", "main", cwd=repo)
    (repo / "b_in.txt").write_text("b3")
    bale("repro", "-q", cwd=repo)
    git("commit", "-qam", "b3", cwd=repo)

    git("checkout", "-q", "ours", cwd=repo)
    git("merge", "--no-edit", "theirs", cwd=repo)
    lock = (repo / "dvc.lock").read_text()
    assert [line for line in lock.splitlines() if line.startswith("  ") and line[2] != " "] == [
        "  a:", "  b:", "  c:"
    ]  # fmt: skip
    bale("checkout", "-q", cwd=repo)
    assert (repo / "b.txt").read_text() == "b2" and (repo / "c.txt").read_text() == "c"
    assert "up to date" in bale("status", cwd=repo).stdout
    assert "up to date" in dvc("status", cwd=repo).stdout
    bale("repro", "-q", cwd=repo)  # nothing to rerun: the lock is what a run writes
    assert (repo / "dvc.lock").read_text() == lock

    proc = git("merge", "--no-edit", "other", cwd=repo, ok=False)
    assert "CONFLICT: dvc.lock: stage 'b' changed on both sides" in proc.stderr
    assert "UU dvc.lock" in git("status", "--porcelain", cwd=repo).stdout.splitlines()
    assert "<<<<<<< ours\n" in (repo / "dvc.lock").read_text()


# -- bad input, given to the driver directly ------------------------------------


INPUTS = ("merging/O", "merging/A", "merging/B")  # git's temporary files, in their own folder


def _driver(repo: Path, bale, base: str, ours: str, theirs: str, *, path: str = "data.dvc"):
    (repo / "merging").mkdir(exist_ok=True)
    for name, text in zip(INPUTS, (base, ours, theirs), strict=True):
        (repo / name).write_text(text)
    return bale("git-hook", "merge-driver", "--ancestor", INPUTS[0], "--ours", INPUTS[1],
                "--theirs", INPUTS[2], "--path", path, cwd=repo, ok=None)  # fmt: skip


def _dir_dvc(oid: str) -> str:
    return f"outs:\n- md5: {oid}\n  nfiles: 1\n  hash: md5\n  path: data\n"


def _manifest(repo: Path, entries: list[dict] | bytes) -> str:
    """Put a manifest with these entries (or bytes) into the cache as is; its oid."""
    data = entries if isinstance(entries, bytes) else json.dumps(entries, sort_keys=True).encode()
    md5 = hashlib.md5(data).hexdigest()
    path = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / (md5[2:] + ".dir")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5 + ".dir"


def test_a_hostile_manifest_is_refused(repo: Path, bale) -> None:
    good = [{"md5": "0" * 32, "relpath": "a.txt"}]
    base = _manifest(repo, good)
    ours = _manifest(repo, [*good, {"md5": "1" * 32, "relpath": "b.txt"}])
    for relpath in ("../../.git/hooks/post-checkout", "/etc/passwd"):
        theirs = _manifest(repo, [*good, {"md5": "2" * 32, "relpath": relpath}])
        before = snapshot(repo, skip=("merging",))
        proc = _driver(repo, bale, _dir_dvc(base), _dir_dvc(ours), _dir_dvc(theirs))
        assert_error(proc, f"data: the manifest {theirs} (theirs)", "unsafe path")
        assert snapshot(repo, skip=("merging",)) == before
        assert "<<<<<<< ours\n" in (repo / INPUTS[1]).read_text()


def test_malformed_versions_are_one_line_errors(repo: Path, bale) -> None:
    oid = _manifest(repo, [{"md5": "0" * 32, "relpath": "a.txt"}])
    other = _manifest(repo, [{"md5": "1" * 32, "relpath": "a.txt"}])
    not_a_list = _manifest(repo, b'{"md5": "x"}')
    not_json = _manifest(repo, b"[{")
    cases = [
        ("outs: [\n", "data.dvc (theirs): not valid YAML"),
        ("outs:\n- md5: 123\n  path: data\n", "malformed md5"),
        (_dir_dvc("a" * 32 + ".dir"), "is not in the cache and no remote can be read"),
        (_dir_dvc(not_a_list), "not a JSON list"),
        (_dir_dvc(not_json), "not valid JSON"),
        ("- just\n- a list\n", "expected a mapping"),
    ]
    for theirs, words in cases:
        before = snapshot(repo, skip=("merging",))
        proc = _driver(repo, bale, _dir_dvc(oid), _dir_dvc(other), theirs)
        assert_error(proc, words)
        assert snapshot(repo, skip=("merging",)) == before
    shutil.rmtree(repo / ".dvc" / "cache")
    lock = "schema: '2.0'\nstages:\n  a:\n    cmd: x\n"
    proc = _driver(repo, bale, lock, lock.replace("x", "y"), "schema: '1.0'\n", path="dvc.lock")
    assert_error(proc, "dvc.lock (theirs): lock file schema")


def test_size_is_left_out_when_no_side_can_give_it(repo: Path, bale) -> None:
    """Neither side records a size and the cache has manifests only: the merged
    `.dvc` file has no `size`, as dvc writes it then (`dvc_data`'s `du`)."""
    a, b, c = ({"md5": ch * 32, "relpath": f"{ch}.txt"} for ch in "abc")
    base, ours, theirs = (_manifest(repo, m) for m in ([a], [a, b], [a, c]))
    proc = _driver(repo, bale, _dir_dvc(base), _dir_dvc(ours), _dir_dvc(theirs))
    assert proc.returncode == 0, proc.stderr
    merged = _manifest(repo, [a, b, c])
    assert (repo / INPUTS[1]).read_text() == _dir_dvc(merged).replace("nfiles: 1", "nfiles: 3")
