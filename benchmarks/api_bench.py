"""`python -m benchmarks.api_bench --dvc-python PATH [--quick]`: bale.api beside dvc.api.

The CLI benchmarks time whole commands, start-up included. A library call is
paid inside a process that is already running, so here every figure is taken
inside the process, around the call only: each measurement is a fresh process
of the tool's own Python running `_PROGRAM`, which imports the API module,
then times the call and prints the seconds. Tools alternate which goes first
from one repetition to the next, and an untimed warm-up round comes first, so
both see the same page cache and machine conditions.

What is measured, on generated data in a temporary folder (one repository set
up with the `bale` CLI, tagged `v1`):

1. `open(...).read()` of a 256 MiB tracked file from the cache, at rev=None and
   at the tag, beside reading the cache object itself (the plain bound);
2. `find` of a 20,000-file folder and `ls` of a flat 20,000-file folder at the
   tag, `BaleFileSystem` beside `DVCFileSystem`: construction, the first call,
   both together ("incl. open") and a repeated call ("warm");
3. one file of the 20,000-file folder read from moto's S3 server through a
   bare clone (no cache), each run with a fresh home and site cache, beside
   one boto3 `get_object` of its key.

Like the rest of this package it imports nothing from bale: bale runs as the
`bale` command and as the timing program under its Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import frame, report, runner

PROJECT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
TAG = "v1"
SECTION = "api"  # its markers in docs/benchmarks.md
S3_PREFIX = "api"

# The timing program, run as `python -c _PROGRAM SPEC` under each tool's
# Python (bale's, dvc's, or this one for the plain bounds). Only the call is
# timed: start-up and the import of the API module come before the clock
# starts (the import is reported on its own). The checks after the clock
# stops let the driver refuse a run that read the wrong bytes or files.
_PROGRAM = r"""
import hashlib, json, sys, time
spec = json.loads(sys.argv[1])
tool, case = spec["tool"], spec["case"]
clock = time.perf_counter
out = {}
start = clock()
if tool == "bale":
    import bale as package, bale.api as api
    if case in ("find", "ls"):
        from bale.api import BaleFileSystem
        make = lambda: BaleFileSystem(repo=spec["repo"], rev=spec["rev"])
elif tool == "dvc":
    import dvc as package, dvc.api as api
    if case in ("find", "ls"):
        from dvc.api import DVCFileSystem
        make = lambda: DVCFileSystem(spec["repo"], rev=spec["rev"])
else:
    import platform as package
    package.__version__ = package.python_version()
    if case == "s3":
        import boto3
out["import"] = clock() - start
out["version"] = package.__version__

if case in ("read", "s3") and tool != "plain":
    start = clock()
    with api.open(spec["path"], repo=spec["repo"], rev=spec["rev"], mode="rb") as fobj:
        data = fobj.read()
    out["call"] = clock() - start
elif case == "read":
    start = clock()
    with open(spec["cache"], "rb") as fobj:
        data = fobj.read()
    out["call"] = clock() - start
elif case == "s3":
    start = clock()
    client = boto3.client("s3", endpoint_url=spec["endpoint"], region_name="us-east-1")
    ready = clock()
    data = client.get_object(Bucket=spec["bucket"], Key=spec["key"])["Body"].read()
    end = clock()
    out["call"], out["get"] = end - start, end - ready
    start = clock()  # what any reader of the folder needs too: its manifest
    client.get_object(Bucket=spec["bucket"], Key=spec["manifest_key"])["Body"].read()
    out["both"] = out["call"] + clock() - start
else:
    call = (lambda fs: fs.find(spec["path"])) if case == "find" else (
        lambda fs: fs.ls(spec["path"], detail=False))
    t0 = clock()
    fs = make()
    t1 = clock()
    first = call(fs)
    t2 = clock()
    again = call(fs)
    t3 = clock()
    out.update(open=t1 - t0, first=t2 - t1, incl=t2 - t0, warm=t3 - t2)
    names = {name.lstrip("/") for name in first}
    data = None
    out["count"] = len(names)
    out["same"] = len(again) == len(first)
    out["has"] = spec["expect"] in names
