"""Run bale and dvc side by side on the same data, alternating, and measure.

For every dataset and repetition each tool gets a fresh git repository (its
"lane") with a copy of the data; then every step of the chain below runs once
per tool, alternating which tool goes first from one repetition to the next,
so both see the same machine conditions. A step's untimed preparation (delete
the workspace, add a remote, change a file) happens just before its timed
command. Machine bounds on the same data run right before the steps they bound.

Each timed command runs under a tiny wrapper process that reaps it with
`os.wait4`, which reports its wall time and the peak resident memory of the
largest process in its tree (`ru_maxrss`), without any polling.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.datasets import Dataset

BUCKET = "bench"
S3_KEY = "testing"  # moto accepts any key; dummy values keep real credentials out


@dataclass(frozen=True, slots=True)
class Timed:
    """One finished command: wall seconds, peak RSS in MB, exit code, stderr tail."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str

    def reason(self) -> str:
        """The last meaningful line of output, for a failure report."""
        lines = [ln.strip() for ln in (self.stderr + "\n" + self.stdout).splitlines()]
        lines = [ln for ln in lines if ln]
        return f"exit {self.returncode}: {lines[-1][:160] if lines else 'no output'}"


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement of `tool` (bale, dvc, or a bound's name) on one step."""

    op: str
    dataset: str
    tool: str
    rep: int
    seconds: float | None
    peak_mb: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Tool:
    """A command under test: its name and the argv that starts it."""

    name: str
    argv: tuple[str, ...]


# Spawns the command and reports its own wall time and rusage. A separate small
# process is needed because Linux carries a process's peak RSS across fork and
# exec: a command forked straight from this (large) Python process would report
# at least this process's size. Started with -I -S, the wrapper is about 8 MB,
# which is the floor of every peak figure; timing starts after its own start-up
# and a sync: what the preparation wrote or deleted is on disk first, so no
# command pays for the one before it (on a disk mounted with online discard,
# the deletes of 20,000 files can stall the next thousands of file creations).
_WRAPPER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
os.sync()
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as f:
    f.write(f"{seconds!r} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> Timed:
    """Run `argv` to completion through the wrapper; return its wall time and peak RSS.

    The wrapper gets its own process group so a timeout kills the whole tree.
    Output goes to temporary files (no pipes to drain while timing).
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rusage") as rusage,
    ):
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WRAPPER, rusage.name, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        measured = rusage.read().split()
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        if len(measured) != 2:
            killed = f"killed (no result within {timeout:.0f} s)"
            return Timed(0.0, 0.0, proc.returncode or 1, "", stderr or killed)
        return Timed(
            seconds=float(measured[0]),
            peak_mb=int(measured[1]) / 1024,  # KiB on Linux
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=stderr,
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


class _Trash:
    """Where removed trees wait while commands are timed.

    Deleting tens of thousands of files makes the next thousands of file
    creations wait on this machine's disk (mounted with online discard), for
    minutes and unevenly: a step timed after a deletion would pay for it. So
    trees are renamed aside and deleted after the run, or between datasets when
    free space runs short.
    """

    root: Path | None = None
    count = 0


def set_aside(path: Path) -> None:
    """Remove `path` from where it was now; delete it later (`empty_trash`)."""
    if not os.path.lexists(path):
        return
    if _Trash.root is None:
        remove_tree(path)
        return
    _Trash.root.mkdir(parents=True, exist_ok=True)
    _Trash.count += 1
    os.rename(path, _Trash.root / str(_Trash.count))


COPIES_PER_REP = 25  # free space, in copies of the dataset, a repetition may need


def empty_trash(*, unless_free_gb: float = 0.0) -> None:
    """Delete what was set aside (unless `unless_free_gb` of space is still free)."""
    root = _Trash.root
    if root is None or not root.exists():
        return
    if unless_free_gb and shutil.disk_usage(root).free > unless_free_gb * 1e9:
        return
    remove_tree(root)
    os.sync()


def remove_tree(path: Path) -> None:
    """Delete `path` entirely, read-only cache files and folders included."""
    if not os.path.lexists(path):
        return
    subprocess.run(["rm", "-rf", str(path)], check=False)
    if os.path.lexists(path):
        subprocess.run(["chmod", "-R", "u+w", str(path)], check=False)
        subprocess.run(["rm", "-rf", str(path)], check=True)


# --- the moto S3 server -----------------------------------------------------------------


class S3Server:
    """moto's standalone S3 server on 127.0.0.1, with one bucket, for one run."""

    def __init__(self, *, log: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint, timeout=1).close()
                break
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"moto server did not start; see {log.name}") from None
                time.sleep(0.2)
        self.client = s3_client(self.endpoint)
        self.client.create_bucket(Bucket=BUCKET)

    def empty(self) -> None:
        """Delete every object in the bucket (moto keeps them in memory)."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=BUCKET):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})

    def close(self) -> None:
        """Stop the server and its log."""
        _kill_group(self._proc.pid)
        self._proc.wait()
        self._log.close()


def s3_client(endpoint: str, *, connections: int = 10):  # -> botocore client
    """A boto3 S3 client for the test server with the dummy keys."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_KEY,
        region_name="us-east-1",
        config=Config(max_pool_connections=connections, retries={"mode": "standard"}),
    )


