"""Network faults on a seeded schedule, through a proxy in front of real servers.

`tests/cli/test_sync_faults.py` and `tests/remotes/test_faults.py` kill or
freeze a whole server; here the server stays up and single connections or
requests fail: dropped, cut after N bytes, held silent, or (S3) answered
500 / 503 Slow Down. The real `bale` pushes and pulls through it; each run
either completes through the engine's retries or ends with one `ERROR:` line
naming the remote, and in both cases nothing partial is left: every object
on the remote (read from the real server, not through the proxy) and in the
cache hashes to its name, and a rerun without faults completes.

The faults injected, per kind, and how many of them a completed run survived,
are printed at the end of the session and written to
`<pytest basetemp>/network_faults.json`; for docs/reliability.md each run is
a case, and each kind of fault counts as survived where the run's checks held.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bale.remotes import runner
from tests.cli.test_sync import Remote, clone, commit_all, in_sync, md5, workspace_files
from tests.cli.util import assert_cache_valid, assert_error, cache_objects, write_tree
from tests.fixtures.fault_proxy import FaultProxy, Schedule, fault_proxy
from tests.fixtures.servers import S3Server, SFTPServer
from tests.reliability.report import case, record

PART = "network faults"
REPRODUCE = "pytest tests/reliability/test_network_faults.py -m 'slow or not slow'"

FSCK_CLEAN = "All objects match their names."
SMALL_COUNT = 48
BIG = 9 << 20  # above the engine's 8 MiB: streamed reads, a two-part multipart upload
# The engine's waits between attempts, at their longest (jitter up to x1.5).
MAX_BACKOFF = sum(runner.FIRST_DELAY * 3**i * 1.5 for i in range(runner.ATTEMPTS - 1))
START_UP = 5  # seconds for `bale` to start and read the repository, generously

S3_FAULTS = {"drop": 0.04, "truncate": 0.04, "stall": 0.02, "http500": 0.05, "http503": 0.05}
# Per connection, and a run opens few (one per job, one more per retry): a higher rate.
SFTP_FAULTS = {"drop": 0.25, "truncate": 0.35}


# -- the session's tally ---------------------------------------------------------------------


class Tally:
    """Faults injected per kind, and those a run survived (it completed anyway)."""

    def __init__(self) -> None:
        self.runs: list[dict] = []

    def record(
        self, test: str, step: str, proxy: FaultProxy, before: dict[str, int], ok: bool,
        error: str = "",
    ) -> None:  # fmt: skip
        now = proxy.faults()
        faults = {k: now.get(k, 0) - before.get(k, 0) for k in now}
        faults = {k: v for k, v in faults.items() if v}
        self.runs.append({"test": test, "step": step, "faults": faults, "completed": ok,
                          "connections": proxy.connections, "error": error})  # fmt: skip

    def totals(self) -> dict[str, dict[str, int]]:
        injected: Counter[str] = Counter()
        survived: Counter[str] = Counter()
        for run in self.runs:
            injected.update(run["faults"])
            if run["completed"]:
                survived.update(run["faults"])
        return {k: {"injected": injected[k], "survived": survived[k]} for k in sorted(injected)}


@pytest.fixture(scope="session")
def tally(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Collects every run's faults; prints the totals and writes them as JSON at the end."""
    found = Tally()
    yield found
    if not found.runs:
        return
    out = tmp_path_factory.getbasetemp() / "network_faults.json"
    totals = found.totals()
    out.write_text(json.dumps({"totals": totals, "runs": found.runs}, indent=1))
    # Survived: the run's checks held after it (it completed, or failed with
    # one line naming the remote, and nothing partial was left anywhere).
    checked = Tally()
    checked.runs = [run for run in found.runs if run.get("checked")]
    handled = {k: v["injected"] for k, v in checked.totals().items()}
    for kind, n in totals.items():
        record(PART, f"{kind} faults injected ({n['survived']} in runs that completed "
               "through retries)", n["injected"], handled.get(kind, 0),
               reproduce=REPRODUCE)  # fmt: skip
    completed = sum(run["completed"] for run in found.runs)
    lines = [
        f"network faults: {len(found.runs)} faulty runs, {completed} completed ({out})",
        *(f"  {k:9} injected {v['injected']:4}  survived {v['survived']:4}"
          for k, v in totals.items()),
    ]  # fmt: skip
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + "\n".join(lines), flush=True)