if data is not None:
    out["count"] = len(data)
    out["md5"] = hashlib.md5(data[: 1 << 16]).hexdigest()
print(json.dumps(out))
"""


# --- sizes, the fixture -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big the data is and how often each case runs (--quick shrinks both)."""

    large_bytes: int
    files: int
    reps: int

    @property
    def large_text(self) -> str:
        """The large file's size for labels."""
        return f"{self.large_bytes // MiB} MiB"

    @property
    def picked_index(self) -> int:
        """The file read from S3: 07123 as in the tests, or one in the middle."""
        return 7123 if self.files > 7123 else self.files // 2 + 123


FULL = Sizes(large_bytes=256 * MiB, files=20_000, reps=5)
QUICK = Sizes(large_bytes=32 * MiB, files=2_000, reps=2)


@dataclass(frozen=True, slots=True)
class Fixture:
    """The repository every case reads, and what each case needs to know of it."""

    repo: Path
    bare: Path
    large: str  # path from the repository's top
    cache_object: Path
    large_head_md5: str  # md5 of the first 64 KiB, the check of a read
    big: str
    flat: str
    picked: str
    picked_bytes: bytes
    picked_key: str
    manifest_key: str  # the 20,000-file folder's `.dir` object on the remote
    endpoint: str | None


def _big_name(i: int) -> str:
    """The path of file `i` inside the big folder: subfolders of 1,000, as registries shard."""
    return f"{i // 1000:02}/{i:05}.txt"


def write_data(repo: Path, sizes: Sizes) -> None:
    """A large file of seeded random bytes, a folder of `files` small files in
    subfolders of 1,000, and a flat folder of as many (distinct contents)."""
    data = repo / "data"
    rng = random.Random(20261202)
    data.mkdir(parents=True)
    with open(data / "large.bin", "wb") as f:
        left = sizes.large_bytes
        while left > 0:
            chunk = min(left, 8 * MiB)
            f.write(rng.randbytes(chunk))
            left -= chunk
    for i in range(sizes.files):
        path = data / "big" / _big_name(i)
        if i % 1000 == 0:
            path.parent.mkdir(parents=True)
        path.write_bytes(b"row %d\n" % i)
    flat = data / "flat"
    flat.mkdir()
    for i in range(sizes.files):
        (flat / f"{i:05}.txt").write_bytes(b"flat %d\n" % i)


def _oid(dvc_file: Path) -> str:
    """The md5 a `.dvc` file records for its one output."""
    for line in dvc_file.read_text().splitlines():
        key, _, value = line.strip().lstrip("- ").partition(":")
        if key == "md5":
            return value.strip()
    raise RuntimeError(f"no md5 in {dvc_file}")


def build_fixture(
    root: Path,
    sizes: Sizes,
    *,
    bale: str,
    env: dict[str, str],
    s3: runner.S3Server | None,
    log: Callable[[str], None],
) -> Fixture:
    """The repository, made with the bale CLI as a user would: init, add,
    a default S3 remote, commit, tag, push of the folder read from S3, and a
    bare clone (no cache, no workspace) for the S3 case."""
    repo = root / "registry"

    def sh(*argv: str) -> None:
        done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")

    started = time.perf_counter()
    write_data(repo, sizes)
    log(f"data written ({time.perf_counter() - started:.1f} s)")
    sh("git", "init", "-q", "-b", "main")
    sh(bale, "init", "-q")
    if s3 is not None:
        sh(bale, "remote", "add", "-d", "s3", f"s3://{runner.BUCKET}/{S3_PREFIX}")
        sh(bale, "remote", "modify", "s3", "endpointurl", s3.endpoint)
    started = time.perf_counter()
    sh(bale, "add", "-q", "data/large.bin", "data/big", "data/flat")
    log(f"bale add ({time.perf_counter() - started:.1f} s)")
    sh("git", "add", "-A")
    sh("git", "commit", "-qm", "data")
    sh("git", "tag", TAG)
    if s3 is not None:
        started = time.perf_counter()
        sh(bale, "push", "-q", "data/big")
        log(f"bale push data/big to S3 ({time.perf_counter() - started:.1f} s)")
    bare = root / "registry.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], env=env, check=True)
    oid = _oid(repo / "data" / "large.bin.dvc")
    cache_object = repo / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    if not cache_object.is_file():
        raise RuntimeError(f"bale add left no cache object at {cache_object}")
    with open(cache_object, "rb") as f:
        head_md5 = hashlib.md5(f.read(1 << 16)).hexdigest()
    picked = f"data/big/{_big_name(sizes.picked_index)}"
    picked_bytes = (repo / picked).read_bytes()
    picked_md5 = hashlib.md5(picked_bytes).hexdigest()
    manifest = _oid(repo / "data" / "big.dvc")
    return Fixture(
        repo=repo,
        bare=bare,
        large="data/large.bin",
        cache_object=cache_object,
        large_head_md5=head_md5,
        big="data/big",
        flat="data/flat",
        picked=picked,
        picked_bytes=picked_bytes,
        picked_key=f"{S3_PREFIX}/files/md5/{picked_md5[:2]}/{picked_md5[2:]}",
        manifest_key=f"{S3_PREFIX}/files/md5/{manifest[:2]}/{manifest[2:]}",
        endpoint=s3.endpoint if s3 is not None else None,
    )


