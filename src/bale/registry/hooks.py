"""Git hooks and the merge driver's setup: what `bale git-hook install`
writes and `bale git-hook uninstall` removes, and what each hook runs.

As `dvc install` does: `post-checkout` runs `bale checkout` after a branch
checkout, `pre-push` runs `bale push`, `pre-commit` runs `bale card check
--staged`; each is a small sh script calling `bale git-hook HOOK`, with the
bale that installed it, else the one on PATH. The merge driver is git
config (`merge.bale.*`) plus `.gitattributes` lines. A hook bale did not
write is never replaced without `force`, nor removed. Imports `repo`,
`fsutil` and `errors`.
"""

from __future__ import annotations

import os
import shlex
from typing import NamedTuple

from bale.errors import BaleError, GitRequiredError, NotARepoError
from bale.fsutil import atomic_write, remove_file
from bale.repo.git import Git
from bale.repo.repository import Repo

HOOKS = ("post-checkout", "pre-commit", "pre-push")
DRIVER = "bale"
DRIVER_NAME = "bale merge driver for .dvc files and dvc.lock"
ATTRIBUTES_FILE = ".gitattributes"
ATTRIBUTES = ("*.dvc merge=bale", "dvc.lock merge=bale")
MARKER = "# Installed by bale git-hook install; bale git-hook uninstall removes it."
HOOK_MODE = 0o755


class HookExistsError(BaleError, FileExistsError):
    """A hook bale did not write is in the way (exit status 1)."""


class Installed(NamedTuple):
    hooks_dir: str
    replaced: list[str]  # hooks bale did not write, replaced (force)
    attributes: str  # the `.gitattributes` file
    attributes_changed: bool


class Removed(NamedTuple):
    hooks_dir: str
    removed: list[str]
    kept: list[str]  # hooks bale did not write, left alone
    driver: bool  # the merge driver's git config was removed
    attributes_changed: bool


def bale_command() -> list[str]:
    """The command that runs this bale: the console script beside this
    interpreter, else `python -m bale` with it."""
    import shutil
    import sys

    exe = shutil.which("bale", path=os.path.dirname(sys.executable))
    return [os.path.abspath(exe)] if exe else [sys.executable, "-m", "bale"]


def hook_script(hook: str, command: list[str]) -> str:
    """A hook running `bale git-hook HOOK` with git's arguments: `command`
    (the bale that installed it) while it is there, else bale on PATH."""
    exe, *rest = command
    run = " ".join(shlex.quote(arg) for arg in [exe, *rest, "git-hook", hook])
    missing = f"bale git-hook {hook}: bale is neither at {exe} nor on PATH; install it, or remove"
    return (
        "#!/bin/sh\n"
        f"{MARKER}\n"
        f"if [ -x {shlex.quote(exe)} ]; then\n"
        f'    exec {run} "$@"\n'
        "fi\n"
        "if command -v bale >/dev/null 2>&1; then\n"
        f'    exec bale git-hook {hook} "$@"\n'
        "fi\n"
        f'echo {shlex.quote(missing)} "$0" >&2\n'
        "exit 1\n"
    )


def driver_command(command: list[str]) -> str:
    """The `merge.bale.driver` line: git runs it through the shell with %O,
    %A, %B, %L and %P replaced (%P quoted); a literal % is written %%."""
    exe, *rest = command
    args = "git-hook merge-driver --ancestor %O --ours %A --theirs %B --marker-size %L --path %P"
    run = " ".join(shlex.quote(arg) for arg in [exe, *rest]).replace("%", "%%")
    return (
        f"if [ -x {shlex.quote(exe).replace('%', '%%')} ]; then {run} {args}; else bale {args}; fi"
    )


def is_bale_hook(path: str) -> bool:
    """Whether the hook at `path` is one bale wrote."""
    try:
        with open(path, "rb") as fobj:
            head = fobj.read(4096)
    except (FileNotFoundError, IsADirectoryError):
        return False
    return MARKER.encode() in head


def hooks_dir(git: Git) -> str:
    """The folder git runs hooks from: `core.hooksPath` if set (relative to
    the work tree's top, where hooks run), else the repository's `hooks/`."""
    out = git.run("rev-parse", "--git-path", "hooks").decode().strip()
    return os.path.normpath(os.path.join(git.root, out))


def _git(repo: Repo) -> Git:
    if repo.git is None:
        raise GitRequiredError(
            "git hooks need git, and this repository has none (core.no_scm); "
            "run git init, then bale git-hook install"
        )
    return repo.git


