"""File names a team's data really has: newlines, non-ASCII text, names that
differ only by case, and bytes that are not UTF-8 at all.

Names that are text round-trip: `add`, `push`, a fresh clone's `pull` and
dvc's `checkout` put back the same bytes under the same names, and bale's
manifest has dvc's oid. A name that is not UTF-8 cannot be written into a
`.dvc` file, a manifest or git's index, so bale refuses it with one line
naming the file (its bytes escaped) before anything is written; a manifest
from elsewhere naming one (a lone surrogate, `\\udcff`, in its JSON) is
refused the same way, and nothing is placed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.cli.util import Unchanged, assert_error, dvcfile, read_tree, write_tree
from tests.reliability.report import case

PART = "file names"
TEXT_NAMES = {
    "data/line\nbreak.txt": "newline\n",
    "data/tab\there.txt": "tab\n",
    "data/README.txt": "upper\n",
    "data/readme.txt": "lower\n",
    "data/Readme.TXT": "mixed\n",
    "data/café/naïve.txt": "accents\n",
    "data/日本語/データ.csv": "a,b\n1,2\n",
    "data/emoji-🙂.txt": "smile\n",
    "data/ sp ace .txt": "spaces\n",
    "data/-dash.txt": "dash\n",
    "data/quote'\"s.txt": "quotes\n",
}
BAD = os.fsdecode(b"bad\xff\xfe.txt")
SHOWN = "bad\\xff\\xfe.txt"


def _case(command: str, reproduce: str) -> AbstractContextManager[None]:
    return case(PART, command, reproduce)


@pytest.fixture
def project(repo: Path, tmp_path: Path, bale, git) -> Path:
    bale("remote", "add", "-d", "storage", str(tmp_path / "store"), cwd=repo)
    git("commit", "-qam", "remote", cwd=repo)
    return repo


def _md5_field(text: str) -> str:
    return next(line.split()[-1] for line in text.splitlines() if "md5:" in line)


def test_text_names_round_trip_through_a_remote_and_dvc(
    project: Path, tmp_path: Path, bale, git, dvc
):
    reproduce = "pytest tests/reliability/test_file_names.py -k round_trip"
    with _case("add/push/pull/dvc checkout", reproduce):
        write_tree(project, TEXT_NAMES)
        bale("add", "-q", "data", cwd=project)
        bale("push", "-q", cwd=project)
        git("add", "-A", cwd=project)
        git("commit", "-qm", "names", cwd=project)
        ours = _md5_field(dvcfile(project / "data.dvc"))

        # dvc hashes the same folder to the same manifest.
        twin = tmp_path / "twin"
        twin.mkdir()
        git("init", "-q", cwd=twin)
        dvc("init", "-q", cwd=twin)
        write_tree(twin, TEXT_NAMES)
        dvc("add", "-q", "data", cwd=twin)
        assert _md5_field(dvcfile(twin / "data.dvc")) == ours

        clone = tmp_path / "clone"
        git("clone", "-q", str(project), str(clone), cwd=tmp_path)
        bale("pull", "-q", cwd=clone)
        assert read_tree(clone / "data") == read_tree(project / "data")

        shutil.rmtree(clone / "data")
        dvc("checkout", "-q", cwd=clone)
        assert read_tree(clone / "data") == read_tree(project / "data")
        assert "up to date" in bale("status", cwd=clone).stdout


def test_a_name_that_is_not_utf8_is_refused_before_anything_is_written(project: Path, bale):
    reproduce = "pytest tests/reliability/test_file_names.py -k not_utf8"
    write_tree(project, {"data/ok.txt": "ok\n"})
    (project / "data" / BAD).write_bytes(b"bad\n")
    (project / BAD).write_bytes(b"top\n")
    before = Unchanged(project)
    for target, shown in (("data", f"data/{SHOWN}"), (BAD, SHOWN)):
        with _case(f"add ({'in a folder' if target == 'data' else 'a target'})", reproduce):
            line = assert_error(bale("add", target, cwd=project, ok=False), shown, "UTF-8")
            assert "rename it" in line
            before.check()
    with _case("add --to-remote", reproduce):
        proc = bale("add", "--to-remote", "data", cwd=project, ok=False)
        assert_error(proc, f"data/{SHOWN}")
        before.check()
        assert not (project.parent / "store").exists()


def test_a_tracked_folder_gaining_such_a_name_is_reported_not_crashed(project: Path, bale):
    """Commands that look at the folder name the file; `push` sends what the
    `.dvc` file records and never looks."""
    write_tree(project, {"data/ok.txt": "ok\n"})
    bale("add", "-q", "data", cwd=project)
    (project / "data" / BAD).write_bytes(b"bad\n")
    before = Unchanged(project)
    with _case("status, commit", "pytest tests/reliability/test_file_names.py -k gaining"):
        for command in ("status", "commit"):
            assert_error(bale(command, cwd=project, ok=False), SHOWN)
        before.check()
        bale("push", "-q", cwd=project)  # what data.dvc records, as recorded
        (project / "data" / BAD).unlink()
        assert "up to date" in bale("status", cwd=project).stdout


def test_a_manifest_naming_a_lone_surrogate_places_nothing(project: Path, bale):
    """A `.dir` object from another machine's remote (a registry's) whose JSON
    spells a name with `\\udcff`: Python's json reads it as a lone surrogate,
    which the file system would write as the byte 0xff."""
    a_md5 = hashlib.md5(b"a\n").hexdigest()
    manifest = f'[{{"md5": "{a_md5}", "relpath": "x\\udcff.txt"}}]'.encode()
    oid = hashlib.md5(manifest).hexdigest()
    cache = project / ".dvc" / "cache" / "files" / "md5"
    for name, data in ((f"{oid}.dir", manifest), (a_md5, b"a\n")):
        (cache / name[:2]).mkdir(parents=True, exist_ok=True)
        (cache / name[:2] / name[2:]).write_bytes(data)
    (project / "data.dvc").write_text(
        f"outs:\n- md5: {oid}.dir\n  nfiles: 1\n  hash: md5\n  path: data\n"
    )
    with _case("checkout (manifest)", "pytest tests/reliability/test_file_names.py -k surrogate"):
        assert_error(bale("checkout", cwd=project, ok=False), oid, "not UTF-8")
        assert not (project / "data").exists()
