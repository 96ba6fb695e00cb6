"""The workspace: reconciling files on disk with recorded outputs and the cache.

Terms: an *output* is a path a `.dvc` file or a `dvc.lock` stage records
(`index.Tracked`); every output path passes `index.checked_out_path`, the one
place that refuses paths bale never writes. `index` finds outputs and
resolves targets; `add`, `commit`, `status`, `checkout`, `remove` (and move)
reconcile them with the disk; `save` stores what is on disk in the cache;
`used` says which outputs a set of revisions records; `sync` (push, fetch,
status -c), `gc` and `fsck` work on objects through `remotes.transfer`.
Functions return records; formatting is the CLI's. Commands and the Python
API call these functions. Imports `repo`, `remotes`, `odb`, `hashing`,
`formats` and `errors`.
"""
