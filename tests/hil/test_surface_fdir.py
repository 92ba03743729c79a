"""Surface fault protection with no ground in the loop: each fault with its response, and the same
fault with the response disabled (its event-action off) ending badly, judged from the plant's truth."""

from __future__ import annotations

from hil.emulator.surface.electrical import BROWNOUT_V
from hil.emulator.surface.sampling import WINDING_DAMAGE_C
from hil.rigs.surface_fdir import HARD_LAYER_M, fly_surface
from hil.rigs.surface_fdir_checks import judge
from hil.rigs.surface_fdir_checks import outcome as describe


def test_battery_undervoltage_sheds_loads_and_the_battery_recovers() -> None:
    shed, control = fly_surface("battery"), fly_surface("battery", response=False)
    assert judge(shed) == [] and judge(control) == [], describe(shed) + " / " + describe(control)
    # Response, from the plant: never near a brown-out, the load shed, the battery charging again.
    power = shed.power
    assert power is not None and power.brownout_at is None and power.over_discharged_at is None
    assert power.min_bus_v > BROWNOUT_V + 4.0
    assert not shed.lines["mechanism_heaters"] and not shed.lines["drill"] and shed.instruments_on == []
    assert shed.lines["comms"] and shed.lines["survival_heaters"]
    assert power.soc > min(s.soc for s in shed.samples) + 0.05
    # Control: the same drain, nothing answers: the bus browns out and the cells are over-discharged.
    dead = control.power
    assert dead is not None and dead.brownout_at is not None and dead.over_discharged_at is not None
    assert dead.soc == 0.0 and control.instruments_on == ["camera", "dosimeter", "radar"]
    assert control.first("MONITOR_VIOLATION", pmon=0x7F01) is not None  # detected, not answered
    assert control.first("SEQ_STARTED") is None
    assert shed.wall_s + control.wall_s < 30.0


def test_drill_overcurrent_stops_retracts_and_the_scoop_takes_the_sample() -> None:
    saved, control = fly_surface("drill"), fly_surface("drill", response=False)
    assert judge(saved) == [] and judge(control) == [], describe(saved) + " / " + describe(control)
    # Response: the motor stopped seconds into the hard layer, intact; core and scoop in the container.
    assert saved.marks["drill_stopped"] - saved.marks["hard_layer"] < 20.0
    assert saved.drill_damaged_at is None and saved.peak_winding_c < WINDING_DAMAGE_C - 50.0
    assert saved.drill_depth_m == 0.0 and saved.scoops >= 1
    assert saved.container_g > saved.core_delivered_g > 0.0
    assert abs(saved.core_delivered_g - HARD_LAYER_M * 250.0) < 10.0  # the core down to the hard layer
    # Control: the drill grinds on until its winding fails, minutes in.
    assert control.drill_damaged_at is not None
    assert 120.0 < control.drill_damaged_at - control.marks["hard_layer"] < 600.0
    assert control.first("MONITOR_VIOLATION", pmon=0x7F02) is not None and control.first("DRILL_ABANDONED") is None
    assert saved.wall_s + control.wall_s < 40.0


def test_loss_of_the_ground_stops_the_mechanisms_and_safes_the_vehicle() -> None:
    safed, control = fly_surface("ground"), fly_surface("ground", response=False)
    assert judge(safed) == [] and judge(control) == [], describe(safed) + " / " + describe(control)
    limit = safed.marks["limit"]
    # Response: the drill stopped where it was within a minute of the limit, nothing moved after.
    stopped = [s for s in safed.samples if s.t > limit + 60.0]
    assert stopped and all(s.drill_mode == "idle" and not s.arm_busy for s in stopped)
    assert len({s.drill_depth_m for s in stopped}) == 1 and 0.5 < stopped[0].drill_depth_m < 1.0
    assert safed.final_mode == "SAFE" and not safed.lines["drill"] and safed.lines["comms"]
    # Control: nobody on the ground, and the drill went on for the whole hour, then the arm scooped.
    late = [s for s in control.samples if s.t > limit]
    assert max(s.drill_depth_m for s in late) > 1.9
    assert any(s.arm_busy for s in late) and control.final_mode == "NOMINAL"
    assert control.first("MONITOR_VIOLATION", pmon=0x7F03) is not None and control.first("SAFE_ENTERED") is None
    assert safed.wall_s + control.wall_s < 30.0
