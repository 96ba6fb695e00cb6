"""Choose and open a backend by URL scheme, importing its client only then."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from bale.errors import RemoteConfigError
from bale.remotes.base import Backend, display_url

SUPPORTED = ("local folder", "s3", "ssh", "gs", "azure", "http", "https")
# DVC schemes bale knows of but does not speak yet.
NOT_YET = ("hdfs", "webhdfs", "webdav", "webdavs", "oss", "gdrive")


def open_remote(url: str, options: Mapping[str, object] | None = None) -> Backend:
    """A backend for `url` with a remote section's options (DVC's names).

    `url` is a folder path (absolute; the caller resolves a relative one against
    its config file), `file://…`, or `scheme://…`. Nothing is contacted here;
    the first primitive call connects.

    Raises:
        RemoteConfigError: unknown scheme, bad option, or the client is not installed.
        RemoteAuthError: no credentials could be found (S3).
    """
    options = dict(options or {})
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("", "file"):
        from bale.remotes.local import open_local

        path = unquote(urlsplit(url).path) if scheme == "file" else url
        return open_local(os.path.abspath(path) if path else path, options)
    if scheme in ("s3",):
        from bale.remotes.s3 import S3Backend

        return S3Backend(url, options)
    if scheme in ("ssh", "sftp"):
        from bale.remotes.ssh import SSHBackend

        return SSHBackend(url, options)
    if scheme in ("gs", "gcs", "azure", "az", "http", "https"):
        from bale.remotes.cloud import FsspecBackend

        canonical = {"gcs": "gs", "az": "azure"}.get(scheme, scheme)
        return FsspecBackend(url, canonical, options)
    shown = display_url(url)
    if scheme in NOT_YET:
        raise RemoteConfigError(
            shown,
            f"'{scheme}' remotes are not supported by bale yet; supported: {', '.join(SUPPORTED)}",
        )
    raise RemoteConfigError(
        shown,
        f"unknown URL scheme '{scheme}://'; use a folder path or one of "
        "s3://, ssh://, gs://, azure://, http(s)://",
    )
