"""Upload a folder's files to s3://BUCKET/PREFIX/ on the server at
$S3_ENDPOINT with a plain boto3 client: data some other system put in the
store, before (and without) bale.

    python3 upload.py FOLDER s3://BUCKET/PREFIX
"""

import os
import sys
from pathlib import Path

import boto3


def main() -> None:
    folder, url = Path(sys.argv[1]), sys.argv[2]
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"])
    for path in sorted(folder.iterdir()):
        s3.upload_file(str(path), bucket, f"{prefix}/{path.name}")
        print(f"uploaded s3://{bucket}/{prefix}/{path.name}")


if __name__ == "__main__":
    main()
