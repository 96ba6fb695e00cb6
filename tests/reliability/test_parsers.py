"""Every parser of untrusted input gives a value or its own error, never
another exception, never a hang; writers round-trip their bytes."""

from __future__ import annotations

import builtins
import json
import os
import tempfile

from hypothesis import strategies as st

from bale.errors import BaleError, ConfigError, DvcFileError, ManifestError
from bale.formats.dvcfile import DvcFile, Out, dump_dvcfile, parse_dvcfile
from bale.formats.lockfile import parse_lockfile
from bale.formats.manifest import check_relpath, dump_manifest, parse_manifest
from bale.formats.params import parse_params
from bale.formats.pipeline import parse_pipeline
from bale.formats.yaml import dump_yaml
from bale.registry.areas import INDEX, read_index
from bale.registry.cards import CardError, parse_card
from bale.registry.settings import Area, parse_settings
from bale.registry.tags import parse_tag, semver_key
from bale.remotes.local import LocalBackend
from bale.repo.config import parse_text
from tests.reliability.guard import outcome, pair

# -- strategies ---------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "item", "key", "lr", "x.y", "s", "0", "-1"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False),
    st.text(max_size=12), NAMES.map(lambda n: f"${{{n}}}"),
    st.builds(lambda a, b: f"{a} ${{{b}}}", st.text(max_size=5), NAMES),
)  # fmt: skip
data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | NAMES, inner, max_size=4)
    ),
    max_leaves=20,
)
# Pieces of YAML syntax, joined at random: anchors, aliases, flow and block
# collections, `${}`, deep nesting.
YAML_BITS = ["[", "]", "{", "}", "- ", ": ", ", ", "\n", "\n  ", "&a ", "*a", "&b ", "*b",
             "? ", "!!map ", "!!str ", "'", '"', "#", "${", "}", "stages", "cmd", "foreach",
             "do", "matrix", "vars", "outs", "path", "md5", "x", "1", "---\n", "|\n  ", "\t",
             "\\", "\x00", "\ufeff", "[" * 50, "- " * 40]  # fmt: skip
yaml_soup = st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=4), max_size=40).map("".join)
yaml_text = st.one_of(st.text(max_size=200), yaml_soup, data.map(dump_yaml))

# -- .dvc files -----------------------------------------------------------------

MD5S = st.text("0123456789abcdef", min_size=32, max_size=32)
paths = st.text(min_size=1, max_size=20).filter(lambda p: p.strip() == p)
outs = st.builds(
    Out,
    path=paths,
    oid=st.none() | MD5S | MD5S.map(lambda m: m + ".dir"),
    hash_name=st.just("md5"),
    size=st.none() | st.integers(0, 2**63),
    nfiles=st.none() | st.integers(0, 10**6),
    isexec=st.booleans(),
    cache=st.booleans(),
    push=st.booleans(),
    remote=st.none() | st.text(min_size=1, max_size=8),
    extra=st.dictionaries(st.sampled_from(["desc", "type", "labels", "meta", "x"]), data,
                          max_size=2),
)  # fmt: skip


def check_dvcfile_text(text: str) -> None:
    """Any text parses or raises DvcFileError; a parsed file dumps stably."""
    parsed, _ = outcome(DvcFileError, parse_dvcfile, text, origin="a.dvc")
    if parsed is not None:
        once = dump_dvcfile(parsed)
        assert dump_dvcfile(parse_dvcfile(once, origin="a.dvc")) == once


def check_dvcfile_written(outs_: list[Out]) -> None:
    """A written file parses back to the same bytes."""
    text = dump_dvcfile(DvcFile(tuple(outs_)))
    parsed, error = outcome(DvcFileError, parse_dvcfile, text, origin="a.dvc")
    assert error is None, error
    assert dump_dvcfile(parsed) == text


test_dvcfile_text, test_dvcfile_text_slow = pair(check_dvcfile_text, yaml_text)
test_dvcfile_written, test_dvcfile_written_slow = pair(
    check_dvcfile_written, st.lists(outs, min_size=1, max_size=3)
)

# -- dvc.yaml and dvc.lock ---------------------------------------------------------

stage = st.fixed_dictionaries(
    {"cmd": st.one_of(scalars, st.lists(scalars, max_size=3), NAMES.map(lambda n: f"${{{n}}}"))},
    optional={
        "deps": st.lists(scalars, max_size=3), "outs": st.lists(scalars | data, max_size=2),
        "params": st.lists(scalars | data, max_size=2), "wdir": scalars,
        "vars": st.lists(data, max_size=2), "meta": data,
        "matrix": st.dictionaries(NAMES, st.lists(scalars, max_size=4) | scalars, max_size=3),
    },
)  # fmt: skip
foreach = st.fixed_dictionaries({"foreach": data | NAMES.map(lambda n: f"${{{n}}}"), "do": stage})
pipelines = st.fixed_dictionaries(
    {"stages": st.dictionaries(st.text(max_size=6) | NAMES, stage | foreach, max_size=3)},
    optional={"vars": st.lists(data | NAMES, max_size=2), "params": data, "plots": data},
).map(dump_yaml)
params_texts = st.dictionaries(NAMES, data, max_size=4).map(dump_yaml) | yaml_text


