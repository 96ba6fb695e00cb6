"""Remote URL schemes: the ones DVC knows, the options each takes, which ones
bale speaks; and opening a backend by URL, importing its client only then.

The option tables are DVC 3.67's (`dvc/config_schema.py` `REMOTE_SCHEMAS`), so
that bale accepts every remote dvc accepts and writes none dvc would refuse;
`bale.repo.schema` checks config files against them.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bale.errors import RemoteConfigError
from bale.remotes.base import display_url, split_url

if TYPE_CHECKING:
    from bale.remotes.base import Backend

# Value kinds of config options: DVC's validators, and the few checks bale adds
# where a value dvc takes could never work (ports, URLs, negative numbers).
BOOL = "bool"  # true or false, any case
TEXT = "text"
SECRET = "secret"  # text never printed in listings
LOWER = "lower"  # text, read lower-cased
COUNT = "count"  # a whole number >= 1
INT = "int"  # a whole number >= 0
NUMBER = "number"  # a number >= 0
PERCENT = "percent"  # a whole number from 0 to 100
PORT = "port"  # a whole number from 1 to 65535
URL = "url"  # a remote's URL or folder path
ENDPOINT = "endpoint"  # an http(s) URL; a bare HOST[:PORT] means https://
LINKS = "links"  # cache link types, comma-separated
PATH = "path"  # a file path, relative to the config file's folder
DIR = "dir"  # a folder path, relative to the config file's folder
Kind = str | tuple[str, ...]  # a tuple: one of these words, any case


# collections' namedtuple, not typing's: evaluating its annotations took 3 ms
# of every command's start-up (each config read checks the remotes).
class Scheme(namedtuple("Scheme", "label backend host example options")):
    """A URL scheme: `label` names its remotes in messages; `backend` is the
    bale backend that speaks it (None: not yet); `host` is what the URL's first
    part names; `options` maps DVC's option names to kinds (None: any)."""

    __slots__ = ()

    label: str
    backend: str | None
    host: str
    example: str
    options: Mapping[str, Kind] | None


