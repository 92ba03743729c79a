"""Rendezvous and docking from the ascender's real orbit: the flight software's relative navigation
and CW guidance against the plant's two orbits, judged by the docking claws' own record."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsw.gnc.relnav import cw_propagate, cw_velocity_to_reach, mean_motion
from hil.emulator.surface import SurfaceFaults
from hil.rigs.ascent_loop import fly_ascent
from tests.fsw.mission.conftest import Rig, make_rig, until

PHASING_S = 600.0  # far range is ground-guided and not flown: a short one keeps the test short



def fly_rendezvous(store: Path, seed: int, insertion: tuple[float, float, float] | None = None,
                   faults: SurfaceFaults | None = None) -> Rig:
    world = {"far_range_phasing_s": PHASING_S}
    if insertion is not None:
        world["ascender_insertion"] = insertion
    rig = make_rig(store, seed=seed, surface_faults=faults, params={"auto_go": True}, world_kwargs=world)
    rig.harness.store.put("mission.mission", {"state": "rendezvous_docking",
                                              "entered": rig.harness.clock.onboard_time(), "data": {}})
    rig.surface.ascender_separation.fire()  # the ascent happened: the ascender is in its orbit

    async def scenario(h):
        await until(rig.components.rendezvous, "transfer", "release_wait", "released", "safe")

    rig.run(scenario)
    return rig


def flown_insertion(seed: int) -> tuple[float, float, float]:
    """The ascender's state at cut-off as the plant flew it under the flight software's ascent."""
    cutoff = fly_ascent(seed).plant.cutoff_state
    assert cutoff is not None
    _, h, _, vu, vd = cutoff
    return (h, vu, vd)


@pytest.mark.parametrize(("seed", "insertion"), [
    (1, None),  # the orbit the flown ascent gave (below)
    (2, (13_500.0, 4.0, 1_712.0)),  # dispersed: low, still climbing, a little fast
    (3, (16_800.0, -3.0, 1_706.0)),  # high, descending, slow
])
def test_the_orbiter_captures_the_ascender_from_dispersed_insertion_orbits(
        store: Path, seed: int, insertion: tuple[float, float, float] | None) -> None:
    rig = fly_rendezvous(store, seed, insertion or flown_insertion(seed))
    plant = rig.surface.rendezvous
    # The claws' record: one closing, within the capture limits, latched.
    assert plant.latch_count == 1
    assert [attempt[-1] for attempt in plant.capture_attempts] == ["latched"]
    _, distance, closing, lateral, lateral_speed, _ = plant.capture_attempts[0]
    assert distance <= plant.CAPTURE_RANGE_M and abs(closing) <= plant.CAPTURE_CLOSING_M_S
    assert lateral <= plant.CAPTURE_LATERAL_M and lateral_speed <= plant.CAPTURE_LATERAL_M_S
    assert rig.components.rendezvous.state in ("transfer", "release_wait", "released")
    burns = [args for name, args in rig.harness.events() if name == "RENDEZVOUS_BURN"]
    assert len(burns) >= 6  # two CW transfers with their corrections and stops, then the approach
    assert rig.components.rendezvous.guidance.delta_v_used < 20.0


def test_with_the_radar_dead_there_is_no_capture_and_the_plant_says_so(store: Path) -> None:
    rig = fly_rendezvous(store, 1, faults=SurfaceFaults(rendezvous_radar_dead=True))
    plant = rig.surface.rendezvous
    assert plant.latch_count == 0 and plant.capture_attempts == []
    assert plant.closest_m is not None and plant.closest_m > 1_000.0
    assert rig.components.rendezvous.state == "safe"
    assert "DOCKED" not in [name for name, _ in rig.harness.events()]


def test_cw_targeting_reaches_its_point_in_the_cw_model() -> None:
    n = mean_motion(1_834_900.0)
    start = (-4_000.0, 150.0, 300.0)
    velocity = cw_velocity_to_reach(n, start, (300.0, 0.0, 0.0), 1_800.0)
    end = cw_propagate(n, [*start, *velocity], 1_800.0)
    assert end[:3] == pytest.approx([300.0, 0.0, 0.0], abs=1e-6)
