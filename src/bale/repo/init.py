"""`init`: create the `.dvc/` skeleton exactly as `dvc init` does."""

from __future__ import annotations

import os
import shutil

from bale.errors import InitError
from bale.repo.config import edit_config
from bale.repo.git import Git, find_git_root

DVCIGNORE_TEXT = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)
DVC_GITIGNORE_TEXT = "/config.local\n/tmp\n/cache\n"


def init(root: str, *, subdir: bool = False, no_scm: bool = False, force: bool = False) -> str:
    """Create `.dvc/` in `root`; returns the path of `.dvc/`.

    Raises:
        BaleError: already initialised (without `force`), not in a git repo
            (without `no_scm`), or in a git subfolder (without `subdir`).
    """
    root = os.path.abspath(root)
    dvc_dir = os.path.join(root, ".dvc")
    if os.path.exists(dvc_dir):
        if not force:
            raise InitError(f"'{root}' already holds a repository (.dvc); use -f to reinitialise")
        shutil.rmtree(dvc_dir)
    git_root = None if no_scm else find_git_root(root)
    if not no_scm:
        if git_root is None:
            raise InitError(
                f"'{root}' is not in a git repository; run: git init, or bale init --no-scm"
            )
        if git_root != root and not subdir:
            raise InitError(
                f"'{root}' is not the top of the git repository '{git_root}'; "
                "use bale init --subdir to create a repository in a subfolder"
            )
    os.makedirs(os.path.join(dvc_dir, "tmp"), exist_ok=True)
    config = os.path.join(dvc_dir, "config")
    open(config, "w").close()
    if no_scm:
        edit_config(config, [("core", None, "no_scm", "True")])
    if not no_scm:
        with open(os.path.join(dvc_dir, ".gitignore"), "w", encoding="utf-8") as fobj:
            fobj.write(DVC_GITIGNORE_TEXT)
    ignore = os.path.join(root, ".dvcignore")
    if not os.path.exists(ignore):
        with open(ignore, "w", encoding="utf-8") as fobj:
            fobj.write(DVCIGNORE_TEXT)
    if git_root is not None:
        Git(git_root).add([config, os.path.join(dvc_dir, ".gitignore"), ignore])
    return dvc_dir
