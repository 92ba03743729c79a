"""A powered descent through a reset of the flight computer (Beresheet, 2019).

Beresheet's IMU glitched at about 14 km; the reset commanded to recover from it rebooted the
computer, the main engine shut down and could not be restarted in time. Here the flight software
flies the emulator plant through the device bus as in the mission (:class:`fsw.gnc.component.GncComponent`
on a flight executive, afap clock); the IMU fault is injected at 14 km and the flight computer is
then killed and rebooted on its store while the engine burns. The plant (:class:`hil.plant_process.LanderWorld`
behind a :class:`hil.devicebus.DeviceBusServer`) lives on through the reset and lets the reset
outage of flight time pass with the engine as last commanded. The response expected: switch to the
redundant IMU, resume guidance from its checkpoint without touching the engine, land.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.clock import run as run_on_clock
from fsw.core.store import Store
from fsw.gnc.component import GncComponent
from fsw.topology import core_vehicle
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.emulator.plant import TouchdownReport, with_faults
from hil.plant_process import RESET_OUTAGE_S, LanderWorld

IMU_GLITCH_HEIGHT_M = 14_000.0
RESET_HEIGHT_M = 13_000.0  # the reset comes after the glitch, while the engine burns in main braking
DEADLINE_S = 1_500.0  # flight seconds per boot: longer than any descent


@dataclass
class ResetRun:
    seed: int
    touchdown: TouchdownReport | None
    height_at_reset_m: float
    engine_on_at_reset: bool
    events: list[tuple[str, dict[str, Any]]]  # both boots' events, in order
    outcomes: list[str]  # what guidance reported to the mission
    ignitions: int  # main engine starts seen by the plant
    flight_restarts: int
    wall_s: float
    world: LanderWorld = field(repr=False)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def gnc_events(self) -> list[str]:
        return [args.get("event", "") for name, args in self.events if name == "GNC_EVENT"]

    def resumed(self) -> list[dict[str, Any]]:
        return [args for name, args in self.events if name == "GNC_RESUMED"]

    def outcome(self) -> str:
        td = self.touchdown
        landing = (f"touchdown {td.vertical_speed_m_s:.2f} m/s vertical, {td.horizontal_speed_m_s:.2f} m/s horizontal, "
                   f"tilt {td.tilt_deg:.1f} deg" if td else "no touchdown")
        resumed = self.resumed()
        gap = f", guidance resumed in {resumed[0]['phase']} ({resumed[0]['gap']} s unseen)" if resumed else ""
        return (f"reset at {self.height_at_reset_m / 1e3:.1f} km with the engine "
                f"{'burning' if self.engine_on_at_reset else 'off'}{gap}; {landing}; "
                f"main engine ignitions {self.ignitions}")


class _FlightComputer:
    """One boot of the flight software: executive, store and GNC on the shared plant."""

    def __init__(self, store: Path, server: DeviceBusServer) -> None:
        self.clock = Clock("afap")
        self.store = Store(store)
        self.executive = core_vehicle(self.clock, self.store)
        self.packets: list[bytes] = []
        self.executive.ctx.telemetry.add_sink(self.packets.append)
        self.gnc = GncComponent(self.executive.ctx, LocalDeviceBus(server, self.clock))
        self.executive.add(self.gnc)

    def fly(self, until: Callable[[], bool], begin: Callable[[], None], *, stop: bool) -> None:
        async def main() -> None:
            await self.executive.start()
            begin()
            start = self.clock.monotonic()
            while not until() and self.clock.monotonic() - start < DEADLINE_S:
                await self.clock.sleep(0.1)
            if stop:
                await self.executive.stop("scenario over")

        run_on_clock(main(), self.clock)
        self.store.close()  # without a stop: the process is gone, the store holds what it wrote

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        decode = self.executive.events.decode_report
        return [event for raw in self.packets if (event := decode(raw)) is not None]


def fly_descent_through_reset(seed: int = 1, *, imu_glitch: bool = True, reset_height_m: float = RESET_HEIGHT_M,
                              outage_s: float = RESET_OUTAGE_S, workdir: Path | None = None) -> ResetRun:
    wall0 = time.perf_counter()
    faults = {"imu_glitch_altitude_m": IMU_GLITCH_HEIGHT_M} if imu_glitch else {}
    world = LanderWorld(seed, with_faults(None, **faults) if faults else None)
    server = DeviceBusServer(world.devices, world.advance, world.handover, outage_s)
    outcomes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ilrs-reset-") as scratch:
        store = (workdir or Path(scratch)) / "fsw-store.sqlite"
        first = _FlightComputer(store, server)
        first.fly(lambda: world.plant.height_above_ground < reset_height_m or bool(outcomes),
                  lambda: first.gnc.descent_driver.begin(outcomes.append, False), stop=False)
        height_at_reset, engine_on = world.plant.height_above_ground, bool(world.plant.engine_on)
        second = _FlightComputer(store, server)
        second.fly(lambda: bool(outcomes), lambda: second.gnc.descent_driver.begin(outcomes.append, True),
                   stop=True)
    return ResetRun(seed, world.plant.touchdown, height_at_reset, engine_on, first.events() + second.events(),
                    outcomes, world.ignitions["main_engine"], server.flight_restarts, time.perf_counter() - wall0,
                    world)


def check_beresheet(run: ResetRun) -> list[str]:
    """The unmet expectations of the Beresheet response (empty: correct)."""
    problems = []
    if "imu_switched_to_redundant" not in run.gnc_events():
        problems.append("no switch to the redundant IMU")
    if not run.engine_on_at_reset:
        problems.append("the engine was not burning when the computer reset (the reset came too late)")
    if run.flight_restarts != 1 or len(run.resumed()) != 1:
        problems.append(f"guidance did not resume once after the reset ({len(run.resumed())} resumptions)")
    if run.ignitions != 1:
        problems.append(f"the main engine was started {run.ignitions} times")
    if run.touchdown is None:
        problems.append("no touchdown")
    elif not run.touchdown.safe:
        problems.append(f"unsafe touchdown: {run.touchdown}")
    if run.outcomes != ["landed"]:
        problems.append(f"guidance reported {run.outcomes}")
    return problems
