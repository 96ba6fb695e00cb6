"""Crash safety on a seeded schedule: bale killed (SIGKILL) at chosen events
inside a command, then the same command run again.

`killpoints` numbers the events of one run (renames just before and just
after, links, unlinks, fsyncs, half-done writes, state database commits);
one counting run of each command gives their number N, and
`random.Random(SEED)` picks the kill points in 1..N, always with some just
before a manifest, `.dvc` file, `dvc.lock`, sync index or lock is written or
renamed. Each point gets a fresh copy of a tree prepared once per session.
A run that ends before its point (threads and workers can take fewer
events) is "not reached", not a failure.

After a kill: the rerun completes; `bale fsck` (and `fsck -c` with a remote)
is clean; the workspace is what the `.dvc` files and `dvc.lock` say, byte
for byte; every object in the cache and on the folder remote hashes to its
name; no temporary file is left anywhere (workspace, `.dvc/tmp`, cache,
remote, the system's temporary folder): the rerun removes what the killed
process left; the merge driver's result file is the old one or the whole
merge, never part of one.

`make test` tries a few points of each command; the sweep of many points is
marked slow and prints each command's counts (and records them with
`report.record`, part "kills").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bale.fsutil import is_temporary
from tests.cli.util import assert_cache_valid, bale_argv, read_tree, write_tree
from tests.conftest import isolated_vars
from tests.reliability import killpoints, report

SEED = 20261202
FAST_POINTS = 2  # per command in `make test`
SLOW_POINTS = 30  # per command in the slow sweep
POINTS_VAR = "BALE_KILL_POINTS"  # e.g. 51,52: try only these points
CRITICAL = {"manifest", "dvcfile", "dvclock", "lock", "index"}

DATA = {f"data/{'sub/' if i % 3 == 0 else ''}f{i:02}.txt": f"row {i}\n" * (1 + i % 7)
        for i in range(30)}  # fmt: skip
MODEL = {"model.bin": b"\x00\x01model v1\n" * 40}
EDITS = {"data/f01.txt": "edited 1\n", "data/sub/f03.txt": "edited 3\n", "data/new.txt": "new\n",
         "model.bin": "model v2\n"}  # fmt: skip
SHARED = {f"shared/{'deep/' if i % 4 == 0 else ''}s{i:02}.csv": f"col,{i}\n" * (1 + i % 5)
          for i in range(24)}  # fmt: skip
REG_V1 = {f"data/r{i:02}.txt": f"registry v1 {i}\n" for i in range(20)}
REG_V2 = {**REG_V1, "data/r03.txt": "registry v2 3\n", "data/r20.txt": "registry v2 new\n"}
SETTINGS = "folders:\n  shared:\n    sync: {prefix: synced/shared}\n"
TRAIN = ("import pathlib; files = sorted(pathlib.Path('prepared').rglob('*.txt')); "
         "pathlib.Path('model.txt').write_text(''.join(f'{f.name} {len(f.read_bytes())}\\n' "
         "for f in files))")  # fmt: skip
PIPELINE = f"""\
stages:
  prepare:
    cmd: cp -r data prepared
    deps:
    - data
    outs:
    - prepared
  train:
    cmd: {json.dumps(sys.executable + ' -c "' + TRAIN + '"')}
    deps:
    - prepared
    outs:
    - model.txt
