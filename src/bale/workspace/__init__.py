"""The workspace: reconciling files on disk with `.dvc` outputs and the cache.

add, status, checkout, commit, remove and move live here, one module each;
commands and the Python API call these functions. Imports `repo`,
`remotes`, `odb`, `hashing`, `formats` and `errors`.
"""