# --- cases and runs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One program run per tool and repetition; `fresh` runs get an empty home."""

    name: str
    tools: tuple[str, ...]
    spec: dict[str, Any]
    expect: dict[str, Any]  # values the program's output must have
    fresh: bool = False


def cases(fx: Fixture, sizes: Sizes) -> list[Case]:
    """Every case the fixture allows (no S3 case without the server)."""
    read_expect = {"count": sizes.large_bytes, "md5": fx.large_head_md5}
    found: list[Case] = []
    for label, rev in (("read-worktree", None), ("read-tag", TAG)):
        spec = {"case": "read", "path": fx.large, "repo": str(fx.repo), "rev": rev,
                "cache": str(fx.cache_object)}  # fmt: skip
        found.append(Case(label, ("bale", "dvc", "plain"), spec, read_expect))
    for op, path, expect in (
        ("find", fx.big, f"{fx.big}/{_big_name(sizes.picked_index)}"),
        ("ls", fx.flat, f"{fx.flat}/00007.txt"),
    ):
        spec = {"case": op, "path": path, "repo": str(fx.repo), "rev": TAG, "expect": expect}
        found.append(Case(op, ("bale", "dvc"), spec, {"count": sizes.files, "has": True,
                                                      "same": True}))  # fmt: skip
    if fx.endpoint is not None:
        spec = {"case": "s3", "path": fx.picked, "repo": str(fx.bare), "rev": TAG,
                "endpoint": fx.endpoint, "bucket": runner.BUCKET, "key": fx.picked_key,
                "manifest_key": fx.manifest_key}  # fmt: skip
        expect = {"count": len(fx.picked_bytes), "md5": hashlib.md5(fx.picked_bytes).hexdigest()}
        found.append(Case("s3", ("bale", "dvc", "plain"), spec, expect, fresh=True))
    return found


@dataclass
class Sample:
    """One program run: its figures (seconds by name, peak MB) or why it failed."""

    case: str
    tool: str
    rep: int
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def base_env(workdir: Path) -> dict[str, str]:
    """The CLI benchmarks' isolated environment (home, no analytics, git
    author), the S3 test server's dummy keys, and no outside Python paths."""
    env = runner.tool_env(workdir)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TMPDIR"):
        env.pop(key, None)
    env["AWS_ACCESS_KEY_ID"] = runner.S3_KEY
    env["AWS_SECRET_ACCESS_KEY"] = runner.S3_KEY
    return env


def fresh_env(folder: Path) -> dict[str, str]:
    """An environment whose home, user cache, dvc site cache and temporary
    folder are all new and empty: nothing read before can be reused."""
    env = base_env(folder)
    (folder / "home").mkdir(parents=True)
    (folder / "tmp").mkdir()
    env["TMPDIR"] = str(folder / "tmp")
    return env


