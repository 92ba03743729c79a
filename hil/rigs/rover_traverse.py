"""The rover's flight software in this process against the rover plant, on the afap clock: the same
wiring as ``ilrs-fsw run --vehicle rover``, with the device bus handed straight to the plant. For
tests and quick studies of a traverse, a fault or a night; the truth comes back from the plant.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.clock import Clock, wait_wall
from fsw.clock import run as run_on_clock
from fsw.core.store import Store
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from fsw.rover.topology import rover
from fsw.vehicle import FlightConfig, Vehicle
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.emulator.rover import RoverPlant, RoverPlantConfig, make_rover_devices

Waypoint = tuple[float, float, bool]


@dataclass
class TraverseResult:
    events: list[tuple[str, dict[str, Any]]]
    truth: dict[str, Any]
    housekeeping: dict[str, Any]
    pancam: list[dict[str, Any]] = field(default_factory=list)
    go_at_s: float = 0.0  # on-board time of the ROVER_GO
    then_s: float = 0.0  # on-board time that passed in the wall seconds after the traverse (``then_wall_s``)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [args for event, args in self.events if event == name]


def run_traverse(seed: int, waypoints: list[Waypoint], duration_s: float, *, config: RoverPlantConfig | None = None,
                 parameters: dict[str, Any] | None = None, store_dir: Path | None = None,
                 until_event: str | None = None, ground_wall_s: float | None = None,
                 then_wall_s: float | None = None, park: bool = False) -> TraverseResult:
    """Boot the rover, take it to NOMINAL, upload ``waypoints``, GO, and let ``duration_s`` of flight
    time pass (the traverse, then whatever follows: the night included), or less once ``until_event``
    has been seen. ``ground_wall_s``: the ground's commands come after this many wall seconds, as a
    ground across a link would send them (default: one flight second after boot). ``then_wall_s``:
    afterwards, let this many wall seconds pass (after a ``ROVER_PARK`` when ``park``) and measure the
    on-board time they took."""
    directory = store_dir or Path(tempfile.mkdtemp(prefix="ilrs-rover-"))
    clock = Clock("afap")
    plant = RoverPlant(seed, config)
    devices = make_rover_devices(plant)
    bus = LocalDeviceBus(DeviceBusServer(devices, plant.step), clock)
    store = Store(directory / "rover-store.sqlite")
    vehicle = rover(FlightConfig(port=str(directory / "no-radio.tty"), store=store.path,
                                 parameters=tuple((parameters or {}).items())), clock, store, bus)
    events: list[tuple[str, dict[str, Any]]] = []

    def on_packet(raw: bytes) -> None:
        event = vehicle.events.decode_report(raw)
        if event is not None:
            events.append(event)

    vehicle.ctx.telemetry.add_sink(on_packet)
    sequence = iter(range(1, 1 << 14))

    def command(name: str, *args: Any) -> None:
        opcode = vehicle.dispatcher.commands_by_name[name].opcode
        vehicle.dispatcher.submit(PusTc(vehicle.apid, 8, 1, appdata.encode([opcode, *args]), next(sequence), ACK_ALL))

    async def main() -> tuple[dict[str, Any], float, float]:
        await vehicle.start()
        try:
            if ground_wall_s is not None:
                await wait_wall(asyncio.Event().wait(), ground_wall_s)
            command("MODE_SET", "NOMINAL")
            for east, north, science in waypoints:
                command("ROVER_WAYPOINT", float(east), float(north), bool(science))
            if ground_wall_s is None:
                await clock.sleep(1.0)
            else:
                await wait_wall(asyncio.Event().wait(), ground_wall_s)
            go_at = clock.monotonic()
            command("ROVER_GO")
            deadline = clock.monotonic() + duration_s
            while clock.monotonic() < deadline and not any(name == until_event for name, _ in events):
                await clock.sleep(min(60.0, deadline - clock.monotonic()))
            then = 0.0
            if then_wall_s is not None:
                if park:
                    command("ROVER_PARK")
                start = clock.monotonic()
                await wait_wall(asyncio.Event().wait(), then_wall_s)
                then = clock.monotonic() - start
            return housekeeping(vehicle), go_at, then
        finally:
            await vehicle.stop("rig over")
            store.close()

    values, go_at, then = run_on_clock(main(), clock)
    return TraverseResult(events, plant.report(), values, devices["pancam"].acquired, go_at, then)


def housekeeping(vehicle: Vehicle) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for component in vehicle.components:
        values.update(component.housekeeping())
    return values
