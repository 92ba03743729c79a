"""A partner's instrument living outside the flight tree, as a partner team would ship it: one
module, registered through the ``ilrs_fsw.payloads`` entry-point group. It stands for an energetic
neutral atom analyser (after Chang'E-4's ASAN): an energy spectrum as a CBOR product."""

from __future__ import annotations

import random
from typing import Any, Protocol

import cbor2

from fsw.core.declarations import Arg, command
from fsw.payloads.base import PayloadComponent, PayloadDevice, standard_events, standard_points

ENERGY_BINS_EV = tuple(10 * 2 ** (i / 2) for i in range(16))


class AnalyserDevice(PayloadDevice, Protocol):
    def spectrum(self, seconds: float) -> list[int]: ...


class EmulatedAnalyser:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"ena:{seed}")
        self.powered = False

    def set_power(self, on: bool) -> None:
        self.powered = on

    def temperature_c(self) -> float:
        return 15.0

    def spectrum(self, seconds: float) -> list[int]:
        return [self.rng.randrange(int(1 + 500 * seconds / (1 + i))) for i in range(len(ENERGY_BINS_EV))]


class NeutralAtomAnalyser(PayloadComponent):
    name = "ena"
    prefix = "ENA"
    product_extension = "cbor"
    hk_structure = 30
    telemetry = standard_points("ENA")
    events = standard_events("ENA", 0x3001)

    def make_device(self, seed: int) -> Any:
        return EmulatedAnalyser(seed)

    @command(0x3001)
    def cmd_ena_power_on(self) -> None:
        """Power the analyser on."""
        self.set_power(True)

    @command(0x3002)
    def cmd_ena_power_off(self) -> None:
        """Power the analyser off."""
        self.set_power(False)

    @command(0x3003, Arg("seconds", "f64", "accumulation time", 0.1, 600.0, unit="s"))
    async def cmd_ena_acquire(self, seconds: float) -> None:
        """Accumulate one energy spectrum."""
        await self.acquire(seconds)

    def make_product(self, index: int, seconds: float) -> bytes:
        return cbor2.dumps({"energy_ev": list(ENERGY_BINS_EV), "counts": self.device.spectrum(seconds),
                            "seconds": seconds})


PAYLOAD = NeutralAtomAnalyser
