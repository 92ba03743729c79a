"""The full-screen console driven by Textual's test pilot, against a live flight software over ptys."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, RichLog, Static

from ground.console import GroundConsole, complete
from ground.dictionary import Dictionary
from ground.session import GroundSession
from ground.telemetry import Received
from tests.ground.conftest import LiveVehicle, until_shown

pytestmark = pytest.mark.slow


def history_rows(app: GroundConsole) -> list[dict[str, str]]:
    table = app.query_one("#history", DataTable)
    columns = [str(column.label) for column in table.columns.values()]
    return [dict(zip(columns, (str(cell) for cell in table.get_row(key)), strict=True)) for key in table.rows]


def cell(app: GroundConsole, sid: int, point: str, column: str) -> str:
    return str(app.query_one(f"#tlm-{sid}", DataTable).get_cell(point, column))


def test_completion_of_names_arguments_and_enum_values(dictionary: Dictionary) -> None:
    assert complete(dictionary, "MODE_")[0] == "MODE_SET "
    assert complete(dictionary, "EVENT_LOG_")[0] == "EVENT_LOG_"
    assert set(complete(dictionary, "EVENT_LOG_")[1]) == {"EVENT_LOG_CLEAR", "EVENT_LOG_DUMP"}
    assert complete(dictionary, "MODE_SET m")[0] == "MODE_SET mode="
    assert complete(dictionary, "MODE_SET mode=n")[0] == "MODE_SET mode=NOMINAL "
    assert complete(dictionary, "NOSUCH x")[1] == []


async def test_console_live(vehicle: LiveVehicle, dictionary: Dictionary) -> None:
    session = GroundSession(vehicle.port, dictionary)
    await session.open()
    try:
        app = GroundConsole(session)
        async with app.run_test(size=(160, 50)) as pilot:
            # Telemetry pages fill from live housekeeping, with units.
            await until_shown(lambda: cell(app, 1, "uptime_s", "value").endswith(" s"), pilot)

            # Tab completion in the command line, inline validation, then send.
            await pilot.press(*"MODE_")
            await pilot.press("tab")
            assert app.query_one("#command").value == "MODE_SET "
            await pilot.press(*"mode=bogus")
            assert "not one of SAFE, NOMINAL" in str(app.query_one("#hint", Static).render())
            for _ in range(5):
                await pilot.press("backspace")
            await pilot.press("N", "tab")
            assert app.query_one("#command").value == "MODE_SET mode=NOMINAL "
            await pilot.press("enter")
            await until_shown(lambda: any(row["status"] == "completed" for row in history_rows(app)), pilot)
            row = history_rows(app)[0]
            assert row["command"] == "MODE_SET mode=NOMINAL"
            assert row["stages"] == "accepted, started, completed"
            await until_shown(lambda: cell(app, 1, "mode", "value") == "NOMINAL", pilot)

            # A limit violation raises an alarm the operator acknowledges; events are logged.
            session.state.take(Received(time.time(), b"", "hk", 100, 3, 25, 0, None,
                                        {"sid": 1, "values": {"fast_jitter_p99_ms": 15.0}}))
            app.refresh_panels()
            alarms = app.query_one("#alarms", DataTable)
            assert [str(c) for c in alarms.get_row("fast_jitter_p99_ms")][1:3] == ["RED", "RED"]
            assert [str(c) for c in alarms.get_row("fast_jitter_p99_ms")][5] == "NO"
            await pilot.press("f8")
            # (a loaded bench may raise a new alarm of its own right after: only this one is checked)
            assert "fast_jitter_p99_ms" not in [alarm.point for alarm in session.state.unacknowledged()]
            if "fast_jitter_p99_ms" in session.state.alarms:  # else a live value came back in limits first
                assert [str(c) for c in alarms.get_row("fast_jitter_p99_ms")][5] == "yes"
            # The next live value replaces the injected one: back in limits clears the acknowledged
            # alarm, still out of limits keeps it with the live state (a loaded bench may jitter).
            await until_shown(lambda: "fast_jitter_p99_ms" not in session.state.alarms
                              or session.state.alarms["fast_jitter_p99_ms"].value != 15.0, pilot)
            live = session.state.value("fast_jitter_p99_ms")
            state = dictionary.points["fast_jitter_p99_ms"].limit_state(live)
            assert ("fast_jitter_p99_ms" in session.state.alarms) == (state != "ok")
            # The mode change came down as an event, shown with its severity and formatted text.
            await until_shown(lambda: any("LOW    MODE_CHANGED: mode SAFE -> NOMINAL (commanded)" in line
                              for line in app.event_lines), pilot)
            assert len(app.query_one("#events", RichLog).lines) >= 1
    finally:
        await session.close()


async def test_console_critical_command_asks_then_arms(vehicle: LiveVehicle, dictionary_path: Path,
                                                       tmp_path: Path) -> None:
    data = json.loads(dictionary_path.read_text())
    for command in data["commands"]:
        if command["name"] == "EVENT_LOG_CLEAR":
            command["critical"] = True  # the flight side disagrees: its ARM must fail
    session = GroundSession(vehicle.port, Dictionary.from_json(data))
    await session.open()
    try:
        app = GroundConsole(session)
        async with app.run_test(size=(160, 50)) as pilot:
            command_line = app.query_one("#command")
            command_line.value = "EVENT_LOG_CLEAR"  # typing is covered by the test above
            await pilot.press("enter")
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "ConfirmCritical"
            await pilot.press("n")  # cancelled: nothing sent
            await pilot.pause(0.1)
            assert session.history == []
            command_line.value = "EVENT_LOG_CLEAR"
            await pilot.press("enter")
            await pilot.pause(0.1)
            await pilot.press("y")
            await until_shown(lambda: bool(history_rows(app)) and history_rows(app)[0]["status"] != "arming", pilot)
            row = history_rows(app)[0]
            assert row["status"] == "arm failed at completion: BAD_ARGUMENT (0x0202 is not a critical command)"
            assert row["code"] == "BAD_ARGUMENT"
            assert row["stages"].startswith("arm accepted, arm started, arm failed")
            assert session.history[0].fire is None  # never fired without a completed arm
            await asyncio.sleep(0)
    finally:
        await session.close()


async def test_console_replays_an_archive_read_only(dictionary: Dictionary, tmp_path: Path) -> None:
    from ground.archive import Archive
    from ground.session import ReplaySession
    from tests.ground.test_archive import fill

    fill(tmp_path / "a.sqlite", dictionary)
    replay = ReplaySession(dictionary, Archive(tmp_path / "a.sqlite", readonly=True))
    app = GroundConsole(replay)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await until_shown(lambda: replay.finished.is_set(), pilot)
            await pilot.pause(0.3)
            assert replay.packets == 11
            assert cell(app, 1, "mode", "value") == "NOMINAL"
            assert cell(app, 1, "fast_jitter_p99_ms", "value") == "6.75 ms"
            assert cell(app, 1, "fast_jitter_p99_ms", "limit") == "YELLOW"
            assert any("MODE_CHANGED: mode SAFE -> NOMINAL (commanded)" in line for line in app.event_lines)
            app.query_one("#command").value = "NOOP"
            await pilot.press("enter")
            assert "commanding is disabled" in str(app.query_one("#hint", Static).render())
            assert app.entries == []
    finally:
        await replay.close()
