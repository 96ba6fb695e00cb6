""".dvc files: DVC's files read and written back byte for byte, unknown keys kept."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bale.errors import DvcFileError
from bale.formats.dvcfile import (
    LEGACY_HASH,
    MD5,
    DvcFile,
    Out,
    _apply_onto,
    dump_dvcfile,
    parse_dvcfile,
)
from bale.formats.yaml import load_yaml

# Files as dvc 3.67.1 writes them (FORMATS.md §2, §3, §8, §9) and as dvc 2 wrote them.
DVC_WRITTEN = {
    "file": (
        "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  size: 14\n  hash: md5\n"
        "  path: crlf.txt\n"
    ),
    "folder": (
        "outs:\n- md5: 4916ced8d6bb2fd2b31b00c7685c61e3.dir\n  size: 6\n  nfiles: 4\n"
        "  hash: md5\n  path: data\n"
    ),
    "executable": (
        "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  size: 14\n  isexec: true\n"
        "  hash: md5\n  path: run.sh\n"
    ),
    "dvc 2": "outs:\n- md5: 3b5d5c3712955042212316173ccf37be\n  size: 2\n  path: b.txt\n",
    "import": (
        "md5: 3128f80d505d9964d4da861f0dec8efe\nfrozen: true\ndeps:\n- path: data\n  repo:\n"
        "    url: /srv/registry\n    rev: v1\n"
        "    rev_lock: a6d2efc6ceaadaff7d4d1a3a243159c4ae25e4d5\n"
        "outs:\n- md5: 4916ced8d6bb2fd2b31b00c7685c61e3.dir\n  size: 6\n  nfiles: 4\n"
        "  hash: md5\n  path: imported_data\n"
    ),
    "import-url": (
        "md5: 66c7dad3c7d0fce2972516ae128dbf1a\nfrozen: true\ndeps:\n"
        "- md5: 0badd879611422b214d8c53e19b4f2a3\n  size: 9\n  hash: md5\n"
        "  path: /srv/ext/file.csv\nouts:\n- md5: 0badd879611422b214d8c53e19b4f2a3\n"
        "  size: 9\n  hash: md5\n  path: ext.csv\n"
    ),
    "annotated": (
        "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  size: 14\n  hash: md5\n"
        "  path: model.pkl\n  desc: the model\n  type: model\n  labels:\n  - cv\n  - v2\n"
        "  meta:\n    owner: team\n  cache: false\n  remote: s3r\n  push: false\n"
    ),
    "no-download": "outs:\n- hash: md5\n  path: extdir\n",
    "cloud-versioned": (
        "outs:\n- hash: md5\n  path: data\n  files:\n  - size: 3\n    version_id: v1\n"
        "    etag: e1\n    md5: 3b5d5c3712955042212316173ccf37be\n    relpath: a.txt\n"
    ),
}


@pytest.mark.parametrize("name", DVC_WRITTEN)
def test_dvc_files_round_trip_byte_for_byte(name: str):
    text = DVC_WRITTEN[name]
    assert dump_dvcfile(parse_dvcfile(text, origin=f"{name}.dvc")) == text


def test_dvc_2_entries_are_legacy_and_stay_so():
    out = parse_dvcfile(DVC_WRITTEN["dvc 2"], origin="b.txt.dvc").outs[0]
    assert (out.hash_name, out.legacy, out.oid) == (
        LEGACY_HASH,
        True,
        "3b5d5c3712955042212316173ccf37be",
    )
    new = out.with_hash("7ac062d8a84466e70d9b899c0821a51c", size=14)
    assert new.hash_name == MD5  # new content is recorded the DVC 3 way
    assert "  hash: md5\n" in dump_dvcfile(DvcFile(outs=(new,)))


def test_a_rewrite_keeps_unknown_keys_and_puts_known_ones_in_dvc_order():
    text = (
        "outs:\n- path: x\n  x-custom: 1\n  hash: md5\n  md5: 7ac062d8a84466e70d9b899c0821a51c\n"
        "  desc: d\n  size: 14\nmeta: {k: v}\nwdir: .\n"
    )
    dvcfile = parse_dvcfile(text, origin="x.dvc")
    new = DvcFile(outs=(dvcfile.outs[0].with_hash("a" * 32, size=3),), extra=dvcfile.extra)
    assert dump_dvcfile(new) == (
        "wdir: .\nouts:\n- md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n  size: 3\n  hash: md5\n"
        "  path: x\n  desc: d\n  x-custom: 1\nmeta:\n  k: v\n"
    )


def test_a_rewrite_onto_the_previous_text_keeps_its_comments():
    previous = "# tracked by hand\nouts:\n- md5: 7ac062d8a84466e70d9b899c0821a51c  # v1\n"
    previous += "  size: 14\n  hash: md5\n  path: crlf.txt\n"
    old = parse_dvcfile(previous, origin="crlf.txt.dvc")
    new = DvcFile(outs=(old.outs[0].with_hash("0" * 32, size=3),))
    text = dump_dvcfile(new, previous=previous)
    assert text.startswith("# tracked by hand\n")
    assert parse_dvcfile(text, origin="x") == new


@pytest.mark.parametrize("name", ["file", "folder", "executable", "dvc 2"])
def test_a_rewrite_of_dvcs_plain_layout_is_what_ruamel_writes(name: str):
    previous = DVC_WRITTEN[name]
    old = parse_dvcfile(previous, origin="x.dvc")
    changes = [
        old.outs[0].with_hash("0" * 32, size=7, isexec=old.outs[0].isexec),  # same keys
        old.outs[0]._replace(size=None),  # a key fewer
        old.outs[0].with_hash("1" * 32 + ".dir", size=9, nfiles=2),  # maybe a key more
    ]
    for out in changes:
        new = DvcFile(outs=(out,))
        text = dump_dvcfile(new, previous=previous)
        assert text == _apply_onto(previous, _ordered(new))
        assert parse_dvcfile(text, origin="x") == new


def _ordered(dvcfile: DvcFile) -> dict:
    return load_yaml(dump_dvcfile(dvcfile))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("outs: [\n", "not valid YAML at line 2"),
        ("outs: 3\n", "'outs' must be a list"),
        ("- a\n", "expected a mapping"),
        ("outs:\n- 3\n", "must be a mapping"),
        ("outs:\n- md5: zz\n  path: a\n", "malformed md5"),
        ("outs:\n- md5: 12345678901234567890123456789012\n  path: a\n", "malformed md5"),
        ("outs:\n- path: a\n  hash: sha256\n", "unsupported hash"),
        ("outs:\n- path: a\n  size: big\n", "malformed size"),
        ("outs:\n- path: a\n  nfiles: true\n", "malformed nfiles"),
        ("outs:\n- size: 3\n", "no 'path'"),
        ("outs:\n- path: ''\n", "no 'path'"),
    ],
)
def test_malformed_files_name_the_problem(text: str, problem: str):
    with pytest.raises(DvcFileError, match=problem) as info:
        parse_dvcfile(text, origin="sub/x.dvc")
    assert str(info.value).startswith("sub/x.dvc: ")


def test_empty_file_has_no_outputs():
    assert parse_dvcfile("", origin="x.dvc").outs == ()


# -- properties ------------------------------------------------------------------------------

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    min_size=1,
    max_size=30,
)
plain_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=12
)
md5 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
# Paths of the shape the fast reader takes, and ones YAML would read as other types.
SIMPLE = r"[A-Za-z0-9_][A-Za-z0-9_.+@=,-]{0,10}(/[A-Za-z0-9_.+@=,-]{1,6}){0,2}"
TYPED = ["1e5", "0x1F", "0o17", "true", "null", "2001-12-14", "1_0", ".5", "-1", "NaN"]
simple_paths = st.one_of(st.from_regex(SIMPLE, fullmatch=True), st.sampled_from(TYPED))
scalars = st.one_of(st.booleans(), st.integers(-(2**40), 2**40), plain_text, text, st.none())
extra_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(plain_text, inner, min_size=1, max_size=3),
    ),
    max_leaves=6,
)
extra_keys = plain_text.filter(
    lambda k: (
        k not in {"md5", "size", "nfiles", "isexec", "hash", "path", "cache", "push"}
        and k != "remote"
    )
)


@st.composite
def outs(draw) -> Out:
    oid = draw(st.one_of(st.none(), md5, md5.map(lambda m: m + ".dir")))
    legacy = oid is not None and draw(st.booleans())
    return Out(
        path=draw(st.one_of(text, simple_paths)),
        oid=oid,
        hash_name=LEGACY_HASH if legacy else MD5,
        size=draw(st.one_of(st.none(), st.integers(0, 2**50))),
        nfiles=draw(st.one_of(st.none(), st.integers(0, 10**6))),
        isexec=draw(st.booleans()),
        cache=draw(st.booleans()),
        push=draw(st.booleans()),
        remote=draw(st.one_of(st.none(), plain_text)),
        extra=draw(st.dictionaries(extra_keys, extra_values, max_size=3)),
    )


dvcfiles = st.builds(
    DvcFile,
    outs=st.lists(outs(), min_size=1, max_size=3).map(tuple),
    extra=st.dictionaries(
        st.sampled_from(["md5", "frozen", "desc", "wdir", "meta", "x-root"]),
        extra_values.filter(lambda v: v not in (None, [], {})),
        max_size=3,
    ),
)


@settings(max_examples=75, deadline=None)
@given(dvcfiles)
@example(DvcFile(outs=(Out(path="0"),), extra={"desc": "a\x85b\u2028c\u2029"}))
def test_dump_then_parse_gives_back_the_same_file(dvcfile: DvcFile):
    written = dump_dvcfile(dvcfile)
    assert written.endswith("\n")
    assert parse_dvcfile(written, origin="x.dvc") == dvcfile
    assert dump_dvcfile(parse_dvcfile(written, origin="x.dvc")) == written


@settings(max_examples=75, deadline=None)
@given(st.lists(outs(), min_size=1, max_size=3))
def test_the_fast_reader_agrees_with_yaml(out_list: list[Out]):
    # Plain `dvc add` files are read without YAML; both readers must agree.
    written = dump_dvcfile(DvcFile(outs=tuple(out_list)))
    parsed = parse_dvcfile(written, origin="x.dvc")
    loaded = load_yaml(written)
    assert [o.path for o in parsed.outs] == [item["path"] for item in loaded["outs"]]
    assert [o.oid for o in parsed.outs] == [item.get("md5") for item in loaded["outs"]]
    assert [o.size for o in parsed.outs] == [item.get("size") for item in loaded["outs"]]
