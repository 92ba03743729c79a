"""Reading the far end of a test's pty."""

from __future__ import annotations

import contextlib
import os


def read_waiting(fd: int) -> bytes:
    """Everything waiting on a non-blocking descriptor (a ``PtyPair``'s master), without waiting."""
    data = bytearray()
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(fd, 65536):
            data += chunk
    return bytes(data)
