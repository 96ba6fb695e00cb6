"""A person reads these: one line, what and where and the fix, never a secret."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bale.errors import (
    RemoteAuthError,
    RemoteConfigError,
    RemoteNotFoundError,
    RemoteUnavailableError,
)
from bale.odb.store import ObjectStore
from bale.remotes import open_remote, transfer
from bale.remotes.s3 import S3Backend
from bale.remotes.ssh import SSHBackend
from tests.fixtures.servers import AzureServer, GCSServer, S3Server, SFTPServer
from tests.remotes.conftest import make_objects


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line(err: BaseException, *, secrets: tuple[str, ...] = ()) -> str:
    message = str(err)
    assert "\n" not in message and message.startswith("remote ")
    for secret in secrets:
        assert secret not in message
    return message


def test_s3_wrong_secret(s3_server: S3Server, cache: ObjectStore) -> None:
    items = make_objects(cache, 3)
    secret = "wrong-secret-value-1234"
    backend = open_remote(
        f"s3://{s3_server.new_bucket()}/x", s3_server.options(secret_access_key=secret)
    )
    with pytest.raises(RemoteAuthError) as info:
        transfer.push(cache, backend, items)
    message = one_line(info.value, secrets=(secret,))
    assert "credentials" in message or "access denied" in message


def test_s3_unknown_access_key(s3_server: S3Server, cache: ObjectStore, tmp_path: Path) -> None:
    backend = open_remote(
        f"s3://{s3_server.new_bucket()}/x",
        s3_server.options(access_key_id="AKIANOSUCHKEY0000000", secret_access_key="nope-secret"),
    )
    with pytest.raises(RemoteAuthError) as info:
        transfer.fetch(cache, backend, [("a" * 32, False)])
    one_line(info.value, secrets=("nope-secret",))


def test_s3_permission_denied(s3_server: S3Server, cache: ObjectStore) -> None:
    items = make_objects(cache, 2)
    backend = open_remote(
        f"s3://{s3_server.new_bucket()}/x",
        s3_server.options(
            access_key_id=s3_server.read_access_key_id,
            secret_access_key=s3_server.read_secret_access_key,
        ),
    )
    with pytest.raises(RemoteAuthError) as info:
        transfer.push(cache, backend, items)
    message = one_line(info.value, secrets=(s3_server.read_secret_access_key,))
    assert "denied" in message


def test_s3_unknown_bucket(s3_server: S3Server, cache: ObjectStore) -> None:
    backend = open_remote("s3://no-such-bucket-here/x", s3_server.options())
    for call in (
        lambda: transfer.push(cache, backend, make_objects(cache, 2)),
        lambda: transfer.present(backend, [("b" * 32, False)]),
        lambda: transfer.fetch(cache, backend, [("b" * 32, False)]),
    ):
        with pytest.raises(RemoteNotFoundError) as info:
            call()
        assert "no-such-bucket-here" in one_line(info.value)


def test_s3_unreachable_endpoint(cache: ObjectStore) -> None:
    port = free_port()
    backend = open_remote(
        "s3://bucket/x",
        {
            "endpointurl": f"http://127.0.0.1:{port}",
            "access_key_id": "k",
            "secret_access_key": "secret-not-shown",
        },
    )
    with pytest.raises(RemoteUnavailableError) as info:
        transfer.present(backend, [("c" * 32, False)])
    message = one_line(info.value, secrets=("secret-not-shown",))
    assert "endpointurl" in message


def test_s3_no_credentials_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(RemoteAuthError) as info:
        open_remote("s3://bucket/x", {"endpointurl": "http://127.0.0.1:1"})
    assert "access_key_id" in one_line(info.value)


def test_s3_credentials_from_profile(
    s3_server: S3Server, cache: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`profile` and `credentialpath` are read the way AWS's own tools read them."""
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[team]\naws_access_key_id = {s3_server.access_key_id}\n"
        f"aws_secret_access_key = {s3_server.secret_access_key}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    backend = open_remote(
        f"s3://{s3_server.new_bucket()}/p",
        {
            "endpointurl": s3_server.endpoint_url,
            "profile": "team",
            "credentialpath": str(creds),
        },
    )
    items = make_objects(cache, 2)
    assert len(transfer.push(cache, backend, items).transferred) == 2
    with pytest.raises(RemoteConfigError) as info:
        open_remote("s3://b/p", {"profile": "nobody", "credentialpath": str(creds)})
    assert "nobody" in one_line(info.value)


