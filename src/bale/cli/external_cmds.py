"""list, get, import, update: other repositories as sources."""

from __future__ import annotations

import argparse
import json
import os
import posixpath

from bale.cli.args import add_jobs
from bale.cli.output import human_size, plural, progress_for
from bale.errors import UsageError


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name in ("list", "get", "import"):
        parser.add_argument("url", help="a repository: a path, file:// or any URL git takes")
    if name == "list":
        parser.add_argument("path", nargs="?", default="", help="a folder or file inside it")
        parser.add_argument("-R", "--recursive", action="store_true", help="every file below")
        parser.add_argument("--dvc-only", action="store_true", help="tracked data only")
        parser.add_argument("--size", action="store_true", help="show sizes")
        parser.add_argument("--show-hash", action="store_true", help="show md5s")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
    elif name in ("get", "import"):
        parser.add_argument("path", help="the file or folder of the source to take, or an "
                            "artifact of its registry: NAME@vX.Y.Z, NAME#STAGE, "
                            "NAME@latest")  # fmt: skip
        parser.add_argument("-o", "--out", help="where to put it (default: its base name)")
        parser.add_argument("-f", "--force", action="store_true", help="replace what is there")
        add_jobs(parser)
    if name == "import":
        parser.add_argument("--no-download", action="store_true", help="record, do not fetch")
    if name == "update":
        parser.add_argument("targets", nargs="*", metavar="TARGET", help="imports (default: all)")
        parser.add_argument("--no-download", action="store_true", help="record, do not fetch")
        add_jobs(parser)
    parser.add_argument("--rev", help="branch, tag or commit (default: the default branch)")
    parser.set_defaults(func={"list": cmd_list, "get": cmd_get, "import": cmd_import,
                              "update": cmd_update}[name])  # fmt: skip


def cmd_list(args: argparse.Namespace) -> int:
    """Takes no repository lock: it only reads (`bale.repo.lock` lists who locks)."""
    from bale.external.sources import opened

    with opened(args.url, args.rev) as (_source, view):
        entries = view.entries(args.path, recursive=args.recursive, dvc_only=args.dvc_only,
                               sizes=args.size or args.json)  # fmt: skip
    top = args.path.strip("/")
    shown = []
    for entry in entries:
        if entry.path == posixpath.normpath(top) if top else False:
            name = posixpath.basename(entry.path)
        else:
            name = entry.path[len(top) + 1 :] if top else entry.path
        shown.append((name, entry))
    if args.json:
        print(json.dumps([
            {"isout": e.isout, "isdir": e.isdir, "isexec": e.isexec, "size": e.size,
             "md5": e.md5, "path": name}
            for name, e in shown
        ]))  # fmt: skip
        return 0
    if not (args.size or args.show_hash):
        if shown:
            print("\n".join(name for name, _ in shown))
        return 0
    rows = []
    for name, entry in shown:
        row = []
        if args.size:
            size = entry.size
            row.append("" if size is None or (size <= 0 and entry.isdir) else human_size(size))
        if args.show_hash:
            row.append(entry.md5 or "")
        rows.append([*row, name])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] if rows else []
    for row in rows:
        cells = [row[0].rjust(widths[0])] if args.size else []
        cells += [c.ljust(w) for c, w in zip(row[len(cells) : -1], widths[len(cells) :],
                                              strict=True)]  # fmt: skip
        print("  ".join([*cells, row[-1]]))
    return 0


def _source_path(args: argparse.Namespace) -> tuple[str, str | None, str]:
    """The path and revision to take from the source, and how to name it: an
    artifact reference of the source's registry (`rf@v1.0.0`, `rf#prod`,
    `rf@latest`) stands for the path its `dvc.yaml` declares at the commit
    its tags name, at the registration tag (what `dvc import --rev` records);
    anything else is a path, at --rev."""
    from bale.registry.models import is_reference, resolve_reference

    if not is_reference(args.path):
        return args.path, args.rev, f"'{args.path}'"
    from bale.repo.clones import open_source

    found = resolve_reference(open_source(args.url, newest=True).git_dir, args.path)
    if found is None:  # no tag names such an artifact: a path that looks like one
        return args.path, args.rev, f"'{args.path}'"
    if args.rev is not None:
        raise UsageError(f"'{args.path}' names its own commit ({found.rev}); leave out --rev")
    return found.path, found.rev, f"'{found.path}' ({args.path} = {found.rev})"


