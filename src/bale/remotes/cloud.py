"""GCS (`gs://`), Azure (`azure://`) and HTTP(S) (read-only) remotes through fsspec.

These object stores make an uploaded object visible only when whole (a single
PUT, or a resumable upload or block list committed at the end), so `put_file`
writes to the final key. The transfer engine's retries are the only ones: the
clients' own (gcsfs 6 tries with up to 32 s of sleep, Azure's 3 with 15 s and
more) are turned off, so an unreachable remote fails in one engine's budget,
not four times a client's. Every request has a connect and a read timeout.

Existence is asked with `info`, never fsspec's `exists`, which answers False
when it could not tell; and since an object in a bucket or container that
does not exist is "not found" too, the bucket is checked once, by listing,
before the first answer.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bale.errors import (
    RemoteAccessError,
    RemoteAuthError,
    RemoteConfigError,
    RemoteNotFoundError,
    RemoteUnavailableError,
)
from bale.remotes.base import (
    READ_CHUNK,
    FileStat,
    check_options,
    cpu_jobs,
    display_url,
    first_line,
    no_versions,
    parse_bool,
    parse_int,
    scrub,
)

# scheme -> (extra to install, DVC option -> the client's argument)
SCHEMES: dict[str, tuple[str, dict[str, str]]] = {
    "gs": (
        "gs",
        {"projectname": "project", "credentialpath": "token", "endpointurl": "endpoint_url"},
    ),
    "azure": (
        "azure",
        {
            "account_name": "account_name",
            "account_key": "account_key",
            "connection_string": "connection_string",
            "sas_token": "sas_token",
            "tenant_id": "tenant_id",
            "client_id": "client_id",
            "client_secret": "client_secret",
        },
    ),
    "http": ("http", {}),
    "https": ("http", {}),
}
# Azure options that only choose which credentials DefaultAzureCredential tries.
AZURE_EXCLUDES = (
    "exclude_environment_credential",
    "exclude_visual_studio_code_credential",
    "exclude_shared_token_cache_credential",
    "exclude_managed_identity_credential",
)
# DVC's Azure timeouts, in seconds; unset, the SDK's own (20 s to connect, 60 s a read).
AZURE_TIMEOUTS = ("timeout", "read_timeout", "connection_timeout")
GCS_CONNECT_TIMEOUT = 30  # DVC has no GCS timeout options; gcsfs alone sets none
GCS_READ_TIMEOUT = 60
HTTP_OPTIONS = {"user", "password", "auth", "ssl_verify", "custom_auth_header"}
SECRET_OPTIONS = ("account_key", "connection_string", "sas_token", "client_secret", "password")
WHERE = {"gs": "bucket", "azure": "container"}
FIX = {
    "gs": "check endpointurl and credentialpath",
    "azure": "check the connection string or account_name",
    "http": "check the URL",
    "https": "check the URL",
}


@functools.cache
def _gcs_class() -> type:
    """gcsfs's JSON-API filesystem without its retries.

    `gcsfs.GCSFileSystem` is, since 2026.10, a subclass that first asks a gRPC
    control plane for each bucket's layout (hierarchical or zonal): against an
    `endpointurl` that speaks only the JSON API that hung for minutes before
    falling back. bale needs neither kind's extras, so it uses the JSON one.
    """
    from gcsfs.core import GCSFileSystem

    class NoRetryGCSFileSystem(GCSFileSystem):
        _request = GCSFileSystem._request.__wrapped__

    return NoRetryGCSFileSystem


@functools.cache
def _azure_class() -> type:
    """adlfs's filesystem over an SDK client without retries, with timeouts.

    adlfs builds its client from the credentials; it is rebuilt with the same
    URL and credential, and `retry_total=0` and the connect and read timeouts,
    which adlfs cannot pass to it.
    """
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob.aio import BlobServiceClient

    class NoRetryAzureBlobFileSystem(AzureBlobFileSystem):
        def __init__(self, *, client_options: Mapping[str, int], **kwargs: Any) -> None:
            self.client_options = client_options
            super().__init__(**kwargs)

        def do_connect(self) -> None:
            super().do_connect()
            made = self.service_client
            self.service_client = BlobServiceClient(
                account_url=made.url,
                credential=made.credential,
                retry_total=0,
                **self.client_options,
            )

    return NoRetryAzureBlobFileSystem


class FsspecBackend:
    """Objects under `url` on an fsspec filesystem."""

    list_cost = 1.0
    local = False
    name_cost = 0.05
    page_size = 1000
    versioned_reads = False

    def __init__(self, url: str, scheme: str, options: Mapping[str, object]) -> None:
        self.url = display_url(url)
        self.scheme = scheme
        self.checksum_name = "checksum" if scheme in ("http", "https") else "etag"
        extra, names = SCHEMES[scheme]
        known = set(names)
        if scheme in ("http", "https"):
            known |= HTTP_OPTIONS
        elif scheme == "gs":
            known.add("allow_anonymous_login")
        else:
            known |= {"allow_anonymous_login", *AZURE_EXCLUDES, *AZURE_TIMEOUTS}
        check_options(self.url, scheme, options, known)
        opt = {k: str(v) for k, v in options.items() if v is not None and v != ""}
        self._secrets = [opt.get(k) for k in SECRET_OPTIONS]
        self.readonly = scheme in ("http", "https")
        if self.readonly:
            self.list_cost = float("inf")  # HTTP cannot list: ask object by object
        self.default_jobs = cpu_jobs(4, low=8, high=32)
        self._checked = self.readonly  # HTTP has no bucket to check
        self._check_lock = threading.Lock()
        kwargs: dict[str, Any] = {names[k]: v for k, v in opt.items() if k in names}
        anonymous = parse_bool(
            self.url, "allow_anonymous_login", opt.get("allow_anonymous_login"), False
        )
        if self.readonly:
            self.base = url.rstrip("/")
        else:
            self.base = url.split("://", 1)[1].rstrip("/")
            # Listings are asked afresh: another client may have written since.
            kwargs.update(use_listings_cache=False, skip_instance_cache=True)
        self.bucket, _, self.prefix = self.base.partition("/")
        try:
            self.fs = self._filesystem(kwargs, opt, anonymous)
        except ImportError as err:
            raise RemoteConfigError(
                self.url, f"the {scheme} client is not installed; run: pip install 'bale[{extra}]'"
            ) from err
        except RemoteConfigError:
            raise
        except Exception as err:
            raise RemoteConfigError(
                self.url, f"invalid options: {scrub(first_line(str(err)), self._secrets)}"
            ) from err

    def _filesystem(self, kwargs: dict[str, Any], opt: Mapping[str, str], anonymous: bool) -> Any:
        if self.scheme == "gs":
            import aiohttp

            if anonymous:
                kwargs["token"] = "anon"
            kwargs["requests_timeout"] = aiohttp.ClientTimeout(
                sock_connect=GCS_CONNECT_TIMEOUT, sock_read=GCS_READ_TIMEOUT
            )
            return _gcs_class()(**kwargs)
        if self.scheme == "azure":
            timeouts = {}
            for name in AZURE_TIMEOUTS:
                seconds = parse_int(self.url, name, opt.get(name))
                if seconds is not None:
                    timeouts[name] = seconds
            for name in AZURE_EXCLUDES:
                if name in opt:
                    kwargs[name] = parse_bool(self.url, name, opt[name], False)
            if anonymous:
                kwargs["anon"] = True
            # The client takes the connect and read timeouts; adlfs passes the
            # overall one (and the same two) to each upload and download.
            client = {k: v for k, v in timeouts.items() if k != "timeout"}
            return _azure_class()(client_options=client, **kwargs, **timeouts)
        import fsspec

        kwargs.update(self._http_kwargs(opt))
        return fsspec.filesystem(self.scheme, **kwargs)

    def _http_kwargs(self, opt: Mapping[str, str]) -> dict[str, Any]:
        client: dict[str, Any] = {}
        auth = opt.get("auth")
        if auth and auth != "basic":
            raise RemoteConfigError(self.url, f"http auth '{auth}' is not supported; use basic")
        if opt.get("user") and opt.get("password"):
            import aiohttp

            client["auth"] = aiohttp.BasicAuth(opt["user"], opt["password"])
        if opt.get("custom_auth_header"):
            raise RemoteConfigError(self.url, "custom_auth_header is not supported yet")
        kwargs: dict[str, Any] = {"client_kwargs": client} if client else {}
        if not parse_bool(self.url, "ssl_verify", opt.get("ssl_verify"), True):
            kwargs["ssl"] = False
        return kwargs

    def _path(self, relpath: str) -> str:
        return f"{self.base}/{relpath}" if relpath else self.base

    # -- errors ------------------------------------------------------------------

    def _error(self, err: BaseException, action: str) -> RemoteAccessError:
        """One table from gcsfs's, the Azure SDK's and aiohttp's errors to bale's."""
        text = scrub(first_line(str(err) or type(err).__name__), self._secrets)
        kinds = {cls.__name__ for cls in type(err).__mro__}
        status = getattr(err, "status_code", None) or getattr(err, "code", None)
        status = status if isinstance(status, int) else 0
        code = getattr(err, "error_code", None) or ""
        where = WHERE.get(self.scheme, "server")
        if status in (401, 403) or kinds & {"PermissionError", "ClientAuthenticationError"}:
            return RemoteAuthError(
                self.url,
                f"access denied to {action} (wrong credentials, or they lack permission); "
                f"{FIX[self.scheme]}",
            )
        if code in ("ContainerNotFound", "ResourceNotFound"):
            return self._missing_bucket()
        if kinds & {"TimeoutError", "ServerTimeoutError", "ServiceResponseTimeoutError"}:
            return RemoteUnavailableError(
                self.url, f"the {where} service did not answer in time to {action}; try again"
            )
        # A connection that ended inside an answer (aiohttp's ServerDisconnectedError
        # and ClientPayloadError, Azure's IncompleteReadError) is as transient.
        if kinds & {"ClientConnectionError", "ServiceRequestError", "ConnectionError"} or (
            kinds & {"ClientPayloadError", "IncompleteReadError"}
        ):
            return RemoteUnavailableError(
                self.url,
                f"cannot reach the remote to {action} (connection failed); {FIX[self.scheme]} "
                "and that the server is running",
            )
        if status >= 500 or status in (408, 429) or kinds & {"ServiceResponseError"}:
            return RemoteUnavailableError(
                self.url, f"the server failed to {action} ({status or text}); try again later"
            )
        return RemoteAccessError(self.url, f"cannot {action}: {text}")

    def _missing_bucket(self) -> RemoteNotFoundError:
        where = WHERE[self.scheme]
        return RemoteNotFoundError(
            self.url, f"{where} '{self.bucket}' does not exist; create it or fix the remote's url"
        )

    def _read_only(self) -> RemoteConfigError:
        return RemoteConfigError(self.url, "HTTP remotes are read-only; push to another remote")

    def _check_bucket(self) -> None:
        """List one name before the first answer: a missing bucket or container
        must not read as missing objects. A listing, not the bucket's
        metadata, which credentials for objects alone may not read."""
        if self._checked:
            return
        with self._check_lock:
            if self._checked:
                return
            from fsspec.asyn import sync

            try:
                sync(self.fs.loop, self._list_one)
            except FileNotFoundError as err:
                raise self._missing_bucket() from err
            except Exception as err:
                raise self._error(err, "list") from err
            self._checked = True

    async def _list_one(self) -> None:
        prefix = f"{self.prefix}/" if self.prefix else ""
        if self.scheme == "gs":
            # 404 (FileNotFoundError) only when the bucket does not exist.
            await self.fs._call("GET", "b/{}/o", self.bucket, prefix=prefix, maxResults=1)
            return
        from azure.core.exceptions import ResourceNotFoundError

        container = self.fs.service_client.get_container_client(self.bucket)
        try:
            async for _ in container.list_blobs(name_starts_with=prefix, results_per_page=1):
                break
        except ResourceNotFoundError as err:
            raise FileNotFoundError(self.bucket) from err

    # -- primitives ----------------------------------------------------------------

    def local_path(self, relpath: str) -> str | None:
        return None

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        self._check_bucket()
        found: set[str] = set()
        for rel in relpaths:
            try:
                info = self._info(rel, "check objects")
            except FileNotFoundError:
                continue
            if info.get("type") != "directory":
                found.add(rel)
        return found

    def _info(self, relpath: str, action: str) -> dict[str, Any]:
        """The client's `info`, and FileNotFoundError only when the store said
        so: fsspec's HTTP client raises it for any failure of its last try."""
        try:
            return self.fs.info(self._path(relpath))
        except FileNotFoundError as err:
            cause = err.__cause__
            gone = getattr(cause, "status", 0) in (404, 410)
            if self.readonly and cause is not None and not gone:
                raise self._error(cause, action) from err
            raise FileNotFoundError(relpath) from err
        except Exception as err:
            raise self._error(err, action) from err

    def stat(self, relpath: str) -> FileStat:
        self._check_bucket()
        info = self._info(relpath, "read")
        if info.get("type") == "directory":
            raise FileNotFoundError(relpath)
        return self._file_stat(relpath, info)

    def _file_stat(self, relpath: str, info: Mapping[str, Any]) -> FileStat:
        """What dvc records of a file (dvc-data's `Meta.from_info`)."""
        size = info.get("size")
        if self.readonly:
            checksum = info.get("ETag") or info.get("Content-MD5")
            if checksum is None:
                # fsspec's `checksum`: a token of what the server said about the file.
                from fsspec.utils import tokenize

                checksum = str(int(tokenize(info), 16))
            return FileStat(relpath, size, checksum)
        etag = info.get("etag")
        if self.scheme == "gs":
            import base64

            return FileStat(relpath, size, base64.b64decode(etag).hex() if etag else None,
                            info.get("generation"))  # fmt: skip
        if etag and not etag.startswith('"'):
            etag = f'"{etag}"'
        return FileStat(relpath, size, etag, info.get("version_id"))

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        for rel, _changed in self.iter_prefix_times(prefix):
            yield rel

    def iter_prefix_times(self, prefix: str) -> Iterator[tuple[str, float | None]]:
        if self.readonly:
            raise RemoteConfigError(self.url, "HTTP remotes cannot be listed")
        self._check_bucket()
        try:
            if self.scheme == "azure":
                from fsspec.asyn import sync

                found = sync(self.fs.loop, self._azure_names, self._path(prefix))
            else:  # gcsfs names each object's `updated` time as `mtime`
                entries = self.fs.ls(self._path(prefix), detail=True)
                files = [e for e in entries if e.get("type") != "directory"]
                found = [(e["name"], e.get("mtime")) for e in files]
        except FileNotFoundError:
            return
        except RemoteAccessError:
            raise
        except Exception as err:
            raise self._error(err, "list") from err
        for name, changed in found:
            base = name.rstrip("/").rsplit("/", 1)[-1]
            yield (f"{prefix}/{base}" if prefix else base), _timestamp(changed)

    def walk(self, prefix: str, *, versions: bool = False) -> Iterator[FileStat]:
        if versions:
            raise no_versions(self.url, self.scheme)
        if self.readonly:
            raise RemoteConfigError(self.url, "HTTP servers cannot be listed; name each file")
        self._check_bucket()
        base = self._path(prefix)
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return
        except Exception as err:
            raise self._error(err, "list") from err
        for name, info in sorted(found.items()):
            if info.get("type") != "directory" and name.startswith(base + "/"):
                yield self._file_stat(name[len(base) + 1 :], info)

    async def _azure_names(self, path: str) -> list[tuple[str, Any]]:
        """Blobs directly under folder `path` with their last-modified times, in
        one listing per page (adlfs's `ls` makes two requests a folder, and takes
        a 404 for an empty folder)."""
        from azure.core.exceptions import ResourceNotFoundError

        key = path.partition("/")[2]
        start = f"{key}/" if key else None
        container = self.fs.service_client.get_container_client(self.bucket)
        names = []
        try:
            async for item in container.walk_blobs(name_starts_with=start, delimiter="/"):
                if not item.name.endswith("/"):  # a subfolder's prefix
                    names.append((item.name, getattr(item, "last_modified", None)))
        except ResourceNotFoundError as err:  # only a container that does not exist
            raise self._missing_bucket() from err
        return names

    def put_file(self, local_path: str, relpath: str) -> None:
        if self.readonly:
            raise self._read_only()
        self._check_bucket()
        try:
            self.fs.put_file(local_path, self._path(relpath))
        except FileNotFoundError as err:
            if not os.path.exists(local_path):
                raise  # the engine reports the object missing from the cache
            raise self._missing_bucket() from err
        except Exception as err:
            raise self._error(err, "upload") from err

    def get_file(self, relpath: str, local_path: str, *, version_id: str | None = None) -> None:
        if version_id is not None:
            raise no_versions(self.url, self.scheme)
        self._check_bucket()
        try:
            self.fs.get_file(self._path(relpath), local_path)
        except FileNotFoundError:
            raise
        except Exception as err:
            raise self._error(err, "download") from err

    def read_chunks(
        self, relpath: str, *, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        if self.readonly:
            yield from self._http_chunks(relpath, start, end)
            return
        self._check_bucket()
        info = self._info(relpath, "read")
        if info.get("type") == "directory":
            raise FileNotFoundError(relpath)
        size = info["size"]
        stop = size if end is None else min(end, size)
        # One ranged GET a chunk, of exactly what is left of the file: no
        # read-ahead cache, and no request past the end (a 416).
        offset = start
        while offset < stop:
            piece = min(READ_CHUNK, stop - offset)
            try:
                data = self.fs.cat_file(self._path(relpath), start=offset, end=offset + piece)
            except FileNotFoundError as err:
                raise FileNotFoundError(relpath) from err  # deleted while it was read
            except Exception as err:
                raise self._error(err, "read") from err
            if not data:
                return  # shorter than it was: it changed while it was read
            offset += len(data)
            yield data

    def _http_chunks(self, relpath: str, start: int, end: int | None) -> Iterator[bytes]:
        """One streamed GET with a Range header. A server that ignores it (200,
        the whole file) is read from its start, and the range cut out here."""
        from fsspec.asyn import sync

        if end is not None and end <= start:
            self._info(relpath, "read")  # nothing to read, but it must exist
            return
        loop = self.fs.loop
        try:
            resp = sync(loop, self._http_get, relpath, start, end)
        except (FileNotFoundError, RemoteAccessError):
            raise
        except Exception as err:
            raise self._error(err, "read") from err
        if resp is None:
            return  # 416: the range starts at or past the end
        try:
            skip = start if resp.status == 200 else 0
            left = None if end is None else end - start
            while left is None or left > 0:
                want = READ_CHUNK if left is None else min(READ_CHUNK, left)
                if skip:
                    want = min(READ_CHUNK, skip)
                try:
                    data = sync(loop, _read_up_to, resp.content, want)
                except Exception as err:
                    raise self._error(err, "read") from err
                if not data:
                    return
                if skip:
                    skip -= len(data)  # before the range: read past, not yielded
                    continue
                if left is not None:
                    left -= len(data)
                yield data
        finally:
            sync(loop, _release, resp)

    async def _http_get(self, relpath: str, start: int, end: int | None) -> Any:
        """The response, its body not read yet; None for a range past the end."""
        session = await self.fs.set_session()
        kwargs = dict(self.fs.kwargs)
        headers = dict(kwargs.pop("headers", None) or {})
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        resp = await session.get(self.fs.encode_url(self._path(relpath)), headers=headers, **kwargs)
        if resp.status == 206:
            given = resp.headers.get("Content-Range", "").removeprefix("bytes ").split("-")[0]
            if given.isdigit() and int(given) != start:
                resp.release()
                raise RemoteAccessError(
                    self.url, f"cannot read: the server sent bytes from {given}, not {start}"
                )
        if resp.status in (200, 206):
            return resp
        resp.release()
        if resp.status in (404, 410):
            raise FileNotFoundError(relpath)
        if resp.status == 416:
            return None
        resp.raise_for_status()
        raise RemoteAccessError(self.url, f"cannot read: the server answered {resp.status}")

    def remove_many(self, relpaths: Sequence[str]) -> None:
        if self.readonly:
            raise self._read_only()
        self._check_bucket()
        for rel in relpaths:
            try:
                self.fs.rm_file(self._path(rel))
            except FileNotFoundError:
                continue
            except Exception as err:
                raise self._error(err, "delete") from err

    def close(self) -> None:
        """Close the client's connections (they belong to fsspec's loop thread)."""
        from fsspec.asyn import sync

        fs, self.fs = self.fs, None
        if fs is None or self.readonly:
            return
        if self.scheme == "azure":
            sync(fs.loop, fs.service_client.close)
        elif getattr(fs, "_session", None) is not None:
            sync(fs.loop, fs._session.close)


async def _read_up_to(content: Any, size: int) -> bytes:
    """`size` bytes of an aiohttp body, fewer only at its end: a chunk whole,
    not the pieces the socket gives."""
    pieces: list[bytes] = []
    got = 0
    while got < size:
        piece = await content.read(size - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


async def _release(resp: Any) -> None:
    """Give the connection back (or drop it, when the body was not all read)."""
    resp.release()


def _timestamp(value: Any) -> float | None:
    """A listing's time (a datetime, or an ISO 8601 string) in seconds since the epoch."""
    if isinstance(value, str):
        from datetime import datetime

        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value.timestamp() if hasattr(value, "timestamp") else None
