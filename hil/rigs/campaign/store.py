"""A campaign's results file: SQLite, one row per seed, committed as each run ends.

The row's values are kept as JSON (sorted keys) beside the columns a report and a resume need, so
that any segment's figures fit the same table. The wall time and the worker that flew the run are
columns of their own: :meth:`ResultsFile.table` leaves them out, which is the table two campaigns of
the same seeds must agree on whatever their workers.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seed INTEGER PRIMARY KEY,
    success INTEGER NOT NULL,
    cause TEXT,
    data TEXT NOT NULL,
    wall_s REAL,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 1
)
"""
NOT_IN_TABLE = ("wall_s", "worker")


class ResultsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute(SCHEMA)
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def done(self) -> set[int]:
        return {seed for (seed,) in self.db.execute("SELECT seed FROM runs")}

    def add(self, row: dict[str, Any], *, worker: str | None = None, attempts: int = 1) -> None:
        data = {key: value for key, value in row.items() if key not in NOT_IN_TABLE}
        self.db.execute(
            "INSERT OR REPLACE INTO runs (seed, success, cause, data, wall_s, worker, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (int(row["seed"]), int(bool(row["success"])), row.get("cause"), json.dumps(data, sort_keys=True),
             row.get("wall_s"), worker, attempts))
        self.db.commit()

    def rows(self) -> list[dict[str, Any]]:
        """Every row, by seed, with its wall time."""
        return [{**json.loads(data), "wall_s": wall_s, "worker": worker, "attempts": attempts}
                for data, wall_s, worker, attempts in self.db.execute(
                    "SELECT data, wall_s, worker, attempts FROM runs ORDER BY seed")]

    def table(self) -> list[tuple[int, bool, str | None, str]]:
        """The results table without the wall-time columns, by seed."""
        return [(seed, bool(success), cause, data) for seed, success, cause, data in self.db.execute(
            "SELECT seed, success, cause, data FROM runs ORDER BY seed")]