"""

Files = dict[str, bytes]


def as_bytes(files: dict[str, str | bytes]) -> Files:
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}


def under(files: Files, folder: str) -> Files:
    """The files below `folder`, relative to it."""
    return {k[len(folder) + 1 :]: v for k, v in files.items() if k.startswith(folder + "/")}


# -- running bale --------------------------------------------------------------------------


class Runner:
    """Runs bale and git in one scenario folder, with its own HOME and TMPDIR.

    BALE_FSYNC=0: a SIGKILL loses nothing the kernel holds, so the flush of
    the whole filesystem before a `.dvc` file is written only adds the time
    of everyone else's writes here (each file's own fsync stays, an event).
    A stale lock that was not taken over fails the rerun within 2 s."""

    def __init__(self, root: Path, site: Path) -> None:
        self.root, self.site = root, site
        home, tmp = root / "home", root / "systmp"
        home.mkdir(exist_ok=True)
        tmp.mkdir(exist_ok=True)
        self.env = {**os.environ, **isolated_vars(home), "TMPDIR": str(tmp),
                    "BALE_LOCK_WAIT": "2", "BALE_FSYNC": "0"}  # fmt: skip

    def bale(self, *args: str, cwd: str = "repo", ok: bool = True) -> subprocess.CompletedProcess:
        return self.run([*bale_argv(), *args], cwd=cwd, ok=ok)

    def git(self, *args: str, cwd: str = "repo") -> subprocess.CompletedProcess:
        return self.run(["git", *args], cwd=cwd)

    def run(self, argv: list[str], *, cwd: str, ok: bool = True, **env: str):
        proc = subprocess.run(argv, cwd=self.root / cwd, env={**self.env, **env},
                              capture_output=True, text=True, start_new_session=True)  # fmt: skip
        if ok and proc.returncode != 0:
            raise AssertionError(f"{argv} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc

    def instrumented(self, argv: list[str], *, cwd: str, at: int | None):
        """Run `argv` with the kill points loaded; (process, events logged)."""
        log = self.root / "systmp" / f"kill-{at}.log"
        log.unlink(missing_ok=True)
        proc = self.run(argv, cwd=cwd, ok=False, **killpoints.kill_env(self.site, log, at))
        return proc, killpoints.read_log(log)


# -- prepared trees ------------------------------------------------------------------------


def _fresh(r: Runner) -> None:
    (r.root / "repo").mkdir()
    r.git("init", "-q", "-b", "main")
    r.bale("init", "-q")
    r.bale("remote", "add", "-d", "store", "../store")
    r.git("add", "-A")
    r.git("commit", "-qm", "init")


def _tracked(r: Runner) -> None:
    _fresh(r)
    write_tree(r.root / "repo", {**DATA, **MODEL})
    r.bale("add", "-q", "data", "model.bin")
    r.git("add", "-A")
    r.git("commit", "-qm", "data")


def _pushed(r: Runner) -> None:
    _tracked(r)
    r.bale("push", "-q")


def _cloned(r: Runner) -> None:
    _pushed(r)
    r.git("clone", "-q", "repo", "clone", cwd=".")


def _edited(r: Runner) -> None:
    _tracked(r)
    write_tree(r.root / "repo", EDITS)
    (r.root / "repo" / "data" / "f02.txt").unlink()


def _emptied(r: Runner) -> None:
    _tracked(r)
    repo = r.root / "repo"
    shutil.rmtree(repo / "data" / "sub")
    for name in ("f01.txt", "f05.txt", "f10.txt"):
        (repo / "data" / name).unlink()
    (repo / "model.bin").unlink()


def _two_versions(r: Runner) -> None:
    _pushed(r)
    _edit_v2(r)
    r.bale("push", "-q")


def _edit_v2(r: Runner) -> None:
    repo = r.root / "repo"
    for rel in ("data/f01.txt", "data/sub/f03.txt", "model.bin"):
        (repo / rel).chmod(0o644)
    write_tree(repo, EDITS)
    (repo / "data" / "f02.txt").unlink()
    r.bale("add", "-q", "data", "model.bin")
    r.git("commit", "-qam", "v2")


def _consumer(r: Runner, registry: Path) -> None:
    _fresh(r)
    (r.root / "registry").symlink_to(registry)


def _imported_v1(r: Runner, registry: Path) -> None:
    _consumer(r, registry)
    r.bale("import", "-q", "../registry", "data", "-o", "imported", "--rev", "v1")
    r.git("add", "-A")
    r.git("commit", "-qm", "import v1")


def _pipeline(r: Runner) -> None:
    _tracked(r)
    (r.root / "repo" / "dvc.yaml").write_text(PIPELINE)
    r.git("add", "-A")
    r.git("commit", "-qm", "pipeline")


def _areas(r: Runner) -> None:
    _fresh(r)
    repo = r.root / "repo"
    (repo / "bale.yaml").write_text(SETTINGS)
    (repo / ".gitignore").write_text("/shared/\n")
    write_tree(repo, SHARED)
    r.git("add", "-A")
    r.git("commit", "-qm", "areas")


def _areas_cloned(r: Runner) -> None:
    _areas(r)
    r.bale("sync", "push", "-q")
    r.git("clone", "-q", "repo", "clone", cwd=".")


MERGE_ARGS = ("git-hook", "merge-driver", "--ancestor", ".merge_file_O", "--ours",
              ".merge_file_A", "--theirs", ".merge_file_B", "--path", "data.dvc")  # fmt: skip


def _merge(r: Runner) -> None:
    """git's three versions of data.dvc for the driver, named as git names them."""
    _tracked(r)
    repo = r.root / "repo"
    for side, files in (("ours", {"data/o1.txt": "ours\n"}), ("theirs", {"data/t1.txt": "t\n"})):
        r.git("checkout", "-q", "-b", side, "main")
        r.bale("checkout", "-q")
        write_tree(repo, files)
        if side == "ours":
            (repo / "data" / "f04.txt").unlink()
        r.bale("add", "-q", "data")
        r.git("commit", "-qam", side)
    r.git("checkout", "-q", "ours")
    r.bale("checkout", "-q")
    for name, rev in (("O", "main"), ("A", "ours"), ("B", "theirs")):
        (repo / f".merge_file_{name}").write_bytes(
            subprocess.run(["git", "show", f"{rev}:data.dvc"], cwd=repo, check=True,
                           capture_output=True).stdout)  # fmt: skip


