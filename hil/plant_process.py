"""``ilrs-hil plant --port PORT --seed S``: the emulator plant as its own process on a device bus.

The lander's truth model and its emulated devices answer the flight software's step requests
(see :mod:`hil.devicebus`). The plant advances only when it is stepped. On exit it writes its
truth report (touchdown figures and the final state) as JSON when ``--report`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fsw.devices.bus import MAX_PACKET_SIZE
from fsw.link import SerialLink
from hil.devicebus import DeviceBusServer, serve
from hil.emulator.ascent import AscentPlant, EmulatedAscentEngine
from hil.emulator.attitude_devices import EmulatedImu, EmulatedRcs, EmulatedStarTracker
from hil.emulator.devices import EmulatedPropellantGauge, make_lander_devices
from hil.emulator.orbit_determination import orbit_determination
from hil.emulator.plant import LunarLanderPlant, PlantConfig, with_faults
from hil.link.bridge import PtyPair

MAX_SUBSTEP_S = 0.02


RESET_OUTAGE_S = 1.0  # [est.] a flight computer's reboot to its first device exchange


class LanderWorld:
    """The truth the flight software flies against: the lander plant and its devices."""

    def __init__(self, seed: int, config: PlantConfig | None = None, ascender_record: Path | None = None) -> None:
        self.plant = LunarLanderPlant(seed, config)
        self.ascender = AscentPlant(seed)
        # Where the ascender's state at engine cut-off is written for the rendezvous plant (the
        # emulated orbiter's world, another process): plant to plant, never through the flight software.
        self.ascender_record = ascender_record
        self._ascender_recorded = False
        self._ascender_stood = False
        self.ignition_t: float | None = None
        # Engine starts seen by the truth: a restarted flight computer must never light one twice.
        self.ignitions = {"main_engine": 0, "ascent_engine": 0}
        self._burning = {"main_engine": False, "ascent_engine": False}
        # The ascender's orbit when its engine last cut off in flight. The report gives this one, not
        # the orbit at the plant's exit: the flight software flies on (afap) until it is stopped,
        # a wall-time moment, and every second of coast moves the integrated orbit a little.
        self.cutoff_orbit: tuple[float, float] | None = None
        devices = make_lander_devices(self.plant)
        self.devices: dict[str, Any] = {
            "imu": devices.imu, "star_tracker": devices.star_tracker, "range_finder": devices.range_finder,
            "velocimeter": devices.velocimeter,
            "microwave": devices.microwave, "hazard_imager": devices.hazard_imager,
            "main_engine": devices.main_engine, "attitude": devices.attitude, "propellant": devices.propellant,
            # The ascender is a rigid body of its own, with its own attitude sensors and thrusters.
            "ascent_imu": EmulatedImu(self.ascender),
            "ascent_star_tracker": EmulatedStarTracker(self.ascender),
            "ascent_attitude": EmulatedRcs(self.ascender),
            "ascent_engine": EmulatedAscentEngine(self.ascender),
            "ascent_propellant": EmulatedPropellantGauge(self.ascender),  # type: ignore[arg-type]
        }

    def advance(self, dt: float) -> None:
        """Integrate whichever vehicle is flying; a vehicle at rest only keeps time."""
        plant, ascender = self.plant, self.ascender
        remaining = dt
        while remaining > 1e-9:
            step = min(MAX_SUBSTEP_S, remaining)
            if not plant.landed:
                plant.step(step)
                if plant.engine_on and self.ignition_t is None:
                    self.ignition_t = plant.t
            elif ascender.engine_on or not ascender.on_pad:
                ascender.step(step)
            else:
                break
            remaining -= step
        if remaining > 1e-9:  # both at rest: nothing to integrate
            plant.t += remaining
            ascender.t += remaining
        if plant.landed:
            ascender.t = max(ascender.t, plant.t)
            if not self._ascender_stood and plant.touchdown is not None:  # as the lander came to rest
                self._ascender_stood = True
                ascender.stand_as(plant.body_to_local_matrix)
        for engine, on in (("main_engine", plant.engine_on), ("ascent_engine", ascender.engine_on)):
            if on and not self._burning[engine]:
                self.ignitions[engine] += 1
            if engine == "ascent_engine" and self._burning[engine] and not on and not ascender.on_pad:
                self.cutoff_orbit = self._ascender_orbit()
            self._burning[engine] = on
        if ascender.cutoff_state is not None and not self._ascender_recorded:
            self._ascender_recorded = True
            if self.ascender_record is not None:
                write_ascender_record(self.ascender_record, ascender.cutoff_state)

    def _ascender_orbit(self) -> tuple[float, float]:
        """(periapsis, apoapsis) altitudes of the ascender's orbit now, km."""
        ascender = self.ascender
        orbit = ascender.true_orbit()
        return orbit.periapsis_alt_m / 1e3, orbit.apoapsis_alt_m / 1e3

    def orbit_determination(self, path: Path) -> None:
        """Write the ground's orbit-determination product for the plant's present state (JSON): what
        the ground uplinks before the go (``ground/descent_uplink.py``)."""
        orbit_determination(self.plant).write(path)

    def report(self) -> dict[str, Any]:
        plant = self.plant
        touchdown = {**asdict(plant.touchdown), "safe": plant.touchdown.safe} if plant.touchdown is not None else None
        ascender = self.ascender
        periapsis_km, apoapsis_km = self.cutoff_orbit or self._ascender_orbit()
        return {
            "seed": plant.seed, "t": plant.t, "landed": plant.landed, "touchdown": touchdown,
            "main_engine": {"on": plant.engine_on, "thrust_cmd_n": plant.thrust_cmd},
            "ignition_t": self.ignition_t, "ignitions": dict(self.ignitions),
            "propellant_used_kg": plant.config.propellant_kg - plant.propellant,
            "mass_kg": plant.mass,
            "rcs": {"pulses": plant.rcs_pulses, "propellant_used_kg": plant.rcs_propellant_used,
                    "lost": plant.rcs_lost, "thrust_axis_jumped_at_m": plant.thrust_axis_jumped_at},
            "ascent": {
                "lifted_off": not ascender.on_pad,
                "cutoff_state": list(ascender.cutoff_state) if ascender.cutoff_state is not None else None,
                "delivered_delta_v_m_s": ascender.delivered_delta_v,
                "periapsis_km": periapsis_km if not ascender.on_pad else None,
                "apoapsis_km": apoapsis_km if not ascender.on_pad else None,
                "propellant_used_kg": ascender.config.propellant_kg - ascender.propellant,
                "rcs": {"pulses": ascender.rcs_pulses, "propellant_used_kg": ascender.rcs_propellant_used},
                "max_rate_deg_s": math.degrees(ascender.max_rate_rad_s),
            },
        }


