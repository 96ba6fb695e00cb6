"""`bale git-hook install` / `uninstall` and the hooks themselves, run by real git:
checkout after a branch checkout, the card check before a commit, push before
a push; hooks bale did not write are never replaced without -f, nor removed."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import yaml

from bale.registry.hooks import HOOKS, hook_script
from tests.cli.util import assert_error, snapshot

PROJECT = Path(__file__).resolve().parents[2]


def _hooks(repo: Path) -> Path:
    return repo / ".git" / "hooks"


def test_install_writes_hooks_and_the_merge_driver_once(repo: Path, bale, git) -> None:
    (repo / ".gitattributes").write_text("*.png binary")  # no newline at the end
    out = bale("git-hook", "install", cwd=repo).stdout
    assert "Installed git hooks in '.git/hooks': post-checkout, pre-commit, pre-push" in out
    assert "git add .gitattributes" in out
    for hook in HOOKS:
        path = _hooks(repo) / hook
        assert path.stat().st_mode & stat.S_IXUSR
        assert f'git-hook {hook} "$@"' in path.read_text()
    driver = git("config", "merge.bale.driver", cwd=repo).stdout
    assert "git-hook merge-driver --ancestor %O --ours %A --theirs %B" in driver
    assert "--path %P" in driver
    bale("git-hook", "install", "-q", cwd=repo)  # again: the same, nothing added twice
    assert (repo / ".gitattributes").read_text() == (
        "*.png binary\n*.dvc merge=bale\ndvc.lock merge=bale\n"
    )
    attr = git("check-attr", "merge", "--", "x.dvc", "sub/dvc.lock", "x.txt", cwd=repo).stdout
    assert attr.splitlines() == ["x.dvc: merge: bale", "sub/dvc.lock: merge: bale",
                                 "x.txt: merge: unspecified"]  # fmt: skip


def test_hooks_run_checkout_card_check_and_push(repo: Path, tmp_path: Path, bale, git) -> None:
    store = tmp_path / "store"
    bale("remote", "add", "-d", "store", str(store), cwd=repo)
    (repo / "data").mkdir()
    (repo / "data" / "a.txt").write_text("v1")
    bale("add", "-q", "data", cwd=repo)
    bale("git-hook", "install", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    git("checkout", "-q", "-b", "v2", cwd=repo)
    (repo / "data" / "a.txt").write_text("v2")
    bale("add", "-q", "data", cwd=repo)
    git("commit", "-qam", "v2", cwd=repo)

    git("checkout", "-q", "main", cwd=repo)  # post-checkout: bale checkout
    assert (repo / "data" / "a.txt").read_text() == "v1"
    git("checkout", "-q", "v2", "--", "data.dvc", cwd=repo)  # a file checkout: no bale checkout
    assert (repo / "data" / "a.txt").read_text() == "v1"
    git("checkout", "-q", "v2", cwd=repo)
    assert (repo / "data" / "a.txt").read_text() == "v2"

    # pre-commit: the card check of what is staged refuses an entry without its card.
    (repo / "models").mkdir()
    (repo / "models" / "template.card.md").write_text("# Card: {{ name }}\n")
    (repo / "models" / "m.bin").write_text("weights")
    bale("add", "-q", "models/m.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    proc = git("commit", "-qm", "model", cwd=repo, ok=False)
    assert "models/m.bin: has no card; run: bale card new models/m.bin" in proc.stdout + proc.stderr
    bale("card", "new", "-q", "models/m.bin", cwd=repo)
    git("add", "models/m.bin.card.md", cwd=repo)
    git("commit", "-qm", "model", cwd=repo)

    # pre-push: bale push uploads what the commits use.
    assert not store.exists()
    git("init", "-q", "--bare", str(tmp_path / "origin.git"), cwd=tmp_path)
    git("push", "-q", str(tmp_path / "origin.git"), "v2", cwd=repo)
    assert len([p for p in store.rglob("*") if p.is_file()]) == 3  # v2's file, its .dir, m.bin


def test_a_hook_bale_did_not_write_is_kept(repo: Path, bale, git) -> None:
    foreign = _hooks(repo) / "pre-push"
    foreign.write_text("#!/bin/sh\nexec dvc git-hook pre-push $@\n")
    before = snapshot(repo)
    assert_error(bale("git-hook", "install", cwd=repo, ok=False), "'.git/hooks/pre-push'",
                 "bale git-hook install -f")  # fmt: skip
    assert snapshot(repo) == before  # not one hook, no config, no .gitattributes
    assert git("config", "--get", "merge.bale.driver", cwd=repo, ok=None).returncode == 1

    out = bale("git-hook", "install", "-f", cwd=repo).stdout
    assert "Replaced '.git/hooks/pre-push' (not bale's)" in out
    assert "bale git-hook pre-push" in foreign.read_text()

    other = _hooks(repo) / "pre-commit"
    other.write_text("#!/bin/sh\nexit 0\n")  # written over bale's afterwards: not bale's now
    (repo / ".gitattributes").write_text("*.png binary\n*.dvc merge=bale\ndvc.lock merge=bale\n")
    out = bale("git-hook", "uninstall", cwd=repo).stdout
    assert "Removed git hooks from '.git/hooks': post-checkout, pre-push" in out
    assert "Left '.git/hooks/pre-commit': bale did not write it" in out
    assert other.read_text() == "#!/bin/sh\nexit 0\n"
    assert not (_hooks(repo) / "pre-push").exists()
    assert (repo / ".gitattributes").read_text() == "*.png binary\n"
    assert git("config", "--get-regexp", "^merge", cwd=repo, ok=None).stdout == ""
    assert "Nothing to remove" in bale("git-hook", "uninstall", cwd=repo).stdout


def test_core_hooks_path_is_respected(repo: Path, bale, git) -> None:
    git("config", "core.hooksPath", "githooks", cwd=repo)
    (repo / "sub").mkdir()
    bale("git-hook", "install", "-q", cwd=repo / "sub")
    assert sorted(p.name for p in (repo / "githooks").iterdir()) == sorted(HOOKS)
    assert not (_hooks(repo) / "pre-push").exists()
    bale("git-hook", "uninstall", "-q", cwd=repo)
    assert list((repo / "githooks").iterdir()) == []
    assert not (repo / ".gitattributes").exists()  # it held only bale's lines


def test_a_hook_finds_bale_on_path_when_its_own_is_gone(tmp_path: Path) -> None:
    script = tmp_path / "post-checkout"
    script.write_text(hook_script("post-checkout", [str(tmp_path / "gone" / "bale")]))
    script.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bale"
    fake.write_text('#!/bin/sh\necho "bale $*"\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    proc = subprocess.run([str(script), "a", "b", "1"], env=env, capture_output=True, text=True)
    assert proc.stdout == "bale git-hook post-checkout a b 1\n"
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "bale is neither at" in proc.stderr


def test_hooks_do_nothing_outside_a_repository(tmp_path: Path, bale) -> None:
    for hook, args in (("post-checkout", ["a", "b", "1"]), ("pre-commit", []), ("pre-push", [])):
        proc = bale("git-hook", hook, *args, cwd=tmp_path)
        assert proc.stdout == proc.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_install_needs_git(tmp_path: Path, bale) -> None:
    bale("init", "--no-scm", "-q", cwd=tmp_path)
    assert_error(bale("git-hook", "install", cwd=tmp_path, ok=False), "need git")


def test_the_pre_commit_framework_file_names_bale_hooks(bale, tmp_path: Path) -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["bale-pre-commit", "bale-pre-push", "bale-post-checkout"]
    for hook in hooks:
        name = hook["id"].removeprefix("bale-")
        assert hook["entry"] == f"bale git-hook {name}" and hook["language"] == "python"
        assert hook["stages"] == [name]
        bale(*hook["entry"].split()[1:], "-h", cwd=tmp_path)  # the command exists
