"""SSH remotes (`ssh://user@host:port/path`), over SFTP with asyncssh.

asyncssh directly rather than through sshfs: the engine needs POSIX rename
(upload to a temporary name, then rename, so a killed upload never leaves a
short object under its name), SFTP status codes for its error table, and one
connection shared by the engine's threads. One event loop thread per backend
runs every request; SFTP pipelines them on one channel.

Time is bounded by DVC's `timeout` option: connecting (TCP, banner, key
exchange, login) must finish within it, and a connection that goes silent is
dropped after KEEPALIVE_COUNT keepalives `timeout` apart, so the engine's
retries reconnect instead of waiting on a stalled server for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import threading
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from bale.errors import (
    RemoteAccessError,
    RemoteAuthError,
    RemoteConfigError,
    RemoteNotFoundError,
    RemoteUnavailableError,
)
from bale.fsutil import left_by_dead_process, tmp_name
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

T = TypeVar("T")
OPTIONS = {
    "user",
    "port",
    "keyfile",
    "password",
    "passphrase",
    "timeout",
    "gss_auth",
    "allow_agent",
    "ask_password",
    "ask_passphrase",
    "max_sessions",
}
INSTALL_HINT = "the SSH client is not installed; run: pip install 'bale[ssh]'"
TIMEOUT = 30  # seconds, unless the remote's `timeout` says otherwise (DVC's default too)
KEEPALIVE_COUNT = 2  # keepalives unanswered before a silent connection is dropped
# Fast ciphers first and no compression, as DVC sets them (asyncssh issue 374).
CIPHERS = ["aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"]


class SSHBackend:
    """Objects under a folder on an SFTP server."""

    list_cost = 1.0  # one READDIR round trip per ~100 names, like one STAT
    local = False
    name_cost = 0.01
    page_size = 100
    checksum_name = "md5"  # SFTP has no checksums: dvc hashes the content
    versioned_reads = False
    # Uploads are written in the root and renamed into place (`put_file`):
    # gc -c looks there for what killed uploads of other hosts left.
    uploads_from_root = True

    def __init__(self, url: str, options: Mapping[str, object]) -> None:
        self.url = display_url(url)
        check_options(self.url, "ssh", options, OPTIONS)
        try:
            import asyncssh
        except ImportError as err:
            raise RemoteConfigError(self.url, INSTALL_HINT) from err
        self._asyncssh = asyncssh
        opt = {k: str(v) for k, v in options.items() if v is not None and v != ""}
        for ask in ("ask_password", "ask_passphrase"):
            if parse_bool(self.url, ask, opt.get(ask), False):
                raise RemoteConfigError(
                    self.url,
                    f"'{ask}' needs a terminal prompt, which bale's engine does not do; "
                    f"set {ask[4:]} with bale remote modify --local, or use a key or agent",
                )
        parts, url_port = self._split(url)
        self.host = parts.hostname or ""
        self.root = unquote(parts.path).rstrip("/") or "/"
        port = _port(self.url, "option 'port'", opt.get("port")) or url_port or 22
        self.timeout = parse_int(self.url, "timeout", opt.get("timeout")) or TIMEOUT
        self._secrets = [opt.get("password"), opt.get("passphrase"), parts.password]
        connect: dict[str, Any] = {
            "host": self.host,
            "port": port,
            "username": opt.get("user") or parts.username or None,
            "password": opt.get("password") or parts.password or None,
            "passphrase": opt.get("passphrase"),
            "gss_auth": parse_bool(self.url, "gss_auth", opt.get("gss_auth"), False),
            "encryption_algs": CIPHERS,
            "compression_algs": None,
            "known_hosts": self._known_hosts(self.host, port),
            "connect_timeout": self.timeout,
            "keepalive_interval": self.timeout,
            "keepalive_count_max": KEEPALIVE_COUNT,
        }
        if connect["username"] is None:
            del connect["username"]
        if opt.get("keyfile"):
            keyfile = os.path.expanduser(opt["keyfile"])
            if not os.path.isfile(keyfile):
                raise RemoteConfigError(
                    self.url,
                    f"keyfile '{keyfile}' does not exist; fix the remote's keyfile "
                    "option (bale remote modify --local NAME keyfile PATH)",
                )
            connect["client_keys"] = [keyfile]
        if not parse_bool(self.url, "allow_agent", opt.get("allow_agent"), True):
            connect["agent_path"] = None
        preferred = []
        if connect.get("client_keys") or opt.get("passphrase"):
            preferred.append("publickey")
        if connect.get("password"):
            preferred += ["keyboard-interactive", "password"]
        if preferred:
            connect["preferred_auth"] = preferred
        self._connect_args = connect
        self.default_jobs = cpu_jobs(4, low=8, high=32)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._sftp: Any = None
        self._connecting: asyncio.Lock | None = None
        self._connect_failed: tuple[int, BaseException | None] = (0, None)
        self._lock = threading.Lock()
        self._made_dirs: set[str] = set()
        self._swept = False

    def _split(self, url: str) -> tuple[Any, int | None]:
        """urlsplit's parts and the URL's port, or a RemoteConfigError (urlsplit
        raises ValueError on a bad port or IPv6 host, and only when asked)."""
        example = "an SSH URL looks like ssh://user@host:port/path"
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError as err:
            raise RemoteConfigError(self.url, f"{first_line(str(err))}; {example}") from err
        if not hostname:
            raise RemoteConfigError(self.url, example)
        host_port = parts.netloc.rpartition("@")[2]
        if host_port.startswith("["):
            host_port = host_port.partition("]")[2]
        raw = host_port.rpartition(":")[2] if ":" in host_port else None
        return parts, _port(self.url, "the port in the URL", raw)

    @staticmethod
    def _known_hosts(host: str, port: int) -> str | None:
        """Check the host key when ~/.ssh/known_hosts lists the host; like DVC,
        accept an unlisted host rather than fail."""
        import asyncssh

        path = os.path.expanduser("~/.ssh/known_hosts")
        if not os.path.exists(path):
            return None
        try:
            keys = asyncssh.read_known_hosts(path).match(host, "", port)
        except (OSError, ValueError):
            return None
        return path if any(keys[:3]) else None

    # -- the event loop --------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], action: str) -> T:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(target=loop.run_forever, name="bale-ssh", daemon=True)
                    thread.start()
                    self._thread, self._loop = thread, loop
        try:
            return asyncio.run_coroutine_threadsafe(coro, self._loop).result()
        except RemoteAccessError:
            raise
        except FileNotFoundError:
            raise
        except Exception as err:
            raise self._error(err, action) from err

    async def _client(self) -> Any:
        if self._sftp is None:
            # Every coroutine runs on the one loop thread, so a lazy lock is safe.
            if self._connecting is None:
                self._connecting = asyncio.Lock()
            failures = self._connect_failed[0]
            async with self._connecting:
                if self._sftp is None:
                    count, error = self._connect_failed
                    if count != failures and error is not None:
                        # It failed while this request waited: that is the
                        # answer, not one more `timeout` per waiting request.
                        raise copy.copy(error)
                    try:
                        conn = await self._asyncssh.connect(**self._connect_args)
                        self._conn = conn
                        self._sftp = await conn.start_sftp_client()
                    except Exception as err:
                        self._connect_failed = (count + 1, self._error(err, "connect"))
                        raise
        return self._sftp

    async def _reset(self) -> None:
        # A broken connection is dropped so the engine's retry reconnects.
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()

    # -- errors ----------------------------------------------------------------

    def _error(self, err: BaseException, action: str) -> RemoteAccessError:
        ssh = self._asyncssh
        text = scrub(first_line(str(err) or type(err).__name__), self._secrets)
        if isinstance(err, ssh.SFTPError):
            if err.code == ssh.FX_PERMISSION_DENIED:
                return RemoteAuthError(
                    self.url,
                    f"permission denied to {action} on the server; check the folder's "
                    "owner and mode",
                )
            if err.code == ssh.FX_NO_SUCH_FILE:
                return RemoteNotFoundError(
                    self.url,
                    f"folder '{self.root}' does not exist on the server; create it "
                    "or fix the remote's url",
                )
            if err.code in (ssh.FX_CONNECTION_LOST, ssh.FX_NO_CONNECTION):
                self._drop()
                return RemoteUnavailableError(self.url, "the SSH connection was lost")
            return RemoteAccessError(self.url, f"cannot {action}: {text}")
        if isinstance(err, ssh.PermissionDenied):
            self._drop()
            return RemoteAuthError(
                self.url,
                "the server refused the login; check user, keyfile or password "
                "(bale remote modify --local), or your SSH agent",
            )
        if isinstance(err, ssh.HostKeyNotVerifiable):
            self._drop()
            return RemoteAuthError(
                self.url,
                "the server's host key does not match ~/.ssh/known_hosts; "
                "if the server was reinstalled, update known_hosts",
            )
        if isinstance(err, ssh.KeyImportError | ssh.KeyEncryptionError):
            return RemoteConfigError(self.url, f"cannot read the keyfile: {text}")
        if isinstance(err, ssh.DisconnectError | ssh.ChannelOpenError | ConnectionError):
            self._drop()
            if isinstance(err, ConnectionRefusedError):
                problem = f"connection to {self.host} refused; check host and port"
            else:
                problem = f"the SSH connection failed ({text})"
            return RemoteUnavailableError(self.url, problem)
        if isinstance(err, TimeoutError | asyncio.TimeoutError):
            self._drop()
            return RemoteUnavailableError(
                self.url,
                f"{self.host} did not answer within {self.timeout} s (the remote's timeout "
                "option); check host and port, and that the SSH server is running",
            )
        if isinstance(err, OSError) and re.search(r"name|address|resolve", text, re.I):
            return RemoteUnavailableError(
                self.url, f"host '{self.host}' not found; check the remote's url"
            )
        if isinstance(err, OSError):
            self._drop()
            return RemoteUnavailableError(self.url, f"cannot reach {self.host}: {text}")
        return RemoteAccessError(self.url, f"cannot {action}: {text}")

    def _drop(self) -> None:
        if self._loop is not None and self._conn is not None:
            asyncio.run_coroutine_threadsafe(self._reset(), self._loop)

    # -- primitives ------------------------------------------------------------

    def _path(self, relpath: str) -> str:
        return f"{self.root.rstrip('/')}/{relpath}" if relpath else self.root

    def local_path(self, relpath: str) -> str | None:
        return None

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        async def check() -> set[str]:
            sftp = await self._client()

            async def one(rel: str) -> str | None:
                try:
                    await sftp.stat(self._path(rel))
                except self._asyncssh.SFTPNoSuchFile:
                    return None
                return rel

            results = await asyncio.gather(*(one(rel) for rel in relpaths))
            return {rel for rel in results if rel is not None}

        return self._run(check(), "check objects")

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        for rel, _changed in self.iter_prefix_times(prefix):
            yield rel

    def iter_prefix_times(self, prefix: str) -> Iterator[tuple[str, float | None]]:
        async def listing() -> list[tuple[str, float | None]]:
            sftp = await self._client()
            try:
                entries = await sftp.readdir(self._path(prefix))
            except self._asyncssh.SFTPNoSuchFile:
                return []
            return [
                (e.filename, e.attrs.mtime)  # READDIR's attributes: no stat per file
                for e in entries
                if e.filename not in (".", "..")
                and e.attrs.type == self._asyncssh.FILEXFER_TYPE_REGULAR
            ]

        for name, changed in self._run(listing(), "list"):
            yield (f"{prefix}/{name}" if prefix else name), changed

    def stat(self, relpath: str) -> FileStat:
        async def info() -> FileStat:
            sftp = await self._client()
            try:
                attrs = await sftp.stat(self._path(relpath))
            except self._asyncssh.SFTPNoSuchFile as err:
                raise FileNotFoundError(relpath) from err
            if attrs.type != self._asyncssh.FILEXFER_TYPE_REGULAR:
                raise FileNotFoundError(relpath)
            return FileStat(relpath, attrs.size)

        return self._run(info(), "read")

    def walk(self, prefix: str, *, versions: bool = False) -> Iterator[FileStat]:
        if versions:
            raise no_versions(self.url, "ssh")
        ssh = self._asyncssh

        async def listing() -> list[FileStat]:
            sftp = await self._client()
            found: list[FileStat] = []
            stack = [""]
            while stack:
                folder = stack.pop()
                path = self._path(f"{prefix}/{folder}" if folder else prefix)
                try:
                    entries = await sftp.readdir(path)
                except ssh.SFTPNoSuchFile:
                    if not folder:
                        return []  # no such folder: nothing under it
                    raise
                except ssh.SFTPNoSuchPath:
                    return []  # something on the way is not a folder
                for entry in entries:
                    if entry.filename in (".", ".."):
                        continue
                    rel = f"{folder}/{entry.filename}" if folder else entry.filename
                    if entry.attrs.type == ssh.FILEXFER_TYPE_DIRECTORY:
                        stack.append(rel)
                    elif entry.attrs.type == ssh.FILEXFER_TYPE_REGULAR:
                        found.append(FileStat(rel, entry.attrs.size))
            return found

        yield from self._run(listing(), "list")

    def put_file(self, local_path: str, relpath: str) -> None:
        dest = self._path(relpath)
        parent = dest.rsplit("/", 1)[0] or "/"

        async def upload() -> None:
            sftp = await self._client()
            if parent not in self._made_dirs:
                await sftp.makedirs(parent, exist_ok=True)
                self._made_dirs.add(parent)
            if not self._swept:
                self._swept = True
                await self._remove_dead_leftovers(sftp)
            # Written in the root and renamed into place: what a killed
            # upload leaves is found there by the next one.
            tmp = tmp_name(self._path("upload"))
            try:
                await sftp.put(local_path, tmp)
                # POSIX rename replaces atomically; plain SFTP rename refuses an
                # existing target, which here holds the same bytes anyway.
                try:
                    await sftp.posix_rename(tmp, dest)
                except self._asyncssh.SFTPOpUnsupported:
                    try:
                        await sftp.rename(tmp, dest)
                    except self._asyncssh.SFTPFailure:
                        await sftp.remove(tmp)
            except BaseException:
                # Best effort: the object never got its name; a leftover `.tmp`
                # is not an object and gc may remove it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(sftp.remove(tmp))
                raise

        self._run(upload(), "upload")

    async def _remove_dead_leftovers(self, sftp: Any) -> None:
        """Remove the root's temporary files whose uploading process (one of
        this host's: `fsutil.left_by_dead_process`) is gone."""
        try:
            names = await sftp.listdir(self.root)
        except self._asyncssh.SFTPError:
            return  # not there yet, or not readable: the upload will say
        for name in names:
            if name.endswith(".tmp") and left_by_dead_process(name):
                with contextlib.suppress(self._asyncssh.SFTPError):
                    await sftp.remove(self._path(name))

    def get_file(self, relpath: str, local_path: str, *, version_id: str | None = None) -> None:
        if version_id is not None:
            raise no_versions(self.url, "ssh")

        async def download() -> None:
            sftp = await self._client()
            try:
                await sftp.get(self._path(relpath), local_path)
            except self._asyncssh.SFTPNoSuchFile as err:
                raise FileNotFoundError(relpath) from err

        self._run(download(), "download")

    def read_chunks(
        self, relpath: str, *, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        ssh = self._asyncssh

        async def open_file() -> Any:
            sftp = await self._client()
            path = self._path(relpath)
            # Some servers open a folder (its reads fail then): the stat that
            # tells, sent with the open, costs no round trip of its own.
            attrs, fobj = await asyncio.gather(
                sftp.stat(path), sftp.open(path, "rb"), return_exceptions=True
            )
            regular = not isinstance(attrs, BaseException) and (
                attrs.type == ssh.FILEXFER_TYPE_REGULAR
            )
            if not isinstance(fobj, BaseException):
                if regular:
                    return fobj
                await fobj.close()
            if not isinstance(attrs, BaseException) and not regular:
                raise FileNotFoundError(relpath)  # a folder, or something else not a file
            error = fobj if isinstance(fobj, BaseException) else attrs
            if isinstance(error, ssh.SFTPNoSuchFile | ssh.SFTPNoSuchPath):
                raise FileNotFoundError(relpath) from error
            raise error

        fobj = self._run(open_file(), "read")
        loop = self._loop
        try:
            offset = start
            while end is None or offset < end:
                size = READ_CHUNK if end is None else min(READ_CHUNK, end - offset)
                # Each chunk is one parallel read on the loop thread, asked only
                # when the consumer wants it: nothing is buffered ahead.
                data = self._run(fobj.read(size, offset), "read")
                if not data:
                    return
                offset += len(data)
                yield data
        finally:
            # Also when the consumer stops early; not on a loop `close` has ended.
            if self._loop is loop:
                with contextlib.suppress(Exception):
                    self._run(fobj.close(), "read")

    def remove_many(self, relpaths: Sequence[str]) -> None:
        async def remove() -> None:
            sftp = await self._client()

            async def one(rel: str) -> None:
                try:
                    await sftp.remove(self._path(rel))
                except self._asyncssh.SFTPNoSuchFile:
                    return

            await asyncio.gather(*(one(rel) for rel in relpaths))

        self._run(remove(), "delete")

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._reset(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()


def _port(url: str, what: str, value: object) -> int | None:
    """A port from 1 to 65535, or None when not given."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 65535):
        raise RemoteConfigError(
            url, f"{what} must be a number from 1 to 65535, not '{value}'; fix the remote's "
            "port (bale remote modify NAME port PORT) or url",
        )  # fmt: skip
    return int(text)
