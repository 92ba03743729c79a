"""The emulated surface hardware outlives the flight software: its state file carries it across a restart."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsw.clock import Clock
from fsw.devices.platform import PlatformRequest, load_platform
from hil.emulator.surface import (
    SYNODIC_MONTH_S,
    SurfaceDevices,
    SurfaceFaults,
    SurfaceHardwareFile,
    open_surface_devices,
)
from hil.platforms import surface_state_path_for

EPOCH = 2_100_000_000.0  # on-board time (TAI s) of the first boot
SEED = 7
FAULTS = SurfaceFaults(rock_depth_m=2.5)  # the radar sees a rock: its survey draws noise
# The far-range phasing ends 100 s after the ascender's separation with the orbiter 0.3 m behind it,
# at rest relative to it: the claws closed later latch.
WORLD = {"far_range_phasing_s": 100.0, "handover_offset_m": (-0.3, 0.0, 0.0), "handover_dispersion_m": (0.0, 0.0, 0.0),
         "handover_velocity_dispersion_m_s": 0.0}


class OnboardClock:
    """On-board time of a flight computer, set by the test."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


Op = Callable[[SurfaceDevices], Any]

# (world time of the step in s, what the flight software does): acts and readings of every device.
STEPS: list[tuple[float, Op]] = [
    (0.0, lambda d: d.sun.read()),
    (5.0, lambda d: d.radar.survey()),
    (10.0, lambda d: d.drill.start(1.0, 0.001)),
    (200.0, lambda d: d.drill.read()),
    (600.0, lambda d: d.drill.read()),
    (1100.0, lambda d: d.drill.read()),
    (1100.0, lambda d: d.drill.retract()),
    (1400.0, lambda d: d.drill.read()),
    (1700.0, lambda d: d.drill.deliver_core()),
    (1750.0, lambda d: d.container.read()),
    (1800.0, lambda d: d.arm.start_scoop(1)),
    (2000.0, lambda d: d.arm.read()),
    (2500.0, lambda d: d.arm.read()),
    (2600.0, lambda d: d.container.read()),
    (2700.0, lambda d: d.container.seal()),
    (3100.0, lambda d: d.container.read()),
    (3200.0, lambda d: d.transfer.start("lander_to_ascender")),
    (4500.0, lambda d: d.transfer.read()),
    (5000.0, lambda d: d.ascender_separation.fire()),
    (5001.0, lambda d: d.ascender_separation.read()),
    (5100.0, lambda d: d.radar.survey()),
    (5200.0, lambda d: d.rendezvous.read()),
    (5200.0, lambda d: d.rendezvous.command_acceleration(0.0)),
    (5250.0, lambda d: d.docking.read()),
    (5300.0, lambda d: d.docking.close_claws()),
    (5600.0, lambda d: d.rendezvous.read()),
    (6000.0, lambda d: d.docking.read()),
    (6100.0, lambda d: d.orbit_engines.start_burn("tei")),
    (6200.0, lambda d: d.orbit_engines.read()),
    (6300.0, lambda d: d.orbit_engines.stop_burn()),
    (6400.0, lambda d: d.orbit_engines.read()),
    (6500.0, lambda d: d.rover_deploy.release()),
    (8400.0, lambda d: d.rover_deploy.read()),
    (8500.0, lambda d: d.rover_mobility.drive_to(10.0, 0.0)),
    (8600.0, lambda d: d.rover_mobility.read()),
    (8800.0, lambda d: d.rover_mobility.read()),
    (8900.0, lambda d: d.rover_mobility.drive_to(10.0, 20.0)),
    (9000.0, lambda d: d.rover_mobility.drive_to(-5.0, 20.0)),
    (9300.0, lambda d: d.rover_mobility.read()),
    (20_000.0, lambda d: d.power.read()),
    (30_000.0, lambda d: d.power.set_hibernation(True)),
    (100_000.0, lambda d: d.power.read()),
    (100_000.0, lambda d: d.rover_power.read()),
    (100_100.0, lambda d: d.rover_thermal.set_heaters(True)),
    (1_000_000.0, lambda d: d.rover_thermal.read()),
    (1_000_000.0, lambda d: d.sun.read()),
    (1_000_000.0, lambda d: d.rendezvous.read()),
    (1_000_001.0, lambda d: d.container.read()),
]


def open_devices(path: Path, clock: OnboardClock, **kwargs: Any) -> SurfaceDevices:
    return open_surface_devices(path, clock, SEED, FAULTS, **WORLD, **kwargs)


def fly(path: Path, rebuild_after: set[int], *, flush: bool, reading_save_interval_s: float = 0.0) -> list[Any]:
    """Run STEPS; after each step in ``rebuild_after`` drop the devices (the flight computer resets)
    and rebuild them from the file under a new clock that resumes a little behind."""
    clock = OnboardClock(EPOCH)
    devices = open_devices(path, clock, reading_save_interval_s=reading_save_interval_s)
    readings = []
    for index, (t, op) in enumerate(STEPS):
        clock.t = EPOCH + t
        readings.append(op(devices))
        if index in rebuild_after:
            assert devices.hardware is not None
            if flush:
                devices.hardware.flush()
            devices.world.on_change = None  # nothing of the dropped devices reaches the file any more
            clock = OnboardClock(EPOCH + t - 3.0)
            devices = open_devices(path, clock, reading_save_interval_s=reading_save_interval_s)
    return readings


