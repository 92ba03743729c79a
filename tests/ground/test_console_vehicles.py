"""The console with both vehicles: packets of the lander's and the rover's APIDs come in on a pty
(the rover's through the lander's relay), each decoded with its own dictionary, shown on its own
pages with its own age in the status bar; a rover command typed in the console goes up to APID 120."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import select
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.widgets import ContentSwitcher, DataTable, Static

from fsw.protocol import UNIX_TO_TAI_1958, PusTc, PusTm, decode_cbor, encode_cbor
from fsw.protocol.framing import Deframer, frame
from ground.commands.common import Printer
from ground.console import GroundConsole
from ground.console.widgets import PageBar
from ground.dictionary import Dictionary
from ground.session import GroundSession
from ground.telemetry import Received
from ground.vehicles import Vehicle, VehicleRegistry
from tests.ground.conftest import until_shown


@pytest.fixture
async def link() -> AsyncIterator[tuple[int, str]]:
    master, slave = pty.openpty()
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
async def session(dictionary: Dictionary, rover_dictionary: Dictionary,
                  link: tuple[int, str]) -> AsyncIterator[GroundSession]:
    vehicles = VehicleRegistry([Vehicle("lander", dictionary), Vehicle("rover", rover_dictionary)])
    session = GroundSession(link[1], dictionary, vehicles=vehicles)
    await session.open()
    try:
        yield session
    finally:
        await session.close()


def downlink(master: int, apid: int, service: int, subtype: int, data: Any) -> None:
    """A packet as the lander sends it down (the rover's under its own APID, relayed)."""
    tm = PusTm(apid, service, subtype, encode_cbor(data), time=time.time() + UNIX_TO_TAI_1958)
    os.write(master, frame(tm.pack()))


def uplinked(master: int) -> list[PusTc]:
    deframer, packets = Deframer(), []
    while select.select([master], [], [], 0.0)[0]:
        packets += [PusTc.unpack(raw) for raw, _ in deframer.feed(os.read(master, 4096))]
    return packets


def cell(app: GroundConsole, table: str, point: str, column: str = "value") -> str:
    return str(app.query_one(f"#{table}", DataTable).get_cell(point, column))


def text(app: GroundConsole, widget: str) -> str:
    return str(app.query_one(f"#{widget}", Static).render())


async def test_console_shows_and_commands_both_vehicles(session: GroundSession, link: tuple[int, str],
                                                        rover_dictionary: Dictionary) -> None:
    master = link[0]
    app = GroundConsole(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.2)
        assert "● rover no telemetry yet" in text(app, "status")
        downlink(master, 100, 3, 25, [1, {"mode": "NOMINAL", "uptime_s": 5.0}])
        # The rover's housekeeping has names of the lander's (mode): kept apart, by its dictionary.
        downlink(master, 120, 3, 25, [1, {"mode": "SAFE"}])
        downlink(master, 120, 3, 25, [61, {"rnav_east_m": 12.5}])
        reached = next(e.id for e in rover_dictionary.events.values() if e.name == "ROVER_WAYPOINT_REACHED")
        downlink(master, 120, 5, 1, [reached, {"index": 2, "east_m": 12.5, "north_m": 3.0}])
        await until_shown(lambda: any("rover:ROVER_WAYPOINT_REACHED" in line for line in app.event_lines), pilot)
        assert any("waypoint 2 reached at (12.5, 3.0) m" in line for line in app.event_lines)
        assert cell(app, "tlm-1", "mode") == "NOMINAL"
        assert cell(app, "tlm-rover-1", "mode") == "SAFE"
        assert cell(app, "tlm-rover-61", "rnav_east_m") == "12.5 m"
        assert session.state.value("mode") == "NOMINAL" and session.relayed[120].state.value("mode") == "SAFE"

        # Each vehicle's age in the status bar; the rover's own, not the link's.
        app.refresh_panels()
        bar = text(app, "status")
        assert "● vehicle 0." in bar and "● rover 0." in bar
        session.relayed[120].last_rx = time.time() - 30
        app.refresh_panels()
        assert "● rover SILENT 30s" in text(app, "status") and "● vehicle 0." in text(app, "status")

        # The pages switch per vehicle: F6, or ``vehicle NAME``.
        bar_widget = app.query_one(PageBar)
        assert bar_widget.vehicle == "lander"
        await pilot.press("f6")
        assert bar_widget.vehicle == "rover" and bar_widget.pages[0] == (1, "exec")
        assert app.query_one("#pages", ContentSwitcher).current == "tlm-rover-1"
        assert "rover (F6)" in str(bar_widget.render())
        app.query_one("#command").value = "61"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert app.query_one("#pages", ContentSwitcher).current == "tlm-rover-61"
        app.query_one("#command").value = "vehicle rovr"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert "unknown vehicle 'rovr' (did you mean rover?)" in text(app, "hint")
        app.query_one("#command").value = "vehicle lander"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert bar_widget.vehicle == "lander" and app.query_one("#pages", ContentSwitcher).current == "tlm-1"

        # A rover command: checked with the rover's dictionary as it is typed, sent to its APID.
        uplinked(master)
        # Tab completes a rover command from the rover's dictionary (ROVER_GO is not the lander's).
        command_line = app.query_one("#command")
        command_line.value = "rover:ROVER_G"  # type: ignore[attr-defined]
        await pilot.press("tab")
        assert command_line.value == "rover:ROVER_GO "  # type: ignore[attr-defined]
        command_line.value = "rover:MODE_SET mode=n"  # type: ignore[attr-defined]
        await pilot.press("tab")
        assert command_line.value == "rover:MODE_SET mode=NOMINAL "  # type: ignore[attr-defined]
        app.query_one("#command").value = "rover:GO_DESCENT"  # type: ignore[attr-defined]
        await pilot.pause(0.05)
        assert "unknown command 'GO_DESCENT'" in text(app, "hint")
        app.query_one("#command").value = "rover:MODE_SET mode=nominal"  # type: ignore[attr-defined]
        await pilot.pause(0.05)
        assert "ok: rover:MODE_SET mode=NOMINAL" in text(app, "hint")
        await pilot.press("enter")
        await until_shown(lambda: bool(session.history), pilot)
        await pilot.pause(0.2)
        sent = uplinked(master)
        assert [(tc.apid, decode_cbor(tc.app_data)) for tc in sent] == [
            (120, [rover_dictionary.command("MODE_SET").opcode, "NOMINAL"])]
        assert session.history[0].label == "rover:MODE_SET mode=NOMINAL"
        history = app.query_one("#history", DataTable)
        app.refresh_panels()
        assert str(history.get_row(str(session.history[0].number))[1]) == "rover:MODE_SET mode=NOMINAL"
        # A bare command still goes to the lander.
        app.query_one("#command").value = "NOOP"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until_shown(lambda: len(session.history) == 2, pilot)
        await pilot.pause(0.2)
        assert [tc.apid for tc in uplinked(master)] == [100]


async def test_relayed_packets_are_kept_apart_and_events_printed_with_the_vehicle(
        session: GroundSession, link: tuple[int, str], rover_dictionary: Dictionary) -> None:
    own: list[Received] = []
    rover: list[Received] = []
    session.add_listener(own.append)
    session.relayed[120].state.listeners.append(rover.append)
    halted = next(e.id for e in rover_dictionary.events.values() if e.name == "ROVER_SLIP_STOP")
    downlink(link[0], 120, 5, 3, [halted, {"slip": 0.6}])
    downlink(link[0], 120, 3, 25, [1, {"mode": "SAFE"}])
    deadline = time.monotonic() + 5.0
    while len(rover) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert own == [] and session.state.value("mode") is None  # the lander's values are the lander's
    assert session.packets == 2 and session.relayed[120].packets == 2
    assert [received.apid for received in rover] == [120, 120]
    out = io.StringIO()
    Printer(session.dictionary, out=out).event(rover[0])
    assert "MEDIUM rover:ROVER_SLIP_STOP:" in out.getvalue()
