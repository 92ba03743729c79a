"""The ground server serves the rover the lander relays (in process, the lander's link on a pty): the
rover's telemetry and limit alarms (by the rover's dictionary) reach attached sessions and consoles,
and commands, pings and parameter requests addressed to the rover go up under its APID, checked
with its dictionary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable

from fsw.protocol import PusTc, decode_cbor
from ground.console import GroundConsole
from ground.console.widgets import PlotPane
from ground.dictionary import ArgumentError, Dictionary
from ground.remote import RemoteSession
from ground.server import GroundServer
from ground.session import GroundSession
from ground.vehicles import Vehicle, VehicleRegistry
from ground.wire import Address
from tests.ground.conftest import until
from tests.ground.test_console_vehicles import downlink, link, uplinked  # noqa: F401  (link: a fixture)

ROVER = 120


@pytest.fixture
async def served(dictionary: Dictionary, rover_dictionary: Dictionary, link: tuple[int, str],  # noqa: F811
                 tmp_path: Path) -> AsyncIterator[RemoteSession]:
    vehicles = VehicleRegistry([Vehicle("lander", dictionary), Vehicle("rover", rover_dictionary)])
    session = GroundSession(link[1], dictionary, vehicle="lander", vehicles=vehicles)
    address = Address(path=str(tmp_path / "ground.sock"))
    server = GroundServer(dictionary, [session], [address])
    await server.start()
    remote = RemoteSession(address, dictionary, client_name="test")
    await remote.open()
    try:
        yield remote
    finally:
        await remote.close()
        await server.close()


async def sent(master: int, condition: Callable[[PusTc], bool], timeout: float = 8.0) -> PusTc:
    deadline = time.monotonic() + timeout
    while True:
        found = [tc for tc in uplinked(master) if condition(tc)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "nothing matching went up"
        await asyncio.sleep(0.02)


async def test_rover_telemetry_and_alarms_reach_an_attached_session(served: RemoteSession,
                                                                   link: tuple[int, str]) -> None:  # noqa: F811
    assert served.vehicles.names() == ["lander", "rover"]
    rover = served.relayed[ROVER]
    downlink(link[0], 100, 3, 25, [1, {"mode": "NOMINAL"}])
    downlink(link[0], ROVER, 3, 25, [1, {"mode": "SAFE"}])
    downlink(link[0], ROVER, 3, 25, [63, {"rsurv_battery_soc": 0.1, "rsurv_box_c": 18.0}])
    await until(lambda: "rsurv_battery_soc" in rover.state.alarms)
    # The rover's values in its own table, judged by the rover dictionary's limits (red below 0.15).
    assert rover.state.value("mode") == "SAFE" and served.state.value("mode") == "NOMINAL"
    alarm = rover.state.alarms["rsurv_battery_soc"]
    assert alarm.state == "red" and not alarm.acknowledged and "rsurv_box_c" not in rover.state.alarms
    assert not served.state.alarms
    assert served.relayed_links()[0].vehicle == "rover" and served.relayed_links()[0].last_rx is not None
    # Acknowledged through the server: every attached session sees it.
    rover.state.acknowledge("rsurv_battery_soc")
    await asyncio.sleep(0.2)
    assert rover.state.alarms["rsurv_battery_soc"].acknowledged


async def test_commands_pings_and_parameter_requests_go_up_to_the_rovers_apid(
        served: RemoteSession, link: tuple[int, str], rover_dictionary: Dictionary) -> None:  # noqa: F811
    master = link[0]
    go = rover_dictionary.command("ROVER_GO")
    task = asyncio.ensure_future(served.command("rover:ROVER_GO", [], timeout=0.5))
    tc = await sent(master, lambda tc: tc.service == 8)
    assert tc.apid == ROVER and decode_cbor(tc.app_data) == [go.opcode]
    entry = await task
    assert entry.text.startswith("rover:ROVER_GO")
    with pytest.raises(ArgumentError, match="GO_DESCENT"):  # the lander's command is not the rover's
        await served.command("rover:GO_DESCENT", [])
    ping = asyncio.ensure_future(served.ping(0.5, vehicle="rover"))
    assert (await sent(master, lambda tc: tc.service == 17)).apid == ROVER
    await ping
    speed = rover_dictionary.parameter("rover_speed_m_s").id
    request = asyncio.ensure_future(served.request(20, 1, [speed], timeout=0.5, vehicle="rover"))
    tc = await sent(master, lambda tc: tc.service == 20)
    assert tc.apid == ROVER
    await request
    with pytest.raises(ArgumentError, match="unknown vehicle 'rovr'"):
        await served.ping(0.5, vehicle="rovr")


async def test_an_attached_console_raises_and_plots_the_rovers_limits(served: RemoteSession,
                                                                      link: tuple[int, str]) -> None:  # noqa: F811
    app = GroundConsole(served)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.2)
        assert [view.name for view in app.views] == ["lander", "rover"]
        downlink(link[0], ROVER, 3, 25, [63, {"rsurv_battery_soc": 0.1}])
        alarms = app.query_one("#alarms", DataTable)
        deadline = time.monotonic() + 8.0
        while "rover:rsurv_battery_soc" not in alarms.rows:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
            app.refresh_panels()
        assert app.unacknowledged_alarms() == 1
        assert app.plot(["rover:rsurv_battery_soc"]) == "plotting rover:rsurv_battery_soc"
        plots = app.query_one("#plots", PlotPane)
        assert [value for _, value, _ in plots.series["rover:rsurv_battery_soc"]] == [pytest.approx(0.1)]
        assert plots.spec("rover:rsurv_battery_soc") is not None
        downlink(link[0], ROVER, 3, 25, [63, {"rsurv_battery_soc": 0.12}])
        deadline = time.monotonic() + 8.0
        while len(plots.series["rover:rsurv_battery_soc"]) < 2:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        app.acknowledge("rover:rsurv_battery_soc")
        await pilot.pause(0.3)
        assert app.unacknowledged_alarms() == 0
