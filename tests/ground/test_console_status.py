"""The console at operator level, driven by Textual's pilot on a real (silent) pty: the status bar,
stale values dimmed with their age, page keys and a page bar that fits, plots, help and search."""

from __future__ import annotations

import asyncio
import os
import pty
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable, Static

from fsw.protocol import UNIX_TO_TAI_1958, FailureCode, PusTc, PusTm, VerificationReport, decode_cbor
from fsw.protocol.framing import Deframer, frame
from fsw.protocol.verification import Subtype
from ground.console import GroundConsole
from ground.console.completion import complete, describe, fuzzy, search
from ground.console.status import Freshness, age_text
from ground.console.widgets import PageBar, PlotPane, sparkline
from ground.dictionary import Dictionary
from ground.session import GroundSession
from ground.telemetry import Received
from tests.ground.conftest import until_shown


@pytest.fixture
async def ports() -> AsyncIterator[tuple[int, str]]:
    master, slave = pty.openpty()
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
async def session(dictionary: Dictionary, ports: tuple[int, str]) -> AsyncIterator[GroundSession]:
    session = GroundSession(ports[1], dictionary)  # nobody answers: the console shows what the test feeds it
    await session.open()
    try:
        yield session
    finally:
        await session.close()


class StandIn:
    """Answers each TC on the pty master: accepted, started, completed; MODE_SET fails at start.
    ``slow`` opcodes are answered that many seconds late."""

    def __init__(self, master: int, dictionary: Dictionary, slow: dict[int, float] | None = None) -> None:
        self.master = master
        self.refused = dictionary.command("MODE_SET").opcode
        self.slow = slow or {}
        self.deframer = Deframer()
        self.seq = 0
        self.opcodes: list[int] = []  # of the PUS 8,1 TCs, in the order they came
        self.sequence_counts: list[int] = []
        asyncio.get_running_loop().add_reader(master, self._readable)

    def _readable(self) -> None:
        for raw, _ in self.deframer.feed(os.read(self.master, 4096)):
            tc = PusTc.unpack(raw)
            self.sequence_counts.append(tc.seq_count)
            opcode = decode_cbor(tc.app_data)[0] if tc.service == 8 else None
            if opcode is not None:
                self.opcodes.append(opcode)
            refused = opcode == self.refused
            reports = [VerificationReport(Subtype.ACCEPTANCE_OK, tc.request_id)]
            reports.append(VerificationReport(Subtype.START_FAILED, tc.request_id, code=FailureCode.WRONG_MODE,
                                              data="MODE_SET not allowed in BOOT") if refused
                           else VerificationReport(Subtype.START_OK, tc.request_id))
            if not refused:
                reports.append(VerificationReport(Subtype.COMPLETION_OK, tc.request_id))
            asyncio.get_running_loop().call_later(self.slow.get(opcode or -1, 0.0), self._answer, reports)

    def _answer(self, reports: list[VerificationReport]) -> None:
        for report in reports:
            tm = PusTm(100, 1, int(report.subtype), report.pack(), seq_count=self.seq)
            os.write(self.master, frame(tm.pack()))
            self.seq += 1

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)


def hk(session: GroundSession, sid: int, values: dict[str, Any], age: float = 0.0) -> None:
    """A housekeeping report received ``age`` seconds ago."""
    rx_time = time.time() - age
    session.last_rx = rx_time
    session.state.take(Received(rx_time, b"", "hk", 100, 3, 25, 0, rx_time + UNIX_TO_TAI_1958,
                                {"sid": sid, "values": values}))


def status(app: GroundConsole) -> str:
    return str(app.query_one("#status", Static).render())


def cell(app: GroundConsole, sid: int, point: str, column: str) -> Any:
    return app.query_one(f"#tlm-{sid}", DataTable).get_cell(point, column)


