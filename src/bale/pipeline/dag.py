"""The DAG of stages: a stage depends on the stages whose outputs its
dependencies are, lie in, or hold; run order from `graphlib`."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable

from bale.errors import OverlappingOutputError, PipelineError
from bale.pipeline.stages import Stage


def _related(a: str, b: str) -> bool:
    """One path is the other, or lies inside it."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


class Dag:
    """Stages by address, and for each the stages it needs run first."""

    def __init__(self, stages: list[Stage], tracked: Iterable[tuple[str, str]] = ()) -> None:
        """`tracked`: (root-relative output, its `.dvc` file) of data that no
        stage writes; a stage may read it but not write over or inside it.

        Raises:
            OverlappingOutputError: two stages (or a stage and a `.dvc` file)
                write one path, or one writes inside the other's output.
            PipelineError: the dependencies make a cycle.
        """
        self.stages = {s.address: s for s in stages}
        owners: dict[str, str] = dict((rel, dvc) for rel, dvc in tracked)
        for stage in stages:
            for rel, _out in stage.outs:
                for other_rel, other in owners.items():
                    if not _related(rel, other_rel):
                        continue
                    if rel == other_rel:
                        raise OverlappingOutputError(
                            f"'{rel}' is an output of both {other} and {stage.address}; "
                            "remove it from one of them"
                        )
                    inner, outer = sorted((rel, other_rel), key=len, reverse=True)
                    raise OverlappingOutputError(
                        f"'{inner}' is inside '{outer}' (outputs of {other} and "
                        f"{stage.address}); an output cannot hold another: remove one"
                    )
                owners[rel] = stage.address
        producers = {rel: addr for rel, addr in owners.items() if addr in self.stages}
        self.needs: dict[str, set[str]] = {}
        # The `.dvc` files whose data each stage reads: dvc's data-source stages.
        self.sources: dict[str, set[str]] = {}
        for stage in stages:
            self.needs[stage.address] = {
                addr for dep in stage.deps for rel, addr in producers.items()
                if _related(dep, rel) and addr != stage.address
            }  # fmt: skip
            self.sources[stage.address] = {
                dvc for dep in stage.deps for rel, dvc in owners.items()
                if dvc not in self.stages and _related(dep, rel)
            }  # fmt: skip
        self.dvcfiles = sorted({dvc for _rel, dvc in tracked})
        self._order = self._sorted()

    def _sorted(self) -> list[str]:
        """Run order: each stage after what it needs, and otherwise in file
        order, so the same files always run and print the same way."""
        try:
            graphlib.TopologicalSorter(self.needs).prepare()
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise PipelineError(
                f"the stages form a cycle: {' -> '.join(reversed(cycle))}; "
                "remove a dependency so that one of them runs first"
            ) from exc
        order: list[str] = []
        done: set[str] = set()

        def visit(addr: str) -> None:
            if addr in done:
                return
            done.add(addr)
            for need in sorted(self.needs[addr], key=list(self.stages).index):
                visit(need)
            order.append(addr)

        for addr in self.stages:
            visit(addr)
        return order

    def upstream(self, addresses: Iterable[str]) -> list[str]:
        """The stages `addresses` need (themselves included), in run order."""
        wanted: set[str] = set()
        stack = list(addresses)
        while stack:
            addr = stack.pop()
            if addr not in wanted:
                wanted.add(addr)
                stack += self.needs[addr]
        return [a for a in self._order if a in wanted]

    def downstream(self, addresses: Iterable[str]) -> list[str]:
        """The stages that need `addresses` (themselves included), in run order."""
        wanted = set(addresses)
        for addr in self._order:
            if self.needs[addr] & wanted:
                wanted.add(addr)
        return [a for a in self._order if a in wanted]

    def connected(self, addresses: Iterable[str]) -> list[str]:
        """The whole pipelines `addresses` belong to (every stage linked to
        one by needs, either way), in run order: dvc's `repro -p`."""
        wanted = set(addresses)
        changed = True
        while changed:
            changed = False
            for addr in self._order:
                linked = addr in wanted or self.needs[addr] & wanted
                if linked and not (self.needs[addr] | {addr}) <= wanted:
                    wanted |= self.needs[addr] | {addr}
                    changed = True
        return [a for a in self._order if a in wanted]

    def order(self) -> list[str]:
        return list(self._order)
