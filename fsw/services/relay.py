"""The lander's relay for the rover: ground TCs for the rover's APID go out on the proximity radio,
the rover's TM comes back down the ground link.

The ground link's intake hands a packet for another APID to topic ``relay_uplink_<APID>``; a packet
for an APID no relay serves is refused there as before (UNKNOWN_APID). Rover packets are
relayed as they are: the rover authenticates its own TCs end to end, the lander only checks that a
packet is whole (its CRC) before it spends the radio on it. Rover TM goes to topic
``relay_downlink``, which the ground link sends; that pipe is bounded and counts what it drops.
The rover queues its own TM while the radio has no lock (see :mod:`fsw.rover.proximity`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fsw.core.bus import Subscription
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.link import LinkClosedError, SerialLink
from fsw.protocol.crc import crc16
from fsw.protocol.packet import SpacePacketHeader

RELAY_UPLINK_TOPIC = "relay_uplink_{apid}"  # one topic per relayed APID
RELAY_DOWNLINK_TOPIC = "relay_downlink"
RELAY_DEPTH = 1024  # packets either way [est.: minutes of rover housekeeping]


class RoverRelay(Component):
    name = "relay"
    hk_structure = 66
    hk_quiet_in_flight = True
    telemetry = (
        TelemetryDef("relay_apid", "u16", "", "APID relayed to the rover"),
        TelemetryDef("relay_link_connected", "bool", "", "proximity radio port open"),
        TelemetryDef("relay_tc_forwarded", "u32", "", "ground TCs sent on to the rover"),
        TelemetryDef("relay_tc_refused", "u32", "", "packets for the rover refused (broken: bad CRC)"),
        TelemetryDef("relay_tm_forwarded", "u32", "", "rover packets sent down to the ground"),
        TelemetryDef("relay_tm_refused", "u32", "", "packets from the radio refused (broken, or another APID)"),
        TelemetryDef("relay_dropped", "u32", "", "packets dropped on a full relay pipe", yellow=Limits(high=0)),
    )
    events = (EventDef(0x6100, "RELAY_LINK", Severity.MEDIUM, "proximity radio to the rover {state}: {detail}"),)

    def __init__(self, ctx: Context, link: SerialLink, apid: int) -> None:
        super().__init__(ctx)
        self.link = link
        self.apid = apid
        self.tc_forwarded = self.tc_refused = self.tm_forwarded = self.tm_refused = self.tm_dropped = 0
        self._uplink: Subscription = ctx.bus.subscribe(RELAY_UPLINK_TOPIC.format(apid=apid), depth=RELAY_DEPTH)
        self._tasks: list[asyncio.Task[None]] = []

    def on_link_state(self, state: str, detail: str) -> None:
        self.emit("RELAY_LINK", state=state, detail=detail)

    async def start(self) -> None:
        await self.link.open_with_retry()
        self._tasks = [self.ctx.tasks.spawn("relay_uplink", self._forward_up),
                       self.ctx.tasks.spawn("relay_downlink", self._forward_down)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.link.close()

    async def _forward_up(self) -> None:
        while True:
            apid, raw = await self._uplink.get()
            if apid != self.apid or len(raw) < 8 or crc16(raw) != 0:
                self.tc_refused += 1
                continue
            with contextlib.suppress(LinkClosedError):
                self.link.send(raw)
                self.tc_forwarded += 1

    async def _forward_down(self) -> None:
        while True:
            try:
                raw, _ = await self.link.receive()
            except LinkClosedError:
                await self.link.wait_connected()
                continue
            if len(raw) < 8 or crc16(raw) != 0 or SpacePacketHeader.unpack(raw).apid != self.apid:
                self.tm_refused += 1
                continue
            if self.ctx.bus.publish(RELAY_DOWNLINK_TOPIC, raw):
                self.tm_forwarded += 1
            else:  # the ground link's pipe is full (or there is no ground link)
                self.tm_dropped += 1

    def housekeeping(self) -> dict[str, Any]:
        return {"relay_apid": self.apid, "relay_link_connected": self.link.connected,
                "relay_tc_forwarded": self.tc_forwarded, "relay_tc_refused": self.tc_refused,
                "relay_tm_forwarded": self.tm_forwarded, "relay_tm_refused": self.tm_refused,
                "relay_dropped": self._uplink.dropped + self.tm_dropped}
