"""gc's grace period: what another clone pushed a moment ago survives `gc -c`.

Two clones of one repository share a remote. This one replaced `data.txt`
(v1 is unused here now); the other added and pushed `new.txt` for a commit it
has not pushed yet, so no revision this clone can see uses it. `gc -w -c -f`
here must not delete it: it is younger than the grace period (an hour unless
`--grace` or $BALE_GC_GRACE says otherwise). Old unused objects go.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.cli.test_sync import (
    Remote,
    clone,
    commit_all,
    folder_remote,
    in_sync,
    md5,
    object_key,
    s3_remote,
    sftp_remote,
)
from tests.cli.util import Unchanged, assert_error, cache_objects, write_tree
from tests.fixtures.servers import S3Server

V1, V2, NEW = md5(b"v1\n"), md5(b"v2\n"), md5(b"new\n")


def kept(count: int, age: str = "1h") -> str:
    noun = "object" if count == 1 else "objects"
    them = "it" if count == 1 else "them"
    return (f"Kept {count} unused {noun} younger than the grace period ({age}); "
            f"--grace 0 deletes {them} too")  # fmt: skip


def two_clones(repo: Path, tmp_path: Path, store: Remote, bale, git) -> Path:
    """This clone pushed v1 then v2 of data.txt; the other, cloned at v2, pushed
    new.txt a moment ago, committed only on its side."""
    store.configure(bale, repo)
    for version in ("v1", "v2"):
        write_tree(repo, {"data.txt": f"{version}\n"})
        bale("add", "data.txt", cwd=repo)
        commit_all(git, repo, version)
        bale("push", cwd=repo)
    other = clone(git, repo, tmp_path / "other")
    bale("pull", cwd=other)
    write_tree(other, {"new.txt": "new\n"})
    bale("add", "new.txt", cwd=other)
    commit_all(git, other, "new")
    bale("push", cwd=other)
    assert store.oids() == {V1, V2, NEW}
    return other


def test_folder_remote_keeps_what_another_clone_just_pushed(
    repo: Path, tmp_path: Path, bale, git
) -> None:
    store = folder_remote(tmp_path)
    other = two_clones(repo, tmp_path, store, bale, git)
    hours_ago = time.time() - 7200
    os.utime(store.root / object_key(V1), (hours_ago, hours_ago))  # v1 went up long ago

    guard = Unchanged(tmp_path)
    assert_error(bale("gc", "-w", "-c", "-f", "--grace", "5x", cwd=repo, ok=False),
                 "--grace", "'5x' is not an age", code=2)  # fmt: skip
    guard.check()

    out = bale("gc", "-w", "-c", "--dry", "--grace", "3h", cwd=repo).stdout.splitlines()
    assert out[0] == kept(2, "3h"), out  # v1, as old as it looks, is younger than 3 hours
    out = bale("gc", "-w", "-c", "-f", cwd=repo).stdout.splitlines()
    assert out[0] == kept(1), out
    assert out[-1] == "Removed 2 objects.", out  # v1 from the cache and from the remote
    assert store.oids() == {V2, NEW}
    # this repository's own cache has no other writer: it loses v1 at once, as with dvc
    assert set(cache_objects(repo)) == {V2}
    assert bale("status", "-c", cwd=other).stdout.strip() == in_sync("storage")
    assert "All objects match their names." in bale("fsck", "-c", cwd=other).stdout

    out = bale("gc", "-w", "-c", "-f", "--grace", "0", cwd=repo).stdout.splitlines()
    assert out[-1] == "Removed 1 object.", out
    assert store.oids() == {V2}


def test_s3_remote_keeps_what_another_clone_just_pushed(
    repo: Path, tmp_path: Path, s3_server: S3Server, bale, git
) -> None:
    """S3's listing gives each key's LastModified: no request per object."""
    store = s3_remote(s3_server)
    other = two_clones(repo, tmp_path, store, bale, git)
    out = bale("gc", "-w", "-c", "-f", cwd=repo).stdout.splitlines()
    assert out[0] == kept(2), out  # v1 too went up a moment ago
    assert store.oids() == {V1, V2, NEW}
    assert bale("status", "-c", cwd=other).stdout.strip() == in_sync("storage")
    bale("gc", "-w", "-c", "-f", cwd=repo, env={**os.environ, "BALE_GC_GRACE": "0"})
    assert store.oids() == {V2}


@pytest.mark.parametrize("kind", ["folder", "sftp"])
def test_gc_c_removes_what_killed_uploads_of_other_hosts_left(
    repo: Path, tmp_path: Path, bale, git, kind: str, request: pytest.FixtureRequest
) -> None:
    """Another host's leftovers: no upload from here takes them for its own
    (fsutil.left_by_dead_process), so gc -c removes those older than the
    grace period (beside the objects on a folder remote, in an SFTP remote's
    root, where its uploads are renamed from), and only those."""
    from bale.fsutil import _owner_tag

    if kind == "folder":
        store = folder_remote(tmp_path)
    else:
        store = sftp_remote(request.getfixturevalue("sftp_server"), tmp_path)
    store.configure(bale, repo)
    write_tree(repo, {"data.txt": "v1\n"})
    bale("add", "data.txt", cwd=repo)
    commit_all(git, repo, "v1")
    bale("push", cwd=repo)
    elsewhere = "ffff" if _owner_tag() != "ffff" else "eeee"  # another host's tag
    where = object_key(V1).rpartition("/")[0] + "/" if kind == "folder" else ""
    old, young = (f"{where}upload.{elsewhere}00000001{'0' * 8}-{n}.tmp" for n in (1, 2))
    for key in (old, young):
        store.write(key, b"half an object")
    hour_ago = time.time() - 2 * 3600
    assert store.root is not None
    os.utime(store.root / old, (hour_ago, hour_ago))
    bale("gc", "-w", "-c", "-f", cwd=repo)
    assert set(store.stored_keys()) == {object_key(V1), young}
    bale("gc", "-w", "-c", "-f", "--grace", "0", cwd=repo)
    assert store.stored_keys() == [object_key(V1)]


def test_a_shared_cache_keeps_what_another_project_just_added(
    repo: Path, tmp_path: Path, bale, git
) -> None:
    """A cache other repositories use has writers this one's lock does not stop."""
    shared = tmp_path / "shared-cache"
    second = tmp_path / "second"
    second.mkdir()
    git("init", "-q", "-b", "main", cwd=second)
    bale("init", cwd=second)
    for project, name in ((repo, "mine.txt"), (second, "theirs.txt")):
        bale("config", "cache.dir", shared, cwd=project)
        write_tree(project, {name: f"{name}\n"})
        bale("add", name, cwd=project)
    theirs = shared / object_key(md5(b"theirs.txt\n"))
    out = bale("gc", "-w", "-f", cwd=repo).stdout.splitlines()
    assert out == [kept(1), "No unused objects to remove."]
    assert theirs.exists()
    bale("gc", "-w", "-f", "--grace", "0", cwd=repo)
    assert not theirs.exists()
    assert (shared / object_key(md5(b"mine.txt\n"))).exists()


@pytest.mark.parametrize("value", ["90m", "2d", "3600"])
def test_grace_values_are_accepted(repo: Path, bale, value: str) -> None:
    assert bale("gc", "-w", "-f", "--grace", value, cwd=repo).stdout.strip() == (
        "No unused objects to remove."
    )
