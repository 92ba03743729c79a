"""The duplicate-recognition window outlives a reset: a retransmission after a crash gets its
original verification and is not executed again; a TC cut short by the reset is answered
INTERRUPTED_BY_RESET; the window in the store stays bounded.

A crash is taken as a copy of the store's files made while the vehicle runs (what a SIGKILL would
leave: every commit, nothing of an orderly shutdown); the real ``kill -9`` is in
tests/fsw/test_restart_exactly_once.py. Executions are counted by a recording device outside the
flight software, shared by the vehicle before and after the crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import command
from fsw.core.store import Store
from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import ACK_ALL, PusTc, PusTm
from fsw.protocol.security import KeyRing, sign
from fsw.protocol.verification import VerificationReport
from fsw.services import dispatcher as dispatcher_module
from fsw.services.linkmon import LinkMonitor
from fsw.services.tc_window import KEY_PREFIX
from tests.fsw.harness import Harness

KEY = bytes(range(32))
WINDOW = 4
COUNT, SLOW = 0x7F01, 0x7F02  # test-only opcodes
OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


class Recorder:
    """The hardware's own record of what was done (it survives the flight software's crash)."""

    def __init__(self) -> None:
        self.counts = 0
        self.slow_starts = 0


class Counting(Component):
    name = "counting"

    def __init__(self, ctx: Context, recorder: Recorder) -> None:
        super().__init__(ctx)
        self.recorder = recorder

    @command(COUNT)
    def cmd_count(self) -> None:
        """Count one execution on the recording device."""
        self.recorder.counts += 1

    @command(SLOW)
    async def cmd_slow(self) -> None:
        """Start, then take an hour."""
        self.recorder.slow_starts += 1
        await self.clock.sleep(3_600.0)


@pytest.fixture(autouse=True)
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatcher_module, "DUPLICATE_WINDOW", WINDOW)


def vehicle(store: Path, recorder: Recorder, keys: bool) -> tuple[Harness, LinkMonitor]:
    h = Harness(store, keys=KeyRing({1: KEY}) if keys else None)
    h.vehicle.add(Counting(h.vehicle.ctx, recorder))
    monitor = LinkMonitor(h.vehicle.ctx, SerialLink("loop://"))
    h.vehicle.add(monitor)
    return h, monitor


class Uplink:
    """The ground's side: TCs as octets, signed with a rising sequence number when keyed."""

    def __init__(self, keys: bool) -> None:
        self.keys = keys
        self.seq = 0

    def tc(self, opcode: int) -> bytes:
        self.seq += 1
        tc = PusTc(100, 8, 1, appdata.encode([opcode]), seq_count=self.seq, ack_flags=ACK_ALL)
        return sign(tc, 1, self.seq, KEY) if self.keys else tc.pack()


async def take(h: Harness, monitor: LinkMonitor, raw: bytes, settle_s: float = 0.1) -> list[str]:
    mark = len(h.packets)
    monitor.take(raw)
    await h.clock.sleep(settle_s)
    request_id = PusTc.unpack(raw).request_id
    return [report.subtype.name for report in reports_since(h, mark) if report.request_id == request_id]


def reports_since(h: Harness, mark: int) -> list[VerificationReport]:
    found = []
    for raw in h.packets[mark:]:
        tm = PusTm.unpack(raw)
        if tm.service == 1:
            found.append(VerificationReport.unpack(tm.subtype, tm.source_data))
    return found


def crash_image(store: Path, to: Path) -> Path:
    """The store as a SIGKILL at this instant would leave it: the database and its write-ahead log."""
    for suffix in ("", "-wal"):
        if Path(f"{store}{suffix}").exists():
            shutil.copyfile(f"{store}{suffix}", f"{to}{suffix}")
    return to


def window_rows(path: Path) -> int:
    store = Store(path)
    try:
        return sum(key.startswith(KEY_PREFIX) for key in store)
    finally:
        store.close()