def test_sftp_wrong_password(sftp_server: SFTPServer, cache: ObjectStore) -> None:
    backend = open_remote(sftp_server.url("/x"), {"password": "not-the-password"})
    try:
        with pytest.raises(RemoteAuthError) as info:
            transfer.push(cache, backend, make_objects(cache, 1))
        one_line(info.value, secrets=("not-the-password",))
    finally:
        backend.close()


def test_sftp_password_login(sftp_server: SFTPServer, cache: ObjectStore) -> None:
    url = f"ssh://{sftp_server.user}:{sftp_server.password}@127.0.0.1:{sftp_server.port}/pw"
    backend = open_remote(url, {})
    try:
        assert sftp_server.password not in backend.url
        assert len(transfer.push(cache, backend, make_objects(cache, 2)).transferred) == 2
    finally:
        backend.close()


def test_sftp_unreachable_host(cache: ObjectStore) -> None:
    backend = open_remote(f"ssh://someone@127.0.0.1:{free_port()}/x", {"password": "pw-secret"})
    try:
        with pytest.raises(RemoteUnavailableError) as info:
            transfer.present(backend, [("d" * 32, False)])
        assert "refused" in one_line(info.value, secrets=("pw-secret",))
    finally:
        backend.close()


def test_gcs_unknown_bucket(gcs_server: GCSServer, cache: ObjectStore) -> None:
    """An object in a bucket that does not exist is not "missing": the bucket is."""
    backend = open_remote("gs://no-such-bucket-here/x", gcs_server.options())
    for call in (
        lambda: transfer.push(cache, backend, make_objects(cache, 2)),
        lambda: transfer.present(backend, [("b" * 32, False)]),
        lambda: transfer.fetch(cache, backend, [("b" * 32, False)]),
    ):
        with pytest.raises(RemoteNotFoundError) as info:
            call()
        assert "bucket 'no-such-bucket-here' does not exist" in one_line(info.value)


def test_azure_unknown_container(azure_server: AzureServer, cache: ObjectStore) -> None:
    backend = open_remote("azure://no-such-container/x", azure_server.options())
    for call in (
        lambda: transfer.push(cache, backend, make_objects(cache, 2)),
        lambda: transfer.present(backend, [("b" * 32, False)]),
        lambda: transfer.fetch(cache, backend, [("b" * 32, False)]),
    ):
        with pytest.raises(RemoteNotFoundError) as info:
            call()
        message = one_line(info.value, secrets=(azure_server.connection_string,))
        assert "container 'no-such-container' does not exist" in message


def test_azure_wrong_key(azure_server: AzureServer, cache: ObjectStore) -> None:
    wrong = azure_server.connection_string.replace("AccountKey=Eby8", "AccountKey=Xby8")
    backend = open_remote(azure_server.url(azure_server.new_bucket()), {"connection_string": wrong})
    with pytest.raises(RemoteAuthError) as info:
        transfer.push(cache, backend, make_objects(cache, 2))
    message = one_line(info.value, secrets=(wrong, "Xby8vdM02"))
    assert "access denied" in message and "connection string" in message


