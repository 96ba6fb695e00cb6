"""dvc.yaml reading (`formats/pipeline.py`) and params files (`formats/params.py`)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from bale.errors import DvcFileError
from bale.formats.params import flat_values, param_value, parse_params
from bale.formats.pipeline import Pipeline, StageDef, StageOut, parse_pipeline


def parse(text: str, files: dict[str, str] | None = None, origin: str = "dvc.yaml") -> Pipeline:
    files = files or {}
    return parse_pipeline(textwrap.dedent(text), origin=origin, read=files.get)


def stage(text: str, files: dict[str, str] | None = None) -> StageDef:
    (only,) = parse(text, files).stages
    return only


def error(text: str, files: dict[str, str] | None = None) -> str:
    with pytest.raises(DvcFileError) as e:
        parse(text, files)
    return str(e.value)


# -- plain stages -----------------------------------------------------------------


def test_every_stage_field() -> None:
    s = stage(
        """\
        stages:
          train:
            desc: trains
            cmd: python train.py
            wdir: sub/
            deps: [data, train.py]
            params:
              - lr
              - other.json: [a.b, c]
              - whole.toml:
            outs:
              - model.pkl
              - cache-less:
                  cache: false
                  persist: true
                  push: false
                  remote: r1
                  desc: ignored here
            metrics:
              - m.json:
                  cache: false
            plots:
              - p.csv:
                  x: step
                  y: loss
              - q.csv
            frozen: true
            always_changed: true
            meta: {owner: me}
        """
    )
    assert s == StageDef(
        name="train",
        cmd="python train.py",
        wdir="sub",
        deps=("data", "train.py"),
        params=(("params.yaml", ("lr",)), ("other.json", ("a.b", "c")), ("whole.toml", None)),
        outs=(
            StageOut("model.pkl"),
            StageOut("cache-less", cache=False, persist=True, push=False, remote="r1"),
            StageOut("m.json", "metrics", cache=False),
            StageOut("p.csv", "plots"),
            StageOut("q.csv", "plots"),
        ),
        frozen=True,
        always_changed=True,
        desc="trains",
        meta={"owner": "me"},
        line=2,
    )


def test_defaults_list_cmd_and_file_order() -> None:
    p = parse(
        """\
        stages:
          b:
            cmd: [echo 1, echo 2]
          a:
            cmd: echo
        """
    )
    assert [s.name for s in p.stages] == ["b", "a"]
    assert p.stages[0] == StageDef("b", ["echo 1", "echo 2"], ".", (), (), (), line=2)
    assert p.stages[1].line == 4


def test_empty_file_and_no_stages() -> None:
    assert parse("") == Pipeline((), {})
    assert parse("vars: [{a: 1}]\n").stages == ()


def test_top_level_sections_kept_raw() -> None:
    p = parse(
        """\
        params: [extra.yaml]
        metrics: [m.json]
        plots:
          - p.csv
          - acc:
              x: step
        artifacts:
          model: {path: model.pkl, type: model}
        datasets:
          - {type: dvc, name: ds, url: ..}
        stages: {}
        """
    )
    assert p.extra == {
        "params": ["extra.yaml"],
        "metrics": ["m.json"],
        "plots": ["p.csv", {"acc": {"x": "step"}}],
        "artifacts": {"model": {"path": "model.pkl", "type": "model"}},
        "datasets": [{"type": "dvc", "name": "ds", "url": ".."}],
    }


def test_params_merged_as_dvc_does() -> None:
    """Bare keys are params.yaml's; a whole-file entry wins over listed keys;
    params.yaml first, then files by name, as dvc.lock lists them."""
    s = stage(
        """\
        stages:
          a:
            cmd: echo
            params:
              - z.yaml: [k]
              - lr
              - b.json: []
              - b.json: [x]
              - lr
              - z.yaml: [j, k]
        """
    )
    assert s.params == (("params.yaml", ("lr",)), ("b.json", None), ("z.yaml", ("k", "j")))
    s = stage("stages:\n  a:\n    cmd: echo\n    params: [lr, {params.yaml: null}, x]\n")
    assert s.params == (("params.yaml", None),)


def test_same_out_twice_in_a_section_is_one_output() -> None:
    s = stage(
        """\
        stages:
          s:
            cmd: echo
            outs: [a, {a: {cache: false}}, b]
            metrics: [a]
        """
    )
    assert s.outs == (StageOut("a", cache=False), StageOut("b"), StageOut("a", "metrics"))


def test_paths_kept_as_written() -> None:
    s = stage("stages:\n  s:\n    cmd: echo\n    wdir: ../up\n    deps: [/abs, ../x]\n")
    assert (s.wdir, s.deps) == ("../up", ("/abs", "../x"))


# -- interpolation ------------------------------------------------------------------


def test_params_yaml_and_vars() -> None:
    files = {
        "params.yaml": "lr: 0.1\nmodel: {layers: [8, 16], name: m}\n",
        "v.yaml": "size: 3\nmodel: {depth: 2}\n",
        "keys.yaml": "a: 1\nb: {k: 2}\nc: 3\n",
    }
    s = stage(
        """\
        vars:
          - v.yaml
          - keys.yaml:a,b
          - inline: x y
            model: {extra: true}
        stages:
          s:
            cmd: >-
              echo ${lr} ${model.layers[1]} ${model.layers.0} ${ model.name } ${size}
              ${model.depth} ${a} ${b.k} ${inline} ${model.extra} ${model.layers[-1]}
        """,
        files,
    )
    assert s.cmd == "echo 0.1 16 8 m 3 2 1 2 x y true 16"
    assert s.params == ()  # values used in ${} are not params (as in dvc.lock)


def test_whole_value_keeps_its_type() -> None:
    s = stage(
        """\
        vars:
          - n: 5
            f: 1.0e-05
            b: false
            nothing: null
            word: w
        stages:
          s:
            cmd: echo ${n} ${f} ${b} ${nothing}
            desc: ${word}
            meta: {n: "${n}", s: "n=${n}", "${word}": "${b}"}
        """
    )
    assert s.cmd == "echo 5 1e-05 false None"
    assert (s.desc, s.meta) == ("w", {"n": 5, "s": "n=5", "w": False})


def test_escaped_interpolation() -> None:
    s = stage(
        """\
        vars: [{a: 1}]
        stages:
          s:
            cmd: echo \\${a} ${a} '\\${a}' $${a}
            desc: \\${a}
        """
    )
    assert (s.cmd, s.desc) == ("echo ${a} 1 '${a}' $1", "${a}")


def test_mapping_in_cmd_becomes_flags() -> None:
    s = stage(
        """\
        vars:
          - d: {a: 1, b: true, c: false, e: [1, "x y", true], f: {g: 2, h: {}}, n: null,
                s: "a b", z: []}
        stages:
          s:
            cmd: ["run ${d}", "two ${d.f}"]
        """
    )
    assert s.cmd == ["run --a 1 --b --e 1 'x y' True --f.g 2 --n None --s 'a b'", "two --g 2"]


def test_interpolated_paths_keys_and_wdir() -> None:
    files = {"params.yaml": "name: foo\nsub: s\n", "s/local.yaml": "x: 7\n"}
    s = stage(
        """\
        stages:
          s:
            wdir: ${sub}
            vars: [local.yaml]
            cmd: echo ${x}
            deps: ["in_${name}", "${x}.csv"]
            params: ["${name}", {"${name}.yaml": ["k${x}"]}]
            outs:
              - ${name}.txt:
                  cache: false
        """,
        files,
    )
    assert s.wdir == "s"
    assert s.cmd == "echo 7"
    assert s.deps == ("in_foo", "7.csv")
    assert s.params == (("params.yaml", ("foo",)), ("foo.yaml", ("k7",)))
    assert s.outs == (StageOut("foo.txt", cache=False),)


def test_stage_vars_stay_in_their_stage() -> None:
    p = parse(
        """\
        stages:
          a:
            vars: [{x: 1}]
            cmd: echo ${x}
          b:
            vars: [{x: 2}]
            cmd: echo ${x}
        """
    )
    assert [s.cmd for s in p.stages] == ["echo 1", "echo 2"]


def test_same_vars_file_twice_and_distinct_keys_load() -> None:
    files = {"params.yaml": "lr: 1\n", "p.yaml": "a: 1\nb: 2\n"}
    text = "vars: [params.yaml, p.yaml:a, p.yaml:b]\nstages:\n  s:\n    cmd: echo ${lr}${a}${b}\n"
    assert stage(text, files).cmd == "echo 112"


def test_vars_files_of_every_format() -> None:
    files = {
        "a.json": '{"j": 1}',
        "b.toml": "t = 2\n[sec]\nk = 'v'\n",
        "c.py": "P = 3\nclass Train:\n    lr = 0.5\n",
    }
    s = stage(
        "vars: [a.json, b.toml, c.py]\nstages:\n  s:\n    cmd: ${j}${t}${sec.k}${P}${Train.lr}\n",
        files,
    )
    assert s.cmd == "12v30.5"


def test_nested_mappings_merge() -> None:
    files = {"params.yaml": "m: {a: 1}\n"}
    s = stage("vars: [{m: {b: 2}}]\nstages:\n  s:\n    cmd: ${m.a}${m.b}\n", files)
    assert s.cmd == "12"


# -- foreach and matrix ---------------------------------------------------------------


def test_foreach_over_scalars_dicts_mapping_and_ref() -> None:
    files = {"params.yaml": "models: {a: {lr: 1}, b: {lr: 2}}\n"}
    p = parse(
        """\
        stages:
          scalars:
            foreach: [x, 1, true, null, 2.5]
            do:
              cmd: echo ${item}
              outs: ["o_${item}"]
          dicts:
            foreach:
              - {n: x, v: 1}
              - {n: y, v: 2}
            do:
              cmd: echo ${item.n} ${item.v}
          mapping:
            foreach: {p: [1], q: [2, 3]}
            do:
              cmd: echo ${key} ${item[0]}
          ref:
            foreach: ${models}
            do:
              cmd: train ${key} --lr ${item.lr}
        """,
        files,
    )
    got = {s.name: s.cmd for s in p.stages}
    assert got == {
        "scalars@x": "echo x",
        "scalars@1": "echo 1",
        "scalars@true": "echo true",
        "scalars@None": "echo None",
        "scalars@2.5": "echo 2.5",
        "dicts@0": "echo x 1",
        "dicts@1": "echo y 2",
        "mapping@p": "echo p 1",
        "mapping@q": "echo q 2",
        "ref@a": "train a --lr 1",
        "ref@b": "train b --lr 2",
    }
    assert [s.name for s in p.stages][5:9] == ["dicts@0", "dicts@1", "mapping@p", "mapping@q"]
    assert p.stages[0].outs == (StageOut("o_x"),)
    assert {s.line for s in p.stages if s.name.startswith("scalars")} == {2}


def test_matrix_names_and_items() -> None:
    p = parse(
        """\
        vars:
          - models: [m1, m2]
        stages:
          train:
            matrix:
              model: ${models}
              cfg: [{lr: 1}, {lr: 2}]
              flag: [true]
            cmd: echo ${item.model} ${item.cfg.lr} ${item.flag} ${key}
            outs:
              - ${item.model}.pkl
        """
    )
    assert [(s.name, s.cmd) for s in p.stages] == [
        ("train@m1-cfg0-true", "echo m1 1 true m1-cfg0-true"),
        ("train@m1-cfg1-true", "echo m1 2 true m1-cfg1-true"),
        ("train@m2-cfg0-true", "echo m2 1 true m2-cfg0-true"),
        ("train@m2-cfg1-true", "echo m2 2 true m2-cfg1-true"),
    ]
    assert p.stages[2].outs == (StageOut("m2.pkl"),)


def test_item_from_top_vars_is_shadowed_in_foreach() -> None:
    p = parse(
        "vars: [{item: top}]\nstages:\n  s:\n    foreach: [a]\n    do:\n      cmd: ${item}\n"
        "  t:\n    cmd: ${item}\n"
    )
    assert [s.cmd for s in p.stages] == ["a", "top"]


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "files", "expected"),
    [
        ("stages:\n  a: [\n", {}, "dvc.yaml:3:1: malformed YAML"),
        (
            "stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n",
            {},
            "dvc.yaml:4:3: key 'a' appears twice",
        ),
        ("- a\n", {}, "dvc.yaml: expected a mapping"),
        ("stage:\n  a: {cmd: x}\n", {}, "dvc.yaml:1:1: unknown top-level key 'stage'"),
        ("stages:\n  s: echo\n", {}, "dvc.yaml:2:3: stage 's' must be a mapping"),
        ("stages:\n  s:\n    deps: [a]\n", {}, "dvc.yaml:2:3: stage 's' has no 'cmd'"),
        (
            "stages:\n  s:\n    cmd: x\n    dep: [a]\n",
            {},
            "dvc.yaml:4:5: stage 's': unknown key 'dep'",
        ),
        (
            "stages:\n  s:\n    cmd: x\n    frozen: yes\n",
            {},
            "dvc.yaml:4:13: stage 's': 'frozen' must be true or false",
        ),
        ("stages:\n  s:\n    cmd: x\n    deps:\n", {}, "stage 's': 'deps' must be a list"),
        ("stages:\n  s:\n    cmd: x\n    outs: [{o: {cash: false}}]\n", {}, "unknown flag 'cash'"),
        ("stages:\n  s:\n    cmd: x\n    outs: [{o: null}]\n", {}, "must map a path to a mapping"),
        (
            "stages:\n  s:\n    cmd: echo ${model.lr}\n",
            {},
            "dvc.yaml:3:10: stage 's': cmd: interpolation '${model.lr}': 'model' is not defined"
            " in vars or params.yaml; define it or fix the name",
        ),
        (
            "stages:\n  s:\n    cmd: echo ${model.lr}\n",
            {"params.yaml": "model: {}\n"},
            "interpolation '${model.lr}': 'model' has no 'lr'",
        ),
        ("stages:\n  s:\n    cmd: echo ${a..b}\n", {}, "'${a..b}' is not a valid expression"),
        ("stages:\n  s:\n    cmd: echo ${}\n", {}, "'${}' is not a valid expression"),
        ("vars: [{l: [1]}]\nstages:\n  s:\n    cmd: echo ${l}\n", {}, "'${l}' is a list"),
        (
            'vars: [{d: {a: 1}}]\nstages:\n  s:\n    cmd: x\n    deps: ["${d}"]\n',
            {},
            "is a mapping",
        ),
        ("vars: [{d: {a: 1}}]\nstages:\n  s:\n    cmd: ${d}\n", {}, "resolves to a mapping"),
        (
            "vars: [nofile.yaml]\nstages: {}\n",
            {},
            "dvc.yaml:1:8: vars: vars file 'nofile.yaml' does not exist",
        ),
        ("vars: [p.yaml:a, p.yaml:a]\n", {"p.yaml": "a: 1\n"}, "loads what is loaded already"),
        ("vars: [params.yaml:a]\n", {"params.yaml": "a: 1\n"}, "loads what is loaded already"),
        ("vars: [p.yaml:nokey]\n", {"p.yaml": "a: 1\n"}, "'p.yaml' has no key 'nokey'"),
        (
            "vars: [{a: 2}]\n",
            {"params.yaml": "a: 1\n"},
            "dvc.yaml:1:8: vars: 'a' from 'vars[0]' is defined already",
        ),
        ("vars: [{a: '${b}'}]\n", {}, "'${' is not allowed in vars"),
        ("stages: {}\n", {"params.yaml": "a: [\n"}, "params.yaml:2:1: malformed YAML"),
        ("vars: [p.json]\n", {"p.json": "{"}, "p.json: malformed params file"),
        (
            "vars: [p.yaml]\n",
            {"p.yaml": "- a\n"},
            "p.yaml: expected a mapping at the top, got list",
        ),
        (
            "stages:\n  s:\n    foreach: [a]\n    do:\n      vars: [{item: 1}]\n      cmd: x\n",
            {},
            "dvc.yaml:5:14: stage 's@a': vars: 's@a.vars[0]' defines 'item'",
        ),
        (
            "stages:\n  s:\n    foreach: [a]\n    do:\n      cmd: ${key}\n",
            {},
            "'key' is not defined",
        ),
        ("stages:\n  s:\n    do: {cmd: x}\n", {}, "dvc.yaml:2:3: stage 's' has 'foreach' missing"),
        (
            "stages:\n  s:\n    foreach: [a]\n    vars: [{a: 1}]\n    do: {cmd: x}\n",
            {},
            "dvc.yaml:4:5: stage 's': 'vars' cannot sit beside",
        ),
        (
            "stages:\n  s:\n    foreach: abc\n    do: {cmd: x}\n",
            {},
            "foreach must be a list or a mapping, got str",
        ),
        (
            "stages:\n  s:\n    foreach: [a]\n    do: {cmd: x, matrix: {a: [1]}}\n",
            {},
            "not a matrix inside foreach's 'do'",
        ),
        (
            "stages:\n  s:\n    matrix: {a: x}\n    cmd: x\n",
            {},
            "matrix 'a' must be a list, got str",
        ),
        (
            "stages:\n  s:\n    foreach: [1, '1']\n    do: {cmd: x}\n",
            {},
            "dvc.yaml:2:3: stage 's' generates 's@1' twice",
        ),
        ("stages:\n  a@b:\n    cmd: x\n", {}, "dvc.yaml:2:3: stage name 'a@b' holds '@'"),
        (
            "stages:\n  1:\n    cmd: x\n",
            {},
            "dvc.yaml:2:3: stage name 1 must be a non-empty string",
        ),
        ("stages:\n  '':\n    cmd: x\n", {}, "stage name '' must be a non-empty string"),
        (
            "stages:\n  a:\n    foreach: [b@c]\n    do: {cmd: x}\n"
            "  a@b:\n    foreach: [c]\n    do: {cmd: y}\n",
            {},
            "dvc.yaml:5:3: stage name 'a@b@c' is used twice",
        ),
    ],
)
def test_errors(text: str, files: dict[str, str], expected: str) -> None:
    assert expected in error(text, files)


def test_error_origin_is_the_given_path() -> None:
    with pytest.raises(DvcFileError) as e:
        parse("stages:\n  s: x\n", origin="sub/dvc.yaml")
    assert e.value.path == "sub/dvc.yaml:2:3"


def test_vars_file_of_a_nested_dvc_yaml_is_named_from_the_root() -> None:
    with pytest.raises(DvcFileError) as e:
        parse("vars: [p.yaml]\n", {"p.yaml": "- a\n"}, origin="sub/dvc.yaml")
    assert e.value.path == "sub/p.yaml"


def test_missing_params_file_or_key_is_not_an_error_here() -> None:
    s = stage("stages:\n  s:\n    cmd: x\n    params: [nokey, {nofile.yaml: [k]}]\n")
    assert s.params == (("params.yaml", ("nokey",)), ("nofile.yaml", ("k",)))


# -- params files ---------------------------------------------------------------------


def test_parse_params_formats() -> None:
    assert parse_params("a: 1\nb: {c: [1, 2]}\nd: on\n", "params.yaml") == {
        "a": 1,
        "b": {"c": [1, 2]},
        "d": "on",  # YAML 1.2, as DVC's ruamel.yaml reads it
    }
    assert parse_params("", "params.yaml") == {}
    assert parse_params('{"a": {"b": 1}}', "p.JSON") == {"a": {"b": 1}}
    assert parse_params("a = 1\n[t]\nb = 'x'\n", "p.toml") == {"a": 1, "t": {"b": "x"}}
    assert parse_params("a: 1\n", "noext") == {"a": 1}


def test_parse_python_params_without_running_them() -> None:
    text = textwrap.dedent(
        """\
        import os
        LR = 0.1
        NAMES: list = ["a", "b"]
        SHAPE = (1, 2)
        FLAGS = {"x": True}
        SKIPPED = os.getcwd()
        A = B = 3
        x, y = 1, 2
        open("/tmp/never-written", "w")

        class Train:
            epochs = 10
            computed = len("abc")

            def __init__(self):
                self.seed = 42
                local = 1

            class Inner:
                depth = 2
        """
    )
    assert parse_params(text, "params.py") == {
        "LR": 0.1,
        "NAMES": ["a", "b"],
        "SHAPE": (1, 2),
        "FLAGS": {"x": True},
        "Train": {"epochs": 10, "seed": 42, "Inner": {"depth": 2}},
    }


def test_parse_params_aliases() -> None:
    assert parse_params("a: &x {k: 1}\nb: *x\n", "p.yaml") == {"a": {"k": 1}, "b": {"k": 1}}
    assert parse_params("a: &x [*x]\n", "p.yaml")["a"][0] is not None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("a: [", "p.yaml"),
        ("a: 1\na: 2\n", "p.yaml"),
        ("{", "p.json"),
        ("a = ", "p.toml"),
        ("def (", "p.py"),
    ],
)
def test_parse_params_malformed(text: str, name: str) -> None:
    with pytest.raises(DvcFileError) as e:
        parse_params(text, name)
    assert e.value.path.startswith(name)


def test_param_value_and_flat_values() -> None:
    data = {"train": {"lr": 0.1, "layers": [8, {"n": 2}]}, "seed": 1}
    assert param_value(data, "train.lr") == 0.1
    assert param_value(data, "train.layers.1.n") == 2
    assert param_value(data, "seed") == 1
    assert param_value(data, "train.layers.-1") == {"n": 2}
    for missing in ("nope", "train.nope", "train.layers.5", "seed.x"):
        with pytest.raises(KeyError):
            param_value(data, missing)
    assert flat_values(data, ["train.lr", "seed", "missing", "train"]) == {
        "train.lr": 0.1,
        "seed": 1,
        "train": data["train"],
    }
    assert flat_values(data, None) == data


# -- side by side with dvc ---------------------------------------------------------------

# Prints, per case folder, the stages dvc 3 resolves (every dvc.yaml of its index).
_DVC_ORACLE = """
import json, os, sys
from dvc.repo import Repo
from dvc.dependency import ParamsDependency