def write_ascender_record(path: Path, cutoff: tuple[float, float, float, float, float]) -> None:
    """The ascender's state at cut-off as JSON (written whole, then renamed: never read half-written)."""
    t, h, s, vu, vd = cutoff
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"t": t, "h": h, "s": s, "vu": vu, "vd": vd}) + "\n")
    partial.replace(path)


async def run_plant(port: str | None, baud: int, world: LanderWorld, report: Path | None,
                    pty: Path | None = None, reset_outage_s: float = 0.0, od_product: Path | None = None) -> int:
    if od_product is not None:  # the tracking before the descent orbit's perilune pass
        world.orbit_determination(od_product)
    link = SerialLink(port or "pty", baud, max_packet_size=MAX_PACKET_SIZE)
    pair = None
    if pty is not None:
        # Our own pty: the flight software opens its slave, one hop fewer than through a bridge.
        pair = PtyPair()
        pair.publish(pty)
        await link.open_fd(pair.master_fd)
        print(f"plant ready: {pty}", flush=True)
    else:
        assert port is not None
        await link.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = DeviceBusServer(world.devices, world.advance, reset_outage_s)
    serving = asyncio.ensure_future(serve(link, server))
    try:
        await stop.wait()
    finally:
        serving.cancel()
        if pair is not None:
            pair.unpublish()
        await link.close()
        if report is not None:
            summary = {**world.report(), "exchanges": server.exchanges, "flight_restarts": server.flight_restarts,
                       "repeats": server.repeats, "applied": [list(call) for call in server.applied]}
            report.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="device path (a pty, a USB-UART) or pyserial URL to serve on")
    where.add_argument("--pty", type=Path, help="make a pty and publish its tty at this path (symlink)")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--seed", type=int, default=1, help="seed of the terrain, sensors and dispersions")
    parser.add_argument("--fault", action="append", default=[], metavar="FIELD=VALUE",
                        help="set a plant fault (hil.emulator.plant.FaultConfig field), repeatable")
    parser.add_argument("--report", type=Path, help="write the truth report here (JSON) on exit")
    parser.add_argument("--ascender-record", type=Path,
                        help="write the ascender's state at engine cut-off here (JSON) for the rendezvous plant")
    parser.add_argument("--od-product", type=Path, metavar="JSON",
                        help="write the ground's orbit-determination product (state, target, terrain map) here "
                             "at start, for the ground to uplink")
    parser.add_argument("--reset-outage", type=float, default=RESET_OUTAGE_S, metavar="SECONDS",
                        help="plant time that passes while the flight computer restarts, actuators as last "
                             f"commanded (default {RESET_OUTAGE_S})")


def parse_faults(items: list[str]) -> dict[str, Any]:
    faults: dict[str, Any] = {}
    for item in items:
        name, _, text = item.partition("=")
        if not name or not text:
            raise ValueError(f"--fault {item!r}: expected FIELD=VALUE")
        try:
            faults[name] = json.loads(text)
        except json.JSONDecodeError:
            faults[name] = text
    return faults


def run(args: argparse.Namespace) -> int:
    try:
        faults = parse_faults(args.fault)
        config = with_faults(None, **faults) if faults else None
    except (ValueError, TypeError) as error:
        print(f"ilrs-hil plant: {error}")
        return 2
    world = LanderWorld(args.seed, config, args.ascender_record)
    if args.reset_outage < 0:
        print("ilrs-hil plant: --reset-outage must not be negative")
        return 2
    return asyncio.run(run_plant(args.port, args.baud, world, args.report, args.pty, args.reset_outage,
                               args.od_product))
