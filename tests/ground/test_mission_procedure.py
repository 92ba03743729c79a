"""The mission procedure against a stand-in vehicle: which commands it sends at the surface, and in
what order, when the lander's time stands still only until the sampling's go."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import ground.procedures.mission as mission
from ground.procedure import ProcedureFailed
from ground.telemetry import Received

ARM_WINDOW_S = 10.0  # flight seconds a critical command stays armed (the dispatcher's window)
DRILLING_S = 100.0  # flight seconds the lander's time runs on once the sampling's go has come


class StandInVehicle:
    """Answers the procedure as the lander does, in flight time only: the surface begins with the
    sampling's go point holding time still (ground_hold); once GO_SAMPLING is in, the drilling runs
    and time moves on before the ground's next command arrives. A critical command is armed and then
    fired by two commands: the fire finds the arm expired if flight time moved past its window."""

    def __init__(self) -> None:
        self.flight_s = 930.0
        self.held = True
        self.sent: list[str] = []
        self.refused: list[str] = []
        self.listener: Any = None
        self.session = SimpleNamespace(
            add_listener=self._listen, dictionary=SimpleNamespace(parameter=lambda name: SimpleNamespace(id=1),
                                                                  apid=100, structures={}),
            request=self._request, last_verification_onboard=None, wait_for_packet=self._wait)

    def _listen(self, listener: Any) -> None:
        self.listener = listener

    async def _request(self, *args: Any) -> Any:
        return SimpleNamespace(ok=True)

    async def _wait(self, timeout: float) -> None:
        await asyncio.sleep(0)

    def transition(self, machine: str, source: str, dest: str) -> None:
        decoded = {"name": "MISSION_TRANSITION", "severity": "INFO",
                   "args": {"machine": machine, "source": source, "dest": dest}}
        self.listener(Received(time.time(), b"", "event", decoded=decoded))

    # --- the Procedure's side --------------------------------------------------------------------
    def log(self, message: str) -> None:
        pass

    def check(self, condition: bool, what: str) -> None:
        if not condition:
            raise ProcedureFailed(what)

    async def ping(self) -> float:
        return 0.0

    async def send(self, name: str, **args: Any) -> Any:
        self.sent.append(name)
        armed_at = self.flight_s  # the arm's completion
        await asyncio.sleep(0)  # the ground's round trip to the fire
        if not self.held:
            self.flight_s += DRILLING_S
        if self.flight_s - armed_at > ARM_WINDOW_S:
            self.refused.append(name)
            raise ProcedureFailed(f"{name}: rejected at acceptance: NOT_ARMED")
        if name == "GO_SAMPLING":
            self.held = False
        return SimpleNamespace(ok=True)


async def fly_surface(vehicle: StandInVehicle, monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str | None]:
    deployed: list[str | None] = []

    async def drive(p: Any, refused: str | None) -> dict[str, Any]:
        deployed.append(refused)
        return {}

    monkeypatch.setattr(mission, "ROVER_DICTIONARY", "rover-dictionary.json")
    monkeypatch.setattr(mission, "OD_PRODUCT", None)
    monkeypatch.setattr(mission, "drive_rover", drive)
    monkeypatch.setenv("ILRS_MISSION_GROUND_JSON", str(folder / "mission-ground.json"))  # its summary
    flying = asyncio.ensure_future(mission.procedure(vehicle))  # type: ignore[arg-type]
    while vehicle.listener is None or "MODE_SET" not in vehicle.sent:
        await asyncio.sleep(0)
    for _ in range(10):  # the procedure reaches its wait for transitions
        await asyncio.sleep(0)
    vehicle.transition("mission", "powered_descent", "surface_operations")
    vehicle.transition("sampling", "idle", "awaiting_go")
    while "GO_SAMPLING" not in vehicle.sent:
        await asyncio.sleep(0)
    vehicle.transition("mission", "surface_operations", "complete")
    await flying
    return deployed


def test_the_rover_is_deployed_while_the_lander_waits_for_the_sampling_go(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    vehicle = StandInVehicle()
    deployed = asyncio.run(fly_surface(vehicle, monkeypatch, tmp_path))
    assert vehicle.sent.index("ROVER_DEPLOY") < vehicle.sent.index("GO_SAMPLING")
    assert vehicle.refused == [] and deployed == [None]
    assert (tmp_path / "mission-ground.json").exists()


def test_a_deploy_sent_after_the_sampling_go_finds_its_arm_expired() -> None:
    # The hazard the order avoids, on the same stand-in: once the drilling runs, the fire is refused.
    vehicle = StandInVehicle()

    async def late_deploy() -> None:
        await vehicle.send("GO_SAMPLING")
        with pytest.raises(ProcedureFailed, match="NOT_ARMED"):
            await vehicle.send("ROVER_DEPLOY")

    asyncio.run(late_deploy())
    assert vehicle.refused == ["ROVER_DEPLOY"]
