"""YAML as DVC writes it (ruamel.yaml, YAML 1.2): quoting, folding, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bale.formats.dvcfile import DvcFile, Out, dump_dvcfile, parse_dvcfile
from bale.formats.yaml import dump_yaml, load_yaml

GOLDEN = json.loads((Path(__file__).parent / "dvc_paths_golden.json").read_text("utf-8"))
MD5 = "401b30e3b8b5d629635a5c613cdb7919"
# ruamel folds this name at a double space, and a folded plain scalar reads
# back with one space: dvc itself cannot read back what it wrote here.
DVC_CANNOT_READ_BACK = {"  ".join(["a", "double", "space"] * 5) + "  x"}


def _one_out(path: str) -> DvcFile:
    return DvcFile(outs=(Out(path=path, oid=MD5, size=2),))


@pytest.mark.parametrize(("name", "text"), GOLDEN["files"], ids=range(len(GOLDEN["files"])))
def test_dvcfile_bytes_equal_dvc_for_awkward_names(name: str, text: str):
    # Quoting (YAML 1.2 types, indicators, quotes), folding at 80 columns and
    # escapes must all be ruamel's, or a file dvc wrote changes when bale rewrites it.
    assert dump_dvcfile(_one_out(name)) == text


@pytest.mark.parametrize(
    ("name", "text"),
    [row for row in GOLDEN["files"] if row[0] not in DVC_CANNOT_READ_BACK],
    ids=lambda v: repr(v)[:20],
)
def test_dvcfile_dvc_wrote_reads_back_the_same_path(name: str, text: str):
    dvcfile = parse_dvcfile(text, origin="x.dvc")
    assert [(o.path, o.oid, o.size) for o in dvcfile.outs] == [(name, MD5, 2)]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("yes", "yes"),  # YAML 1.1 booleans are plain strings in 1.2
        ("on", "on"),
        ("1:20", "1:20"),  # no sexagesimal numbers in 1.2
        ("NaN", "NaN"),
        (".5e3", ".5e3"),  # ruamel's float needs a signed exponent after a leading dot
        ("true", "'true'"),
        ("null", "'null'"),
        ("", "''"),
        ("0o17", "'0o17'"),
        ("-.5", "'-.5'"),
        ("2001-12-14", "'2001-12-14'"),  # a timestamp
        ("=", "'='"),  # the YAML value key
        ("it's", "it's"),
        ("'q", '"\'q"'),  # cannot be plain and holds a quote: double quotes
    ],
)
def test_scalars_are_quoted_as_ruamel_quotes_them(value: str, written: str):
    assert dump_yaml({"k": value}) == f"k: {written}\n"
    assert load_yaml(dump_yaml({"k": value})) == {"k": value}


def test_unquoted_timestamps_and_unknown_keys_survive_a_rewrite():
    text = (
        "outs:\n"
        "- md5: 401b30e3b8b5d629635a5c613cdb7919\n"
        "  size: 2\n"
        "  hash: md5\n"
        "  path: x\n"
        "  meta:\n"
        "    created: 2024-01-31\n"
        "    at: 2001-12-14T21:59:43.100000-05:00\n"
        "    n: 3\n"
        "    ok: true\n"
        "    none:\n"
        "meta:\n"
        "  owner: team\n"
    )
    assert dump_dvcfile(parse_dvcfile(text, origin="x.dvc")) == text


def test_null_values_are_written_empty_as_ruamel_does():
    assert dump_yaml({"a": None, "b": {"c": None}}) == "a:\nb:\n  c:\n"
