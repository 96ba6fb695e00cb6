"""Pure readers and writers of DVC's on-disk formats: `.dvc` files
(`dvcfile`), `dvc.lock` and the output flags of `dvc.yaml` as written
(`lockfile`), `dvc.yaml` resolved with its variables, `foreach` and `matrix`
(`pipeline`), params files in YAML, JSON, TOML or Python (`params`), `.dir`
manifests (`manifest`) and the YAML dialect DVC writes (`yaml`).

Functions here take and return text, bytes and plain records; they never touch
the filesystem, config or logging (other files, such as a dvc.yaml's vars
files, come through a callback); `limits` says how large an input they parse
(the one read of the environment here). Imports only `bale.errors`.
"""
