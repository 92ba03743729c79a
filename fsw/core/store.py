"""Crash-safe persistent store: SQLite in WAL mode, one CBOR value per key, each with a CRC-32.

What must survive a reset lives here: mode, mission phase, sequence counters, parameters,
schedules, and latches recording that an irreversible act already fired. A store that fails
SQLite's integrity check or a row checksum is moved aside and replaced by an empty one, and
``corruption`` says why, so that the executive boots into SAFE with an event instead of crashing.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import cbor2

_SCHEMA = "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, crc INTEGER NOT NULL)"


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.corruption: str | None = None
        self.writes = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, Any] = {}
        self._durable = True  # the connection's synchronous setting (FULL), changed only when a write asks
        try:
            self._db = self._open()
            self._load()
        except (sqlite3.DatabaseError, ValueError, cbor2.CBORDecodeError) as error:
            self.corruption = str(error) or type(error).__name__
            self._quarantine()
            self._db = self._open()
            self._cache.clear()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        self._durable = True
        db.execute(_SCHEMA)
        result = db.execute("PRAGMA quick_check").fetchone()
        if not result or result[0] != "ok":
            db.close()
            raise sqlite3.DatabaseError(f"integrity check: {result}")
        return db

    def _load(self) -> None:
        for key, blob, crc in self._db.execute("SELECT key, value, crc FROM kv"):
            if zlib.crc32(blob) != crc:
                raise ValueError(f"checksum mismatch in key {key!r}")
            self._cache[key] = cbor2.loads(blob)

    def _quarantine(self) -> None:
        set_aside(self.path)

    def get(self, key: str, default: Any = None) -> Any:
        return self._cache.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def put(self, key: str, value: Any, durable: bool = True) -> None:
        """Write one key. ``durable`` waits for the disk (fsync); otherwise the write survives a
        crash of the process but not necessarily a power loss (WAL with synchronous=NORMAL)."""
        self.put_many({key: value}, durable)

    def put_many(self, values: dict[str, Any], durable: bool = True, delete: Iterable[str] = ()) -> None:
        """Write several keys, and delete the keys in ``delete``, in one transaction."""
        rows = []
        for key, value in values.items():
            blob = cbor2.dumps(value)
            rows.append((key, blob, zlib.crc32(blob)))
        deleted = [(key,) for key in delete]
        if durable != self._durable:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._durable = durable
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO kv (key, value, crc) VALUES (?, ?, ?)", rows)
            self._db.executemany("DELETE FROM kv WHERE key = ?", deleted)
        self._cache.update(values)
        for (key,) in deleted:
            self._cache.pop(key, None)
        self.writes += 1

    def delete(self, key: str) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM kv WHERE key = ?", (key,))
        self._cache.pop(key, None)

    def keys(self) -> list[str]:
        return sorted(self._cache)

    def close(self) -> None:
        self._db.close()


def set_aside(path: Path) -> Path:
    """Move an unreadable SQLite file out of the way as ``<path>.corrupt``, with its WAL sidecars
    (kept for a look); returns the new path."""
    aside = path.with_name(path.name + ".corrupt")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.replace(Path(f"{aside}{suffix}"))
    return aside
