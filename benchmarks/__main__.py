"""`python -m benchmarks --dvc PATH [--quick] [--only OP,..] [--datasets NAME,..]`."""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

from benchmarks import datasets, frame, report, runner

PROJECT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time bale and dvc side by side on generated data; write docs/benchmarks.*",
    )
    parser.add_argument("--dvc", help="the dvc executable to compare with (required)")
    parser.add_argument(
        "--bale",
        default=str(Path(sys.executable).parent / "bale"),
        help="the bale executable (default: bale beside this Python)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small datasets and 2 repetitions: a few minutes"
    )
    parser.add_argument("--reps", type=int, help="repetitions (default 3; 2 with --quick)")
    parser.add_argument("--only", help=f"operations, comma-separated: {','.join(runner.OPS)}")
    parser.add_argument(
        "--datasets",
        help="datasets, comma-separated: small,large,images,small100k"
        " (default: all; --quick leaves out small100k)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=PROJECT / "benchmarks" / "work",
        help="generated data, scratch repositories and results.json (default: benchmarks/work)",
    )
    parser.add_argument(
        "--docs", type=Path, default=PROJECT / "docs", help="where benchmarks.md/png go"
    )
    parser.add_argument("--no-docs", action="store_true", help="print and save JSON only")
    parser.add_argument(
        "--report-only", action="store_true", help="redraw the docs from the last results.json"
    )
    parser.add_argument(
        "--timeout", type=float, default=7200, help="seconds before one command is killed"
    )
    args = parser.parse_args(argv)
    if not args.report_only and not args.dvc:
        parser.error("--dvc PATH is required (e.g. .venv-dvc/bin/dvc)")
    if args.only:
        unknown = set(args.only.split(",")) - set(runner.OPS)
        if unknown:
            parser.error(f"unknown operation(s) {', '.join(sorted(unknown))}; known: {runner.OPS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    results_path = workdir / "results.json"
    if args.report_only:
        write_reports(json.loads(results_path.read_text()), args)
        return 0

    catalog = datasets.catalog(quick=args.quick)
    if args.datasets:
        names = args.datasets.split(",")
        unknown = [n for n in names if n not in catalog]
        if unknown:
            print(f"unknown dataset(s) {unknown}; known: {list(catalog)}", file=sys.stderr)
            return 2
    else:
        names = [n for n in catalog if not (args.quick and n == "small100k")]
    chosen = [catalog[n] for n in names]
    reps = args.reps or (2 if args.quick else 3)
    only = set(args.only.split(",")) if args.only else None
    tools = [
        runner.Tool("bale", (str(Path(args.bale).absolute()),)),
        runner.Tool("dvc", (str(Path(args.dvc).absolute()),)),
    ]

    def log(line: str) -> None:
        print(line, flush=True)

    prepared = []
    for ds in chosen:
        started = time.perf_counter()
        source = datasets.ensure(ds, workdir / "data")
        log(f"data {ds.name}: {ds.describe()} ready ({time.perf_counter() - started:.1f} s)")
        prepared.append((ds, source))

    results = runner.Results(
        meta={
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": args.quick,
            "reps": reps,
            "only": sorted(only) if only else None,
            "python": platform.python_version(),
            "machine": runner.machine_info(workdir),
        },
        datasets={ds.name: {"description": ds.describe(), "kind": ds.kind} for ds in chosen},
        hide={
            str(workdir): "WORKDIR",
            str(Path(args.dvc).absolute().parent): "DVC_BIN",
            str(PROJECT): "PROJECT",
        },
    )

    def save() -> None:
        # Replaced whole: a full disk must not leave an empty results file.
        tmp = results_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results.to_json(), indent=1) + "\n")
        tmp.replace(results_path)

    try:
        runner.run(
            prepared,
            tools=tools,
            results=results,
            workdir=workdir,
            reps=reps,
            only=only,
            timeout=args.timeout,
            log=log,
            save=save,
        )
    finally:
        save()
    write_reports(results.to_json(), args)
    return 0


def write_reports(data: dict, args: argparse.Namespace) -> None:
    """Print the table; write its section of docs/benchmarks.md and the .png
    unless --no-docs (the API and registry sections are left as they are)."""
    print()
    print(report.text_table(data))
    if args.no_docs:
        return
    docs: Path = args.docs
    docs.mkdir(parents=True, exist_ok=True)
    plot_name = "benchmarks.png"
    try:
        report.plot(data, docs / plot_name)
    except ImportError:
        print("matplotlib is not installed: no plot (make test-venv installs it)", file=sys.stderr)
        plot_name = None
    frame.write_section(docs / "benchmarks.md", "main", report.markdown(data, plot_name=plot_name))
    print(f"\nwrote {docs / 'benchmarks.md'}" + (f" and {plot_name}" if plot_name else ""))


if __name__ == "__main__":
    sys.exit(main())
