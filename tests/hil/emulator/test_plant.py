"""Plant physics, terrain and emulated sensors."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from fsw.devices.descent import (
    HazardImager,
    LaserDopplerVelocimeter,
    LaserRangeFinder,
    MainEngine,
    MicrowaveRangeVelocity,
    PropellantGauge,
    ReactionControl,
    StarTracker,
    StrapdownImu,
)
from hil.emulator.ascent import AscentPlant
from hil.emulator.devices import (
    EmulatedHazardImager,
    EmulatedImu,
    EmulatedLaserDopplerVelocimeter,
    EmulatedLaserRangeFinder,
    EmulatedMainEngine,
    EmulatedMicrowaveRangeVelocity,
    EmulatedPropellantGauge,
    EmulatedRcs,
    EmulatedStarTracker,
    make_lander_devices,
)
from hil.emulator.dynamics import GM_MOON, R_MOON, MoonModel, body_to_local, local_to_body, perilune_speed
from hil.emulator.plant import LunarLanderPlant, PlantConfig, with_faults
from hil.emulator.terrain import TerrainConfig


def place(plant: LunarLanderPlant, *, hag: float, s: float | None = None, vd: float = 0.0, vu: float = 0.0) -> None:
    """Put the plant at a height above the ground at downrange ``s`` with the given velocity."""
    if s is not None:
        plant.s = s
    plant.h = plant.terrain.height(plant.s, plant.c) + hag
    plant.vd, plant.vu, plant.vc = vd, vu, 0.0
    plant.pitch = 0.0


def test_devices_implement_the_protocols() -> None:
    plant = LunarLanderPlant(1)
    ascender = AscentPlant(1)
    pairs = [
        (EmulatedImu(plant), StrapdownImu),
        (EmulatedStarTracker(plant), StarTracker),
        (EmulatedRcs(plant), ReactionControl),
        (EmulatedImu(ascender), StrapdownImu),
        (EmulatedStarTracker(ascender), StarTracker),
        (EmulatedRcs(ascender), ReactionControl),
        (EmulatedLaserRangeFinder(plant), LaserRangeFinder),
        (EmulatedLaserDopplerVelocimeter(plant), LaserDopplerVelocimeter),
        (EmulatedMicrowaveRangeVelocity(plant), MicrowaveRangeVelocity),
        (EmulatedHazardImager(plant), HazardImager),
        (EmulatedMainEngine(plant), MainEngine),
        (EmulatedPropellantGauge(plant), PropellantGauge),
    ]
    for device, protocol in pairs:
        assert isinstance(device, protocol), type(device).__name__


def test_body_local_rotation_round_trip() -> None:
    for pitch, yaw in [(0.0, 0.0), (-1.3, 0.1), (0.4, -0.2)]:
        v = (1.0, -2.0, 0.5)
        back = local_to_body(pitch, yaw, body_to_local(pitch, yaw, v))
        assert all(math.isclose(a, b, abs_tol=1e-12) for a, b in zip(back, v, strict=True))
    # Thrust axis at pitch -90 deg points back along -downrange.
    u, d, c = body_to_local(-math.pi / 2, 0.0, (1.0, 0.0, 0.0))
    assert abs(u) < 1e-12 and math.isclose(d, -1.0) and c == 0.0


def test_free_fall_from_four_metres_lands_at_about_3_6_m_s() -> None:
    plant = LunarLanderPlant(3)
    place(plant, hag=4.0, s=100_000.0)  # far from the boulder field
    while not plant.landed:
        plant.step(0.002)
    assert plant.touchdown is not None
    assert plant.touchdown.vertical_speed_m_s == pytest.approx(math.sqrt(2 * 1.62 * 4.0), abs=0.05)
    assert plant.touchdown.vertical_speed_m_s == pytest.approx(3.6, abs=0.05)


def test_zero_thrust_circular_orbit_at_15_km_stays_circular() -> None:
    # A spherical Moon standing still: the circular orbit of the old curved-track plant.
    plant = LunarLanderPlant(2, PlantConfig(terrain=TerrainConfig(target_downrange_m=2e6, crater=False),
                                            moon=MoonModel(j2=0.0, rotation_rad_s=0.0)))
    plant.h = 15_000.0
    plant.vd = math.sqrt(GM_MOON / (R_MOON + 15_000.0))
    assert plant.vd == pytest.approx(1_670.0, abs=5.0)  # "~1.67 km/s" in the mission profile
    for _ in range(int(300 / 0.02)):
        plant.step(0.02)
    assert abs(plant.h - 15_000.0) < 5.0
    assert abs(plant.vu) < 0.05
    assert plant.s == pytest.approx(300 * plant.vd * R_MOON / (R_MOON + 15_000.0), rel=1e-3)


def test_descent_orbit_perilune_speed() -> None:
    assert perilune_speed(15_000.0, 100_000.0) == pytest.approx(1_692.0, abs=2.0)


def test_mass_depletes_at_thrust_over_exhaust_velocity() -> None:
    cfg = replace(PlantConfig(), thrust_dispersion=0.0, exhaust_velocity_dispersion=0.0, mass_dispersion_kg=0.0)
    plant = LunarLanderPlant(1, cfg)
    engine = EmulatedMainEngine(plant)
    engine.set_thrust(7_500.0)
    engine.set_on(True)
    for _ in range(1000):
        plant.step(0.01)
    # 10 s at 7500 N (minus the short start-up lag) with ve 3000 m/s burns ~25 kg.
    assert plant.config.propellant_kg - plant.propellant == pytest.approx(25.0, abs=0.2)
    assert engine.read().measured_thrust_n == pytest.approx(7_500.0, abs=50.0)


def test_engine_thrust_is_clamped_to_the_throttle_range() -> None:
    plant = LunarLanderPlant(1, replace(PlantConfig(), thrust_dispersion=0.0))
    engine = EmulatedMainEngine(plant)
    engine.set_on(True)
    engine.set_thrust(100.0)
    for _ in range(200):
        plant.step(0.01)
    assert plant.thrust == pytest.approx(1_500.0, rel=1e-3)
    engine.set_thrust(99_000.0)
    for _ in range(200):
        plant.step(0.01)
    assert plant.thrust == pytest.approx(7_500.0, rel=1e-3)


def test_seeded_sensors_are_repeatable_and_seed_dependent() -> None:
    def readings(seed: int) -> list[float]:
        plant = LunarLanderPlant(seed)
        dev = make_lander_devices(plant)
        dev.range_finder.set_power(True)
        out = []
        for _ in range(20):
            plant.step(0.02)
            out.append(dev.imu.read().specific_force_body[0])
            out.append(dev.range_finder.read().slant_range_m)
        return out

    assert readings(5) == readings(5)
    assert readings(5) != readings(6)


def test_crater_rim_makes_the_altimeter_jump_by_kilometres() -> None:
    plant = LunarLanderPlant(1)
    cfg = plant.terrain.config
    lrf = EmulatedLaserRangeFinder(plant)
    lrf.set_power(True)  # long beam, braking attitude
    rim_s = cfg.crater_downrange_m - math.sqrt(cfg.crater_radius_m**2 - cfg.crater_crossrange_m**2)
    samples = []
    for s in (rim_s - 3_000.0, rim_s + 3_000.0):
        plant.s = s
        plant.h = 3_000.0 + plant.terrain.base_height(rim_s - 3_000.0, 0.0)
        plant.pitch = math.radians(-70.0)
        values = [r.slant_range_m for r in (lrf.read() for _ in range(10)) if r.valid]
        samples.append(sum(values) / len(values))
    assert samples[1] - samples[0] > 2_000.0


def test_velocimeter_locks_only_near_vertical_and_low() -> None:
    plant = LunarLanderPlant(1)
    ldv = EmulatedLaserDopplerVelocimeter(plant)
    ldv.set_power(True)
    place(plant, hag=1_000.0, s=300_000.0, vd=10.0, vu=-20.0)
    plant.pitch = math.radians(-40.0)
    assert not any(ldv.read().valid for _ in range(20))
    plant.pitch = 0.0
    readings = [r for r in (ldv.read() for _ in range(50)) if r.valid]
    assert len(readings) >= 40
    u, d, _ = body_to_local(0.0, 0.0, readings[0].velocity_body)
    assert u == pytest.approx(-20.0, abs=0.2) and d == pytest.approx(10.0, abs=0.2)
    place(plant, hag=10_000.0, s=300_000.0)
    assert not any(ldv.read().valid for _ in range(20))


def test_range_finder_beam_geometry_and_validity() -> None:
    plant = LunarLanderPlant(1)
    lrf = EmulatedLaserRangeFinder(plant)
    assert not lrf.read().valid  # off until powered
    lrf.set_power(True)
    place(plant, hag=12_000.0, s=250_000.0)
    plant.pitch = math.radians(-70.0)  # braking attitude: the long beam looks straight down
    long_reading = next(r for r in (lrf.read() for _ in range(10)) if r.valid)
    assert long_reading.slant_range_m == pytest.approx(12_000.0, rel=0.03)
    lrf.select_beam("short")
    assert not any(lrf.read().valid for _ in range(10))  # short beam points at the horizon
    with pytest.raises(ValueError):
        lrf.select_beam("medium")


def test_altimeter_never_enabled_fault() -> None:
    plant = LunarLanderPlant(1, with_faults(altimeter_never_enabled=True))
    lrf = EmulatedLaserRangeFinder(plant)
    lrf.set_power(True)
    assert not any(lrf.read().valid for _ in range(20))


def test_accelerometer_stuck_off_fault() -> None:
    plant = LunarLanderPlant(1, with_faults(accelerometer_stuck_off=True))
    imu = EmulatedImu(plant)
    imu.set_accelerometer(True)
    reading = imu.read()
    assert not reading.accelerometer_on and reading.specific_force_body == (0.0, 0.0, 0.0)


def test_imu_glitch_affects_only_the_failing_unit() -> None:
    plant = LunarLanderPlant(1, with_faults(imu_glitch_altitude_m=20_000.0))
    imu = EmulatedImu(plant)
    bad = [imu.read() for _ in range(50)]
    assert sum(not r.valid or abs(r.specific_force_body[1]) > 1.0 for r in bad) > 40
    imu.select_unit(1)
    good = [imu.read() for _ in range(50)]
    assert all(r.valid and abs(r.specific_force_body[1]) < 0.05 for r in good)


def test_a_hard_imu_failure_freezes_the_primary_unit_behind_a_valid_flag() -> None:
    plant = LunarLanderPlant(1, with_faults(imu_failure_altitude_m=plant_start_altitude() - 10.0))
    imu = EmulatedImu(plant)
    assert imu.read().t == 0.0 and imu.failed_at is None
    plant.h -= 20.0  # below the failure height
    plant.step(0.02)
    frozen = imu.read()
    assert imu.failed_at is not None and frozen.valid and frozen.unit == 0
    for _ in range(10):
        plant.step(0.02)
        assert imu.read() == frozen  # the same frame, time tag and valid flag included: nothing says failed
    imu.select_unit(1)
    fresh = [imu.read() for _ in range(3)]
    assert all(r.unit == 1 and r.valid and r.t > frozen.t for r in fresh)
    imu.select_unit(1)  # no change: not recorded
    assert imu.selections == [(plant.t, 1, plant.h)]


def plant_start_altitude() -> float:
    return PlantConfig().perilune_alt_m


def test_thrust_scale_fault_delivers_more_thrust() -> None:
    plant = LunarLanderPlant(1, with_faults(replace(PlantConfig(), thrust_dispersion=0.0), thrust_scale=1.1))
    engine = EmulatedMainEngine(plant)
    engine.set_thrust(5_000.0)
    engine.set_on(True)
    for _ in range(100):
        plant.step(0.01)
    assert plant.thrust == pytest.approx(5_500.0, rel=1e-3)


def test_touchdown_on_a_boulder_is_judged_hazardous() -> None:
    plant = LunarLanderPlant(4)
    boulder = max(plant.terrain.boulders, key=lambda b: b.height)
    plant.c = boulder.c
    place(plant, hag=0.5, s=boulder.s)
    while not plant.landed:
        plant.step(0.01)
    assert plant.touchdown is not None
    assert plant.touchdown.hazards
    assert not plant.touchdown.safe
