"""Ground-penetrating radar surveying the drill site: depth profiles (radargrams) as CBOR products.

The device comes from the platform (the emulator's is ``hil.emulator.surface.instruments.EmulatedRadar``,
the same radar the sampling machine surveys the drill site with).
"""

from __future__ import annotations

import math
import struct
from typing import Any, Protocol

import cbor2

from fsw.core.context import Context
from fsw.core.declarations import MISSION_MODES, Arg, ParameterDef, TelemetryDef, command
from fsw.payloads.base import PayloadComponent, PayloadDevice, standard_events, standard_points

SPEED_OF_LIGHT = 299_792_458.0
CENTRE_FREQUENCY_HZ = 1.5e9
SAMPLE_INTERVAL_S = 0.1e-9
SAMPLES_PER_TRACE = 256


class RadarDevice(PayloadDevice, Protocol):
    def sweep(self, position_m: float, permittivity: float) -> list[int]:
        """One trace of ``SAMPLES_PER_TRACE`` signed 16-bit samples at ``position_m`` along the line."""
        ...


class GroundPenetratingRadar(PayloadComponent):
    name = "radar"
    prefix = "GPR"
    product_extension = "cbor"
    hk_structure = 22
    hk_period_s = 2.0
    telemetry = (*standard_points("GPR"),
                 TelemetryDef("gpr_traces", "u32", "", "traces recorded since boot"))
    events = standard_events("GPR", 0x2201)
    parameters = (
        ParameterDef(0x2201, "gpr_permittivity", "f64", 3.0, "regolith relative permittivity for depth", 1.0, 12.0),
        ParameterDef(0x2202, "gpr_trace_spacing_m", "f64", 0.05, "distance between traces on the line", 0.001, 1.0,
                     unit="m"),
    )

    def __init__(self, ctx: Context, seed: int = 1, device: RadarDevice | None = None) -> None:
        super().__init__(ctx, seed, device)
        self.traces = 0

    @command(0x2201, modes=MISSION_MODES)
    def cmd_gpr_power_on(self) -> None:
        """Power the radar on."""
        self.set_power(True)

    @command(0x2202)
    def cmd_gpr_power_off(self) -> None:
        """Power the radar off."""
        self.set_power(False)

    @command(0x2203, Arg("traces", "u16", "traces along the survey line", 1, 512), modes=MISSION_MODES,
             duration_s=2.0)
    async def cmd_gpr_acquire(self, traces: int) -> None:
        """Survey a line and store the radargram with its depth axis as a CBOR product."""
        await self.acquire(traces)

    def make_product(self, index: int, traces: int) -> bytes:
        device: RadarDevice = self.device
        permittivity = float(self.param("gpr_permittivity"))
        spacing = float(self.param("gpr_trace_spacing_m"))
        samples = bytearray()
        for trace in range(traces):
            samples += struct.pack(f">{SAMPLES_PER_TRACE}h", *device.sweep(trace * spacing, permittivity))
        self.traces += traces
        depth_step = SPEED_OF_LIGHT / math.sqrt(permittivity) * SAMPLE_INTERVAL_S / 2.0
        return cbor2.dumps({
            "product": index, "centre_frequency_hz": CENTRE_FREQUENCY_HZ, "sample_interval_s": SAMPLE_INTERVAL_S,
            "permittivity": permittivity, "trace_spacing_m": spacing, "traces": traces,
            "samples_per_trace": SAMPLES_PER_TRACE, "depth_step_m": depth_step, "zero_time_s": 1.0e-9,
            "samples_i16_be": bytes(samples),
        })

    def extra_housekeeping(self) -> dict[str, Any]:
        return {"gpr_traces": self.traces}


PAYLOAD = GroundPenetratingRadar