_COMMON: dict[str, Kind] = {
    "url": URL, "checksum_jobs": COUNT, "jobs": COUNT, "worktree": BOOL,
    "no_traverse": BOOL, "version_aware": BOOL,
}  # fmt: skip
_VERIFY: dict[str, Kind] = {"verify": BOOL}
_HTTP: dict[str, Kind] = {
    "auth": ("basic", "digest", "custom"), "custom_auth_header": SECRET, "user": TEXT,
    "password": SECRET, "ask_password": BOOL, "ssl_verify": TEXT, "method": TEXT,
    "connect_timeout": NUMBER, "read_timeout": NUMBER,
}  # fmt: skip
_WEBDAV: dict[str, Kind] = {
    "user": TEXT, "password": SECRET, "ask_password": BOOL, "token": SECRET,
    "bearer_token_command": TEXT, "custom_auth_header": SECRET, "cert_path": PATH,
    "key_path": PATH, "timeout": INT, "ssl_verify": TEXT,
}  # fmt: skip
# dvc 3.67 also lists s3 `cache_regions` and hdfs `replication`, but checks them
# as Python bool and int, which no value read from a file is: it refuses them.
SCHEMES: dict[str, Scheme] = {
    "": Scheme("folder", "local", "path", "/srv/store", {
        "type": LINKS, "protected": BOOL, "shared": ("group",), "slow_link_warning": BOOL,
        **_VERIFY, **_COMMON,
    }),
    "s3": Scheme("s3", "s3", "bucket", "s3://bucket/path", {
        "region": TEXT, "profile": TEXT, "credentialpath": PATH, "configpath": PATH,
        "endpointurl": ENDPOINT, "access_key_id": SECRET, "secret_access_key": SECRET,
        "session_token": SECRET, "listobjects": BOOL, "use_ssl": BOOL,
        "allow_anonymous_login": BOOL, "ssl_verify": TEXT, "sse": TEXT, "sse_kms_key_id": TEXT,
        "sse_customer_algorithm": TEXT, "sse_customer_key": SECRET, "acl": TEXT,
        "grant_read": TEXT, "grant_read_acp": TEXT, "grant_write_acp": TEXT,
        "grant_full_control": TEXT, "read_timeout": INT, "connect_timeout": INT,
        **_VERIFY, **_COMMON,
    }),
    "gs": Scheme("gs", "cloud", "bucket", "gs://bucket/path", {
        "projectname": TEXT, "credentialpath": PATH, "endpointurl": ENDPOINT,
        "allow_anonymous_login": BOOL, **_VERIFY, **_COMMON,
    }),
    "azure": Scheme("azure", "cloud", "container", "azure://container/path", {
        "connection_string": SECRET, "sas_token": SECRET, "account_name": TEXT,
        "account_key": SECRET, "tenant_id": TEXT, "client_id": TEXT, "client_secret": SECRET,
        "allow_anonymous_login": BOOL, "exclude_environment_credential": BOOL,
        "exclude_visual_studio_code_credential": BOOL,
        "exclude_shared_token_cache_credential": BOOL,
        "exclude_managed_identity_credential": BOOL, "timeout": INT, "read_timeout": INT,
        "connection_timeout": INT, **_VERIFY, **_COMMON,
    }),
    "ssh": Scheme("ssh", "ssh", "host", "ssh://user@host:port/path", {
        "type": LINKS, "port": PORT, "user": TEXT, "password": SECRET, "ask_password": BOOL,
        "passphrase": SECRET, "ask_passphrase": BOOL, "keyfile": PATH, "timeout": INT,
        "gss_auth": BOOL, "allow_agent": BOOL, "max_sessions": INT, **_VERIFY, **_COMMON,
    }),
    "http": Scheme("http", "cloud", "host", "http://host/path", {**_HTTP, **_VERIFY, **_COMMON}),
    "https": Scheme("https", "cloud", "host", "https://host/path", {
        **_HTTP, **_VERIFY, **_COMMON,
    }),
    "hdfs": Scheme("hdfs", None, "host", "hdfs://user@host/path", {
        "user": TEXT, "kerb_ticket": TEXT, **_COMMON,
    }),
    "webhdfs": Scheme("webhdfs", None, "host", "webhdfs://host:port/path", {
        "kerberos": BOOL, "kerberos_principal": TEXT, "proxy_to": TEXT, "ssl_verify": TEXT,
        "token": SECRET, "use_https": BOOL, "user": TEXT, "password": SECRET,
        "data_proxy_target": TEXT, **_VERIFY, **_COMMON,
    }),
    "webdav": Scheme("webdav", None, "host", "webdav://host/path", {
        **_WEBDAV, **_VERIFY, **_COMMON,
    }),
    "webdavs": Scheme("webdavs", None, "host", "webdavs://host/path", {
        **_WEBDAV, **_VERIFY, **_COMMON,
    }),
    "oss": Scheme("oss", None, "bucket", "oss://bucket/path", {
        "oss_key_id": SECRET, "oss_key_secret": SECRET, "oss_endpoint": TEXT,
        **_VERIFY, **_COMMON,
    }),
    "gdrive": Scheme("gdrive", None, "folder id", "gdrive://root/path", {
        "profile": TEXT, "gdrive_use_service_account": BOOL, "gdrive_client_id": TEXT,
        "gdrive_client_secret": SECRET, "gdrive_user_credentials_file": PATH,
        "gdrive_service_account_user_email": TEXT,
        "gdrive_service_account_json_file_path": PATH, "gdrive_trash_only": BOOL,
        "gdrive_acknowledge_abuse": BOOL, **_VERIFY, **_COMMON,
    }),
    # Another remote's URL plus a path; dvc takes any option here.
    "remote": Scheme("remote://", None, "remote name", "remote://name/path", None),
}  # fmt: skip
_KNOWN = ", ".join(f"{s}://" for s in SCHEMES if s)
SUPPORTED = ", ".join(s or "local folder" for s, spec in SCHEMES.items() if spec.backend)


def scheme_of(url: str) -> str:
    """The URL's scheme, lower-cased; "" for a folder path (or `file:///path`)."""
    return _split(url)[0]


def _split(url: str) -> tuple[str, str]:
    """(scheme, the part naming the host) of a URL; ("", "") for a folder path."""
    scheme, netloc, _ = split_url(url)
    scheme = scheme.lower()
    return ("", "") if scheme == "file" and not netloc else (scheme, netloc)


