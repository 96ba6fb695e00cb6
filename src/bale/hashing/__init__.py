"""Hashing: md5 of files and trees, in parallel, and the state database.

Terms: a *listing* is what a walk finds, (relpath, ino, mtime_ns, size,
isexec) per file; the *state* remembers (ino, mtime_ns, size) -> md5 so a file
that did not change is never read again. Imports `formats` and `errors` only.
"""