@pytest.mark.parametrize("kind", ["gs", "azure"])
def test_cloud_unreachable_endpoint(kind: str, cache: ObjectStore) -> None:
    """Refused at once, and retried only by the engine (not by the client too)."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    if kind == "gs":
        url, options = "gs://bucket/x", {"endpointurl": endpoint, "allow_anonymous_login": "true"}
    else:
        url, options = (
            "azure://bucket/x",
            {
                "connection_string": "DefaultEndpointsProtocol=http;AccountName=acct;"
                f"AccountKey=c2VjcmV0LWtleQ==;BlobEndpoint={endpoint}/acct;"
            },
        )
    backend = open_remote(url, options)
    with pytest.raises(RemoteUnavailableError) as info:
        transfer.present(backend, [("c" * 32, False)])
    message = one_line(info.value, secrets=("c2VjcmV0LWtleQ==",))
    assert "cannot reach the remote" in message and "server is running" in message


def test_read_chunks_fails_as_the_other_reads_do(
    s3_server: S3Server, gcs_server: GCSServer, azure_server: AzureServer
) -> None:
    """A missing bucket, refused keys or a dead endpoint is the backend's error
    from the first next(), never "no such file"."""
    dead = f"http://127.0.0.1:{free_port()}"
    cases = [
        (open_remote("s3://no-such-bucket-here/x", s3_server.options()), RemoteNotFoundError),
        (open_remote("gs://no-such-bucket-here/x", gcs_server.options()), RemoteNotFoundError),
        (open_remote("azure://no-such-container/x", azure_server.options()), RemoteNotFoundError),
        (
            open_remote(
                f"s3://{s3_server.new_bucket()}/x",
                s3_server.options(secret_access_key="wrong-secret-value-1234"),
            ),
            RemoteAuthError,
        ),
        (open_remote("s3://bucket/x", {"endpointurl": dead, **S3_KEYS}), RemoteUnavailableError),
        (
            open_remote(f"ssh://bale@127.0.0.1:{free_port()}/x", {"timeout": "5"}),
            RemoteUnavailableError,
        ),
    ]
    for backend, error in cases:
        try:
            with pytest.raises(error) as info:
                next(backend.read_chunks("a.txt", start=3, end=9))
            one_line(info.value, secrets=("wrong-secret-value-1234", "secret-not-shown"))
        finally:
            backend.close()


S3_KEYS = {"access_key_id": "key", "secret_access_key": "secret-not-shown"}


@pytest.mark.parametrize(
    ("url", "options", "fragment"),
    [
        ("s3://b/x", {"endpointurl": "http://127.0.0.1:abc"}, "option 'endpointurl'"),
        ("s3://b/x", {"endpointurl": "http://127.0.0.1:99999"}, "option 'endpointurl'"),
        ("s3://b/x", {"endpointurl": "not a url"}, "option 'endpointurl'"),
        ("s3://b/x", {"endpointurl": "http://[::1"}, "option 'endpointurl'"),
        ("s3://b/x", {"region": "eu west"}, "option 'region'"),
        ("s3://b/x", {"access_key_id": "key\x01"}, "option 'access_key_id'"),
        ("s3://b/x", {"connect_timeout": "soon"}, "option 'connect_timeout'"),
        ("s3://a bucket/x", {}, "not a bucket name"),
    ],
)
def test_s3_backend_refuses_values_its_client_would_panic_on(
    url: str, options: dict[str, str], fragment: str
) -> None:
    """Whatever reaches the backend (not only through open_remote's checks),
    obstore never gets a value it panics on when building a request."""
    with pytest.raises(RemoteConfigError) as info:
        S3Backend(url, {**S3_KEYS, "endpointurl": "http://127.0.0.1:9", **options})
    message = one_line(info.value, secrets=("secret-not-shown",))
    assert fragment in message


@pytest.mark.parametrize(
    ("url", "options", "fragment"),
    [
        ("ssh://host:abc/p", {}, "the port in the URL"),
        ("ssh://host:99999/p", {}, "the port in the URL"),
        ("ssh://host/p", {"port": "abc"}, "option 'port'"),
        ("ssh://host/p", {"port": "99999"}, "option 'port'"),
        ("ssh://[::1/p", {}, "ssh://user@host:port/path"),
    ],
)
def test_ssh_backend_refuses_bad_ports(url: str, options: dict[str, str], fragment: str) -> None:
    with pytest.raises(RemoteConfigError) as info:
        SSHBackend(url, options)
    message = one_line(info.value)
    assert fragment in message
    assert "65535" in message or "ssh://" in message


@pytest.mark.parametrize(
    ("section", "option"),
    [
        ("url = s3://bucket/x\nendpointurl = http://127.0.0.1:abc", "endpointurl"),
        ("url = s3://bucket/x\nendpointurl = not a url", "endpointurl"),
        ("url = ssh://someone@host:abc/x", "port"),
        ("url = ssh://someone@host/x\nport = 99999", "port"),
        ("url = s3://bucket/x\njobs = many", "jobs"),
        ("url = /tmp/store\njobs = 0", "jobs"),
    ],
)
def test_push_with_a_bad_remote_value_prints_one_line(
    repo: Path, bale, section: str, option: str
) -> None:
    """Written by hand into .dvc/config: an error naming the value, no panic or traceback."""
    (repo / "data.txt").write_text("data\n")
    bale("add", "data.txt", cwd=repo)
    config = repo / ".dvc" / "config"
    config.write_text(
        config.read_text()
        + "[core]\n    remote = storage\n['remote \"storage\"']\n"
        + "".join(f"    {line}\n" for line in section.splitlines())
    )
    (repo / ".dvc" / "config.local").write_text(
        "['remote \"storage\"']\n    access_key_id = key\n    secret_access_key = s3cr3t-value\n"
        if "s3://" in section
        else ""
    )
    proc = bale("push", cwd=repo, ok=False)
    assert proc.returncode == 1, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("ERROR: ") and "s3cr3t-value" not in line
    assert option in line


def test_the_jobs_option_sets_how_many_transfers_run_at_once(tmp_path: Path) -> None:
    """dvc's `remote.NAME.jobs`: the remote's default, which `-j` overrides."""
    assert open_remote(str(tmp_path), {"jobs": "3"}).default_jobs == 3
    assert open_remote(str(tmp_path), {}).default_jobs >= 1


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://host/path", "unknown URL scheme 'ftp://'"),
        ("hdfs://namenode/path", "not supported by bale yet"),
        ("s3://", "s3://bucket/path"),
    ],
)
def test_bad_urls(url: str, fragment: str) -> None:
    with pytest.raises(RemoteConfigError) as info:
        open_remote(url, {"access_key_id": "k", "secret_access_key": "s"})
    assert fragment in one_line(info.value)


def test_unknown_and_unsupported_options() -> None:
    with pytest.raises(RemoteConfigError) as info:
        open_remote("s3://b/p", {"endpoint_url": "http://x", "access_key_id": "k"})
    assert "'endpoint_url'" in one_line(info.value)
    with pytest.raises(RemoteConfigError) as info:
        open_remote("s3://b/p", {"acl": "public-read"})
    assert "'acl'" in one_line(info.value)
    with pytest.raises(RemoteConfigError):
        open_remote("/tmp/x", {"jobs": "4", "region": "eu-west-1"})
    with pytest.raises(RemoteConfigError) as info:
        open_remote("ssh://h/x", {"ask_password": "true"})
    assert "password" in one_line(info.value)


def test_missing_extra_names_the_install() -> None:
    """With the S3 client absent, the error names the pip install to run."""
    code = (
        "import sys; sys.modules['obstore'] = None; sys.modules['obstore.store'] = None\n"
        "from bale.remotes import open_remote\n"
        "try:\n"
        "    open_remote('s3://b/p', {'access_key_id': 'k', 'secret_access_key': 's'})\n"
        "except Exception as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "RemoteConfigError" in out.stdout and "pip install 'bale[s3]'" in out.stdout


def test_import_is_light() -> None:
    """`import bale.remotes` loads no client library (start-up time)."""
    code = (
        "import sys, bale.remotes, bale.remotes.transfer\n"
        "heavy = [m for m in ('obstore', 'asyncssh', 'fsspec', 'botocore', 'boto3') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