def run_program(
    python: str, spec: dict[str, Any], *, env: dict[str, str], cwd: Path, timeout: float
) -> dict[str, Any]:
    """Run the timing program once; its figures and its peak RSS, or
    RuntimeError with the reason.

    It runs under the CLI benchmarks' small wrapper process: Linux carries a
    peak RSS across fork and exec, so a program started from this process
    would report at least this process's size.
    """
    done = runner.run_measured([python, "-c", _PROGRAM, json.dumps(spec)], cwd=cwd, env=env,
                               timeout=timeout)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(done.reason())
    figures = json.loads(lines[-1])
    figures["peak_mb"] = done.peak_mb
    return figures


def run_all(
    found: list[Case],
    *,
    pythons: dict[str, str],
    workdir: Path,
    reps: int,
    timeout: float,
    log: Callable[[str], None],
) -> list[Sample]:
    """Round 0 (untimed warm-up), then `reps` rounds; in each, every case runs
    once per tool, the first tool rotating from one round to the next."""
    env = base_env(workdir)
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    for rep in range(reps + 1):
        for case in found:
            shift = rep % len(case.tools)
            order = case.tools[shift:] + case.tools[:shift]
            for tool in order:
                sample = Sample(case.name, tool, rep)
                folder = workdir / "fresh" / f"{case.name}-{rep}-{tool}"
                run_env = fresh_env(folder) if case.fresh else env
                try:
                    figures = run_program(pythons[tool], {**case.spec, "tool": tool},
                                          env=run_env, cwd=workdir, timeout=timeout)  # fmt: skip
                    wrong = {k: figures.get(k) for k, v in case.expect.items()
                             if figures.get(k) != v}  # fmt: skip
                    if wrong:
                        raise RuntimeError(f"wrong result {wrong}, expected {case.expect}")
                    sample.figures = figures
                except (RuntimeError, json.JSONDecodeError) as exc:
                    sample.error = str(exc)
                finally:
                    if case.fresh:
                        runner.remove_tree(folder)
                if rep > 0:
                    samples.append(sample)
                shown = sample.error or "  ".join(
                    f"{k} {v * 1000:.0f} ms" for k, v in sample.figures.items()
                    if k in ("import", "call", "get", "open", "first", "warm"))  # fmt: skip
                round_name = f"rep {rep}" if rep else "warm-up"
                log(f"  {round_name:7} {case.name:13} {tool:5} {shown}")
    return samples


# --- the table --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: one figure of one case, with its goal if it has one."""

    label: str
    case: str
    figure: str
    goal: str | None = None  # "plain" (bale ≤ limit × plain) or "dvc" (dvc/bale ≥ limit)
    limit: float = 0.0
    tools: tuple[str, ...] = ("bale", "dvc", "plain")  # the columns this line fills
    plain_figure: str | None = None  # another figure of the plain run, when not `figure`
    peaks: bool = True  # False where the run's peak belongs to another line


def table_rows(sizes: Sizes) -> list[Row]:
    """The table's lines, labelled with this run's sizes."""
    n = f"{sizes.files:,}"
    big = sizes.large_text
    return [
        Row("import of the API module (`bale.api`, `dvc.api`)", "read-worktree", "import",
            tools=("bale", "dvc"), peaks=False),
        Row(f"`open().read()` {big} from the cache, rev=None", "read-worktree", "call",
            "plain", 1.2),
        Row(f"`open().read()` {big} from the cache, rev=`{TAG}`", "read-tag", "call",
            "plain", 1.2),
        Row(f"filesystem at `{TAG}`: construction", "find", "open"),
        Row(f"`find` {n} files in subfolders: first call", "find", "first"),
        Row(f"`find` {n} files (incl. open)", "find", "incl", "dvc", 10),
        Row(f"`find` {n} files (warm)", "find", "warm", "dvc", 10),
        Row(f"`ls` flat folder of {n} (incl. open)", "ls", "incl", "dvc", 10),
        Row(f"`ls` flat folder of {n} (warm)", "ls", "warm", "dvc", 10),
        Row("S3, empty cache: `open().read()` one file of the folder", "s3", "call"),
        Row("S3: `get_object` alone (boto3 client made)", "s3", "call", tools=("plain",),
            plain_figure="get", peaks=False),
        Row("S3: client, `get_object` of the file and of the folder's manifest", "s3",
            "call", tools=("plain",), plain_figure="both", peaks=False),
    ]  # fmt: skip


