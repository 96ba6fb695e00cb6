"""repo/schema.py: the one config schema, and the URL checks it takes from
remotes/registry.py. The tables are compared with dvc 3.67's own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bale.remotes.base import as_bool, display_url
from bale.remotes.registry import SCHEMES, endpoint_problem, scheme_of, url_problem
from bale.repo import schema
from bale.repo.schema import NAMED, SECTIONS, remote_problems, section_problems, value_problem


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("true", True), ("False", False), ("TRUE", True), (True, True), (False, False),
     ("yes", None), ("1", None), (" true", None), ("", None), (1, None), (None, None)],
)  # fmt: skip
def test_booleans_are_dvcs(value, parsed):
    assert as_bool(value) is parsed


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        (schema.COUNT, "4", True), (schema.COUNT, " 4", True), (schema.COUNT, "08", True),
        (schema.COUNT, "0", False), (schema.COUNT, "abc", False), (schema.COUNT, "4.0", False),
        (schema.INT, "0", True), (schema.INT, "-5", False),
        (schema.NUMBER, "1.5", True), (schema.NUMBER, "-1", False),
        (schema.PERCENT, "100", True), (schema.PERCENT, "101", False),
        (schema.PORT, "22", True), (schema.PORT, "0", False), (schema.PORT, "65536", False),
        (schema.LINKS, "reflink,copy", True), (schema.LINKS, "hardlink, symlink", True),
        (schema.LINKS, "reflink,", False), (schema.LINKS, "", False), (schema.LINKS, "foo", False),
        (("group",), "Group", True), (("group",), "other", False),
        (schema.URL, "/srv/x", True), (schema.URL, "ssh://h:abc/p", False),
        (schema.ENDPOINT, "minio:9000", True), (schema.ENDPOINT, "not a url", False),
        (schema.TEXT, "anything, at all", True), (schema.BOOL, "maybe", False),
    ],
)  # fmt: skip
def test_value_kinds(kind, value: str, ok: bool):
    assert (value_problem(kind, value) is None) is ok


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/srv/store", None), ("relative/dir", None), ("file:///srv/x", None),
        ("s3://bucket/path", None), ("S3://Bucket/p", None), ("ssh://u:pw@h:2222/p", None),
        ("ssh://h:/p", None), ("ssh://[::1]:22/p", None), ("remote://other/sub", None),
        ("hdfs://user@host/p", None),
        ("", "the remote URL is empty"),
        ("foo://bucket/x", "unknown URL scheme 'foo://'"),
        ("gcs://bucket/x", "unknown URL scheme 'gcs://'"),  # dvc knows gs:// only
        ("file://host/x", "unknown URL scheme 'file://'"),
        ("s3://", "no bucket given; use s3://bucket/path"),
        ("ssh://host:abc/path", "port 'abc' is not a number from 1 to 65535"),
        ("ssh://host:99999/path", "port '99999'"),
        ("ssh://host:0/path", "port '0'"),
        ("ssh://[::1/p", "not a valid IPv6 host"),
        ("http://not a host/x", "'not a host' is not a valid host"),
    ],
)  # fmt: skip
def test_url_problems(url: str, problem: str | None):
    found = url_problem(url)
    assert (found is None) if problem is None else (problem in (found or "")), found


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://127.0.0.1:9000", None), ("https://objects.example.org", None),
        ("minio.local:9000", None),  # the S3 backend reads a bare host as https://
        ("http://127.0.0.1:abc", "port 'abc'"), ("not a url", "not a URL"),
        ("ftp://host", "not an http:// or https:// URL"), ("https://", "no host given"),
    ],
)  # fmt: skip
def test_endpoint_problems(value: str, problem: str | None):
    found = endpoint_problem(value)
    assert (found is None) if problem is None else (problem in (found or "")), found


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ssh://deploy:pw@host:22/p", "ssh://deploy@host:22/p"),
        ("ssh://a:b@c@host/p", "ssh://a@host/p"),  # the password holds an @
        ("ssh://deploy:pw@host:abc/p", "ssh://deploy@host:abc/p"),  # a bad port: no error
        ("http://[::1", "http://[::1"),
        ("ssh://u@h/p?x:y@z", "ssh://u@h/p?x:y@z"),
        ("/srv/a:b@c", "/srv/a:b@c"),
    ],
)
def test_display_url_hides_the_password_and_never_raises(url: str, shown: str):
    assert display_url(url) == shown


def test_scheme_of():
    assert [scheme_of(u) for u in ("/x", "file:///x", "S3://b", "c:/x")] == ["", "", "s3", ""]


def _problems(text: str) -> list[str]:
    from bale.repo.config import _read_simple, _sections

    return [p.text for p in section_problems(_sections(_read_simple(text), "c"), "repo")]


def test_section_problems_name_the_option_and_what_it_takes():
    assert _problems("[core]\nremot = x\n") == [
        "'core.remot' is not a config option; known in [core]: analytics, autostage, "
        "check_update, checksum_jobs, experiments, hardlink_lock, interactive, machine, "
        "no_scm, remote, site_cache_dir"
    ]
    assert _problems("[Core]\nNo_Scm = maybe\n") == [
        "core.no_scm must be true or false, not 'maybe'"
    ]
    assert _problems("[nonsense]\na = 1\n")[0].startswith("'nonsense' is not a config section")
    assert _problems("[remote]\nurl = x\n") == ["[remote] needs a name, as in ['remote \"NAME\"']"]
    assert _problems("[hydra]\nconfig_dir = a\nconfig_module = b\n") == [
        "[hydra] may set only one of config_dir, config_module"
    ]
    # dvc ignores [feature] keys it does not know; remotes are checked merged.
    assert _problems("[feature]\nplots = true\n['remote \"s\"']\nbogus = 1\n") == []


def test_remote_problems_follow_the_scheme():
    def texts(options: dict[str, str]) -> list[str]:
        return [p.text for p in remote_problems("r", options, dict.fromkeys(options, "local"))]

    assert texts({"url": "s3://b/p", "region": "x", "jobs": "4"}) == []
    assert texts({"jobs": "4"}) == ["remote 'r' has no url"]
    [keyfile] = texts({"url": "s3://b/p", "keyfile": "k"})
    assert keyfile.startswith("'keyfile' is not a remote option for s3 remotes; they take: ")
    assert texts({"url": "ssh://h/p", "port": "99999"}) == [
        "remote.r.port must be a whole number from 1 to 65535, not '99999'"
    ]
    assert texts({"url": "https://h/p", "read_timeout": "1.5"}) == []
    assert texts({"url": "s3://b/p", "read_timeout": "1.5"}) == [
        "remote.r.read_timeout must be a whole number >= 0, not '1.5'"
    ]
    assert texts({"url": "remote://other/p", "anything": "1"}) == []


DVC_SCHEMA = """
import json
from voluptuous import Marker
from dvc.config_schema import SCHEMA, REMOTE_SCHEMAS

