"""What a reliability run tried and what survived, one JSON line per record,
for `make reliability` to turn into the table in docs/reliability.md.

Records go to the file named by BALE_RELIABILITY_REPORT; without it (a plain
`pytest` or `make test`) recording does nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "BALE_RELIABILITY_REPORT"


def record(
    part: str,
    command: str,
    tried: int,
    survived: int,
    not_reached: int = 0,
    data_lost: int = 0,
    reproduce: str = "",
) -> None:
    """Append one record; `tried` counts cases run, `survived` those that
    ended as they must, `not_reached` kill points a run never got to."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps(
        {
            "part": part,
            "command": command,
            "tried": tried,
            "survived": survived,
            "not_reached": not_reached,
            "data_lost": data_lost,
            "reproduce": reproduce,
        }
    )
    with open(path, "a", encoding="utf-8") as f:  # one short append: whole lines
        f.write(line + "\n")


@contextmanager
def case(part: str, command: str, reproduce: str) -> Iterator[None]:
    """One case, recorded as survived when every assert in the block held."""
    try:
        yield
    except BaseException:
        record(part, command, 1, 0, reproduce=reproduce)
        raise
    record(part, command, 1, 1, reproduce=reproduce)
