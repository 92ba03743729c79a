"""The lander's power component (PDU measurements, LOAD_SET) and DRILL_ABANDON, on the mission rig."""

from __future__ import annotations

from pathlib import Path

from fsw.link import SerialLink
from fsw.protocol.errors import FailureCode
from fsw.services.linkmon import LinkMonitor
from hil.emulator.surface import SurfaceFaults
from tests.fsw.harness import Harness
from tests.fsw.mission.conftest import make_rig, until

OK = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]



def test_power_housekeeping_is_what_the_pdu_measures_and_load_set_switches_the_plant(store: Path) -> None:
    rig = make_rig(store)
    power = rig.components.power
    assert power is not None

    async def scenario(h):
        hk = power.housekeeping()
        assert 30.0 < hk["eps_bus_v"] < 33.6 and hk["eps_drill_on"] and hk["eps_mechanism_heaters_on"]
        assert hk["eps_battery_soc"] == rig.surface.power.read().battery_soc
        assert await h.fire("LOAD_SET", "mechanism_heaters", False) == OK
        assert rig.surface.power.lines["mechanism_heaters"] is False  # the plant's switch
        assert power.housekeeping()["eps_mechanism_heaters_a"] < 0.1
        # The radio and the survival heaters are not in the command's range: no table can shed them.
        assert await h.fire("LOAD_SET", "comms", False) == ["ACCEPTANCE_FAILED"]
        assert h.reports(h.sent[-1])[0].code in (FailureCode.BAD_ARGUMENT, FailureCode.ARGUMENT_RANGE)
        assert rig.surface.power.lines["comms"] is True

    rig.run(scenario)
    assert ("LOAD_SWITCHED", {"line": "mechanism_heaters", "state": "off"}) in rig.harness.events()


def test_drill_abandon_retracts_and_the_scoop_completes_the_sample(store: Path) -> None:
    rig = make_rig(store, surface_faults=SurfaceFaults(hard_layer_depth_m=0.3), params={"auto_go": True})
    sampling = rig.components.sampling

    async def scenario(h):
        assert await h.fire("DRILL_ABANDON") == OK  # outside drilling it only stops the drill
        assert sampling.state == "idle"
        await until(sampling, "drilling")
        while rig.surface.drill.depth < 0.3:
            await h.clock.sleep(10.0)
        assert await h.fire("DRILL_ABANDON") == OK
        assert sampling.state == "drill_retract"
        await until(sampling, "scooping")
        await h.clock.sleep(700.0)

    rig.run(scenario)
    assert ("drilling", "drill_retract", "abandon") in rig.transitions("sampling")
    assert rig.surface.drill.depth == 0.0 and rig.surface.drill.damaged_at is None
    assert rig.surface.arm.scoops >= 1 and rig.surface.container.mass_g > 60.0  # core and a scoop
    [abandoned] = [args for name, args in rig.harness.events() if name == "DRILL_ABANDONED"]
    assert abs(abandoned["depth_m"] - 0.3) < 0.01


def test_the_uplink_silence_counts_from_the_last_tc_the_link_took(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    monitor = LinkMonitor(h.vehicle.ctx, SerialLink("loop://"))
    h.vehicle.add(monitor)

    async def scenario(h):
        await h.clock.sleep(100.0)
        assert monitor.housekeeping()["link_uplink_silence_s"] == 100.0
        h.vehicle.dispatcher.submit(h.command("NOOP"))  # on board (a sequence, an action): not the ground
        await h.clock.sleep(5.0)
        assert monitor.housekeeping()["link_uplink_silence_s"] == 105.0
        raw = h.command("NOOP").pack()
        monitor.take(raw)
        await h.clock.sleep(30.0)
        monitor.take(raw)  # a retransmission: the ground is there
        await h.clock.sleep(7.0)
        assert monitor.housekeeping()["link_uplink_silence_s"] == 7.0
        monitor.take(b"\x00garbage")  # not a TC: no contact
        await h.clock.sleep(3.0)
        assert monitor.housekeeping()["link_uplink_silence_s"] == 10.0

    h.run(scenario)