TOOLS = ("bale", "dvc", "plain")


def stats(samples: list[Sample], case: str, tool: str, figure: str) -> report.Stat | None:
    """Median, min and max of one figure over the repetitions that gave it."""
    picked = [s for s in samples if s.case == case and s.tool == tool and s.error is None]
    values = [s.figures[figure] for s in picked if figure in s.figures]
    if not values:
        return None
    peak = max(s.figures.get("peak_mb", 0.0) for s in picked)
    return report.Stat(statistics.median(values), min(values), max(values), peak, len(values))


def summarize(samples: list[Sample], sizes: Sizes) -> list[dict[str, Any]]:
    """Per row: stats per tool, the two ratios, and whether the goal is met."""
    out = []
    for row in table_rows(sizes):
        by_tool: dict[str, report.Stat | None] = {}
        errors: dict[str, str | None] = {}
        for tool in TOOLS:
            figure = row.plain_figure if tool == "plain" and row.plain_figure else row.figure
            if tool not in row.tools:
                by_tool[tool], errors[tool] = None, None
                continue
            by_tool[tool] = stats(samples, row.case, tool, figure)
            failed = [s.error for s in samples if s.case == row.case and s.tool == tool
                      and s.error]  # fmt: skip
            errors[tool] = failed[0] if failed else None
        bale, dvc, plain = by_tool["bale"], by_tool["dvc"], by_tool["plain"]
        vs_dvc = dvc.median / bale.median if bale and dvc and bale.median > 0 else None
        vs_plain = bale.median / plain.median if bale and plain and plain.median > 0 else None
        met = None
        if row.goal == "plain" and vs_plain is not None:
            met = vs_plain <= row.limit
        elif row.goal == "dvc" and vs_dvc is not None:
            met = vs_dvc >= row.limit
        out.append({"row": row, "stats": by_tool, "errors": errors, "vs_dvc": vs_dvc,
                    "vs_plain": vs_plain, "met": met})  # fmt: skip
    return out


def _goal_text(row: Row) -> str:
    """The goal as the table's column shows it."""
    if row.goal == "plain":
        return f"≤ {row.limit:g}× plain"
    if row.goal == "dvc":
        return f"≥ {row.limit:g}× dvc"
    return ""


def _ms(x: float) -> str:
    """Seconds as a table shows them: tenths of a millisecond below 10 ms."""
    return f"{x * 1000:.1f}" if x < 0.01 else f"{x * 1000:.0f}"


def _cell(stat: report.Stat | None, error: str | None) -> str:
    """`median (min–max)` of one tool's figure, or why there is none."""
    if stat is None:
        return "failed" if error else ""
    if stat.hi >= 1:
        return f"{report.fmt_seconds(stat.median)} ({stat.lo:.2f}–{stat.hi:.2f})"
    return f"{_ms(stat.median)} ms ({_ms(stat.lo)}–{_ms(stat.hi)})"


def _ratio(x: float | None, digits: int) -> str:
    """A ratio cell; tiny ones (dvc's lazy construction) would read as 0.0×."""
    if x is None:
        return ""
    return f"{x:.{digits}f}×" if x >= 0.1 else "< 0.1×"


def _peaks(line: dict[str, Any]) -> str:
    """The peak RSS of each tool's run (the process tree's, from the wrapper)."""
    if not line["row"].peaks:
        return ""
    shown = [f"{s.peak_mb:.0f}" if s else "–" for s in line["stats"].values()]
    return " / ".join(shown) if any(s for s in line["stats"].values()) else ""


def _cells(line: dict[str, Any]) -> list[str]:
    """One table line's cells, shared by the terminal table and the markdown."""
    row: Row = line["row"]
    met = line["met"]
    if met is None:
        verdict = "" if row.goal is None else "n/a"
    else:
        ratio = line["vs_plain"] if row.goal == "plain" else line["vs_dvc"]
        verdict = "yes" if met else f"**no**: {ratio:.2f}×"
    return [
        row.label,
        *(_cell(line["stats"][t], line["errors"][t]) for t in TOOLS),
        _ratio(line["vs_dvc"], 1),
        _ratio(line["vs_plain"], 2),
        _peaks(line),
        _goal_text(row),
        verdict,
    ]


