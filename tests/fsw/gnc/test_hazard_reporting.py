"""The GNC component reports each landing-site decision: the GNC_LANDING_SITE event and the hazard
points of its housekeeping, from the detector's own assessment."""

from __future__ import annotations

from pathlib import Path

from fsw.devices.descent import ElevationImageReading, pack_heights
from fsw.gnc.component import GncComponent
from fsw.gnc.hazard import HazardAssessment, assess
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.plant_process import LanderWorld
from tests.fsw.harness import Harness


class Decided:
    """A descent controller as the component sees it after a site decision."""

    def __init__(self, found: HazardAssessment, shift: tuple[float, float]) -> None:
        self.found, self.shift = found, shift

    def hazard_assessment(self) -> tuple[HazardAssessment, tuple[float, float]]:
        return self.found, self.shift


def test_a_site_decision_is_an_event_and_housekeeping(tmp_path: Path) -> None:
    n, cell = 32, 0.8
    heights: list[float | None] = [None if k % 50 == 0 else -100.0 for k in range(n * n)]
    reading = ElevationImageReading(1.0, n, n, cell, -12.4, -12.4, 0.01, pack_heights(heights, 0.01), True)
    found = assess(reading, (0.0, 0.0), 1_900.0)
    world = LanderWorld(3)
    harness = Harness(tmp_path / "store.sqlite")
    gnc = GncComponent(harness.vehicle.ctx, LocalDeviceBus(DeviceBusServer(world.devices, world.advance),
                                                           harness.clock))
    harness.vehicle.add(gnc)
    hk: dict[str, object] = {}

    async def scenario(h: Harness) -> None:
        assert "gnc_site_score" not in gnc.housekeeping()  # no decision yet: no figures
        gnc._report_site(Decided(found, (-7.5, 2.0)), "moved")  # type: ignore[arg-type]
        await h.clock.sleep(0.5)
        hk.update(gnc.housekeeping())

    harness.run(scenario)
    assert hk["gnc_hazard_unknown_cells"] == found.unknown_cells == 21
    assert hk["gnc_hazard_unsafe_cells"] == found.unsafe_sites > 0
    assert (hk["gnc_site_shift_downrange_m"], hk["gnc_site_shift_crossrange_m"]) == (-7.5, 2.0)
    assert hk["gnc_site_score"] == round(found.site_score, 3)
    events = [args for name, args in harness.events() if name == "GNC_LANDING_SITE"]
    assert events and events[0]["outcome"] == "moved" and events[0]["cells"] == n * n
