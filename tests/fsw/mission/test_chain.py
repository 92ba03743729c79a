"""The whole mission from the pre-descent checks to the returned flag, with auto_go."""

from __future__ import annotations

from pathlib import Path

from tests.fsw.mission.conftest import make_rig

NOMINAL_PATH = [
    "awaiting_descent_go", "powered_descent", "surface_operations", "ascent", "rendezvous_docking",
    "sample_transfer", "lunar_orbit_wait", "trans_earth_injection", "coast", "returner_separation", "complete",
]


def test_whole_mission_with_auto_go(store: Path) -> None:
    rig = make_rig(store, params={"auto_go": True})
    c = rig.components

    async def scenario(h):
        while c.mission.state not in ("complete", "safe"):
            await c.mission.changed()
        return h.clock.monotonic()

    flight_time = rig.run(scenario)
    assert 10 * 86_400 < flight_time < 20 * 86_400  # six days in lunar orbit, four and a half coasting home
    assert c.mission.state == "complete", rig.harness.events()[-10:]
    assert rig.states("mission") == NOMINAL_PATH
    assert c.returns.housekeeping()["returned"] is True
    hk = c.sampling.housekeeping()
    assert 1700.0 <= hk["sample_mass_g"] <= 2000.0
    # Measured once at sealing; the container's later readings differ only by load-cell noise.
    assert abs(hk["sealed_mass_g"] - hk["sample_mass_g"]) < 5.0
    sealed_at = [args["mass_g"] for name, args in rig.harness.events() if name == "SAMPLE_MASS"]
    assert sealed_at and abs(hk["sealed_mass_g"] - sealed_at[-1]) < 5.0