async def test_status_bar_and_staleness(session: GroundSession) -> None:
    app = GroundConsole(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)
        assert "● vehicle no telemetry yet" in status(app)
        assert "mode ?" in status(app)
        hk(session, 1, {"mode": "NOMINAL", "uptime_s": 12.0})
        hk(session, 40, {"mission_state": "awaiting_descent_go", "mission_awaiting_go": True})
        hk(session, 42, {"ascent_state": "idle", "ascent_awaiting_go": False})
        hk(session, 1, {"fast_jitter_p99_ms": 12.0})  # out of its red limit
        app.refresh_panels()
        bar = status(app)
        assert "● vehicle 0.0s" in bar or "● vehicle 0.1s" in bar
        assert "mode NOMINAL" in bar and "phase awaiting_descent_go" in bar
        assert "AWAITING GO: mission (awaiting_descent_go)" in bar and "ascent" not in bar
        assert "1 ALARM (F8)" in bar
        # Fresh values are plain, with their age; a value 40 s old is dimmed and marked STALE.
        app.refresh_ages()
        assert str(cell(app, 1, "uptime_s", "age")) in ("0.0s", "0.1s", "0.2s")
        hk(session, 1, {"boot_count": 3}, age=40.0)
        app.refresh_ages()
        value = cell(app, 1, "boot_count", "value")
        assert isinstance(value, Text) and str(value) == "3" and value.style == "dim"
        assert str(cell(app, 1, "boot_count", "age")) == "40s STALE"
        assert str(cell(app, 1, "uptime_s", "age")) in ("0.0s", "0.1s", "0.2s", "0.3s")
        # Nothing more for a while: the link is said to be silent, with the age of its last packet.
        session.last_rx = time.time() - 30
        app.refresh_panels()
        assert "● vehicle SILENT 30s" in status(app)
        # A critical command in flight (nobody answers, so it stays arming) shows until its end.
        app.query_one("#command").value = "GO_DESCENT"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("y")
        await until_shown(lambda: "CRITICAL IN FLIGHT: GO_DESCENT" in status(app), pilot)


async def test_page_keys_and_a_page_bar_that_fits(session: GroundSession, dictionary: Dictionary) -> None:
    sids = sorted(dictionary.structures)
    for width in (80, 200):
        app = GroundConsole(session)
        async with app.run_test(size=(width, 40)) as pilot:
            await pilot.pause(0.2)
            bar = app.query_one(PageBar)
            lines = bar.lines(bar.content_size.width)
            assert all(line.cell_len <= bar.content_size.width for line in lines)
            assert bar.size.height == len(lines) <= 2  # nothing cut off, at most two lines
            shown = " ".join(str(line) for line in lines)
            assert all(f"{sid} " in shown for sid in sids)  # every page is reachable by its number
            if width == 200:
                assert all(f"{sid} {name}" in shown for sid, name in dictionary.structures.items())
            await pilot.press("f3")
            assert bar.current == sids[1]
            await pilot.press("f2", "f2")
            assert bar.current == sids[-1]
            app.query_one("#command").value = "40"  # type: ignore[attr-defined]
            await pilot.press("enter")
            assert bar.current == 40 and app.query_one("#pages").current == "tlm-40"  # type: ignore[attr-defined]
            app.query_one("#command").value = "page gnc"  # type: ignore[attr-defined]
            await pilot.press("enter")
            assert bar.current == 30


async def test_plots_help_and_suggestions(session: GroundSession, dictionary: Dictionary) -> None:
    app = GroundConsole(session)
    async with app.run_test(size=(160, 48)) as pilot:
        app.query_one("#command").value = "plot fast_jiter_p99_ms"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert "did you mean fast_jitter_p99_ms" in str(app.query_one("#hint", Static).render())
        app.query_one("#command").value = "plot fast_jitter_p99_ms"  # type: ignore[attr-defined]
        await pilot.press("enter")
        for value in (1.0, 2.0, 6.0, 12.0):
            hk(session, 1, {"fast_jitter_p99_ms": value})
        plots = app.query_one("#plots", PlotPane)
        plots.redraw()
        body = str(app.query_one("#plots-body", Static).render())
        assert "fast_jitter_p99_ms 12 ms" in body and "limits: yellow >5, red >10" in body
        assert "▁▂▄█" in body  # height by value (6 ms is 5/11 of the way: the fourth level)
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        app.query_one("#command").value = "NOOPP"  # type: ignore[attr-defined]
        await pilot.pause(0.05)
        assert "did you mean NOOP?" in str(app.query_one("#hint", Static).render())