def load(path):
    try:
        stages = Repo(path).index.stages
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}
    out = []
    for s in stages:
        params = [d for d in s.deps if isinstance(d, ParamsDependency)]
        out.append({
            "name": s.name,
            "cmd": s.cmd,
            "wdir": os.path.relpath(s.wdir, os.path.dirname(s.path)).replace(os.sep, "/"),
            "deps": [d.def_path for d in s.deps if d not in params],
            "params": {d.def_path: list(dict.fromkeys(d.params)) or None for d in params},
            "outs": [
                [o.def_path, "plots" if o.plot else "metrics" if o.metric else "outs",
                 o.use_cache, o.persist, o.can_push, o.remote]
                for o in s.outs
            ],
            "frozen": s.frozen,
            "always_changed": s.always_changed,
            "desc": s.desc,
            "meta": s.meta,
        })
    return {"stages": out}

print(json.dumps({p: load(p) for p in sys.argv[1:]}))
"""

_NESTED = "stages:\n  s:\n    wdir: w\n    vars: [local.yaml]\n    cmd: echo ${v} ${p} ${l}\n"
DVC_CASES: dict[str, dict[str, str]] = {
    "fields": {
        "dvc.yaml": """\
stages:
  train:
    desc: trains
    cmd: [python train.py, echo done]
    wdir: sub
    deps: [data, train.py]
    params: [lr, {other.json: [a.b, c]}, {whole.toml: null}, {z.yaml: []}, {p.py: [X]}]
    outs:
      - model.pkl
      - nocache: {cache: false, persist: true, push: false, remote: r1, desc: d}
      - model.pkl: {persist: true}
    metrics: [{m.json: {cache: false}}]
    plots: [{p.csv: {x: step, y: loss, cache: false}}, q.csv]
    frozen: true
    always_changed: true
    meta: {owner: me, tags: [a]}
  other:
    cmd: echo
