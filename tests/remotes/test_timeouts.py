"""A stalled server fails a command in bounded time, with one clear line.

The server is a real socket on 127.0.0.1 that accepts connections and never
sends a byte: no HTTP response for S3, no SSH banner. The bound is computed
from the remote's timeout options and the engine's retry policy (its only
one: the clients do not retry inside it), and is generous (three times the
budget) for a loaded 2-core machine: a correctness bound, not a speed check.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bale.remotes import runner

pytestmark = pytest.mark.reliability("network faults")

# The engine's waits between attempts, at their longest (jitter up to x1.5).
MAX_BACKOFF = sum(runner.FIRST_DELAY * 3**i * 1.5 for i in range(runner.ATTEMPTS - 1))
START_UP = 5  # seconds for `bale` to start and read the repository, generously


class Stalled:
    """A port on 127.0.0.1 whose server accepts every connection and stays silent."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted = 0


@contextlib.contextmanager
def stalled_listener() -> Iterator[Stalled]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    held: list[socket.socket] = []
    stop = threading.Event()
    stalled = Stalled(server.getsockname()[1])

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            stalled.accepted += 1

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield stalled
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def push_to(bale, repo: Path, url: str, options: dict[str, str], local: dict[str, str]):
    """`bale push` of one new file to a remote configured as a user would."""
    (repo / "data.txt").write_text("some data\n")
    bale("add", "data.txt", cwd=repo)
    bale("remote", "add", "-d", "storage", url, cwd=repo)
    for key, value in options.items():
        bale("remote", "modify", "storage", key, value, cwd=repo)
    for key, value in local.items():
        bale("remote", "modify", "--local", "storage", key, value, cwd=repo)
    start = time.monotonic()
    proc = bale("push", cwd=repo, ok=False)
    return proc, time.monotonic() - start


def assert_one_line(proc, url: str, *fragments: str) -> str:
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"ERROR: remote {url}: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.mark.slow
def test_s3_stalled_endpoint_times_out(repo: Path, bale) -> None:
    connect, read = 1, 1
    with stalled_listener() as server:
        proc, elapsed = push_to(
            bale, repo, "s3://bucket/store",
            {"endpointurl": f"http://127.0.0.1:{server.port}", "connect_timeout": str(connect),
             "read_timeout": str(read)},
            {"access_key_id": "key", "secret_access_key": "secret-not-shown"},
        )  # fmt: skip
    # Each of the engine's attempts may wait to connect and then to read.
    budget = runner.ATTEMPTS * (connect + read) + MAX_BACKOFF + START_UP
    assert elapsed < 3 * budget, f"push took {elapsed:.1f} s; budget {budget:.1f} s"
    line = assert_one_line(proc, "s3://bucket/store", "did not answer in time", "read_timeout 1 s")
    assert "secret-not-shown" not in line
    # One request per engine attempt: the client does not retry inside them.
    assert server.accepted == runner.ATTEMPTS


@pytest.mark.slow
def test_ssh_server_without_banner_times_out(repo: Path, bale) -> None:
    timeout = 1
    with stalled_listener() as server:
        url = f"ssh://someone@127.0.0.1:{server.port}/store"
        proc, elapsed = push_to(
            bale, repo, url, {"timeout": str(timeout)}, {"password": "pw-not-shown"}
        )
    budget = runner.ATTEMPTS * timeout + MAX_BACKOFF + START_UP
    assert elapsed < 3 * budget, f"push took {elapsed:.1f} s; budget {budget:.1f} s"
    line = assert_one_line(proc, url, "did not answer within 1 s", "timeout")
    assert "pw-not-shown" not in line
    assert server.accepted == runner.ATTEMPTS
