from pathlib import Path
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import TelemetryDef
from fsw.core.errors import NotAvailable
from fsw.protocol.errors import FailureCode
from tests.fsw.harness import Harness


def test_housekeeping_flows_from_boot_without_being_asked(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(10.01)
        reports = h.hk(1)
        assert len(reports) == 11  # t = 0, 1, ..., 10 s
        assert reports[-1]["mode"] == "SAFE"
        assert reports[-1]["uptime_s"] >= 10.0
        assert reports[-1]["fast_cycles"] >= 500
        declared = {p.name for p in h.vehicle.dictionary.telemetry if p.structure == 1}
        assert set(reports[-1]) == declared

    h.run(scenario)


def test_enable_disable_one_shot_and_period(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(0.5)
        assert await h.submit(h.tc(3, 6, [1])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        before = len(h.hk(1))
        await h.clock.sleep(5)
        assert len(h.hk(1)) == before
        await h.submit(h.tc(3, 27, [1]))
        assert len(h.hk(1)) == before + 1
        await h.submit(h.tc(3, 31, [[1, 0.5]]))
        await h.submit(h.tc(3, 5, [1]))
        start = len(h.hk(1))
        await h.clock.sleep(5.0)
        assert len(h.hk(1)) - start in (10, 11)
        for bad, code in (([99], FailureCode.UNKNOWN_STRUCTURE), ("x", FailureCode.BAD_ARGUMENT)):
            tc = h.tc(3, 5, bad)
            assert await h.submit(tc) == ["ACCEPTANCE_FAILED"]
            assert h.reports(tc)[0].code == code
        tc = h.tc(3, 31, [[1, 0.0]])
        assert await h.submit(tc) == ["ACCEPTANCE_FAILED"]
        assert h.reports(tc)[0].code == FailureCode.ARGUMENT_RANGE

    h.run(scenario)


class Unread(Component):
    """A device not read yet in this phase (the ascent engine before ascent), then one that breaks."""

    name = "unread"
    hk_structure = 91
    telemetry = (TelemetryDef("unread_thrust_n", "f32", "N", "a measured thrust"),)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.error: Exception = NotAvailable("no reading of engine.read yet")

    def housekeeping(self) -> dict[str, Any]:
        raise self.error


def test_a_device_not_read_yet_is_reported_not_available_quietly_a_broken_one_is_an_event(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    unread = Unread(h.vehicle.ctx)
    h.vehicle.add(unread)

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(2.01)
        assert h.hk(91)[-1] == {"unread_thrust_n": None}
        assert "HK_REPORT_FAILED" not in [name for name, _ in h.events()]
        unread.error = ZeroDivisionError("broken")
        await h.clock.sleep(2.01)
        failed = [args for name, args in h.events() if name == "HK_REPORT_FAILED"]
        assert len(failed) == 1 and failed[0]["sid"] == 91

    h.run(scenario)


class IdleInFlight(Component):
    """A surface instrument: nothing to watch while the vehicle flies under power."""

    name = "idle_in_flight"
    hk_structure = 92
    hk_quiet_in_flight = True
    telemetry = (TelemetryDef("idle_counter", "u32", "", "a counter"),)

    def housekeeping(self) -> dict[str, Any]:
        return {"idle_counter": 0}


def reports_over(h: Harness, sid: int, seconds: float) -> Any:
    async def count() -> int:
        before = len(h.hk(sid))
        await h.clock.sleep(seconds)
        return len(h.hk(sid)) - before
    return count()


def test_in_powered_flight_the_structures_idle_in_flight_report_every_ten_seconds(tmp_path: Path) -> None:
    from fsw.services.housekeeping import POWERED_FLIGHT_TOPIC

    h = Harness(tmp_path / "s.db")
    h.vehicle.add(IdleInFlight(h.vehicle.ctx))
    quiet_period = h.vehicle.parameters.by_name["hk_flight_quiet_period_s"].id

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(0.5)
        assert await reports_over(h, 92, 10.0) == 10  # 1 s on the ground
        h.vehicle.ctx.bus.publish(POWERED_FLIGHT_TOPIC, True)
        await h.clock.sleep(1.0)  # the report due in this second is the last at 1 s
        assert await reports_over(h, 92, 30.0) == 3
        assert await reports_over(h, 1, 10.0) == 10  # the executive's structure keeps its period
        assert [args["state"] for name, args in h.events() if name == "HK_FLIGHT_QUIET"] == ["begun"]
        # Negative control: the parameter at 0 leaves every structure at its own period.
        assert await h.submit(h.tc(20, 3, [[quiet_period, 0.0]])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        await h.clock.sleep(10.0)  # the report already planned 10 s on
        assert await reports_over(h, 92, 10.0) == 10
        assert await h.submit(h.tc(20, 3, [[quiet_period, 10.0]])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        h.vehicle.ctx.bus.publish(POWERED_FLIGHT_TOPIC, False)
        await h.clock.sleep(1.5)  # the end of the flight is followed at the next report of any structure
        assert await reports_over(h, 92, 10.0) == 10
        assert [args["state"] for name, args in h.events() if name == "HK_FLIGHT_QUIET"] == ["begun", "ended"]

    h.run(scenario)
