"""`repro`: run, in DAG order, the stages whose inputs changed since their
last run, then record what they produced in the cache and `dvc.lock`.

Each stage is decided when its turn comes, after the stages before it ran:
a stage that rewrote its outputs with the same bytes changes nothing after it.
A stage is recorded (cache, then `dvc.lock`, then `.gitignore`) as soon as
its command succeeds, so a later failure keeps what earlier stages did.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from bale.errors import DvcFileError, PipelineError, StageFailedError, TargetNotFoundError
from bale.formats.dvcfile import Out
from bale.formats.lockfile import dump_lockfile, lock_stage
from bale.fsutil import atomic_write
from bale.pipeline.changes import StageChanges, hashed_dep, read_params, stage_changes
from bale.pipeline.dag import Dag
from bale.pipeline.stages import Stage, load_stages
from bale.workspace import gitignore
from bale.workspace.commit import commit
from bale.workspace.context import Workspace
from bale.workspace.index import Index, load_index, remove_metadata_leftovers
from bale.workspace.save import save_path
from bale.workspace.status import output_status

DEFAULT_PARAMS = "params.yaml"


class Step(NamedTuple):
    """One stage of a repro and what became of it: `ran`, `restored` (its
    outputs checked out of the run cache instead), `unchanged` (up to date,
    skipped), `frozen`, `pulled`, `missing` (`--allow-missing`: only data is
    gone); with `keep_going`, `failed` (`error` says how) or `blocked` (it
    needs one that failed); `why` says what made it run."""

    address: str
    outcome: str
    why: StageChanges | None = None
    error: str = ""


class Options(NamedTuple):
    force: bool = False
    single: bool = False  # -s: the targets only, not what they need
    downstream: bool = False
    all_pipelines: bool = False  # -P: every stage, whatever the targets (dvc's)
    pipeline: bool = False  # -p: the whole pipelines the targets belong to
    force_downstream: bool = False  # a stage that runs makes every stage after it run
    allow_missing: bool = False  # outputs missing but nothing else changed: not run
    dry: bool = False
    no_run_cache: bool = False  # run changed stages, not only check out a saved run
    jobs: int = 1  # stages whose commands may run at once
    pull: bool = False  # outputs missing but recorded: download them rather than run
    recursive: bool = False  # -R: a folder target stands for the stages inside it
    glob: bool = False  # a target's stage name may hold shell wildcards: train-*
    keep_going: bool = False  # -k: after a failure, run the stages that do not need it
    ignore_errors: bool = False  # a failure is said and passed over; the rest all run


DEFAULTS = Options()


def load_dag(ws: Workspace, index: Index | None = None) -> Dag:
    """The DAG of every stage of the workspace, checked against the outputs
    of `.dvc` files.

    Raises:
        DvcFileError, OverlappingOutputError, PipelineError: see `Dag`.
    """
    index = index or load_index(ws.repo)
    tracked = [(t.rel, t.dvcfile) for t in index.tracked if t.stage is None]
    return Dag(load_stages(ws.repo, index.pipelines), tracked)


def resolve_targets(
    ws: Workspace, dag: Dag, targets: list[str], *, recursive: bool = False, glob: bool = False
) -> list[str]:
    """Stage addresses for targets written as dvc writes them: `train` (a
    stage of the current folder's dvc.yaml, or every stage its `foreach` or
    `matrix` generates: `train@1`, `train@2`), `sub/dvc.yaml:train`, or
    `sub/dvc.yaml` (all its stages); with `recursive`, a folder stands for
    the stages of every dvc.yaml inside it; with `glob`, a stage name may
    hold shell wildcards (`train-*`, `split@*`).

    Raises:
        TargetNotFoundError: a target names no stage.
    """
    found: list[str] = []
    for target in targets:
        if target.endswith(".dvc") and os.path.isfile(target):
            raise TargetNotFoundError(target, _not_a_stage(ws, target))
        if recursive and os.path.isdir(target):
            top = ws.repo.rel(target)
            inside = [
                addr for addr, stage in dag.stages.items()
                if not top or stage.pipeline.startswith(top + "/")
            ]  # fmt: skip
            if not inside:
                raise TargetNotFoundError(target, "no dvc.yaml inside it has stages")
            found += inside
            continue
        path, colon, name = target.rpartition(":")
        if os.path.basename(target) == "dvc.yaml":
            path, name = target, ""
        elif not (colon and os.path.basename(path) == "dvc.yaml"):
            path, name = "dvc.yaml", target
        pipeline = ws.repo.rel(path)
        matched = [
            addr for addr, stage in dag.stages.items()
            if stage.pipeline == pipeline and (not name or stage.name == name
                                               or (glob and fnmatchcase(stage.name, name)))
        ] or [  # a group: stage names cannot hold '@', generated ones are NAME@KEY
            addr for addr, stage in dag.stages.items()
            if name and stage.pipeline == pipeline and stage.name.startswith(name + "@")
        ]  # fmt: skip
        if not matched:
            where = os.path.relpath(ws.repo.abs(pipeline))
            raise TargetNotFoundError(target, f"{where} has no such stage; check the name")
        found += matched
    return found


def _not_a_stage(ws: Workspace, target: str) -> str:
    """Why a `.dvc` file is no target of repro: it tracks data, or it is a
    single-stage file of DVC 1.x, which bale (and dvc 3) do not run."""
    from bale.workspace.index import load_dvcfile

    if "cmd" in load_dvcfile(ws.repo, ws.repo.rel(target)).extra:
        return (
            "it is a single-stage file of DVC 1.x: bale reads its outputs (status, push, "
            "pull, checkout) but runs only dvc.yaml stages, as dvc 3 does; move the stage "
            "into dvc.yaml (bale stage add) to run it"
        )
    return "it tracks data, which repro records when a stage reads it; name a dvc.yaml stage"


def plan(ws: Workspace, dag: Dag, targets: list[str], options: Options) -> list[str]:
    """The stages a repro of `targets` (all when none) considers, in run order."""
    if not targets or options.all_pipelines:
        return dag.order()
    chosen = resolve_targets(ws, dag, targets, recursive=options.recursive, glob=options.glob)
    if options.pipeline:
        return dag.connected(chosen)
    if options.single:
        return [a for a in dag.order() if a in set(chosen)]
    if options.downstream:
        return dag.downstream(chosen)
    return dag.upstream(chosen)


def must_run(changes: StageChanges, stage: Stage) -> bool:
    """Changed, never run, or a stage without dependencies (dvc's callback
    stage, which always runs)."""
    return bool(changes) or stage.lock is None or (not stage.deps and not stage.params)


def repro(
    ws: Workspace,
    targets: list[str],
    options: Options = DEFAULTS,
    *,
    report: Callable[[Step, Stage | None], None] = lambda step, stage: None,
    warn: Callable[[str], None] = lambda message: None,
    confirm: Callable[[Stage], None] = lambda stage: None,
) -> list[Step]:
    """Run the stages of `targets` that changed; `report` is told of each
    stage as it is decided, before a command that runs prints anything, and
    `warn` of run cache entries that were ignored, and `confirm` of each
    stage about to run before anything of it changes (`-i`: it raises to stop).

    A stage that must run is first looked up in the run cache (`runcache`),
    as dvc does unless forced: a saved run with the same inputs is checked
    out (`restored`) instead of running the command.

    `.dvc` files whose outputs the stages read are data sources, as in dvc:
    changed data there is recorded first (as `commit` would), then the
    stages run.

    Raises:
        StageFailedError: a command failed; the stages before it are recorded.
        PipelineError: a dependency or parameter is missing, an output was
            not made, or the stages cannot be ordered; with `keep_going`,
            raised once the stages that could run have run, naming those
            that failed.
    """
    index = load_index(ws.repo)
    dag = load_dag(ws, index)
    chosen = plan(ws, dag, targets, options)
    ws.keep_listings()  # until a stage writes: a data source and its reader walk it once
    steps: list[Step] = []
    for dvcfile in _data_sources(index, [dag.stages[a] for a in chosen]):
        changed = [t for t in index.tracked if t.dvcfile == dvcfile
                   if output_status(ws, t) in ("modified", "new")]  # fmt: skip
        step = Step(dvcfile, "recorded" if changed else "unchanged")
        report(step, None)
        steps.append(step)
        if changed and not options.dry:
            commit(ws, [dvcfile])
    if options.jobs > 1 and not options.dry:
        return steps + _run_parallel(ws, dag, chosen, options, report, warn, confirm)
    dirty: set[str] = set()  # stages that ran (--dry: would run), for --dry and --force-downstream
    broken: set[str] = set()  # -k: stages that failed, or need one that did
    for address in chosen:
        stage = dag.stages[address]
        if blocked := _blocked(dag, address, broken):
            broken.add(address)
            report(blocked, stage)
            steps.append(blocked)
            continue
        step = _decide(ws, stage, options)
        forced = _forced(dag, step, dirty, options)
        if forced:
            step = Step(address, "ran", step.why)
        if step.outcome == "ran" and not options.dry:
            confirm(stage)
            dirty.add(address)
            # Reported once decided: before the command runs, or as restored.
            try:
                outcome = run_stage(
                    ws, stage, force=options.force or forced, no_run_cache=options.no_run_cache,
                    before_run=lambda step=step, stage=stage: report(step, stage), warn=warn,
                )  # fmt: skip
            except PipelineError as exc:
                if not (options.keep_going or options.ignore_errors):
                    raise
                failed = Step(address, "failed", error=str(exc))
                if not options.ignore_errors:
                    broken.add(address)
                report(failed, stage)
                steps.append(failed)
                continue
            finally:
                ws.keep_listings()  # afresh: the stage wrote
            if outcome == "restored":
                step = step._replace(outcome=outcome)
                report(step, stage)
            steps.append(step)
            continue
        report(step, stage)
        steps.append(step)
        if step.outcome == "ran":
            dirty.add(address)  # --dry
    if not options.ignore_errors:
        _raise_failures(steps)
    return steps


def _forced(dag: Dag, step: Step, dirty: set[str], options: Options) -> bool:
    """Whether an unchanged stage runs all the same: it needs one that runs,
    and this is `--dry` (its inputs would change) or `--force-downstream`."""
    return (
        step.outcome == "unchanged"
        and (options.dry or options.force_downstream)
        and bool(dag.needs[step.address] & dirty)
    )


def _blocked(dag: Dag, address: str, broken: set[str]) -> Step | None:
    """`-k`: the step of a stage that needs one that failed (or was blocked)."""
    needs = sorted(dag.needs[address] & broken) if broken else []
    return Step(address, "blocked", error=needs[0]) if needs else None


def _raise_failures(steps: list[Step]) -> None:
    """After a `-k` repro: one error naming the stages that failed."""
    failed = [s for s in steps if s.outcome == "failed"]
    if not failed:
        return
    blocked = sum(s.outcome == "blocked" for s in steps)
    names = ", ".join(f"'{s.address}'" for s in failed)
    raise PipelineError(
        f"{len(failed)} stage(s) failed ({names})"
        + (f" and {blocked} that need them did not run" if blocked else "")
        + "; the others ran and are recorded: fix them and run bale repro again"
    )


def _decide(ws: Workspace, stage: Stage, options: Options) -> Step:
    if stage.definition.frozen:
        return Step(stage.address, "frozen")
    changes = stage_changes(ws, stage)
    if options.pull and not (options.force or options.dry) and _pulled(ws, stage, changes):
        return Step(stage.address, "pulled")
    if options.allow_missing and not options.force and _only_missing(stage, changes):
        return Step(stage.address, "missing")
    if options.force or must_run(changes, stage):
        return Step(stage.address, "ran", changes)
    return Step(stage.address, "unchanged")


def _only_missing(stage: Stage, changes: StageChanges) -> bool:
    """`--allow-missing`, as dvc's: a recorded stage whose only changes are
    files that are gone (outputs from the workspace or the cache, inputs from
    the workspace: another stage's skipped outputs), nothing edited."""
    gone = {"deleted", "not in cache"}
    return (
        stage.lock is not None and bool(stage.deps or stage.params)
        and bool(changes) and not (changes.command or changes.always)
        and all(isinstance(v, str) and v == "deleted" for v in changes.deps.values())
        and set(changes.outs.values()) <= gone
    )  # fmt: skip


def _pulled(ws: Workspace, stage: Stage, changes: StageChanges) -> bool:
    """`--pull`: when only recorded outputs are missing (deleted, or not in
    the cache), fetch them from the remote and check them out; whether the
    stage is up to date after that. A remote that lacks them is no error:
    the stage runs."""
    missing = {"deleted", "not in cache"}
    if (
        stage.lock is None or changes.deps or changes.command or changes.always
        or not changes.outs or not set(changes.outs.values()) <= missing
    ):  # fmt: skip
        return False
    from bale.errors import BaleError
    from bale.workspace.checkout import checkout
    from bale.workspace.sync import Scope, fetch

    target = f"{ws.repo.abs(stage.pipeline)}:{stage.name}"
    try:
        fetch(ws, Scope([target]))
        checkout(ws, [target], force=True)
    except BaleError:
        return False
    ws.keep_listings()  # afresh: the checkout wrote
    return not stage_changes(ws, stage)


def _run_parallel(
    ws: Workspace,
    dag: Dag,
    chosen: list[str],
    options: Options,
    report: Callable[[Step, Stage | None], None],
    warn: Callable[[str], None],
    confirm: Callable[[Stage], None],
) -> list[Step]:
    """`repro -j N`: a stage is decided once the stages it needs are done,
    and up to N commands run at once, in threads; hashing, the cache and the
    lock stay on this thread. After a failure no stage starts; those running
    finish and are recorded, then the first failure is raised. With
    `keep_going`, only the stages that need a failed one do not start."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    ws.keep_listings(False)  # other stages write while one is decided
    wanted = set(chosen)
    pending = list(chosen)
    done: set[str] = set()
    steps: list[Step] = []
    running: dict[Future, tuple[Step, Stage, Prepared]] = {}
    failure: BaseException | None = None
    broken: set[str] = set()  # -k: stages that failed, or need one that did
    dirty: set[str] = set()  # stages that ran or were restored, for --force-downstream
    previous = signal.signal(signal.SIGINT, _let_the_command_decide)  # the commands get Ctrl-C
    try:
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            while pending or running:
                for address in [a for a in pending if not (dag.needs[a] & wanted) - done]:
                    if failure is not None or len(running) >= options.jobs:
                        break
                    pending.remove(address)
                    stage = dag.stages[address]
                    if blocked := _blocked(dag, address, broken):
                        broken.add(address)
                        report(blocked, stage)
                        steps.append(blocked)
                        done.add(address)
                        continue
                    step = _decide(ws, stage, options)
                    forced = _forced(dag, step, dirty, options)
                    if forced:
                        step = Step(address, "ran", step.why)
                    prepared = None
                    if step.outcome == "ran":
                        confirm(stage)
                        dirty.add(address)
                        prepared = prepare_stage(
                            ws, stage, force=options.force or forced,
                            no_run_cache=options.no_run_cache, warn=warn,
                        )  # fmt: skip
                        if prepared is None:
                            step = step._replace(outcome="restored")
                    report(step, stage)
                    if prepared is None:
                        steps.append(step)
                        done.add(address)
                        continue
                    running[pool.submit(run_commands, ws, stage)] = (step, stage, prepared)
                if failure is not None and not running:
                    break
                if not running:
                    continue
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    step, stage, prepared = running.pop(future)
                    error = future.exception()
                    if (
                        error is not None
                        and (options.keep_going or options.ignore_errors)
                        and isinstance(error, PipelineError)
                    ):
                        failed = Step(step.address, "failed", error=str(error))
                        if not options.ignore_errors:
                            broken.add(step.address)
                        report(failed, stage)
                        steps.append(failed)
                        done.add(step.address)
                        continue
                    if error is not None:
                        failure = failure or error
                        continue
                    finish_stage(ws, stage, prepared)
                    steps.append(step)
                    done.add(step.address)
    finally:
        signal.signal(signal.SIGINT, previous)
    if failure is not None:
        raise failure
    if not options.ignore_errors:
        _raise_failures(steps)
    return steps


def _data_sources(index: Index, stages: list[Stage]) -> list[str]:
    """The `.dvc` files (not imports, which are frozen) whose outputs the
    stages depend on, in path order."""
    deps = [d for s in stages for d in s.deps]
    found = {
        t.dvcfile for t in index.tracked
        if t.stage is None and t.dvcfile not in index.imports and t.dvcfile not in index.url_imports
        and any(d == t.rel or d.startswith(t.rel + "/") or t.rel.startswith(d + "/") for d in deps)
    }  # fmt: skip
    return sorted(found)


class Prepared(NamedTuple):
    """A stage about to run: its dependencies and params as hashed before."""

    deps: list[Out]
    params: dict[str, dict[str, Any]]


def run_stage(
    ws: Workspace,
    stage: Stage,
    *,
    force: bool = False,
    no_run_cache: bool = False,
    before_run: Callable[[], None] = lambda: None,
    warn: Callable[[str], None] = lambda message: None,
) -> str:
    """Hash the inputs, clear the outputs, then check a saved run out of the
    run cache or run the command, and record; "restored" or "ran".

    Unless `force`, the run `dvc.lock` records and then (unless
    `no_run_cache`) the run cache are tried first, as dvc tries them; a run
    of a stage dvc would keep is saved there. `before_run` is called just
    before the command runs.

    Raises:
        StageFailedError, PipelineError: see `repro`.
    """
    prepared = prepare_stage(ws, stage, force=force, no_run_cache=no_run_cache, warn=warn)
    if prepared is None:
        return "restored"
    before_run()
    previous = signal.signal(signal.SIGINT, _let_the_command_decide)
    try:
        run_commands(ws, stage)
    finally:
        signal.signal(signal.SIGINT, previous)
    finish_stage(ws, stage, prepared)
    return "ran"


def prepare_stage(
    ws: Workspace,
    stage: Stage,
    *,
    force: bool,
    no_run_cache: bool,
    warn: Callable[[str], None],
) -> Prepared | None:
    """Hash the inputs and clear the outputs; None when a saved run was
    checked out and recorded instead (see `run_stage`)."""
    from bale.pipeline import runcache

    definition = stage.definition
    try:
        deps = [hashed_dep(ws, rel, w) for rel, w in zip(stage.deps, definition.deps, strict=True)]
        params = _params(ws, stage)
    except PipelineError as exc:
        raise PipelineError(f"stage '{stage.address}': {exc}") from exc
    # From here the stage writes: folders listed before (`keep_listings`)
    # are walked again, or its outputs would be saved as they were.
    ws.keep_listings(False)
    _remove_outs(ws, stage)
    if not force:
        restored = runcache.restore(ws, stage, deps, params, run_cache=not no_run_cache, warn=warn)
        if restored is not None:
            runcache.save(ws, stage, restored)  # a run dvc.lock had, kept as dvc keeps it
            _record(ws, stage, restored)
            return None
        _remove_outs(ws, stage)  # what a checkout that failed half-way placed
    return Prepared(deps, params)


def _let_the_command_decide(signum: int, frame: object) -> None:
    """bale's SIGINT handler while commands run: nothing. Not SIG_IGN, which
    the commands would inherit (and ignore Ctrl-C); a handler is reset to the
    default in them, so Ctrl-C stops them and their exit status tells."""


def run_commands(ws: Workspace, stage: Stage) -> None:
    """The stage's commands in turn, with the user's shell in its wdir, the
    output going straight to the terminal; Ctrl-C reaches the commands (the
    caller ignores it meanwhile), whose exit status then says they stopped.
    Touches nothing of bale's, so stages can run in threads.

    Raises:
        StageFailedError: a command exited non-zero.
    """
    definition = stage.definition
    env = dict(os.environ, DVC_ROOT=ws.repo.root, DVC_STAGE=stage.address)
    shell = os.environ.get("SHELL") or "/bin/sh"
    for cmd in [definition.cmd] if isinstance(definition.cmd, str) else definition.cmd:
        try:
            code = subprocess.call([shell, "-c", str(cmd)], cwd=ws.repo.abs(stage.wdir), env=env)
        except OSError as exc:
            raise PipelineError(f"cannot run '{cmd}' with {shell}: {exc.strerror}") from exc
        if code != 0:
            raise StageFailedError(stage.address, str(cmd), code)


def finish_stage(ws: Workspace, stage: Stage, prepared: Prepared) -> None:
    """Save the outputs the command made (the cache, durably), then the lock
    entry, the run cache and `.gitignore`.

    Raises:
        PipelineError: an output was not made.
    """
    from bale.pipeline import runcache

    # dvc stores uncached metrics and plots with a run it keeps, to restore them.
    keep_run = runcache.saves(stage, prepared.params)
    outs = []
    for rel, out in stage.outs:
        if not os.path.lexists(ws.repo.abs(rel)):
            raise PipelineError(
                f"stage '{stage.address}': the command did not create output '{out.path}'; "
                "fix the command or the stage's outs"
            )
        ws.check_inside(rel, follow=True)
        saved = save_path(ws, rel, commit=out.cache or keep_run)
        outs.append(Out(out.path, saved.oid, size=saved.size, nfiles=saved.nfiles,
                        isexec=saved.isexec))  # fmt: skip
    ws.store.sync()  # the objects are durable before the lock and the run cache name them
    body = lock_stage(stage.definition.cmd, prepared.deps, prepared.params, outs)
    runcache.save(ws, stage, body)
    _record(ws, stage, body)


def _remove_outs(ws: Workspace, stage: Stage) -> None:
    for rel, out in stage.outs:
        if not out.persist:
            _remove(ws.repo.abs(rel))


def _record(ws: Workspace, stage: Stage, body: dict[str, Any]) -> None:
    """Git-ignore the stage's cached outputs, then write its lock entry: a
    rerun skips a stage dvc.lock records, so a run killed in between must
    not have recorded it yet."""
    if ws.repo.git is not None:
        for rel, out in stage.outs:
            if out.cache:
                gitignore.ignore(ws.repo.git, ws.repo.abs(rel))
    _write_lock(ws, stage, body)


def _params(ws: Workspace, stage: Stage) -> dict[str, dict[str, Any]]:
    """Values per params file as the lock records them: params.yaml first,
    then the others by name; keys sorted."""
    found: dict[str, dict[str, Any]] = {}
    for param in sorted(stage.params, key=lambda p: p.path):
        values = read_params(ws, param)
        if values is None:
            raise PipelineError(
                f"params file '{param.path}' does not exist; create it or remove it from params"
            )
        found.setdefault(param.path, {}).update(values)
    ordered = {p: dict(sorted(v.items())) for p, v in found.items()}
    if DEFAULT_PARAMS in ordered:
        ordered = {DEFAULT_PARAMS: ordered.pop(DEFAULT_PARAMS), **ordered}
    return ordered


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _write_lock(ws: Workspace, stage: Stage, body: dict[str, Any]) -> None:
    path = ws.repo.abs(stage.lock_path)
    # Even when dvc.lock stays as it is: a killed run may have left the
    # temporary file of its .gitignore or dvc.lock.
    remove_metadata_leftovers(os.path.dirname(path))
    try:
        with open(path, encoding="utf-8") as fobj:
            previous: str | None = fobj.read()
    except FileNotFoundError:
        previous = None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DvcFileError(stage.lock_path, "not a text file; restore it from git") from exc
    text = dump_lockfile(previous, {stage.name: body})
    if text != previous:
        atomic_write(path, text.encode("utf-8"))
