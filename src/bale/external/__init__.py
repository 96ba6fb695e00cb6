"""Other repositories and URLs as sources: list, get, import, update.

Every one of them reads the source through one `view.RepoView` (`sources`
opens it); what they write goes through the workspace's own checks (output
paths, overlaps, git-tracked files) and its checkout. Imports `view`,
`workspace`, `repo`, `remotes`, `odb`, `formats` and `errors`.
"""