""",
    },
    "interpolation": {
        "params.yaml": "lr: 0.1\nmodel: {layers: [8, 16], name: m}\nflag: true\nn: null\n",
        "v.yaml": "size: 3\nmodel: {depth: 2}\n",
        "keys.yaml": "a: 1\nb: {k: 2}\nc: 3\n",
        "dvc.yaml": """\
vars:
  - v.yaml
  - keys.yaml:a,b
  - params.yaml
  - inline: x y
    d: {a: 1, b: true, c: false, e: [1, "x y", true], f: {g: 2, h: {}}, s: "a'b", z: []}
stages:
  s:
    cmd: >-
      echo ${lr} ${model.layers[1]} ${model.layers.0} ${ model.name } ${size} ${model.depth}
      ${a} ${b.k} ${inline} ${flag} ${n} ${model.layers[-1]} \\${lr} $${lr} run ${d}
    deps: ["${model.name}.csv"]
    params: ["${model.name}", {"${model.name}.yaml": ["k${size}"]}]
    outs: [{"${model.name}.pkl": {cache: false}}]
    desc: ${model.name}
    meta: {n: "${size}", s: "n=${size}", f: "${flag}"}
  t:
    cmd: ["run ${d}", "${lr}"]
""",
    },
    "stage_vars_and_wdir": {
        "params.yaml": "sub: s\nx: 1\n",
        "s/local.yaml": "y: 2\n",
        "s/params.yaml": "z: 3\n",
        "dvc.yaml": """\
