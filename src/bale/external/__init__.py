"""Other repositories and URLs as sources: list, get, import, import-url, update.

The repository commands read the source through one `view.RepoView`
(`sources` opens it); `import_url` reads a URL through the backends' file
reads (`remotes.base.FileSource`); what they write goes through the workspace's own checks (output
paths, overlaps, git-tracked files) and its checkout. Imports `view`,
`workspace`, `repo`, `remotes`, `odb`, `formats` and `errors`.
"""
