"""The S3 bound: a plain concurrent upload or download with a boto3 thread pool.

`python -m benchmarks.s3bound put|get --endpoint URL --bucket B --prefix P DIR`
puts every file under DIR as `P/<relative path>` (or gets them all back into
DIR), one whole-object request per file, `--jobs` at a time. No existence
checks, no hashing, no retries beyond botocore's: what the server and the
connection allow, for comparing with `push`/`pull -r s3`.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.runner import s3_client

CHUNK = 1024 * 1024


def put_all(client, bucket: str, prefix: str, root: Path, jobs: int) -> int:
    """Upload every file under `root`; return the count."""
    files = [Path(d, f) for d, _, names in os.walk(root) for f in names]

    def put(path: Path) -> None:
        with open(path, "rb") as body:
            client.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(root)}", Body=body)

    with ThreadPoolExecutor(jobs) as pool:
        for _ in pool.map(put, files):
            pass
    return len(files)


def get_all(client, bucket: str, prefix: str, root: Path, jobs: int) -> int:
    """Download every object under `prefix` into `root`; return the count."""
    keys = [
        obj["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    ]

    def get(key: str) -> None:
        dest = root / key[len(prefix) + 1 :]
        dest.parent.mkdir(parents=True, exist_ok=True)
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        with open(dest, "wb") as f:
            for chunk in body.iter_chunks(CHUNK):
                f.write(chunk)

    with ThreadPoolExecutor(jobs) as pool:
        for _ in pool.map(get, keys):
            pass
    return len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.s3bound", description=__doc__)
    parser.add_argument("verb", choices=("put", "get"))
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    client = s3_client(args.endpoint, connections=args.jobs)
    action = put_all if args.verb == "put" else get_all
    count = action(client, args.bucket, args.prefix, args.dir, args.jobs)
    print(f"{args.verb} {count} objects")


if __name__ == "__main__":
    main()
