"""Imports only point down (STYLE.md, "Shape"): each layer of bale may import the
layers below it and its own, never one above. Every import counts, including
those inside functions (the lazy ones) and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import bale

SRC = Path(bale.__file__).resolve().parent

# Top to bottom. A package (`bale/<name>/`) or a module at the package root
# (`bale/<name>.py`) is named by <name>; `__init__` is the package root itself.
LAYERS: list[set[str]] = [
    {"cli", "api", "web", "__main__"},
    {"workspace", "view", "pipeline", "external", "registry"},
    {"repo", "remotes"},
    {"odb"},
    {"hashing"},
    {"formats", "errors", "fsutil", "progress", "parallel", "forks", "__init__"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _unit(module: str) -> str:
    """`bale.workspace.add` -> `workspace`; `bale` -> `__init__`."""
    parts = module.split(".")
    assert parts[0] == "bale", module
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(code: str, package: str) -> list[tuple[int, str]]:
    """(line, imported bale module) for every import in `code`, a module of `package`."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from bale import errors` imports the module bale.errors.
            if target == "bale":
                found += [(node.lineno, f"bale.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "bale" or name.startswith("bale.")]


def _imports_of(path: Path) -> list[tuple[int, str]]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return _imports(path.read_text("utf-8"), package)


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    unknown = sorted({_unit(_module_name(p)) for p in _sources()} - set(LEVEL))
    assert not unknown, (
        f"bale/{unknown[0]} is in no layer of STYLE.md; add it to LAYERS in {__file__}"
    )


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for path in _sources():
        here = _unit(_module_name(path))
        if here not in LEVEL:
            continue  # reported by the test above
        for line, name in _imports_of(path):
            there = _unit(name)
            if LEVEL.get(there, len(LAYERS)) < LEVEL[here]:
                upward.append(f"{path.relative_to(SRC.parent)}:{line} imports {name}")
    assert not upward, "imports pointing up:\n" + "\n".join(upward)


def test_the_checker_sees_lazy_relative_and_from_imports():
    code = (
        "import os\n"
        "from bale import errors, fsutil\n"
        "from ..odb import store\n"
        "from . import walk\n"
        "def f():\n"
        "    from bale.cli import main\n"
        "    import bale.repo.config\n"
    )
    assert sorted(name for _, name in _imports(code, "bale.hashing")) == [
        "bale.cli",
        "bale.errors",
        "bale.fsutil",
        "bale.hashing",
        "bale.odb",
        "bale.repo.config",
    ]
