"""The rover's link to the lander: TC intake (authenticated as on the lander) and TM out over the UHF
proximity radio, held in a bounded queue while the radio has no carrier lock, and fed to the link
only while the link's own backlog is under half full (that one gives its oldest up when full).

Nothing is lost up to the queue's depth: packets wait in order and go out as soon as the receiver
locks again; beyond the depth the newest are dropped and counted (``prox_tm_dropped``). Contact
changes go on the software bus (topic ``rover_contact``) for the traverse.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.core.errors import NotAvailable
from fsw.devices.rover import ProximityRadio
from fsw.link import LinkClosedError, SerialLink
from fsw.rover.traverse import CONTACT_TOPIC
from fsw.services.linkmon import LinkMonitor

TM_QUEUE_DEPTH = 4096  # packets [est.: a few hours of housekeeping at the rover's rates]


class ProximityLink(LinkMonitor):
    name = "prox"
    hk_structure = 64
    hk_period_s = 5.0
    telemetry: ClassVar[tuple[TelemetryDef, ...]] = (  # type: ignore[assignment]
        *LinkMonitor.telemetry,
        TelemetryDef("prox_locked", "bool", "", "proximity receiver locked on the lander's carrier"),
        TelemetryDef("prox_rssi_dbm", "f32", "dBm", "received signal strength"),
        TelemetryDef("prox_tm_queued", "u32", "", "telemetry packets waiting for the link"),
        TelemetryDef("prox_tm_queued_max", "u32", "", "most packets ever waiting"),
        TelemetryDef("prox_tm_dropped", "u32", "", "telemetry packets dropped on a full queue", yellow=Limits(high=0)),
        TelemetryDef("prox_outages", "u16", "", "losses of lock since boot"),
    )
    events: ClassVar[tuple[EventDef, ...]] = (  # type: ignore[assignment]
        *LinkMonitor.events,
        EventDef(0x6040, "PROX_LINK", Severity.MEDIUM, "proximity link {state}: {queued} packets waiting, "
                                                       "{dropped} dropped so far"),
    )

    def __init__(self, ctx: Context, link: SerialLink, radio: ProximityRadio) -> None:
        self.radio = radio
        self.queue: deque[bytes] = deque()
        self.dropped = 0
        self.queued_max = 0
        self.outages = 0
        self.locked = False  # no lock until the radio says so: boot events wait in the queue
        self.rssi = -140.0
        self._high_water = link.max_backlog_octets // 2
        super().__init__(ctx, link)

    async def start(self) -> None:
        await super().start()
        self.ctx.rate_groups["fast"].add(self.poll_radio)
        self.ctx.rate_groups["slow"].add(self._poll_if_dormant)

    def _poll_if_dormant(self) -> None:
        if self.ctx.dormancy.dormant:
            self.poll_radio()

    def poll_radio(self) -> None:
        try:
            status = self.radio.read()
        except NotAvailable:
            return
        locked = status.valid and status.locked
        self.rssi = status.rssi_dbm
        if locked != self.locked:
            self.locked = locked
            if not locked:
                self.outages += 1
            self.ctx.bus.publish(CONTACT_TOPIC, locked)
            self.emit("PROX_LINK", state="locked" if locked else "lost", queued=len(self.queue), dropped=self.dropped)
        if self.locked:
            self._flush()

    def _send(self, packet: bytes) -> None:
        if self.locked and not self.queue and self.link.backlog_octets < self._high_water:
            super()._send(packet)
            return
        if len(self.queue) >= TM_QUEUE_DEPTH:
            self.dropped += 1
            return
        self.queue.append(packet)
        self.queued_max = max(self.queued_max, len(self.queue))

    def _flush(self) -> None:
        # What the radio has not taken stays in this queue, not in the link's: the link's backlog
        # gives the oldest up when full, and after an outage the queue's hours must all come down.
        while self.queue and self.link.backlog_octets < self._high_water:
            try:
                self.link.send(self.queue[0])
            except LinkClosedError:
                return
            self.queue.popleft()

    def housekeeping(self) -> dict[str, Any]:
        return {**super().housekeeping(), "prox_locked": self.locked, "prox_rssi_dbm": self.rssi,
                "prox_tm_queued": len(self.queue), "prox_tm_queued_max": self.queued_max,
                "prox_tm_dropped": self.dropped, "prox_outages": self.outages}
