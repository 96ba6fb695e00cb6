"""`list`, `get` and `import` from a registry someone else wrote, served by a
real `git daemon`: its `.dvc` files, `dvc.lock` outputs and `dvc.yaml` wdirs
aim outside, into `.git` or `.dvc`; it commits symlinks out of the
repository; a manifest names `../`; its `.dvc/config` names a folder of the
consumer's machine as its remote.

Each hostile revision is one branch of one registry. A refusal is one
`ERROR:` line naming the source's file (or the option) and leaves the
consumer, and the folder `get` writes into, as they were.

What tests/cli/test_hostile.py (the consumer's own `.dvc` files) and
tests/external/test_registry.py (a manifest escaping, for get and import)
cover is not repeated here.

A source's folder remote is read, as dvc reads it: registries keep their data
on shared folders. It cannot make bale read any other file of this machine:
only paths of the object layout (`files/md5/XX/...`, names checked as md5s)
are opened there, every byte is verified against its name before it is
stored or placed (dvc places a planted file unverified), and nothing is
written there. The tests below aim it at `/etc` and at a folder of the
consumer's holding a planted object.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, bale_argv, write_tree
from tests.conftest import isolated_vars
from tests.fixtures.gitd import git_daemon
from tests.reliability.report import case

PART = "hostile sources"
A = b"a\n"
A_MD5 = hashlib.md5(A).hexdigest()


def _case(what: str) -> AbstractContextManager[None]:
    """One case of the page's table: what was tried."""
    return case(PART, what, "pytest tests/reliability/test_hostile_sources.py")


def _dvcfile(path: str, md5: str = A_MD5, extra: str = "") -> str:
    return f"outs:\n- md5: {md5}\n  size: 2\n  hash: md5\n  path: {path}\n{extra}"


def _pipeline(wdir: str, out: str) -> dict[str, str]:
    yaml = "stages:\n  s:\n    cmd: echo\n" + (f"    wdir: {wdir}\n" if wdir else "")
    lock = (
        f"schema: '2.0'\nstages:\n  s:\n    cmd: echo\n    outs:\n"
        f"    - path: {out}\n      md5: {A_MD5}\n      size: 2\n      hash: md5\n"
    )
    return {"dvc.yaml": yaml + f"    outs:\n    - {out}\n", "dvc.lock": lock}


def _escaping_manifest() -> tuple[str, bytes]:
    data = json.dumps([{"md5": A_MD5, "relpath": "../../x"}], sort_keys=True).encode()
    return hashlib.md5(data).hexdigest() + ".dir", data


# branch -> (files written over main's, what the refusal names)
STAGE_FILES = {
    "out-up": ({"evil.dvc": _dvcfile("../x")}, ["evil.dvc", "outside the repository"]),
    "out-absolute": ({"evil.dvc": _dvcfile("/tmp/x")}, ["evil.dvc", "outside the repository"]),
    "out-git": (
        {"evil.dvc": _dvcfile(".git/hooks/post-checkout")},
        ["evil.dvc", "inside .git/"],
    ),
    "out-dvc": ({"evil.dvc": _dvcfile(".dvc/config")}, ["evil.dvc", "inside .dvc/"]),
    "lock-up": (_pipeline("", "../x"), ["dvc.yaml", "'../x' lies outside"]),
    "wdir-up": (_pipeline("..", "x"), ["dvc.yaml", "outside", "wdir (..)"]),
    "wdir-git": (_pipeline(".git", "hooks/pre-commit"), ["dvc.yaml", ".git/", "wdir (.git)"]),
}


class Source:
    def __init__(self, url: str, root: Path, store: Path, planted: Path) -> None:
        self.url = url
        self.root = root
        self.store = store
        self.planted = planted  # a folder of the consumer's, named by one branch's config


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """One registry with `a.txt` tracked and pushed on main, and a branch
    per hostile revision, served over git://."""
    base = tmp_path_factory.mktemp("hostile")
    env = {**os.environ, **isolated_vars(base / "home")}

    def run(*argv: str, cwd: Path) -> None:
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)

    served, store, planted = base / "served", base / "store", base / "consumer-folder"
    root = served / "registry"
    root.mkdir(parents=True)
    run("git", "init", "-q", "-b", "main", cwd=root)
    run(*bale_argv(), "init", "-q", cwd=root)
    write_tree(root, {"a.txt": A})
    run(*bale_argv(), "add", "-q", "a.txt", cwd=root)
    run(*bale_argv(), "remote", "add", "-d", "storage", str(store), cwd=root)
    run(*bale_argv(), "push", "-q", cwd=root)
    oid, manifest = _escaping_manifest()
    write_tree(store, {f"files/md5/{oid[:2]}/{oid[2:]}": manifest})
    run("git", "add", "-A", cwd=root)
    run("git", "commit", "-qm", "v1", cwd=root)
    config = (root / ".dvc" / "config").read_text()
    branches: dict[str, dict[str, str]] = {name: files for name, (files, _) in STAGE_FILES.items()}
    branches["manifest-up"] = {"data.dvc": _dvcfile("data", md5=oid, extra="  nfiles: 1\n")}
    branches["remote-etc"] = {".dvc/config": config.replace(str(store), "/etc")}
    branches["remote-planted"] = {".dvc/config": config.replace(str(store), str(planted))}
    for name, files in branches.items():
        run("git", "checkout", "-q", "-b", name, "main", cwd=root)
        write_tree(root, files)
        run("git", "add", "-A", cwd=root)
        run("git", "commit", "-qm", name, cwd=root)
    run("git", "checkout", "-q", "-b", "symlinks", "main", cwd=root)
    os.symlink("../outside", root / "link-up")
    os.symlink("/etc/passwd", root / "link-absolute")
    write_tree(root, {"folder/ok.txt": "ok\n"})
    os.symlink("/etc/passwd", root / "folder" / "passwd")
    run("git", "add", "-A", cwd=root)
    run("git", "commit", "-qm", "symlinks", cwd=root)
    run("git", "checkout", "-q", "main", cwd=root)
    with git_daemon(served) as prefix:
        yield Source(f"{prefix}/registry", root, store, planted)


