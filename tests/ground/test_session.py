"""Command status as the operator sees it: in flight until a verdict or the timeout, arm before fire."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fsw.protocol import PusTc, VerificationReport
from fsw.protocol.verification import Subtype
from ground.client import CommandRecord
from ground.dictionary import DEFAULT_DICTIONARY, REPOSITORY_ROOT, Dictionary
from ground.session import CommandEntry, scaled_timeout, stage_text


def report(record: CommandRecord, subtype: Subtype, code: int | None = None, data: object = None) -> None:
    record.stages.append(VerificationReport(subtype, record.request_id, code=code, data=data))


def test_default_dictionary_is_the_committed_export() -> None:
    assert DEFAULT_DICTIONARY == REPOSITORY_ROOT / "docs" / "dictionary.json"


def test_timeouts_grow_with_light_time() -> None:
    assert scaled_timeout(5.0, 0.0) == 5.0
    assert scaled_timeout(5.0, 1.28) == 5.0 + 2 * 1.28 * 1.5


def test_stage_text_names_failure_codes() -> None:
    assert stage_text(VerificationReport(Subtype.PROGRESS_OK, 1, step=3)) == "progress step 3"
    assert stage_text(VerificationReport(Subtype.START_FAILED, 1, code=26, data="MODE_SET not allowed in BOOT")) == (
        "failed at start: WRONG_MODE (MODE_SET not allowed in BOOT)")


async def test_in_flight_until_verdict_or_timeout(dictionary: Dictionary) -> None:
    spec = dictionary.command("NOOP")
    record = CommandRecord(PusTc(100, 8, 1, b"", 5), 100.0)
    entry = CommandEntry(spec, [], timeout=8.8, started_at=100.0, fire=record)
    assert entry.status_at(101.0) == "in flight"
    report(record, Subtype.ACCEPTANCE_OK)
    assert entry.status_at(108.0) == "in flight"
    assert entry.status_at(109.0) == "timed out"
    report(record, Subtype.COMPLETION_OK)  # a late verdict still counts
    assert entry.status_at(109.0) == "completed" and entry.ok
    assert entry.stages == ["accepted", "completed"]


async def test_critical_entry_reports_arm_then_fire(dictionary: Dictionary) -> None:
    spec = dictionary.command("MODE_SET")
    arm = CommandRecord(PusTc(100, 8, 1, b"", 6), 0.0)
    entry = CommandEntry(spec, ["SAFE"], timeout=5.0, started_at=0.0, arm=arm)
    assert entry.status_at(1.0) == "arming"
    report(arm, Subtype.ACCEPTANCE_OK)
    report(arm, Subtype.COMPLETION_FAILED, code=30, data="window closed")
    assert entry.status_at(1.0) == "arm failed at completion: NOT_ARMED (window closed)"
    assert not entry.ok
    assert entry.stages == ["arm accepted", "arm failed at completion: NOT_ARMED (window closed)"]
    await asyncio.sleep(0)


def test_sequence_counts_are_never_shared_between_processes(tmp_path: Path) -> None:
    from ground.sequence import PersistentSequence

    path = tmp_path / "state" / "sequence.json"
    first, second = PersistentSequence(path, block=4), PersistentSequence(path, block=4)
    taken = [first.next(100) for _ in range(3)] + [second.next(100) for _ in range(6)] + [first.next(100)]
    assert taken == [0, 1, 2, 4, 5, 6, 7, 8, 9, 3]
    assert len(set(taken)) == len(taken)
    assert PersistentSequence(path).next(100) == 12  # a new process continues after every reservation
    assert PersistentSequence(path).next(7) == 0  # per APID


def test_sequence_wraps_at_14_bits(tmp_path: Path) -> None:
    from ground.sequence import PersistentSequence

    path = tmp_path / "sequence.json"
    path.write_text('{"100": 16383}')
    sequence = PersistentSequence(path)
    assert [sequence.next(100), sequence.next(100)] == [16383, 0]
