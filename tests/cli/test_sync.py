"""push, pull, fetch, status -c, gc and fsck end to end, over a folder remote,
moto's S3 server and an SFTP server on 127.0.0.1.

`Remote` (below) configures a remote as a user would (`bale remote add` and
`remote modify`, keys in `config.local`) and reads or damages the remote's raw
objects without going through bale; the fault tests and the compatibility
tests use it too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_cache_valid, assert_error, cache_objects, write_tree
from tests.fixtures.raw import RawAccess
from tests.fixtures.servers import S3Server, SFTPServer

# The `tracked` fixture's content (tests/cli/conftest.py).
TRACKED = {
    "data/a.txt": b"a\n",
    "data/b.txt": b"b\n",
    "data/sub/c.txt": b"c\n",
    "model.bin": b"\x00\x01model",
}
_OBJECT_KEY = re.compile(r"files/md5/([0-9a-f]{2})/([0-9a-f]{30}(?:\.dir)?)")
# Options that belong in config.local: keys, and paths of this machine.
LOCAL_OPTIONS = frozenset({"access_key_id", "secret_access_key", "keyfile", "password"})


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def manifest_oid(entries: dict[str, bytes]) -> str:
    """The `.dir` oid DVC gives a folder of {relpath: bytes}."""
    items = [{"md5": md5(data), "relpath": rel} for rel, data in sorted(entries.items())]
    return md5(json.dumps(items, sort_keys=True).encode()) + ".dir"


def objects_of(files: dict[str, bytes], *dirs: str) -> set[str]:
    """Every oid a checkout of `files` needs, with `dirs` tracked as folders."""
    oids = {md5(data) for data in files.values()}
    for folder in dirs:
        inside = {
            rel[len(folder) + 1 :]: data
            for rel, data in files.items()
            if rel.startswith(folder + "/")
        }
        oids.add(manifest_oid(inside))
    return oids


TRACKED_OIDS = objects_of(TRACKED, "data")


@dataclass
class Remote(RawAccess):
    """A remote as `bale remote add` records it, with raw access to its objects."""

    kind: str
    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict)

    def configure(self, bale, repo: Path, *, default: bool = True, name: str = "") -> None:
        """`remote add` (+ `-d`), then each option; keys and paths with --local."""
        name = name or self.name
        bale("remote", "add", *(["-d"] if default else []), name, self.url, cwd=repo)
        for key, value in self.options.items():
            local = ["--local"] if key in LOCAL_OPTIONS else []
            bale("remote", "modify", *local, name, key, value, cwd=repo)

    @property
    def secrets(self) -> list[str]:
        return [v for k, v in self.options.items() if k in ("access_key_id", "secret_access_key")]

    def oids(self) -> set[str]:
        """The objects on the remote (DVC 3 layout), temporary names left out."""
        found = set()
        for key in self.stored_keys():
            match = _OBJECT_KEY.fullmatch(key)
            if match:
                found.add(match.group(1) + match.group(2))
        return found

    def assert_whole(self) -> set[str]:
        """Every key under an object's name holds exactly that object; returns the oids."""
        oids = set()
        for key in self.stored_keys():
            match = _OBJECT_KEY.fullmatch(key)
            if not match:
                continue
            oid = match.group(1) + match.group(2)
            assert md5(self.read(key)) == oid.removesuffix(".dir"), f"partial or wrong {key}"
            oids.add(oid)
        return oids


def object_key(oid: str) -> str:
    return f"files/md5/{oid[:2]}/{oid[2:]}"


def folder_remote(tmp_path: Path, name: str = "storage") -> Remote:
    return Remote(
        "folder", name, str(tmp_path / f"remote-{name}"), root=tmp_path / f"remote-{name}"
    )


def s3_remote(server: S3Server, name: str = "storage") -> Remote:
    bucket = server.new_bucket()
    return Remote(
        "s3", name, f"s3://{bucket}/store", server.options(), s3=server, bucket=bucket,
        prefix="store",
    )  # fmt: skip


