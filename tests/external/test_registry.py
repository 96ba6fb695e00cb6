"""Registries as sources, end to end: a registry served by a real `git daemon`
(and once as a plain path), its data on a folder remote; list, get, import,
update and pull in consumer projects, beside the real dvc."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, write_tree
from tests.fixtures.gitd import git_daemon

pytestmark = pytest.mark.dvc

V1 = {"data/a.txt": "a\n", "data/sub/b.txt": "b\n", "model.bin": "model v1\n", "README": "hi\n"}


class Registry:
    def __init__(self, root: Path, store: Path, url: str) -> None:
        self.root = root
        self.store = store
        self.url = url


def make_registry(
    root: Path, bale, git, *, tracked: tuple[str, ...] = ("data",), remote: list[str] | None = None
) -> Path:
    """A committed registry at `root` tracking `tracked` of V1, pushed to
    `remote` (`remote add -d` arguments) when one is given."""
    root.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, V1)
    bale("add", "-q", *tracked, cwd=root)
    if remote is not None:
        bale("remote", "add", "-d", *remote, cwd=root)
        bale("push", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v1", cwd=root)
    return root


@pytest.fixture
def served(tmp_path: Path, bale, git) -> Iterator[Registry]:
    """A registry with `data/` (two files) and `model.bin` tracked, pushed to a
    folder remote, tagged v1, served over git:// (its data comes from the remote)."""
    base = tmp_path / "served"
    store = tmp_path / "registry-store"
    root = make_registry(base / "registry", bale, git, tracked=("data", "model.bin"),
                         remote=["storage", str(store)])  # fmt: skip
    git("tag", "v1", cwd=root)
    with git_daemon(base) as prefix:
        yield Registry(root, store, f"{prefix}/registry")


@pytest.fixture
def consumer(tmp_path: Path, bale, git) -> Path:
    root = tmp_path / "consumer"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    git("commit", "-qm", "init", cwd=root)
    return root


def test_list_prints_what_dvc_list_prints(served: Registry, tmp_path: Path, bale, dvc):
    for args in ([], ["-R"], ["data"], ["data", "-R", "--json"], ["--dvc-only"],
                 ["data/sub/b.txt", "--json"], ["-R", "--json"]):  # fmt: skip
        ours = bale("list", served.url, *args, cwd=tmp_path).stdout
        theirs = dvc("list", served.url, *args, cwd=tmp_path).stdout
        if "--json" in args:
            assert json.loads(ours) == json.loads(theirs), args
        else:
            assert ours.split() == theirs.split(), args


def test_get_of_one_file_fetches_it_and_its_manifest_only(served: Registry, tmp_path, bale):
    out = tmp_path / "b.txt"
    bale("get", served.url, "data/sub/b.txt", "-o", out, cwd=tmp_path)
    assert out.read_text() == "b\n"
    objects = Path(os.environ["HOME"]) / ".cache" / "bale" / "objects" / "files" / "md5"
    names = sorted(p.parent.name + p.name for p in objects.glob("??/*"))
    assert len(names) == 2 and sum(n.endswith(".dir") for n in names) == 1, names


def test_import_writes_what_dvc_import_writes(
    served: Registry, consumer: Path, tmp_path: Path, bale, dvc, git
):
    twin = tmp_path / "twin"
    shutil.copytree(consumer, twin)
    for args in (["data"], ["data/sub/b.txt", "-o", "b.txt"], ["model.bin", "--rev", "v1"]):
        bale("import", served.url, *args, cwd=consumer)
        dvc("import", "-q", served.url, *args, cwd=twin)
    for name in ("data.dvc", "b.txt.dvc", "model.bin.dvc", ".gitignore"):
        assert (consumer / name).read_bytes() == (twin / name).read_bytes(), name
    assert (consumer / "data" / "sub" / "b.txt").read_text() == "b\n"
    assert "up to date" in dvc("status", cwd=consumer).stdout
    # dvc works on bale's imports, bale on dvc's
    dvc("update", "-q", "data.dvc", cwd=consumer)
    bale("update", "data.dvc", cwd=twin)
    assert (twin / "data.dvc").read_bytes() == (consumer / "data.dvc").read_bytes()


