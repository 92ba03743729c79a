"""The ground link as seen from the executive: TC intake, TM output, link housekeeping (structure 2).

Every octet from the link is untrusted. A frame that does not decode is counted; a packet that
decodes but is wrong (bad CRC, wrong version, oversize, ...) is counted and reported by an event;
one whose header and CRC are sound but whose content is wrong (unknown PUS version, not a TC) also
gets a 1,2 tied to its request id. A TC with a bad CRC is never executed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.link import LinkClosedError, SerialLink
from fsw.protocol.crc import crc16
from fsw.protocol.errors import FailureCode, PacketError
from fsw.protocol.packet import PusTc, SpacePacketHeader
from fsw.protocol.security import SecurityError, Verified, verify
from fsw.services.relay import RELAY_DEPTH, RELAY_DOWNLINK_TOPIC, RELAY_UPLINK_TOPIC

SEQUENCE_STORE_KEY = "sdls_last_sequence"
EVENT_INTERVAL_S = 1.0  # at most one rejection event per reason per second: garbage must not flood
SHED_EVENT_INTERVAL_S = 10.0  # a ground that stops reading for hours: one event each 10 s while it lasts


class LinkMonitor(Component):
    name = "link"
    hk_structure = 2
    telemetry = (
        TelemetryDef("link_connected", "bool", "", "ground link device open"),
        TelemetryDef("link_octets_in", "u32", "octet", "octets received"),
        TelemetryDef("link_octets_out", "u32", "octet", "octets the device has taken"),
        TelemetryDef("link_packets_in", "u32", "", "frames deframed"),
        TelemetryDef("link_packets_out", "u32", "", "packets queued for the device (those given up included)"),
        TelemetryDef("link_frames_rejected", "u32", "", "frames that did not decode (COBS) or were oversize"),
        TelemetryDef("link_packets_rejected", "u32", "", "packets rejected by the codec (CRC, length, version...)"),
        TelemetryDef("link_bad_crc", "u32", "", "packets with a bad CRC (never executed)"),
        TelemetryDef("link_reconnects", "u16", "", "times the device came back after a loss"),
        TelemetryDef("link_receive_overflows", "u32", "", "packets dropped because intake fell behind"),
        TelemetryDef("link_output_backlog", "u32", "octet",
                     "octets queued for the device, not yet taken (the far end reads slowly, or the device is gone)"),
        TelemetryDef("link_output_dropped", "u32", "",
                     "queued packets given up, oldest first, when the output backlog was full", yellow=Limits(high=0)),
        TelemetryDef("link_auth_rejected", "u32", "", "TCs refused by authentication (SPI, MAC, replay)",
                     yellow=Limits(high=0)),
        TelemetryDef("link_uplink_silence_s", "f64", "s",
                     "time since the last TC from the ground (retransmissions count; since boot if none)"),
    )
    events = (
        EventDef(0x0501, "PACKET_REJECTED", Severity.LOW, "packet rejected: {reason} ({count} so far)"),
        EventDef(0x0502, "LINK_STATE", Severity.MEDIUM, "ground link {state}: {detail}"),
        EventDef(0x0503, "OUTPUT_SHED", Severity.MEDIUM,
                 "ground link output backlog full ({backlog} octets): oldest packets given up, {dropped} so far"),
    )

    def __init__(self, ctx: Context, link: SerialLink) -> None:
        super().__init__(ctx)
        self.link = link
        self.packet_rejections: Counter[str] = Counter()
        self.security_rejections: Counter[str] = Counter()
        self._last_event: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._relayed_task: asyncio.Task[None] | None = None
        self._relayed = ctx.bus.subscribe(RELAY_DOWNLINK_TOPIC, depth=RELAY_DEPTH)
        self.last_uplink = self.clock.monotonic()  # a contact measure for PUS 12 (loss of the ground)
        # Connected at once, so that the boot events queue on the link rather than vanish.
        ctx.telemetry.add_sink(self._send)

    def on_link_state(self, state: str, detail: str) -> None:
        self.emit("LINK_STATE", state=state, detail=detail)

    async def start(self) -> None:
        self.last_uplink = self.clock.monotonic()
        self._task = self.ctx.tasks.spawn("tc_intake", self._intake)
        self._relayed_task = self.ctx.tasks.spawn("relay_down", self._send_relayed)

    async def stop(self) -> None:
        for task in (self._task, self._relayed_task):
            if task is not None:
                task.cancel()

    async def _send_relayed(self) -> None:
        """Another vehicle's packets, relayed to the ground as they are."""
        while True:
            self._send(await self._relayed.get())

    def _send(self, packet: bytes) -> None:
        link = self.link
        dropped = link.counters.output_dropped
        with contextlib.suppress(LinkClosedError):
            link.send(packet)
        if link.counters.output_dropped != dropped:
            self._shed()

    def _shed(self) -> None:
        """Say so when the backlog gives packets up, at most every ``SHED_EVENT_INTERVAL_S`` (the event
        joins the backlog)."""
        now = self.clock.monotonic()
        if now - self._last_event.get("OUTPUT_SHED", -1e9) >= SHED_EVENT_INTERVAL_S:
            self._last_event["OUTPUT_SHED"] = now
            self.emit("OUTPUT_SHED", backlog=self.link.backlog_octets, dropped=self.link.counters.output_dropped)

    async def _intake(self) -> None:
        while True:
            try:
                raw, _ = await self.link.receive()
            except LinkClosedError:
                return
            self.take(raw)

    def take(self, raw: bytes) -> None:
        if len(raw) >= 6:
            apid = SpacePacketHeader.unpack(raw).apid
            # A packet for another vehicle goes to the relay, when there is one serving it.
            relay = RELAY_UPLINK_TOPIC.format(apid=apid)
            if apid != self.ctx.telemetry.apid and self.ctx.bus.publish(relay, (apid, raw)):
                self.last_uplink = self.clock.monotonic()
                return
        try:
            tc = PusTc.unpack(raw, self.ctx.telemetry.max_packet_size)
        except PacketError as error:
            self._rejected(raw, error)
            return
        dispatcher = self.ctx.commands
        # A retransmission is recognised before the anti-replay check, which would refuse it.
        if dispatcher.resend_if_duplicate(tc, raw):
            self.last_uplink = self.clock.monotonic()
            return
        keys = self.ctx.keys
        if keys is not None:
            try:
                verified = verify(raw, keys)
                self._check_sequence(verified)
            except SecurityError as error:
                self.security_rejections[error.code.name] += 1
                dispatcher.refuse(tc, raw, error.code, error.message)
                return
            tc.app_data = verified.app_data
        self.last_uplink = self.clock.monotonic()
        self.ctx.bus.publish("tc", tc)
        dispatcher.submit(tc, raw)

    def _check_sequence(self, verified: Verified) -> None:
        """Per SPI, each accepted number must exceed the last; the last is persisted at once."""
        last: dict[int, int] = self.ctx.store.get(SEQUENCE_STORE_KEY, {}) or {}
        previous = last.get(verified.spi, -1)
        if verified.sequence <= previous:
            raise SecurityError(FailureCode.REPLAYED_SEQUENCE,
                                f"sequence {verified.sequence} not above {previous} for SPI {verified.spi}")
        self.ctx.store.put(SEQUENCE_STORE_KEY, {**last, verified.spi: verified.sequence})

    def _rejected(self, raw: bytes, error: PacketError) -> None:
        reason = error.code.name
        self.packet_rejections[reason] += 1
        now = self.clock.monotonic()
        if now - self._last_event.get(reason, -1e9) >= EVENT_INTERVAL_S:
            self._last_event[reason] = now
            self.emit("PACKET_REJECTED", reason=reason, count=self.packet_rejections[reason])
        # (A telemetry packet is not a request: answering it would ping-pong with a looped-back port.)
        if error.code in (FailureCode.UNKNOWN_PUS_VERSION, FailureCode.FIELD_RANGE) and (
            len(raw) >= 8 and crc16(raw) == 0
        ):
            # Header and CRC are sound, so the request id can be trusted: tell the sender why.
            header = SpacePacketHeader.unpack(raw)
            stand_in = PusTc(header.apid, 0, 0, seq_count=header.seq_count, seq_flags=header.seq_flags)
            self.ctx.commands.reject(stand_in, error.code, error.message)

    def housekeeping(self) -> dict[str, Any]:
        counters = self.link.counters
        deframer = self.link.deframer
        return {
            "link_connected": self.link.connected,
            "link_octets_in": counters.octets_in,
            "link_octets_out": counters.octets_out,
            "link_packets_in": counters.packets_in,
            "link_packets_out": counters.packets_out,
            "link_frames_rejected": deframer.rejected_total,
            "link_packets_rejected": sum(self.packet_rejections.values()),
            "link_bad_crc": self.packet_rejections.get("BAD_CRC", 0),
            "link_reconnects": counters.reconnects,
            "link_receive_overflows": counters.receive_overflows,
            "link_output_backlog": self.link.backlog_octets,
            "link_output_dropped": counters.output_dropped,
            "link_auth_rejected": sum(self.security_rejections.values()),
            "link_uplink_silence_s": round(self.clock.monotonic() - self.last_uplink, 1),
        }
