"""stage add, stage list, run, freeze, unfreeze: writing stages into dvc.yaml."""

from __future__ import annotations

import argparse
import os
import posixpath
import sys

from bale.cli.args import sub_quiet_flags

PIPELINE = "dvc.yaml"
_LIST_WIDTH = 80  # dvc truncates a stage's description to this


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "stage":
        commands = parser.add_subparsers(dest="stage_command", metavar="COMMAND", required=True)
        add = commands.add_parser(
            "add", help="add a stage", description="Add a stage to dvc.yaml in this folder."
        )
        sub_quiet_flags(add)
        _stage_flags(add)
        add.add_argument("--run", action="store_true", help="run the stage after adding it")
        _command_arg(add)
        add.set_defaults(func=cmd_stage_add)
        show = commands.add_parser(
            "list", help="list stages", description="List the stages of dvc.yaml files."
        )
        sub_quiet_flags(show)
        show.add_argument("targets", nargs="*", metavar="TARGET",
                          help="dvc.yaml files or folders (default: ./dvc.yaml)")  # fmt: skip
        show.add_argument("--all", action="store_true", help="every stage of the repository")
        show.add_argument("-R", "--recursive", action="store_true",
                          help="every dvc.yaml inside the folders given")  # fmt: skip
        show.add_argument("--name-only", "--names-only", action="store_true",
                          help="names only, no descriptions")  # fmt: skip
        show.set_defaults(func=cmd_stage_list)
    elif name == "run":
        _stage_flags(parser)
        _command_arg(parser)
        parser.set_defaults(func=cmd_run)
    elif name in ("freeze", "unfreeze"):
        parser.add_argument("targets", nargs="+", metavar="STAGE",
                            help="a stage of ./dvc.yaml, or PATH/dvc.yaml:STAGE")  # fmt: skip
        parser.set_defaults(func=cmd_freeze, frozen=name == "freeze")


def _stage_flags(parser: argparse.ArgumentParser) -> None:
    def paths(flag: str, *more: str, help: str) -> None:
        parser.add_argument(flag, *more, action="append", default=[], metavar="PATH", help=help)

    parser.add_argument("-n", "--name", required=True, help="the stage's name")
    parser.add_argument("-f", "--force", action="store_true", help="replace a stage of that name")
    paths("-d", "--deps", help="a file or folder the command reads")
    parser.add_argument("-p", "--params", action="append", default=[], metavar="[FILE:]KEYS",
                        help="parameters it reads: keys of params.yaml, or FILE:KEY,KEY; "
                             "FILE: alone for the whole file")  # fmt: skip
    paths("-o", "--outs", help="an output, cached")
    paths("-O", "--outs-no-cache", help="an output, not cached")
    paths("--outs-persist", help="an output kept (not deleted) before the command runs")
    paths("--outs-persist-no-cache", help="an output kept before it runs, not cached")
    paths("-m", "--metrics", help="a metrics file, cached")
    paths("-M", "--metrics-no-cache", help="a metrics file, not cached")
    paths("--plots", help="a plots file, cached")
    paths("--plots-no-cache", help="a plots file, not cached")
    parser.add_argument("-w", "--wdir", metavar="PATH",
                        help="the folder to run it in; paths are relative to it")  # fmt: skip
    parser.add_argument("--always-changed", action="store_true",
                        help="run it on every repro, changed or not")  # fmt: skip
    parser.add_argument("--desc", metavar="TEXT", help="a description of the stage")


def _command_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD",
                        help="the command and its arguments")  # fmt: skip


def join_command(words: list[str]) -> str:
    """The command line as dvc writes it in `cmd`: the words joined by spaces,
    a word with a space (and no `"`) in double quotes, an empty word as `""`;
    a single word as it is (it may be a whole command in quotes)."""
    if words[:1] == ["--"]:
        words = words[1:]
    if len(words) < 2:
        return " ".join(words)
    return " ".join('""' if not w else f'"{w}"' if " " in w and '"' not in w else w for w in words)


def _read(path: str, origin: str) -> str | None:
    from bale.errors import DvcFileError

    try:
        with open(path, encoding="utf-8", newline="") as fobj:
            return fobj.read()
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DvcFileError(origin, "not a text file; restore it from git") from exc


def _git_hint(repo, files: list[str]) -> None:
    if repo.git is None or repo.config.get_bool("core", "autostage"):
        return
    shown = [os.path.relpath(repo.abs(f)) for f in dict.fromkeys(files)
             if os.path.exists(repo.abs(f))]  # fmt: skip
    if shown:
        print(f"\nTo track the changes with git, run:\n\n\tgit add {' '.join(shown)}")