def check_pipeline(text: str, params: str) -> None:
    """dvc.yaml text (and its params.yaml, vars files) parses or raises DvcFileError."""
    outcome(DvcFileError, parse_pipeline, text, origin="dvc.yaml", read=lambda p: params)


def check_lockfile(text: str) -> None:
    outcome(DvcFileError, parse_lockfile, text, origin="dvc.lock")


test_pipeline, test_pipeline_slow = pair(check_pipeline, pipelines | yaml_text, params_texts)
test_lockfile, test_lockfile_slow = pair(check_lockfile, yaml_text)


def test_huge_matrix_is_refused() -> None:
    """Eight short lists make 10^8 stages: a clear refusal, at once."""
    axes = ", ".join(f"a{i}: [1,2,3,4,5,6,7,8,9,10]" for i in range(8))
    text = f"stages:\n  s:\n    matrix: {{{axes}}}\n    cmd: x\n"
    _, error = outcome(DvcFileError, parse_pipeline, text, origin="dvc.yaml", read=lambda p: None)
    assert error is not None and "matrix makes" in str(error)


def test_alias_bomb_and_self_alias_are_refused() -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    for text in (f"vars:\n  - {{{bomb.replace(chr(10), ', ')}}}\nstages: {{}}\n",
                 "stages:\n  s:\n    cmd: x\n    meta: &m [*m]\n"):  # fmt: skip
        _, error = outcome(
            DvcFileError, parse_pipeline, text, origin="dvc.yaml", read=lambda p: None
        )
        assert error is not None


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    """libyaml's composer crashed the process on ~30,000 levels."""
    for text in ("[" * 30000, "- " * 30000 + "x", "a: " + "[" * 5000 + "]" * 5000):
        for parse in (lambda t: parse_dvcfile(t, origin="a.dvc"),
                      lambda t: parse_lockfile(t, origin="dvc.lock"),
                      lambda t: parse_pipeline(t, origin="dvc.yaml", read=lambda p: None),
                      lambda t: parse_params(t, "params.yaml")):  # fmt: skip
            _, error = outcome(DvcFileError, parse, text)
            assert error is not None
        assert outcome(CardError, parse_card, f"---\nx: {text}\n---\n")[1] is not None
        assert outcome(ConfigError, parse_settings, text)[1] is not None


# -- config, params ------------------------------------------------------------------

INI_BITS = ["[", "]", "[core]", "['remote \"s\"']", '[remote "S"]', "[[x]]", "remote = s",
            "url = /tmp", "=", "'", '"', ",", "#", "\n", "\n  ", "\t", "a", "Key",
            '"""']  # fmt: skip
ini_text = st.text(max_size=120) | st.lists(
    st.sampled_from(INI_BITS) | st.text(max_size=3), max_size=30
).map("".join)


def check_config(text: str) -> None:
    outcome(ConfigError, parse_text, text, "/tmp/config")


test_config, test_config_slow = pair(check_config, ini_text)

PY_BITS = ["x = ", "self.", "class C:\n    ", "def __init__(self):\n        ", "import os\n",
           "__import__('builtins').BALE_RAN = 1\n", "open('BALE_RAN', 'w')\n", "[", "]",
           "(", ")", "{", "}", "1", "'s'", ", ", ": ", "\n", "-", "not ", "lambda: ", "*",
           "exec('import builtins; builtins.BALE_RAN = 1')\n"]  # fmt: skip
params_source = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(PY_BITS) | st.text(max_size=3), max_size=30).map("".join),
    data.map(lambda d: json.dumps(d, allow_nan=True)),
    data.map(lambda d: f"x = {d!r}\n"),
)
suffixes = st.sampled_from(["params.yaml", "p.json", "p.toml", "p.py", "p.yml", "P.PY"])


