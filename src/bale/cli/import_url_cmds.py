"""import-url: track a file or folder of a URL or path."""

from __future__ import annotations

import argparse
import os
import posixpath

from bale.cli.args import add_jobs
from bale.cli.output import plural, progress_for
from bale.errors import UsageError


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="a local path, or an s3://, ssh://, http(s)://, gs://, "
                        "azure:// or remote://NAME/PATH URL of a file or folder")  # fmt: skip
    parser.add_argument("out", nargs="?", help="where to put it (default: its base name)")
    parser.add_argument("--no-download", action="store_true",
                        help="record the source only; bale pull downloads it")  # fmt: skip
    parser.add_argument("--to-remote", action="store_true",
                        help="send the data to the remote, not to the cache")  # fmt: skip
    parser.add_argument("-r", "--remote", help="remote for --to-remote (default: core.remote)")
    parser.add_argument("--version-aware", action="store_true",
                        help="record the source's versions (versioned S3 buckets)")  # fmt: skip
    parser.add_argument("--fs-config", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the source's client (dvc's remote option "
                        "names: endpointurl, region, keyfile, ...); written to the "
                        ".dvc file")  # fmt: skip
    parser.add_argument("-f", "--force", action="store_true", help="replace what is there")
    add_jobs(parser)
    parser.set_defaults(func=cmd_import_url)


def _fs_config(items: list[str]) -> dict[str, str]:
    config: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--fs-config takes KEY=VALUE, not '{item}'")
        config[key.strip()] = value
    return config


def cmd_import_url(args: argparse.Namespace) -> int:
    from bale.external.import_url import given_source, import_url, url_name
    from bale.external.imports import destination
    from bale.repo.lock import repo_lock
    from bale.repo.repository import Repo
    from bale.workspace.context import Workspace

    config = _fs_config(args.fs_config)
    ws = Workspace(Repo.open(os.getcwd()), jobs=args.jobs, progress=progress_for(args))
    with ws, repo_lock(ws.repo.tmp_dir):
        dest = destination(ws, url_name(args.url), args.out)
        source = given_source(ws, args.url, dest, fs_config=config,
                              version_aware=args.version_aware)  # fmt: skip
        done = import_url(ws, source, dest, no_download=args.no_download,
                          to_remote=args.to_remote, remote=args.remote,
                          force=args.force)  # fmt: skip
    if not args.quiet:
        sent = f" ({plural(done.uploaded, 'file')} uploaded)" if args.to_remote else ""
        print(f"Imported '{args.url}' to '{os.path.relpath(ws.repo.abs(done.out))}'{sent}")
        if ws.repo.git is not None:
            files = [done.dvcfile, posixpath.join(posixpath.dirname(done.out), ".gitignore")]
            rels = " ".join(os.path.relpath(ws.repo.abs(f)) for f in files
                            if os.path.exists(ws.repo.abs(f)))  # fmt: skip
            print(f"\nTo track the changes with git, run:\n\n\tgit add {rels}")
    return 0
