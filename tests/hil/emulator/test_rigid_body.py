"""The plant's rotational dynamics, thrusters and attitude sensors (truth read from the plant)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from hil.emulator.attitude_devices import EmulatedImu, EmulatedRcs, EmulatedStarTracker
from hil.emulator.plant import LunarLanderPlant, PlantConfig, with_faults
from hil.emulator.rigid_body import (
    RCS_ARM_M,
    RCS_EXHAUST_VELOCITY_M_S,
    RCS_LAYOUT,
    RCS_MIN_ON_S,
    RCS_THRUST_N,
    mat_mul,
    orthonormalised,
    quaternion_of,
    rotation_vector_matrix,
    transpose,
)

PLUS_Z_GROUP = (1, 4, 8, 13)  # the axial thrusters whose torques add about +z and cancel in force


def quiet_plant(**faults: object) -> LunarLanderPlant:
    """A plant with no build dispersions, coasting (no engine), at rest."""
    cfg = replace(PlantConfig(), thrust_dispersion=0.0, exhaust_velocity_dispersion=0.0, mass_dispersion_kg=0.0,
                  thrust_misalignment_sigma_rad=0.0)
    return LunarLanderPlant(1, with_faults(cfg, **faults) if faults else cfg)


def fire(plant: LunarLanderPlant, thrusters: tuple[int, ...], ms: int) -> None:
    EmulatedRcs(plant).fire(tuple(ms if i in thrusters else 0 for i in range(len(RCS_LAYOUT))))


def test_a_thruster_group_turns_the_body_by_its_impulse_and_burns_propellant() -> None:
    plant = quiet_plant()
    _, inertia = plant.mass_properties.at(plant.propellant)
    v0 = (plant.vu, plant.vd, plant.vc)
    fire(plant, PLUS_Z_GROUP, 20)
    plant.step(0.02)
    torque = 2.0 * math.sqrt(2.0) * RCS_THRUST_N * RCS_ARM_M
    assert plant.angular_rate[2] == pytest.approx(torque * 0.02 / inertia[2], rel=1e-3)
    assert abs(plant.angular_rate[0]) < 1e-9 and abs(plant.angular_rate[1]) < 1e-9
    assert plant.rcs_propellant_used == pytest.approx(4 * RCS_THRUST_N * 0.02 / RCS_EXHAUST_VELOCITY_M_S)
    assert plant.rcs_pulses == 4
    # A couple: no net force; gravity and the Moon turning under the orbit move the velocity (by
    # micrometres per second in a step).
    assert plant.rcs_force_body == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert plant.vd == pytest.approx(v0[1], abs=1e-4)


def test_a_pulse_shorter_than_the_valve_opens_gives_the_minimum_impulse_bit() -> None:
    short, minimum = quiet_plant(), quiet_plant()
    fire(short, PLUS_Z_GROUP, 1)
    fire(minimum, PLUS_Z_GROUP, round(RCS_MIN_ON_S * 1000))
    short.step(0.02)
    minimum.step(0.02)
    assert short.angular_rate[2] == pytest.approx(minimum.angular_rate[2], rel=1e-9)
    assert short.angular_rate[2] > 0.0
    with pytest.raises(ValueError):
        EmulatedRcs(short).fire((5,) * 3)  # one on-time per thruster


def test_thrust_acts_along_the_true_body_axis() -> None:
    plant = quiet_plant()
    plant.set_attitude(math.radians(-30.0), 0.0)
    plant.engine_on, plant.thrust_cmd = True, 7_500.0
    for _ in range(10):
        plant.step(0.02)
    force = plant.body_to_local(plant.specific_force_body)
    axis = plant.body_to_local((1.0, 0.0, 0.0))  # the true thrust axis, wherever the torques turned it
    norm = math.sqrt(sum(f * f for f in force))
    assert all(f / norm == pytest.approx(a, abs=1e-9) for f, a in zip(force, axis, strict=True))
    assert math.degrees(plant.pitch) == pytest.approx(-30.0, abs=0.5)


def test_slim_fault_throws_the_thrust_axis_off_the_centre_of_mass_and_spins_the_lander() -> None:
    plant = quiet_plant(thrust_axis_jump_altitude_m=plant_height_above_ground() + 100.0, thrust_axis_jump_deg=4.0)
    plant.set_attitude(0.0, 0.0)
    plant.engine_on, plant.thrust_cmd = True, 3_000.0
    for _ in range(50):
        plant.step(0.02)
    assert plant.thrust_axis_jumped_at is not None
    assert math.degrees(math.atan2(plant.thrust_dir_body[1], plant.thrust_dir_body[0])) == pytest.approx(4.0)
    com, inertia = plant.mass_properties.at(plant.propellant)
    # Torque -x_cm T sin(4 deg) about z: the body turns that way, at the expected acceleration.
    expected = -com[0] * plant.thrust * math.sin(math.radians(4.0)) / inertia[2]
    assert plant.angular_rate[2] < -0.03  # ~2.7 deg/s after one second
    assert plant.angular_rate[2] / 1.0 == pytest.approx(expected, rel=0.15)  # thrust rose over 80 ms


def plant_height_above_ground() -> float:
    plant = LunarLanderPlant(1)
    return plant.height_above_ground


def test_lost_rcs_authority_fires_nothing() -> None:
    plant = quiet_plant(rcs_lost_altitude_m=math.inf)
    fire(plant, PLUS_Z_GROUP, 20)
    plant.step(0.02)
    assert plant.rcs_lost and plant.angular_rate == (0.0, 0.0, 0.0) and plant.rcs_propellant_used == 0.0
    assert plant.rcs_pulses == 4  # the drive electronics did command them


def test_imu_measures_body_rates_with_a_bias_and_no_attitude() -> None:
    plant = quiet_plant()
    plant.body.w = (0.01, -0.02, 0.005)
    imu = EmulatedImu(plant)
    samples = [imu.read() for _ in range(4000)]
    assert not hasattr(samples[0], "pitch")
    for axis in range(3):
        mean = sum(s.angular_rate_body[axis] for s in samples) / len(samples)
        assert mean == pytest.approx(plant.angular_rate[axis] + imu.gyro_biases[0][axis], abs=3e-5)
    assert imu.gyro_biases[0] != imu.gyro_biases[1]


def test_star_tracker_reports_the_true_attitude_at_its_rate_and_loses_it_when_spinning() -> None:
    plant = quiet_plant()
    tracker = EmulatedStarTracker(plant)
    solutions = set()
    for _ in range(50):  # 1 s
        reading = tracker.read()
        solutions.add(reading.t)
        w, x, y, z = reading.quaternion
        measured = ((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
                    (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
                    (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)))
        error = mat_mul(transpose(plant.body.matrix), measured)
        angle = math.acos(max(-1.0, min(1.0, 0.5 * (error[0][0] + error[1][1] + error[2][2] - 1.0))))
        assert reading.valid and angle < 2e-3
        plant.step(0.02)
    assert len(solutions) == 4  # 4 Hz
    plant.body.w = (0.0, 0.0, math.radians(10.0))
    for _ in range(20):
        plant.step(0.02)
    assert not tracker.read().valid


def test_attitude_matrix_turns_by_the_rate_and_stays_orthonormal() -> None:
    plant = quiet_plant()
    start = plant.body.matrix
    plant.body.w = (0.02, -0.01, 0.03)
    inertia = (1e12, 1e12, 1e12)  # no torque-free nutation: the rate holds
    for _ in range(5_000):
        plant.body.step((0.0, 0.0, 0.0), inertia, 0.02)
    expected = mat_mul(start, rotation_vector_matrix((0.02 * 100.0, -0.01 * 100.0, 0.03 * 100.0)))
    m = plant.body.matrix
    assert all(math.isclose(m[i][j], expected[i][j], abs_tol=1e-9) for i in range(3) for j in range(3))
    product = mat_mul(transpose(m), m)
    assert all(math.isclose(product[i][j], float(i == j), abs_tol=1e-13) for i in range(3) for j in range(3))
    again = orthonormalised(m)
    assert all(math.isclose(again[i][j], m[i][j], abs_tol=1e-15) for i in range(3) for j in range(3))


def test_star_tracker_quaternion_is_made_from_the_matrix_in_every_branch() -> None:
    for phi in ((0.1, -0.2, 0.3), (3.0, 0.1, 0.0), (0.0, 3.0, 0.1), (0.1, 0.0, 3.0), (2.0, 2.0, -1.0)):
        m = rotation_vector_matrix(phi)
        w, x, y, z = quaternion_of(m)
        angle = math.sqrt(sum(p * p for p in phi))
        axis = [p / angle for p in phi]
        sign = 1.0 if math.cos(0.5 * angle) >= 0.0 else -1.0
        expected = [sign * math.cos(0.5 * angle)] + [sign * math.sin(0.5 * angle) * a for a in axis]
        assert [w, x, y, z] == pytest.approx(expected, abs=1e-12)
