"""The archive (SQLite WAL), decoding, alarms, plotting and replay, on synthetic packets."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fsw.protocol import UNIX_TO_TAI_1958, PusTm, VerificationReport, encode_cbor
from fsw.protocol.verification import Subtype
from ground.archive import Archive, ArchiveError, parse_time, simulate_hk
from ground.cli import main
from ground.dictionary import Dictionary
from ground.telemetry import TelemetryState, decode_packet
from tests.ground.conftest import REPOSITORY

T0 = 1.8e9


def hk(dictionary: Dictionary, seq: int, values: dict[str, object], sid: int = 1) -> bytes:
    return PusTm(dictionary.apid, 3, 25, encode_cbor([sid, values]), seq, T0 + seq + UNIX_TO_TAI_1958).pack()


def event(dictionary: Dictionary, seq: int, severity: int, event_id: int, args: dict[str, object]) -> bytes:
    return PusTm(dictionary.apid, 5, severity, encode_cbor([event_id, args]), seq, T0 + seq + UNIX_TO_TAI_1958).pack()


def fill(path: Path, dictionary: Dictionary) -> None:
    with Archive(path) as archive:
        for seq in range(10):
            raw = hk(dictionary, seq, {"uptime_s": float(seq), "mode": "SAFE" if seq < 5 else "NOMINAL",
                                       "fast_jitter_p99_ms": 0.75 * seq})
            archive.write(decode_packet(raw, dictionary, T0 + seq))
        archive.write(decode_packet(event(dictionary, 10, 2, 0x0401,
                                          {"old": "SAFE", "new": "NOMINAL", "reason": "commanded"}),
                                    dictionary, T0 + 5.5))


def test_decoding_by_kind(dictionary: Dictionary) -> None:
    report = VerificationReport(Subtype.ACCEPTANCE_FAILED, 0x1234, code=23, data="no command").pack()
    verification = decode_packet(PusTm(100, 1, 2, report, 7, 1.0).pack(), dictionary, 5.0)
    assert verification.kind == "verification"
    assert verification.decoded["reason"] == "UNKNOWN_COMMAND" and verification.decoded["data"] == "no command"
    decoded = decode_packet(event(dictionary, 1, 4, 0x0402, {"reason": "battery"}), dictionary, 1.0)
    assert (decoded.kind, decoded.decoded["severity"], decoded.decoded["text"]) == (
        "event", "HIGH", "entered SAFE: battery")
    garbage = decode_packet(b"\x00\x01\x02", dictionary, 1.0)
    assert garbage.kind == "undecodable" and garbage.raw == b"\x00\x01\x02"


def test_alarms_raise_escalate_and_clear_after_acknowledgement(dictionary: Dictionary) -> None:
    state = TelemetryState(dictionary)

    def take(value: float) -> None:
        state.take(decode_packet(hk(dictionary, 0, {"fast_jitter_p99_ms": value}), dictionary, time.time()))

    take(0.5)
    assert state.alarms == {}
    take(6.0)  # over a quarter of the 20 ms period
    assert state.alarms["fast_jitter_p99_ms"].state == "yellow"
    state.acknowledge()
    take(12.0)  # over half the period, worse: needs a new acknowledgement
    alarm = state.alarms["fast_jitter_p99_ms"]
    assert (alarm.state, alarm.worst, alarm.acknowledged) == ("red", "red", False)
    take(0.5)  # back in limits but unacknowledged: the operator must still see it happened
    assert state.alarms["fast_jitter_p99_ms"].state == "ok"
    assert [a.point for a in state.unacknowledged()] == ["fast_jitter_p99_ms"]
    assert state.acknowledge("fast_jitter_p99_ms") == ["fast_jitter_p99_ms"]
    assert state.alarms == {}


def test_query_and_csv_export(dictionary: Dictionary, tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    fill(db, dictionary)
    with Archive(db, readonly=True) as archive:
        assert archive.count() == 11
        rows = archive.query("uptime_s", since=T0 + 2, until=T0 + 4)
        assert [value for _, _, value in rows] == [2.0, 3.0, 4.0]
        assert rows[0][1] == pytest.approx(T0 + 2 + UNIX_TO_TAI_1958)
        assert [v for _, _, v in archive.query("mode")][4:6] == ["SAFE", "NOMINAL"]
        assert archive.query("no_such_point") == []
        assert archive.export_csv(tmp_path / "mode.csv", ["mode"]) == 10
        assert archive.export_csv(tmp_path / "all.csv") == 11
    with (tmp_path / "all.csv").open() as handle:
        packets = list(csv.DictReader(handle))
    assert packets[6]["kind"] == "event" and '"MODE_CHANGED"' in packets[6]["decoded"]
    assert bytes.fromhex(packets[0]["raw_hex"]) == hk(dictionary, 0, {"uptime_s": 0.0, "mode": "SAFE",
                                                                        "fast_jitter_p99_ms": 0.0})


def test_time_arguments() -> None:
    assert parse_time("2027-01-01T00:00:00Z") == parse_time("2027-01-01T00:00:00") == 1798761600.0
    assert parse_time("-2h", now=10_000.0) == 2800.0
    assert parse_time("1800000000.5") == 1800000000.5
    with pytest.raises(ArchiveError):
        parse_time("yesterday-ish")


def test_a_killed_writer_loses_nothing_it_wrote(dictionary_path: Path, tmp_path: Path) -> None:
    """Killed with SIGKILL: every packet written or committed is there; the five added since the last
    commit (a session still taking in a burst) are not."""
    db = tmp_path / "crash.sqlite"
    script = (
        "import sys, time\n"
        "from ground.archive import Archive\n"
        "from ground.dictionary import Dictionary\n"
        "from ground.telemetry import decode_packet\n"
        "from tests.ground.test_archive import hk\n"
        f"d = Dictionary.load({str(dictionary_path)!r})\n"
        f"a = Archive({str(db)!r})\n"
        "for seq in range(50):\n"
        "    a.write(decode_packet(hk(d, seq, {'uptime_s': float(seq)}), d, 1.0 + seq))\n"
        "for seq in range(50, 85):\n"  # a live session's way: added, committed once it has caught up
        "    a.add(decode_packet(hk(d, seq, {'uptime_s': float(seq)}), d, 1.0 + seq))\n"
        "    if seq == 79:\n"
        "        a.commit()\n"
        "print('written', flush=True)\n"
        "time.sleep(60)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
        os.kill(writer.pid, signal.SIGKILL)  # no close, no checkpoint
    finally:
        writer.wait(10)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM packets").fetchone()[0] == 80


def test_simulated_hour_gives_a_size_per_packet(dictionary: Dictionary, tmp_path: Path) -> None:
    db = tmp_path / "sim.sqlite"
    with Archive(db) as archive:
        packets = simulate_hk(archive, dictionary, 60)
        assert packets == 60 * len(dictionary.structures)
        assert archive.count() == packets
        assert len(archive.query("uptime_s")) == 60
    assert db.stat().st_size > packets * 100  # raw octets and decoded JSON both kept


def test_cli_query_export_plot_and_replay(dictionary: Dictionary, dictionary_path: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.sqlite"
    fill(db, dictionary)
    base = ["--dictionary", str(dictionary_path)]
    assert main([*base, "archive", "--db", str(db), "query", "--point", "fast_jitter_p99_ms"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("fast_jitter_p99_ms = 0 ms")
    assert lines[3].endswith("fast_jitter_p99_ms = 2.25 ms")
    assert lines[7].endswith("fast_jitter_p99_ms = 5.25 ms [YELLOW]")
    assert lines[9].endswith("fast_jitter_p99_ms = 6.75 ms [YELLOW]")
    out = tmp_path / "plot.png"
    assert main([*base, "plot", "--db", str(db), "--point", "uptime_s", "--point", "mode", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*base, "plot", "--db", str(db), "--point", "uptime_s", "--since", str(T0 + 100),
                 "--out", str(tmp_path / "empty.png")]) == 1
    capsys.readouterr()
    assert main([*base, "replay", "--db", str(db), "--what", "events"]) == 0
    assert capsys.readouterr().out.strip().endswith("LOW    MODE_CHANGED: mode SAFE -> NOMINAL (commanded)")
    assert main([*base, "replay", "--db", str(db), "--point", "mode", "--what", "tlm"]) == 0
    assert capsys.readouterr().out.count("mode = ") == 10
    assert main([*base, "archive", "--db", str(tmp_path / "absent.sqlite"), "info"]) == 2
    assert main([*base, "archive", "--db", str(db), "query", "--point", "nope"]) == 2


def test_cli_dict_formats(dictionary_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("json", "markdown", "xtce"):
        assert main(["--dictionary", str(dictionary_path), "dict", "--format", fmt,
                     "--output", str(tmp_path / fmt)]) == 0
    assert "`MODE_SET`" in (tmp_path / "markdown").read_text()
    assert (tmp_path / "xtce").read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>\n<xtce:SpaceSystem')
    assert main(["--dictionary", str(tmp_path / "missing.json"), "dict"]) == 2
    assert "not found" in capsys.readouterr().err


def test_a_failing_listener_does_not_stop_the_others(dictionary: Dictionary) -> None:
    state = TelemetryState(dictionary)
    seen: list[str] = []

    def broken(received: object) -> None:
        raise RuntimeError("display bug")

    state.listeners += [broken, lambda received: seen.append(received.kind)]  # type: ignore[attr-defined]
    state.take(decode_packet(hk(dictionary, 0, {"uptime_s": 1.0}), dictionary, 1.0))
    assert seen == ["hk"] and state.listener_errors == 1
    assert state.value("uptime_s") == 1.0


async def test_a_session_commits_the_packets_that_came_together_once_it_has_caught_up(
        dictionary: Dictionary, tmp_path: Path) -> None:
    """Over a real pty: a burst of 100 packets is archived in a few transactions (at most 64 packets
    each), every packet of it readable by another process's connection once the session has taken them
    all in; a packet that comes alone after that is committed before the session waits again."""
    import asyncio
    import tty

    from fsw.protocol.framing import frame
    from ground.session import ARCHIVE_BATCH_MAX, GroundSession

    master, slave = os.openpty()
    tty.setraw(slave)
    archive = Archive(tmp_path / "live.sqlite")
    commits = 0
    commit = archive.commit

    def counted_commit() -> None:
        nonlocal commits
        commits += archive.pending > 0
        commit()

    archive.commit = counted_commit  # type: ignore[method-assign]
    session = GroundSession(os.ttyname(slave), dictionary, archive=archive)
    await session.open()
    reader = Archive(tmp_path / "live.sqlite", readonly=True)
    try:
        os.write(master, b"".join(frame(hk(dictionary, seq, {"uptime_s": float(seq)})) for seq in range(100)))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if reader.count() == 100:
                break
        assert reader.count() == 100 and archive.pending == 0
        assert 2 <= commits <= 100 // 2, commits  # never more than ARCHIVE_BATCH_MAX in one
        assert ARCHIVE_BATCH_MAX < 100
        before = commits
        os.write(master, frame(hk(dictionary, 100, {"uptime_s": 100.0})))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if reader.count() == 101:
                break
        assert reader.count() == 101 and commits == before + 1
    finally:
        reader.close()
        await session.close()
        os.close(master)
        os.close(slave)
    with Archive(tmp_path / "live.sqlite", readonly=True) as stored:
        assert [p.seq for p in stored.packets()] == list(range(101))


def test_a_packet_the_archive_refuses_leaves_the_others_of_its_batch_stored(dictionary: Dictionary,
                                                                          tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite")
    archive.add(decode_packet(hk(dictionary, 1, {"uptime_s": 1.0}), dictionary, T0))
    archive.db.execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON packets BEGIN SELECT RAISE(FAIL, 'full'); END")
    with pytest.raises(sqlite3.Error):
        archive.add(decode_packet(hk(dictionary, 2, {"uptime_s": 2.0}), dictionary, T0))
    archive.db.execute("DROP TRIGGER refuse")
    archive.commit()
    archive.add(decode_packet(hk(dictionary, 3, {"uptime_s": 3.0}), dictionary, T0))
    archive.commit()
    assert [p.seq for p in archive.packets()] == [1, 3]
    archive.close()
