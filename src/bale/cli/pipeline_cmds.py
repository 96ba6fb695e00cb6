"""repro, dag: pipelines."""

from __future__ import annotations

import argparse
import os
import sys

from bale.cli.args import add_jobs
from bale.cli.data_cmds import _locked, _workspace

# repro's switches, dvc's names: (flag..., help).
REPRO_SWITCHES = [
    ("-f", "--force", "run even if unchanged"),
    ("-s", "--single-item", "only the targets, not what they need"),
    ("--downstream", "the targets and what depends on them"),
    ("-p", "--pipeline", "the whole pipelines the targets belong to (every stage linked to one)"),
    ("-P", "--all-pipelines", "every stage of every dvc.yaml; the targets are ignored, as in dvc"),
    ("--force-downstream", "a stage that runs makes every stage after it run, changed or not"),
    ("--allow-missing", "skip stages whose only change is missing data (outputs or inputs gone)"),
    ("--dry", "print what would run, run nothing"),
    ("--no-run-cache",
     "run changed stages even when the run cache holds a run with the same inputs"),
    ("-R", "--recursive", "a folder target stands for the stages of every dvc.yaml inside it"),
    ("-i", "--interactive", "ask before running each stage"),
    ("--pull", "download the missing outputs of unchanged stages instead of running them"),
    ("--glob", "targets may hold shell wildcards: 'train-*'"),
]  # fmt: skip
# At most one of these: what a failed stage does to the rest.
REPRO_ON_FAILURE = [
    ("-k", "--keep-going",
     "after a stage fails, run the stages that do not need it; exit 1 at the end"),
    ("--ignore-errors", "say each failure and go on with every other stage; exit 0"),
]  # fmt: skip


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "repro":
        parser.add_argument("targets", nargs="*", metavar="TARGET")
        for *flags, text in REPRO_SWITCHES:
            parser.add_argument(*flags, action="store_true", help=text)
        failures = parser.add_mutually_exclusive_group()
        for *flags, text in REPRO_ON_FAILURE:
            failures.add_argument(*flags, action="store_true", help=text)
        add_jobs(parser, help="stages whose commands may run at once (default 1)")
        parser.set_defaults(func=cmd_repro)
    elif name == "dag":
        parser.add_argument("target", nargs="?", metavar="TARGET")
        style = parser.add_mutually_exclusive_group()
        style.add_argument("--dot", action="store_true", help="Graphviz dot")
        style.add_argument("--mermaid", action="store_true", help="a Mermaid flowchart")
        style.add_argument("--md", action="store_true", help="Mermaid inside a Markdown block")
        parser.set_defaults(func=cmd_dag)


