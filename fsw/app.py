"""The flight process: open the store, wire the lander (``fsw.topology``) or the rover
(``fsw.rover.topology``), arm the watchdog, run until SIGINT/SIGTERM, shut down in order. Each
topology is imported by the run that wires it: a rover's process loads none of the lander's modules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from fsw.clock import Clock
from fsw.core.store import Store
from fsw.devices.platform import PlatformError, load_watchdog
from fsw.vehicle import FlightConfig, Vehicle

log = logging.getLogger("fsw")

__all__ = ["FlightConfig", "attach_watchdog", "run_flight", "run_rover"]

# A virtual clock may stand still in wall time while it waits for another process (a hold), and
# its strokes then pause too: give the wall-time watchdog that much more slack.
AFAP_WATCHDOG_SLACK = 10.0


def attach_watchdog(vehicle: Vehicle, config: FlightConfig, clock: Clock) -> None:
    """Give the health service the configured watchdog, its timeout scaled to wall time."""
    if config.watchdog == "none":
        return
    timeout = config.watchdog_timeout_s
    if clock.mode.kind == "afap":
        timeout *= AFAP_WATCHDOG_SLACK
    elif clock.mode.kind == "scaled" and clock.mode.factor < 1:
        timeout /= clock.mode.factor  # strokes come at 10 Hz of flight time: slower in wall time
    try:
        watchdog = load_watchdog(config.watchdog)(config.store)
    except PlatformError as error:
        raise SystemExit(f"ilrs-fsw: {error}") from error
    vehicle.health_service.use_watchdog(watchdog, timeout)


async def run_flight(config: FlightConfig, clock: Clock) -> int:
    from fsw.topology import lander

    store = Store(config.store)
    return await run_vehicle(lander(config, clock, store), config, clock, store)


async def run_rover(config: FlightConfig, clock: Clock) -> int:
    """The rover's flight software: its own store, clock and keys; its link is the proximity radio."""
    from fsw.rover.topology import rover

    store = Store(config.store)
    return await run_vehicle(rover(config, clock, store), config, clock, store)


async def run_vehicle(vehicle: Vehicle, config: FlightConfig, clock: Clock, store: Store) -> int:
    link = vehicle.link
    assert link is not None  # every vehicle run as a process has its link
    attach_watchdog(vehicle, config, clock)
    executive = vehicle.executive
    loop = asyncio.get_running_loop()
    stop_reason: list[str] = []

    def request_stop(signum: int) -> None:
        stop_reason.append(signal.Signals(signum).name)
        executive.shutdown_requested.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop, signum)
    await link.open_with_retry()
    await executive.start()
    await executive.shutdown_requested.wait()
    await executive.stop(stop_reason[0] if stop_reason else "commanded")
    # Give the final event a moment to leave the port before it closes.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(link.drain(), 1.0)
    await link.close()
    store.close()
    return 0
