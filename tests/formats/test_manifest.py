"""The `.dir` manifest: DVC's exact bytes, and refusal of paths that would escape."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bale.errors import ManifestError
from bale.formats.manifest import (
    EMPTY_DIR_OID,
    check_relpath,
    dump_manifest,
    manifest_oid,
    parse_manifest,
)

# FORMATS.md §4, as dvc writes it.
EXAMPLE = [
    ("a.txt", "60b725f10c9c85c70d97880dfe8191b3"),
    ("ü.txt", "7b774effe4a349c6dd82ad4f4f21d34c"),
    ("sub/b.txt", "3b5d5c3712955042212316173ccf37be"),
    ("B.txt", "9dd4e461268c8034f5c8564e155c67a6"),
]
EXAMPLE_BYTES = (
    b'[{"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "B.txt"}, '
    b'{"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"}, '
    b'{"md5": "3b5d5c3712955042212316173ccf37be", "relpath": "sub/b.txt"}, '
    b'{"md5": "7b774effe4a349c6dd82ad4f4f21d34c", "relpath": "\\u00fc.txt"}]'
)


def _dvc_bytes(entries: list[tuple[str, str]]) -> bytes:
    """dvc-data's Tree.as_bytes: sorted by relpath, json.dumps(sort_keys=True)."""
    items = sorted(({"md5": m, "relpath": r} for r, m in entries), key=lambda d: d["relpath"])
    return json.dumps(items, sort_keys=True).encode("utf-8")


def test_the_example_is_byte_identical():
    data = dump_manifest(EXAMPLE)
    assert data == EXAMPLE_BYTES
    assert len(data) == 269
    assert manifest_oid(data) == "4916ced8d6bb2fd2b31b00c7685c61e3.dir"
    assert parse_manifest(data, oid="x") == sorted(EXAMPLE)


def test_empty_folder():
    assert dump_manifest([]) == b"[]"
    assert manifest_oid(b"[]") == EMPTY_DIR_OID == "d751713988987e9331980363e24189ce.dir"


def test_sorting_is_code_point_order():
    names = ["a.txt", "B.txt", "a-b", "a/b", "a.b/c", "Z", "_", "é", "\U0001f600"]
    relpaths = [r for r, _ in parse_manifest(dump_manifest((n, "0" * 32) for n in names), oid="x")]
    assert relpaths == sorted(names)
    assert relpaths[:2] == ["B.txt", "Z"]


def test_non_ascii_is_escaped_as_json_does():
    data = dump_manifest([('ü/😀 x\t"q"\\.bin', "0" * 32)])
    assert data == _dvc_bytes([('ü/😀 x\t"q"\\.bin', "0" * 32)])
    assert b'\\u00fc/\\ud83d\\ude00 x\\t\\"q\\"\\\\.bin' in data
    data.decode("ascii")


relpath_part = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0\\"),
    min_size=1,
    max_size=8,
).filter(lambda p: p not in (".", ".."))
relpaths = st.lists(relpath_part, min_size=1, max_size=3).map("/".join)
md5s = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.md5(b).hexdigest())


@given(st.dictionaries(relpaths, md5s, max_size=12))
def test_dump_equals_dvc_and_parses_back(files: dict[str, str]):
    # Paths where one is a folder of another cannot come from a real tree.
    names = set(files)
    files = {
        r: m for r, m in files.items() if not any(r.startswith(o + "/") for o in names if o != r)
    }
    data = dump_manifest(files.items())
    assert data == _dvc_bytes(list(files.items()))
    assert parse_manifest(data, oid="x") == sorted(files.items())


UNSAFE = [
    "../x",
    "..",
    "/etc/passwd",
    "a/../../x",
    "a/..",
    "./a",
    "a/./b",
    "a//b",
    "a/",
    "",
    "a\\..\\..\\x",
    "a\0b",
]


@pytest.mark.parametrize("relpath", UNSAFE, ids=repr)
def test_unsafe_relpaths_are_refused(relpath: str):
    with pytest.raises(ValueError):
        check_relpath(relpath)
    data = json.dumps([{"md5": "0" * 32, "relpath": relpath}]).encode()
    with pytest.raises(ManifestError, match=r"abc\.dir"):
        parse_manifest(data, oid="abc.dir")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not json", "not valid JSON"),
        (b'{"md5": "x"}', "not a JSON list"),
        (b'["a"]', "not an object"),
        (b'[{"relpath": "a"}]', "md5"),
        (b'[{"md5": "XYZ", "relpath": "a"}]', "md5"),
        (b'[{"md5": "' + b"0" * 32 + b'", "relpath": 3}]', "relpath"),
        (b'[{"md5": "' + b"0" * 32 + b'"}]', "relpath"),
        (
            b'[{"md5": "' + b"0" * 32 + b'", "relpath": "a"}, '
            b'{"md5": "' + b"1" * 32 + b'", "relpath": "a"}]',
            "twice",
        ),
        (
            b'[{"md5": "' + b"0" * 32 + b'", "relpath": "a"}, '
            b'{"md5": "' + b"1" * 32 + b'", "relpath": "a/b"}]',
            "inside file",
        ),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_manifests_are_refused(data: bytes, problem: str):
    with pytest.raises(ManifestError, match=problem):
        parse_manifest(data, oid="abc.dir")


def test_a_legacy_manifest_with_extra_keys_reads():
    # dvc 2 wrote the same shape; other keys an object may carry are ignored.
    data = b'[{"md5": "' + b"0" * 32 + b'", "relpath": "a", "size": 3}]'
    assert parse_manifest(data, oid="x") == [("a", "0" * 32)]