def s3_available() -> str | None:
    """None if moto's server and boto3 can run here, else why not."""
    for module in ("moto", "boto3", "flask"):
        if importlib.util.find_spec(module) is None:
            return f"{module} not installed in this Python (make test-venv installs moto[server])"
    return None


# --- lanes: one tool's repository for one repetition ------------------------------------


@dataclass
class Lane:
    """One tool's fresh repository, remotes and failure record for one repetition."""

    tool: Tool
    root: Path
    source: Path
    env: dict[str, str]
    timeout: float
    offered: dict[str, bool]
    failed: dict[str, str] = field(default_factory=dict)
    broken: str | None = None

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def data(self) -> Path:
        return self.repo / "data"

    @property
    def consumer(self) -> Path:
        """A second repository that takes data from `repo` as its registry."""
        return self.root / "consumer"

    def measure(self, *args: str, cwd: Path | None = None) -> Timed:
        """Run the tool in the repository (or `cwd`) and measure it."""
        return run_measured(
            [*self.tool.argv, *args], cwd=cwd or self.repo, env=self.env, timeout=self.timeout
        )

    def must(self, *args: str) -> None:
        """Run an untimed tool command that has to succeed."""
        done = self.measure(*args)
        if done.returncode != 0:
            raise StepError(f"{self.tool.name} {' '.join(args)}: {done.reason()}")

    def git(self, *args: str) -> None:
        """Run git in the repository; it has to succeed."""
        subprocess.run(["git", *args], cwd=self.repo, env=self.env, check=True, capture_output=True)

    def setup(self) -> None:
        """A new git repo, the tool's `init`, analytics off for dvc, and a copy of the data."""
        set_aside(self.root)
        self.repo.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.must("init")
        if self.tool.name == "dvc":
            self.must("config", "core.analytics", "false")
            self.must("config", "core.check_update", "false")
        self.git("add", "-A")
        self.git("commit", "-qm", "init")
        subprocess.run(["cp", "-a", str(self.source), str(self.data)], check=True)

    def commit(self, message: str) -> None:
        """Commit whatever the tool wrote (.dvc files, .gitignore)."""
        self.git("add", "-A")
        self.git("commit", "-qm", message, "--allow-empty")


class StepError(Exception):
    """An untimed preparation failed; the step and what depends on it are skipped."""


# --- the chain of steps -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """A timed command with its untimed preparation and clean-up."""

    op: str
    args: tuple[str, ...]
    needs: tuple[str, ...] = ()  # earlier steps that must have succeeded
    commands: tuple[str, ...] = ()  # subcommands the tool must offer (`CMD -h` exits 0)
    prepare: Callable[[Lane, RunContext], None] | None = None
    finish: Callable[[Lane, RunContext], None] | None = None
    bounds: tuple[str, ...] = ()
    s3: bool = False
    destructive: bool = False  # prepare deletes data: a failure breaks the lane
    inner: int = 1  # timed runs per repetition (for very short commands)
    # Run in the consumer repository; "{registry}" in `args` names the lane's repository.
    in_consumer: bool = False


@dataclass
class RunContext:
    """What steps and bounds share during one dataset's repetition."""

    dataset: Dataset
    source: Path
    scratch: Path
    rep: int
    s3: S3Server | None
    env: dict[str, str]
    timeout: float
    files: int = 0  # how many files the dataset has
    first_file: str = ""  # the file that "one change" appends to
    bound_uploaded: bool = False

    def __post_init__(self) -> None:
        layout = self.dataset.layout()
        self.files, self.first_file = len(layout), layout[0][0]

    def prefix(self, who: str) -> str:
        return f"{self.dataset.name}-{self.rep}-{who}"