# -- helpers ---------------------------------------------------------------------------------


def make_data(repo: Path, seed: int, small: int, big: int, big_size: int) -> dict[str, bytes]:
    """`small` small files and `big` large ones under data/, their bytes drawn from `seed`."""
    rng = random.Random(seed)
    files = {f"data/s{i:03d}.bin": rng.randbytes(rng.randint(1, 40_000)) for i in range(small)}
    files |= {f"data/big{i}.bin": rng.randbytes(big_size) for i in range(big)}
    write_tree(repo, files)
    return files


def faulty(bale, cwd: Path, command: str, remote: Remote, proxy: FaultProxy, tally: Tally,
           test: str) -> bool:  # fmt: skip
    """`bale <command>` under faults: completes, or fails with one ERROR line naming
    the remote; then nothing partial anywhere. True when it completed."""
    before = proxy.faults()
    with case(PART, f"{remote.kind} {command} under faults", REPRODUCE):
        proc = bale(command, "-j", "4", cwd=cwd, ok=None)
        ok = proc.returncode == 0
        tally.record(test, command, proxy, before, ok, proc.stderr.strip()[:300])
        if not ok:
            assert_error(proc, remote.url)
        remote.assert_whole()
        assert_cache_valid(cwd)
        tally.runs[-1]["checked"] = True
    return ok


def round_trip(bale, git, repo: Path, tmp_path: Path, remote: Remote, proxy: FaultProxy,
               tally: Tally, test: str, rates: dict[str, float], seed: int,
               **ranges: tuple[int, int]) -> None:  # fmt: skip
    """Push, then pull into a clone, each under faults and then rerun without."""
    oids = {md5(data) for data in workspace_files(repo, "data").values()}
    proxy.set_schedule(Schedule(seed, rates, **ranges))
    faulty(bale, repo, "push", remote, proxy, tally, test)
    proxy.clear()
    bale("push", cwd=repo)
    assert oids <= remote.assert_whole()
    assert bale("status", "-c", cwd=repo).stdout.strip() == in_sync("storage")

    other = clone(git, repo, tmp_path / "clone")
    proxy.set_schedule(Schedule(seed + 1, rates, **ranges))
    faulty(bale, other, "pull", remote, proxy, tally, test)
    assert bale("fsck", cwd=other).stdout.strip() == FSCK_CLEAN
    proxy.clear()
    bale("pull", cwd=other)
    assert oids <= set(cache_objects(other))
    assert workspace_files(other, "data") == workspace_files(repo, "data")
    assert bale("fsck", cwd=other).stdout.strip() == FSCK_CLEAN
    assert bale("status", cwd=other).stdout.strip() == "Data and pipelines are up to date."


@pytest.fixture
def s3_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    port = int(s3_server.endpoint_url.rsplit(":", 1)[1])
    with fault_proxy(("127.0.0.1", port), mode="http") as proxy:
        yield proxy


@pytest.fixture
def sftp_proxy(sftp_server: SFTPServer) -> Iterator[FaultProxy]:
    with fault_proxy(("127.0.0.1", sftp_server.port), mode="tcp") as proxy:
        yield proxy


def s3_through(server: S3Server, proxy: FaultProxy, **options: str) -> Remote:
    """A fresh bucket reached through the proxy; raw access goes to the server itself."""
    bucket = server.new_bucket()
    return Remote(
        "s3", "storage", f"s3://{bucket}/store", server.options(endpointurl=proxy.url, **options),
        s3=server, bucket=bucket, prefix="store",
    )  # fmt: skip


def sftp_through(server: SFTPServer, proxy: FaultProxy, tmp_path: Path, **options: str) -> Remote:
    folder = f"{tmp_path.name}-faults"
    url = f"ssh://{server.user}@127.0.0.1:{proxy.port}/{folder}"
    return Remote("sftp", "storage", url, server.options(**options), root=server.root / folder)


