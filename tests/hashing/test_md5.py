"""File hashing: DVC 3's plain md5 and DVC 2's dos2unix rule, decided per 1 MiB chunk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bale.hashing.md5 import CHUNK, Md5Stream, file_md5
from bale.hashing.tree import bytes_md5
from bale.odb.store import ObjectStore

MIB = 1 << 20
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"


def dvc2_md5(data: bytes) -> str:
    """dvc-data's Dos2UnixHashStreamFile over 1 MiB reads, written out from its source:
    each chunk whose first 512 bytes look like text has CRLF turned into LF."""
    hasher = hashlib.md5()
    for start in range(0, len(data), MIB):
        chunk = data[start : start + MIB]
        block = chunk[:512]
        is_text = not block or (
            b"\x00" not in block and len(block.translate(None, _TEXT_CHARS)) / len(block) <= 0.30
        )
        hasher.update(chunk.replace(b"\r\n", b"\n") if is_text else chunk)
    return hasher.hexdigest()


CASES = {
    "empty": b"",
    "crlf text": b"hello\r\nworld\r\n",
    "lf text": b"hello\nworld\n",
    "binary with NUL": b"\x00\x01\r\n\x02" * 100,
    "30% non-text is text": b"\x80" * 30 + b"a" * 68 + b"\r\n",
    "31% non-text is binary": b"\x80" * 31 + b"a" * 67 + b"\r\n",
    "NUL after the first 512 bytes": b"a\r\n" * 200 + b"\x00\r\n",
    "CRLF across the chunk boundary": b"x" * (MIB - 1) + b"\r\n" + b"y\r\n",
    "text chunk then binary chunk": b"t\r\n" * (MIB // 3) + b"t" + b"\x00\r\n" * 1000,
    "binary chunk then text chunk": b"\x00" + b"b\r\n" * (MIB // 3) + b"t\r\n" * 1000,
    "exactly one chunk": b"z\r\n" * (MIB // 3) + b"z",
    "utf-8 text": "grüße\r\n".encode() * 50,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("md5")
    paths = {}
    for i, (name, data) in enumerate(CASES.items()):
        paths[name] = base / f"f{i}"
        paths[name].write_bytes(data)
    return paths


def test_chunk_is_one_mib():
    assert CHUNK == MIB


def test_known_values():
    # FORMATS.md §5: md5sum of the CRLF file, and its dos2unix md5.
    data = CASES["crlf text"]
    assert bytes_md5(data) == "7ac062d8a84466e70d9b899c0821a51c"
    assert bytes_md5(data, legacy=True) == hashlib.md5(b"hello\nworld\n").hexdigest()


@pytest.mark.parametrize("name", CASES)
def test_every_reader_agrees_with_dvc(files: dict[str, Path], tmp_path: Path, name: str):
    data = CASES[name]
    plain, legacy = hashlib.md5(data).hexdigest(), dvc2_md5(data)
    assert file_md5(str(files[name])) == bytes_md5(data) == plain
    assert file_md5(str(files[name]), legacy=True) == bytes_md5(data, legacy=True) == legacy
    # The cache stores the original bytes under the dos2unix name (FORMATS §5).
    store = ObjectStore(str(tmp_path / "cache"))
    assert store.add_file(str(files[name]), legacy=True) == legacy
    assert Path(store.path(legacy, legacy=True)).read_bytes() == data
    assert store.verify(legacy, legacy=True) == legacy


def test_binary_and_text_differ_only_where_dvc_says():
    assert (
        dvc2_md5(CASES["30% non-text is text"])
        != hashlib.md5(CASES["30% non-text is text"]).hexdigest()
    )
    assert (
        dvc2_md5(CASES["31% non-text is binary"])
        == hashlib.md5(CASES["31% non-text is binary"]).hexdigest()
    )


@pytest.mark.parametrize("legacy", [False, True])
def test_a_stream_in_any_pieces_hashes_as_the_file(tmp_path, legacy: bool) -> None:
    """Streamed reads check DVC 2 objects too: dos2unix decides per 1 MiB of
    the whole, wherever the pieces that arrive happen to end."""
    data = (b"line\r\n" * 300_000) + bytes(range(256)) * 5000 + b"tail\r\n"
    path = tmp_path / "f"
    path.write_bytes(data)
    for piece in (1000, 4096, 1 << 20, 3_000_001):
        stream = Md5Stream(legacy=legacy)
        for start in range(0, len(data), piece):
            stream.update(data[start : start + piece])
        assert stream.hexdigest() == file_md5(str(path), legacy=legacy)
