"""Remotes: where a cache's objects are shared (a folder, S3, SSH, GCS, Azure, HTTP).

Terms: a *backend* gives a few primitives over *relpaths* (an object's path
relative to the remote URL, from `odb.layout`); `transfer` is the one engine
that pushes, fetches, checks, lists and removes objects through any backend,
with verification and progress, on `runner` (concurrency, forked workers,
the one retry policy) and `existence` (listing or asking, by cost).
`open_remote(url, options)` picks the backend by URL scheme (`registry`)
and imports its client only then.

Takes values (a URL, a remote section's options), never the repository.
Imports `odb`, `hashing`, `fsutil` and `errors`.
"""

from __future__ import annotations

from bale.remotes.base import Backend
from bale.remotes.registry import open_remote

__all__ = ["Backend", "open_remote"]