def install(repo: Repo, *, force: bool = False, command: list[str] | None = None) -> Installed:
    """Write the three hooks, the merge driver's git config and the
    `.gitattributes` lines that route `.dvc` files and `dvc.lock` to it.
    Nothing is written when a hook bale did not write is in the way.

    Raises:
        GitRequiredError: the repository has no git.
        HookExistsError: such a hook exists and `force` is not given.
    """
    git = _git(repo)
    command = command or bale_command()
    folder = hooks_dir(git)
    paths = {hook: os.path.join(folder, hook) for hook in HOOKS}
    foreign = [h for h, p in paths.items() if os.path.lexists(p) and not is_bale_hook(p)]
    if foreign and not force:
        shown = ", ".join(f"'{os.path.relpath(paths[h])}'" for h in foreign)
        one = len(foreign) == 1
        raise HookExistsError(
            f"{shown} {'is not a hook' if one else 'are not hooks'} bale wrote; move "
            f"{'it' if one else 'them'} away and run bale git-hook install again, or replace "
            f"{'it' if one else 'them'}: bale git-hook install -f"
        )
    os.makedirs(folder, exist_ok=True)
    for hook, path in paths.items():
        atomic_write(path, hook_script(hook, command).encode(), mode=HOOK_MODE)
    git.run("config", f"merge.{DRIVER}.name", DRIVER_NAME)
    git.run("config", f"merge.{DRIVER}.driver", driver_command(command))
    attributes = os.path.join(repo.root, ATTRIBUTES_FILE)
    return Installed(folder, foreign, attributes, _add_attributes(attributes))


def uninstall(repo: Repo) -> Removed:
    """Remove the hooks bale wrote (others stay), the merge driver's git
    config and bale's `.gitattributes` lines (the file too, if nothing else
    is left in it).

    Raises:
        GitRequiredError: the repository has no git.
    """
    git = _git(repo)
    folder = hooks_dir(git)
    removed, kept = [], []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        if is_bale_hook(path):
            remove_file(path)
            removed.append(hook)
        elif os.path.lexists(path):
            kept.append(hook)
    driver = bool(git.run("config", "--get-regexp", rf"^merge\.{DRIVER}\.", check=False).strip())
    if driver:
        git.run("config", "--remove-section", f"merge.{DRIVER}")
    attributes = os.path.join(repo.root, ATTRIBUTES_FILE)
    return Removed(folder, removed, kept, driver, _remove_attributes(attributes))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as fobj:
            return fobj.read()
    except FileNotFoundError:
        return None


def _add_attributes(path: str) -> bool:
    """Append the lines that are missing, keeping what is there."""
    text = _read(path) or ""
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in ATTRIBUTES if line not in present]
    if not missing:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(path, (text + "".join(f"{line}\n" for line in missing)).encode())
    return True


def _remove_attributes(path: str) -> bool:
    text = _read(path)
    if text is None:
        return False
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if line.strip() not in ATTRIBUTES]
    if len(kept) == len(lines):
        return False
    if "".join(kept).strip():
        atomic_write(path, "".join(kept).encode())
    else:
        remove_file(path)
    return True


def hook_argv(hook: str, args: list[str], *, checkout_type: str | None = None,
              start: str = ".") -> list[str] | None:  # fmt: skip
    """The bale command line a hook runs, or None when it has nothing to do:
    outside a bale repository (the branch checked out may have none, as
    dvc's hooks allow), a `post-checkout` of files rather than a branch
    (git's third argument, or pre-commit's PRE_COMMIT_CHECKOUT_TYPE as
    `checkout_type`), or one in the middle of a rebase (a checkout that
    fails there would break it)."""
    try:
        repo = Repo.open(start)
    except NotARepoError:
        return None
    if hook == "pre-commit":
        return ["card", "check", "--staged", "-q"]
    if hook == "pre-push":
        return ["push"]
    if hook != "post-checkout":
        raise ValueError(f"unknown hook {hook!r}")
    flag = checkout_type if checkout_type is not None else (args[2] if len(args) >= 3 else None)
    if flag != "1" or _rebasing(repo.git):
        return None
    return ["checkout"]


def _rebasing(git: Git | None) -> bool:
    if git is None:
        return False
    out = git.run("rev-parse", "--git-path", "rebase-merge", "--git-path", "rebase-apply")
    return any(os.path.isdir(os.path.join(git.root, line)) for line in out.decode().splitlines())
