"""The ground's descent uplink by telecommand: state vector with its epoch, target and terrain map,
verified with PUS 1, kept over a reboot; a go without it, or too late for this revolution's
powered-descent initiation, is refused with its own failure code, and nothing lights (plant truth)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fsw.gnc.component import GncComponent
from fsw.gnc.uplink import UPLINK_KEY
from fsw.protocol.errors import FailureCode
from ground.descent_uplink import uplink_commands
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.emulator.orbit_determination import orbit_determination
from hil.plant_process import LanderWorld
from hil.rigs.flight_descent import DescentRecord, FlightOptions, fly
from tests.fsw.harness import Harness

COMPLETED = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
SEED = 3


def vehicle(store: Path, world: LanderWorld) -> tuple[Harness, GncComponent]:
    harness = Harness(store)
    gnc = GncComponent(harness.vehicle.ctx, LocalDeviceBus(DeviceBusServer(world.devices, world.advance),
                                                           harness.clock))
    harness.vehicle.add(gnc)
    return harness, gnc


def positional(harness: Harness, name: str, args: dict[str, Any]) -> list[Any]:
    definition = harness.vehicle.dispatcher.commands_by_name[name]
    return [args[arg.name] for arg in definition.args]


def test_the_uplink_is_taken_by_command_verified_and_survives_a_reboot(tmp_path: Path) -> None:
    world = LanderWorld(SEED)
    product = orbit_determination(world.plant).to_dict()
    commands = uplink_commands(product)
    store = tmp_path / "store.sqlite"
    first, gnc = vehicle(store, world)

    async def uplink(h: Harness) -> dict[str, Any]:
        assert gnc.housekeeping()["gnc_uplink_ready"] is False
        for name, args in commands:
            assert await h.submit(h.command(name, *positional(h, name, args))) == COMPLETED, name
        return gnc.housekeeping()

    hk = first.run(uplink)
    first.store.close()
    assert hk["gnc_uplink_ready"] is True and hk["gnc_uplink_map_points"] == len(product["map_heights_m"])
    names = [name for name, _ in first.events()]
    assert {"DESCENT_STATE_UPLINKED", "DESCENT_FRAME_UPLINKED", "DESCENT_TARGET_UPLINKED",
            "DESCENT_MAP_UPLINKED"} <= set(names)
    # The map travelled as 32-bit floats in segments of 256 points.
    assert sum(name == "DESCENT_MAP_SEGMENT" for name, _ in commands) == -(-len(product["map_heights_m"]) // 256)

    second, gnc = vehicle(store, world)  # a reboot on the same store

    async def after_reboot(h: Harness) -> Any:
        return gnc.descent_plan(0.0, None)

    plan = second.run(after_reboot)
    assert not isinstance(plan, str), plan
    assert plan.position_m == tuple(product["position_m"]) and plan.epoch_s == product["epoch_s"]
    assert plan.target_downrange_m == product["target_downrange_m"]
    # The frame's turn: the Moon's pole (the plant's own, in MCDF axes) and the alignment epoch.
    assert plan.moon_pole is not None and max(abs(a - b) for a, b in zip(plan.moon_pole, world.plant.state.pole,
                                                                          strict=True)) < 1e-12
    assert plan.frame_aligned_epoch_s == 0.0
    assert max(abs(a - b) for a, b in zip(plan.map_heights_m, product["map_heights_m"], strict=True)) < 0.01


def test_bad_uplinks_are_refused_with_a_code_and_leave_the_last_good_one(tmp_path: Path) -> None:
    world = LanderWorld(SEED)
    harness, _gnc = vehicle(tmp_path / "store.sqlite", world)
    product = orbit_determination(world.plant).to_dict()
    good = dict(uplink_commands(product))

    async def scenario(h: Harness) -> dict[str, Any]:
        state = good["DESCENT_STATE_SET"]
        assert await h.submit(h.command("DESCENT_STATE_SET", *positional(h, "DESCENT_STATE_SET", state))) == COMPLETED
        inside = {**state, "x_m": 1_000.0, "y_m": 0.0, "z_m": 0.0}  # 1 km from the Moon's centre
        bad_state = h.command("DESCENT_STATE_SET", *positional(h, "DESCENT_STATE_SET", inside))
        await h.submit(bad_state)
        segment = h.command("DESCENT_MAP_SEGMENT", 0, b"\x00\x00\x00\x00")  # no map begun
        await h.submit(segment)
        begin = {**good["DESCENT_MAP_BEGIN"], "points": 2, "crc32": 1234}
        assert await h.submit(h.command("DESCENT_MAP_BEGIN", *positional(h, "DESCENT_MAP_BEGIN", begin))) == COMPLETED
        wrong_crc = h.command("DESCENT_MAP_SEGMENT", 0, b"\x00" * 8)
        await h.submit(wrong_crc)
        frame = good["DESCENT_FRAME_SET"]
        assert await h.submit(h.command("DESCENT_FRAME_SET", *positional(h, "DESCENT_FRAME_SET", frame))) == COMPLETED
        not_unit = h.command("DESCENT_FRAME_SET", *positional(h, "DESCENT_FRAME_SET", {**frame, "pole_x": 0.0,
                                                                                        "pole_y": 0.5, "pole_z": 0.5}))
        await h.submit(not_unit)
        return {"state": h.reports(bad_state)[-1].code, "segment": h.reports(segment)[-1].code,
                "crc": h.reports(wrong_crc)[-1].code, "pole": h.reports(not_unit)[-1].code,
                "record": h.store.get(UPLINK_KEY)}

    seen = harness.run(scenario)
    assert seen["state"] == FailureCode.ARGUMENT_RANGE
    assert seen["segment"] == FailureCode.WRONG_STATE
    assert seen["crc"] == FailureCode.EXECUTION_FAILED
    assert seen["pole"] == FailureCode.ARGUMENT_RANGE
    assert seen["record"]["frame"]["pole"] == pytest.approx(list(world.plant.state.pole))  # the good frame kept
    assert seen["record"]["state"]["position_m"] == product["position_m"]  # the good state kept
    assert "map" not in seen["record"] and "map_pending" not in seen["record"]


def assert_refused_unlit(record: DescentRecord, code: FailureCode, reason: str) -> None:
    """The go failed with ``code``, a DESCENT_GO_REFUSED event said ``reason``, and the plant's own
    record shows the engine never lit."""
    assert record.go_verdict == code.name
    refused = [args["reason"] for name, args in record.events if name == "DESCENT_GO_REFUSED"]
    assert refused and reason in refused[0]
    assert record.ignitions == 0 and record.touchdown is None


def test_a_go_without_an_uplinked_state_is_refused_and_nothing_lights() -> None:
    record = fly(SEED, options=FlightOptions(uplink=False))
    assert_refused_unlit(record, FailureCode.NO_DESCENT_STATE, "no uplinked state, target, map")
    assert record.mission_states[-1] == "awaiting_descent_go"


def test_a_go_after_this_revolution_s_initiation_point_is_refused_with_the_reason() -> None:
    record = fly(SEED, options=FlightOptions(go_delay_s=60.0))
    assert_refused_unlit(record, FailureCode.PDI_WINDOW_CLOSED, "initiation is past")
    assert "PDI_PREDICTED" not in record.names()


def test_a_go_without_the_frame_is_refused_with_its_own_code_and_nothing_lights() -> None:
    # The uplink without DESCENT_FRAME_SET: flown, the Moon's turn would be left out and the landing
    # miss by hundreds of metres across the track, so the go is refused and says why.
    record = fly(SEED, options=FlightOptions(uplink_frame=False))
    assert_refused_unlit(record, FailureCode.NO_DESCENT_FRAME, "DESCENT_FRAME_SET")
    assert record.mission_states[-1] == "awaiting_descent_go"
    assert "PDI_PREDICTED" not in record.names() and "DESCENT_FRAME_MISSING" not in record.names()


def test_without_the_frame_an_autonomous_go_aborts_and_a_waived_one_flies_with_a_warning(tmp_path: Path) -> None:
    world = LanderWorld(SEED)
    harness, gnc = vehicle(tmp_path / "store.sqlite", world)
    commands = [(name, args) for name, args in uplink_commands(orbit_determination(world.plant).to_dict())
                if name != "DESCENT_FRAME_SET"]

    async def scenario(h: Harness) -> dict[str, Any]:
        for name, args in commands:
            assert await h.submit(h.command(name, *positional(h, name, args))) == COMPLETED, name
        outcomes: list[str] = []
        seen: dict[str, Any] = {"ready": gnc.housekeeping()["gnc_uplink_ready"]}
        gnc.descent_driver.begin(outcomes.append, False)  # auto_go's path: no ground go checked it
        await h.clock.sleep(0.5)
        seen["required"] = (list(outcomes), gnc.descent is not None, [name for name, _ in h.events()])
        h.vehicle.parameters.set("gnc_descent_frame_required", False)  # the ground's deliberate choice
        seen["waived_ready"] = gnc.housekeeping()["gnc_uplink_ready"]
        gnc.descent_driver.begin(outcomes.append, False)
        await h.clock.sleep(0.5)
        seen["waived"] = (list(outcomes), gnc.descent is not None, [name for name, _ in h.events()])
        return seen

    seen = harness.run(scenario)
    assert seen["ready"] is False and seen["waived_ready"] is True
    outcomes, flying, names = seen["required"]
    assert outcomes == ["aborted"] and not flying
    assert "DESCENT_GO_REFUSED" in names and "DESCENT_FRAME_MISSING" not in names
    outcomes, flying, names = seen["waived"]
    assert outcomes == ["aborted"] and flying  # nothing more reported: the descent is under way
    assert names.count("DESCENT_FRAME_MISSING") == 1 and names.count("DESCENT_GO_REFUSED") == 1
