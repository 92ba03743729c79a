"""Wiring: which components exist and how they connect. Kept apart from the components."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.core.executive import Executive
from fsw.core.store import Store
from fsw.devices.platform import (
    MissionHardware,
    Platform,
    PlatformError,
    PlatformRequest,
    load_platform,
    load_watchdog,
)
from fsw.gnc.component import GncComponent
from fsw.link import SerialLink
from fsw.mission import MissionDevices, add_mission
from fsw.payloads import add_payloads
from fsw.protocol.security import KeyRing
from fsw.services.devices import DeviceStatusService
from fsw.services.filetransfer import FileTransferService
from fsw.services.linkmon import LinkMonitor

log = logging.getLogger("fsw")


@dataclass
class FlightConfig:
    port: str
    baud: int = 115200
    clock: str = "realtime"
    store: Path = Path("build/fsw-store.sqlite")
    hal: str = "emulator"
    seed: int = 1
    watchdog: str = "none"  # none | emulator | dev
    watchdog_timeout_s: float = 3.0
    keys: Path | None = None  # TOML key file: when given, every TC must be signed
    plant_port: str | None = None  # the plant on a device bus in another process (emulator HAL)
    mission: bool = True  # fly the mission machines (emulator HAL)
    hal_config: Path | None = None  # bench TOML for --hal pi (None: the example hil/pi/bench.toml)
    parameters: tuple[tuple[str, Any], ...] = ()  # start-up parameter values (name, value)


# A virtual clock may stand still in wall time while it waits for another process (a hold), and
# its strokes then pause too: give the wall-time watchdog that much more slack.
AFAP_WATCHDOG_SLACK = 10.0


def attach_watchdog(executive: Executive, config: FlightConfig, clock: Clock) -> None:
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
    executive.health_service.use_watchdog(watchdog, timeout)


def build_executive(config: FlightConfig, clock: Clock, store: Store) -> tuple[Executive, SerialLink]:
    executive = Executive(clock, store)
    if config.keys is not None:
        executive.keys = KeyRing.load(config.keys)
    link_monitor: LinkMonitor | None = None

    def on_state(state: str, detail: str) -> None:
        if link_monitor is not None:
            link_monitor.on_link_state(state, detail)

    link = SerialLink(config.port, config.baud, on_state=on_state)
    link_monitor = LinkMonitor(executive, link)
    executive.add(link_monitor)
    platform = open_platform(config, clock)
    executive.add(DeviceStatusService(executive, platform.devices, platform.reports))
    executive.add(FileTransferService(executive))
    add_payloads(executive, seed=config.seed, devices=platform.payloads)
    if platform.mission is not None and config.mission:
        add_mission_components(executive, platform.mission)
    for name, value in config.parameters:
        try:
            executive.parameters.preset(name, value)
        except KeyError as error:
            raise SystemExit(f"ilrs-fsw: --param {name}: no such parameter") from error
        except ValueError as error:
            raise SystemExit(f"ilrs-fsw: --param {name}: {error}") from error
    return executive, link


def add_mission_components(executive: Executive, hardware: MissionHardware) -> GncComponent:
    """The mission machines and the GNC, flying the platform's mission hardware."""
    gnc = GncComponent(executive, hardware.bus)
    executive.add(gnc)
    surface = hardware.surface
    devices = MissionDevices(
        imu=gnc.lander.imu, range_finder=gnc.lander.range_finder, main_engine=gnc.lander.main_engine,
        propellant=gnc.lander.propellant, ascent_engine=gnc.ascender.engine,
        drill=surface.drill, arm=surface.arm, container=surface.container, transfer=surface.transfer,
        radar=surface.radar, power=surface.power, ascender_separation=surface.ascender_separation,
        rendezvous_radar=surface.rendezvous_radar, approach_thrusters=surface.approach_thrusters,
        docking=surface.docking, ascender_release=surface.ascender_release,
        orbit_engines=surface.orbit_engines, returner_separation=surface.returner_separation,
        rover_deploy=surface.rover_deploy, rover_mobility=surface.rover_mobility,
        sun=surface.sun, rover_power=surface.rover_power, rover_thermal=surface.rover_thermal,
    )
    components = add_mission(executive, devices, descent_driver=gnc.descent_driver, ascent_driver=gnc.ascent_driver)
    gnc.watch_machines({"mission": components.mission, "ascent": components.ascent})
    executive.mission = components  # type: ignore[attr-defined]
    executive.gnc = gnc  # type: ignore[attr-defined]
    return gnc


def open_platform(config: FlightConfig, clock: Clock) -> Platform:
    """The configured platform's devices; missing hardware is reported, a bad configuration stops the start."""
    request = PlatformRequest(clock=clock, store=config.store, seed=config.seed, config=config.hal_config,
                              plant_port=config.plant_port, mission=config.mission)
    try:
        return load_platform(config.hal)(request)
    except PlatformError as error:
        raise SystemExit(f"ilrs-fsw: {error}") from error


def build_dictionary_executive() -> Executive:
    """An executive wired like a flight one, for exporting the dictionary (no link is opened)."""
    store = Path(tempfile.mkdtemp(prefix="ilrs-dictionary-")) / "store.sqlite"
    # Everything the wiring keeps on disk (the store, the emulated hardware's state) goes to a scratch folder.
    executive, _ = build_executive(FlightConfig(port="loop://", store=store), Clock("afap"), Store(store))
    return executive


async def run_flight(config: FlightConfig, clock: Clock) -> int:
    store = Store(config.store)
    executive, link = build_executive(config, clock, store)
    attach_watchdog(executive, config, clock)
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
