"""Pure readers and writers of DVC's on-disk formats: `.dvc` files
(`dvcfile`), `dvc.lock` and the output flags of `dvc.yaml` (`lockfile`),
`.dir` manifests (`manifest`) and the YAML dialect DVC writes (`yaml`).

Functions here take and return text, bytes and plain records; they never touch
the filesystem, config or logging. Imports only `bale.errors`.
"""