def cmd_repro(args: argparse.Namespace) -> int:
    from bale.pipeline.repro import Options, Step, repro
    from bale.pipeline.stages import Stage

    options = Options(
        force=args.force,
        single=args.single_item,
        downstream=args.downstream,
        all_pipelines=args.all_pipelines,
        pipeline=args.pipeline,
        force_downstream=args.force_downstream,
        allow_missing=args.allow_missing,
        dry=args.dry,
        no_run_cache=args.no_run_cache,
        jobs=args.jobs or 1,
        pull=args.pull,
        recursive=args.recursive,
        glob=args.glob,
        keep_going=args.keep_going,
        ignore_errors=args.ignore_errors,
    )

    locks: set[str] = set()

    def report(step: Step, stage: Stage | None) -> None:
        if step.outcome in ("ran", "restored", "recorded"):
            locks.add(stage.lock_path if stage is not None else step.address)
        if step.outcome == "failed" and args.ignore_errors:
            print(f"WARNING: {step.error} (ignored)", file=sys.stderr)
        elif step.outcome == "failed":  # -k: said now, the summary comes at the end
            print(f"ERROR: {step.error}", file=sys.stderr)
        if args.quiet:
            return
        if stage is None:  # a .dvc file the stages read
            where = os.path.relpath(ws.repo.abs(step.address))
            if step.outcome == "recorded":
                print(f"Verifying data sources in stage: '{where}'")
            else:
                print(f"'{where}' didn't change, skipping")
        elif step.outcome == "unchanged":
            print(f"Stage '{step.address}' didn't change, skipping")
        elif step.outcome == "missing":
            print(f"Stage '{step.address}' didn't change but its data is missing, skipping")
        elif step.outcome == "frozen":
            print(f"Stage '{step.address}' is frozen, skipping")
        elif step.outcome == "pulled":
            print(f"Stage '{step.address}' didn't change; its outputs were pulled")
        elif step.outcome == "restored":
            print(f"Stage '{step.address}' is cached - skipping run, checking out outputs")
        elif step.outcome == "blocked":
            print(f"Stage '{step.address}' needs '{step.error}', which did not run; skipping")
        elif step.outcome == "failed":
            pass
        else:
            cmd = stage.definition.cmd
            print(f"\nRunning stage '{step.address}':")
            for line in [cmd] if isinstance(cmd, str) else cmd:
                print(f"> {line}")
        sys.stdout.flush()  # before the command's own output

    def warn(message: str) -> None:
        print(f"WARNING: {message}", file=sys.stderr)

    ws = _workspace(args)

    def confirm(stage: Stage) -> None:
        if not args.interactive:
            return
        from bale.errors import ConfirmationError

        question = (
            f"Going to reproduce stage: '{stage.address}'. Are you sure you want to continue?"
        )
        try:
            answer = input(f"{question} [y/n] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            raise ConfirmationError(
                f"reproduction aborted before stage '{stage.address}', which was left as it was; "
                "the stages before it are recorded"
            )

    with ws, _locked(ws):
        repro(ws, args.targets, options, report=report, warn=warn, confirm=confirm)
    if not args.quiet:
        if not locks:
            print("Data and pipelines are up to date.")
        elif not args.dry:
            names = " ".join(sorted(os.path.relpath(ws.repo.abs(p)) for p in locks))
            print(f"\nTo track the changes with git, run:\n\n\tgit add {names}")
            print("Use `bale push` to send your updates to remote storage.")
    return 0


def cmd_dag(args: argparse.Namespace) -> int:
    from bale.pipeline.repro import load_dag, resolve_targets

    with _workspace(args) as ws:
        dag = load_dag(ws)
        picked = resolve_targets(ws, dag, [args.target]) if args.target else None
    # dvc's graph: stages and `.dvc` files, an edge from what is read to its reader.
    stages = dag.upstream(picked) if picked else list(dag.stages)
    edges = [(need, addr) for addr in stages for need in sorted(dag.needs[addr])]
    edges += [(dvc, addr) for addr in stages for dvc in sorted(dag.sources[addr])]
    nodes = stages + [d for d in dag.dvcfiles if not picked or any(e[0] == d for e in edges)]
    if args.dot:
        lines = ["strict digraph {", *(f'"{n}";' for n in nodes)]
        lines += [f'"{a}" -> "{b}";' for a, b in edges]
        print("\n".join([*lines, "}\n"]))
        return 0
    if args.mermaid or args.md:
        text = "\n".join(_mermaid(nodes, edges))
        print(f"```mermaid\n{text}\n```" if args.md else text)
        return 0
    for node in nodes:
        needs = sorted(a for a, b in edges if b == node)
        print(node + (f" <- {', '.join(needs)}" if needs else ""))
    return 0


def _mermaid(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """dvc's flowchart: each group of connected nodes in turn, its nodes and
    then its edges sorted by name."""
    group = {n: {n} for n in nodes}
    for a, b in edges:
        if group[a] is not group[b]:
            merged = group[a] | group[b]
            for member in merged:
                group[member] = merged
    lines = ["flowchart TD"]
    ids: dict[str, str] = {}
    done: list[set[str]] = []
    for node in nodes:
        members = group[node]
        if any(members is g for g in done):
            continue
        done.append(members)
        for member in sorted(members):
            ids[member] = f"node{len(ids) + 1}"
            lines.append(f'\t{ids[member]}["{member}"]')
        lines += [f"\t{ids[a]}-->{ids[b]}" for a, b in sorted(edges) if a in members]
    return lines