@pytest.fixture(scope="module")
def _consumer_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("consumer")
    env = {**os.environ, **isolated_vars(base / "home")}
    root = base / "consumer"
    root.mkdir()
    for argv in (["git", "init", "-q", "-b", "main"], [*bale_argv(), "init", "-q"],
                 ["git", "commit", "-qm", "init"]):  # fmt: skip
        subprocess.run(argv, cwd=root, env=env, check=True, capture_output=True)
    return root


@pytest.fixture
def consumer(_consumer_template: Path, tmp_path: Path) -> Path:
    """A consumer project (git, `bale init`) and beside it `got/`, where `get` writes."""
    root = tmp_path / "consumer"
    shutil.copytree(_consumer_template, root, symlinks=True)
    (tmp_path / "got").mkdir()
    return root


def _refused(bale, consumer: Path, args: list[str], needles: list[str]) -> None:
    """`args` fails in one line naming `needles`; the consumer and `got/` are untouched."""
    guard = Unchanged(consumer.parent)
    cwd = consumer.parent / "got" if args[0] == "get" else consumer
    assert_error(bale(*args, cwd=cwd, ok=False), *needles)
    guard.check()


COMMANDS = {
    "list": lambda url, rev: ["list", url, "--rev", rev, "-R"],
    "get": lambda url, rev: ["get", url, "a.txt", "--rev", rev],
    "import": lambda url, rev: ["import", url, "a.txt", "--rev", rev],
}


# Every command reads the stage files through one check: get only for two.
STAGE_CASES = [(b, c) for b in STAGE_FILES for c in ("list", "import")] + [
    ("out-git", "get"),
    ("wdir-up", "get"),
]


@pytest.mark.parametrize(("branch", "command"), STAGE_CASES)
def test_stage_files_aiming_outside_are_refused(
    source: Source, consumer: Path, bale, branch: str, command: str
):
    args = COMMANDS[command](source.url, branch)
    with _case(f"bale {command} from a registry's branch {branch}"):
        _refused(bale, consumer, args, ["in the source", *STAGE_FILES[branch][1]])


@pytest.mark.parametrize("command", ["list", "get", "import"])
def test_a_manifest_naming_a_parent_is_refused(source: Source, consumer: Path, bale, command: str):
    args = {
        "list": ["list", source.url, "--rev", "manifest-up", "-R"],
        "get": ["get", source.url, "data", "--rev", "manifest-up"],
        "import": ["import", source.url, "data", "--rev", "manifest-up"],
    }[command]
    with _case(f"bale {command} of a folder whose manifest names ../../x"):
        _refused(bale, consumer, args, ["manifest", "unsafe path"])


@pytest.mark.parametrize(
    ("command", "path", "named"),
    [
        ("get", "link-up", "'link-up' is a symlink (to '../outside')"),
        ("get", "link-absolute", "'link-absolute' is a symlink (to '/etc/passwd')"),
        ("get", "folder", "'folder/passwd' is a symlink"),
        ("import", "link-absolute", "'link-absolute' is a symlink"),
    ],
)
def test_symlinks_of_the_source_are_not_copied_or_followed(
    source: Source, consumer: Path, bale, command: str, path: str, named: str
):
    """bale wrote the link's text as the file's bytes (a file holding
    '/etc/passwd'); dvc fails with 'unexpected error'. Refused now, by name."""
    args = [command, source.url, path, "--rev", "symlinks"]
    with _case(f"bale {command} of a git symlink ({path})"):
        _refused(bale, consumer, args, [named, "does not copy or follow"])


def test_a_source_with_symlinks_still_lists(source: Source, consumer: Path, bale):
    with _case("bale list -R of a registry holding git symlinks"):
        out = bale("list", source.url, "--rev", "symlinks", "-R", cwd=consumer).stdout.split()
        assert {"link-up", "link-absolute", "folder/passwd", "folder/ok.txt"} <= set(out)


@pytest.mark.parametrize("command", ["get", "import"])
def test_a_remote_at_etc_reads_nothing_there(source: Source, consumer: Path, bale, command):
    args = [command, source.url, "a.txt", "--rev", "remote-etc"]
    with _case("registry config: remote url = /etc"):
        _refused(bale, consumer, args, ["remote /etc", A_MD5, "is not on the remote"])


@pytest.mark.parametrize("command", ["get", "import"])
def test_a_remote_at_a_consumer_folder_places_nothing_unverified(
    source: Source, consumer: Path, bale, command: str
):
    """The registry names a folder of the consumer's machine holding, under
    the object's name, other bytes (the consumer's own): dvc copies them into
    the workspace; bale refuses them as corrupt and stores nothing."""
    shutil.rmtree(source.planted, ignore_errors=True)
    write_tree(source.planted, {f"files/md5/{A_MD5[:2]}/{A_MD5[2:]}": "consumer's secret\n"})
    guard = Unchanged(source.planted)
    args = [command, source.url, "a.txt", "--rev", "remote-planted"]
    with _case("registry config: remote url = a folder of the consumer's"):
        _refused(bale, consumer, args, [str(source.planted), "is corrupt", "not stored"])
        guard.check()
        objects = Path(os.environ["HOME"]) / ".cache" / "bale" / "objects"
        assert not list(objects.rglob(A_MD5[2:])), "the planted bytes reached a cache"