def url_problem(url: str) -> str | None:
    """What makes `url` unusable as a remote's URL, or None.

    A folder path is fine; a URL needs a scheme DVC knows, a host (bucket,
    container) and, if it gives one, a port from 1 to 65535.
    """
    if not url.strip():
        return "the remote URL is empty"
    scheme, netloc = _split(url)
    if not scheme:
        return None
    spec = SCHEMES.get(scheme)
    if spec is None:
        return f"unknown URL scheme '{scheme}://'; use a folder path or one of {_KNOWN}"
    return _netloc_problem(netloc, spec.host, spec.example)


def endpoint_problem(value: str) -> str | None:
    """What makes `value` unusable as an endpoint (`endpointurl`), or None."""
    if any(c.isspace() for c in value):
        return "not a URL (it holds a space); use http://host:port or https://host"
    scheme, netloc, _ = split_url(value if "://" in value else "https://" + value)
    if scheme.lower() not in ("http", "https"):
        return "not an http:// or https:// URL"
    return _netloc_problem(netloc, "host", "http://host:port")


def _netloc_problem(netloc: str, host_word: str, example: str) -> str | None:
    host = netloc.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 address
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return f"'{host}' is not a valid IPv6 host; use {example}"
        port = port[1:]
    else:
        name, _, port = host.partition(":")
    if not name:
        return f"no {host_word} given; use {example}"
    if any(c.isspace() or not c.isprintable() for c in name):
        return f"'{name}' is not a valid {host_word}; use {example}"
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        return f"port '{port}' is not a number from 1 to 65535"
    return None


def split_source(url: str) -> tuple[str, str]:
    """A file or folder's URL as (the root a backend opens, its relpath under
    that root): `s3://bucket/a/b` is (`s3://bucket`, `a/b`), `ssh://host/a/b`
    (`ssh://host`, `a/b`); an HTTP URL's query stays in the relpath. String
    work only: `url_problem` judges the URL when the backend opens."""
    scheme, netloc, rest = split_url(url)
    relpath = rest.lstrip("/")
    if scheme.lower() == "ssh":
        from urllib.parse import unquote

        relpath = unquote(relpath)  # as SSHBackend reads its root's path
    return f"{scheme}://{netloc}", relpath


def open_remote(url: str, options: Mapping[str, object] | None = None) -> Backend:
    """A backend for `url` with a remote section's options (DVC's names).

    `url` is a folder path (absolute; the caller resolves a relative one against
    its config file), `file://…`, or `scheme://…`. Nothing is contacted here;
    the first primitive call connects.

    Raises:
        RemoteConfigError: bad URL, unknown scheme, bad option, or the client is
            not installed.
        RemoteAuthError: no credentials could be found (S3).
    """
    options = dict(options or {})
    shown = display_url(url)
    problem = url_problem(url)
    if problem:
        raise RemoteConfigError(shown, problem)
    scheme = scheme_of(url)
    spec = SCHEMES[scheme]
    for name, kind in (spec.options or {}).items():
        value = options.get(name)
        if kind == ENDPOINT and value and (problem := endpoint_problem(str(value))):
            raise RemoteConfigError(shown, f"option '{name}' '{value}': {problem}")
    jobs = _jobs(shown, options.get("jobs"))
    backend = _backend(url, scheme, options)
    if jobs is not None:
        backend.default_jobs = jobs  # as dvc: the remote's own, unless a command gives -j
    return backend


def _jobs(shown: str, value: object) -> int | None:
    """The remote's `jobs` option (transfers at once), checked: it may come
    from another repository's config."""
    if value is None or value == "":
        return None
    try:
        jobs = int(str(value))
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise RemoteConfigError(shown, f"option 'jobs' must be a whole number >= 1, not '{value}'")
    return jobs


def _backend(url: str, scheme: str, options: dict[str, object]) -> Backend:
    spec = SCHEMES[scheme]
    shown = display_url(url)
    if spec.backend == "local":
        from bale.remotes.local import open_local

        path = url
        if "://" in url:  # file:///path
            from urllib.parse import unquote, urlsplit

            path = unquote(urlsplit(url).path)
        return open_local(os.path.abspath(path), options)
    if spec.backend == "s3":
        from bale.remotes.s3 import S3Backend

        return S3Backend(url, options)
    if spec.backend == "ssh":
        from bale.remotes.ssh import SSHBackend

        return SSHBackend(url, options)
    if spec.backend == "cloud":
        from bale.remotes.cloud import FsspecBackend

        return FsspecBackend(url, scheme, options)
    raise RemoteConfigError(
        shown, f"'{spec.label}' remotes are not supported by bale yet; supported: {SUPPORTED}"
    )
