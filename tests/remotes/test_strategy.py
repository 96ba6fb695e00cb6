"""Existence checks: list prefix folders only where cheaper than asking per object."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from bale.odb.store import ObjectStore
from bale.remotes import transfer
from bale.remotes.local import LocalBackend
from tests.remotes.conftest import make_objects


class Counting(LocalBackend):
    """A real folder backend that counts the calls the engine makes."""

    def __init__(self, root: str, **costs: float) -> None:
        super().__init__(root)
        self.listed: list[str] = []
        self.asked = 0
        for name, value in costs.items():
            setattr(self, name, value)

    def exists_many(self, relpaths: Sequence[str]) -> set[str]:
        self.asked += len(relpaths)
        return super().exists_many(relpaths)

    def iter_prefix(self, prefix: str) -> Iterator[str]:
        self.listed.append(prefix)
        return super().iter_prefix(prefix)


def test_few_objects_are_asked_one_by_one(cache: ObjectStore, tmp_path: Path) -> None:
    backend = Counting(str(tmp_path / "r"))
    items = make_objects(cache, 10)
    transfer.push(cache, backend, items)
    assert backend.listed == [] and backend.asked == 10


def test_many_objects_list_the_prefixes(cache: ObjectStore, tmp_path: Path) -> None:
    items = make_objects(cache, 3000)
    backend = Counting(str(tmp_path / "r"))
    assert transfer.push(cache, backend, items).failed == []
    backend.listed.clear()
    backend.asked = 0
    on_remote = transfer.present(backend, items)
    assert {o for o, _ in items} - {o for o, _ in on_remote} == set()
    # Folders holding only a couple of the objects are cheaper to ask about.
    assert len(backend.listed) > 240 and backend.asked < 50


def test_a_huge_remote_is_not_listed_for_a_few_objects(cache: ObjectStore, tmp_path: Path) -> None:
    """Pages of 2 names at a high price stand in for a store with millions of objects."""
    items = make_objects(cache, 3000)
    transfer.push(cache, LocalBackend(str(tmp_path / "r")), items)
    backend = Counting(str(tmp_path / "r"), page_size=2, list_cost=5.0)
    new = make_objects(cache, 600, seed=1)
    on_remote = transfer.present(backend, items[:600] + new)
    assert {o for o, _ in items[:600] + new} - {o for o, _ in on_remote} == {o for o, _ in new}
    # One sample listing, abandoned as soon as it cost more than asking.
    assert len(backend.listed) == 1 and backend.asked == 1200


def test_http_like_remotes_never_list(cache: ObjectStore, tmp_path: Path) -> None:
    items = make_objects(cache, 2000)
    backend = Counting(str(tmp_path / "r"), list_cost=float("inf"))
    transfer.push(cache, backend, items)
    assert backend.listed == [] and backend.asked == 2000
