"""Partner neutron and charged-particle dosimeter (after Chang'E-4's LND): count-rate time series
as CSV products.

Each sample integrates for ``interval_s`` of flight time, so an acquisition takes
``samples * interval_s`` seconds. The device comes from the platform (the emulator's is
``hil.emulator.surface.instruments.EmulatedDosimeter``, drawing Poisson counts around the
lunar-surface rates LND reported: a charged-particle dose rate near 13 uGy/h in silicon).
"""

from __future__ import annotations

from typing import Any, Protocol

from fsw.core.context import Context
from fsw.core.declarations import MISSION_MODES, Arg, ParameterDef, TelemetryDef, command
from fsw.payloads.base import PayloadComponent, PayloadDevice, standard_events, standard_points

CHARGED_RATE_CPS = 22.0  # mean charged-particle rate on the surface (LND): the dose calibration
DOSE_PER_COUNT_UGY = 13.2 / 3600.0 / CHARGED_RATE_CPS  # so that the mean rate gives 13.2 uGy/h


class DosimeterDevice(PayloadDevice, Protocol):
    def count(self, interval_s: float) -> tuple[int, int]:
        """(neutral, charged) counts in one integration interval."""
        ...


class NeutronDosimeter(PayloadComponent):
    name = "neutron_dosimeter"
    prefix = "NDOS"
    product_extension = "csv"
    hk_structure = 21
    hk_period_s = 2.0
    telemetry = (*standard_points("NDOS"),
                 TelemetryDef("ndos_dose_rate", "f32", "uGy/h", "dose rate over the newest acquisition"))
    events = standard_events("NDOS", 0x2101)
    parameters = (ParameterDef(0x2101, "ndos_dead_time_s", "f64", 2e-6, "detector dead time per count",
                               0.0, 1e-3, unit="s"),)

    def __init__(self, ctx: Context, seed: int = 1, device: DosimeterDevice | None = None) -> None:
        super().__init__(ctx, seed, device)
        self.dose_rate = 0.0

    @command(0x2101, modes=MISSION_MODES)
    def cmd_ndos_power_on(self) -> None:
        """Power the dosimeter on."""
        self.set_power(True)

    @command(0x2102)
    def cmd_ndos_power_off(self) -> None:
        """Power the dosimeter off."""
        self.set_power(False)

    @command(0x2103, Arg("samples", "u16", "integration intervals", 1, 3600),
             Arg("interval_s", "f64", "integration time per sample", 0.001, 60.0, unit="s"), modes=MISSION_MODES,
             duration_s=1.0, duration_per=("samples", "interval_s"))
    async def cmd_ndos_acquire(self, samples: int, interval_s: float) -> None:
        """Record a count-rate series and store it as a CSV product."""
        await self.acquire(samples, interval_s)

    async def make_product(self, index: int, samples: int, interval_s: float) -> bytes:
        device: DosimeterDevice = self.device
        dead_time = float(self.param("ndos_dead_time_s"))
        lines = ["t_s,neutral_counts,charged_counts,neutral_rate_cps,charged_rate_cps,dose_rate_uGy_h"]
        start = self.clock.monotonic()
        total_charged = 0
        for sample in range(samples):
            await self.clock.sleep_until(start + (sample + 1) * interval_s)
            neutral, charged = device.count(interval_s)
            total_charged += charged
            live = max(interval_s - (neutral + charged) * dead_time, 1e-9)  # dead-time correction
            dose = charged * DOSE_PER_COUNT_UGY * 3600.0 / live
            lines.append(f"{(sample + 1) * interval_s:.3f},{neutral},{charged},{neutral / live:.3f},"
                         f"{charged / live:.3f},{dose:.3f}")
        self.dose_rate = total_charged * DOSE_PER_COUNT_UGY * 3600.0 / (samples * interval_s)
        return ("\n".join(lines) + "\n").encode()

    def extra_housekeeping(self) -> dict[str, Any]:
        return {"ndos_dose_rate": round(self.dose_rate, 3)}


PAYLOAD = NeutronDosimeter
