"""`bale commit`: record the workspace's content of tracked outputs."""

from __future__ import annotations

from pathlib import Path

from tests.cli.util import cache_objects, status_json, write_tree


def test_commit_records_changed_outputs(tracked: Path, bale):
    (tracked / "model.bin").write_bytes(b"model v2")
    (tracked / "data" / "b.txt").unlink()
    write_tree(tracked, {"data/a.txt": "a v2\n", "data/sub/new.txt": "new\n"})
    before = cache_objects(tracked)
    proc = bale("commit", cwd=tracked)
    assert sorted(proc.stdout.splitlines()) == ["Committed data", "Committed model.bin"]
    assert status_json(bale, tracked) == {}
    text = (tracked / "data.dvc").read_text()
    assert "size: 11\n  nfiles: 3\n" in text
    objects = cache_objects(tracked)
    assert set(before) < set(objects)
    assert b"model v2" in objects.values()


def test_commit_of_a_target_leaves_the_others(tracked: Path, bale):
    (tracked / "model.bin").write_bytes(b"model v2")
    write_tree(tracked, {"data/a.txt": "a v2\n"})
    data_before = (tracked / "data.dvc").read_bytes()
    bale("commit", "model.bin", cwd=tracked)
    assert (tracked / "data.dvc").read_bytes() == data_before
    assert status_json(bale, tracked) == {"data.dvc": [{"changed outs": {"data": "modified"}}]}


def test_commit_with_nothing_changed_touches_nothing(tracked: Path, bale):
    files = [tracked / "data.dvc", tracked / "model.bin.dvc"]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]
    assert bale("commit", cwd=tracked).stdout == ""
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == before


def test_commit_keeps_what_bale_does_not_manage(tracked: Path, bale):
    # Annotations, meta and unknown keys written by hand or by another tool.
    text = (
        (tracked / "model.bin.dvc")
        .read_text()
        .replace(
            "  path: model.bin\n",
            "  path: model.bin\n  desc: the model\n  type: model\n  x-custom: kept\n",
        )
    )
    (tracked / "model.bin.dvc").write_text(text + "meta:\n  owner: team\n")
    (tracked / "model.bin").write_bytes(b"model v2")
    bale("commit", cwd=tracked)
    new = (tracked / "model.bin.dvc").read_text()
    assert new.endswith(
        "  hash: md5\n  path: model.bin\n  desc: the model\n  type: model\n  x-custom: kept\n"
        "meta:\n  owner: team\n"
    )
    assert "size: 8\n" in new