def cmd_get(args: argparse.Namespace) -> int:
    from bale.external.get import get
    from bale.external.sources import opened

    path, rev, _named = _source_path(args)
    dest = args.out or posixpath.basename(posixpath.normpath(path.strip("/")))
    with opened(args.url, rev, jobs=args.jobs, progress=progress_for(args)) as (_s, view):
        got = get(view, path, dest, force=args.force)
    if not args.quiet:
        print(f"{plural(got.files, 'file')} written to '{got.path}'")
    return 0


def _workspace(args: argparse.Namespace):
    from bale.repo.repository import Repo
    from bale.workspace.context import Workspace

    return Workspace(Repo.open(os.getcwd()), jobs=args.jobs, progress=progress_for(args))


def cmd_import(args: argparse.Namespace) -> int:
    from bale.external.imports import destination, import_
    from bale.external.sources import opened
    from bale.repo.clones import recorded_url
    from bale.repo.lock import repo_lock

    with _workspace(args) as ws, repo_lock(ws.repo.tmp_dir):
        path, rev, named = _source_path(args)
        dest = destination(ws, path, args.out)
        with opened(args.url, rev, store=ws.store, jobs=args.jobs,
                    progress=ws.progress) as (source, view):  # fmt: skip
            done = import_(
                ws, view, path, dest, url=recorded_url(args.url, ws.repo.root), rev=rev,
                commit=source.commit, no_download=args.no_download, force=args.force,
            )  # fmt: skip
    if not args.quiet:
        print(f"Imported {named} from {args.url} ({done.rev_lock[:8]}) to "
              f"'{os.path.relpath(ws.repo.abs(done.out))}'")  # fmt: skip
        if ws.repo.git is not None:
            files = [done.dvcfile, posixpath.join(posixpath.dirname(done.out), ".gitignore")]
            rels = " ".join(os.path.relpath(ws.repo.abs(f)) for f in files
                            if os.path.exists(ws.repo.abs(f)))  # fmt: skip
            print(f"\nTo track the changes with git, run:\n\n\tgit add {rels}")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    from bale.external.import_url import update_url
    from bale.external.imports import Imported, imports, update
    from bale.external.sources import opened
    from bale.repo.clones import resolve_url
    from bale.repo.lock import repo_lock
    from bale.workspace.index import import_dep

    with _workspace(args) as ws, repo_lock(ws.repo.tmp_dir):
        done = []
        found = imports(ws, args.targets or None)
        by_url = [rel for rel, dvcfile in found if import_dep(dvcfile) is None]
        if args.rev and by_url:
            raise UsageError(f"--rev picks a revision of a repository; {by_url[0]} imports a URL")
        for rel, dvcfile in found:
            dep = import_dep(dvcfile)
            if dep is None:  # an import-url
                done.append(update_url(ws, rel, dvcfile, no_download=args.no_download))
                continue
            rev = args.rev or dep["repo"].get("rev")
            url = resolve_url(dep["repo"]["url"], ws.repo.root)
            with opened(url, rev, store=ws.store, newest=True, jobs=args.jobs,
                        progress=ws.progress) as (source, view):  # fmt: skip
                done.append(update(ws, rel, dvcfile, view, rev=args.rev, commit=source.commit,
                                   no_download=args.no_download))  # fmt: skip
    if not args.quiet:
        for item in done:
            where = os.path.relpath(ws.repo.abs(item.out))
            commit = f"{item.rev_lock[:8]}" if isinstance(item, Imported) else ""
            if item.changed:
                print(f"Updated '{where}'" + (f" to {commit}" if commit else ""))
            else:
                print(f"'{where}' is up to date" + (f" ({commit})" if commit else ""))
    return 0
