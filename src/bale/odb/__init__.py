"""The content-addressed object store: layout, atomic insertion, links.

Terms: an *oid* is an object's name, an md5 hex digest, with `.dir` appended
for directory manifests. The DVC 3 layout keeps objects under `files/md5/`;
the legacy 2.x layout (dos2unix md5) keeps them at the root (`layout` owns
both, for the cache and every remote). Objects are read-only (0444) and
trusted by that mode (`store`); `link` places them in a workspace and
refuses one that is not read-only, so the caller re-hashes it first.
Imports `hashing`, `formats`, `fsutil` and `errors`.
"""
