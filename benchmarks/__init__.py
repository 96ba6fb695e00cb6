"""Side-by-side benchmarks of bale against the real DVC on generated data.

`datasets` writes deterministic data once per work directory, `runner` builds
fresh git repositories for each tool and times the same commands alternately,
with the machine's own bounds (cat, md5sum, cp, a plain S3 client) beside them,
and `report` turns the raw results into the tables and plot in `docs/`.
Run it with `python -m benchmarks --dvc PATH` (or `make bench`, `make bench-quick`).

This package is a tool, not part of bale: it runs `bale` and `dvc` only as
commands and imports nothing from `bale`.
"""
