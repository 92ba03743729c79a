"""Trans-Earth injection cut off on the delta-v the flight software measures with the orbiter's
accelerometers, judged by the plant's record of what the engines really gave."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsw.gnc.burn import DeltaVMeter
from hil.emulator.surface import SurfaceFaults
from tests.fsw.mission.conftest import make_rig, until

WEAK_ENGINE = SurfaceFaults(orbit_engine_thrust_scale=0.95)



def _fly_return(store: Path, faults: SurfaceFaults):
    rig = make_rig(store, surface_faults=faults, params={"auto_go": True})
    rig.harness.store.put("mission.mission", {"state": "lunar_orbit_wait", "entered": rig.harness.clock.onboard_time(),
                                              "data": {}})

    async def scenario(h):
        await until(rig.components.returns, "coast", "safe")

    rig.run(scenario)
    return rig


def test_an_engine_five_percent_weak_still_gives_the_tei_delta_v(store: Path) -> None:
    rig = _fly_return(store, WEAK_ENGINE)
    assert rig.components.returns.state == "coast"
    burns = rig.surface.orbit_engines.burns  # the plant's record: [engine set, controller count, true]
    assert [burn[0] for burn in burns] == ["tei", "tei"]
    assert burns[0][2] == pytest.approx(480.0, rel=0.01)
    assert burns[1][2] == pytest.approx(345.0, rel=0.01)
    # The engine's own count, had the burn been cut off on it, reads the rating: ~5 % more than given.
    assert burns[0][1] > 1.04 * burns[0][2]

    # Negative control: the same weak engine cut off on its own count (the old way) falls 5 % short.
    old = make_rig(store.with_name("old.sqlite"), surface_faults=WEAK_ENGINE).surface
    engines = old.orbit_engines
    seconds = [0.0]
    old.world.now = lambda: seconds[0]  # the hardware's time, moved on by hand
    engines.last = 0.0
    engines.start_burn("tei")
    while engines.read().delta_v_m_s < 480.0:
        seconds[0] += 1.0
        assert seconds[0] < 3_000.0
    engines.stop_burn()
    true_delta_v = engines.burns[-1][2]
    assert true_delta_v < 0.96 * 480.0


def test_no_accelerometers_no_burn(store: Path) -> None:
    rig = _fly_return(store, SurfaceFaults(orbiter_accelerometers_dead=True))
    assert rig.surface.orbit_engines.burns == []
    assert rig.components.returns.state in ("awaiting_go", "safe")


def test_the_meter_integrates_on_the_readings_time_tags_and_bridges_no_gap() -> None:
    meter = DeltaVMeter()
    for n in range(11):
        meter.add(float(n), (0.25, 0.0, 0.0), True)
    assert meter.along_axis_m_s == pytest.approx(2.5)
    meter.add(11.0, (0.25, 0.0, 0.0), False)  # invalid: nothing added
    meter.add(10.0, (0.25, 0.0, 0.0), True)  # time going backwards: refused
    meter.add(30.0, (0.25, 0.0, 0.0), True)  # 20 s since the last good one: not bridged
    meter.add(31.0, (0.25, 0.0, 0.0), True)
    assert meter.along_axis_m_s == pytest.approx(2.75)
    assert meter.gaps == 3