REBUILDS = {3, 4, 7, 11, 15, 20, 23, 26, 28, 34, 37, 39, 41, 44}


def test_a_run_rebuilt_from_the_file_reads_exactly_like_one_that_never_restarted(tmp_path: Path) -> None:
    straight = fly(tmp_path / "a.sqlite", set(), flush=False)
    rebuilt = fly(tmp_path / "b.sqlite", REBUILDS, flush=False)
    assert [r for r in straight if r is not None]  # the steps read something
    assert rebuilt == straight


def test_with_readings_saved_lazily_a_flush_before_the_reset_keeps_the_streams_exact(tmp_path: Path) -> None:
    straight = fly(tmp_path / "a.sqlite", set(), flush=False, reading_save_interval_s=float("inf"))
    rebuilt = fly(tmp_path / "b.sqlite", REBUILDS, flush=True, reading_save_interval_s=float("inf"))
    assert rebuilt == straight


def physical_state(devices: SurfaceDevices) -> dict[str, Any]:
    rover = devices.rover_mobility.read()
    return {
        "mass_g": devices.container.mass_g,
        "sealing": devices.container.seal_started,
        "fired": devices.ascender_separation.fire_count,
        "latched": devices.rendezvous.latched,
        "claws": devices.rendezvous.claws_closed,
        "rover": (rover.east_m, rover.north_m),
        "battery": devices.power.read().battery_soc,
        "hibernating": devices.power.hibernating,
        "heaters": devices.rover_thermal.heaters,
        "sun": devices.sun.read().elevation_deg,
        "tei_delta_v": devices.orbit_engines.read().delta_v_m_s,
    }


def test_acts_are_saved_at_once_and_survive_a_kill_without_flush(tmp_path: Path) -> None:
    path = tmp_path / "hw.sqlite"
    clock = OnboardClock(EPOCH)
    devices = open_devices(path, clock, reading_save_interval_s=float("inf"))
    for t, op in STEPS[:-4]:
        clock.t = EPOCH + t
        op(devices)
    before = physical_state(devices)
    assert before["mass_g"] > 100.0 and before["fired"] == 1 and before["latched"]
    devices.world.on_change = None  # killed: whatever was not saved is lost

    again = open_devices(path, OnboardClock(EPOCH + 600.0))  # a fresh boot: on-board time 600 s in
    after = physical_state(again)
    # Unsaved readings only re-integrate the same models: the battery may differ by the integration steps.
    assert after.pop("battery") == pytest.approx(before.pop("battery"), abs=1e-6)
    assert after == before
    assert again.ascender_separation.read().fired
    assert again.container.read().sample_mass_g == pytest.approx(before["mass_g"], abs=5.0)


def test_first_boot_sets_the_epoch_and_the_sun_follows_on_board_time_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "hw.sqlite"
    clock = OnboardClock(EPOCH + 50.0)
    devices = open_devices(path, clock)
    assert devices.world.now() == 0.0
    clock.t += 3 * 86_400.0
    sun_before = devices.sun.read()
    assert sun_before.t == 3 * 86_400.0
    devices.world.on_change = None

    # The restarted flight computer's monotonic clock is back at 0, its on-board time goes on.
    resumed = OnboardClock(clock.t + 10.0)
    again = open_devices(path, resumed)
    sun = again.sun.read()
    assert sun.t == 3 * 86_400.0 + 10.0
    assert again.world.sun_elevation_deg(sun.t) == sun.elevation_deg
    assert sun.elevation_deg != pytest.approx(again.world.sun_elevation_deg(10.0))  # not restarted
    assert abs(sun.elevation_deg - sun_before.elevation_deg) < 80.0 * 2 * 3.1416 * 20.0 / SYNODIC_MONTH_S


def test_world_time_never_goes_back_when_on_board_time_resumes_behind(tmp_path: Path) -> None:
    path = tmp_path / "hw.sqlite"
    clock = OnboardClock(EPOCH)
    devices = open_devices(path, clock)
    clock.t = EPOCH + 1000.0
    devices.rover_mobility.drive_to(100.0, 0.0)  # an act saves the world time with it
    devices.world.on_change = None

    behind = OnboardClock(EPOCH + 990.0)  # on-board time saved 10 s before the kill
    again = open_devices(path, behind)
    assert again.world.now() == 1000.0
    assert again.rover_mobility.read().east_m == 0.0
    behind.t = EPOCH + 1020.0
    assert again.rover_mobility.read().east_m == pytest.approx(20.0 * 0.05)


