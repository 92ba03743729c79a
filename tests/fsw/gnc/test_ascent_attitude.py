"""The flight software flies the ascender's attitude: the on-board filter finds it from the gyros
and the star tracker, the 50 Hz control holds what ascent guidance asks with the ascender's
thrusters against its misaligned engine. Judged by the plant's record (its orbit, its body's
turn, its thrusters' pulses); the negative controls fly the same engine without the thrusters."""

from __future__ import annotations

import math

import pytest

from fsw.gnc.ascent_flight import AscentController
from hil.emulator.ascender_body import AscenderBodyConfig
from hil.emulator.ascent import AscentPlantConfig
from hil.rigs.ascent_loop import fly_ascent

MISALIGNED = AscenderBodyConfig(thrust_misalignment_rad=(math.radians(0.5), math.radians(0.3)))


def test_a_misaligned_engine_is_held_by_the_thrusters_all_the_way_to_orbit() -> None:
    run = fly_ascent(3, AscentPlantConfig(body=MISALIGNED))
    plant = run.plant
    assert run.orbit_true.periapsis_alt_m == pytest.approx(15_000.0, abs=2_000.0)
    assert run.orbit_true.apoapsis_alt_m == pytest.approx(180_000.0, abs=10_000.0)
    # The engine's ~20 N m offset torque is held: the body axis stays on guidance's direction.
    assert run.attitude_error_max_deg["vertical_rise"] < 2.0
    assert run.attitude_error_max_deg["orbit_insertion"] < 2.0
    assert run.attitude_error_rms_deg["orbit_insertion"] < 0.5
    assert plant.max_rate_rad_s < math.radians(10.0)
    # Every bit of it by the thrusters: pulses and propellant in the plant's own record.
    assert plant.rcs_pulses > 1_000 and 0.1 < plant.rcs_propellant_used < 10.0
    # The filter knew the attitude it held.
    assert run.controller.attitude.initialised and run.controller.attitude.attitude_sigma_rad < math.radians(0.5)


@pytest.mark.parametrize("failure", ["valves", "control_off"])
def test_without_the_thrusters_the_same_engine_tumbles_the_ascender_back_to_the_ground(failure: str) -> None:
    body = AscenderBodyConfig(thrust_misalignment_rad=MISALIGNED.thrust_misalignment_rad,
                              rcs_failed=failure == "valves")
    run = fly_ascent(3, AscentPlantConfig(body=body), attitude_control=failure != "control_off")
    plant = run.plant
    assert plant.h < plant.config.site_height_m  # the plant's record: it came back down
    assert run.orbit_true.periapsis_alt_m < 0.0
    assert plant.max_rate_rad_s > math.radians(30.0)
    assert plant.rcs_propellant_used == 0.0


@pytest.mark.parametrize("upright", [True, False])
def test_lit_in_a_star_tracker_outage_the_attitude_starts_from_upright(upright: bool,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The controller begins at ignition and the tracker gives nothing for its first 8 s: the
    # ascender stood upright on the lander, so the filter starts there and the control holds it.
    # Negative control: waiting for the tracker leaves the engine's torque unopposed.
    monkeypatch.setattr(AscentController, "INITIALISE_UPRIGHT", upright)
    run = fly_ascent(3, AscentPlantConfig(body=MISALIGNED), pad_s=0.0, star_outage_s=8.0)
    events = [(name, detail) for _, name, detail in run.controller.events]
    if upright:
        assert events[0] == ("attitude_initialised", "upright on the pad: no star tracker solution yet")
        assert run.orbit_true.periapsis_alt_m == pytest.approx(15_000.0, abs=2_000.0)
        assert run.orbit_true.apoapsis_alt_m == pytest.approx(180_000.0, abs=10_000.0)
    else:
        assert run.plant.h < run.plant.config.site_height_m and run.orbit_true.periapsis_alt_m < 0.0


def test_without_gyros_the_ascender_answers_only_the_learnt_engine_torque_and_reaches_orbit() -> None:
    # The IMU stops for 3 s as the orbit insertion begins (the pitch rate changing), its interface
    # repeating its last frame. The control holds its feedback and answers only the engine's torque
    # it had learnt; the gyros back, it takes the attitude up again. The plant's orbit says so.
    run = fly_ascent(3, AscentPlantConfig(body=MISALIGNED), gyro_loss=(22.1, 3.0))
    assert run.orbit_true.periapsis_alt_m == pytest.approx(15_000.0, abs=2_000.0)
    assert run.orbit_true.apoapsis_alt_m == pytest.approx(180_000.0, abs=10_000.0)
    assert run.plant.max_rate_rad_s < math.radians(10.0)
    assert run.controller.attitude.rejected == 0  # the estimate never left the star tracker's gate
    # Negative control: control on the coasted rate, which no firing changes, fires on against it:
    # the ascender spins up past the tracker's 3 deg/s and tumbles back to the ground.
    run = fly_ascent(3, AscentPlantConfig(body=MISALIGNED), gyro_loss=(22.1, 3.0), hold_fire_without_gyros=False)
    assert run.plant.max_rate_rad_s > math.radians(30.0)
    assert run.plant.h < run.plant.config.site_height_m and run.orbit_true.periapsis_alt_m < 0.0
