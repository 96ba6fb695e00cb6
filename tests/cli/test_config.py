"""`bale config`: DVC's INI files, edited without losing what bale does not know."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_remote_cmds import run_dvc_twins
from tests.cli.util import Unchanged, assert_error

WRITTEN_BY_DVC = """[core]
    remote = storage
# a comment
[feature]
    plots = true
[cache]
    type = "reflink,hardlink"
['remote "storage"']
    url = /srv/x
    Weird_Key = 1
[unknown_sect]
    foo = bar
"""


def test_set_keeps_every_other_section_key_and_comment(repo: Path, bale):
    config = repo / ".dvc" / "config"
    config.write_text(WRITTEN_BY_DVC)
    bale("config", "core.autostage", "true", cwd=repo)
    assert config.read_text() == WRITTEN_BY_DVC.replace(
        "    remote = storage\n", "    remote = storage\n    autostage = true\n"
    )
    bale("config", "--unset", "core.autostage", cwd=repo)
    assert config.read_text() == WRITTEN_BY_DVC


def test_get_set_and_list(repo: Path, bale):
    bale("config", "core.remote", "storage", cwd=repo)
    bale("config", "cache.type", "hardlink,symlink", cwd=repo)
    assert (repo / ".dvc" / "config").read_text() == (
        '[core]\n    remote = storage\n[cache]\n    type = "hardlink,symlink"\n'
    )
    assert bale("config", "core.remote", cwd=repo).stdout == "storage\n"
    assert bale("config", "-l", cwd=repo).stdout.splitlines() == [
        "cache.type=hardlink,symlink",
        "core.remote=storage",
    ]


def test_local_and_global_levels(repo: Path, bale):
    bale("config", "core.remote", "shared", cwd=repo)
    bale("config", "--local", "core.remote", "mine", cwd=repo)
    assert (repo / ".dvc" / "config.local").read_text() == "[core]\n    remote = mine\n"
    assert (repo / ".dvc" / "config").read_text() == "[core]\n    remote = shared\n"
    assert bale("config", "core.remote", cwd=repo).stdout == "mine\n"  # local wins
    assert bale("config", "--project", "core.remote", cwd=repo).stdout == "shared\n"

    bale("config", "--global", "core.check_update", "false", cwd=repo)
    global_file = Path(os.environ["XDG_CONFIG_HOME"]) / "dvc" / "config"
    assert global_file.read_text() == "[core]\n    check_update = false\n"
    assert "core.check_update=false" in bale("config", "-l", cwd=repo).stdout.splitlines()
    # config.local is git-ignored by .dvc/.gitignore: secrets stay out of git.
    assert "/config.local" in (repo / ".dvc" / ".gitignore").read_text().splitlines()


def test_values_are_written_as_dvc_writes_them(repo: Path, bale):
    # Bytes from dvc 3.67.1 for the same three commands.
    bale("config", "core.autostage", "True", cwd=repo)
    bale("config", "core.checksum_jobs", "4", cwd=repo)
    bale("config", "cache.type", "hardlink, symlink", cwd=repo)
    assert (repo / ".dvc" / "config").read_text() == (
        "[core]\n    autostage = True\n    checksum_jobs = 4\n"
        '[cache]\n    type = "hardlink, symlink"\n'
    )


def test_show_origin_names_the_file(repo: Path, bale):
    bale("config", "core.remote", "shared", cwd=repo)
    bale("config", "--local", "cache.type", "copy", cwd=repo)
    # What dvc 3.67.1 prints for the same settings.
    assert bale("config", "--show-origin", "core.remote", cwd=repo).stdout == (
        ".dvc/config\tshared\n"
    )
    assert bale("config", "--show-origin", "cache.type", cwd=repo).stdout == (
        ".dvc/config.local\tcopy\n"
    )


# -- every file is checked against the one schema as it is read ------------------------------

REMOTE_S3 = "['remote \"s3r\"']\n    url = s3://bucket/path\n"


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        ("config", "[core]\n    remot = x\n", [
            ".dvc/config: 'core.remot' is not a config option; known in [core]: analytics,",
            "; run: bale config --unset core.remot"]),
        ("config", "[core]\n    no_scm = maybe\n", [
            ".dvc/config: core.no_scm must be true or false, not 'maybe'",
            "; run: bale config core.no_scm VALUE"]),
        ("config", "[core]\n    checksum_jobs = abc\n", [
            "core.checksum_jobs must be a whole number >= 1, not 'abc'"]),
        ("config", "[unknown_sect]\n    foo = bar\n", [
            "'unknown_sect' is not a config section; known: cache, core,",
            "; fix or remove that section"]),
        ("config.local", "[CORE]\n    Autostage = yes\n", [
            ".dvc/config.local: core.autostage must be true or false, not 'yes'",
            "; run: bale config --local core.autostage VALUE"]),
        ("config", "[cache]\n    dir = ../data.csv\n", [
            "cache.dir '", "data.csv' is a file, not a folder; run: bale config cache.dir VALUE"]),
    ],
)  # fmt: skip
def test_a_file_that_breaks_the_schema_is_refused_where_it_is_read(
    repo: Path, tmp_path: Path, bale, name: str, text: str, needles: list[str]
):
    (repo / "data.csv").write_text("a,b\n")
    (repo / ".dvc" / name).write_text(text)
    guard = Unchanged(tmp_path)
    for args in (["status"], ["push"], ["add", "data.csv"]):
        assert_error(bale(*args, cwd=repo, ok=False), *needles)
    guard.check()


DEFAULT_S3R = "[core]\n    remote = s3r\n"


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        ("config", DEFAULT_S3R + REMOTE_S3 + "    keyfile = id_rsa\n", [
            "'keyfile' is not a remote option for s3 remotes; they take: access_key_id,",
            "; run: bale remote modify -u s3r keyfile"]),
        ("config.local", DEFAULT_S3R + "['remote \"s3r\"']\n    jobs = 4\n", [
            ".dvc/config.local: remote 's3r' has no url",
            "; run: bale remote modify --local s3r url URL"]),
        ("config", DEFAULT_S3R + "['remote \"s3r\"']\n    url = ssh://u:pa55@host:abc/path\n", [
            ".dvc/config: remote.s3r.url 'ssh://u@host:abc/path': port 'abc' is not a "
            "number from 1 to 65535; run: bale remote modify s3r url URL"]),
        ("config", DEFAULT_S3R + REMOTE_S3 + "    endpointurl = http://127.0.0.1:abc\n", [
            "remote.s3r.endpointurl 'http://127.0.0.1:abc': port 'abc' is not a number"]),
    ],
)  # fmt: skip
def test_a_remote_that_breaks_the_schema_stops_the_commands_that_use_it(
    tracked: Path, tmp_path: Path, bale, name: str, text: str, needles: list[str]
):
    (tracked / ".dvc" / name).write_text(text)
    guard = Unchanged(tmp_path)
    for args in (["push"], ["fetch"], ["status", "-c"], ["push", "-r", "s3r"]):
        line = assert_error(bale(*args, cwd=tracked, ok=False), *needles)
        assert "pa55" not in line
    assert bale("status", cwd=tracked).stdout == "Data and pipelines are up to date.\n"
    listing = bale("remote", "list", cwd=tracked)
    assert listing.stdout.startswith("s3r\t") and listing.stderr.startswith("WARNING: ")
    guard.check()


def test_a_broken_file_is_still_listed_and_fixed_one_command_at_a_time(repo: Path, bale):
    config = repo / ".dvc" / "config"
    config.write_text("[core]\n    remot = x\n    no_scm = maybe\n" + REMOTE_S3)
    listing = bale("config", "-l", cwd=repo)
    assert listing.stdout.splitlines() == [
        "core.remot=x", "core.no_scm=maybe", "remote.s3r.url=s3://bucket/path"
    ]  # fmt: skip
    assert [line.split(":")[0] for line in listing.stderr.splitlines()] == ["WARNING"] * 2
    assert bale("config", "core.remot", cwd=repo).stdout == "x\n"
    # An edit that adds no problem goes through; each fix removes one.
    bale("remote", "modify", "s3r", "region", "eu-west-1", cwd=repo)
    bale("config", "--unset", "core.remot", cwd=repo)
    assert_error(bale("status", cwd=repo, ok=False), "core.no_scm must be true or false")
    bale("config", "core.no_scm", "false", cwd=repo)
    bale("status", cwd=repo)
    assert config.read_text() == "[core]\n    no_scm = false\n" + REMOTE_S3 + (
        "    region = eu-west-1\n"
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["core.checksum_jobs", "0"], "core.checksum_jobs must be a whole number >= 1"),
        (["core.autostage", "yes"], "core.autostage must be true or false, not 'yes'"),
        (["cache.type", "reflink,"], "cache.type 'reflink,' is not valid"),
        (["cache.shared", "others"], "cache.shared must be one of group, not 'others'"),
        (["cache.dir", "data.csv"], "data.csv' is a file, not a folder"),
        (["cache.dir", "data.csv/cache"], "which is a file"),
        (["remote.new.jobs", "4"], "remote 'new' has no url"),
        (["exp.auto_push", "maybe"], "exp.auto_push must be true or false"),
    ],
)
def test_config_refuses_what_it_would_refuse_to_read(
    repo: Path, tmp_path: Path, bale, args, problem
):
    (repo / "data.csv").write_text("a,b\n")
    guard = Unchanged(tmp_path)
    for level in ([], ["--local"]):
        line = assert_error(bale("config", *level, *args, cwd=repo, ok=False), problem)
        assert "; run:" not in line  # the value given is what is wrong: nothing to undo
    guard.check()


def test_unset_of_an_option_that_is_not_set(repo: Path, tmp_path: Path, bale):
    guard = Unchanged(tmp_path)
    proc = bale("config", "--unset", "core.autostage", cwd=repo, ok=False)
    assert_error(proc, "option 'core.autostage' is not set in .dvc/config")
    guard.check()


def test_section_names_are_read_lower_cased_as_dvc_reads_them(repo: Path, bale):
    (repo / ".dvc" / "config").write_text(
        "[Core]\n    Remote = MyStore\n['Remote \"MyStore\"']\n    URL = /srv/x\n"
    )
    bale("status", cwd=repo)
    assert bale("remote", "list", cwd=repo).stdout == "mystore\t/srv/x\t(default)\n"
    assert bale("config", "core.remote", cwd=repo).stdout == "mystore\n"


def test_an_explicit_get_prints_a_secret_and_a_listing_does_not(repo: Path, bale):
    """As git config does: what is asked for by name is printed, for scripts."""
    bale("remote", "add", "s3r", "s3://bucket/path", cwd=repo)
    bale("remote", "modify", "--local", "s3r", "secret_access_key", "s3cr3t-value", cwd=repo)
    get = bale("config", "--local", "remote.s3r.secret_access_key", cwd=repo)
    assert get.stdout == "s3cr3t-value\n"
    assert "s3cr3t-value" not in bale("config", "-l", cwd=repo).stdout


# -- what dvc 3.67 accepts, bale accepts; what it refuses, bale refuses ---------------------

READS = {
    "core-typo": "[core]\n    remot = x\n",
    "core-bool": "[core]\n    no_scm = maybe\n",
    "core-bool-yes": "[core]\n    autostage = yes\n",
    "core-bool-case": "[core]\n    check_update = FALSE\n    autostage = True\n",
    "core-int": "[core]\n    checksum_jobs = abc\n",
    "core-int-zero": "[core]\n    checksum_jobs = 0\n",
    "core-int-quoted": "[core]\n    checksum_jobs = ' 4'\n",
    "section-case": "[CORE]\n    Remote = X\n['Remote \"X\"']\n    url = /x\n",
    "unknown-section": "[unknown_sect]\n    foo = bar\n",
    "nested-section": "[core]\n    [[sub]]\n    a = 1\n",
    "unnamed-remote": "[remote]\n    url = /x\n",
    "deprecated-keys": (
        "[core]\n    experiments = true\n[cache]\n    local = x\n    protected = true\n"
        "[state]\n    row_limit = 5\n    row_cleanup_quota = 50\n[index]\n    dir = x\n"
        "[exp]\n    code = x\n"
    ),
    "state-typo": "[state]\n    foo = 5\n",
    "state-range": "[state]\n    row_cleanup_quota = 101\n",
    "feature-unknown": "[feature]\n    plots = true\n",
    "feature-bool": "[feature]\n    machine = maybe\n",
    "other-sections": (
        "[plots]\n    auto_open = True\n    out_dir = p\n[exp]\n    auto_push = false\n"
        "[studio]\n    offline = true\n    token = t\n[hydra]\n    enabled = true\n"
        "    config_dir = conf\n[parsing]\n    bool = Store_True\n    list = append\n"
        "['db \"d\"']\n    url = u\n    password = p\n"
        "['machine \"m\"']\n    cloud = AWS\n    spot_price = 1.5\n    spot = true\n"
    ),
    "exp-typo": "[exp]\n    foo = x\n",
    "studio-typo": "[studio]\n    foo = x\n",
    "hydra-exclusive": "[hydra]\n    config_dir = a\n    config_module = b\n",
    "parsing-choice": "[parsing]\n    bool = other\n",
    "db-typo": "['db \"d\"']\n    url = a\n    foo = b\n",
    "machine-choice": "['machine \"m\"']\n    cloud = gcp\n",
    "cache-types": '[cache]\n    type = "hardlink, symlink"\n    shared = Group\n',
    "cache-type-unquoted": "[cache]\n    type = reflink,\n",
    "cache-type-trailing": '[cache]\n    type = "reflink,"\n',
    "cache-type-empty": '[cache]\n    type = ""\n',
    "cache-shared": "[cache]\n    shared = other\n",
    "remote-no-url": "['remote \"s\"']\n    jobs = 2\n",
    "remote-unknown-key": "['remote \"s\"']\n    url = /x\n    weird_key = 1\n",
    "remote-other-scheme": "['remote \"s\"']\n    url = s3://b/p\n    keyfile = x\n",
    "remote-local-options": (
        "['remote \"s\"']\n    url = /x\n    type = copy\n    shared = group\n"
        "    slow_link_warning = false\n    verify = true\n    jobs = 4\n"
    ),
    "remote-s3-options": (
        "['remote \"s\"']\n    url = s3://b/p\n    region = eu\n    use_ssl = False\n"
        "    listobjects = true\n    acl = private\n    read_timeout = 30\n    jobs = 08\n"
        "    ssl_verify = /ca.pem\n    worktree = false\n    version_aware = true\n"
    ),
    "remote-s3-float": "['remote \"s\"']\n    url = s3://b/p\n    read_timeout = 1.5\n",
    "remote-http-float": "['remote \"s\"']\n    url = https://h/p\n    read_timeout = 1.5\n",
    "remote-http-auth": "['remote \"s\"']\n    url = http://h/p\n    auth = Basic\n",
    "remote-http-choice": "['remote \"s\"']\n    url = http://h/p\n    auth = oauth\n",
    "remote-jobs-zero": "['remote \"s\"']\n    url = s3://b/p\n    jobs = 0\n",
    "remote-bool-yes": "['remote \"s\"']\n    url = s3://b/p\n    use_ssl = yes\n",
    "remote-ssh": (
        "['remote \"s\"']\n    url = ssh://u@h:2222/p\n    port = 22\n    type = hardlink\n"
        "    allow_agent = false\n    max_sessions = 4\n"
    ),
    "remote-ssh-port": "['remote \"s\"']\n    url = ssh://h/p\n    port = abc\n",
    "remote-ssh-type": "['remote \"s\"']\n    url = ssh://h/p\n    type = foo\n",
    "remote-cache-regions": "['remote \"s\"']\n    url = s3://b/p\n    cache_regions = true\n",
    "remote-hdfs-verify": "['remote \"s\"']\n    url = hdfs://h/p\n    verify = true\n",
    "remote-not-yet": (
        "['remote \"h\"']\n    url = hdfs://h/p\n    kerb_ticket = t\n"
        "['remote \"g\"']\n    url = gdrive://root/p\n    gdrive_trash_only = true\n"
        "['remote \"w\"']\n    url = webdavs://h/p\n    timeout = 5\n"
        "['remote \"o\"']\n    url = oss://b/p\n    oss_endpoint = e\n"
    ),
    "remote-remote": "['remote \"r\"']\n    url = remote://other/p\n    anything = 1\n",
    "remote-file-url": "['remote \"s\"']\n    url = file:///srv/x\n",
    "remote-file-host": "['remote \"s\"']\n    url = file://host/p\n",
    "remote-gcs": "['remote \"s\"']\n    url = gcs://b/p\n",
    "remote-sftp": "['remote \"s\"']\n    url = sftp://h/p\n",
    "remote-az": "['remote \"s\"']\n    url = az://b/p\n",
    "remote-unknown-scheme": "['remote \"s\"']\n    url = foo://b/p\n",
}
# Values dvc 3.67 takes that can never work: bale refuses them as it reads
# them, naming the fix, instead of failing (or panicking) later.
STRICTER = {
    "ssh-port-range": "['remote \"s\"']\n    url = ssh://h/p\n    port = 99999\n",
    "ssh-url-port": "['remote \"s\"']\n    url = ssh://h:abc/p\n",
    "negative-timeout": "['remote \"s\"']\n    url = ssh://h/p\n    timeout = -5\n",
    "no-bucket": "['remote \"s\"']\n    url = s3://\n",
    "endpoint": "['remote \"s\"']\n    url = s3://b/p\n    endpointurl = not a url\n",
    "cache-dir-file": "[cache]\n    dir = config\n",
}
DVC_READS = """
import json, os, sys
from dvc.config import Config
result = {}
for name, text in json.load(open(sys.argv[1])).items():
    dvc_dir = os.path.join(sys.argv[2], name, ".dvc")
    os.makedirs(dvc_dir)
    with open(os.path.join(dvc_dir, "config"), "w") as fobj:
        fobj.write(text)
    try:
        Config(dvc_dir)
        result[name] = "ok"
    except Exception as exc:
        result[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def dvc_reads(dvc_exe: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What dvc's own config loader says of each file: "ok" or its error."""
    base = tmp_path_factory.mktemp("dvc-reads")
    (base / "cases.json").write_text(json.dumps(READS | STRICTER))
    python = Path(dvc_exe).parent / "python"
    proc = subprocess.run(
        [str(python), "-c", DVC_READS, str(base / "cases.json"), str(base / "repos")],
        capture_output=True, text=True, check=False,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.dvc
@pytest.mark.parametrize("case", sorted(READS))
def test_bale_reads_the_config_files_dvc_reads(case: str, dvc_reads, repo: Path, bale):
    """A file dvc refuses has a problem bale names (`config -l` warns of it;
    commands refuse it, or, in a remote, the commands that use that remote)."""
    (repo / ".dvc" / "config").write_text(READS[case])
    listing = bale("config", "-l", cwd=repo, ok=None)
    if dvc_reads[case] == "ok":
        assert listing.returncode == 0 and listing.stderr == "", listing.stderr
        bale("status", cwd=repo)
    elif listing.returncode == 0:
        assert listing.stderr.startswith("WARNING: .dvc/config: "), listing.stderr
    else:
        assert_error(listing, ".dvc/config")  # it does not even parse


@pytest.mark.dvc
@pytest.mark.parametrize("case", sorted(STRICTER))
def test_bale_refuses_values_dvc_takes_that_cannot_work(case: str, dvc_reads, repo: Path, bale):
    assert dvc_reads[case] == "ok"
    (repo / ".dvc" / "config").write_text(STRICTER[case])
    warning = bale("config", "-l", cwd=repo).stderr
    assert warning.startswith("WARNING: .dvc/config: ") and "; run: bale " in warning


def _add_then(url: str, *option: str) -> list[list[str]]:
    return [["remote", "add", "r", url], ["remote", "modify", "r", *option]]


# Commands whose exit status (0 or not) bale and dvc 3.67 share.
SETS: dict[str, list[list[str]]] = {
    "bool-case": [["config", "core.autostage", "TRUE"]],
    "bool-yes": [["config", "core.autostage", "yes"]],
    "bool-padded": [["config", "core.autostage", " true"]],
    "int-zero": [["config", "core.checksum_jobs", "0"]],
    "int-padded": [["config", "core.checksum_jobs", " 4"]],
    "typo": [["config", "core.remot", "x"]],
    "section": [["config", "nonsense.key", "1"]],
    "links-trailing": [["config", "cache.type", "reflink,"]],
    "choice-case": [["config", "cache.shared", "Group"]],
    "feature": [["config", "feature.plots", "true"]],
    "studio": [["config", "studio.offline", "true"]],
    "exp-bool": [["config", "exp.auto_push", "maybe"]],
    "remote-no-url": [["config", "remote.new.jobs", "4"]],
    "remote-via-config": [["config", "remote.new.url", "/srv/x"]],
    "keyfile-on-s3": _add_then("s3://b/p", "keyfile", "k"),
    "jobs-zero": _add_then("s3://b/p", "jobs", "0"),
    "remote-bool-yes": _add_then("s3://b/p", "use_ssl", "yes"),
    "s3-float": _add_then("s3://b/p", "read_timeout", "1.5"),
    "http-float": _add_then("https://h/p", "read_timeout", "1.5"),
    "http-auth": _add_then("http://h/p", "auth", "Digest"),
    "ssh-type": _add_then("ssh://h/p", "type", "foo"),
    "ssh-port": _add_then("ssh://h/p", "port", "abc"),
    "gcs": [["remote", "add", "r", "gcs://b/p"]],
    "sftp": [["remote", "add", "r", "sftp://h/p"]],
    "file-host": [["remote", "add", "r", "file://host/p"]],
    "not-yet-schemes": [["remote", "add", "h", "hdfs://h/p"], ["remote", "add", "w", "webdav://h/p"]],
    "remote-scheme": [["remote", "add", "b", "/srv/b"], ["remote", "add", "r", "remote://b/sub"]],
    "url-scheme-change": [
        ["remote", "add", "r", "s3://b/p"], ["remote", "modify", "r", "region", "eu"],
        ["remote", "modify", "r", "url", "ssh://h/p"],
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def dvc_sets(dvc_exe: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    return run_dvc_twins(dvc_exe, tmp_path_factory.mktemp("dvc-sets"), SETS)


@pytest.mark.dvc
@pytest.mark.parametrize("case", sorted(SETS))
def test_config_and_remote_take_the_values_dvc_takes(case: str, dvc_sets, repo: Path, bale):
    codes = [bale(*argv, cwd=repo, ok=None).returncode for argv in SETS[case]]
    assert [code == 0 for code in codes] == [code == 0 for code in dvc_sets[case]]
