"""`voucher evaluate` reads each file by system calls (format_base.read_bytes) instead of an
unbuffered file object: the same bytes, and the same errors, for every size around its chunk,
an empty file, a directory, a missing file and a pipe that writes in pieces."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher.policy import format_base
from voucher.policy.format_base import FormatError, read_application_file, read_bytes

CHUNK = format_base._CHUNK


def _as_before(path: Path | str) -> bytes:
    """What read_application_file did before (main at 1db5344)."""
    with open(path, "rb", buffering=0) as fh:
        return fh.readall()


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.integers(0, 3 * CHUNK + 7),
        st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1]),
    ),
    st.binary(min_size=1, max_size=16),
)
def test_a_file_of_any_size_is_read_whole(tmp_path_factory, size, pattern):
    path = tmp_path_factory.mktemp("read") / "f.json"
    data = (pattern * (size // len(pattern) + 1))[:size]
    path.write_bytes(data)
    assert read_bytes(path) == _as_before(path) == data
    assert read_bytes(str(path)) == data


def _error(read, path) -> tuple[type, str | None]:
    with pytest.raises(OSError) as caught:
        read(path)
    return type(caught.value), caught.value.strerror


def test_the_errors_are_the_file_objects(tmp_path):
    for path in (tmp_path / "missing.json", tmp_path, tmp_path / "missing" / "x.json"):
        assert _error(read_bytes, path) == _error(_as_before, path)
    with pytest.raises(FormatError) as refusal:
        read_application_file(tmp_path, bytes)
    assert refusal.value.problems == [("(file)", "无法读取文件: Is a directory")]
    with pytest.raises(ValueError):
        read_bytes("a\0b")


def test_a_pipe_written_in_pieces_is_read_to_its_end(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    pieces = [b"x" * 1000, b"y" * (CHUNK + 3), b"z" * 10]

    def write() -> None:
        with open(fifo, "wb", buffering=0) as out:
            for piece in pieces:
                out.write(piece)
                out.flush()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert read_bytes(fifo) == b"".join(pieces)
    finally:
        writer.join(timeout=10)