def _change_one_file(lane: Lane, ctx: RunContext) -> None:
    with open(lane.data / ctx.first_file, "ab") as f:
        f.write(b"changed by the benchmark\n")


def _remove_data(lane: Lane, ctx: RunContext) -> None:
    set_aside(lane.data)


def _remove_data_and_cache(lane: Lane, ctx: RunContext) -> None:
    set_aside(lane.data)
    set_aside(lane.repo / ".dvc" / "cache")


def _commit(lane: Lane, ctx: RunContext) -> None:
    lane.commit("data")


def _add_folder_remote(lane: Lane, ctx: RunContext) -> None:
    set_aside(lane.root / "remote")
    lane.must("remote", "add", "-d", "folder", str(lane.root / "remote"))


def _add_s3_remote(lane: Lane, ctx: RunContext) -> None:
    assert ctx.s3 is not None
    lane.must("remote", "add", "s3", f"s3://{BUCKET}/{ctx.prefix(lane.tool.name)}")
    lane.must("remote", "modify", "s3", "endpointurl", ctx.s3.endpoint)
    lane.must("remote", "modify", "--local", "s3", "access_key_id", S3_KEY)
    lane.must("remote", "modify", "--local", "s3", "secret_access_key", S3_KEY)


# Three stages on the dataset: the first reads the whole folder, the others
# a small file each; the commands take milliseconds, so the times are the tools'.
PIPELINE = """\
stages:
  index:
    cmd: ls -R data > index.txt
    deps:
    - data
    outs:
    - index.txt
  count:
    cmd: wc -l index.txt > count.txt
    deps:
    - index.txt
    outs:
    - count.txt
  report:
    cmd: >-
      cat count.txt > report.txt &&
      printf '{"files":%s}\\n' $(cut -d' ' -f1 count.txt) > metrics.json &&
      printf 'step,files\\n0,%s\\n' $(cut -d' ' -f1 count.txt) > plot.csv
    deps:
    - count.txt
    params:
    - threshold
    outs:
    - report.txt
    metrics:
    - metrics.json:
        cache: false
    plots:
    - plot.csv:
        cache: false
"""


# `stage add` of a fourth stage, not run: only the edit of dvc.yaml is timed.
EXTRA_STAGE = ("-n", "extra", "-d", "count.txt", "-o", "extra.txt", "cp count.txt extra.txt")


def _pipeline_run(lane: Lane, ctx: RunContext) -> None:
    """The pipeline written and run once (untimed): up to date afterwards."""
    (lane.repo / "dvc.yaml").write_text(PIPELINE)
    (lane.repo / "params.yaml").write_text("threshold: 3\n")
    lane.must("repro")
    lane.commit("pipeline")


def _registry_ready(lane: Lane, ctx: RunContext) -> None:
    """The lane's repository as a registry (its remote config committed) and
    a fresh consumer repository beside it."""
    lane.commit("registry")
    set_aside(lane.consumer)
    lane.consumer.mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=lane.consumer, env=lane.env, check=True,
                       capture_output=True)  # fmt: skip

    git("init", "-q", "-b", "main")
    commands = [("init",)]
    if lane.tool.name == "dvc":
        commands += [("config", key, "false") for key in ("core.analytics", "core.check_update")]
    for args in commands:
        done = lane.measure(*args, cwd=lane.consumer)
        if done.returncode != 0:
            raise StepError(f"{lane.tool.name} {' '.join(args)}: {done.reason()}")
    git("add", "-A")
    git("commit", "-qm", "init")