@pytest.mark.parametrize("keys", [False, True], ids=["unsigned", "signed"])
def test_a_retransmission_after_a_crash_gets_its_verdict_and_runs_once(tmp_path: Path, keys: bool) -> None:
    recorder, uplink = Recorder(), Uplink(keys)
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    h, monitor = vehicle(before, recorder, keys)
    old = uplink.tc(COUNT)
    noops = [uplink.tc(0x0002) for _ in range(WINDOW - 1)]  # with ``recent`` they push ``old`` out
    recent, refused = uplink.tc(COUNT), uplink.tc(0x7F7F)  # (no such opcode: refused at acceptance)

    async def first_life(h: Harness) -> None:
        assert await take(h, monitor, old) == OK_STAGES
        for noop in noops:
            assert await take(h, monitor, noop) == OK_STAGES
        assert await take(h, monitor, recent) == OK_STAGES
        assert await take(h, monitor, refused) == ["ACCEPTANCE_FAILED"]
        assert recorder.counts == 2
        crash_image(before, after)

    h.run(first_life)
    assert window_rows(after) == WINDOW  # bounded in the store too
    h, monitor = vehicle(after, recorder, keys)

    async def second_life(h: Harness) -> None:
        assert await take(h, monitor, recent) == OK_STAGES
        assert recorder.counts == 2  # recognised: not executed again
        assert await take(h, monitor, refused) == ["ACCEPTANCE_FAILED"]
        assert reports_since(h, 0)[-1].code == FailureCode.UNKNOWN_COMMAND  # the original verdict
        assert h.vehicle.dispatcher.duplicates == 2
        # Out of the window: a new TC to the flight software. Signed, the anti-replay check refuses it;
        # unsigned, it runs again (the ground must not retransmit beyond the window).
        stages = await take(h, monitor, old)
        if keys:
            assert stages == ["ACCEPTANCE_FAILED"]
            assert reports_since(h, 0)[-1].code == FailureCode.REPLAYED_SEQUENCE
            assert recorder.counts == 2
        else:
            assert stages == OK_STAGES
            assert recorder.counts == 3

    h.run(second_life)


def test_without_the_stored_window_a_retransmission_after_a_crash_runs_again(tmp_path: Path) -> None:
    # Negative control: the same crash with the window's rows gone from the store (a window in RAM only).
    recorder, uplink = Recorder(), Uplink(keys=False)
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    h, monitor = vehicle(before, recorder, keys=False)
    recent = uplink.tc(COUNT)

    async def first_life(h: Harness) -> None:
        assert await take(h, monitor, recent) == OK_STAGES
        crash_image(before, after)

    h.run(first_life)
    store = Store(after)
    store.put_many({}, delete=[key for key in store if key.startswith(KEY_PREFIX)])
    store.close()
    h, monitor = vehicle(after, recorder, keys=False)

    async def second_life(h: Harness) -> None:
        assert await take(h, monitor, recent) == OK_STAGES
        assert recorder.counts == 2  # executed twice

    h.run(second_life)


def test_a_command_cut_short_by_a_crash_is_answered_interrupted(tmp_path: Path) -> None:
    recorder, uplink = Recorder(), Uplink(keys=True)
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    h, monitor = vehicle(before, recorder, keys=True)
    slow = uplink.tc(SLOW)
    request_id = PusTc.unpack(slow).request_id

    async def first_life(h: Harness) -> None:
        assert await take(h, monitor, slow, settle_s=10.0) == ["ACCEPTANCE_OK", "START_OK"]
        crash_image(before, after)

    h.run(first_life)
    assert recorder.slow_starts == 1
    h, monitor = vehicle(after, recorder, keys=True)

    async def second_life(h: Harness) -> None:
        await h.clock.sleep(0.1)
        # Told at boot, unasked: the ground waiting for a verdict gets one.
        told = [r for r in reports_since(h, 0) if r.request_id == request_id]
        assert [(r.subtype.name, r.code) for r in told] == [("COMPLETION_FAILED", FailureCode.INTERRUPTED_BY_RESET)]
        assert [args["seq"] for name, args in h.events() if name == "CMD_INTERRUPTED"] == [uplink.seq]
        # A retransmission gets its story so far and the same ending, and is not started again.
        mark = len(h.packets)
        assert await take(h, monitor, slow) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert reports_since(h, mark)[-1].code == FailureCode.INTERRUPTED_BY_RESET
        assert recorder.slow_starts == 1

    h.run(second_life)
    assert window_rows(after) == 1
    third, monitor = vehicle(after, recorder, keys=True)

    async def third_life(h: Harness) -> None:
        await h.clock.sleep(0.1)
        assert not [name for name, _ in h.events() if name == "CMD_INTERRUPTED"]  # closed for good

    third.run(third_life)