def _registry(r: Runner) -> None:
    """A registry with tags v1 and v2 of data/, pushed to its own remote."""
    _fresh(r)
    repo = r.root / "repo"
    write_tree(repo, REG_V1)
    r.bale("add", "-q", "data")
    r.git("add", "-A")
    r.git("commit", "-qm", "v1")
    r.git("tag", "v1")
    for rel in REG_V1:
        (repo / rel).chmod(0o644)
    write_tree(repo, REG_V2)
    r.bale("add", "-q", "data")
    r.git("commit", "-qam", "v2")
    r.git("tag", "v2")
    r.bale("push", "-q")


class Templates:
    """Trees prepared once per session; `copy` gives a trial its own."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.site = killpoints.install_site(base / "site")
        self.made: dict[str, Path] = {}

    def runner(self, root: Path) -> Runner:
        return Runner(root, self.site)

    def get(self, name: str) -> Path:
        if name not in self.made:
            root = self.base / name
            root.mkdir()
            build = BUILDERS[name]
            if name in ("consumer", "imported_v1"):
                build(self.runner(root), self.get("registry") / "repo")
            else:
                build(self.runner(root))
            self.made[name] = root
        return self.made[name]

    def copy(self, name: str, dest: Path) -> Runner:
        shutil.copytree(self.get(name), dest, symlinks=True)
        for tmp in dest.glob("*/.dvc/tmp"):  # the state is keyed by inode: a copy re-hashes
            shutil.rmtree(tmp)
        return self.runner(dest)


BUILDERS: dict[str, Callable] = {
    "fresh_files": lambda r: (_fresh(r), write_tree(r.root / "repo", {**DATA, **MODEL})),
    "tracked": _tracked, "pushed": _pushed, "cloned": _cloned, "edited": _edited,
    "emptied": _emptied, "two_versions": _two_versions, "consumer": _consumer,
    "imported_v1": _imported_v1, "pipeline": _pipeline, "areas": _areas,
    "areas_cloned": _areas_cloned, "merge": _merge, "registry": _registry,
}  # fmt: skip


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("kill-templates"))


# -- the commands --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One command killed: where it runs, and what it leaves once it has run."""

    command: str
    argv: tuple[str, ...]
    template: str
    expect: Callable[[Runner, Runner], None]  # (this run, a clean run of the command)
    cwd: str = "repo"
    remote: bool = False  # store/ is a remote: checked with fsck -c and re-hashed
    status: bool = True  # `bale status` must be clean once it has run
    # The rerun's one-line refusal when the killed run had finished the job
    # (as after a run that was not killed); the checks after it must hold.
    finished: str = ""


def _files_are(r: Runner, cwd: str, files: Files, *folders: str) -> None:
    for folder in folders:
        got = read_tree(r.root / cwd / folder) if (r.root / cwd / folder).is_dir() else {}
        assert got == under(files, folder), f"{cwd}/{folder} differs from what it must hold"
    for rel, data in files.items():
        if "/" not in rel:
            assert (r.root / cwd / rel).read_bytes() == data, rel


V1 = as_bytes({**DATA, **MODEL})
V2 = {k: v for k, v in {**V1, **as_bytes(EDITS)}.items() if k != "data/f02.txt"}