def test_update_follows_the_registry_and_writes_nothing_when_it_did_not_move(
    served: Registry, consumer: Path, bale, git
):
    bale("import", served.url, "data", cwd=consumer)
    before = (consumer / "data.dvc").read_bytes()
    stat = (consumer / "data.dvc").stat()
    assert "is up to date" in bale("update", cwd=consumer).stdout
    assert (consumer / "data.dvc").stat().st_mtime_ns == stat.st_mtime_ns

    root = served.root  # a new version on a branch, merged
    git("checkout", "-qb", "more", cwd=root)
    write_tree(root, {"data/c.txt": "c\n"})
    bale("add", "-q", "data", cwd=root)
    bale("push", "-q", cwd=root)
    git("commit", "-qam", "more data", cwd=root)
    git("checkout", "-q", "main", cwd=root)
    git("merge", "-q", "--ff-only", "more", cwd=root)

    assert "Updated 'data'" in bale("update", cwd=consumer).stdout
    assert (consumer / "data" / "c.txt").read_text() == "c\n"
    assert (consumer / "data.dvc").read_bytes() != before
    # An older tag, by --rev
    bale("update", "--rev", "v1", "data.dvc", cwd=consumer)
    assert not (consumer / "data" / "c.txt").exists()
    assert "rev: v1" in (consumer / "data.dvc").read_text()


def test_a_clone_of_the_consumer_pulls_without_the_registry(
    tmp_path: Path, consumer: Path, bale, git
):
    base = tmp_path / "served2"
    make_registry(base / "registry", bale, git, remote=["storage", str(tmp_path / "reg-store")])
    with git_daemon(base) as prefix:
        bale("import", f"{prefix}/registry", "data", cwd=consumer)
    bale("remote", "add", "-d", "mine", str(tmp_path / "consumer-store"), cwd=consumer)
    bale("push", cwd=consumer)
    git("add", "-A", cwd=consumer)
    git("commit", "-qm", "import", cwd=consumer)
    clone = tmp_path / "clone"
    git("clone", "-q", str(consumer), str(clone), cwd=tmp_path)
    bale("pull", cwd=clone)  # the registry's server is gone
    assert (clone / "data" / "sub" / "b.txt").read_text() == "b\n"


def test_a_local_path_reads_the_sources_own_cache(tmp_path: Path, consumer: Path, bale, git):
    root = make_registry(tmp_path / "local-registry", bale, git)  # no remote: its cache only
    bale("import", str(root), "data", cwd=consumer)
    assert (consumer / "data" / "a.txt").read_text() == "a\n"
    guard = Unchanged(root)
    bale("list", str(root), "-R", cwd=consumer)
    guard.check()  # reading wrote nothing into the source


def test_a_relative_path_typed_in_a_subfolder_is_recorded_from_the_root(
    tmp_path: Path, consumer: Path, bale, dvc, git
):
    make_registry(tmp_path / "local-registry", bale, git)
    (consumer / "inputs").mkdir()
    bale("import", "../../local-registry", "data", cwd=consumer / "inputs")
    bale("import", "../local-registry", "model.bin", cwd=consumer)  # from the root: as typed
    for dvcfile in ("inputs/data.dvc", "model.bin.dvc"):
        assert "url: ../local-registry\n" in (consumer / dvcfile).read_text()
    for cwd in (consumer, consumer / "inputs"):
        assert bale("status", "--json", cwd=cwd).stdout.strip() == "{}"
    assert dvc("status", "--json", cwd=consumer).stdout.strip() == "{}"


# -- bad input ------------------------------------------------------------------------


def test_bad_sources_and_destinations(served: Registry, consumer: Path, tmp_path: Path, bale):
    (consumer / "taken").write_text("mine\n")
    guard = Unchanged(tmp_path / "consumer")
    cases = [
        (["import", str(tmp_path), "data"], "is not a git repository"),
        (["import", str(tmp_path / "nope"), "data"], "does not exist"),
        (["import", served.url, "nothere"], "'nothere' does not exist"),
        (["import", served.url, "data", "--rev", "nope"], "revision 'nope' does not exist"),
        (["import", "git://127.0.0.1:1/x", "data"], "cannot read the repository"),
        (["import", served.url, "data", "-o", "taken"], "'taken' already exists"),
        (["import", served.url, "data", "-o", ".git/hooks"], "repository metadata"),
        (["import", served.url, "data", "-o", "raw/data"], "the folder 'raw' does not exist"),
        (["get", served.url, "nothere"], "'nothere' does not exist"),
        (
            ["get", served.url, "nothere", "--rev", "v1"],
            "at revision v1 (",
            f"bale list {served.url} --rev v1",
        ),
    ]
    for args, *problems in cases:
        assert_error(bale(*args, cwd=consumer, ok=False), *problems)
    guard.check()


