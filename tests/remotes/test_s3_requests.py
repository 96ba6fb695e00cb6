"""What bale asks of S3, counted by moto's own request recorder."""

from __future__ import annotations

import os

from bale.remotes import open_remote
from bale.remotes.base import read_range
from tests.fixtures.servers import S3Request, S3Server


def test_reads_are_one_get_each_and_the_recorder_counts_them(s3_server: S3Server) -> None:
    """A streamed read is one GET, however many chunks it yields; a ranged one
    sends its Range; the bucket is listed once, before the first read."""
    bucket = s3_server.new_bucket()
    data = os.urandom(3 << 20)
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="store/src/big.bin", Body=data)
    client.put_object(Bucket=bucket, Key="store/src/small.txt", Body=b"0123456789")
    backend = open_remote(f"s3://{bucket}/store", s3_server.options())
    try:
        with s3_server.recording() as seen:
            assert b"".join(backend.read_chunks("src/big.bin")) == data
            assert read_range(backend, "src/small.txt", 2, 5) == b"234"
            assert b"".join(backend.read_chunks("src/small.txt", start=8)) == b"89"
        assert [r for r in seen if r.key] == [
            S3Request("GET", f"/{bucket}/store/src/big.bin", None),
            S3Request("GET", f"/{bucket}/store/src/small.txt", "bytes=2-4"),
            S3Request("GET", f"/{bucket}/store/src/small.txt", "bytes=8-"),
        ]
        assert [(r.method, r.bucket) for r in seen if not r.key] == [("GET", bucket)]  # a LIST
        # A mark forgets what came before; nothing is recorded after the block.
        s3_server.mark()
        backend.stat("src/small.txt")
        s3_server.stop_recording()
        backend.stat("src/big.bin")
        assert [(r.method, r.key) for r in s3_server.requests()] == [
            ("HEAD", "store/src/small.txt")
        ]
    finally:
        backend.close()