HEAD = ("operation", "bale", "dvc", "plain", "dvc/bale", "bale/plain",
        "peak MB bale / dvc / plain", "goal", "met?")  # fmt: skip


def text_table(lines: list[dict[str, Any]]) -> str:
    """The table for the terminal."""
    body = [[c.replace("`", "").replace("**", "") for c in _cells(line)] for line in lines]
    widths = [max(len(r[i]) for r in [list(HEAD), *body]) for i in range(len(HEAD))]
    fmt = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                  enumerate(zip(r, widths, strict=True)))
        for r in [list(HEAD), *body]
    ]  # fmt: skip
    return "\n".join([fmt[0], "  ".join("-" * w for w in widths), *fmt[1:]])


def goal_lines(lines: list[dict[str, Any]]) -> list[str]:
    """One sentence per goal row: met or not, with the ratio."""
    out = []
    for line in lines:
        row: Row = line["row"]
        if row.goal is None:
            continue
        name = row.label
        if line["met"] is None:
            out.append(f"- {name}: no figure (a run failed), goal {_goal_text(row)}")
        elif row.goal == "plain":
            word = "met" if line["met"] else "**not met**"
            out.append(f"- {name}: bale takes {line['vs_plain']:.2f}× the plain read "
                       f"(goal ≤ {row.limit:g}×): {word}")  # fmt: skip
        else:
            word = "met" if line["met"] else "**not met**"
            out.append(f"- {name}: bale is {line['vs_dvc']:.1f}× faster than DVCFileSystem "
                       f"(goal ≥ {row.limit:g}×): {word}")  # fmt: skip
    return out


INTRO = """
`bale.api` beside `dvc.api` (`python -m benchmarks.api_bench`, `make bench-api`).
Library calls are timed inside the calling process, around the call only:
each measurement is a fresh process of the tool's own Python that imports
the API module (timed apart: the first row), then times the call. Tools
alternate which goes first from one repetition to the next, after one
untimed warm-up round; figures are medians with (min–max) of {reps}
repetitions. The data is generated in a temporary folder: one repository set
up with the `bale` CLI (`init`, `add`, `remote add -d`, `push`, tag `{tag}`)
holding a {large} file, a folder of {n} files in subfolders of 1,000 and a
flat folder of {n} files. Reads from the cache have a warm page cache;
"plain" reads the cache object itself (`open(path, 'rb').read()`). The
filesystems are `BaleFileSystem` and `DVCFileSystem` at the tag:
construction, the first call, both together (incl. open) and the same call
again on the same object (warm). `DVCFileSystem` opens the repository at
its first call, so only "incl. open" and "warm" compare like with like. User
and site caches are kept between repetitions, as on a user's machine. The
S3 case reads one file of the folder (pushed with `bale push` to moto's
standalone server) through a `git clone --bare` of the repository, each run
with a new empty home, user cache, dvc site cache and TMPDIR; its plain
bound makes a boto3 client and does one `get_object` of the file's key (and,
in the last row, of the folder's manifest, which every reader of a file
inside it needs).
"""


