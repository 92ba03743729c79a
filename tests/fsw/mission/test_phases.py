"""Phases alone, abort paths, restore from the store, events and housekeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsw.mission import diagrams
from fsw.mission.ascent import IGNITION_LATCH
from fsw.mission.machine import MachineSpec, StateSpec, TransitionSpec
from fsw.protocol.errors import FailureCode
from hil.emulator.plant import FaultConfig
from hil.emulator.surface import SurfaceFaults
from tests.fsw.mission.conftest import make_rig, until

ROOT = Path(__file__).resolve().parents[3]



def test_no_valid_altimeter_holds_in_orbit(store: Path) -> None:
    rig = make_rig(store, lander_faults=FaultConfig(altimeter_never_enabled=True), params={"auto_go": True})
    mission = rig.components.mission

    async def scenario(h):
        await h.clock.sleep(3 * 7_200.0 + 100.0)  # three orbits of holding

    rig.run(scenario)
    assert mission.state in ("orbit_hold", "predescent_checks")
    assert "powered_descent" not in rig.states("mission")
    assert rig.states("mission")[:3] == ["orbit_hold", "predescent_checks", "orbit_hold"]
    no_go = [args for name, args in rig.harness.events() if name == "DESCENT_NO_GO"]
    assert no_go and all(args["reasons"] == "altimeter_valid" for args in no_go)
    assert rig.descent.begun == []
    assert not rig.vehicle.latches.is_fired("descent_ignition")


def test_drill_jam_retracts_and_completes_with_the_scoop(store: Path) -> None:
    faults = SurfaceFaults(rock_depth_m=0.74, radar_sees_rock=False)  # CE-5: rock the radar did not show
    rig = make_rig(store, surface_faults=faults, params={"auto_go": True})
    sampling = rig.components.sampling

    async def scenario(h):
        await until(sampling, "complete", "safe")

    rig.run(scenario)
    assert sampling.state == "complete"
    assert ("drilling", "drill_retract", "jam") in rig.transitions("sampling")
    hk = sampling.housekeeping()
    assert hk["drill_jammed"] is True
    assert 150.0 < hk["core_mass_g"] < 200.0  # 0.74 m of core
    assert 1500.0 <= hk["sample_mass_g"] <= 2000.0
    jams = [args for name, args in rig.harness.events() if name == "DRILL_JAM"]
    assert len(jams) == 1 and abs(jams[0]["depth_m"] - 0.74) < 0.01


def test_radar_rock_shortens_the_drill_plan(store: Path) -> None:
    rig = make_rig(store, surface_faults=SurfaceFaults(rock_depth_m=1.2), params={"auto_go": True})
    sampling = rig.components.sampling

    async def scenario(h):
        await until(sampling, "complete", "safe")

    rig.run(scenario)
    assert sampling.state == "complete"
    assert ("drilling", "drill_retract", "drilled") in rig.transitions("sampling")
    assert sampling.drill_target_m < 1.2
    assert 1700.0 <= sampling.housekeeping()["sample_mass_g"] <= 2000.0


def test_sealing_failure_safes(store: Path) -> None:
    rig = make_rig(store, surface_faults=SurfaceFaults(seal_fails=True), params={"auto_go": True})
    c = rig.components

    async def scenario(h):
        await until(c.mission, "safe", "ascent")

    rig.run(scenario)
    assert c.sampling.state == "safe"
    assert ("sealing", "safe", "seal_failed") in rig.transitions("sampling")
    assert c.mission.state == "safe"
    assert rig.vehicle.modes.mode == "SAFE"
    assert rig.surface.transfer.read().stage == ""  # an unsealed container never moves
    assert rig.components.ascent.state == "idle"


def test_go_points_wait_for_ground_commands(store: Path) -> None:
    rig = make_rig(store)
    c = rig.components

    async def scenario(h):
        await until(c.mission, "awaiting_descent_go")
        await h.clock.sleep(3_600.0)
        assert c.mission.state == "awaiting_descent_go"  # no descent without the ground's go
        # In SAFE a go is refused with its own code, armed or not; unarmed, it is refused as NOT_ARMED.
        assert await h.fire("GO_DESCENT") == ["ACCEPTANCE_FAILED"]
        assert h.reports(h.sent[-1])[-1].code == FailureCode.WRONG_MODE
        await h.clock.sleep(11.0)  # the arm lapses (arm_window_s 10 s): a refused fire does not use it up
        await h.nominal()
        assert await h.submit(h.command("GO_DESCENT")) == ["ACCEPTANCE_FAILED"]
        assert h.reports(h.sent[-1])[-1].code == FailureCode.NOT_ARMED
        assert c.mission.state == "awaiting_descent_go"
        assert await h.fire("GO_DESCENT") == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        await until(c.sampling, "awaiting_go")
        await h.clock.sleep(3_600.0)
        assert c.sampling.state == "awaiting_go"
        # A go for another state is refused at acceptance, WRONG_STATE: nothing starts.
        assert await h.fire("GO_ASCENT") == ["ACCEPTANCE_FAILED"]
        assert h.reports(h.sent[-1])[-1].code == FailureCode.WRONG_STATE
        assert await h.fire("GO_SAMPLING") == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        await until(c.ascent, "awaiting_go")

    rig.run(scenario)
    assert c.ascent.state == "awaiting_go"
    assert rig.states("sampling")[-1] == "complete"


def test_ascent_guidance_failure_safes(store: Path) -> None:
    rig = make_rig(store, params={"auto_go": True}, ascent_fail_at="orbit_insertion")
    c = rig.components

    async def scenario(h):
        await until(c.mission, "safe", "rendezvous_docking")

    rig.run(scenario)
    assert c.ascent.state == "safe" and c.mission.state == "safe"
    assert rig.vehicle.latches.is_fired(IGNITION_LATCH)


def test_restart_resumes_the_phase_and_never_re_ignites(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    first = make_rig(store, params={"auto_go": True})

    async def to_vertical_rise(h):
        await until(first.components.ascent, "vertical_rise")

    first.run(to_vertical_rise)
    first.harness.store.close()
    fired_before = first.surface.ascender_separation.fire_count
    assert fired_before == 1

    second = make_rig(store)  # a reset: new executive and devices over the same store; the engine still burns
    second.surface.ascent_engine.set_on(True)
    c = second.components

    async def resume(h):
        assert c.mission.state == "ascent" and c.ascent.state == "vertical_rise"
        await until(c.mission, "rendezvous_docking", "safe")

    second.run(resume)
    names = [name for name, _ in second.harness.events()]
    assert "ASCENT_RESUMED" in names and "MISSION_RESUMED" in names
    assert "ASCENT_IGNITION" not in names
    assert second.surface.ascender_separation.fire_count == 0
    assert second.ascent.begun == [True]
    assert c.mission.state == "rendezvous_docking"


def test_return_phase_alone_from_a_saved_state(store: Path) -> None:
    rig = make_rig(store, params={"auto_go": True})
    rig.harness.store.put("mission.mission", {"state": "lunar_orbit_wait", "entered": rig.harness.clock.onboard_time(),
                                              "data": {}})
    c = rig.components

    async def scenario(h):
        await until(c.mission, "complete", "safe")
        return h.clock.monotonic()

    elapsed = rig.run(scenario)
    assert c.mission.state == "complete"
    assert rig.states("return")[:2] == ["lunar_orbit_wait", "awaiting_go"]
    hk = c.returns.housekeeping()
    assert hk["returned"] is True
    assert abs(hk["tei_1_delta_v_m_s"] - 480.0) < 2.0 and abs(hk["tei_2_delta_v_m_s"] - 345.0) < 2.0
    assert 0.5 < hk["mcc_delta_v_m_s"] < 0.8  # 28 s on 2 x 25 N
    assert elapsed > 6 * 86_400.0
    assert c.sampling.state == "idle"  # earlier phases were not replayed


def test_every_transition_is_an_event_and_state_is_in_housekeeping(store: Path) -> None:
    rig = make_rig(store, params={"auto_go": True})
    c = rig.components

    async def scenario(h):
        await until(c.mission, "surface_operations")
        await h.clock.sleep(2.5)

    rig.run(scenario, full_start=True)
    for machine in c.machines():
        assert machine.transition_count == len(rig.transitions(machine.spec.name))
    mission_hk = rig.harness.hk(40)
    assert mission_hk and mission_hk[-1]["mission_state"] == "surface_operations"
    assert {"predescent_checks", "powered_descent"} <= {values["mission_state"] for values in mission_hk}
    assert rig.harness.hk(41)[-1]["sampling_state"] in ("awaiting_go", "radar_survey", "drilling")


def test_state_diagrams_document_matches_the_machines() -> None:
    assert (ROOT / "docs/state-machines.md").read_text() == diagrams.document(), (
        "run python -m fsw.mission.diagrams --output docs/state-machines.md")


def test_a_state_that_times_out_takes_its_safing_transition(store: Path) -> None:
    rig = make_rig(store)  # no auto_go: nobody sends the go for powered descent
    mission = rig.components.mission

    async def scenario(h):
        await until(mission, "safe")
        return h.clock.monotonic()

    elapsed = rig.run(scenario)
    assert rig.states("mission") == ["awaiting_descent_go", "safe"]
    events = rig.harness.events()
    assert ("MISSION_TIMEOUT", {"machine": "mission", "state": "awaiting_descent_go", "limit": 86_400.0}) in events
    safed = [args for name, args in events if name == "MISSION_SAFED"]
    assert safed and safed[0]["reason"] == "awaiting_descent_go timed out"
    assert 86_400.0 <= elapsed < 86_400.0 + 600.0
    assert rig.descent.begun == []


def test_a_timeout_without_a_transition_to_take_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="no transition 'expired'"):
        MachineSpec("broken", "waiting", (StateSpec("waiting", "waits", 10.0, timeout_trigger="expired"),
                                          StateSpec("done", "done", final=True)),
                    (TransitionSpec("finish", "waiting", "done"),))


# Each mission phase alone, from a store saved as the phase begins: (mission state, the state it must
# reach next, the machine that flies the phase, that machine's final state).
PHASES_ALONE = [
    ("surface_operations", "ascent", "sampling", "complete"),
    ("ascent", "rendezvous_docking", "ascent", "in_orbit"),
    ("rendezvous_docking", "sample_transfer", "rendezvous", "capture"),
]


@pytest.mark.parametrize(("state", "next_state", "machine", "final"), PHASES_ALONE)
def test_each_phase_alone_from_a_saved_state(store: Path, state: str, next_state: str, machine: str,
                                             final: str) -> None:
    rig = make_rig(store, params={"auto_go": True})
    rig.harness.store.put("mission.mission", {"state": state, "entered": rig.harness.clock.onboard_time(), "data": {}})
    if state == "rendezvous_docking":
        rig.surface.ascender_separation.fire()  # the ascent behind: the ascender is in its orbit
    c = rig.components

    async def scenario(h):
        await until(c.mission, next_state, "safe")

    rig.run(scenario)
    assert c.mission.state == next_state, rig.states("mission")
    assert rig.states("mission") == [next_state]  # started in the saved phase, nothing before it replayed
    assert final in rig.states(machine)
    assert rig.descent.begun == []  # the descent is behind: its guidance was never called again
