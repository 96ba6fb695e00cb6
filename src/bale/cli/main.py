"""Entry point: dispatch to the one command module needed, report errors."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys

# command -> (module, one-line help); modules are imported only when run.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("bale.cli.repo_cmds", "Create a repository (.dvc/) in this git repository."),
    "config": ("bale.cli.repo_cmds", "Get or set config options."),
    "doctor": ("bale.cli.repo_cmds", "Show versions, repository, cache and remotes."),
    "add": ("bale.cli.data_cmds", "Track files or folders."),
    "status": ("bale.cli.data_cmds", "Show changes against the .dvc files."),
    "checkout": ("bale.cli.data_cmds", "Make the workspace match the .dvc files."),
    "commit": ("bale.cli.data_cmds", "Record changes of tracked outputs."),
    "diff": ("bale.cli.diff_cmds", "Show tracked files changed between revisions."),
    "remove": ("bale.cli.data_cmds", "Stop tracking outputs (delete their .dvc files)."),
    "move": ("bale.cli.data_cmds", "Rename a tracked output and its .dvc file."),
    "remote": ("bale.cli.remote_cmds", "Manage remotes: add, modify, list, remove, rename."),
    "push": ("bale.cli.sync_cmds", "Upload tracked data to a remote."),
    "pull": ("bale.cli.sync_cmds", "Download tracked data from a remote and check it out."),
    "fetch": ("bale.cli.sync_cmds", "Download tracked data from a remote into the cache."),
    "gc": ("bale.cli.sync_cmds", "Delete objects no chosen revision uses."),
    "fsck": ("bale.cli.sync_cmds", "Re-hash cache or remote objects and report mismatches."),
    "list": ("bale.cli.external_cmds", "List what a repository holds, tracked data included."),
    "get": ("bale.cli.external_cmds", "Download a file or folder of a repository, untracked."),
    "import": ("bale.cli.external_cmds", "Download and track data of another repository."),
    "import-url": ("bale.cli.import_url_cmds", "Download and track a file or folder of a URL."),
    "update": ("bale.cli.external_cmds", "Move imports to their source's newest version."),
    "repro": ("bale.cli.pipeline_cmds", "Run the pipeline stages whose inputs changed."),
    "dag": ("bale.cli.pipeline_cmds", "Show the stages and what each needs."),
    "stage": ("bale.cli.stage_cmds", "Add stages to dvc.yaml, or list them."),
    "run": ("bale.cli.stage_cmds", "Add a stage to dvc.yaml and run it."),
    "freeze": ("bale.cli.stage_cmds", "Freeze stages: repro skips them."),
    "unfreeze": ("bale.cli.stage_cmds", "Unfreeze stages."),
    "params": ("bale.cli.metrics_cmds", "Show changes in params: diff."),
    "metrics": ("bale.cli.metrics_cmds", "Show metrics and their changes: show, diff."),
    "plots": ("bale.cli.plots_cmds", "Draw plots of revisions as one HTML page: show, diff."),
    "card": ("bale.cli.card_cmds", "Write an entry's card, or check every card: new, check."),
    "catalog": ("bale.cli.catalog_cmds", "List every dataset and model, cards and versions."),
    "git-hook": ("bale.cli.hook_cmds", "Install git hooks and the merge driver; run them."),
    "model": ("bale.cli.model_cmds", "A model registry on GTO's git tags: register, assign, show."),
    "sync": ("bale.cli.area_cmds", "Mirror the synced areas of bale.yaml: push, pull, status."),
    "completion": ("bale.cli.completion_cmds", "Print a bash or zsh completion script."),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: bale [-h] [--version] COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run 'bale COMMAND -h' for a command's options."]
    return "\n".join(lines)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, measuring the terminal without importing shutil
    (and the compression modules it loads), which every command would pay."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                width = os.get_terminal_size(sys.stdout.fileno()).columns
            except (OSError, ValueError):
                width = 80
        super().__init__(prog, width=max(width, 40) - 2)


class Parser(argparse.ArgumentParser):
    """argparse with bale's error format: one `ERROR:` line, exit status 2."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"ERROR: {message}; see: {self.prog} -h", file=sys.stderr)
        raise SystemExit(2)


def common_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    group.add_argument("-v", "--verbose", action="store_true", help="print details and tracebacks")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("--version", "-V"):
        from bale import __version__

        print(__version__)
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name = argv[0]
    if name not in COMMANDS:
        print(f"ERROR: unknown command '{name}'\n\n{_usage()}", file=sys.stderr)
        return 2
    args = command_parser(name).parse_args(argv[1:])
    return run(args)


def command_parser(name: str) -> Parser:
    """The parser of one command of COMMANDS, importing only its module
    (the docs and the completion scripts walk every command's)."""
    module = importlib.import_module(COMMANDS[name][0])
    parser = Parser(prog=f"bale {name}", description=COMMANDS[name][1])
    common_flags(parser)
    module.configure(name, parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from bale.errors import BaleError, UsageError

    # A command holds a tuple per file (hundreds of thousands at once); at the
    # default threshold (700 new objects) the collector rescans them again and
    # again: 8% of `status` on 100,000 files. bale makes few reference cycles.
    gc.set_threshold(50_000, 20, 100)
    try:
        return args.func(args) or 0
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except BaleError as exc:
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ERROR: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader stopped reading (`bale status | head`): nothing to report,
        # and the status of a program stopped by SIGPIPE, as git and dvc give.
        return 141
    except OSError as exc:
        # Disk full, permission denied and the like: a person can act on these.
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        where = f": '{exc.filename}'" if exc.filename else ""
        print(f"ERROR: {exc.strerror or exc}{where}{_os_fix(exc)}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(OSError):  # entry() flushes again and reports
            sys.stdout.flush()


def _os_fix(exc: OSError) -> str:
    """What a person can do about a failure of the system, when there is one thing."""
    import errno

    if isinstance(exc, PermissionError):
        return "; check the permissions of that file and its folder"
    if exc.errno == errno.ENOSPC:
        return "; free some space on that disk and run the command again"
    if exc.errno == errno.EROFS:
        return "; that filesystem is read-only"
    return ""


def entry() -> None:
    """The `bale` program: `main`, then an exit that skips tearing the
    interpreter down. Freeing the tuples of a large walk one by one took 7 ms
    of an 88 ms `status` on 20,000 files; by then every file bale wrote is
    closed and every transaction committed, and only the output is buffered."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's --help and usage errors
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # the reader stopped reading: it has what it wanted
    except OSError as exc:
        print(f"ERROR: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        code = code or 1
    try:
        sys.stderr.flush()
    except OSError:  # nowhere left to say it
        code = code or 1
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
