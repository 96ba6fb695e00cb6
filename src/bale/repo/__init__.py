"""The repository: its root, config, locks, .dvcignore and git.

Terms: the *root* is the folder holding `.dvc/`; one git repository may hold
several roots (`bale init --subdir`). `config` reads the levels' files and
checks them against dvc's schema (`schema`); `config_edit` changes them, one
level at a time; `remote_config` says which remote a command uses. The git
half of reading another repository lives here too: `clones` resolves a
source (a local repository in place, or a bare partial clone kept in the
user's cache) and `gittree` reads one commit's files. Imports `remotes`,
`odb`, `hashing`, `formats` and `errors`.
"""
