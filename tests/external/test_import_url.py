"""import-url end to end, beside the real dvc on the same sources: a local
folder, moto's S3 server (a plain and a versioned bucket), SFTP and a local
HTTP server; each followed by a change at the source, status and update."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, cache_objects, read_tree, write_tree
from tests.fixtures.servers import S3Server, SFTPServer, start_http_server

pytestmark = pytest.mark.dvc

SOURCE = {"f.csv": "x,y\n", "dir/a.txt": "a\n", "dir/sub/b.txt": "b\n"}


def new_repo(root: Path, bale, git) -> Path:
    root.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", "-q", cwd=root)
    git("commit", "-qm", "init", cwd=root)
    return root


@pytest.fixture
def twins(tmp_path: Path, bale, git) -> tuple[Path, Path]:
    """Two empty repositories: bale works in the first, dvc in the second."""
    return new_repo(tmp_path / "ours", bale, git), new_repo(tmp_path / "theirs", bale, git)


def assert_same(ours: Path, theirs: Path, *names: str) -> None:
    for name in names:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def changed_deps(status: dict, dvcfile: str) -> dict[str, str]:
    """One file's `changed deps` in `status --json`, by the URL. (bale prints
    ' (URL)' until cli/data_cmds.py names them by `ImportCheck.dep`; see
    test_status_names_a_url_dependency_as_dvc_does.)"""
    groups = [g["changed deps"] for g in status.get(dvcfile, []) if "changed deps" in g]
    return {key.strip().strip("()"): state for group in groups for key, state in group.items()}


def status_of(bale, cwd: Path, **kw) -> dict:
    return json.loads(bale("status", "--json", cwd=cwd, **kw).stdout)


def test_local_sources_as_dvc_records_them_then_status_update_and_pull(
    tmp_path: Path, twins: tuple[Path, Path], bale, dvc
):
    ours, theirs = twins
    src = tmp_path / "ext"
    write_tree(src, SOURCE)
    for args in ([src / "f.csv"], [src / "dir"], ["--no-download", src / "dir", "later"]):
        bale("import-url", *args, cwd=ours)
        dvc("import-url", "-q", *args, cwd=theirs)
    assert_same(ours, theirs, "f.csv.dvc", "dir.dvc", "later.dvc", ".gitignore")
    assert read_tree(ours / "dir") == {"a.txt": b"a\n", "sub/b.txt": b"b\n"}
    assert not (ours / "later").exists()
    assert status_of(bale, ours) == {"later.dvc": [{"changed outs": {"later": "deleted"}}]}
    before = (ours / "dir.dvc").stat().st_mtime_ns
    assert "'dir' is up to date" in bale("update", "dir.dvc", cwd=ours).stdout
    assert (ours / "dir.dvc").stat().st_mtime_ns == before  # nothing written

    write_tree(src, {"f.csv": "x,y\n1,2\n", "dir/c.txt": "c\n"})
    status = status_of(bale, ours)
    assert changed_deps(status, "dir.dvc") == {str(src / "dir"): "modified"}
    assert changed_deps(status, "f.csv.dvc") == {str(src / "f.csv"): "modified"}
    assert "Updated 'dir'" in bale("update", "f.csv.dvc", "dir.dvc", cwd=ours).stdout
    dvc("update", "-q", "f.csv.dvc", "dir.dvc", cwd=theirs)
    assert_same(ours, theirs, "f.csv.dvc", "dir.dvc")
    assert (ours / "dir" / "c.txt").read_text() == "c\n"
    assert (ours / "f.csv").read_text() == "x,y\n1,2\n"

    # `later` recorded the folder before it changed: pull refuses to guess.
    assert_error(bale("pull", "later.dvc", cwd=ours, ok=False), "changed since", "bale update")
    bale("update", "--no-download", "later.dvc", cwd=ours)
    assert "A\tlater/" in bale("pull", "later.dvc", cwd=ours).stdout
    assert read_tree(ours / "later") == read_tree(src / "dir")
    assert status_of(bale, ours) == {}

    (src / "f.csv").unlink()
    assert changed_deps(status_of(bale, ours), "f.csv.dvc") == {str(src / "f.csv"): "deleted"}


def _s3_env(server: S3Server) -> dict[str, str]:
    return {**os.environ, "AWS_ACCESS_KEY_ID": server.access_key_id,
            "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
            "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip


def _s3_source(server: S3Server, *, versioned: bool) -> str:
    bucket = server.new_bucket()
    client = server.client()
    if versioned:
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key, data in SOURCE.items():
        client.put_object(Bucket=bucket, Key=f"data/{key}", Body=data.encode())
    return bucket


def test_s3_plain_and_versioned_buckets(
    tmp_path: Path, twins: tuple[Path, Path], bale, dvc, git, s3_server: S3Server
):
    ours, theirs = twins
    env = _s3_env(s3_server)
    plain = _s3_source(s3_server, versioned=False)
    versioned = _s3_source(s3_server, versioned=True)
    config = ["--fs-config", f"endpointurl={s3_server.endpoint_url}"]
    cases = {
        "f.csv": [f"s3://{plain}/data/f.csv"],
        "dir": [f"s3://{plain}/data/dir"],
        "vf.csv": ["--version-aware", f"s3://{versioned}/data/f.csv", "vf.csv"],
        "vdir": ["--version-aware", f"s3://{versioned}/data/dir", "vdir"],
    }
    for args in cases.values():
        bale("import-url", *args, *config, cwd=ours, env=env)
        dvc("import-url", "-q", *args, *config, cwd=theirs, env=env)
    dvcfiles = [f"{name}.dvc" for name in cases]
    assert_same(ours, theirs, *dvcfiles, ".gitignore")
    assert "version_id: " in (ours / "vdir.dvc").read_text()
    assert read_tree(ours / "vdir") == {"a.txt": b"a\n", "sub/b.txt": b"b\n"}
    git("add", "-A", cwd=ours)
    git("commit", "-qm", "imports", cwd=ours)

    client = s3_server.client()
    for bucket in (plain, versioned):
        client.put_object(Bucket=bucket, Key="data/f.csv", Body=b"x,y\n3,4\n")
        client.put_object(Bucket=bucket, Key="data/dir/a.txt", Body=b"a, again\n")
    status = status_of(bale, ours, env=env)
    expected = {"f.csv": "modified", "dir": "modified", "vf.csv": "update available",
                "vdir": "modified"}  # fmt: skip
    for name, state in expected.items():
        url = next(a for a in cases[name] if a.startswith("s3://"))
        assert changed_deps(status, f"{name}.dvc") == {url: state}, name
    theirs_status = json.loads(dvc("status", "--json", cwd=theirs, env=env).stdout)
    for name in ("vf.csv", "vdir"):  # dvc tells only versioned sources' changes
        assert changed_deps(theirs_status, f"{name}.dvc") == changed_deps(status, f"{name}.dvc")

    # A clone without a remote pulls the versions recorded, not the newest.
    clone = tmp_path / "clone"
    git("clone", "-q", str(ours), str(clone), cwd=tmp_path)
    bale("pull", "vf.csv.dvc", "vdir.dvc", cwd=clone, env=env)
    assert (clone / "vf.csv").read_text() == "x,y\n"
    assert (clone / "vdir" / "a.txt").read_text() == "a\n"

    bale("update", cwd=ours, env=env)
    dvc("update", "-q", *dvcfiles, cwd=theirs, env=env)
    assert_same(ours, theirs, *dvcfiles)
    assert (ours / "vdir" / "a.txt").read_text() == "a, again\n"
    assert (ours / "f.csv").read_text() == "x,y\n3,4\n"
    assert status_of(bale, ours, env=env) == {}


def test_remote_urls_read_a_remote_with_its_own_options(
    tmp_path: Path, twins: tuple[Path, Path], bale, dvc, git, s3_server: S3Server
):
    """`remote://NAME/PATH` as dvc reads it: under remote NAME's URL, with its
    options, keys from config.local (none in the environment), none recorded."""
    ours, theirs = twins
    folder = tmp_path / "folder-remote"
    write_tree(folder / "shared", SOURCE)
    bucket = _s3_source(s3_server, versioned=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for repo in twins:
        bale("remote", "add", "store", f"s3://{bucket}", cwd=repo)
        for key, value in s3_server.options().items():
            local = ["--local"] if key.endswith("key_id") or key.startswith("secret") else []
            bale("remote", "modify", *local, "store", key, value, cwd=repo)
        bale("remote", "add", "shelf", str(folder), cwd=repo)
    cases = [["remote://store/data/dir", "dir"], ["remote://shelf/shared/f.csv", "f.csv"]]
    for args in cases:
        bale("import-url", *args, cwd=ours, env=env)
        dvc("import-url", "-q", *args, cwd=theirs, env=env)
    assert_same(ours, theirs, "dir.dvc", "f.csv.dvc", ".gitignore")
    assert "path: remote://store/data/dir\n" in (ours / "dir.dvc").read_text()
    assert "fs_config" not in (ours / "dir.dvc").read_text()
    assert read_tree(ours / "dir") == {"a.txt": b"a\n", "sub/b.txt": b"b\n"}

    s3_server.client().put_object(Bucket=bucket, Key="data/dir/a.txt", Body=b"a, again\n")
    status = status_of(bale, ours, env=env)
    assert changed_deps(status, "dir.dvc") == {"remote://store/data/dir": "modified"}
    bale("update", cwd=ours, env=env)
    dvc("update", "-q", "dir.dvc", cwd=theirs, env=env)
    assert_same(ours, theirs, "dir.dvc")
    assert (ours / "dir" / "a.txt").read_text() == "a, again\n"

    assert_error(bale("import-url", "remote://nowhere/x", cwd=ours, ok=False, env=env),
                 "remote 'nowhere' does not exist")  # fmt: skip
    assert_error(bale("import-url", "remote://shelf/../x", "x", cwd=ours, ok=False, env=env),
                 "leaves its remote's folder")  # fmt: skip


def test_sftp_folder(tmp_path: Path, twins: tuple[Path, Path], bale, dvc, sftp_server: SFTPServer):
    ours, theirs = twins
    folder = sftp_server.root / tmp_path.name
    write_tree(folder, SOURCE)
    url = sftp_server.url(f"/{tmp_path.name}/dir")
    config = ["--fs-config", f"keyfile={sftp_server.keyfile}"]
    bale("import-url", url, *config, cwd=ours)
    dvc("import-url", "-q", url, *config, cwd=theirs)
    assert_same(ours, theirs, "dir.dvc", ".gitignore")
    assert status_of(bale, ours) == {}

    write_tree(folder, {"dir/sub/b.txt": "b, changed\n"})
    assert changed_deps(status_of(bale, ours), "dir.dvc") == {url: "modified"}
    bale("update", cwd=ours)
    dvc("update", "-q", "dir.dvc", cwd=theirs)
    assert_same(ours, theirs, "dir.dvc")
    assert (ours / "dir" / "sub" / "b.txt").read_text() == "b, changed\n"
    assert "'dir' is up to date" in bale("update", cwd=ours).stdout


def test_http_file_and_a_server_that_went_away(tmp_path: Path, twins: tuple[Path, Path], bale, dvc):
    ours, theirs = twins
    site = tmp_path / "site"
    write_tree(site, SOURCE)
    server = start_http_server(site)
    try:
        url = f"{server.url}/f.csv"
        bale("import-url", url, cwd=ours)
        dvc("import-url", "-q", url, cwd=theirs)
        assert_same(ours, theirs, "f.csv.dvc", ".gitignore")
        assert (ours / "f.csv").read_text() == "x,y\n"
        assert status_of(bale, ours) == {}

        write_tree(site, {"f.csv": "x,y\n5,6\n"})  # another size: another token
        assert changed_deps(status_of(bale, ours), "f.csv.dvc") == {url: "modified"}
        bale("update", cwd=ours)
        dvc("update", "-q", "f.csv.dvc", cwd=theirs)
        assert_same(ours, theirs, "f.csv.dvc")
        assert (ours / "f.csv").read_text() == "x,y\n5,6\n"
    finally:
        server.stop()
    proc = bale("status", cwd=ours)  # told, not failed
    assert "not checked:" in proc.stdout and url in proc.stdout


def test_to_remote_sends_the_data_past_the_cache(
    tmp_path: Path, twins: tuple[Path, Path], bale, dvc, git
):
    ours, theirs = twins
    src = tmp_path / "ext"
    write_tree(src, SOURCE)
    for root, store, tool in ((ours, "ours-store", bale), (theirs, "theirs-store", dvc)):
        tool("remote", "add", "-d", "storage", str(tmp_path / store), cwd=root)
    out = bale("import-url", "--to-remote", src / "dir", cwd=ours).stdout
    dvc("import-url", "-q", "--to-remote", src / "dir", cwd=theirs)
    assert "(3 files uploaded)" in out
    assert_same(ours, theirs, "dir.dvc", ".gitignore")
    assert cache_objects(ours) == {} and not (ours / "dir").exists()
    assert len(list((tmp_path / "ours-store").rglob("*.dir"))) == 1
    bale("pull", cwd=ours)
    assert read_tree(ours / "dir") == read_tree(src / "dir")


def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, twins: tuple[Path, Path], bale, git, s3_server: S3Server
):
    ours, _ = twins
    src = tmp_path / "ext"
    write_tree(src, SOURCE)
    write_tree(ours, {"taken.csv": "mine\n", "data/x.txt": "x\n"})
    bale("add", "-q", "data", cwd=ours)
    guard = Unchanged(ours)
    env = _s3_env(s3_server)
    plain = _s3_source(s3_server, versioned=False)
    endpoint = f"endpointurl={s3_server.endpoint_url}"
    cases = [
        (["hdfs://host/data"], "hdfs:// is not supported", 1),
        ([tmp_path / "nothing"], "does not exist", 1),
        ([f"s3://{plain}/data/nothing", "--fs-config", endpoint], "does not exist", 1),
        ([f"s3://{plain}/data/f.csv", "--fs-config", "endpointurl=http://127.0.0.1:1"],
         "cannot reach the S3 endpoint", 1),
        ([src / "f.csv", "taken.csv"], "'taken.csv' already exists", 1),
        ([src / "f.csv", "data/f.csv"], "overlaps 'data'", 1),
        ([src / "f.csv", ".git/f.csv"], "repository metadata", 1),
        ([src / "f.csv", ".dvc/f.csv"], "repository metadata", 1),
        ([src / "f.csv", tmp_path / "elsewhere.csv"], "outside the repository", 1),
        ([f"s3://{plain}/data/f.csv", "--fs-config", "secret_access_key=abc"], "secret", 1),
        ([f"s3://{plain}/data/f.csv", "--version-aware", "--fs-config", endpoint],
         "has no versions", 1),
        ([src / "f.csv", "--to-remote", "--no-download"], "--to-remote", 2),
        ([src / "f.csv", "--fs-config", "endpointurl"], "KEY=VALUE", 2),
    ]  # fmt: skip
    for args, problem, code in cases:
        assert_error(bale("import-url", *args, cwd=ours, env=env, ok=False), problem, code=code)
    guard.check()


def test_status_names_a_url_dependency_as_dvc_does(
    twins: tuple[Path, Path], bale, dvc, s3_server: S3Server
):
    ours, _ = twins
    env = _s3_env(s3_server)
    bucket = _s3_source(s3_server, versioned=True)
    args = [f"s3://{bucket}/data/f.csv", "--fs-config", f"endpointurl={s3_server.endpoint_url}"]
    bale("import-url", *args, cwd=ours, env=env)
    s3_server.client().put_object(Bucket=bucket, Key="data/f.csv", Body=b"newer\n")
    theirs = json.loads(dvc("status", "--json", cwd=ours, env=env).stdout)
    assert theirs == {"f.csv.dvc": [{"changed deps": {args[0]: "update available"}}]}
    assert status_of(bale, ours, env=env) == theirs
