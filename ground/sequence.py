"""The ground's TC sequence counter, kept across processes.

The flight side recognises a byte-identical TC seen recently as a retransmission and does not
execute it again. A command line that restarted its sequence count at 0 for every process would
send ``NOOP`` with the same sequence count twice and the second would never run. Each process
therefore reserves a block of sequence counts in a small state file (under a file lock, so that
concurrent processes never share a count) and uses them in order.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

SEQUENCE_MODULO = 0x4000
RESERVATION_BLOCK = 64


def default_sequence_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "ilrs-ground" / "sequence.json"


class PersistentSequence:
    """Drop-in for ``SequenceCounters`` (``next(apid)``, ``snapshot()``) backed by a file."""

    def __init__(self, path: Path, block: int = RESERVATION_BLOCK) -> None:
        self.path = path
        self.block = block
        self._next: dict[int, int] = {}
        self._end: dict[int, int] = {}

    def next(self, apid: int) -> int:
        if self._next.get(apid, 0) >= self._end.get(apid, 0):
            self._reserve(apid)
        count = self._next[apid]
        self._next[apid] = count + 1
        return count % SEQUENCE_MODULO

    def snapshot(self) -> dict[int, int]:
        return {apid: count % SEQUENCE_MODULO for apid, count in self._next.items()}

    def _reserve(self, apid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            counts: dict[str, int] = {}
            with contextlib.suppress(json.JSONDecodeError, ValueError):
                loaded = json.loads(handle.read() or "{}")
                if isinstance(loaded, dict):
                    counts = {str(key): int(value) for key, value in loaded.items()}
            start = counts.get(str(apid), 0)
            counts[str(apid)] = start + self.block
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(counts))
            handle.flush()
            os.fsync(handle.fileno())
        self._next[apid] = start
        self._end[apid] = start + self.block
