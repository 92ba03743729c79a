"""PUS 12 on-board parameter monitoring, in process on the afap clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cbor2
from spacepackets.ecss import PusTc as SpTc
from spacepackets.ecss import PusTm as SpTm

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import Limits, TelemetryDef
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.services.monitoring import DEFAULT_ID_BASE, STORE_KEY, MonitoringService
from fsw.services.pmon_checks import Check
from tests.fsw.harness import Harness

OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


class Probe(Component):
    """A component with points the test sets."""

    name = "probe"
    hk_structure = 90
    telemetry = (
        TelemetryDef("probe_temp", "f64", "degC", "settable test point", yellow=Limits(high=40.0),
                     red=Limits(-20.0, 80.0)),
        TelemetryDef("probe_word", "u16", "", "settable status word"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.temp = 20.0
        self.word = 0x0F

    def housekeeping(self) -> dict[str, Any]:
        return {"probe_temp": self.temp, "probe_word": self.word}


def harness(path: Path) -> tuple[Harness, Probe]:
    h = Harness(path)
    probe = Probe(h.vehicle.ctx)
    h.vehicle.add(probe)
    return h, probe


def failure(h: Harness, tc: PusTc) -> int | None:
    failures = [r for r in h.reports(tc) if not r.ok]
    return failures[0].code if failures else None


def reports(h: Harness, service: int, subtype: int) -> list[Any]:
    return [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (service, subtype)]


def limit(pmon: int, point: str = "probe_temp", low: float | None = None, high: float | None = 50.0,
          repetition: int = 3) -> list[Any]:
    return [pmon, point, 1.0, repetition, ["limit", low, high]]


def test_checks_classify_as_ecss_names_them() -> None:
    check = Check.parse(["limit", -1.0, 1.0])
    assert [check.evaluate(v, None) for v in (-2, 0, 2, "x")] == [
        "BELOW_LOW_LIMIT", "WITHIN_LIMITS", "ABOVE_HIGH_LIMIT", "INVALID"]
    masked = Check.parse(["expected", 0x03, 0x0F])
    assert [masked.evaluate(v, None) for v in (0xF3, 0x04, "x")] == ["EXPECTED_VALUE", "UNEXPECTED_VALUE", "INVALID"]
    assert Check.parse(["expected", "NOMINAL", None]).evaluate("SAFE", None) == "UNEXPECTED_VALUE"
    delta = Check.parse(["delta", -0.5, 0.5])
    assert delta.evaluate(3.0, None) is None
    assert [delta.evaluate(v, 3.0) for v in (3.2, 2.0, 4.0)] == [
        "WITHIN_THRESHOLDS", "BELOW_LOW_THRESHOLD", "ABOVE_HIGH_THRESHOLD"]


def test_defaults_from_dictionary_limits(tmp_path: Path) -> None:
    h, _ = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(0.1)
        monitor = h.vehicle.monitoring
        probe = [d for d in monitor.definitions.values() if d.point == "probe_temp"]
        assert [(d.check.to_cbor(), d.enabled) for d in probe] == [
            (["limit", -20.0, 80.0], True), (["limit", None, 40.0], False)]
        assert all(d.pmon >= DEFAULT_ID_BASE for d in monitor.definitions.values())
        assert any(d.point == "tasks_stalled" and d.enabled for d in monitor.definitions.values())
        await h.clock.sleep(5.0)
        # Nominal values: the enabled defaults left UNCHECKED for WITHIN_LIMITS, and said so in 12,12.
        assert all(d.state == "WITHIN_LIMITS" for d in probe if d.enabled)
        transitions = [t for report in reports(h, 12, 12) for t in report]
        assert [t[5] for t in transitions if t[1] == "probe_temp"] == ["WITHIN_LIMITS"]
        assert "MONITOR_VIOLATION" not in [name for name, _ in h.events()]

    h.run(scenario)


def test_definitions_listed_and_changed_by_an_outside_ground(tmp_path: Path) -> None:
    """spacepackets builds the requests and parses the reports: the ECSS subtypes, CBOR data."""
    h, _ = harness(tmp_path / "s.db")
    sequence = iter(range(1, 100))

    async def send(service: int, subtype: int, data: Any = None) -> tuple[PusTc, list[str]]:
        raw = SpTc(service=service, message_subtype=subtype, apid=100, seq_count=next(sequence),
                   app_data=b"" if data is None else cbor2.dumps(data)).pack()
        tc = PusTc.unpack(bytes(raw))
        return tc, await h.submit(tc)

    def listed(subtype: int) -> Any:
        tms = [SpTm.unpack(raw, timestamp_len=7) for raw in h.packets]
        tm = next(tm for tm in reversed(tms) if (tm.service, tm.message_subtype) == (12, subtype))
        return cbor2.loads(tm.source_data)

    async def scenario(h: Harness) -> None:
        assert (await send(12, 5, [limit(1), [2, "probe_word", 2.0, 1, ["expected", 0x0F, 0xFF]]]))[1] == OK_STAGES
        assert (await send(12, 8, [1, 2]))[1] == OK_STAGES
        assert listed(9) == [1.0, [[1, "probe_temp", 1.0, 3, ["limit", None, 50.0], False],
                                   [2, "probe_word", 2.0, 1, ["expected", 15, 255], False]]]
        assert (await send(12, 1, [1]))[1] == OK_STAGES
        assert (await send(12, 7, [limit(1, high=60.0, repetition=2)]))[1] == OK_STAGES
        assert (await send(12, 3, 0.5))[1] == OK_STAGES
        assert (await send(12, 8))[1] == OK_STAGES
        definitions = {item[0]: item for item in listed(9)[1]}
        assert listed(9)[0] == 0.5
        assert definitions[1] == [1, "probe_temp", 1.0, 2, ["limit", None, 60.0], True]  # still enabled
        await h.clock.sleep(3.0)
        assert (await send(12, 13))[1] == OK_STAGES
        status = {pmon: (enabled, state) for pmon, enabled, state in listed(14)}
        assert status[1] == (True, "WITHIN_LIMITS") and status[2] == (False, "UNCHECKED")
        # Rejections, each with its failure code.
        for data, subtype, code in (
            ([limit(1)], 5, FailureCode.DEFINITION_EXISTS),
            ([limit(3, point="no_such_point")], 5, FailureCode.UNKNOWN_POINT),
            ([[3, "probe_temp", 1.0, 0, ["limit", None, 1.0]]], 5, FailureCode.ARGUMENT_RANGE),
            ([[3, "probe_temp", 1.0, 1, ["limit", 2.0, 1.0]]], 5, FailureCode.ARGUMENT_RANGE),
            ([1], 6, FailureCode.DEFINITION_ENABLED),
            ([9], 1, FailureCode.UNKNOWN_DEFINITION),
            ([limit(2)], 7, FailureCode.BAD_ARGUMENT),  # a modification keeps the point
            (-1.0, 3, FailureCode.ARGUMENT_RANGE),
        ):
            tc, stages = await send(12, subtype, data)
            assert stages == ["ACCEPTANCE_FAILED"] and failure(h, tc) == code, (data, subtype)
        assert (await send(12, 6, [2]))[1] == OK_STAGES
        assert 2 not in h.vehicle.monitoring.definitions
        assert (await send(12, 16))[1] == OK_STAGES
        assert h.vehicle.monitoring.definitions[1].state == "UNCHECKED"
        assert (await send(12, 15))[1] == OK_STAGES
        assert (await send(12, 4))[1] == OK_STAGES
        assert h.vehicle.monitoring.definitions == {}

    h.run(scenario)


def test_repetition_transition_report_and_event(tmp_path: Path) -> None:
    h, probe = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        assert await h.submit(h.tc(12, 5, [limit(1, low=-10.0, high=50.0)])) == OK_STAGES
        assert await h.submit(h.tc(12, 1, [1])) == OK_STAGES
        await h.clock.sleep(4.0)
        assert h.vehicle.monitoring.definitions[1].state == "WITHIN_LIMITS"
        # Two samples out of limits: fewer than the repetition number, no transition.
        probe.temp = 60.0
        await h.clock.sleep(2.0)
        probe.temp = 20.0
        await h.clock.sleep(4.0)
        assert h.vehicle.monitoring.definitions[1].state == "WITHIN_LIMITS"
        assert "MONITOR_VIOLATION" not in [name for name, _ in h.events()]
        probe.temp = 60.0
        await h.clock.sleep(5.0)
        violations = [args for name, args in h.events() if name == "MONITOR_VIOLATION" and args["pmon"] == 1]
        assert violations == [{"pmon": 1, "point": "probe_temp", "old": "WITHIN_LIMITS", "new": "ABOVE_HIGH_LIMIT",
                               "value": 60.0}]
        transitions = [t for report in reports(h, 12, 12) for t in report if t[0] == 1]
        assert [t[1:6] for t in transitions][-1] == ["probe_temp", 60.0, 50.0, "WITHIN_LIMITS", "ABOVE_HIGH_LIMIT"]
        probe.temp = -30.0
        await h.clock.sleep(5.0)
        assert h.vehicle.monitoring.definitions[1].state == "BELOW_LOW_LIMIT"
        probe.temp = 0.0
        await h.clock.sleep(5.0)
        recovered = [args["new"] for name, args in h.events() if name == "MONITOR_RECOVERED" and args["pmon"] == 1]
        assert recovered == ["WITHIN_LIMITS"]
        assert h.vehicle.monitoring.housekeeping()["pmon_violations"] == 0

    h.run(scenario)


def test_stale_point_becomes_invalid(tmp_path: Path) -> None:
    h, _ = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.submit(h.tc(12, 5, [limit(1, repetition=1)]))
        await h.submit(h.tc(12, 1, [1]))
        await h.clock.sleep(2.0)
        assert await h.submit(h.tc(3, 6, [90])) == OK_STAGES  # the probe's reports stop
        await h.clock.sleep(40.0)
        assert h.vehicle.monitoring.definitions[1].state == "INVALID"

    h.run(scenario)


def test_definitions_survive_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    first, _ = harness(store)

    async def before(h: Harness) -> None:
        await h.submit(h.tc(12, 5, [limit(1), limit(2, high=70.0)]))
        await h.submit(h.tc(12, 1, [1]))
        default = next(d.pmon for d in h.vehicle.monitoring.definitions.values() if d.point == "probe_temp")
        await h.submit(h.tc(12, 2, [default]))
        await h.submit(h.tc(12, 6, [default]))  # a deleted default stays deleted
        await h.submit(h.tc(12, 3, 2.5))

    first.run(before)
    first.store.close()
    second, _ = harness(store)

    async def after(h: Harness) -> None:
        monitor: MonitoringService = h.vehicle.monitoring
        await h.clock.sleep(0.1)
        assert {pmon: d.enabled for pmon, d in monitor.definitions.items() if pmon < DEFAULT_ID_BASE} == {
            1: True, 2: False}
        assert [d.check.to_cbor() for d in monitor.definitions.values() if d.point == "probe_temp"
                and d.pmon >= DEFAULT_ID_BASE] == [["limit", None, 40.0]]
        assert monitor.max_delay == 2.5
        assert "probe_temp" in h.store.get(STORE_KEY)["seeded"]

    second.run(after)
