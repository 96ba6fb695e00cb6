"""The repository: its root, config, locks, .dvcignore and git.

Terms: the *root* is the folder holding `.dvc/`; one git repository may hold
several roots (`bale init --subdir`). Imports `remotes`, `odb`, `hashing`,
`formats` and `errors`.
"""