def keys(table):
    table = getattr(table, "schema", table)  # [feature] is a Schema of its own
    return sorted(str(k.schema if isinstance(k, Marker) else k) for k in table)

named = {"remote", "machine", "db"}
out = {
    "sections": {s: keys(t) for s, t in SCHEMA.items() if s not in named},
    "machine": keys(SCHEMA["machine"][str]),
    "db": keys(SCHEMA["db"][str]),
    "schemes": {s: keys(t) for s, t in REMOTE_SCHEMAS.items() if s != "remote"},
}
print(json.dumps(out))
"""


@pytest.mark.dvc
def test_the_tables_are_dvcs(dvc_exe: str):
    """Every section, key and remote option dvc 3.67 knows, and no other, save the
    two it can never accept from a file (checked as Python bool and int)."""
    python = Path(dvc_exe).parent / "python"
    proc = subprocess.run([str(python), "-c", DVC_SCHEMA], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    dvc = json.loads(proc.stdout)
    assert {s: sorted(t) for s, t in SECTIONS.items()} == dvc["sections"]
    assert sorted(NAMED["machine"]) == dvc["machine"]
    assert sorted(NAMED["db"]) == dvc["db"]
    never = {"s3": {"cache_regions"}, "hdfs": {"replication"}}
    assert {s: sorted(spec.options or {}) for s, spec in SCHEMES.items() if s != "remote"} == {
        s: sorted(set(keys) - never.get(s, set())) for s, keys in dvc["schemes"].items()
    }
