"""S3 and S3-compatible remotes (`s3://bucket/prefix`), through obstore.

Why obstore and not s3fs: against moto's server on a 2-core machine, pushing
2,000 small objects with 32 jobs took 4.5-4.7 s with obstore against 5.7-6.1 s
with s3fs and 5.6-6.1 s with a boto3 thread pool, because the client's own CPU
(0.9 s, against 3.3 s and 2.8 s) competes with the server for the cores. The
same held for downloads. Keys in the remote's options or the environment go
to obstore as they are; other credentials (AWS profiles, `credentialpath`,
SSO, instance roles) are resolved by botocore, as DVC's s3fs does, and handed
to obstore.

obstore does not retry: the transfer engine's retries are the one policy, so
a stalled endpoint fails after its attempts of `connect_timeout` plus
`read_timeout` each (DVC's option names), not after obstore's own retries
inside each of them. Every value that ends up in a request's URL or headers
(endpoint, bucket, region, keys) is checked here first: obstore panics on a
bad one when it builds the request (a Rust panic, 94 lines on the terminal).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
    first_line,
    parse_bool,
    parse_int,
    scrub,
)

OPTIONS = {
    "endpointurl",
    "region",
    "profile",
    "credentialpath",
    "configpath",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "use_ssl",
    "ssl_verify",
    "allow_anonymous_login",
    "sse",
    "sse_kms_key_id",
    "read_timeout",
    "connect_timeout",
}
# DVC options bale cannot honour with this client: refused, never ignored.
UNSUPPORTED = {"acl", "grant_read", "grant_read_acp", "grant_write_acp", "grant_full_control"}
UNSUPPORTED |= {"sse_customer_key", "sse_customer_algorithm"}
# DVC options that only tune how requests are made; accepted, with no effect here.
IGNORED = {"listobjects", "use_dualstack", "max_concurrency", "multipart_chunksize"}
SMALL = 8 << 20  # read or download whole below this; stream above
PART = 8 << 20  # multipart part size for large uploads
# Parts in flight per large file, and large files uploading at once: together
# they bound memory (4 parts of 8 MiB). Two files of two parts each beat one
# file of four: on the S3 test server, 4 x 256 MiB went in 6.96-7.25 s against
# 7.78-8.10 s, since one file's parts are stored and joined while the other's flow.
PART_CONCURRENCY = 2
LARGE_SLOTS = 2
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
INSTALL_HINT = "the S3 client is not installed; run: pip install 'bale[s3]'"
CONNECT_TIMEOUT = 10  # seconds, unless the remote's connect_timeout says otherwise
READ_TIMEOUT = 120  # seconds without a byte from the server (read_timeout)
# Buckets may hold these (old us-east-1 ones upper case and _ too); regions
# of S3-compatible servers are free-form names of the same characters.
_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # a header value: visible ASCII
# How obstore (reqwest, hyper) says a connection ended inside a body: a
# cut-off answer, as transient as a refused connection (it was not retried,
# and one cut in a 9 MiB download ended a pull).
_CUT_OFF = (
    "body error",
    "error decoding response body",
    "closed before message completed",
    "unexpected end of file",
    "incomplete message",
)


def _unmap_part_buffers() -> None:
    """Have glibc map every allocation of a part's size or more afresh and
    unmap it when freed. Its default threshold rises after the first freed
    part, so later parts came from the heap and stayed resident: one 1 GiB
    push peaked anywhere from 87 to 160 MB, and at 87 MB every time with this."""
    import ctypes

    try:
        if os.confstr("CS_GNU_LIBC_VERSION"):
            ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, PART // 2)
    except (ValueError, OSError, AttributeError):
        pass  # not glibc: its allocator has no such threshold to fix


def _env_credentials(opt: Mapping[str, str]) -> tuple[dict[str, str], str | None] | None:
    """The keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and a session
    token) and the region, when botocore would answer with exactly these, so
    it need not be imported (85 ms of every S3 command); None: ask botocore.

    Its environment provider comes first unless the remote names a profile;
    keys with an expiry refresh, a profile in the environment must exist, and
    a config file may name the region: those go to botocore, as does a
    partial pair (its error says which one is missing).
    """
    env = os.environ
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret or opt.get("profile") or env.get("AWS_CREDENTIAL_EXPIRATION"):
        return None
    if "AWS_PROFILE" in env or "AWS_DEFAULT_PROFILE" in env:
        return None  # botocore refuses a profile its files lack, even with these keys
    region = opt.get("region") or env.get("AWS_DEFAULT_REGION")
    if region is None and "AWS_DEFAULT_REGION" not in env:
        config_file = opt.get("configpath") or env.get("AWS_CONFIG_FILE") or "~/.aws/config"
        if os.path.exists(os.path.expanduser(config_file)):
            return None
    keys = {"access_key_id": key, "secret_access_key": secret}
    token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN")
    if token:
        keys["session_token"] = token
    return keys, region


class _BotocoreCredentials:
    """An obstore credential provider backed by a botocore session (refreshing)."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials

    def __call__(self) -> dict[str, Any]:
        frozen = self.credentials.get_frozen_credentials()
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": datetime.now(UTC) + timedelta(minutes=10),
        }