stages:
  a:
    wdir: ${sub}
    vars: [local.yaml, params.yaml, {w: 4}]
    cmd: echo ${x} ${y} ${z} ${w}
    params: [x]
  b:
    vars: [{w: 5}]
    cmd: echo ${w}
""",
    },
    "foreach": {
        "params.yaml": "models: {a: {lr: 1}, b: {lr: 2}}\nnames: [p, q]\nitem: top\n",
        "dvc.yaml": """\
stages:
  scalars:
    foreach: [x, 1, true, null, 2.5]
    do:
      cmd: echo ${item}
      outs: ["o_${item}"]
  dicts:
    foreach:
      - {n: x, v: 1}
      - {n: y, v: 2}
    do:
      cmd: echo ${item.n} ${item.v}
  mapping:
    foreach: {p: [1], q: [2, 3]}
    do:
      cmd: echo ${key} ${item[0]}
  ref:
    foreach: ${models}
    do:
      cmd: train ${key} --lr ${item.lr}
      params: ["models.${key}.lr"]
  names:
    foreach: ${names}
    do:
      vars: [{extra: e}]
      wdir: ${item}
      cmd: echo ${item} ${extra}
  top:
    cmd: echo ${item}
  grp@x:
    foreach: [a]
    do:
      cmd: echo ${item}
