"""``ilrs-hil rover-plant``: the rover plant as its own process, with the proximity radio link.

It serves the rover's device bus on one pty (the rover's flight software steps it) and bridges the
UHF proximity link between two more ptys (the rover's end and the lander's end). The bridge is the
hil/link null-modem with its impairment, gated by the plant's truth: a frame is lost whole while
the radio has no link (range, the terrain hiding the lander's antenna, an outage). On exit the
truth report goes to ``--report`` (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from fsw.devices.bus import MAX_PACKET_SIZE
from fsw.link import SerialLink
from hil.devicebus import DeviceBusServer, serve
from hil.emulator.rover import RockField, RoverFaults, RoverPlant, RoverPlantConfig, make_rover_devices
from hil.link.bridge import NullModemBridge, PtyPair
from hil.link.impairment import ImpairmentConfig, LinkImpairment, direction_rng


class GatedImpairment(LinkImpairment):
    """A link impairment that also loses every frame that starts while ``gate()`` is false."""

    def __init__(self, config: ImpairmentConfig, rng: random.Random, gate: Callable[[], bool],
                 start_time: float = 0.0) -> None:
        super().__init__(config, rng, start_time)
        self.gate = gate
        self.frames_gated = 0
        self._unit_start = True
        self._dropping = False

    def feed(self, now: float, data: bytes) -> list[tuple[float, bytes]]:
        kept = bytearray()
        for octet in data:
            if self._unit_start:
                self._dropping = not self.gate()
                self.frames_gated += self._dropping
                self._unit_start = False
            if not self._dropping:
                kept.append(octet)
            if octet == 0:
                self._unit_start = True
        return super().feed(now, bytes(kept)) if kept else []


def rover_plant_config(seed: int, faults: dict[str, Any], fields: list[tuple[float, float]],
                       sun_phase: float | None) -> RoverPlantConfig:
    config = RoverPlantConfig()
    if faults:
        config.faults = replace(RoverFaults(), **faults)
    if fields:
        config.terrain = replace(config.terrain, fields=tuple(RockField(e, n) for e, n in fields))
    if sun_phase is not None:
        config.sun_phase_at_start = sun_phase
    return config


async def run_rover_plant(plant: RoverPlant, device_tty: Path, rover_tty: Path, lander_tty: Path,
                          report: Path | None, impairment: ImpairmentConfig) -> int:
    devices = make_rover_devices(plant)
    server = DeviceBusServer(devices, plant.step)
    device_pair, rover_pair, lander_pair = PtyPair(), PtyPair(), PtyPair()
    link = SerialLink("pty", max_packet_size=MAX_PACKET_SIZE)
    await link.open_fd(device_pair.master_fd)

    def radio_up() -> bool:
        return plant.radio_link()[0]

    bridge = NullModemBridge(rover_pair, lander_pair)
    for direction, name in ((bridge.a_to_b, "A->B"), (bridge.b_to_a, "B->A")):
        direction.impairment = GatedImpairment(impairment, direction_rng(plant.seed, name), radio_up,
                                               start_time=bridge.loop.time())
    bridge.start()
    for pair, path in ((device_pair, device_tty), (rover_pair, rover_tty), (lander_pair, lander_tty)):
        pair.publish(path)
    print(f"rover plant ready: {device_tty} {rover_tty} {lander_tty}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    serving = asyncio.ensure_future(serve(link, server))
    try:
        await stop.wait()
    finally:
        serving.cancel()
        bridge.stop()
        await link.close()
        for pair in (device_pair, rover_pair, lander_pair):
            pair.close()
        if report is not None:
            gated = {name: direction.impairment.frames_gated  # type: ignore[attr-defined]
                     for direction, name in ((bridge.a_to_b, "rover_to_lander"), (bridge.b_to_a, "lander_to_rover"))}
            summary = {**plant.report(), "exchanges": server.exchanges, "radio_frames_lost": gated,
                       "pancam": devices["pancam"].acquired, "faults": asdict(plant.config.faults)}
            report.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=Path, required=True, help="publish the rover's device bus pty here")
    parser.add_argument("--rover-link", type=Path, required=True, help="publish the rover's end of the radio here")
    parser.add_argument("--lander-link", type=Path, required=True, help="publish the lander's end of the radio here")
    parser.add_argument("--seed", type=int, default=1, help="seed of the terrain and sensors")
    parser.add_argument("--fault", action="append", default=[], metavar="FIELD=VALUE",
                        help="a rover fault (hil.emulator.rover.RoverFaults field), repeatable")
    parser.add_argument("--rock-field", action="append", default=[], metavar="EAST,NORTH",
                        help="put a known field of large rocks here (metres from the lander), repeatable")
    parser.add_argument("--sun-phase", type=float, help="fraction of the lunar month since sunrise at start")
    parser.add_argument("--radio-loss", type=float, default=0.0, help="random frame loss on the radio (0-1)")
    parser.add_argument("--report", type=Path, help="write the truth report here (JSON) on exit")


def run(args: argparse.Namespace) -> int:
    from hil.plant_process import parse_faults

    try:
        faults = parse_faults(args.fault)
        fields = [(float(e), float(n)) for e, n in (item.split(",") for item in args.rock_field)]
        config = rover_plant_config(args.seed, faults, fields, args.sun_phase)
        impairment = ImpairmentConfig(loss=args.radio_loss)
    except (ValueError, TypeError) as error:
        print(f"ilrs-hil rover-plant: {error}")
        return 2
    plant = RoverPlant(args.seed, config)
    return asyncio.run(run_rover_plant(plant, args.devices, args.rover_link, args.lander_link, args.report,
                                       impairment))
