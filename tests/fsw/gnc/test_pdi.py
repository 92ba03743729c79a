"""Powered-descent initiation: the lander coasts after its go until braking at the design throttle
reaches the braking gate, and a restarted flight computer keeps to the same point."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import pytest

from fsw.gnc.controller import PDI_COAST, DescentController
from fsw.gnc.guidance import MAIN_BRAKING, DescentGuidance, GuidanceConfig
from fsw.gnc.navigation import NavState
from fsw.gnc.setup import predict_pdi
from hil.devicebus import DeviceBusServer
from hil.emulator.orbit_determination import orbit_determination
from hil.emulator.plant import LunarLanderPlant, PlantConfig
from hil.plant_process import LanderWorld
from hil.rigs.closed_loop import build_descent, descent_plan, fly_descent
from hil.rigs.flight_descent import LANDING_ELLIPSE_M
from tests.fsw.gnc.test_component_resume import flight_computer
from tests.fsw.harness import Harness

DT = 0.02


def orbit_state(s: float) -> NavState:
    return NavState(
        t=0.0, h=15_000.0, s=s, c=0.0, vu=0.0, vd=1_692.8, vc=0.0, height_above_ground=15_000.0,
        altimeter_ok=True, mass_kg=3_850.0, propellant_kg=2_250.0, pitch=-math.pi / 2, yaw=0.0,
        specific_force=0.0, thrust_efficiency=1.0,
    )  # fmt: skip


def pdi_point(guidance: DescentGuidance) -> float:
    low, high = 0.0, guidance.config.target_downrange_m
    while high - low > 1.0:
        mid = 0.5 * (low + high)
        low, high = (low, mid) if guidance.pdi_due(orbit_state(mid)) else (mid, high)
    return high


def test_initiation_point_is_where_the_braking_law_asks_the_design_throttle() -> None:
    config = GuidanceConfig(target_downrange_m=765_000.0)
    guidance = DescentGuidance(config)
    s_pdi = pdi_point(guidance)
    assert not guidance.pdi_due(orbit_state(s_pdi - 2_000.0))
    guidance.step(0.0, orbit_state(s_pdi))
    assert guidance.braking_throttle == pytest.approx(config.pdi_design_throttle, abs=0.002)
    # A lower design throttle keeps more margin by igniting earlier (further from the gate).
    earlier = pdi_point(DescentGuidance(GuidanceConfig(target_downrange_m=765_000.0, pdi_design_throttle=0.9)))
    assert earlier < s_pdi - 10_000.0


def fly_until(plant: LunarLanderPlant, controller: DescentController, stop: Any, t: float = 0.0) -> float:
    while not stop() and t < 200.0:
        controller.step(t, DT)
        plant.step(DT)
        t = round(t + DT, 6)
    return t


def test_controller_coasts_after_the_go_then_ignites_once_at_the_initiation_point() -> None:
    plant, _devices, controller = build_descent(4)
    t = fly_until(plant, controller, lambda: controller.phase == PDI_COAST)
    assert not plant.engine_on
    t = fly_until(plant, controller, lambda: plant.engine_on, t)
    assert controller.phase == MAIN_BRAKING and t > controller.PREFLIGHT_S + 5.0
    names = [name for _, name, _ in controller.events]
    assert names.count("powered_descent_initiation") == 1 and "pdi_coast_limit" not in names
    # Ignited where the truth says a nominal engine brakes onto the gate at the design throttle.
    truth_guidance = DescentGuidance(controller.guidance.config)
    assert abs(plant.s - pdi_point(truth_guidance)) < 300.0  # orbit-determination error ~100 m


def test_a_target_beyond_the_coast_limit_ignites_at_the_limit_and_says_so() -> None:
    config = GuidanceConfig(target_downrange_m=900_000.0, pdi_max_coast_s=10.0)
    plant, _devices, controller = build_descent(4, guidance_config=config)
    t = fly_until(plant, controller, lambda: plant.engine_on)
    assert controller.phase == MAIN_BRAKING
    assert t == pytest.approx(controller.PREFLIGHT_S + 10.0, abs=0.1)
    assert "pdi_coast_limit" in [name for _, name, _ in controller.events]


def test_controller_restored_from_a_coast_checkpoint_ignites_at_the_same_point_once() -> None:
    reference_plant, _, reference = build_descent(5)
    reference_t = fly_until(reference_plant, reference, lambda: reference_plant.engine_on)

    plant, devices, controller = build_descent(5)
    ignitions: list[float] = []
    engine_set_on = devices.main_engine.set_on

    def counting_set_on(on: bool) -> None:
        if on:
            ignitions.append(plant.t)
        engine_set_on(on)

    devices.main_engine.set_on = counting_set_on  # type: ignore[method-assign]
    t = fly_until(plant, controller, lambda: controller.phase == PDI_COAST)
    for _ in range(250):  # 5 s into the coast
        controller.step(t, DT)
        plant.step(DT)
        t = round(t + DT, 6)
    saved = pickle.dumps(controller)
    for _ in range(50):  # the reset: 1 s of flight no controller sees
        plant.step(DT)
        t = round(t + DT, 6)
    restored: DescentController = pickle.loads(saved)
    restored.attach(controller.dev)
    restored.catch_up(1.0, DT)
    restored.reconcile_actuators(t)
    assert restored.phase == PDI_COAST and not plant.engine_on and ignitions == []
    t = fly_until(plant, restored, lambda: plant.engine_on, t)
    assert t == pytest.approx(reference_t, abs=0.1)
    assert len(ignitions) == 1
    for _ in range(100):  # burning on: nothing lights it again
        restored.step(t, DT)
        plant.step(DT)
        t = round(t + DT, 6)
    assert len(ignitions) == 1 and restored.engine_burning


@pytest.mark.slow
def test_gnc_component_restarted_in_the_coast_lands_with_one_ignition(tmp_path: Path) -> None:
    world = LanderWorld(3, PlantConfig())
    server = DeviceBusServer(world.devices, world.advance, 1.0)
    store = tmp_path / "store.sqlite"
    outcomes: list[str] = []
    first, gnc = flight_computer(store, server, world)

    async def coast(h: Harness) -> None:
        gnc.descent_driver.begin(outcomes.append, False)
        while gnc.descent is None or gnc.descent.phase != PDI_COAST:
            await h.clock.sleep(0.1)
        await h.clock.sleep(3.37)

    first.run(coast)
    first.store.close()
    assert world.ignitions["main_engine"] == 0 and world.ignition_t is None

    second, gnc = flight_computer(store, server)

    async def resume(h: Harness) -> None:
        gnc.descent_driver.begin(outcomes.append, True)
        while not outcomes:
            await h.clock.sleep(1.0)

    second.run(resume)
    assert outcomes == ["landed"]
    assert world.ignitions["main_engine"] == 1
    resumed = [args for name, args in second.events() if name == "GNC_RESUMED"]
    assert len(resumed) == 1 and resumed[0]["phase"] == PDI_COAST
    touchdown = world.plant.touchdown
    assert touchdown is not None and touchdown.safe, touchdown
    assert touchdown.landing_error_m < 1_000.0
    assert world.ignition_t is not None and 600.0 <= touchdown.t - world.ignition_t <= 900.0


# --- the go's window: a late go is refused, never flown to a point far from the target ----------------

LATEST_THROTTLE = 0.98  # gnc_pdi_latest_throttle's default


def uplinked_plan(seed: int, config: PlantConfig | None = None) -> Any:
    plant = LunarLanderPlant(seed, config)
    return descent_plan(orbit_determination(plant), plant.config)


def test_a_go_at_any_moment_is_flown_to_the_target_or_refused_and_a_late_one_flown_anyway_lands_far() -> None:
    plan = uplinked_plan(3)
    preflight = DescentController.PREFLIGHT_S
    predictions = {float(go): predict_pdi(plan, float(go), preflight, LATEST_THROTTLE) for go in range(0, 400, 2)}
    accepted = [go for go, prediction in predictions.items() if prediction.refusal is None]
    # The window is one span from the uplink on; every later go is refused, saying why.
    assert accepted == [float(go) for go in range(0, int(max(accepted)) + 2, 2)]
    assert 30.0 <= max(accepted) <= 60.0
    for go, prediction in predictions.items():
        if go > max(accepted):
            assert prediction.refusal is not None and "initiation is past" in prediction.refusal
    # The accepted go nearest the window's end lands at the target (the plant's truth).
    last = fly_descent(3, go_at_s=max(accepted))
    assert last.touchdown is not None and last.touchdown.safe
    assert last.touchdown.landing_error_m < LANDING_ELLIPSE_M
    assert not any(name == "retarget_limited" for _, name, _ in last.events)
    # Negative control: a go 90 s in, which the window refuses, flown anyway. Guidance keeps its aim
    # within gnc_max_retarget_m of the target (never hundreds of km away), but the lander cannot get
    # there: it lands tens of km away (then short of propellant, where a bounded stop puts it).
    late = fly_descent(3, go_at_s=90.0)
    assert predictions[90.0].refusal is not None
    assert late.touchdown is not None and late.touchdown.landing_error_m > 10_000.0
    moved = [detail for _, name, detail in late.events if name == "retarget_reachable"]
    assert "retarget_limited" in [name for _, name, _ in late.events] and moved == ["aim moved 3000 m into the "
                                                                                    "divert envelope"]


def test_a_go_far_before_the_initiation_point_is_refused_rather_than_lit_early() -> None:
    plan = uplinked_plan(3, PlantConfig(target_downrange_m=1_500_000.0))
    prediction = predict_pdi(plan, 0.0, DescentController.PREFLIGHT_S, LATEST_THROTTLE)
    assert prediction.refusal is not None and "send the go later" in prediction.refusal