def _wdir(repo, here: str, given: str | None) -> str:
    """The stage's working folder, root-relative; `given` is relative to the
    current folder, as dvc reads -w.

    Raises:
        PipelineError: it does not exist, is not a folder, or is one bale
            never writes in.
    """
    from bale.errors import OutsideRepoError, PipelineError
    from bale.workspace.index import metadata_problem

    if not given:
        return here
    path = os.path.abspath(given)
    try:
        rel = repo.rel(path)
    except OutsideRepoError as exc:
        raise PipelineError(
            f"working folder '{given}' lies outside the repository; name a folder inside it"
        ) from exc
    if not os.path.isdir(path):
        what = "is not a folder" if os.path.exists(path) else "does not exist"
        raise PipelineError(f"working folder '{given}' {what}; create it or name another")
    problem = metadata_problem(rel) if rel else None
    if problem is not None:
        raise PipelineError(f"working folder '{given}' {problem}; name another")
    return rel


def _add(args: argparse.Namespace, *, run: bool) -> int:
    from bale.errors import GitTrackedError, PipelineError
    from bale.fsutil import atomic_write
    from bale.pipeline import edit
    from bale.pipeline.repro import load_dag
    from bale.repo.lock import repo_lock
    from bale.repo.repository import Repo
    from bale.workspace import gitignore
    from bale.workspace.context import Workspace
    from bale.workspace.index import load_index, metadata_problem

    edit.check_name(args.name)
    repo = Repo.open(os.getcwd())
    here = repo.rel(os.getcwd())
    if here and metadata_problem(here) is not None:
        raise PipelineError(
            f"this folder {metadata_problem(here)}; run bale stage add in a folder of the workspace"
        )
    pipeline = posixpath.join(here, PIPELINE) if here else PIPELINE
    wdir = _wdir(repo, here, args.wdir)
    body = edit.stage_body(
        join_command(args.command),
        deps=args.deps, outs=args.outs, outs_no_cache=args.outs_no_cache,
        outs_persist=args.outs_persist, outs_persist_no_cache=args.outs_persist_no_cache,
        metrics=args.metrics, metrics_no_cache=args.metrics_no_cache,
        plots=args.plots, plots_no_cache=args.plots_no_cache, params=args.params,
        wdir=posixpath.relpath(wdir or ".", here or "."),
        always_changed=args.always_changed, desc=args.desc,
    )  # fmt: skip
    paths = edit.check_paths(
        wdir, body,
        ignored_by=lambda rel: repo.ignore.ignored_by(rel, is_dir=os.path.isdir(repo.abs(rel))),
    )  # fmt: skip
    # dvc's order for .gitignore entries: persistent outputs, metrics, plots, then outputs
    cached = [posixpath.normpath(posixpath.join(wdir, path))
              for path in [*args.outs_persist, *args.metrics, *args.plots, *args.outs]]  # fmt: skip
    if repo.git is not None and cached:
        in_git = repo.git.tracked([repo.abs(rel) for rel in cached])
        if in_git:
            raise GitTrackedError(repo.rel(sorted(in_git)[0]))
    address = args.name if pipeline == PIPELINE else f"{pipeline}:{args.name}"
    touched = [pipeline]
    with Workspace(repo) as ws, repo_lock(repo.tmp_dir):
        for rel in paths.outs:
            ws.check_inside(rel)
        previous = _read(repo.abs(pipeline), pipeline)
        text = edit.add_stage(previous, args.name, body, force=args.force, origin=PIPELINE)
        index = load_index(repo)
        dag = load_dag(ws, index)
        others = [
            edit.Producer(s.address, s.deps, tuple(rel for rel, _ in s.outs))
            for s in dag.stages.values() if s.address != address
        ]  # fmt: skip
        tracked = [(t.rel, t.dvcfile) for t in index.tracked if t.stage is None]
        edit.check_graph(edit.Producer(address, tuple(paths.deps), tuple(paths.outs)), others,
                         tracked)  # fmt: skip
        atomic_write(repo.abs(pipeline), text.encode("utf-8"))
        for rel in cached if repo.git is not None else ():
            if not os.path.isdir(os.path.dirname(repo.abs(rel))):
                print(f"WARNING: '{rel}' is not in a .gitignore yet: its folder does not "
                      "exist; bale adds it when the stage runs", file=sys.stderr)  # fmt: skip
                continue
            written = gitignore.ignore(repo.git, repo.abs(rel))
            if written is not None:
                touched.append(repo.rel(written))
    if not args.quiet:
        print(f"Added stage {args.name!r} in {PIPELINE!r}")
    if run:
        touched[1:1] = _run(repo, args)
    if not args.quiet:
        _git_hint(repo, touched)
    return 0


