"""The telemetry archive: every received packet in SQLite (WAL), written as it arrives.

One row per packet: reception time, on-board time, APID, service, subtype, sequence count, the kind
the dictionary gave it, the raw octets and the decoded values as JSON. A live session commits
the packets that came together (those it took from the link before it had to wait for more, at
most 64) in one transaction before it waits again, so a console that crashes loses at most the
packets it was still taking in; WAL lets a plot or a query read the archive while a console
writes it. ``synchronous=NORMAL`` is durable against a process crash (a power cut may lose the last
few packets, never corrupt the file).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fsw.protocol import UNIX_TO_TAI_1958, PusTm, encode_cbor

from .dictionary import Dictionary
from .telemetry import Received, decode_packet, utc_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS packets (
    id INTEGER PRIMARY KEY,
    rx_time REAL NOT NULL,
    onboard_time REAL,
    apid INTEGER,
    service INTEGER,
    subtype INTEGER,
    seq INTEGER,
    kind TEXT NOT NULL,
    raw BLOB NOT NULL,
    decoded TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS packets_kind_time ON packets (kind, rx_time);
"""

_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class ArchiveError(ValueError):
    pass


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds from ``now``, ``-10m`` / ``-2h`` / ``-1d``, Unix seconds, or ISO 8601 (UTC if no zone)."""
    now = time.time() if now is None else now
    text = text.strip()
    if text == "now":
        return now
    match = _RELATIVE.match(text)
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ArchiveError(f"cannot read time {text!r} (ISO 8601, Unix seconds, now, or -10m/-2h/-1d)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


class Archive:
    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            if not self.path.exists():
                raise ArchiveError(f"archive {self.path} does not exist")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        self.written = 0
        self.pending = 0  # added, not yet committed

    def close(self) -> None:
        try:
            self.commit()
        finally:  # (a commit that fails still lets the file go)
            self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, received: Received) -> None:
        """Store one packet now (its own transaction, unless packets added are waiting for :meth:`commit`)."""
        self._insert(received)

    def add(self, received: Received) -> None:
        """Store one packet in the transaction that :meth:`commit` ends."""
        if not self.pending:
            self.db.execute("BEGIN")
        self.pending += 1
        self._insert(received)

    def commit(self) -> None:
        if not self.pending:
            return
        self.pending = 0
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error:
            if self.db.in_transaction:  # (what it held is lost, and said so: the next add starts afresh)
                self.db.execute("ROLLBACK")
            raise

    def _insert(self, received: Received) -> None:
        self.db.execute(
            "INSERT INTO packets (rx_time, onboard_time, apid, service, subtype, seq, kind, raw, decoded)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (received.rx_time, received.onboard_time, received.apid, received.service, received.subtype,
             received.seq, received.kind, received.raw, json.dumps(received.decoded, separators=(",", ":"))),
        )
        self.written += 1

    def write_many(self, items: list[Received]) -> None:
        """Store a batch in one transaction (bulk import and the size measurement)."""
        for item in items:
            self.add(item)
        self.commit()

    # --- reading -----------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM packets").fetchone()[0])

    def packets(self, since: float | None = None, until: float | None = None,
                kinds: tuple[str, ...] | None = None) -> Iterator[Received]:
        sql = "SELECT rx_time, raw, kind, apid, service, subtype, seq, onboard_time, decoded FROM packets WHERE 1"
        params: list[Any] = []
        if since is not None:
            sql += " AND rx_time >= ?"
            params.append(since)
        if until is not None:
            sql += " AND rx_time <= ?"
            params.append(until)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params += list(kinds)
        for row in self.db.execute(sql + " ORDER BY rx_time, id", params):
            yield Received(row[0], bytes(row[1]), row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]))

    def query(self, point: str, since: float | None = None, until: float | None = None
              ) -> list[tuple[float, float | None, Any]]:
        """(reception time, on-board time, value) of one point, oldest first."""
        path = '$.values."' + point.replace('"', "") + '"'
        sql = ("SELECT rx_time, onboard_time, json_extract(decoded, ?) AS value FROM packets"
               " WHERE kind = 'hk' AND value IS NOT NULL")
        params: list[Any] = [path]
        if since is not None:
            sql += " AND rx_time >= ?"
            params.append(since)
        if until is not None:
            sql += " AND rx_time <= ?"
            params.append(until)
        return [(row[0], row[1], row[2]) for row in self.db.execute(sql + " ORDER BY rx_time, id", params)]

    def export_csv(self, out: Path, points: list[str] | None = None, since: float | None = None,
                   until: float | None = None) -> int:
        """Points given: one row per sample (time, point, value). Otherwise one row per packet."""
        rows = 0
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            if points:
                writer.writerow(["rx_time_utc", "rx_time", "onboard_time", "point", "value"])
                for point in points:
                    for rx_time, onboard, value in self.query(point, since, until):
                        writer.writerow([utc_text(rx_time), f"{rx_time:.6f}", onboard, point, value])
                        rows += 1
            else:
                writer.writerow(["rx_time_utc", "rx_time", "onboard_time", "apid", "service", "subtype", "seq",
                                 "kind", "decoded", "raw_hex"])
                for item in self.packets(since, until):
                    writer.writerow([utc_text(item.rx_time), f"{item.rx_time:.6f}", item.onboard_time, item.apid,
                                     item.service, item.subtype, item.seq, item.kind,
                                     json.dumps(item.decoded, separators=(",", ":")), item.raw.hex()])
                    rows += 1
        return rows


def synthetic_hk(dictionary: Dictionary, sid: int, tick: int) -> dict[str, Any]:
    """Plausible values for every point of a structure (changing counters, jittering floats)."""
    values: dict[str, Any] = {}
    for spec in dictionary.points_in(sid):
        if spec.enum:
            values[spec.name] = spec.enum[tick % len(spec.enum)] if tick % 600 == 0 else spec.enum[-1]
        elif spec.type == "bool":
            values[spec.name] = tick % 2 == 0
        elif spec.type in ("f32", "f64"):
            values[spec.name] = round(1000.0 + tick * 1.001 + (tick * 7919 % 1000) / 997.0, 3)
        elif spec.type.startswith(("u", "i")):
            values[spec.name] = tick * 3 + sid
        else:
            values[spec.name] = f"v{tick}"
    return values


def simulate_hk(archive: Archive, dictionary: Dictionary, seconds: int, period: float = 1.0,
                start: float = 1.8e9) -> int:
    """Archive ``seconds`` of housekeeping for every structure at ``period`` (the flight default is
    1 s); returns the number of packets. Used to measure archive growth per day."""
    sequence = 0
    written = 0
    batch: list[Received] = []
    ticks = int(seconds / period)
    for tick in range(ticks):
        rx_time = start + tick * period
        for sid in sorted(dictionary.structures):
            tm = PusTm(dictionary.apid, 3, 25, encode_cbor([sid, synthetic_hk(dictionary, sid, tick)]), sequence,
                       rx_time + UNIX_TO_TAI_1958 - 1.28, msg_counter=sequence & 0xFFFF)
            sequence = (sequence + 1) & 0x3FFF
            raw = tm.pack()
            batch.append(decode_packet(raw, dictionary, rx_time, tm))
        if len(batch) >= 2000:
            archive.write_many(batch)
            written += len(batch)
            batch = []
    if batch:
        archive.write_many(batch)
        written += len(batch)
    archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return written
