"""How large an input the readers take: past these, a file is refused, not parsed.

Parsing costs memory in proportion to the input: a `.dvc` file, `dvc.yaml`
or `dvc.lock` becomes about 15 times its size in Python objects (a 32 MiB
`.dvc` file of 431,000 outputs took 490 MB and 80 s), a `.dir` manifest
about 5 times (1 million entries, 93 MB: 430 MB). A hostile or broken file of
a GiB would take tens of GB. The limits leave room for any real file: a
`.dvc` file is a few hundred bytes; a manifest of ImageNet's 1.3 million
images is about 120 MB.

The one place in `formats` that reads the environment: `BALE_MAX_STAGE_FILE_MB`
and `BALE_MAX_MANIFEST_MB` raise a limit for a file known to be right (or
lower it, as the tests do).
"""

from __future__ import annotations

import os

from bale.errors import DvcFileError, ManifestTooLargeError

STAGE_FILE_MB = 64
MANIFEST_MB = 512


def _limit(name: str, default_mb: int) -> int:
    try:
        return int(float(os.environ[name]) * (1 << 20))
    except (KeyError, ValueError):
        return default_mb << 20


def _size(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB" if size >= 1 << 20 else f"{size} bytes"


def check_stage_file(origin: str, size: int) -> None:
    """Refuse a `.dvc` file, `dvc.yaml`, `dvc.lock` or params file of `size` bytes
    larger than the limit, before it is read or parsed.

    Raises:
        DvcFileError: it is larger.
    """
    limit = _limit("BALE_MAX_STAGE_FILE_MB", STAGE_FILE_MB)
    if size > limit:
        raise DvcFileError(
            origin,
            f"is {_size(size)}, more than the {_size(limit)} bale reads of such a file "
            "(they are normally a few kilobytes); restore it from git, or if it is "
            "right set BALE_MAX_STAGE_FILE_MB",
        )


def check_manifest(oid: str, size: int, *, path: str = "") -> None:
    """Refuse a `.dir` manifest of `size` bytes larger than the limit, before it
    is parsed (parsing takes about 5 times its size in memory); `path` is
    the folder it lists, for the message.

    Raises:
        ManifestTooLargeError: it is larger.
    """
    limit = _limit("BALE_MAX_MANIFEST_MB", MANIFEST_MB)
    if size > limit:
        files = f"{round(limit / 100, -4):,.0f}"  # about 100 bytes an entry
        problem = (
            f"is {_size(size)}{f' (folder {path!r})' if path else ''}, more than the "
            f"{_size(limit)} bale reads of a manifest "
            f"(about {files} files; reading one takes about 5 times its size in memory): "
            "track its subfolders as separate outputs, or set BALE_MAX_MANIFEST_MB"
        )
        raise ManifestTooLargeError(oid, problem, size, limit)