""",
    },
    "matrix": {
        "params.yaml": "models: [m1, m2]\n",
        "dvc.yaml": """\
stages:
  train:
    matrix:
      model: ${models}
      cfg: [{lr: 1}, {lr: 2}]
      n: [1, true, [x]]
    cmd: echo ${item.model} ${item.cfg.lr} ${key}
    outs:
      - ${item.model}.pkl:
          cache: false
""",
    },
    "names": {
        "dvc.yaml": """\
stages:
  a/b: {cmd: echo}
  a b: {cmd: echo}
  a:b: {cmd: echo}
  a.b: {cmd: echo}
  "1": {cmd: echo}
  ä: {cmd: echo}
""",
    },
    "nested": {
        "sub/dvc.yaml": "vars: [v.yaml]\n" + _NESTED + "    params: [p]\n",
        "sub/v.yaml": "v: 1\n",
        "sub/params.yaml": "p: 2\n",
        "sub/w/local.yaml": "l: 3\n",
        "params.yaml": "p: root\n",
    },
    "empty": {"dvc.yaml": ""},
    "no_stages": {"dvc.yaml": "vars: [{a: 1}]\nparams: [x.yaml]\n"},
    "python_params_vars": {
        "p.py": "A = 1\nclass T:\n    b = 2\n    def __init__(self):\n        self.c = 3\n",
        "t.toml": "x = 'y'\n",
        "j.json": '{"k": [1, 2]}',
        "dvc.yaml": "vars: [p.py, t.toml, j.json]\n"
        "stages:\n  s:\n    cmd: ${A}${T.b}${T.c}${x}${k[1]}\n",
    },
}

DVC_ERRORS: dict[str, dict[str, str]] = {
    "malformed": {"dvc.yaml": "stages:\n  a: [\n"},
    "duplicate_key": {"dvc.yaml": "stages:\n  a:\n    cmd: x\n    cmd: y\n"},
    "not_mapping": {"dvc.yaml": "stages:\n  s: echo\n"},
    "no_cmd": {"dvc.yaml": "stages:\n  s:\n    deps: [a]\n"},
    "unknown_key": {"dvc.yaml": "stages:\n  s:\n    cmd: x\n    dep: [a]\n"},
    "null_deps": {"dvc.yaml": "stages:\n  s:\n    cmd: x\n    deps:\n"},
    "undefined": {"dvc.yaml": "stages:\n  s:\n    cmd: echo ${nope.x}\n"},
    "list_in_cmd": {"dvc.yaml": "vars: [{l: [1]}]\nstages:\n  s:\n    cmd: echo ${l}\n"},
    "missing_vars_file": {"dvc.yaml": "vars: [nofile.yaml]\nstages:\n  s:\n    cmd: x\n"},
    "missing_vars_key": {"p.yaml": "a: 1\n", "dvc.yaml": "vars: [p.yaml:a, p.yaml:b]\n"},
    "collision": {"params.yaml": "a: 1\n", "dvc.yaml": "vars: [{a: 2}]\nstages: {}\n"},
    "partial_after_whole": {"params.yaml": "a: 1\n", "dvc.yaml": "vars: [params.yaml:a]\n"},
    "malformed_params": {"params.yaml": "a: [\n", "dvc.yaml": "stages:\n  s:\n    cmd: x\n"},
    "reserved_item": {
        "dvc.yaml": "stages:\n  s:\n    foreach: [a]\n    do:\n      vars: [{item: 1}]\n"
        "      cmd: x\n"
    },
    "key_in_list_foreach": {"dvc.yaml": "stages:\n  s:\n    foreach: [a]\n    do: {cmd: ${key}}\n"},
    "do_alone": {"dvc.yaml": "stages:\n  s:\n    do: {cmd: x}\n"},
    "beside_foreach": {
        "dvc.yaml": "stages:\n  s:\n    foreach: [a]\n    wdir: x\n    do: {cmd: x}\n"
    },
    "empty_matrix": {"dvc.yaml": "stages:\n  s:\n    matrix: {}\n    cmd: x\n"},
    "at_in_name": {"dvc.yaml": "stages:\n  a@b:\n    cmd: x\n"},
    "int_name": {"dvc.yaml": "stages:\n  1:\n    cmd: x\n"},
    "empty_name": {"dvc.yaml": "stages:\n  '':\n    cmd: x\n"},
    "interpolated_vars": {"dvc.yaml": "vars: [{a: 1}, {b: '${a}'}]\n"},
}


@pytest.fixture(scope="module")
def dvc_resolved(dvc_exe: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Every case written to its own folder, and what one run of dvc makes of them."""
    root = tmp_path_factory.mktemp("dvc-cases")
    for case, files in {**DVC_CASES, **DVC_ERRORS}.items():
        for rel, text in {**files, ".dvc/config": "[core]\n    no_scm = True\n"}.items():
            (root / case / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / case / rel).write_text(text)
    home = root / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "system-dvc"),
    }
    proc = subprocess.run(
        [str(Path(dvc_exe).with_name("python")), "-c", _DVC_ORACLE, *DVC_CASES, *DVC_ERRORS],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return root, json.loads(proc.stdout)


def bale_resolved(folder: Path) -> list[dict]:
    """bale's stages of every dvc.yaml under a folder, in the shape dvc's index gives."""
    stages = []
    for path in sorted(folder.rglob("dvc.yaml")):
        base = path.parent

        def read(rel: str, base: Path = base) -> str | None:
            return (base / rel).read_text() if (base / rel).is_file() else None

        origin = path.relative_to(folder).as_posix()
        for s in parse_pipeline(path.read_text(), origin=origin, read=read).stages:
            stages.append(
                {
                    "name": s.name,
                    "cmd": s.cmd,
                    "wdir": s.wdir,
                    "deps": list(s.deps),
                    "params": {f: None if k is None else list(k) for f, k in s.params},
                    "outs": [list(o) for o in s.outs],
                    "frozen": s.frozen,
                    "always_changed": s.always_changed,
                    "desc": s.desc,
                    "meta": s.meta,
                }
            )
    return json.loads(json.dumps(stages))


@pytest.mark.parametrize("case", sorted(DVC_CASES))
def test_resolves_as_dvc(case: str, dvc_resolved: tuple[Path, dict]) -> None:
    root, resolved = dvc_resolved
    want = resolved[case]
    assert "error" not in want, want
    by_name = sorted(want["stages"], key=lambda s: s["name"])
    assert by_name or case in ("empty", "no_stages")
    assert sorted(bale_resolved(root / case), key=lambda s: s["name"]) == by_name


@pytest.mark.parametrize("case", sorted(DVC_ERRORS))
def test_refuses_what_dvc_refuses(case: str, dvc_resolved: tuple[Path, dict]) -> None:
    root, resolved = dvc_resolved
    assert "error" in resolved[case], resolved[case]
    with pytest.raises(DvcFileError):
        bale_resolved(root / case)


PARAMS_SAMPLES = {
    "params.yaml": "lr: 0.1\nflag: on\nn: ~\nlist: [1, 2.5e-3, 0o17, 1_000]\nnest: {a: {b: c}}\n",
    "empty.yaml": "",
    "p.json": '{"a": {"b": [1, 2.5, null, true]}, "s": "x"}',
    "p.toml": "a = 1\nb = [1, 2]\n[t]\nc = 'x'\n[t.u]\nd = true\n",
    "p.py": textwrap.dedent(
        """\
        import os
        LR = 0.1
        NAMES: list = ["a", "b"]
        SHAPE = (1, 2)
        SKIPPED = os.getcwd()
        A = B = 3
        x, y = 1, 2
        self.top = 5
        D = {"a": 1, **{}}
        N: int
        S = {1, 2}
        NEG = -1.5

        class Train:
            epochs = 10
            computed = len("abc")

            def __init__(self):
                self.seed = 42
                local = 1

            class Inner:
                depth = 2

        def __init__():
            self.mod = 1
        """
    ),
}


def test_params_files_read_as_dvc_reads_them(dvc_exe: str, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from dvc.utils.serialize import PARSERS\n"
        "for name in sys.argv[1:]:\n"
        "    suffix = '.' + name.rpartition('.')[2]\n"
        "    print(repr(PARSERS[suffix](open(name).read(), name)))\n"
    )
    for name, text in PARAMS_SAMPLES.items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run(
        [str(Path(dvc_exe).with_name("python")), "-c", script, *PARAMS_SAMPLES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    ours = [repr(parse_params(text, name)) for name, text in PARAMS_SAMPLES.items()]
    assert ours == proc.stdout.splitlines()