def _run(repo, args: argparse.Namespace) -> list[str]:
    """Run the stage just added, whether or not it is up to date; the lock
    files written."""
    from bale.cli.output import progress_for
    from bale.pipeline.repro import Options, Step, repro
    from bale.pipeline.stages import Stage
    from bale.workspace.context import Workspace

    locks: list[str] = []

    def report(step: Step, stage: Stage) -> None:
        locks.append(stage.lock_path)
        if not args.quiet:
            cmd = stage.definition.cmd
            print(f"Running stage '{step.address}':")
            for line in [cmd] if isinstance(cmd, str) else cmd:
                print(f"> {line}")
            sys.stdout.flush()  # before the command's own output

    with Workspace(repo, progress=progress_for(args)) as ws:
        repro(ws, [f"{PIPELINE}:{args.name}"], Options(single=True, force=True), report=report)
    return locks


def cmd_stage_add(args: argparse.Namespace) -> int:
    return _add(args, run=args.run)


def cmd_run(args: argparse.Namespace) -> int:
    return _add(args, run=True)


def _split_target(target: str) -> tuple[str, str]:
    """(dvc.yaml path relative to the current folder, stage name) of a
    target written `NAME` or `PATH/dvc.yaml:NAME`."""
    from bale.errors import PipelineError

    path, colon, name = target.rpartition(":")
    if colon and os.path.basename(path) == PIPELINE:
        return path, name
    if os.path.basename(target) == PIPELINE:
        raise PipelineError(f"'{target}' names a file, not a stage; write {target}:STAGE")
    if target.endswith(".dvc"):
        raise PipelineError(
            f"'{target}' is a .dvc file; bale freezes pipeline stages only: "
            "name a stage of dvc.yaml"
        )
    return PIPELINE, target


def cmd_freeze(args: argparse.Namespace) -> int:
    from bale.errors import TargetNotFoundError
    from bale.fsutil import atomic_write
    from bale.pipeline.edit import set_frozen
    from bale.repo.lock import repo_lock
    from bale.repo.repository import Repo

    repo = Repo.open(os.getcwd())
    with repo_lock(repo.tmp_dir):
        texts: dict[str, tuple[str, str]] = {}  # path -> (text read, text to write)
        done = []
        for target in args.targets:  # every target is checked before any file is written
            path, name = _split_target(target)
            rel = repo.rel(path)
            if rel not in texts:
                text = _read(repo.abs(rel), path)
                if text is None:
                    raise TargetNotFoundError(path, "there is no pipeline there")
                texts[rel] = (text, text)
            before, current = texts[rel]
            texts[rel] = (before, set_frozen(current, name, args.frozen, origin=path))
            done.append((name, path))
        for rel, (before, after) in texts.items():
            if after != before:
                atomic_write(repo.abs(rel), after.encode("utf-8"))
    if not args.quiet:
        for name, path in done:
            print(f"Modifying stage '{name}' in '{path}'")
    return 0


def _description(stage) -> str:
    """dvc's `stage list` text: the first line of `desc`, or what the stage
    reads and writes."""
    definition = stage.definition
    lines = [line.strip() for line in (definition.desc or "").splitlines() if line.strip()]
    if lines:
        text = lines[0]
    else:
        deps = [*definition.deps, *(path for path, _ in definition.params)]
        outs = [o.path for o in definition.outs if o.section == "outs"]
        reports = [o.path for o in definition.outs if o.section != "outs"]
        if not deps and not definition.outs:
            text = "No outputs or dependencies"
        elif not definition.outs:
            text = "Depends on " + ", ".join(deps)
        else:
            parts = [f"Outputs {', '.join(outs)}"] if outs else []
            parts += [f"Reports {', '.join(reports)}"] if reports else []
            text = "; ".join(parts)
    return text if len(text) <= _LIST_WIDTH else text[: _LIST_WIDTH - 1] + "…"


def cmd_stage_list(args: argparse.Namespace) -> int:
    from bale.errors import TargetNotFoundError
    from bale.pipeline.stages import load_pipeline_file
    from bale.repo.repository import Repo
    from bale.workspace.index import load_index

    repo = Repo.open(os.getcwd())
    pipelines: list[str] = []
    if args.all or args.recursive:
        found = load_index(repo).pipelines
    if args.all:
        pipelines = list(found)
    for target in [] if args.all else args.targets or [PIPELINE]:
        rel = repo.rel(target)
        if os.path.isdir(repo.abs(rel)):
            if args.recursive:
                pipelines += [p for p in found if not rel or p.startswith(rel + "/")]
                continue
            rel = posixpath.join(rel, PIPELINE) if rel else PIPELINE
        if not os.path.isfile(repo.abs(rel)):
            raise TargetNotFoundError(
                os.path.relpath(repo.abs(rel)), "there is no pipeline there; add a stage first"
            )
        pipelines.append(rel)
    rows = []
    for rel in dict.fromkeys(pipelines):
        shown = os.path.relpath(repo.abs(rel))
        for stage in load_pipeline_file(repo, rel):
            name = stage.name if shown == PIPELINE else f"{shown}:{stage.name}"
            rows.append((name, "" if args.name_only else _description(stage)))
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"{name:<{width}}  {text}".rstrip() if text else name)
    return 0
