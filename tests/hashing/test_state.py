"""The state database: a file whose (inode, mtime, size) did not change is not read
again; any change of those is noticed; keys are relative, so a moved clone keeps it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bale.formats.manifest import dump_manifest, manifest_oid
from bale.hashing.state import StateDB
from bale.hashing.tree import PART, certainly_differs, hash_tree
from bale.hashing.walk import Listing, walk_files

FILES = {"a.txt": b"a\n", "sub/b.txt": b"b\n", "sub/c.txt": b"c\n"}


def _make(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def _expected(files: dict[str, bytes]) -> str:
    return manifest_oid(dump_manifest((r, hashlib.md5(d).hexdigest()) for r, d in files.items()))


def _hash(root: Path, state: StateDB, *, need_entries: bool = False, legacy: bool = False):
    listing = walk_files(str(root / "data"))
    return hash_tree(
        str(root / "data"), "data", listing, state, need_entries=need_entries, legacy=legacy
    )


def _edit_behind_the_states_back(path: Path, data: bytes) -> None:
    """Same inode, same size, same mtime, other bytes: only a re-read could tell."""
    sres = path.stat()
    assert len(data) == sres.st_size
    with open(path, "r+b") as fobj:
        fobj.write(data)
    os.utime(path, ns=(sres.st_atime_ns, sres.st_mtime_ns))


def test_hash_tree_matches_the_manifest(tmp_path: Path):
    _make(tmp_path / "data", FILES)
    state = StateDB(str(tmp_path / "state.db"))
    tree = _hash(tmp_path, state, need_entries=True)
    assert tree.oid == _expected(FILES)
    assert (tree.size, tree.nfiles) == (6, 3)
    assert tree.entries == sorted((r, hashlib.md5(d).hexdigest()) for r, d in FILES.items())


def test_unchanged_files_are_not_read_again(tmp_path: Path):
    _make(tmp_path / "data", FILES)
    state = StateDB(str(tmp_path / "state.db"))
    first = _hash(tmp_path, state).oid
    _edit_behind_the_states_back(tmp_path / "data" / "a.txt", b"Z\n")
    assert _hash(tmp_path, state).oid == first  # the whole tree from the state
    # Per file, too: another file changes, a.txt's md5 still comes from the state.
    (tmp_path / "data" / "sub" / "c.txt").write_bytes(b"cc\n")
    tree = _hash(tmp_path, state, need_entries=True)
    assert dict(tree.entries)["a.txt"] == hashlib.md5(b"a\n").hexdigest()


def test_any_change_of_inode_mtime_or_size_is_noticed(tmp_path: Path):
    data = tmp_path / "data"
    _make(data, FILES)
    state = StateDB(str(tmp_path / "state.db"))
    _hash(tmp_path, state)
    files = dict(FILES)

    _edit_behind_the_states_back(data / "a.txt", b"A\n")  # content only: unseen...
    os.utime(data / "a.txt", ns=(1, 10**18))  # ...until the mtime moves
    files["a.txt"] = b"A\n"
    assert _hash(tmp_path, state).oid == _expected(files)

    (data / "sub" / "b.txt").write_bytes(b"longer\n")  # size
    files["sub/b.txt"] = b"longer\n"
    assert _hash(tmp_path, state).oid == _expected(files)

    sres = (data / "sub" / "c.txt").stat()
    os.rename(data / "sub" / "c.txt", tmp_path / "old")  # keep the inode busy
    (data / "sub" / "c.txt").write_bytes(b"C\n")  # a new inode
    os.utime(data / "sub" / "c.txt", ns=(sres.st_atime_ns, sres.st_mtime_ns))
    files["sub/c.txt"] = b"C\n"
    assert _hash(tmp_path, state).oid == _expected(files)

    (data / "new.txt").write_bytes(b"n\n")  # files added and removed
    (data / "a.txt").unlink()
    del files["a.txt"]
    files["new.txt"] = b"n\n"
    assert _hash(tmp_path, state).oid == _expected(files)


def test_edits_in_one_part_of_a_large_tree_hash_as_from_scratch(tmp_path: Path):
    """Unchanged parts (runs of up to PART files of a folder) come from the
    state whole; every kind of edit still gives the oid a fresh state gives."""
    data = tmp_path / "data"
    files = {f"big/{i:04d}.bin": b"%d\n" % i for i in range(PART + 20)}
    files.update({f"d{i}/x.txt": b"x%d\n" % i for i in range(5)})
    _make(data, files)
    state = StateDB(str(tmp_path / "state.db"))
    _hash(tmp_path, state)

    def check() -> None:
        tree = _hash(tmp_path, state, need_entries=True)
        fresh = _hash(tmp_path, StateDB(str(tmp_path / "fresh.db")), need_entries=True)
        (tmp_path / "fresh.db").unlink()
        assert tree.oid == fresh.oid == _expected(files)
        assert tree.entries == fresh.entries

    edits = [
        lambda: (data / "big/0003.bin").write_bytes(b"changed\n"),
        lambda: os.rename(data / "big/0004.bin", data / "big/renamed.bin"),
        lambda: os.rename(data / "d1/x.txt", data / "d2/y.txt"),  # to another folder
        lambda: (data / "d3/x.txt").unlink(),
        lambda: (data / "d9").mkdir() or (data / "d9/new.txt").write_bytes(b"new\n"),
        lambda: [(data / f"big/{i:04d}.bin").unlink() for i in range(10, 110)],  # parts shift
    ]
    for edit in edits:
        edit()
        files = {str(p.relative_to(data)): p.read_bytes() for p in data.rglob("*") if p.is_file()}
        check()
    # A part untouched since it was hashed is taken whole: an edit behind the
    # state's back there stays unseen (as for a single file, above).
    before = _hash(tmp_path, state, need_entries=True)
    _edit_behind_the_states_back(data / "d0/x.txt", b"Z0\n")
    (data / "big/0200.bin").write_bytes(b"seen\n")
    after = dict(_hash(tmp_path, state, need_entries=True).entries)
    assert after["d0/x.txt"] == dict(before.entries)["d0/x.txt"]
    assert after["big/0200.bin"] == hashlib.md5(b"seen\n").hexdigest()


def test_a_changed_file_is_told_without_the_new_manifest_and_only_when_certain(tmp_path: Path):
    """`certainly_differs` answers True only for a real change against the
    committed tree; everything it cannot be sure of is left to hash_tree."""
    data = tmp_path / "data"
    files = {f"big/{i:04d}.bin": b"%d\n" % i for i in range(PART + 20)}
    _make(data, files)
    state = StateDB(str(tmp_path / "state.db"))
    committed = _hash(tmp_path, state).oid
    state.mark_parts_held("data", committed)  # what add does once it commits

    def differs(oid: str = committed, listing: Listing | None = None) -> bool:
        listing = listing if listing is not None else walk_files(str(data))
        return certainly_differs(str(data), "data", listing, state, oid)

    assert not differs()
    target = data / "big/0003.bin"
    os.utime(target, ns=(5, 5))  # touched only
    assert not differs()
    # The same files listed in another order (a folder whose files were
    # recreated, on a filesystem listing them by age): not told.
    reordered = Listing()
    reordered.extend(reversed(walk_files(str(data))))
    reordered.folders = [("big/", 0, len(reordered))]
    assert not differs(listing=reordered)
    target.write_bytes(b"changed\n")
    assert differs()
    assert not differs("0" * 32 + ".dir")  # parts held for another commit: not told
    target.write_bytes(files["big/0003.bin"])  # the committed bytes again
    assert not differs()
    assert _hash(tmp_path, state).oid == committed


def test_a_moved_repository_keeps_its_state(tmp_path: Path):
    old, new = tmp_path / "old", tmp_path / "new"
    _make(old / "data", FILES)
    state = StateDB(str(old / "state.db"))
    first = _hash(old, state).oid
    state.close()
    os.rename(old, new)  # same inodes and mtimes, another absolute path
    _edit_behind_the_states_back(new / "data" / "a.txt", b"Z\n")
    assert _hash(new, StateDB(str(new / "state.db"))).oid == first


def test_dos2unix_and_plain_hashes_are_kept_apart(tmp_path: Path):
    _make(tmp_path / "data", {"crlf.txt": b"x\r\n"})
    state = StateDB(str(tmp_path / "state.db"))
    plain = _hash(tmp_path, state, need_entries=True).entries
    legacy = _hash(tmp_path, state, need_entries=True, legacy=True).entries
    assert plain == [("crlf.txt", hashlib.md5(b"x\r\n").hexdigest())]
    assert legacy == [("crlf.txt", hashlib.md5(b"x\n").hexdigest())]
    assert _hash(tmp_path, state, need_entries=True).entries == plain


def test_a_corrupt_state_file_is_rebuilt(tmp_path: Path):
    _make(tmp_path / "data", FILES)
    (tmp_path / "state.db").write_bytes(b"this is not sqlite" * 100)
    state = StateDB(str(tmp_path / "state.db"))
    assert _hash(tmp_path, state).oid == _expected(FILES)