STEPS: tuple[Step, ...] = (
    Step("version", ("--version",), inner=5),
    Step(
        "add",
        ("add", "data"),
        commands=("add",),
        finish=_commit,
        bounds=("cat", "md5sum", "md5sum-parallel", "cp"),
    ),
    Step("status", ("status",), needs=("add",), commands=("status",)),
    Step(
        "status-changed",
        ("status",),
        needs=("add",),
        commands=("status",),
        prepare=_change_one_file,
    ),
    Step(
        "add-changed",
        ("add", "data"),
        needs=("status-changed",),
        commands=("add",),
        finish=_commit,
    ),
    # Two revisions of the folder (before and after the one changed file),
    # both manifests in the cache: reading and comparing them is the work.
    Step(
        "diff",
        ("diff", "HEAD~1", "HEAD"),
        needs=("add-changed",),
        commands=("diff",),
    ),
    Step(
        "status-pipeline",
        ("status",),
        needs=("add-changed",),
        commands=("status", "repro"),
        prepare=_pipeline_run,
    ),
    Step("repro", ("repro",), needs=("status-pipeline",), commands=("repro",)),
    Step(
        "repro-changed",
        ("repro",),
        needs=("repro",),
        commands=("repro",),
        prepare=_change_one_file,
        finish=_commit,
    ),
    Step("dag", ("dag", "--dot"), needs=("repro",), commands=("dag",)),
    Step("params-diff", ("params", "diff", "--all"), needs=("repro",), commands=("params",)),
    Step("metrics-show", ("metrics", "show"), needs=("repro",), commands=("metrics",)),
    Step("plots-show", ("plots", "show"), needs=("repro",), commands=("plots",)),
    Step(
        "stage-add",
        ("stage", "add", *EXTRA_STAGE),
        needs=("repro",),
        commands=("stage",),
    ),
    Step(
        "checkout",
        ("checkout",),
        needs=("add",),
        commands=("checkout",),
        prepare=_remove_data,
        destructive=True,
    ),
    Step("gc", ("gc", "-w", "-f"), needs=("add-changed",), commands=("gc",)),
    Step(
        "push",
        ("push",),
        needs=("add",),
        commands=("push", "remote"),
        prepare=_add_folder_remote,
    ),
    Step("status-c", ("status", "-c"), needs=("push",), commands=("status",)),
    Step(
        "pull",
        ("pull",),
        needs=("push",),
        commands=("pull",),
        prepare=_remove_data_and_cache,
        destructive=True,
    ),
    Step(
        "list-R",
        ("list", "-R", "{registry}"),
        needs=("push",),
        commands=("list",),
        prepare=_registry_ready,
        in_consumer=True,
    ),
    Step(
        "import",
        ("import", "{registry}", "data"),
        needs=("list-R",),
        commands=("import",),
        in_consumer=True,
    ),
    Step(
        "update",
        ("update", "data.dvc"),
        needs=("import",),
        commands=("update",),
        in_consumer=True,
    ),
    # The registry's data folder as a plain local folder, and an update with nothing to do.
    Step(
        "import-url",
        ("import-url", "{registry}/data", "ext"),
        needs=("list-R",),
        commands=("import-url",),
        in_consumer=True,
    ),
    Step(
        "update-url",
        ("update", "ext.dvc"),
        needs=("import-url",),
        commands=("update",),
        in_consumer=True,
    ),
    Step(
        "push-s3",
        ("push", "-r", "s3"),
        needs=("add",),
        commands=("push", "remote"),
        prepare=_add_s3_remote,
        bounds=("s3-put",),
        s3=True,
    ),
    Step(
        "pull-s3",
        ("pull", "-r", "s3"),
        needs=("push-s3",),
        commands=("pull",),
        prepare=_remove_data_and_cache,
        bounds=("s3-get",),
        s3=True,
        destructive=True,
    ),
)
OPS = tuple(step.op for step in STEPS)


def steps_to_run(only: set[str] | None) -> list[tuple[Step, bool]]:
    """The steps to execute, each with whether it is timed.

    A step not asked for still runs, untimed, when a chosen step needs it.
    """
    if only is None:
        return [(step, True) for step in STEPS]
    by_op = {step.op: step for step in STEPS}
    wanted: set[str] = set()
    todo = list(only)
    while todo:
        op = todo.pop()
        if op not in wanted:
            wanted.add(op)
            todo.extend(by_op[op].needs)
    return [(step, step.op in only) for step in STEPS if step.op in wanted]


# --- machine bounds ---------------------------------------------------------------------