def setup(bale, git, repo: Path, remote: Remote, seed: int, small: int, big: int, size: int):
    make_data(repo, seed, small, big, size)
    bale("add", "data", cwd=repo)
    remote.configure(bale, repo)
    commit_all(git, repo, "data")


# -- S3 and SFTP under a fault rate ----------------------------------------------------------


def test_s3_push_and_pull_under_faults(
    repo: Path, tmp_path: Path, s3_server: S3Server, s3_proxy: FaultProxy, tally: Tally, bale, git
) -> None:
    # A stalled request costs read_timeout, then is retried.
    remote = s3_through(s3_server, s3_proxy, connect_timeout="2", read_timeout="3")
    setup(bale, git, repo, remote, 1, SMALL_COUNT, 2, BIG)
    round_trip(bale, git, repo, tmp_path, remote, s3_proxy, tally, "s3", S3_FAULTS, seed=7,
               truncate_bytes=(0, 64 << 10), stall_bytes=(0, 16 << 10))  # fmt: skip
    assert s3_proxy.faults(), "the schedule injected no fault"


def test_sftp_push_and_pull_under_drops_and_truncation(
    repo: Path, tmp_path: Path, sftp_server: SFTPServer, sftp_proxy: FaultProxy, tally: Tally,
    bale, git,
) -> None:  # fmt: skip
    remote = sftp_through(sftp_server, sftp_proxy, tmp_path, timeout="3")
    setup(bale, git, repo, remote, 2, SMALL_COUNT, 2, 1 << 20)
    # Cuts anywhere from the handshake to the end of a 3 MiB exchange.
    round_trip(bale, git, repo, tmp_path, remote, sftp_proxy, tally, "sftp", SFTP_FAULTS,
               seed=11, truncate_bytes=(0, 3 << 20))  # fmt: skip


# -- a stalled server ------------------------------------------------------------------------


def timed_push(bale, repo: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    proc = bale("push", cwd=repo, ok=False)
    return proc, time.monotonic() - start


def test_s3_stalled_mid_transfer_times_out_in_bounded_time(
    repo: Path, s3_server: S3Server, s3_proxy: FaultProxy, tally: Tally, bale, git
) -> None:
    """Unlike tests/remotes/test_timeouts.py's silent listener, the server got the
    request and a part of its body: the stall is mid-exchange."""
    connect, read = 1, 1
    remote = s3_through(s3_server, s3_proxy, connect_timeout=str(connect), read_timeout=str(read))
    setup(bale, git, repo, remote, 3, 4, 1, 1 << 20)
    s3_proxy.set_schedule(Schedule(5, {"stall": 1.0}, stall_bytes=(0, 256 << 10)))
    before = s3_proxy.faults()
    with case(PART, "s3 push to a stalled server: a timeout in bounded time", REPRODUCE):
        proc, elapsed = timed_push(bale, repo)
        tally.record("s3-stall", "push", s3_proxy, before, False)
        budget = runner.ATTEMPTS * (connect + read) + MAX_BACKOFF + START_UP
        assert elapsed < 5 * budget, f"push took {elapsed:.1f} s; budget {budget:.1f} s"
        assert_error(proc, remote.url, "did not answer in time", "read_timeout 1 s")
        assert s3_proxy.faults().get("stall", 0) >= runner.ATTEMPTS
        s3_proxy.clear()
        time.sleep(0.5)  # let the server finish what it had received
        remote.assert_whole()
        tally.runs[-1]["checked"] = True
        bale("push", cwd=repo)


# Its attempts each wait out keepalives: 15 s at the least (`make test-slow`).
@pytest.mark.slow
def test_sftp_stalled_mid_transfer_times_out_in_bounded_time(
    repo: Path, tmp_path: Path, sftp_server: SFTPServer, sftp_proxy: FaultProxy, tally: Tally,
    bale, git,
) -> None:  # fmt: skip
    """A connection that goes silent after the handshake or inside it: the keepalives
    (or the connect timeout) end it, not the operating system's TCP timeout."""
    timeout = 1
    remote = sftp_through(sftp_server, sftp_proxy, tmp_path, timeout=str(timeout))
    setup(bale, git, repo, remote, 4, 4, 1, 1 << 20)
    sftp_proxy.set_schedule(Schedule(6, {"stall": 1.0}, stall_bytes=(0, 256 << 10)))
    before = sftp_proxy.faults()
    # Per attempt: a connect timeout, or a keepalive every `timeout` until the count runs out.
    from bale.remotes.ssh import KEEPALIVE_COUNT

    with case(PART, "sftp push to a stalled server: a timeout in bounded time", REPRODUCE):
        proc, elapsed = timed_push(bale, repo)
        tally.record("sftp-stall", "push", sftp_proxy, before, False)
        budget = runner.ATTEMPTS * timeout * (KEEPALIVE_COUNT + 2) + MAX_BACKOFF + START_UP
        assert elapsed < 5 * budget, f"push took {elapsed:.1f} s; budget {budget:.1f} s"
        assert_error(proc, remote.url)
        assert sftp_proxy.faults().get("stall", 0) >= 1
        sftp_proxy.clear()
        remote.assert_whole()
        tally.runs[-1]["checked"] = True
        bale("push", cwd=repo)


# -- the sweep -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 110))
def test_s3_seeded_sweep(
    seed: int, repo: Path, tmp_path: Path, s3_server: S3Server, s3_proxy: FaultProxy,
    tally: Tally, bale, git,
) -> None:  # fmt: skip
    remote = s3_through(s3_server, s3_proxy, connect_timeout="2", read_timeout="3")
    setup(bale, git, repo, remote, seed, SMALL_COUNT, 1, BIG)
    rates = {k: v * 1.5 for k, v in S3_FAULTS.items()}  # 30%
    round_trip(bale, git, repo, tmp_path, remote, s3_proxy, tally, f"s3-sweep-{seed}", rates,
               seed=seed, truncate_bytes=(0, 1 << 20), stall_bytes=(0, 64 << 10))  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(200, 210))