def _expect_fetched(r: Runner, _clean: Runner) -> None:
    r.bale("checkout", "-q", cwd="clone")
    assert json.loads(r.bale("status", "--json", cwd="clone").stdout) == {}
    _files_are(r, "clone", V1, "data")


def _expect_repro(r: Runner, _clean: Runner) -> None:
    _files_are(r, "repo", V1, "data")
    assert read_tree(r.root / "repo" / "prepared") == under(V1, "data")
    lines = (r.root / "repo" / "model.txt").read_text().splitlines()
    assert len(lines) == len(under(V1, "data"))
    assert (r.root / "repo" / "dvc.lock").exists()
    ignored = (r.root / "repo" / ".gitignore").read_text().splitlines()
    assert {"/prepared", "/model.txt"} <= set(ignored), "an output git would commit"


def _expect_synced_up(r: Runner, _clean: Runner) -> None:
    store = r.root / "store" / "synced" / "shared"
    pushed = {k: v for k, v in read_tree(store).items()
              if k != ".bale-sync.json" and not is_temporary(k)}  # fmt: skip
    assert pushed == under(as_bytes(SHARED), "shared")
    status = json.loads(r.bale("sync", "status", "--json").stdout)
    assert status == {"shared": {"new": [], "modified": [], "remote only": []}}


def _expect_synced_down(r: Runner, _clean: Runner) -> None:
    _files_are(r, "clone", as_bytes(SHARED), "shared")


def _expect_merged(r: Runner, clean: Runner) -> None:
    merged = (r.root / "repo" / ".merge_file_A").read_bytes()
    assert merged == (clean.root / "repo" / ".merge_file_A").read_bytes(), "not the clean merge"


IMPORTED = {"imported/" + k: v for k, v in under(as_bytes(REG_V2), "data").items()}


def _holds(cwd: str, files: Files, folder: str) -> Callable[[Runner, Runner], None]:
    return lambda r, _clean: _files_are(r, cwd, files, folder)


CASES = [
    Case("add", ("add", "data", "model.bin"), "fresh_files", _holds("repo", V1, "data")),
    Case("commit", ("commit", "-f"), "edited", _holds("repo", V2, "data")),
    Case("checkout", ("checkout",), "emptied", _holds("repo", V1, "data")),
    Case("push", ("push",), "tracked", _holds("repo", V1, "data"), remote=True),
    Case("pull", ("pull",), "cloned", _holds("clone", V1, "data"), cwd="clone", remote=True),
    Case("fetch", ("fetch",), "cloned", _expect_fetched, cwd="clone", remote=True, status=False),
    Case("gc", ("gc", "-w", "-c", "-f", "--grace", "0"), "two_versions", _holds("repo", V2, "data"),
         remote=True),
    Case("import", ("import", "../registry", "data", "-o", "imported"), "consumer",
         _holds("repo", IMPORTED, "imported"),
         finished="ERROR: 'imported' already exists; use -f to replace it"),
    Case("update", ("update", "--rev", "v2", "imported.dvc"), "imported_v1",
         _holds("repo", IMPORTED, "imported")),
    Case("repro", ("repro",), "pipeline", _expect_repro),
    Case("sync push", ("sync", "push"), "areas", _expect_synced_up),
    Case("sync pull", ("sync", "pull"), "areas_cloned", _expect_synced_down, cwd="clone"),
    Case("merge driver", MERGE_ARGS, "merge", _expect_merged),
]  # fmt: skip


# -- one kill and what must hold after it --------------------------------------------------


def assert_remote_valid(store: Path) -> None:
    """Every object on a folder remote hashes to its name (temporary names aside)."""
    base = store / "files" / "md5"
    for path in base.rglob("*") if base.is_dir() else ():
        if path.is_dir() or is_temporary(path.name):
            continue
        oid = path.parent.name + path.name
        digest = hashlib.md5(path.read_bytes()).hexdigest()
        assert oid == digest + (".dir" if oid.endswith(".dir") else ""), f"corrupt {path}"


