"""Keys in the environment reach S3 without importing botocore, and mean what
botocore would make of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bale.errors import RemoteAuthError
from bale.remotes import open_remote
from bale.remotes.s3 import _env_credentials
from tests.fixtures.servers import S3Server

AWS_VARS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
)  # fmt: skip


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean AWS environment: no keys, no profile, config files that do not exist."""
    for name in AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return {"config": str(tmp_path / "no-config")}


def botocore_answer(opt: dict[str, str]) -> tuple[dict[str, str], str | None]:
    import botocore.session

    session = botocore.session.Session(profile=opt.get("profile"))
    if opt.get("configpath"):
        session.set_config_variable("config_file", opt["configpath"])
    frozen = session.get_credentials().get_frozen_credentials()
    keys = {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key}
    if frozen.token:
        keys["session_token"] = frozen.token
    return keys, session.get_config_variable("region")


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"},
        {
            "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "session", "AWS_DEFAULT_REGION": "eu-west-3",
        },
        {
            "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SECURITY_TOKEN": "older", "AWS_SESSION_TOKEN": "session",
        },
    ],
)  # fmt: skip
def test_environment_keys_are_what_botocore_finds(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    found = _env_credentials({})
    assert found is not None
    assert found == botocore_answer({})


def test_a_config_file_that_may_name_the_region_goes_to_botocore(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    Path(aws_env["config"]).write_text("[default]\nregion = ap-south-1\n")
    assert _env_credentials({}) is None
    assert botocore_answer({})[1] == "ap-south-1"
    # Named by the remote or the environment, the region needs no config file.
    assert _env_credentials({"region": "eu-north-1"}) is not None
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert _env_credentials({}) == botocore_answer({})


@pytest.mark.parametrize(
    ("env", "opt"),
    [
        ({"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"}, {"profile": "team"}),
        (
            {
                "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret",
                "AWS_CREDENTIAL_EXPIRATION": "2030-01-01T00:00:00Z",
            },
            {},
        ),
        ({"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_PROFILE": "x"}, {}),
        ({"AWS_ACCESS_KEY_ID": "id"}, {}),
        ({"AWS_SECRET_ACCESS_KEY": "secret"}, {}),
        ({}, {}),
    ],
)  # fmt: skip
def test_other_cases_go_to_botocore(
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    opt: dict[str, str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _env_credentials(opt) is None


def test_half_a_key_pair_is_named(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    with pytest.raises(RemoteAuthError) as info:
        open_remote("s3://bucket/x", {"endpointurl": "http://127.0.0.1:1"})
    assert "AWS_SECRET_ACCESS_KEY" in str(info.value)


def test_push_and_fetch_with_environment_keys_alone(
    s3_server: S3Server, aws_env: dict[str, str], tmp_path: Path
) -> None:
    """In a fresh process: the objects travel, and botocore is never imported."""
    script = (
        "import sys\n"
        "from bale.odb.store import ObjectStore\n"
        "from bale.remotes import open_remote, transfer\n"
        "up, down = ObjectStore(sys.argv[3]), ObjectStore(sys.argv[4])\n"
        "oid = up.add_file(sys.argv[5])\n"
        "backend = open_remote(sys.argv[1], {'endpointurl': sys.argv[2]})\n"
        "pushed = transfer.push(up, backend, [(oid, False)])\n"
        "fetched = transfer.fetch(down, backend, [(oid, False)])\n"
        "print(len(pushed.transferred), len(fetched.transferred), down.exists(oid),\n"
        "      'botocore' in sys.modules)\n"
    )
    data = tmp_path / "data.bin"
    data.write_bytes(b"keys from the environment\n")
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=s3_server.access_key_id,
        AWS_SECRET_ACCESS_KEY=s3_server.secret_access_key,
    )
    done = subprocess.run(
        [
            sys.executable, "-c", script, f"s3://{s3_server.new_bucket()}/env",
            s3_server.endpoint_url, str(tmp_path / "up"), str(tmp_path / "down"), str(data),
        ],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1", "True", "False"]