def test_sftp_seeded_sweep(
    seed: int, repo: Path, tmp_path: Path, sftp_server: SFTPServer, sftp_proxy: FaultProxy,
    tally: Tally, bale, git,
) -> None:  # fmt: skip
    remote = sftp_through(sftp_server, sftp_proxy, tmp_path, timeout="2")
    setup(bale, git, repo, remote, seed, SMALL_COUNT, 2, 1 << 20)
    rates = {"drop": 0.15, "truncate": 0.2, "stall": 0.05}
    round_trip(bale, git, repo, tmp_path, remote, sftp_proxy, tally, f"sftp-sweep-{seed}", rates,
               seed=seed, truncate_bytes=(0, 3 << 20), stall_bytes=(0, 1 << 20))  # fmt: skip


# -- what a run does when one request fails, or all do --------------------------------------------


def test_s3_pull_names_the_object_it_gave_up_on_and_retries_cut_off_answers(
    repo: Path, tmp_path: Path, s3_server: S3Server, s3_proxy: FaultProxy, tally: Tally, bale, git
) -> None:
    """A server that answers nobody: the one line names the object whose tries ran
    out. Then a body cut off after its head is retried like a dropped connection
    (it was not retried at all: one cut ended a pull)."""
    remote = s3_through(s3_server, s3_proxy, connect_timeout="2", read_timeout="3")
    setup(bale, git, repo, remote, 8, 12, 0, 0)
    bale("push", cwd=repo)
    other = clone(git, repo, tmp_path / "clone")
    s3_proxy.set_schedule(Schedule(22, {"http500": 1.0}))
    proc = bale("pull", cwd=other, ok=False)
    tries = f"after {runner.ATTEMPTS} tries: the server failed to download"
    line = assert_error(proc, remote.url, "gave up on object ", tries)
    assert re.search(r"gave up on object [0-9a-f]{32}(\.dir)? after", line), line
    assert_cache_valid(other)

    # Each cut falls after the answer's head (~300 bytes), inside a body of more than 1 KiB.
    s3_proxy.set_schedule(Schedule(21, {"truncate": 0.3}, truncate_bytes=(1024, 8 << 10)))
    assert faulty(bale, other, "pull", remote, s3_proxy, tally, "s3-cut-off")
    assert s3_proxy.faults().get("truncate", 0) >= 1
    assert workspace_files(other, "data") == workspace_files(repo, "data")