def temporaries(root: Path) -> dict[str, list[str]]:
    """`fsutil.tmp_name` leftovers under a scenario, by where they are, and
    anything in the system's temporary folder but the kill logs."""
    found: dict[str, list[str]] = {"workspace": [], "state": [], "cache": [], "remote": [],
                                   "home": [], "system tmp": []}  # fmt: skip
    found["system tmp"] = [n for n in os.listdir(root / "systmp") if not n.startswith("kill-")]
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        top = rel == Path(".")
        dirnames[:] = [d for d in dirnames if d != ".git" and not (top and d == "systmp")]
        for name in dirnames + filenames:
            if not is_temporary(name):
                continue
            parts = (rel / name).parts
            if parts[0] == "store":
                where = "remote"
            elif parts[0] == "home":
                where = "home"
            elif ".dvc" in parts and parts[parts.index(".dvc") + 1 :][:1] == ("cache",):
                where = "cache"
            elif ".dvc" in parts:
                where = "state"
            else:
                where = "workspace"
            found[where].append(str(rel / name))
    return found


@dataclass
class Outcome:
    at: int
    event: str  # what the kill interrupted, e.g. "rename dvcfile .../data.dvc"
    result: str  # survived, not reached, failed, data lost
    why: str = ""


class Phase:
    """Which check is running, so a failure says whether data was lost."""

    def __init__(self) -> None:
        self.name = ""
        self.data = False

    @contextlib.contextmanager
    def __call__(self, name: str, *, data: bool) -> Iterator[None]:
        self.name, self.data = name, data
        yield


def check_after_kill(case: Case, r: Runner, clean: Runner, phase: Phase, before: bytes) -> None:
    """Rerun and check."""
    cwd = case.cwd
    if case.command == "merge driver":
        with phase("result file whole", data=True):
            now = (r.root / "repo" / ".merge_file_A").read_bytes()
            assert now in (before, (clean.root / "repo" / ".merge_file_A").read_bytes()), (
                "the merge driver's result file is neither the old one nor the merge"
            )
    with phase("rerun", data=False):
        rerun = r.bale(*case.argv, cwd=cwd, ok=not case.finished)
        if rerun.returncode != 0:
            assert rerun.stderr.startswith(case.finished), rerun.stderr
            assert len(rerun.stderr.splitlines()) == 1, rerun.stderr
    with phase("fsck", data=True):
        assert r.bale("fsck", cwd=cwd).returncode == 0
        if case.remote:
            assert r.bale("fsck", "-c", cwd=cwd).returncode == 0
            missing = json.loads(r.bale("status", "-c", "--json", cwd=cwd).stdout)
            assert missing == {}, f"cache and remote differ after the rerun: {missing}"
    with phase("workspace", data=True):
        if case.status:
            status = json.loads(r.bale("status", "--json", cwd=cwd).stdout)
            assert status == {}, f"status after the rerun: {status}"
        case.expect(r, clean)
    with phase("objects", data=True):
        assert_cache_valid(r.root / cwd)
        if (r.root / "store").is_dir():
            assert_remote_valid(r.root / "store")
    with phase("leftovers", data=False):
        stray = {where: names for where, names in temporaries(r.root).items() if names}
        assert not stray, f"temporary files left after the rerun: {stray}"


def trial(case: Case, templates: Templates, dest: Path, at: int, clean: Runner) -> Outcome:
    r = templates.copy(case.template, dest)
    before = b""
    if case.command == "merge driver":
        before = (r.root / "repo" / ".merge_file_A").read_bytes()
    proc, events = r.instrumented([*bale_argv(), *case.argv], cwd=case.cwd, at=at)
    if len(events) < at:
        if proc.returncode == 0:
            return Outcome(at, "", "not reached")
        return Outcome(at, "", "failed", f"ended {proc.returncode} early: {proc.stderr[-500:]}")
    hit = events[at - 1]
    event = f"{hit.kind} {hit.what} {hit.path}"
    if proc.returncode != -signal.SIGKILL:
        return Outcome(at, event, "failed", f"not killed: ended {proc.returncode}")
    phase = Phase()
    try:
        check_after_kill(case, r, clean, phase, before)
    except AssertionError as exc:
        why = f"{phase.name}: {str(exc)[:800]}"
        return Outcome(at, event, "data lost" if phase.data else "failed", why)
    shutil.rmtree(dest)
    return Outcome(at, event, "survived")