def test_a_source_without_a_remote_or_with_an_unreachable_one(
    tmp_path: Path, consumer: Path, bale, git, monkeypatch
):
    """Its data is in no cache the consumer can read: one line that names the
    source and its remote, and nothing written."""
    root = make_registry(tmp_path / "reg", bale, git)  # never pushed, no remote
    bare = tmp_path / "reg.git"  # a clone: the registry's own cache is not beside it
    git("clone", "-q", "--bare", str(root), str(bare), cwd=tmp_path)
    guard = Unchanged(consumer)
    for verb in ("import", "get"):
        assert_error(bale(verb, str(bare), "data", cwd=consumer, ok=False),
                     f"{bare} has no default remote", "bale remote add -d")  # fmt: skip

    def point_remote_at(url: str, *options: str) -> None:
        bale("remote", "add", "-f", "-d", "storage", url, cwd=root)
        for option in options:
            bale("remote", "modify", "storage", *option.split("=", 1), cwd=root)
        git("commit", "-qam", f"remote {url}", cwd=root)
        git("fetch", "-q", str(root), "main:main", cwd=bare)

    point_remote_at(str(tmp_path / "gone"))
    for verb in ("import", "get"):
        assert_error(bale(verb, str(bare), "data", cwd=consumer, ok=False),
                     f"{bare}: 'data' cannot be fetched", "the folder does not exist")  # fmt: skip
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    point_remote_at("s3://bucket/store", "endpointurl=http://127.0.0.1:1")
    assert_error(bale("import", str(bare), "data", cwd=consumer, ok=False),
                 f"{bare}: 'data' cannot be fetched", "cannot reach the S3 endpoint")  # fmt: skip
    guard.check()


def test_an_import_into_a_tracked_path_is_refused(served: Registry, consumer: Path, bale, git):
    write_tree(consumer, {"data/x.txt": "x\n"})
    bale("add", "data", cwd=consumer)
    assert_error(
        bale("import", served.url, "model.bin", "-o", "data/model.bin", cwd=consumer, ok=False),
        "overlaps 'data'",
        "data.dvc",
    )


def test_a_source_whose_manifest_escapes_is_refused(tmp_path: Path, consumer: Path, bale, git):
    root = tmp_path / "evil"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    write_tree(root, {"data/a.txt": "a\n"})
    bale("add", "-q", "data", cwd=root)
    import hashlib

    manifest = json.dumps([{"md5": hashlib.md5(b"a\n").hexdigest(), "relpath": "../../x"}],
                          sort_keys=True).encode()  # fmt: skip
    oid = hashlib.md5(manifest).hexdigest() + ".dir"
    obj = root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(manifest)
    text = (root / "data.dvc").read_text()
    old = next(line.split()[-1] for line in text.splitlines() if "md5:" in line)
    (root / "data.dvc").write_text(text.replace(old, oid))
    git("add", "-A", cwd=root)
    git("commit", "-qm", "evil", cwd=root)
    guard = Unchanged(tmp_path)
    for args in (["import", str(root), "data"], ["get", str(root), "data"]):
        assert_error(bale(*args, cwd=consumer, ok=False), "manifest", "unsafe path")
    guard.check()


def test_status_tells_an_update_is_available_and_never_fails_on_an_unreachable_source(
    tmp_path: Path, consumer: Path, bale, dvc, git
):
    base = tmp_path / "served3"
    root = make_registry(base / "registry", bale, git,
                         remote=["storage", str(tmp_path / "reg-store")])  # fmt: skip
    with git_daemon(base) as prefix:
        url = f"{prefix}/registry"
        bale("import", url, "data", cwd=consumer)
        assert bale("status", "--json", cwd=consumer).stdout.strip() == "{}"
        write_tree(root, {"data/c.txt": "c\n"})
        bale("add", "-q", "data", cwd=root)
        git("commit", "-qam", "v2", cwd=root)
        ours = json.loads(bale("status", "--json", cwd=consumer).stdout)
        theirs = json.loads(dvc("status", "--json", cwd=consumer).stdout)
        assert (
            ours
            == theirs
            == {"data.dvc": [{"changed deps": {f"data ({url})": "update available"}}]}
        )
    proc = bale("status", cwd=consumer)  # the server is gone: said, not failed
    assert f"not checked:        data ({url})" in proc.stdout


def test_pull_falls_back_to_the_source_when_the_consumers_remote_lacks_an_import(
    served: Registry, consumer: Path, tmp_path: Path, bale, git
):
    """DVC issue 9826: a clone of a consumer whose remote never got the
    imported data must still pull it, from the source."""
    bale("import", served.url, "data", cwd=consumer)
    git("add", "-A", cwd=consumer)
    git("commit", "-qm", "import", cwd=consumer)
    clone = tmp_path / "clone"
    git("clone", "-q", str(consumer), str(clone), cwd=tmp_path)
    out = bale("pull", cwd=clone).stdout  # no remote of its own at all
    assert out.splitlines()[-1] == "3 files fetched and 1 file added"
    assert (clone / "data" / "a.txt").read_text() == "a\n"
    bale("remote", "add", "-d", "empty", str(tmp_path / "empty-store"), cwd=clone)
    shutil.rmtree(clone / ".dvc" / "cache")
    shutil.rmtree(clone / "data")
    bale("pull", cwd=clone)  # a remote that lacks it: the source again
    assert (clone / "data" / "sub" / "b.txt").read_text() == "b\n"