def sftp_remote(server: SFTPServer, tmp_path: Path, name: str = "storage") -> Remote:
    folder = f"{tmp_path.name}-{name}"
    return Remote(
        "sftp", name, server.url(f"/{folder}"), server.options(), root=server.root / folder
    )


def any_remote(request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    """A fresh, empty remote of the kind `request.param` names (folder, s3, sftp)."""
    if request.param == "folder":
        return folder_remote(tmp_path)
    if request.param == "s3":
        return s3_remote(request.getfixturevalue("s3_server"))
    return sftp_remote(request.getfixturevalue("sftp_server"), tmp_path)


@pytest.fixture(params=["folder", "s3", "sftp"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    return any_remote(request, tmp_path)


def clone(git, source: Path, dest: Path) -> Path:
    """A fresh git clone of `source` with its config.local (keys stay out of git)."""
    git("clone", "-q", source, dest, cwd=source.parent)
    local = source / ".dvc" / "config.local"
    if local.exists():
        shutil.copy(local, dest / ".dvc" / "config.local")
    return dest


def commit_all(git, repo: Path, message: str) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def workspace_files(repo: Path, *tops: str) -> dict[str, bytes]:
    """relpath -> bytes under the given tracked paths."""
    found = {}
    for top in tops:
        path = repo / top
        if path.is_file():
            found[top] = path.read_bytes()
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                if sub.is_file():
                    found[sub.relative_to(repo).as_posix()] = sub.read_bytes()
    return found


def in_sync(name: str) -> str:
    return f"Cache and remote '{name}' are in sync."


# -- round trips ---------------------------------------------------------------------------


def test_push_then_pull_in_a_clone_restores_every_byte(
    tracked: Path, remote: Remote, tmp_path: Path, bale, git
):
    remote.configure(bale, tracked)
    commit_all(git, tracked, "remote")

    paths = ["data", "data/a.txt", "data/b.txt", "data/sub/c.txt", "model.bin"]
    before = bale("status", "-c", cwd=tracked).stdout
    assert before == "".join(f"\tnew:                {p}\n" for p in paths)
    status = bale("status", "-c", "--json", cwd=tracked).stdout
    assert json.loads(status) == dict.fromkeys(paths, "new")

    assert bale("push", cwd=tracked).stdout.strip() == "5 files pushed"
    # DVC's layout, whole objects only, nothing else.
    assert remote.stored_keys() == sorted(object_key(o) for o in TRACKED_OIDS)
    assert remote.assert_whole() == TRACKED_OIDS
    assert bale("status", "-c", cwd=tracked).stdout.strip() == in_sync(remote.name)
    assert bale("push", cwd=tracked).stdout.strip() == "Everything is up to date."

    other = clone(git, tracked, tmp_path / "clone")
    # The folder's manifest comes from the remote (into the cache, as dvc's
    # status -c does), so each of its files is compared.
    after = json.loads(bale("status", "-c", "--json", cwd=other).stdout)
    assert after == {p: "deleted" for p in TRACKED}
    bale("pull", cwd=other)
    assert workspace_files(other, "data", "model.bin") == TRACKED
    assert set(cache_objects(other)) == TRACKED_OIDS
    assert_cache_valid(other)
    assert bale("status", "-c", cwd=other).stdout.strip() == in_sync(remote.name)
    assert bale("status", cwd=other).stdout.strip() == "Data and pipelines are up to date."
    assert bale("fsck", cwd=other).stdout.strip() == "All objects match their names."


def test_push_names_an_object_gone_from_a_folder_once_whole_in_the_cache(
    tracked: Path, tmp_path: Path, bale
):
    remote = folder_remote(tmp_path)
    remote.configure(bale, tracked)
    assert bale("status", "--json", cwd=tracked).stdout.strip() == "{}"  # known whole now
    gone = md5(TRACKED["data/a.txt"])
    obj = tracked / ".dvc" / "cache" / "files" / "md5" / gone[:2] / gone[2:]
    obj.chmod(0o644)
    obj.unlink()
    proc = bale("push", cwd=tracked)  # a warning, as dvc's: the rest is pushed
    assert proc.stdout.strip() == "4 files pushed"
    assert f"1 object not in the cache, not pushed (e.g. {gone})" in proc.stderr
    assert remote.assert_whole() == TRACKED_OIDS - {gone}


def test_push_does_not_warn_of_what_add_to_remote_already_sent(tracked: Path, tmp_path: Path, bale):
    remote = folder_remote(tmp_path)
    remote.configure(bale, tracked)
    (tracked / "big.bin").write_bytes(b"sent straight to the remote")
    bale("add", "--to-remote", "big.bin", cwd=tracked)
    proc = bale("push", cwd=tracked)  # the cache lacks big.bin; the remote has it
    assert proc.stderr == ""
    assert proc.stdout.strip() == "5 files pushed"
    assert md5(b"sent straight to the remote") in remote.oids()


def test_dash_r_picks_the_remote(tracked: Path, tmp_path: Path, bale, git):
    first, second = folder_remote(tmp_path, "first"), folder_remote(tmp_path, "second")
    first.configure(bale, tracked)
    second.configure(bale, tracked, default=False)

    bale("push", "-r", "second", cwd=tracked)
    assert first.oids() == set()
    assert second.oids() == TRACKED_OIDS
    assert bale("status", "-c", "-r", "second", cwd=tracked).stdout.strip() == in_sync("second")
    assert "new:" in bale("status", "-c", cwd=tracked).stdout  # the default: 'first'

    commit_all(git, tracked, "remotes")
    other = clone(git, tracked, tmp_path / "clone")
    bale("pull", "-r", "second", cwd=other)
    assert workspace_files(other, "data", "model.bin") == TRACKED


def test_an_output_that_names_its_remote_moves_only_there(
    tracked: Path, tmp_path: Path, bale, dvc, git
):
    # `remote: models` in model.bin.dvc, as `dvc add --remote`'s users write it.
    default, models = folder_remote(tmp_path, "shared"), folder_remote(tmp_path, "models")
    default.configure(bale, tracked)
    models.configure(bale, tracked, default=False)
    dvcfile = tracked / "model.bin.dvc"
    dvcfile.write_text(dvcfile.read_text() + "  remote: models\n")
    model_oid = md5(TRACKED["model.bin"])

    bale("push", cwd=tracked)
    assert default.oids() == TRACKED_OIDS - {model_oid}
    assert models.oids() == {model_oid}
    assert bale("status", "-c", cwd=tracked).stdout.strip() == in_sync("shared', 'models")

    # -r names one remote: outputs that name another are left alone, as dvc does.
    other = folder_remote(tmp_path, "other")
    other.configure(bale, tracked, default=False)
    bale("push", "-r", "other", cwd=tracked)
    assert other.oids() == TRACKED_OIDS - {model_oid}

    commit_all(git, tracked, "per-output remote")
    for tool, run in (("bale", bale), ("dvc", dvc)):
        copy = clone(git, tracked, tmp_path / f"clone-{tool}")
        run("pull", cwd=copy)
        assert workspace_files(copy, "data", "model.bin") == TRACKED, tool


def test_targets_limit_what_moves(tracked: Path, tmp_path: Path, bale, git):
    store = folder_remote(tmp_path)
    store.configure(bale, tracked)
    commit_all(git, tracked, "remote")
    model, c_txt = md5(TRACKED["model.bin"]), md5(TRACKED["data/sub/c.txt"])
    data_dir = manifest_oid({k[5:]: v for k, v in TRACKED.items() if k.startswith("data/")})

    bale("push", "model.bin", cwd=tracked)
    assert store.oids() == {model}
    # A path inside a tracked folder moves that part and the folder's manifest, as DVC does.
    bale("push", "data/sub", cwd=tracked)
    assert store.oids() == {model, data_dir, c_txt}
    assert bale("status", "-c", "data/sub", cwd=tracked).stdout.strip() == in_sync("storage")
    bale("push", "data.dvc", cwd=tracked)
    assert store.oids() == TRACKED_OIDS

    other = clone(git, tracked, tmp_path / "clone")
    bale("fetch", "model.bin.dvc", cwd=other)
    assert set(cache_objects(other)) == {model}
    bale("pull", "data/sub/c.txt", cwd=other)
    assert set(cache_objects(other)) == {model, data_dir, c_txt}
    assert workspace_files(other, "data") == {"data/sub/c.txt": b"c\n"}
    bale("pull", "data", cwd=other)
    assert workspace_files(other, "data") == {k: v for k, v in TRACKED.items() if "data/" in k}


def replace_file(path: Path, data: bytes) -> None:
    """Write new content over a tracked file (which may be a read-only link)."""
    path.unlink()
    path.write_bytes(data)


@pytest.fixture
def history(tracked: Path, bale, git) -> dict[str, set[str]]:
    """`tracked` with history; returns the objects each scope adds to the workspace's:

    - main: v1 (tag `v1`) → model v2 → model v3 (HEAD); model v2 only in history;
    - branch `exp` from HEAD with data/d.txt added;
    - the workspace: main's HEAD.
    """
    git("tag", "v1", cwd=tracked)
    for version in (b"v2", b"v3"):
        replace_file(tracked / "model.bin", b"model " + version)
        bale("add", "model.bin", cwd=tracked)
        commit_all(git, tracked, f"model {version.decode()}")
    git("checkout", "-qb", "exp", cwd=tracked)
    write_tree(tracked, {"data/d.txt": "d\n"})
    bale("add", "data", cwd=tracked)
    commit_all(git, tracked, "exp")
    git("checkout", "-q", "main", cwd=tracked)
    bale("checkout", cwd=tracked)
    data = {k: v for k, v in TRACKED.items() if k.startswith("data/")}
    exp_data = {**data, "data/d.txt": b"d\n"}
    workspace = objects_of({**data, "model.bin": b"model v3"}, "data")
    return {
        "workspace": workspace,
        "branches": objects_of(exp_data, "data") - workspace,
        "tags": {md5(TRACKED["model.bin"])},
        "commits": {md5(b"model v2")},
    }


def test_all_branches_tags_and_commits_push_and_fetch(
    tracked: Path, history: dict[str, set[str]], tmp_path: Path, bale, git
):
    store = folder_remote(tmp_path)
    store.configure(bale, tracked)
    commit_all(git, tracked, "remote")

    # Targets limit history too: every version of model.bin, nothing of data.
    models = {md5(b"model v3")} | history["tags"] | history["commits"]
    bale("push", "-A", "model.bin", cwd=tracked)
    assert store.oids() == models
    expected = set(history["workspace"])
    bale("push", cwd=tracked)
    assert store.oids() == expected | models
    for flag, scope in (("-T", "tags"), ("-a", "branches"), ("-A", "commits")):
        bale("push", flag, cwd=tracked)
        expected |= history[scope]
        assert store.oids() == expected | models, flag
    assert bale("status", "-c", "-A", cwd=tracked).stdout.strip() == in_sync("storage")

    other = clone(git, tracked, tmp_path / "clone")
    git("branch", "exp", "origin/exp", cwd=other)  # -a means local branches, as for dvc
    expected = set(history["workspace"])
    bale("fetch", cwd=other)
    assert set(cache_objects(other)) == expected
    for flag, scope in (("--all-tags", "tags"), ("--all-branches", "branches"),
                        ("--all-commits", "commits")):  # fmt: skip
        bale("fetch", flag, cwd=other)
        expected |= history[scope]
        assert set(cache_objects(other)) == expected, flag
    assert_cache_valid(other)


# -- gc --------------------------------------------------------------------------------------


@pytest.fixture
def pushed_history(
    tracked: Path, history: dict[str, set[str]], tmp_path: Path, bale, git
) -> tuple[Path, Remote, dict[str, set[str]]]:
    """`history` with every revision's objects pushed to a folder remote."""
    store = folder_remote(tmp_path)
    store.configure(bale, tracked)
    commit_all(git, tracked, "remote")
    bale("push", "-A", cwd=tracked)
    everything = set().union(*history.values())
    assert store.oids() == everything == set(cache_objects(tracked))
    return tracked, store, history


def test_gc_keeps_what_the_chosen_revisions_use_in_cache_and_remote(pushed_history, bale):
    repo, store, history = pushed_history
    everything = set().union(*history.values())

    # -a: the workspace and every branch; a folder's manifest is kept with its files.
    # --grace 0 in these gc tests: every object went up a moment ago, younger than
    # the default grace period (tests/cli/test_gc_grace.py tests the period).
    bale("gc", "--grace", "0", "-a", "-c", "-f", cwd=repo)
    kept = history["workspace"] | history["branches"]
    assert set(cache_objects(repo)) == kept
    assert store.oids() == kept
    # -w: the workspace alone; files the workspace shares with exp's folder stay.
    out = bale("gc", "-w", "-f", cwd=repo).stdout
    assert out.strip().splitlines()[-1] == f"Removed {len(history['branches'])} objects."
    assert set(cache_objects(repo)) == history["workspace"]
    assert store.oids() == kept  # without -c the remote is left alone
    bale("gc", "--grace", "0", "-w", "-c", "-f", cwd=repo)
    assert store.oids() == history["workspace"]
    assert everything - history["workspace"]  # something was there to delete
    assert bale("status", cwd=repo).stdout.strip() == "Data and pipelines are up to date."
    assert bale("status", "-c", cwd=repo).stdout.strip() == in_sync("storage")


def test_gc_dry_lists_and_deletes_nothing(pushed_history, tmp_path: Path, bale):
    repo, _store, history = pushed_history
    guard = Unchanged(tmp_path)
    out = bale("gc", "--grace", "0", "-w", "-c", "--dry", cwd=repo).stdout.splitlines()
    unused = set().union(*history.values()) - history["workspace"]
    assert sorted(out[1:]) == sorted(
        [f"cache: {o}" for o in unused] + [f"remote: {o}" for o in unused]
    )
    guard.check()


def test_gc_asks_without_force(pushed_history, tmp_path: Path, bale):
    import pty

    repo, store, history = pushed_history
    everything = set().union(*history.values())

    def gc_answering(answer: bytes) -> subprocess.CompletedProcess:
        main, child = pty.openpty()
        try:
            os.write(main, answer)
            return bale("gc", "--grace", "0", "-w", "-c", cwd=repo, stdin=child)
        finally:
            os.close(main)
            os.close(child)

    guard = Unchanged(tmp_path)
    out = gc_answering(b"n\n").stdout
    assert "[y/N]" in out and out.strip().endswith("Nothing deleted.")
    guard.check()
    # Without a terminal to ask on, it refuses rather than guess.
    proc = bale("gc", "-w", cwd=repo, ok=False, stdin=subprocess.DEVNULL)
    assert_error(proc, "rerun with -f")
    guard.check()

    gc_answering(b"y\n")
    assert set(cache_objects(repo)) == store.oids() == history["workspace"] != everything


def test_gc_refuses_without_a_scope(pushed_history, tmp_path: Path, bale):
    repo, _store, _history = pushed_history
    guard = Unchanged(tmp_path)
    for args in (["gc"], ["gc", "-f"], ["gc", "-c", "-f"]):
        assert_error(bale(*args, cwd=repo, ok=False), "-w", "-a", code=2)
    guard.check()


def test_gc_refuses_when_a_kept_folder_manifest_is_not_in_the_cache(
    pushed_history, tmp_path: Path, bale, git
):
    """gc cannot tell which files a folder keeps without its manifest: it stops."""
    repo, _store, _history = pushed_history
    other = clone(git, repo, tmp_path / "clone")
    git("branch", "exp", "origin/exp", cwd=other)
    bale("pull", cwd=other)  # the workspace only: exp's manifest is not here
    guard = Unchanged(tmp_path)
    for args in (["-a", "-f"], ["-a", "-c", "-f"], ["-a", "--dry"]):
        assert_error(bale("gc", *args, cwd=other, ok=False), "manifest of 'data'", "bale fetch")
    guard.check()
    bale("fetch", "-a", cwd=other)
    bale("gc", "-a", "-f", cwd=other)


def test_gc_keeps_what_other_projects_sharing_the_cache_use(repo: Path, tmp_path: Path, bale, git):
    shared_cache, store = tmp_path / "shared-cache", folder_remote(tmp_path)
    second = tmp_path / "second"
    second.mkdir()
    git("init", "-q", "-b", "main", cwd=second)
    bale("init", cwd=second)
    for project, content in ((repo, b"first\n"), (second, b"second\n")):
        bale("config", "cache.dir", shared_cache, cwd=project)
        store.configure(bale, project)
        write_tree(project, {"file.txt": content})
        bale("add", "file.txt", cwd=project)
        bale("push", cwd=project)
        commit_all(git, project, "file")
    both = {md5(b"first\n"), md5(b"second\n")}
    objects = shared_cache / "files" / "md5"
    assert {p.parent.name + p.name for p in objects.glob("*/*")} == store.oids() == both

    bale("gc", "--grace", "0", "-w", "-c", "-f", "-p", second, cwd=repo)
    assert {p.parent.name + p.name for p in objects.glob("*/*")} == store.oids() == both
    bale("gc", "--grace", "0", "-w", "-c", "-f", cwd=repo)
    assert {p.parent.name + p.name for p in objects.glob("*/*")} == {md5(b"first\n")}
    assert store.oids() == {md5(b"first\n")}


def test_gc_keeps_what_other_projects_sharing_the_remote_use(tmp_path: Path, bale, git):
    """Projects with caches of their own and one remote: each folder's manifest
    is read from its own project's cache."""
    store = folder_remote(tmp_path)
    projects = []
    for name in ("first", "second"):
        project = tmp_path / name
        project.mkdir()
        git("init", "-q", "-b", "main", cwd=project)
        bale("init", cwd=project)
        store.configure(bale, project)
        write_tree(project, {"data/own.txt": f"{name}\n", "data/same.txt": "same\n"})
        bale("add", "data", cwd=project)
        bale("push", cwd=project)
        commit_all(git, project, "data")
        projects.append(project)
    first, second = projects
    everything = store.oids()
    assert len(everything) == 5  # two manifests, two own files, one shared

    bale("gc", "--grace", "0", "-w", "-c", "-f", "-p", second, cwd=first)
    assert store.oids() == everything
    bale("gc", "--grace", "0", "-w", "-c", "-f", cwd=first)
    assert store.oids() == set(cache_objects(first))
    assert len(store.oids()) == 3

    shutil.rmtree(second / ".dvc" / "cache")  # now gc cannot tell what second keeps
    guard = Unchanged(tmp_path)
    proc = bale("gc", "-w", "-c", "-f", "-p", second, cwd=first, ok=False)
    assert_error(proc, f"the manifest of 'data' in project '{second}'", "bale fetch")
    guard.check()


# -- fsck ------------------------------------------------------------------------------------


def test_fsck_reports_corrupt_objects_in_cache_and_remote(tracked: Path, remote: Remote, bale):
    remote.configure(bale, tracked)
    bale("push", cwd=tracked)
    checks = [["fsck"], ["fsck", "-c"]] if remote.kind == "folder" else [["fsck"]]
    for args in checks:  # (a clean fsck -c of S3 is in test_sync_faults.py)
        assert bale(*args, cwd=tracked).stdout.strip() == "All objects match their names."

    bad = md5(TRACKED["data/b.txt"])
    rot = b"bit rot\n"
    remote.write(object_key(bad), rot)
    proc = bale("fsck", "-c", cwd=tracked, ok=False)
    assert proc.stdout == f"corrupt: {bad} (content hashes to {md5(rot)})\n"
    assert_error(proc, "1 object on the remote does not match its name; delete it and push")
    assert bale("fsck", cwd=tracked).stdout.strip() == "All objects match their names."

    cached = tracked / ".dvc" / "cache" / "files" / "md5" / bad[:2] / bad[2:]
    cached.chmod(0o644)
    cached.write_bytes(rot)
    other = md5(TRACKED["data/a.txt"])
    cached = tracked / ".dvc" / "cache" / "files" / "md5" / other[:2] / other[2:]
    cached.chmod(0o644)
    cached.write_bytes(b"more rot\n")
    # Targets limit what is checked, in the cache and on the remote.
    for args in (["fsck", "model.bin"], ["fsck", "-c", "data/sub"], ["fsck", "-c", "model.bin"]):
        assert bale(*args, cwd=tracked).stdout.strip() == "All objects match their names."
    assert f"corrupt: {bad}" in bale("fsck", "-c", "data", cwd=tracked, ok=False).stdout
    proc = bale("fsck", cwd=tracked, ok=False)
    assert sorted(proc.stdout.splitlines()) == sorted(
        f"corrupt: {oid} (content hashes to {md5(text)})"
        for oid, text in ((bad, b"bit rot\n"), (other, b"more rot\n"))
    )
    assert_error(proc, "2 objects in the cache do not match their names; delete them and fetch")


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "problem", "code"),
    [
        (["push"], "no default remote set; run: bale remote add -d NAME URL", 1),
        (["pull"], "no default remote set", 1),
        (["fetch"], "no default remote set", 1),
        (["status", "-c"], "no default remote set", 1),
        (["gc", "-w", "-c", "-f"], "no default remote set", 1),
        (["fsck", "-c"], "no default remote set", 1),
        (["push", "-r", "nope"], "remote 'nope' does not exist (known: nourl)", 1),
        (["pull", "-r", "nope"], "remote 'nope' does not exist", 1),
        (["push", "-r", "nourl"], "remote 'nourl' has no url", 1),
        (["push", "nothere"], "'nothere' does not exist", 1),
        (["pull", "-j", "0"], "-j/--jobs must be at least 1", 2),
    ],
)
def test_sync_refusals(tracked: Path, tmp_path: Path, bale, args: list[str], problem, code):
    """One line with the fix, nothing written: not the cache, not the workspace."""
    with (tracked / ".dvc" / "config").open("a") as fobj:
        fobj.write("['remote \"nourl\"']\n    jobs = 2\n")  # as a hand edit could leave it
    (tracked / "model.bin").unlink()  # pull would restore it
    guard = Unchanged(tmp_path)
    assert_error(bale(*args, cwd=tracked, ok=False), problem, code=code)
    guard.check()


def test_fsck_repair_replaces_corrupt_objects_from_a_good_copy(tracked: Path, tmp_path, bale):
    """A renamed object whose bytes never reached the disk (a power cut) is
    trusted by its mode until fsck re-hashes it; --repair fetches a good copy
    from the remote, or removes it when there is none, and -c repairs the
    remote from the cache."""
    remote = folder_remote(tmp_path)
    remote.configure(bale, tracked)
    bale("push", cwd=tracked)
    a, b = md5(TRACKED["data/a.txt"]), md5(TRACKED["data/b.txt"])
    remote.write(object_key(b), b"rot on the remote\n")
    for oid in (a, b):
        cached = tracked / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
        cached.chmod(0o644)
        cached.write_bytes(b"")  # what a crash before the flush leaves
        cached.chmod(0o444)
    proc = bale("fsck", "--repair", cwd=tracked, ok=False)
    assert f"repaired: {a} (a good copy from the remote)" in proc.stdout
    assert f"dropped: {b} (no good copy in the remote)" in proc.stdout
    assert_error(proc, "1 corrupt object in the cache had no good copy", "bale add")
    assert_cache_valid(tracked)
    assert a in cache_objects(tracked) and b not in cache_objects(tracked)

    bale("commit", "-f", cwd=tracked)  # the workspace still holds b: into the cache again
    proc = bale("fsck", "-c", "--repair", cwd=tracked)
    rot = md5(b"rot on the remote\n")
    assert proc.stdout.splitlines() == [
        f"corrupt: {b} (content hashes to {rot})",
        f"repaired: {b} (a good copy from the cache)",
    ]
    assert remote.read(object_key(b)) == TRACKED["data/b.txt"]
    assert bale("fsck", "-c", cwd=tracked).stdout.strip() == "All objects match their names."
