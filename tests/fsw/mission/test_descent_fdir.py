"""The descent's fault protection entry (PUS 12 0x7F04 on the IMU rejections, PUS 19 0x7F04 sending
IMU_SELECT redundant) on an executive with the GNC, flying the plant into main braking where the
primary IMU unit freezes; with its negative control, the event-action disabled by the ground (19,5).
Outcomes from the plant's IMU record."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from fsw.gnc.guidance import MAIN_BRAKING
from fsw.mission.descent_fdir import ACTION_IMU_SELECT, DESCENT_FAULT_PROTECTION, PMON_IMU_REJECTED
from fsw.services.fdir_table import FaultProtectionLoader
from hil.rigs.imu_scenario import SWITCH_WITHIN_S
from tests.fsw.gnc.test_device_commands import Rig
from tests.fsw.harness import Harness

GNC_STRUCTURE = 30


def fly_into_the_failure(tmp_path: Path, *, respond: bool) -> tuple[Rig, dict[str, Any]]:
    """The GNC and the descent's fault protection entry on an executive, flying the plant into main
    braking, where the primary IMU unit fails; 8 s of flight follow."""
    rig = Rig(tmp_path)
    rig.harness.vehicle.add(FaultProtectionLoader(rig.harness.vehicle.ctx, DESCENT_FAULT_PROTECTION))
    plant, imu = rig.world.plant, rig.world.devices["imu"]
    marks: dict[str, Any] = {}

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(1.0)  # the table is loaded
        if not respond:
            assert (await h.submit(h.tc(19, 5, [ACTION_IMU_SELECT])))[-1] == "COMPLETION_OK"
        rig.gnc.descent_driver.begin(lambda outcome: None, False)
        while rig.gnc.descent is None or rig.gnc.descent.phase != MAIN_BRAKING:
            await h.clock.sleep(0.1)
        await h.clock.sleep(3.0)
        plant.faults = replace(plant.faults, imu_failure_altitude_m=plant.h + 1.0)  # fails at its next read
        marks["hk_before"] = len(h.hk(GNC_STRUCTURE))
        await h.clock.sleep(8.0)

    rig.harness.run(scenario)
    assert imu.failed_at is not None
    return rig, marks


def test_a_frozen_imu_unit_is_switched_out_by_pus12_and_pus19_and_not_without_the_action(tmp_path: Path) -> None:
    rig, marks = fly_into_the_failure(tmp_path / "response", respond=True)
    imu, events = rig.world.devices["imu"], rig.harness.events()
    failed_t, _ = imu.failed_at
    # The plant's IMU went to the redundant unit, once, within the budget.
    [(switched_t, unit, _)] = imu.selections
    assert unit == 1 and 0.0 < switched_t - failed_t <= SWITCH_WITHIN_S
    violation = [args for name, args in events if name == "MONITOR_VIOLATION" and args["pmon"] == PMON_IMU_REJECTED]
    assert len(violation) == 1 and violation[0]["value"] > 25
    assert ("EVENT_ACTION_TRIGGERED", ACTION_IMU_SELECT) in [(name, args.get("action")) for name, args in events]
    # What the GNC reported: coasting on the stale unit, then the redundant unit and nothing rejected.
    gnc = [args["event"] for name, args in events if name == "GNC_EVENT"]
    assert "imu_coasting" in gnc and "imu_selected" in gnc
    after = rig.harness.hk(GNC_STRUCTURE)[marks["hk_before"]:]
    assert max(values["gnc_imu_rejected_run"] for values in after) > 25
    assert after[-1]["gnc_imu_unit"] == "redundant" and after[-1]["gnc_imu_rejected_run"] == 0

    control, marks = fly_into_the_failure(tmp_path / "control", respond=False)
    imu, events = control.world.devices["imu"], control.harness.events()
    assert imu.selections == [] and imu.unit == 0  # nothing answered
    # Seen (other red limits may trip too as the lander coasts blind: the attitude error, for one).
    assert [args["pmon"] for name, args in events if name == "MONITOR_VIOLATION"].count(PMON_IMU_REJECTED) == 1
    assert "EVENT_ACTION_TRIGGERED" not in [name for name, _ in events]
    last = control.harness.hk(GNC_STRUCTURE)[-1]
    assert last["gnc_imu_unit"] == "primary" and last["gnc_imu_rejected_run"] > 300  # still coasting, 8 s on