def test_a_dvc2_import_is_read_and_rewritten_only_when_its_source_moved(
    served: Registry, consumer: Path, bale, git
):
    bale("import", served.url, "model.bin", cwd=consumer)
    text = (consumer / "model.bin.dvc").read_text()
    old = text.replace("  hash: md5\n", "")  # DVC 2 wrote no hash keys (md5-dos2unix)
    (consumer / "model.bin.dvc").write_text(old)
    assert "is up to date" in bale("update", cwd=consumer).stdout
    assert (consumer / "model.bin.dvc").read_text() == old  # untouched: nothing moved

    write_tree(served.root, {"model.bin": "model v2\n"})
    bale("add", "-q", "model.bin", cwd=served.root)
    bale("push", "-q", cwd=served.root)
    git("commit", "-qam", "v2", cwd=served.root)
    assert "Updated 'model.bin'" in bale("update", cwd=consumer).stdout
    new = (consumer / "model.bin.dvc").read_text()
    assert "  hash: md5\n" in new and "md5-dos2unix" not in new  # DVC 3's form now
    assert (consumer / "model.bin").read_text() == "model v2\n"


def test_a_registry_on_the_s3_server(tmp_path: Path, consumer: Path, bale, git, s3_server):
    """The registry's remote is S3 with a custom endpoint, its keys in its own
    config.local; the consumer brings its keys in the environment."""
    bucket = s3_server.new_bucket()
    base = tmp_path / "served-s3"
    root = make_registry(base / "registry", bale, git)
    bale("remote", "add", "-d", "s3", f"s3://{bucket}/store", cwd=root)
    for key, value in s3_server.options().items():
        local = key in ("access_key_id", "secret_access_key")
        bale("remote", "modify", *(["--local"] if local else []), "s3", key, value, cwd=root)
    bale("push", "-q", cwd=root)
    git("commit", "-qam", "remote", cwd=root)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": s3_server.access_key_id,
           "AWS_SECRET_ACCESS_KEY": s3_server.secret_access_key}  # fmt: skip
    with git_daemon(base) as prefix:
        url = f"{prefix}/registry"
        bale("import", url, "data", cwd=consumer, env=env)
        assert (consumer / "data" / "sub" / "b.txt").read_text() == "b\n"
        bale("get", url, "data/a.txt", "-o", tmp_path / "a.txt", cwd=tmp_path, env=env)
        assert (tmp_path / "a.txt").read_text() == "a\n"
        proc = bale("get", url, "data", "-o", tmp_path / "d", cwd=tmp_path, ok=False)
        assert_error(proc, "s3")  # no keys: one line naming the remote


def test_pull_of_one_file_inside_an_imported_folder_fetches_that_file_only(
    served: Registry, consumer: Path, tmp_path: Path, bale, git
):
    """DVC issue 6124: pulling one file of an imported folder fetches that
    file and the folder's manifest, not the folder."""
    bale("import", served.url, "data", cwd=consumer)
    git("add", "-A", cwd=consumer)
    git("commit", "-qm", "import", cwd=consumer)
    clone = tmp_path / "clone"
    git("clone", "-q", str(consumer), str(clone), cwd=tmp_path)
    bale("pull", "data/sub/b.txt", cwd=clone)
    assert (clone / "data" / "sub" / "b.txt").read_text() == "b\n"
    assert not (clone / "data" / "a.txt").exists()
    objects = clone / ".dvc" / "cache" / "files" / "md5"
    names = sorted(p.parent.name + p.name for p in objects.glob("??/*"))
    assert len(names) == 2 and sum(n.endswith(".dir") for n in names) == 1, names


def test_dvc_pulls_bales_imports_and_bale_pulls_dvcs(
    served: Registry, consumer: Path, tmp_path: Path, bale, dvc, git
):
    twin = tmp_path / "twin"
    shutil.copytree(consumer, twin)
    bale("import", served.url, "data", cwd=consumer)
    dvc("import", "-q", served.url, "data", cwd=twin)
    for made_by, puller in ((consumer, dvc), (twin, bale)):
        git("add", "-A", cwd=made_by)
        git("commit", "-qm", "import", cwd=made_by)
        clone = tmp_path / f"clone-of-{made_by.name}"
        git("clone", "-q", str(made_by), str(clone), cwd=tmp_path)
        puller("pull", cwd=clone)
        assert (clone / "data" / "sub" / "b.txt").read_text() == "b\n", made_by.name
        assert (clone / "data" / "a.txt").read_text() == "a\n"
