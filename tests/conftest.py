"""Shared fixtures: run the real `bale` and `git` in temporary repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from tests.fixtures import dvc_forks as dvc_forks_module
from tests.reliability.report import record

pytest_plugins = ["tests.fixtures.servers"]

# `make test` gates merges, so its property tests draw the same examples on
# every run; run pytest alone to explore new ones.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bale tests",
    "GIT_AUTHOR_EMAIL": "tests@bale.invalid",
    "GIT_COMMITTER_NAME": "bale tests",
    "GIT_COMMITTER_EMAIL": "tests@bale.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def isolated_vars(home: Path) -> dict[str, str]:
    """The variables that keep a test off the user's global git and bale/dvc config."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(home / ".config" / "dvc"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "system-dvc"),
        **GIT_ENV,
    }


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep tests off the user's global git and bale/dvc config."""
    for key, value in isolated_vars(tmp_path_factory.mktemp("home")).items():
        monkeypatch.setenv(key, value)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A test marked `reliability(PART)` is one case of that part of
    docs/reliability.md: survived when it passed (see report.py)."""
    report = yield
    marker = item.get_closest_marker("reliability")
    if marker and report.when == "call" and not report.skipped:
        name = getattr(item, "originalname", item.name).removeprefix("test_")
        where = item.path.relative_to(item.config.rootpath)
        record(marker.args[0], name.replace("_", " "), 1, int(report.passed),
               reproduce=f"pytest {where} -m 'slow or not slow'")  # fmt: skip
    return report


Run = Callable[..., subprocess.CompletedProcess]


def _subprocess(argv: list[str], cwd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, **kw)


def _runner(argv0: list[str], start=_subprocess) -> Run:
    def run(
        *args: str, cwd: os.PathLike | str, ok: bool | None = True, **kw
    ) -> subprocess.CompletedProcess:
        proc = start([*argv0, *map(str, args)], cwd=cwd, **kw)
        if ok is True and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join([*argv0, *map(str, args)])} failed ({proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        if ok is False and proc.returncode == 0:
            raise AssertionError(f"{args} unexpectedly succeeded:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def bale() -> Run:
    """Run the `bale` command (the installed console script, or -m bale)."""
    exe = shutil.which("bale", path=os.path.dirname(sys.executable))
    return _runner([exe] if exe else [sys.executable, "-m", "bale"])


@pytest.fixture
def git() -> Run:
    return _runner(["git"])


@pytest.fixture(scope="session")
def dvc_exe() -> str:
    """The real dvc, installed in its own virtualenv by `make test`."""
    exe = os.environ.get("BALE_TEST_DVC") or str(
        Path(__file__).resolve().parent.parent / ".venv-dvc" / "bin" / "dvc"
    )
    if not os.path.exists(exe):
        pytest.fail(f"dvc not found at {exe}; run: make dvc-venv (make test does it)")
    return exe


@pytest.fixture(scope="session")
def dvc_forks(dvc_exe: str, tmp_path_factory: pytest.TempPathFactory):
    """One Python with dvc imported, forked for each `dvc` call (see dvc_forks.py);
    None when BALE_TEST_DVC_FORKS=0."""
    if not dvc_forks_module.enabled():
        yield None
        return
    workdir = tmp_path_factory.mktemp("dvc-forks")
    home = workdir / "home"
    home.mkdir()
    server = dvc_forks_module.DvcForks(dvc_exe, workdir, {**os.environ, **isolated_vars(home)})
    yield server
    server.close()


@pytest.fixture
def dvc(dvc_exe: str, dvc_forks) -> Run:
    """Run the real dvc; the same as a new `dvc` process each call, without its start-up."""
    if dvc_forks is None:
        return _runner([dvc_exe])

    def start(argv: list[str], cwd, **kw) -> subprocess.CompletedProcess:
        if set(kw) - {"env"} or not os.path.isdir(cwd):  # input=, timeout=...: as before
            return _subprocess(argv, cwd, **kw)
        return dvc_forks.run(argv[1:], cwd=cwd, env=kw.get("env"))

    return _runner([dvc_exe], start)


@pytest.fixture
def repo(tmp_path: Path, git: Run, bale: Run) -> Path:
    """An empty git repository with `bale init` done and committed."""
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    bale("init", cwd=root)
    git("commit", "-qm", "init", cwd=root)
    return root