def markdown(lines: list[dict[str, Any]], meta: dict[str, Any], sizes: Sizes) -> str:
    """The "Python API" section of docs/benchmarks.md."""
    m = meta["machine"]
    n = f"{sizes.files:,}"
    load = meta["load"]
    text = [
        "## Python API",
        "",
        INTRO.format(reps=meta["reps"], tag=TAG, large=sizes.large_text, n=n).strip(),
        "",
        f"- Date: {meta['date']}; mode: {'quick' if meta['quick'] else 'full'}, "
        f"{meta['reps']} repetition(s), {meta['minutes']:.1f} minutes in all",
        f"- Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']:.0f} GB memory, "
        f"Linux {m['kernel']}, work directory on {m['filesystem']}",
        "- The machine is shared: other work ran at the same time (load average "
        f"{load['start']:.2f} at the start, {load['end']:.2f} at the end), so single figures "
        "are noisy; the ratios of alternating runs are the firmer part.",
        f"- Python {meta['python']}; bale {meta['versions'].get('bale', '?')}; "
        f"dvc {meta['versions'].get('dvc', '?')}",
        "- To reproduce: `make bench-api`, or `.venv/bin/python -m benchmarks.api_bench "
        "--dvc-python .venv-dvc/bin/python` (`--quick`: 2 repetitions on smaller data)",
        "",
        "| " + " | ".join(HEAD) + " |",
        "| --- | " + " | ".join("---:" for _ in HEAD[1:-2]) + " | --- | --- |",
    ]
    text += ["| " + " | ".join(_cells(line)) + " |" for line in lines]
    text += ["", "Goals:", "", *goal_lines(lines)]
    failed = sorted({e for line in lines for e in line["errors"].values() if e})
    if failed:
        text += ["", "Failed runs:", "", *(f"- {e}" for e in failed)]
    return "\n".join(text) + "\n"


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.api_bench",
        description="Time bale.api and BaleFileSystem beside dvc.api and DVCFileSystem.",
    )
    parser.add_argument("--dvc-python", help="the Python that has dvc installed (required)")
    parser.add_argument(
        "--bale",
        default=str(Path(sys.executable).parent / "bale"),
        help="the bale command used to set up the repository (default: beside this Python)",
    )
    parser.add_argument(
        "--bale-python", default=sys.executable, help="the Python that has bale (default: this)"
    )
    frame.add_run_options(parser, quick_help=f"{QUICK.files:,} files, 2 repetitions: a minute")
    args = parser.parse_args(argv)
    if not args.dvc_python and not args.from_json:
        parser.error("--dvc-python PATH is required (e.g. .venv-dvc/bin/python)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Set up, run every case, report; exit 1 if any run failed or read wrong data."""
    args = parse_args(argv)
    if args.from_json:
        raw = json.loads(args.from_json.read_text())
        samples = [Sample(**s) for s in raw["samples"]]
        return show(samples, raw["meta"], args)
    sizes = QUICK if args.quick else FULL
    reps = args.reps or sizes.reps
    clock = frame.Clock()
    workdir = frame.work_folder(args, "api-bench")

    def log(line: str) -> None:
        print(line, flush=True)

    pythons = {
        "bale": str(Path(args.bale_python).absolute()),
        "dvc": str(Path(args.dvc_python).absolute()),
        "plain": sys.executable,
    }
    env = base_env(workdir)
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    dvc_cli = Path(pythons["dvc"]).parent / "dvc"
    for name, exe in (("bale", Path(args.bale)), ("dvc", dvc_cli)):
        if exe.exists():  # compiled ahead, as a wheel install does
            runner.compile_tool(runner.Tool(name, (str(exe.absolute()),)), env)
    machine = runner.machine_info(workdir)
    try:
        with runner.s3_server(workdir, True) as (s3, why):
            if s3 is None:
                log(f"no S3 case: {why}")
            fx = build_fixture(workdir, sizes, bale=str(Path(args.bale).absolute()), env=env,
                               s3=s3, log=log)  # fmt: skip
            found = cases(fx, sizes)
            samples = run_all(found, pythons=pythons, workdir=workdir, reps=reps,
                              timeout=args.timeout, log=log)  # fmt: skip
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            runner.remove_tree(workdir)
    versions: dict[str, str] = {}
    for s in samples:
        if s.tool in ("bale", "dvc") and "version" in s.figures:
            versions.setdefault(s.tool, s.figures["version"])
    meta = clock.meta(args, reps, machine, versions)
    return show(samples, meta, args)


def show(samples: list[Sample], meta: dict[str, Any], args: argparse.Namespace) -> int:
    """Print the table and goals; write --docs and --json if asked."""
    sizes = QUICK if meta["quick"] else FULL
    lines = summarize(samples, sizes)
    section = (SECTION, markdown(lines, meta, sizes))
    return frame.show(args, meta, samples, table=text_table(lines), goals=goal_lines(lines),
                      section=section)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