class S3Backend:
    """Objects under `s3://bucket/prefix/`; a PUT (or a completed multipart upload)
    makes an object visible only when whole."""

    # Measured on moto: an empty LIST costs about one HEAD (2.4 ms against 2.2),
    # a full page of 1,000 keys about 57 HEADs (125 ms).
    list_cost = 1.0
    local = False
    name_cost = 0.05
    page_size = 1000
    checksum_name = "etag"
    versioned_reads = True

    def __init__(self, url: str, options: Mapping[str, object]) -> None:
        self.url = url
        bad = sorted(UNSUPPORTED & set(options))
        if bad:
            raise RemoteConfigError(
                url, f"option '{bad[0]}' is not supported by bale's S3 client; remove it"
            )
        check_options(url, "s3", options, OPTIONS | IGNORED)
        match = re.match(r"^s3://([^/]+)/*(.*?)/*$", url)
        if not match:
            raise RemoteConfigError(url, "an S3 URL looks like s3://bucket/path")
        self.bucket, self.prefix = match.group(1), match.group(2)
        if not _NAME.fullmatch(self.bucket):
            raise RemoteConfigError(
                url,
                f"'{self.bucket}' is not a bucket name (letters, digits, '.', '-', '_'); "
                "fix the remote's url",
            )
        self._secrets = [str(options.get(k) or "") for k in ("secret_access_key", "session_token")]
        self.default_jobs = cpu_jobs(8, low=16, high=64)
        self._region = "us-east-1"
        self._store = self._make_store(options)
        self._checked = False
        self._check_lock = threading.Lock()
        self._check_failed: tuple[int, RemoteAccessError | None] = (0, None)
        self._large = threading.BoundedSemaphore(LARGE_SLOTS)
        self._unmapped = False

    def _make_store(self, options: Mapping[str, object]) -> Any:
        try:
            from obstore.store import S3Store
        except ImportError as err:
            raise RemoteConfigError(self.url, INSTALL_HINT) from err
        opt = {k: str(v) for k, v in options.items() if v is not None and v != ""}
        config: dict[str, Any] = {}
        connect = parse_int(self.url, "connect_timeout", opt.get("connect_timeout"))
        read = parse_int(self.url, "read_timeout", opt.get("read_timeout"))
        self.connect_timeout = connect or CONNECT_TIMEOUT
        self.read_timeout = read or READ_TIMEOUT
        client: dict[str, Any] = {
            "connect_timeout": timedelta(seconds=self.connect_timeout),
            "read_timeout": timedelta(seconds=self.read_timeout),
            "timeout": timedelta(hours=1),  # a whole request, a large part's upload too
        }
        use_ssl = parse_bool(self.url, "use_ssl", opt.get("use_ssl"), True)
        # Else botocore's variables, which dvc's S3 client honours too.
        env = os.environ
        endpoint = (
            opt.get("endpointurl") or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        )
        if endpoint:
            self._check_endpoint(endpoint)
            if "://" not in endpoint:
                endpoint = ("https://" if use_ssl else "http://") + endpoint
            config["endpoint"] = endpoint.rstrip("/")
            client["allow_http"] = endpoint.startswith("http://")
        ssl_verify = opt.get("ssl_verify")
        if ssl_verify is not None:
            if ssl_verify.strip().lower() in ("false", "no", "off", "0"):
                client["allow_invalid_certificates"] = True
            elif ssl_verify.strip().lower() not in ("true", "yes", "on", "1"):
                client["root_certificate"] = ssl_verify  # a CA bundle path, as in DVC
        if opt.get("sse"):
            config["server_side_encryption"] = opt["sse"]
        if opt.get("sse_kms_key_id"):
            config["sse_kms_key_id"] = opt["sse_kms_key_id"]
        region = opt.get("region")
        anonymous = parse_bool(
            self.url, "allow_anonymous_login", opt.get("allow_anonymous_login"), False
        )
        provider = None
        if opt.get("access_key_id") or opt.get("secret_access_key"):
            if not (opt.get("access_key_id") and opt.get("secret_access_key")):
                raise RemoteConfigError(
                    self.url,
                    "set both access_key_id and secret_access_key "
                    "(bale remote modify --local NAME OPTION VALUE)",
                )
            config["access_key_id"] = opt["access_key_id"]
            config["secret_access_key"] = opt["secret_access_key"]
            if opt.get("session_token"):
                config["session_token"] = opt["session_token"]
            self._check_keys(config, from_env=False)
        elif (from_env := _env_credentials(opt)) is not None:
            keys, env_region = from_env
            config.update(keys)
            self._check_keys(config, from_env=True)
            region = region or env_region
        else:
            credentials, session_region = self._botocore_credentials(opt)
            region = region or session_region
            if credentials is not None:
                provider = _BotocoreCredentials(credentials)
            elif anonymous:
                config["skip_signature"] = True
            else:
                raise RemoteAuthError(
                    self.url,
                    "no AWS credentials found; set access_key_id and secret_access_key "
                    "(bale remote modify --local NAME access_key_id ...), "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a profile",
                )
        config["region"] = self._region = region or "us-east-1"
        if not _NAME.fullmatch(self._region):
            raise RemoteConfigError(
                self.url,
                f"option 'region' '{self._region}' is not a region name (letters, digits, "
                "'.', '-', '_'); fix it (bale remote modify NAME region REGION)",
            )
        try:
            return S3Store(
                self.bucket,
                config=config,
                client_options=client,
                retry_config={"max_retries": 0},
                credential_provider=provider,
            )
        except Exception as err:
            raise RemoteConfigError(
                self.url, f"invalid S3 options: {scrub(first_line(str(err)), self._secrets)}"
            ) from err

    def _check_endpoint(self, endpoint: str) -> None:
        """The same check `open_remote` makes, for whoever builds a backend."""
        from bale.remotes.registry import endpoint_problem

        problem = endpoint_problem(endpoint)
        if problem:
            raise RemoteConfigError(
                self.url,
                f"option 'endpointurl' '{endpoint}': {problem} "
                "(bale remote modify NAME endpointurl URL)",
            )

    def _check_keys(self, config: Mapping[str, str], *, from_env: bool) -> None:
        """Keys go into headers: a space or control character would panic obstore."""
        for name in ("access_key_id", "session_token"):
            if name in config and not _TOKEN.fullmatch(config[name]):
                where = f"AWS_{name.upper()}" if from_env else f"option '{name}'"
                fix = (
                    "set the variable again"
                    if from_env
                    else f"set it again (bale remote modify --local NAME {name} VALUE)"
                )
                raise RemoteConfigError(
                    self.url, f"{where} holds a space or control character; {fix}"
                )

    def _botocore_credentials(self, opt: Mapping[str, str]) -> tuple[Any, str | None]:
        """AWS's own lookup: environment, profile, credentials file, SSO, roles."""
        try:
            import botocore.exceptions
            import botocore.session
        except ImportError as err:
            raise RemoteConfigError(self.url, INSTALL_HINT) from err
        try:
            session = botocore.session.Session(profile=opt.get("profile"))
            if opt.get("credentialpath"):
                session.set_config_variable("credentials_file", opt["credentialpath"])
            if opt.get("configpath"):
                session.set_config_variable("config_file", opt["configpath"])
            return session.get_credentials(), session.get_config_variable("region")
        except botocore.exceptions.ProfileNotFound as err:
            raise RemoteConfigError(
                self.url,
                f"AWS profile '{opt.get('profile')}' not found; check the profile option "
                "or ~/.aws/config",
            ) from err
        except botocore.exceptions.BotoCoreError as err:
            raise RemoteAuthError(
                self.url, f"cannot load AWS credentials: {first_line(str(err))}"
            ) from err

    # -- keys ----------------------------------------------------------------

    def _key(self, relpath: str) -> str:
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    # -- errors --------------------------------------------------------------

    def _error(self, err: Exception, action: str) -> RemoteAccessError:
        """One table from obstore's errors to bale's, without secrets."""
        text = str(err)
        code = re.search(r"<Code>([^<]+)</Code>", text) or re.search(r"code: (\w+)", text)
        status = re.search(r"status code: (\d{3})|status: (\d{3})", text)
        code_s = code.group(1) if code else ""
        status_n = int(next(g for g in status.groups() if g)) if status else 0
        where = f"s3://{self.bucket}"
        if code_s == "NoSuchBucket":
            return RemoteNotFoundError(
                self.url,
                f"bucket '{self.bucket}' does not exist; create it or fix the remote's url",
            )
        if code_s in ("PermanentRedirect", "AuthorizationHeaderMalformed") or status_n == 301:
            return RemoteConfigError(
                self.url,
                f"bucket '{self.bucket}' is in another region than "
                f"'{self._region}'; set the remote's region option",
            )
        if code_s in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken") or (
            code_s == "ExpiredToken"
        ):
            return RemoteAuthError(
                self.url,
                f"the credentials were refused ({code_s}); check access_key_id, "
                "secret_access_key and session_token (bale remote modify --local), "
                "or your AWS profile",
            )
        if code_s in ("AccessDenied", "AllAccessDisabled") or type(err).__name__ in (
            "PermissionDeniedError",
            "UnauthenticatedError",
        ):
            return RemoteAuthError(
                self.url,
                f"access denied to {action} in {where} (wrong credentials, or they lack "
                "permission); check the keys and the bucket policy",
            )
        if status_n >= 500 or code_s in ("SlowDown", "RequestTimeout", "ServiceUnavailable"):
            return RemoteUnavailableError(
                self.url, f"the server failed to {action} ({code_s or status_n}); try again later"
            )
        lowered = text.lower()
        if any(cut in lowered for cut in _CUT_OFF):
            return RemoteUnavailableError(
                self.url, f"the connection broke in the middle of the answer to {action}; try again"
            )
        if "dns error" in lowered or "failed to lookup address" in lowered:
            return RemoteUnavailableError(
                self.url, "the endpoint's host name does not resolve; check endpointurl"
            )
        if "kind: timeout" in lowered or "timed out" in lowered:
            return RemoteUnavailableError(
                self.url,
                f"the S3 endpoint did not answer in time to {action} (connect_timeout "
                f"{self.connect_timeout} s, read_timeout {self.read_timeout} s); check "
                "endpointurl and that the server is running",
            )
        if "error sending request" in lowered or "connection" in lowered or "timeout" in lowered:
            return RemoteUnavailableError(
                self.url,
                f"cannot reach the S3 endpoint to {action} (connection failed); check "
                "endpointurl and that the server is running",
            )
        return RemoteAccessError(
            self.url, f"cannot {action}: {scrub(first_line(text), self._secrets)}"
        )

    def _check_bucket(self) -> None:
        """One LIST before the first HEAD: HEAD cannot tell a missing bucket from a
        missing object, nor (with no body) wrong keys from a refused permission."""
        if self._checked:
            return
        failures = self._check_failed[0]
        with self._check_lock:
            if self._checked:
                return
            count, error = self._check_failed
            if count != failures and error is not None:
                # It failed while this thread waited: that is the answer, not
                # another wait for a stalled server, once per waiting thread.
                raise copy.copy(error)
            import obstore

            try:
                # A prefix no object has: the answer is one empty page (a
                # prefix with objects made moto send 1,000 keys: 160 ms).
                probe = self._key("files/md5/.bale-bucket-check")
                for _ in obstore.list(self._store, prefix=probe, chunk_size=1):
                    break
            except Exception as err:
                error = self._error(err, "list")
                self._check_failed = (count + 1, error)
                raise error from err
            self._checked = True

    # -- primitives ----------------------------------------------------------

    def local_path(self, relpath: str) -> str | None:
        return None

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        import obstore

        self._check_bucket()
        found: set[str] = set()
        for rel in relpaths:
            try:
                obstore.head(self._store, self._key(rel))
            except FileNotFoundError:
                continue
            except Exception as err:
                raise self._error(err, "check objects") from err
            found.add(rel)
        return found

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        for rel, _changed in self.iter_prefix_times(prefix):
            yield rel

    def iter_prefix_times(self, prefix: str) -> Iterator[tuple[str, float | None]]:
        import obstore

        key = self._key(prefix) + "/" if prefix else (self.prefix + "/" if self.prefix else "")
        try:
            for chunk in obstore.list(self._store, prefix=key, chunk_size=self.page_size):
                for meta in chunk:  # ListObjectsV2 gives each key's LastModified
                    changed = meta.get("last_modified")
                    yield self._rel(meta["path"]), changed.timestamp() if changed else None
        except Exception as err:
            raise self._error(err, "list") from err

    def stat(self, relpath: str) -> FileStat:
        import obstore

        self._check_bucket()
        try:
            meta = obstore.head(self._store, self._key(relpath))
        except FileNotFoundError as err:
            raise FileNotFoundError(relpath) from err
        except Exception as err:
            raise self._error(err, "read") from err
        return _file_stat(relpath, meta)

    def walk(self, prefix: str, *, versions: bool = False) -> Iterator[FileStat]:
        import obstore

        self._check_bucket()
        key = self._key(prefix) + "/" if prefix else (self.prefix + "/" if self.prefix else "")
        try:
            pages = list(obstore.list(self._store, prefix=key, chunk_size=self.page_size))
        except Exception as err:
            raise self._error(err, "list") from err
        for meta in (meta for page in pages for meta in page):
            if meta["path"].endswith("/"):
                continue  # a folder marker some tools write, not a file
            rel = meta["path"][len(key) :]
            if not versions:
                yield _file_stat(rel, meta)
                continue
            # A listing names no versions; one HEAD gives all three of one version.
            try:
                yield self.stat(f"{prefix}/{rel}" if prefix else rel)._replace(relpath=rel)
            except FileNotFoundError:
                continue  # deleted since it was listed

    def put_file(self, local_path: str, relpath: str) -> None:
        import obstore

        with open(local_path, "rb") as fobj:
            size = fobj.seek(0, 2)
            fobj.seek(0)
            if size < SMALL:
                body = fobj.read()
        try:
            if size < SMALL:
                obstore.put(self._store, self._key(relpath), body, use_multipart=False)
                return
            # A multipart upload becomes visible only when completed; parts in
            # flight are buffered, so only a few large files go at once.
            if not self._unmapped:
                _unmap_part_buffers()
                self._unmapped = True
            with self._large:
                obstore.put(
                    self._store,
                    self._key(relpath),
                    Path(local_path),
                    use_multipart=True,
                    chunk_size=PART,
                    max_concurrency=PART_CONCURRENCY,
                )
        except Exception as err:
            raise self._error(err, "upload") from err

    def get_file(self, relpath: str, local_path: str, *, version_id: str | None = None) -> str:
        import obstore

        hasher = hashlib.md5(usedforsecurity=False)
        options: dict[str, Any] = {} if version_id is None else {"version": version_id}
        try:
            resp = obstore.get(self._store, self._key(relpath), options=options)
            with open(local_path, "xb") as fobj:
                if resp.meta["size"] < SMALL:
                    data = resp.bytes()
                    hasher.update(data)
                    fobj.write(data)
                else:
                    for chunk in resp.stream(min_chunk_size=1 << 20):
                        hasher.update(chunk)
                        fobj.write(chunk)
            return hasher.hexdigest()
        except FileNotFoundError as err:
            if "NoSuchBucket" in str(err):
                raise self._error(err, "download") from err
            raise FileNotFoundError(relpath) from err
        except OSError as err:
            if getattr(err, "filename", None) == local_path:
                raise
            raise self._error(err, "download") from err
        except Exception as err:
            raise self._error(err, "download") from err

    def read_chunks(
        self, relpath: str, *, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        import obstore

        self._check_bucket()
        key = self._key(relpath)
        try:
            if end is not None and end <= start:
                obstore.head(self._store, key)  # nothing to read, but it must exist
                return
            options: dict[str, Any] = {}
            if end is not None:
                options["range"] = (start, end)
            elif start:
                options["range"] = {"offset": start}
            try:
                resp = obstore.get(self._store, key, options=options)
            except Exception as err:
                if _unsatisfiable(err):
                    return  # the range starts at or past the end: there is nothing there
                raise
            for chunk in resp.stream(min_chunk_size=READ_CHUNK):
                if len(chunk) <= READ_CHUNK:
                    yield bytes(chunk)
                    continue
                view = memoryview(chunk)
                for at in range(0, len(view), READ_CHUNK):
                    yield view[at : at + READ_CHUNK].tobytes()
        except FileNotFoundError as err:
            if "NoSuchBucket" in str(err):
                raise self._error(err, "read") from err
            raise FileNotFoundError(relpath) from err
        except Exception as err:
            raise self._error(err, "read") from err

    def remove_many(self, relpaths: Sequence[str]) -> None:
        import obstore

        keys = [self._key(rel) for rel in relpaths]
        try:
            for start in range(0, len(keys), 1000):
                obstore.delete(self._store, keys[start : start + 1000])
        except FileNotFoundError:
            return
        except Exception as err:
            raise self._error(err, "delete") from err

    def close(self) -> None:
        self._store = None


def _unsatisfiable(err: Exception) -> bool:
    """S3's 416 InvalidRange: a range that starts at or past the object's end."""
    text = str(err)
    return "<Code>InvalidRange</Code>" in text or "status code: 416" in text


def _file_stat(relpath: str, meta: Mapping[str, Any]) -> FileStat:
    """What dvc records of an S3 object: its etag without the quotes S3 sends."""
    etag = meta.get("e_tag")
    return FileStat(relpath, meta["size"], etag.strip('"') if etag else None, meta.get("version"))
