"""Which objects a remote has: listing prefix folders or asking object by
object, whichever the backend's costs say is cheaper."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

from bale.errors import RemoteAccessError
from bale.progress import Progress
from bale.remotes.base import Backend
from bale.remotes.runner import retry, run_all


def list_cost(backend: Backend, names: int) -> float:
    """What listing a folder of `names` names costs, in single-object checks."""
    pages = max(1, math.ceil(names / backend.page_size))
    return pages * backend.list_cost + names * backend.name_cost


def list_bounded(backend: Backend, prefix: str, budget: float) -> set[str] | None:
    """Names under `prefix`, or None as soon as listing costs more than `budget`."""
    names: set[str] = set()
    for rel in backend.iter_prefix(prefix):
        names.add(rel)
        if list_cost(backend, len(names)) > budget:
            return None
    return names


def present_relpaths(
    backend: Backend, relpaths: Sequence[str], *, jobs: int, progress: Progress
) -> set[str]:
    """Which of `relpaths` the remote has.

    Objects are grouped by prefix folder (`files/md5/ab`). Asking costs 1 per
    object; listing a folder costs `list_cost` per page plus `name_cost` per
    name (see `list_cost`). The fullest folder is listed first as a sample,
    giving up (and asking object by object) as soon as that costs more than
    asking would; its size estimates every folder's, and each folder is then
    listed only where that is cheaper for the objects asked about it. So ten
    objects never cause a listing, an empty or small remote is listed for a
    few thousand, and a huge remote is not.
    """
    found: set[str] = set()
    if not relpaths:
        return found
    groups: dict[str, list[str]] = {}
    for rel in relpaths:
        groups.setdefault(rel.rpartition("/")[0], []).append(rel)
    stop = threading.Event()
    cost = backend.list_cost
    to_ask: list[str] = []
    to_list: list[tuple[str, list[str]]] = []
    progress.start("Querying remote", len(relpaths))
    sample = max(groups, key=lambda p: len(groups[p]))
    # A sample may waste up to one full page; sample only when that is small
    # beside asking about every object.
    worth_sampling = len(relpaths) > 2 * list_cost(backend, backend.page_size)
    if math.isinf(cost) or not worth_sampling or len(groups[sample]) <= list_cost(backend, 0):
        to_ask = list(relpaths)
    else:
        rels = groups.pop(sample)
        names = retry(lambda: list_bounded(backend, sample, len(rels)), stop)
        if names is None:
            to_ask = list(relpaths)  # the remote is big: ask object by object
            groups = {}
        else:
            found.update(rel for rel in rels if rel in names)
            progress.advance(len(rels))
            estimate = list_cost(backend, len(names))
            for prefix, group in groups.items():
                if len(group) > estimate:
                    to_list.append((prefix, group))
                else:
                    to_ask.extend(group)
    batch = max(1, min(64, math.ceil(len(to_ask) / max(1, jobs))))
    tasks: list[tuple[str, list[str]] | list[str]] = list(to_list)
    tasks += [to_ask[i : i + batch] for i in range(0, len(to_ask), batch)]

    def ask(rels: Sequence[str], stop: threading.Event) -> set[str]:
        """One try for the batch, then each object with retries of its own: retrying
        the whole batch would need every one of its requests to pass in one attempt,
        so a fault rate per request would compound over the batch."""
        if len(rels) > 1:
            try:
                return backend.exists_many(rels)
            except RemoteAccessError as err:
                if not err.transient or stop.is_set():
                    raise
        found: set[str] = set()
        for rel in rels:
            found |= retry(lambda rel=rel: backend.exists_many([rel]), stop)
        return found

    def work(task: tuple[str, list[str]] | list[str], stop: threading.Event) -> list[str]:
        if isinstance(task, tuple):
            prefix, group = task
            names = retry(lambda: list_bounded(backend, prefix, len(group)), stop)
            if names is not None:
                return [rel for rel in group if rel in names]
            rels: Sequence[str] = group  # bigger than the sample said: ask instead
        else:
            rels = task
        return sorted(ask(rels, stop))

    def done(task: tuple[str, list[str]] | list[str], value: object, err: object) -> None:
        found.update(value)  # type: ignore[arg-type]
        progress.advance(len(task[1]) if isinstance(task, tuple) else len(task))

    run_all(tasks, work, jobs=jobs, on_result=done)
    progress.done()
    return found