def schedule(events: list[killpoints.Event], count: int, rng: random.Random) -> list[int]:
    """`count` distinct points in 1..N. Always the last rename of a
    manifest, `.dvc` file, `dvc.lock`, sync index or lock (killed between
    writing it and naming it); with room, the first and last events and
    every write or rename of those; the rest drawn at random."""
    n = len(events)
    critical = [e.number for e in events
                if e.what in CRITICAL and e.kind in ("write", "rename", "ftruncate")]  # fmt: skip
    renames = [e.number for e in events if e.what in CRITICAL and e.kind == "rename"]
    chosen = set(renames[-1:] or critical[-1:])
    if count >= len(critical) + 2:
        chosen |= {1, n, *critical}
    others = sorted(set(range(1, n + 1)) - chosen)
    chosen |= set(rng.sample(others, min(len(others), max(0, count - len(chosen)))))
    return sorted(chosen)


@dataclass
class Tally:
    rows: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, command: str, outcomes: list[Outcome]) -> None:
        row = self.rows.setdefault(command, {"tried": 0, "survived": 0, "not reached": 0,
                                             "data lost": 0, "events": 0})  # fmt: skip
        row["tried"] += len(outcomes)
        for o in outcomes:
            if o.result in row:
                row[o.result] += 1


@pytest.fixture(scope="session")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """Every command's counts, printed at the end of the session."""
    found = Tally()
    yield found
    if not found.rows:
        return
    lines = [f"kill points (seed {SEED}): command, events, tried, survived, not reached, data lost"]
    lines += [f"  {c:13} {v['events']:5} {v['tried']:5} {v['survived']:5} {v['not reached']:5}"
              f" {v['data lost']:5}" for c, v in found.rows.items()]  # fmt: skip
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + "\n".join(lines), flush=True)


def sweep(case: Case, templates: Templates, tmp_path: Path, count: int, tally: Tally) -> list:
    """Count the command's events, kill it at `count` points, check each."""
    clean = templates.copy(case.template, tmp_path / "clean")
    proc, events = clean.instrumented([*bale_argv(), *case.argv], cwd=case.cwd, at=None)
    assert proc.returncode == 0, proc.stderr
    assert events, "no event counted: the kill points did not load"
    points = schedule(events, count, random.Random(f"{SEED} {case.command}"))
    if os.environ.get(POINTS_VAR):  # the points a report names, to try them again
        points = [int(p) for p in os.environ[POINTS_VAR].split(",")]
    outcomes = [trial(case, templates, tmp_path / f"at{at}", at, clean) for at in points]
    tally.add(case.command, outcomes)
    tally.rows[case.command]["events"] = len(events)
    return outcomes


def assert_all_survived(case: Case, outcomes: list[Outcome]) -> None:
    bad = [o for o in outcomes if o.result not in ("survived", "not reached")]
    assert not bad, f"{case.command}: " + "; ".join(
        f"BALE_KILL_AT={o.at} ({o.event}) {o.result}: {o.why}" for o in bad
    )


def reproduce(case: Case, outcomes: list[Outcome]) -> str:
    """The sweep of this command; with points that failed, only those."""
    bad = [str(o.at) for o in outcomes if o.result not in ("survived", "not reached")]
    sweep = ("pytest -m slow 'tests/reliability/test_kill_points.py::"
             f"test_killed_command_reruns_clean_sweep[{case.command}]'")  # fmt: skip
    return f"{POINTS_VAR}={','.join(bad)} {sweep}" if bad else sweep


@pytest.mark.parametrize("case", CASES, ids=[c.command for c in CASES])
def test_killed_command_reruns_clean(case: Case, templates: Templates, tmp_path: Path,
                                     tally: Tally) -> None:  # fmt: skip
    outcomes = sweep(case, templates, tmp_path, FAST_POINTS, tally)
    assert_all_survived(case, outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.command for c in CASES])
def test_killed_command_reruns_clean_sweep(case: Case, templates: Templates, tmp_path: Path,
                                           tally: Tally) -> None:  # fmt: skip
    outcomes = sweep(case, templates, tmp_path, SLOW_POINTS, tally)
    report.record("kills", case.command, len(outcomes),
                  sum(o.result == "survived" for o in outcomes),
                  not_reached=sum(o.result == "not reached" for o in outcomes),
                  data_lost=sum(o.result == "data lost" for o in outcomes),
                  reproduce=reproduce(case, outcomes))  # fmt: skip
    assert_all_survived(case, outcomes)
