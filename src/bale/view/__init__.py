"""One read-only view of a repository at a revision: git files and tracked
data as one tree.

Its git half is `repo.gittree` (the files of a commit, or of a working tree)
and `repo.clones` (where other repositories are cloned); this package is
its data half: outputs of `.dvc` and `dvc.lock` files, tracked folders
expanded from their `.dir` manifests, and files opened from a cache or a
remote on demand. `list`, `get`, `import`, `update`, the catalog, `diff`,
the Python API and the web catalog read other repositories through it.
Nothing here writes into the repository it reads. Imports `workspace.index`
(to read outputs the one checked way), `repo`, `remotes`, `odb`, `formats`
and `errors`.
"""
