"""The ascender as a rigid body: its attitude comes from torques alone (the engine's thrust off the
centre of mass, its thrusters' pulses), never from a command."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from hil.emulator.ascender_body import (
    ASCENDER_MASS_MODEL,
    ASCENDER_RCS_ARM_M,
    ASCENDER_RCS_THRUST_N,
    AscenderBodyConfig,
)
from hil.emulator.ascent import AscentPlant, AscentPlantConfig
from hil.emulator.attitude_devices import EmulatedImu, EmulatedRcs, EmulatedStarTracker
from hil.emulator.dynamics import GM_MOON, R_MOON
from hil.emulator.rigid_body import tilted_frame

DT = 0.02
CENTRED = AscentPlantConfig(body=AscenderBodyConfig(
    mass_model=replace(ASCENDER_MASS_MODEL, lateral_com_sigma_m=0.0),
    thrust_misalignment_rad=(0.0, 0.0)))


def in_flight(config: AscentPlantConfig | None = None) -> AscentPlant:
    plant = AscentPlant(4, config)
    plant.on_pad, plant.h, plant.vu = False, 1_000.0, 10.0
    return plant


def test_on_the_pad_it_stands_still_and_its_accelerometers_feel_the_ground() -> None:
    plant = AscentPlant(4)
    imu, tracker = EmulatedImu(plant), EmulatedStarTracker(plant)
    for _ in range(50):
        plant.step(DT)
    reading = imu.read()
    assert reading.specific_force_body[0] == pytest.approx(GM_MOON / R_MOON**2, abs=0.01)
    assert all(abs(w) < 0.005 for w in reading.angular_rate_body)  # noise and bias only
    star = tracker.read()
    assert star.valid and star.quaternion[0] == pytest.approx(1.0, abs=1e-6)


def test_an_aligned_engine_on_the_centre_of_mass_turns_nothing() -> None:
    plant = in_flight(CENTRED)
    plant.engine_on = True
    for _ in range(500):
        plant.step(DT)
    # Held still in inertial space, the body drifts from local vertical only by the Moon's turn
    # under it (2.7e-6 rad/s over the 10 s flown).
    assert plant.max_rate_rad_s < 1e-9 and plant.tilt < 5e-5


def test_a_misaligned_engine_turns_the_body_as_its_torque_says() -> None:
    # 1 deg towards body +y: thrust x (-centre of mass) gives a torque about -z.
    config = AscentPlantConfig(body=AscenderBodyConfig(
        mass_model=CENTRED.body.mass_model, thrust_misalignment_rad=(math.radians(1.0), 0.0)))
    plant = in_flight(config)
    plant.engine_on = True
    plant.step(DT)
    com, inertia = plant.mass_properties.at(plant.propellant)
    expected = -3_000.0 * math.sin(math.radians(1.0)) * com[0] / inertia[2]
    steps = 50
    for _ in range(steps - 1):
        plant.step(DT)
    wx, wy, wz = plant.angular_rate
    assert wz == pytest.approx(expected * steps * DT, rel=0.03)
    assert abs(wx) < 1e-6 and abs(wy) < 1e-3
    # Left to itself it keeps turning: nothing in the plant holds an attitude.
    for _ in range(500):
        plant.step(DT)
    assert math.degrees(plant.tilt) > 20.0


def test_a_thruster_group_gives_its_torque_and_a_short_pulse_its_minimum_impulse_bit() -> None:
    plant = in_flight(CENTRED)
    rcs = EmulatedRcs(plant)
    on = [0] * 16
    for thruster in (2, 6, 10, 14):  # the roll group (+x)
        on[thruster] = 20
    rcs.fire(tuple(on))
    for _ in range(3):
        plant.step(DT)
    _, inertia = plant.mass_properties.at(plant.propellant)
    roll = 4 * ASCENDER_RCS_THRUST_N * ASCENDER_RCS_ARM_M * 0.020 / inertia[0]
    assert plant.angular_rate[0] == pytest.approx(roll, rel=0.01)
    assert rcs.read().pulses == 4 and plant.rcs_propellant_used > 0.0
    # A 1 ms command opens the valves for their minimum 10 ms: half the impulse of 20 ms.
    before = plant.angular_rate[0]
    rcs.fire(tuple(1 if i in (2, 6, 10, 14) else 0 for i in range(16)))
    for _ in range(3):
        plant.step(DT)
    assert plant.angular_rate[0] - before == pytest.approx(roll / 2, rel=0.01)


def test_failed_valves_or_drivers_switched_off_give_no_torque() -> None:
    failed = AscentPlantConfig(body=AscenderBodyConfig(mass_model=CENTRED.body.mass_model,
                                                       thrust_misalignment_rad=(0.0, 0.0), rcs_failed=True))
    for plant, enabled in ((in_flight(failed), True), (in_flight(CENTRED), False)):
        rcs = EmulatedRcs(plant)
        rcs.set_enabled(enabled)
        rcs.fire(tuple(20 if i in (2, 6, 10, 14) else 0 for i in range(16)))
        for _ in range(3):
            plant.step(DT)
        assert plant.angular_rate == (0.0, 0.0, 0.0) and plant.rcs_propellant_used == 0.0


def test_the_centre_of_mass_and_inertia_move_as_propellant_burns() -> None:
    plant = AscentPlant(4)
    full_com, full_inertia = plant.mass_properties.at(480.0)
    dry_com, dry_inertia = plant.mass_properties.at(0.0)
    assert dry_com[0] > full_com[0]  # the tanks sit low, around the engine
    assert all(d < f for d, f in zip(dry_inertia, full_inertia, strict=True))


def test_it_stands_on_the_pad_as_the_lander_came_to_rest() -> None:
    plant = AscentPlant(4)
    plant.stand_as(tilted_frame(math.radians(4.0), math.radians(-2.0)))  # the lander's body to local
    assert math.degrees(plant.tilt) == pytest.approx(math.degrees(math.acos(math.cos(math.radians(4.0))
                                                                            * math.cos(math.radians(2.0)))))
    g = GM_MOON / R_MOON**2
    fx, fy, fz = EmulatedImu(plant).read().specific_force_body
    assert fx == pytest.approx(g * math.cos(math.radians(4.0)) * math.cos(math.radians(2.0)), abs=0.01)
    assert math.hypot(fy, fz) == pytest.approx(g * math.sin(plant.tilt), abs=0.01)