def check_params(text: str, name: str) -> None:
    """Any file parses to a mapping or raises DvcFileError; Python is never run."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as here:
        os.chdir(here)
        try:
            value, _ = outcome(DvcFileError, parse_params, text, name)
            assert not os.listdir(here), "parsing a params file wrote a file"
        finally:
            os.chdir(cwd)
    assert not hasattr(builtins, "BALE_RAN"), "parsing a params file ran its code"
    assert value is None or isinstance(value, dict)


test_params, test_params_slow = pair(check_params, params_source | yaml_text, suffixes)

# -- .dir manifests, sync index ------------------------------------------------------

HOSTILE = ["..", ".", "", "/etc/passwd", "a/../b", "a//b", "a/./b", "a\\b", "a\0b", "C:\\x",
           "a/", "/", "a/b", "a", "a/b/c", "\u202e", " ", "~"]  # fmt: skip
relpaths = st.sampled_from(HOSTILE) | st.text(max_size=10)
entry_dicts = st.fixed_dictionaries(
    {}, optional={"md5": MD5S | scalars, "relpath": relpaths | scalars, "x": scalars}
)
manifest_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(entry_dicts | data, max_size=6).map(lambda v: json.dumps(v).encode()),
    st.lists(st.sampled_from(["[", "]", "{", "}", ",", '"md5"', '"relpath"', ":", "null",
                              '"a"', "\\u0000", "1e999", " "]), max_size=30)
    .map(lambda v: "".join(v).encode()),
)  # fmt: skip


def check_manifest(raw: bytes) -> None:
    """Bytes parse to safe entries or raise ManifestError; entries dump and parse back."""
    entries, _ = outcome(ManifestError, parse_manifest, raw, oid="x.dir")
    if entries is not None:
        for relpath, _md5 in entries:
            assert check_relpath(relpath) == relpath
        dumped = dump_manifest(entries)
        assert parse_manifest(dumped, oid="x.dir") == entries
        assert dump_manifest(parse_manifest(dumped, oid="x.dir")) == dumped


test_manifest, test_manifest_slow = pair(check_manifest, manifest_bytes)

_REMOTE = tempfile.mkdtemp(prefix="bale-reliability-")
_AREA = Area("folder", None, "synced/area")


def index_bytes() -> st.SearchStrategy[bytes]:
    files = st.dictionaries(relpaths, st.lists(scalars, max_size=3) | scalars, max_size=4)
    docs = st.fixed_dictionaries(
        {}, optional={"files": files | data, "tree": scalars, "format": data}
    )
    return st.binary(max_size=100) | docs.map(lambda d: json.dumps(d).encode()) | manifest_bytes


def check_index(raw: bytes) -> None:
    """An index of any bytes reads or raises ConfigError; its paths are safe."""
    os.makedirs(os.path.join(_REMOTE, "synced", "area"), exist_ok=True)
    with open(os.path.join(_REMOTE, "synced", "area", INDEX), "wb") as fobj:
        fobj.write(raw)
    read, _ = outcome(ConfigError, read_index, LocalBackend(_REMOTE), _AREA)
    if read is not None:
        tree, files = read
        assert tree is None or isinstance(tree, str)
        for relpath, (md5, size) in files.items():
            assert check_relpath(relpath) == relpath
            assert isinstance(md5, str) and isinstance(size, int)


test_index, test_index_slow = pair(check_index, index_bytes())

# -- registry: cards, tags, bale.yaml ---------------------------------------------------

card_text = st.one_of(
    st.text(max_size=120),
    st.builds(lambda f, b: f"---\n{f}\n---\n{b}", yaml_text, st.text(max_size=30)),
    st.builds(lambda f: f"---\r\n{f}", yaml_text),
)


def check_card(text: str) -> None:
    card, _ = outcome(CardError, parse_card, text)
    assert card is None or isinstance(card.front, dict)


TAG_BITS = ["@v", "#", "!", "=", "@deprecated", "@created", "1", ".", "0", "-", "+", "rc",
            "a", "dir/", "Z9", "_", "01"]  # fmt: skip
tag_names = st.text(max_size=30) | st.lists(st.sampled_from(TAG_BITS), max_size=12).map("".join)


def check_tag(name: str) -> None:
    """parse_tag never raises; a version it finds has a SemVer order."""
    fields, _ = outcome((), parse_tag, name)
    if fields is not None and fields["version"]:
        outcome((), semver_key, fields["version"])


SETTINGS_BITS = ["folders:", "\n  ", "\n    ", "kind: model", "kind: x", "card: true",
                 "required: [a]", "sync: {prefix: p}", "sync: {prefix: files}", "prefix: ..",
                 "ignored: true", "remote: 1", "/abs", "..", "a", "a/b", ": ", "- ",
                 "\0"]  # fmt: skip
settings_text = yaml_text | st.lists(
    st.sampled_from(SETTINGS_BITS) | st.text(max_size=3), max_size=25
).map("".join)


def check_settings(text: str) -> None:
    outcome(ConfigError, parse_settings, text)


test_card, test_card_slow = pair(check_card, card_text)
test_tag, test_tag_slow = pair(check_tag, tag_names)
test_settings, test_settings_slow = pair(check_settings, settings_text)


def test_errors_are_bale_errors() -> None:
    """The error types the properties allow are the project's one-line ones."""
    for error in (DvcFileError, ConfigError, ManifestError):
        assert issubclass(error, BaleError)
    assert issubclass(CardError, ValueError)


def test_unknown_tags_are_dvcfile_errors() -> None:
    """A tag PyYAML cannot build raised ConstructorError out of both readers."""
    for text in ("!0 x\n", "stages: !!map x\n", "a: !!python/object:os.system x\n"):
        assert outcome(DvcFileError, parse_params, text, "params.yaml")[1] is not None
        _, error = outcome(
            DvcFileError, parse_pipeline, text, origin="dvc.yaml", read=lambda p: None
        )
        assert error is not None
