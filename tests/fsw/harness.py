"""An in-process vehicle (executive and standard services) on the afap clock, telemetry captured, for tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.clock import run as run_on_clock
from fsw.core.store import Store
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc, PusTm, SequenceCounters
from fsw.protocol.security import KeyRing
from fsw.protocol.verification import VerificationReport
from fsw.vehicle import core_vehicle


class Harness:
    def __init__(self, store_path: Path, mode: str = "afap", keys: KeyRing | None = None) -> None:
        self.clock = Clock(mode)
        self.store = Store(store_path)
        self.vehicle = core_vehicle(self.clock, self.store, keys=keys)
        self.packets: list[bytes] = []
        self.vehicle.ctx.telemetry.add_sink(self.packets.append)
        self.sequence = SequenceCounters()
        self.sent: list[PusTc] = []  # every TC submitted, in order

    # --- telemetry views -----------------------------------------------------------------------
    @property
    def tm(self) -> list[PusTm]:
        return [PusTm.unpack(raw) for raw in self.packets]

    def reports(self, tc: PusTc) -> list[VerificationReport]:
        found = []
        for tm in self.tm:
            if tm.service == 1:
                report = VerificationReport.unpack(tm.subtype, tm.source_data)
                if report.request_id == tc.request_id:
                    found.append(report)
        return found

    def stages(self, tc: PusTc) -> list[str]:
        return [report.subtype.name for report in self.reports(tc)]

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        decode = self.vehicle.events.decode_report
        return [event for raw in self.packets if (event := decode(raw)) is not None]

    def hk(self, sid: int) -> list[dict[str, Any]]:
        return [
            values for tm in self.tm if (tm.service, tm.subtype) == (3, 25)
            for structure, values in [appdata.decode(tm.source_data)] if structure == sid
        ]

    # --- commanding ----------------------------------------------------------------------------
    def tc(self, service: int, subtype: int, data: Any = None, *, raw: bytes | None = None,
           ack: int = ACK_ALL, apid: int | None = None) -> PusTc:
        app_data = raw if raw is not None else (b"" if data is None else appdata.encode(data))
        apid = self.vehicle.apid if apid is None else apid
        return PusTc(apid, service, subtype, app_data, self.sequence.next(apid), ack)

    def command(self, name: str, *args: Any, ack: int = ACK_ALL) -> PusTc:
        opcode = self.vehicle.dispatcher.commands_by_name[name].opcode
        return self.tc(8, 1, [opcode, *args], ack=ack)

    async def nominal(self) -> None:
        """Leave SAFE as the ground does (mission-advancing commands are refused in SAFE)."""
        assert await self.submit(self.command("MODE_SET", "NOMINAL")) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]

    async def fire(self, name: str, *args: Any, settle_s: float = 0.1) -> list[str]:
        """Send a command as the ground console does: a critical one is armed first. The fire's stages."""
        definition = self.vehicle.dispatcher.commands_by_name[name]
        if definition.critical:
            arm = await self.submit(self.command("ARM", definition.opcode))
            assert arm == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"], arm
        return await self.submit(self.command(name, *args), settle_s)

    def run(self, scenario: Callable[[Harness], Awaitable[Any]], *, start: bool = True) -> Any:
        async def main() -> Any:
            if start:
                await self.vehicle.start()
            try:
                return await scenario(self)
            finally:
                await self.vehicle.stop("test over")

        return run_on_clock(main(), self.clock)

    async def submit(self, tc: PusTc, settle_s: float = 0.1) -> list[str]:
        self.sent.append(tc)
        self.vehicle.dispatcher.submit(tc)
        await self.clock.sleep(settle_s)
        return self.stages(tc)