async def test_history_keeps_stages_and_failure_code_at_80_columns(session: GroundSession, dictionary: Dictionary,
                                                                   ports: tuple[int, str]) -> None:
    vehicle = StandIn(ports[0], dictionary)
    app = GroundConsole(session)
    try:
        async with app.run_test(size=(80, 30)) as pilot:
            for line in ("NDOS_ACQUIRE samples=2 interval_s=0.5", "MODE_SET mode=SAFE"):
                app.query_one("#command").value = line  # type: ignore[attr-defined]
                await pilot.press("enter")
            history = app.query_one("#history", DataTable)
            await until_shown(lambda: len(session.history) == 2 and all(e.finished.is_set() for e in session.history),
                              pilot)
            app.refresh_panels()
            rows = {str(history.get_row(key)[1]): [str(cell) for cell in history.get_row(key)]
                    for key in history.rows}
            acquire, refused = rows["NDOS_ACQUIRE samp…"], rows["MODE_SET mode=SAFE"]
            assert acquire[2:5] == ["completed", "", "accepted, started, completed"]
            assert refused[2:5] == ["failed at s…", "WRONG_MODE",
                                    "accepted, failed at start: WRONG_MODE (MODE_SET not allowed in BOOT)"]
            # The stages are in view at 80 columns: the command's arguments do not push them out.
            before = sum(column.get_render_width(history) for column in list(history.columns.values())[:4])
            assert before + 1 + len("accepted, started, completed") <= history.scrollable_content_region.width
            # Enter on a row: everything about that command.
            history.focus()
            history.move_cursor(row=1)
            await pilot.press("enter")
            assert type(app.screen).__name__ == "HelpScreen"
            details = "\n".join(str(widget.render()) for widget in app.screen.query(Static))
            assert "failure code: WRONG_MODE" in details and "failed at start: WRONG_MODE" in details
    finally:
        vehicle.close()


def test_fuzzy_completion_and_search(dictionary: Dictionary) -> None:
    assert complete(dictionary, "GODESC")[0] == "GO_DESCENT "  # letters in order, no prefix
    assert complete(dictionary, "plot fast_jit")[1] == ["fast_jitter_max_ms", "fast_jitter_p99_ms"]
    assert fuzzy("NOOPP", list(dictionary.commands))[0] == "NOOP"
    assert "usage: MODE_SET mode=<" in describe(dictionary, "MODE_SET")
    assert "limits: yellow above 5 and" not in describe(dictionary, "fast_jitter_p99_ms")
    assert "limits: yellow above 5; red above 10" in describe(dictionary, "fast_jitter_p99_ms")
    assert any(line.startswith("command   NDOS_POWER_ON") for line in search(dictionary, "dosimeter"))
    line = sparkline([1.0, 2.0, 6.0, 12.0], ["ok", "ok", "yellow", "red"], 40)
    assert [str(line)[span.start:span.end] + ":" + str(span.style) for span in line.spans] == [
        "▁:green", "▂:green", "▄:bold yellow", "█:bold red"]  # coloured by limit state
    assert age_text(0.42) == "0.4s" and age_text(75) == "1m15s" and age_text(7300) == "2h01m"
    freshness = Freshness()
    for moment in (0.0, 1.0, 2.0):
        freshness.saw(1, moment)
    assert freshness.stale_after(1) == 5.0  # 3 periods of 1 s is under the floor
    freshness.saw(40, 0.0)
    freshness.saw(40, 10.0)
    assert freshness.stale(40, 29.0) is False and freshness.stale(40, 31.0) is True