def run_bound(name: str, ctx: RunContext) -> Timed:
    """Time one machine bound on the dataset's files."""
    src = str(ctx.source)
    cpus = os.cpu_count() or 1
    per_batch = max(1, -(-ctx.files // (4 * cpus)))
    find = f"find {shlex.quote(src)} -type f -print0 | xargs -0"
    shell = {
        "cat": f"{find} cat > /dev/null",
        "md5sum": f"{find} md5sum > /dev/null",
        "md5sum-parallel": f"{find} -P {cpus} -n {per_batch} md5sum > /dev/null",
    }
    out = ctx.scratch / "bound-copy"
    set_aside(out)
    if name in shell:
        argv = ["bash", "-c", "set -o pipefail; " + shell[name]]
    elif name == "cp":
        argv = ["cp", "-r", src, str(out)]
    elif name in ("s3-put", "s3-get"):
        assert ctx.s3 is not None
        if name == "s3-get" and not ctx.bound_uploaded:
            run_bound("s3-put", ctx)
        verb = "put" if name == "s3-put" else "get"
        argv = [sys.executable, "-m", "benchmarks.s3bound", verb, "--endpoint", ctx.s3.endpoint]
        argv += ["--bucket", BUCKET, "--prefix", ctx.prefix("bound"), "--jobs", "32"]
        argv.append(src if verb == "put" else str(out))
    else:
        raise ValueError(f"unknown bound {name!r}")
    env = {**ctx.env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = run_measured(argv, cwd=ctx.scratch, env=env, timeout=ctx.timeout)
    if name == "s3-put" and done.returncode == 0:
        ctx.bound_uploaded = True
    remove_tree(out)
    return done


# --- the run ----------------------------------------------------------------------------


@dataclass
class Results:
    """Everything one run measured or skipped, ready for `report`."""

    meta: dict
    datasets: dict[str, dict]
    samples: list[Sample] = field(default_factory=list)
    skips: list[dict] = field(default_factory=list)
    hide: dict[str, str] = field(default_factory=dict)  # local path -> placeholder

    def skip(self, op: str, dataset: str, tool: str, reason: str) -> None:
        entry = {"op": op, "dataset": dataset, "tool": tool, "reason": reason}
        if entry not in self.skips:
            self.skips.append(entry)

    def clean(self, text: str | None) -> str | None:
        """`text` with local paths replaced, so reports name no machine's folders."""
        if text is None:
            return None
        for path, placeholder in sorted(self.hide.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(path, placeholder)
        return text

    def to_json(self) -> dict:
        samples = [{**asdict(s), "error": self.clean(s.error)} for s in self.samples]
        skips = [{**s, "reason": self.clean(s["reason"])} for s in self.skips]
        return {"meta": self.meta, "datasets": self.datasets, "samples": samples, "skips": skips}


def probe(tool: Tool, env: dict[str, str], cwd: Path) -> tuple[str | None, dict[str, bool]]:
    """The tool's version (None if it does not start) and which subcommands it offers."""
    version = run_measured([*tool.argv, "--version"], cwd=cwd, env=env, timeout=60)
    if version.returncode != 0:
        return None, {}
    offered = {}
    for cmd in ("init", "add", "status", "checkout", "gc", "push", "pull", "remote", "config",
                "list", "import", "import-url", "update", "repro", "dag", "params", "metrics",
                "plots", "stage", "diff"):  # fmt: skip
        done = run_measured([*tool.argv, cmd, "-h"], cwd=cwd, env=env, timeout=60)
        offered[cmd] = done.returncode == 0
    return version.stdout.strip().splitlines()[-1] if version.stdout.strip() else "?", offered


def benchmark_dataset(
    dataset: Dataset,
    source: Path,
    *,
    tools: list[Tool],
    offered: dict[str, dict[str, bool]],
    results: Results,
    workdir: Path,
    reps: int,
    only: set[str] | None,
    s3: S3Server | None,
    s3_reason: str | None,
    env: dict[str, str],
    timeout: float,
    log: Callable[[str], None],
) -> None:
    """All repetitions of the chosen steps on one dataset, tools alternating."""
    plan = steps_to_run(only)
    for rep in range(reps):
        # A repetition leaves about ten copies of the data per tool in the trash.
        empty_trash(unless_free_gb=COPIES_PER_REP * dataset.total_bytes() / 1e9)
        remove_tree(workdir / "home")
        (workdir / "home").mkdir(parents=True)
        scratch = workdir / "runs" / "scratch"
        remove_tree(scratch)
        scratch.mkdir(parents=True)
        ctx = RunContext(dataset, source, scratch, rep, s3, env, timeout)
        order = tools if rep % 2 == 0 else tools[::-1]
        lanes: dict[str, Lane | None] = {}
        for tool in order:
            lanes[tool.name] = _open_lane(tool, offered, dataset, source, workdir, ctx, results)
        for step, timed in plan:
            if step.s3 and s3 is None:
                for tool in tools:
                    results.skip(step.op, dataset.name, tool.name, s3_reason or "no S3 server")
                continue
            if timed:
                for bound in step.bounds:
                    done = run_bound(bound, ctx)
                    results.samples.append(_sample(step.op, dataset, bound, rep, done))
                    log(f"  {dataset.name} rep {rep} {bound:<16} {_fmt(done)}")
            for _ in range(step.inner):
                for tool in order:
                    _run_step(step, timed, lanes[tool.name], tool, ctx, results, log)
        if s3 is not None:
            s3.empty()
        for tool in tools:
            set_aside(workdir / "runs" / tool.name)
        set_aside(scratch)


def _open_lane(
    tool: Tool,
    offered: dict[str, dict[str, bool]],
    dataset: Dataset,
    source: Path,
    workdir: Path,
    ctx: RunContext,
    results: Results,
) -> Lane | None:
    """Set up `tool`'s fresh repository, or record why it cannot run."""
    if not offered.get(tool.name):
        results.skip("*", dataset.name, tool.name, f"`{tool.name} --version` fails")
        return None
    lane = Lane(
        tool, workdir / "runs" / tool.name, source, ctx.env, ctx.timeout, offered[tool.name]
    )
    if not lane.offered.get("init"):
        lane.broken = f"`{tool.name} init` is not available yet"
        return lane
    try:
        lane.setup()
    except (StepError, subprocess.CalledProcessError) as e:
        lane.broken = f"repository setup failed: {e}"
    return lane


def _run_step(
    step: Step,
    timed: bool,
    lane: Lane | None,
    tool: Tool,
    ctx: RunContext,
    results: Results,
    log: Callable[[str], None],
) -> None:
    """Prepare, run and record one step for one tool."""
    name = ctx.dataset.name
    if lane is None:
        return
    missing = [c for c in step.commands if not lane.offered.get(c)]
    reason = None
    if missing:
        reason = f"`{tool.name} {missing[0]}` is not available yet"
    elif step.op != "version" and lane.broken:
        reason = lane.broken
    elif failed := [n for n in step.needs if n in lane.failed]:
        reason = f"needs {failed[0]} ({lane.failed[failed[0]]})"
    if reason:
        lane.failed.setdefault(step.op, reason)
        if timed:
            results.skip(step.op, name, tool.name, reason)
        return
    try:
        if step.prepare:
            step.prepare(lane, ctx)
        args = tuple(a.replace("{registry}", str(lane.repo)) for a in step.args)
        cwd = lane.consumer if step.in_consumer else None
        done = lane.measure(*args, cwd=cwd) if step.op != "version" else _version(lane, ctx)
        if done.returncode != 0:
            raise StepError(done.reason())
        if step.finish:
            step.finish(lane, ctx)
    except (StepError, subprocess.CalledProcessError) as e:
        lane.failed[step.op] = str(e)
        if step.destructive:
            lane.broken = f"{step.op} failed earlier in this repetition"
        if timed:
            results.samples.append(Sample(step.op, name, tool.name, ctx.rep, None, None, str(e)))
            log(f"  {name} rep {ctx.rep} {step.op:<16} {tool.name:<4} FAILED {e}")
        return
    if timed:
        results.samples.append(_sample(step.op, ctx.dataset, tool.name, ctx.rep, done))
        log(f"  {name} rep {ctx.rep} {step.op:<16} {tool.name:<4} {_fmt(done)}")


def _version(lane: Lane, ctx: RunContext) -> Timed:
    # Start-up alone: outside any repository, so neither tool looks for one.
    return run_measured([*lane.tool.argv, "--version"], cwd=ctx.scratch, env=lane.env, timeout=60)


def _sample(op: str, dataset: Dataset, tool: str, rep: int, done: Timed) -> Sample:
    if done.returncode != 0:
        return Sample(op, dataset.name, tool, rep, None, None, done.reason())
    return Sample(op, dataset.name, tool, rep, done.seconds, done.peak_mb)


def _fmt(done: Timed) -> str:
    if done.returncode != 0:
        return f"FAILED {done.reason()}"
    return f"{done.seconds:8.3f} s {done.peak_mb:7.1f} MB"


@contextlib.contextmanager
def s3_server(workdir: Path, wanted: bool) -> Iterator[tuple[S3Server | None, str | None]]:
    """The S3 test server if S3 steps are wanted and can run, else why not."""
    if not wanted:
        yield None, "not selected"
        return
    reason = s3_available()
    if reason:
        yield None, reason
        return
    try:
        server = S3Server(log=workdir / "moto.log")
    except RuntimeError as e:
        yield None, str(e)
        return
    try:
        yield server, None
    finally:
        server.close()


# Settings that keep Python from caching or finding compiled modules: each
# command would compile its sources again, which no installed tool does.
_NO_BYTECODE = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


def compile_tool(tool: Tool, env: dict[str, str]) -> None:
    """Compile the tool's modules ahead, as `pip install` does for a wheel (an
    editable install of bale would otherwise compile on its first runs)."""
    script = Path(tool.argv[0])
    with contextlib.suppress(OSError):
        first = script.read_text(errors="replace").partition("\n")[0]
        if first.startswith("#!") and "python" in first:
            python = first[2:].strip().split()[0]
            package = script.name
            code = (
                f"import compileall, os, {package} as m; "
                "compileall.compile_dir(os.path.dirname(m.__file__), quiet=2)"
            )
            subprocess.run([python, "-c", code], env=env, check=False, timeout=300)


def tool_env(workdir: Path) -> dict[str, str]:
    """The environment for every timed command: isolated home, no analytics, git author."""
    home = workdir / "home"
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("DVC_", "BALE_", "AWS_", "GIT_")) or key in _NO_BYTECODE:
            del env[key]
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "DVC_NO_ANALYTICS": "1",
            "DVC_GLOBAL_CONFIG_DIR": str(home / ".config" / "dvc"),
            "DVC_SYSTEM_CONFIG_DIR": str(home / "system-dvc"),
            "DVC_SITE_CACHE_DIR": str(home / "site-cache"),
            "GIT_AUTHOR_NAME": "bale benchmarks",
            "GIT_AUTHOR_EMAIL": "benchmarks@bale.invalid",
            "GIT_COMMITTER_NAME": "bale benchmarks",
            "GIT_COMMITTER_EMAIL": "benchmarks@bale.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def run(
    datasets: list[tuple[Dataset, Path]],
    *,
    tools: list[Tool],
    results: Results,
    workdir: Path,
    reps: int,
    only: set[str] | None,
    timeout: float,
    log: Callable[[str], None],
    save: Callable[[], None],
) -> None:
    """Probe the tools, start the S3 server if needed, and benchmark every dataset."""
    env = tool_env(workdir)
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    offered: dict[str, dict[str, bool]] = {}
    for tool in tools:
        compile_tool(tool, env)
        version, commands = probe(tool, env, workdir)
        results.meta.setdefault("versions", {})[tool.name] = version
        if version is None:
            log(f"{tool.name}: does not start (`--version` fails); its operations are n/a")
            continue
        offered[tool.name] = commands
        missing = sorted(c for c, ok in commands.items() if not ok)
        log(f"{tool.name} {version}" + (f"; not offered: {', '.join(missing)}" if missing else ""))
    results.meta["runs_per_op"] = {step.op: reps * step.inner for step, _ in steps_to_run(only)}
    wants_s3 = any(step.s3 and timed for step, timed in steps_to_run(only))
    _Trash.root = workdir / "trash"
    empty_trash()
    with s3_server(workdir, wants_s3) as (s3, s3_reason):
        for dataset, source in datasets:
            log(f"{dataset.name}: {dataset.describe()}")
            benchmark_dataset(
                dataset,
                source,
                tools=tools,
                offered=offered,
                results=results,
                workdir=workdir,
                reps=reps,
                only=only,
                s3=s3,
                s3_reason=s3_reason,
                env=env,
                timeout=timeout,
                log=log,
            )
            save()
    shutil.rmtree(workdir / "runs", ignore_errors=True)
    empty_trash()


def machine_info(path: Path) -> dict:
    """CPU count and model, memory, kernel and the filesystem holding `path`."""
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    fstype, best = "unknown", ""
    target = str(path.resolve())
    with contextlib.suppress(OSError), open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mount = parts[1]
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best):
                fstype, best = parts[2], mount
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": memory,
        "kernel": os.uname().release,
        "filesystem": fstype,
    }
