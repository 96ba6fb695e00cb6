"""What the benchmark programs share around their cases: the run options, the
work folder, the facts of a run, printing the table, and writing their own
section of docs/benchmarks.md without touching the others'."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
PAGE = PROJECT / "docs" / "benchmarks.md"


def add_run_options(parser: argparse.ArgumentParser, *, quick_help: str) -> None:
    """The options every side benchmark takes, after its own."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--reps", type=int, help="repetitions (default 5; 2 with --quick)")
    parser.add_argument(
        "--docs",
        type=Path,
        nargs="?",
        const=PAGE,
        help="write this benchmark's section of the page (default docs/benchmarks.md)",
    )
    parser.add_argument("--json", type=Path, help="write the raw samples to this file")
    parser.add_argument(
        "--workdir", type=Path, help="where the data goes (default: a new temporary folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one run")
    parser.add_argument(
        "--from-json", type=Path, help="redraw the table (and --docs) from a --json file"
    )


def work_folder(args: argparse.Namespace, prefix: str) -> Path:
    """A new folder under --workdir, or a temporary one."""
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=args.workdir.resolve()))
    return Path(tempfile.mkdtemp(prefix=f"bale-{prefix}-"))


class Clock:
    """When a run began and how loaded the machine was, for its facts."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.load_start = os.getloadavg()[0]

    def meta(
        self, args: argparse.Namespace, reps: int, machine: dict, versions: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": args.quick,
            "reps": reps,
            "python": platform.python_version(),
            "machine": machine,
            "versions": versions,
            "load": {"start": self.load_start, "end": os.getloadavg()[0]},
            "minutes": (time.perf_counter() - self.began) / 60,
        }


def show(
    args: argparse.Namespace,
    meta: dict[str, Any],
    samples: list,
    *,
    table: str,
    goals: list[str],
    section: tuple[str, str],
) -> int:
    """Print the table and goals, write --docs and --json; 1 if a run failed.
    `section` is (its name in the page, its markdown)."""
    print()
    print(table)
    print()
    print("\n".join(goals).replace("**", ""))
    if args.docs:
        write_section(args.docs, *section)
        print(f"\nwrote the {section[0]} section of {args.docs}")
    if args.json and not args.from_json:
        raw = {"meta": meta, "samples": [vars(s) for s in samples]}
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
    return 0 if all(s.error is None for s in samples) else 1


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- begin {name}: generated -->", f"<!-- end {name} -->"


def write_section(page: Path, name: str, text: str) -> None:
    """Put `text` between the page's markers for `name` (appended when the
    page has none), keeping every other section and the prose outside them."""
    begin, end = _markers(name)
    block = f"{begin}\n{text.strip()}\n{end}"
    old = page.read_text(encoding="utf-8") if page.exists() else ""
    found = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if found.search(old):
        new = found.sub(lambda _: block, old, count=1)
    else:
        new = (old.rstrip() + "\n\n" if old.strip() else "") + block
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(new.rstrip() + "\n", encoding="utf-8")