def test_a_missing_file_is_fresh_hardware_and_is_made_at_once(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "hw.sqlite"
    devices = open_devices(path, OnboardClock(EPOCH + 5.0))
    assert devices.container.mass_g == 0.0 and devices.ascender_separation.fire_count == 0
    saved = SurfaceHardwareFile(path).load()
    assert saved is not None
    assert saved["time"] == {"epoch": EPOCH + 5.0, "latest": 0.0}
    assert set(saved["devices"]) == set(devices.devices())


@pytest.mark.parametrize("damage", ["garbage", "bad_row", "missing_world", "wrong_shape"])
def test_a_corrupt_file_is_set_aside_with_a_warning_and_the_hardware_starts_fresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    path = tmp_path / "hw.sqlite"
    clock = OnboardClock(EPOCH)
    devices = open_devices(path, clock)
    clock.t = EPOCH + 100.0
    devices.container.receive(500.0)
    devices.ascender_separation.fire()
    assert devices.hardware is not None
    devices.hardware.close()
    if damage == "garbage":
        path.write_bytes(b"this is not what the hardware wrote" * 50)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        with sqlite3.connect(path) as db:
            if damage == "bad_row":
                db.execute("UPDATE hardware SET state = '{not json' WHERE name = 'container'")
            elif damage == "missing_world":
                db.execute("DELETE FROM hardware WHERE name = 'world'")
            else:
                db.execute("UPDATE hardware SET state = '[1, 2]' WHERE name = 'ascender_separation'")
        db.close()

    with caplog.at_level(logging.WARNING, logger="fsw.devices.surface"):
        fresh = open_devices(path, OnboardClock(EPOCH + 200.0))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(path) in warnings[0] and "fresh hardware" in warnings[0]
    assert Path(f"{path}.corrupt").exists()
    assert fresh.container.mass_g == 0.0 and fresh.ascender_separation.fire_count == 0
    assert fresh.world.now() == 0.0  # a new epoch

    # The new file is sound again.
    fresh.container.receive(42.0)
    again = open_devices(path, OnboardClock(EPOCH + 300.0))
    assert again.container.mass_g == 42.0


def test_readings_are_saved_lazily_and_acts_at_once(tmp_path: Path) -> None:
    clock = OnboardClock(EPOCH)
    devices = open_devices(tmp_path / "hw.sqlite", clock, reading_save_interval_s=float("inf"))
    hardware = devices.hardware
    assert hardware is not None
    saves = hardware.saves
    for _ in range(50):
        devices.drill.read()
        devices.rendezvous.read()
    assert hardware.saves == saves
    devices.rendezvous.command_acceleration(0.01)
    assert hardware.saves == saves + 1
    devices.drill.deliver_core()  # calls the container: still one save
    assert hardware.saves == saves + 2
    devices.arm.start_scoop(1)
    assert hardware.saves == saves + 3
    devices.arm.read()  # the scoop is still on its way: a reading
    assert hardware.saves == saves + 3
    clock.t = EPOCH + 1000.0
    devices.arm.read()  # delivers the scoop into the container: an act, saved at once
    assert hardware.saves == saves + 4
    assert SurfaceHardwareFile(hardware.file.path).load()["devices"]["container"]["mass_g"] > 0.0  # type: ignore[index]


def surface_of(clock: Clock, store: Path) -> Any:
    platform = load_platform("emulator")(PlatformRequest(clock=clock, store=store))
    assert platform.mission is not None
    return platform.mission.surface


def test_the_emulator_platform_keeps_the_surface_in_the_file_next_to_the_store(tmp_path: Path) -> None:
    store = tmp_path / "fsw-store.sqlite"
    state = surface_state_path_for(store)
    assert state.parent == tmp_path and state.name.startswith("fsw-store.sqlite.")

    clock = Clock("afap")
    surface = surface_of(clock, store)
    clock._advance(500.0)
    surface.returner_separation.fire()
    surface.container.receive(321.0)
    surface.container.world.on_change = None
    assert state.exists()

    restarted = Clock("afap")  # monotonic 0 again, on-board time resumed by the time manager
    restarted.set_onboard_time(clock.onboard_time())
    again = surface_of(restarted, store)
    assert again.returner_separation.read().fired
    assert again.container.mass_g == 321.0
    assert again.container.world.now() == pytest.approx(500.0)


def test_after_the_release_the_rendezvous_is_over_for_good(tmp_path: Path) -> None:
    clock = OnboardClock(EPOCH)
    devices = open_devices(tmp_path / "hw.sqlite", clock)
    for t, op in [(5000.0, lambda d: d.ascender_separation.fire()), (5200.0, lambda d: d.rendezvous.read()),
                  (5300.0, lambda d: d.docking.close_claws())]:
        clock.t = EPOCH + t
        op(devices)
    assert devices.docking.read().latched
    clock.t = EPOCH + 5400.0
    devices.docking.open_claws()
    rendezvous = devices.rendezvous
    assert rendezvous.released and rendezvous.orbiter is None
    # Days later the radar finds no ascender: the phasing that brought it is not started again
    # (nor its orbits integrated over those days).
    clock.t = EPOCH + 500_000.0
    assert not rendezvous.read().valid
    assert rendezvous.orbiter is None and rendezvous.capture_attempts[-1][-1] == "latched"
