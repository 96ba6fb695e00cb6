"""GCS (`gs://`), Azure (`azure://`) and HTTP(S) (read-only) remotes through fsspec.

These object stores make an uploaded object visible only when whole, so
`put_file` writes to the final key. Existence is asked with `info`, never
fsspec's `exists`, which answers False when it could not tell.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bale.errors import (
    RemoteAccessError,
    RemoteAuthError,
    RemoteConfigError,
    RemoteUnavailableError,
)
from bale.remotes.base import check_options, cpu_jobs, display_url, first_line, parse_bool, scrub

# scheme -> (fsspec protocol, extra to install, DVC option -> fsspec argument)
SCHEMES: dict[str, tuple[str, str, dict[str, str]]] = {
    "gs": (
        "gcs",
        "gs",
        {"projectname": "project", "credentialpath": "token", "endpointurl": "endpoint_url"},
    ),
    "azure": (
        "az",
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
    "http": ("http", "http", {}),
    "https": ("https", "http", {}),
}
HTTP_OPTIONS = {"user", "password", "auth", "ssl_verify", "custom_auth_header"}
SECRET_OPTIONS = ("account_key", "connection_string", "sas_token", "client_secret", "password")


class FsspecBackend:
    """Objects under `url` on an fsspec filesystem."""

    list_cost = 1.0
    local = False
    name_cost = 0.05
    page_size = 1000

    def __init__(self, url: str, scheme: str, options: Mapping[str, object]) -> None:
        self.url = display_url(url)
        protocol, extra, names = SCHEMES[scheme]
        known = set(names) | (HTTP_OPTIONS if scheme in ("http", "https") else set())
        if scheme == "azure":
            known.add("allow_anonymous_login")
        check_options(self.url, scheme, options, known)
        opt = {k: str(v) for k, v in options.items() if v is not None and v != ""}
        self._secrets = [opt.get(k) for k in SECRET_OPTIONS]
        self.readonly = scheme in ("http", "https")
        if self.readonly:
            self.list_cost = float("inf")  # HTTP cannot list: ask object by object
        self.default_jobs = cpu_jobs(4, low=8, high=32)
        try:
            import fsspec
        except ImportError as err:
            raise RemoteConfigError(
                self.url, f"the {scheme} client is not installed; run: pip install 'bale[{extra}]'"
            ) from err
        kwargs: dict[str, Any] = {names[k]: v for k, v in opt.items() if k in names}
        if scheme == "azure" and parse_bool(
            self.url, "allow_anonymous_login", opt.get("allow_anonymous_login"), False
        ):
            kwargs["anon"] = True
        if self.readonly:
            kwargs.update(self._http_kwargs(opt))
            self.base = url.rstrip("/")
        else:
            self.base = url.split("://", 1)[1].rstrip("/")
        try:
            self.fs = fsspec.filesystem(protocol, **kwargs)
        except ImportError as err:
            raise RemoteConfigError(
                self.url, f"the {scheme} client is not installed; run: pip install 'bale[{extra}]'"
            ) from err
        except Exception as err:
            raise RemoteConfigError(
                self.url, f"invalid options: {scrub(first_line(str(err)), self._secrets)}"
            ) from err

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

    def _error(self, err: BaseException, action: str) -> RemoteAccessError:
        text = scrub(first_line(str(err) or type(err).__name__), self._secrets)
        if isinstance(err, PermissionError) or "403" in text or "401" in text:
            return RemoteAuthError(
                self.url, f"access denied to {action}; check the remote's credentials"
            )
        if isinstance(err, ConnectionError | TimeoutError) or any(
            s in text.lower() for s in ("cannot connect", "connection", "timeout", "timed out")
        ):
            return RemoteUnavailableError(self.url, f"cannot reach the remote to {action}")
        if any(s in text for s in (" 500", " 502", " 503", " 504")):
            return RemoteUnavailableError(self.url, f"the server failed to {action}; try again")
        return RemoteAccessError(self.url, f"cannot {action}: {text}")

    def _read_only(self) -> RemoteConfigError:
        return RemoteConfigError(self.url, "HTTP remotes are read-only; push to another remote")

    def local_path(self, relpath: str) -> str | None:
        return None

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for rel in relpaths:
            try:
                self.fs.info(self._path(rel))
            except FileNotFoundError:
                continue
            except Exception as err:
                raise self._error(err, "check objects") from err
            found.add(rel)
        return found

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        if self.readonly:
            raise RemoteConfigError(self.url, "HTTP remotes cannot be listed")
        try:
            names = self.fs.ls(self._path(prefix), detail=False)
        except FileNotFoundError:
            return
        except Exception as err:
            raise self._error(err, "list") from err
        for name in names:
            base = name.rstrip("/").rsplit("/", 1)[-1]
            yield f"{prefix}/{base}" if prefix else base

    def put_file(self, local_path: str, relpath: str) -> None:
        if self.readonly:
            raise self._read_only()
        try:
            self.fs.put_file(local_path, self._path(relpath))
        except Exception as err:
            raise self._error(err, "upload") from err

    def get_file(self, relpath: str, local_path: str) -> None:
        try:
            self.fs.get_file(self._path(relpath), local_path)
        except FileNotFoundError:
            raise
        except Exception as err:
            raise self._error(err, "download") from err

    def remove_many(self, relpaths: Sequence[str]) -> None:
        if self.readonly:
            raise self._read_only()
        paths = [self._path(rel) for rel in relpaths]
        for path in paths:
            try:
                self.fs.rm_file(path)
            except FileNotFoundError:
                continue
            except Exception as err:
                raise self._error(err, "delete") from err

    def close(self) -> None:
        pass
