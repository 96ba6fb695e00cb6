"""Push or fetch in a child process, so a test can SIGKILL it midway.

Usage: python -m tests.remotes.pusher push|fetch CACHE URL OPTIONS_JSON OIDS_FILE
"""

from __future__ import annotations

import json
import sys

from bale.odb.store import ObjectStore
from bale.remotes import open_remote, transfer


def main() -> None:
    action, cache_root, url, options, oids_file = sys.argv[1:6]
    with open(oids_file) as fobj:
        oids = [(line.strip(), False) for line in fobj if line.strip()]
    backend = open_remote(url, json.loads(options))
    cache = ObjectStore(cache_root)
    run = transfer.push if action == "push" else transfer.fetch
    result = run(cache, backend, oids, jobs=4)
    backend.close()
    print(len(result.transferred), len(result.failed))


if __name__ == "__main__":
    main()
